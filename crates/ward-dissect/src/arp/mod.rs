//! ARP: which MAC answers for which IPv4 address.
//!
//! Every ARP sender announces its own binding; replies also confirm the requester's. Probes
//! (RFC 5227, sender address 0.0.0.0) show a device before it has an address. Only unicast
//! hardware addresses name a device.

mod parser;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr};

pub use parser::{ArpPacket, ArpRepr, Operation};
use ward_core::{DeviceKey, Evidence, Observation, ObservationKind};

use crate::{Emitter, FrameContext, FrameDissector};

/// The ARP frame dissector.
pub struct ArpDissector;

/// Evidence of a sender's own binding.
pub const SENDER: Evidence = Evidence::new("arp.sender", 90);
/// Evidence of a gratuitous announcement (sender and target address equal).
pub const GRATUITOUS: Evidence = Evidence::new("arp.gratuitous", 95);
/// Evidence of a device probing for an address it does not have yet.
pub const PROBE: Evidence = Evidence::new("arp.probe", 80);
/// Evidence of the requester's binding, as echoed in a reply.
pub const TARGET: Evidence = Evidence::new("arp.target", 60);

impl FrameDissector for ArpDissector {
    fn name(&self) -> &'static str {
        "arp"
    }

    fn ether_types(&self) -> &'static [u16] {
        &[0x0806]
    }

    fn dissect(&self, ctx: &FrameContext, payload: &[u8], out: &mut Emitter<'_>) -> Result<(), &'static str> {
        let packet = ArpPacket::new_checked(payload)?;
        let Some(arp) = ArpRepr::parse(&packet) else { return Ok(()) };
        let vlan = ctx.vlans.access_vlan();
        let seen = |mac, ip: Option<Ipv4Addr>, evidence: Evidence| Observation {
            ts: ctx.ts,
            device: DeviceKey::Mac(mac),
            kind: ObservationKind::Seen { ip: ip.map(IpAddr::V4), vlan, evidence },
        };
        if arp.sender_mac.is_unicast_device() {
            let obs = if arp.sender_ip.is_unspecified() {
                seen(arp.sender_mac, None, PROBE)
            } else if arp.sender_ip == arp.target_ip {
                seen(arp.sender_mac, Some(arp.sender_ip), GRATUITOUS)
            } else {
                seen(arp.sender_mac, Some(arp.sender_ip), SENDER)
            };
            out.emit(obs);
        }
        if arp.operation == Operation::Reply
            && arp.target_mac.is_unicast_device()
            && !arp.target_ip.is_unspecified()
            && arp.target_ip != arp.sender_ip
        {
            out.emit(seen(arp.target_mac, Some(arp.target_ip), TARGET));
        }
        Ok(())
    }
}
