//! NetBIOS name service: the names Windows machines, printers and many embedded stacks
//! register and answer for, and (in node status answers) their MAC address.
//!
//! Recognised by shape: a DNS-like header whose first name is the 32-letter NetBIOS
//! encoding. Registrations and refreshes name their sender; positive answers and node
//! status answers bind names to addresses.

pub mod parser;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr};

pub use parser::Nbns;
use ward_core::{DeviceKey, Direction, Evidence, Mac, Observation, ObservationKind};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session, Transport, attribute};

/// The NBNS dissector.
pub struct NbnsDissector;

struct NbnsSession;

impl Dissector for NbnsDissector {
    fn name(&self) -> &'static str {
        "nbns"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        if Nbns::looks_like(data) { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(NbnsSession)
    }
}

/// Names that stand for the machine itself (workstation and server services).
fn is_host_name(suffix: u8) -> bool {
    matches!(suffix, 0x00 | 0x20)
}

impl Session for NbnsSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let Some(msg) = Nbns::parse(data) else { return Parsed::Malformed("nbns message does not parse") };
        let ts = ctx.ts;
        let sender = if dir == Direction::ToResponder { ctx.initiator.ip } else { ctx.responder.ip };
        let mut emit = |o: Option<Observation>| {
            if let Some(o) = o {
                out.emit(o);
            }
        };
        let registering = !msg.response && matches!(msg.opcode, 5 | 8);
        if registering && is_host_name(msg.name.suffix) {
            emit(attribute(
                ts,
                DeviceKey::Ip(sender),
                "netbios_name",
                &msg.name.name,
                "nbns.registration",
                80,
            ));
        }
        if msg.response && msg.opcode == 0 {
            if is_host_name(msg.name.suffix) {
                for a in &msg.addresses {
                    let dev = DeviceKey::Ip(IpAddr::V4(Ipv4Addr::from(*a)));
                    emit(attribute(ts, dev, "netbios_name", &msg.name.name, "nbns.answer", 75));
                }
            }
            for n in msg.status_names.iter().filter(|n| is_host_name(n.suffix)) {
                emit(attribute(ts, DeviceKey::Ip(sender), "netbios_name", &n.name, "nbns.nbstat", 80));
            }
            if let Some(mac) = msg.unit_id.map(Mac).filter(Mac::is_unicast_device) {
                let kind = ObservationKind::Seen {
                    ip: Some(sender),
                    vlan: None,
                    evidence: Evidence::new("nbns.nbstat", 70),
                };
                emit(Some(Observation { ts, device: DeviceKey::Mac(mac), kind }));
            }
        }
        Parsed::Consumed(data.len())
    }
}
