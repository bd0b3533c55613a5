//! BACnet/IP. (Being written: the dissector matches nothing yet.)

#[cfg(test)]
mod tests;

use ward_core::Direction;

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session, Transport};

/// The bacnet dissector.
pub struct BacnetDissector;

impl Dissector for BacnetDissector {
    fn name(&self) -> &'static str {
        "bacnet"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, _data: &[u8]) -> Probe {
        Probe::NoMatch
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(Unread)
    }
}

struct Unread;

impl Session for Unread {
    fn parse(&mut self, _ctx: &FlowContext, _dir: Direction, _data: &[u8], _out: &mut Emitter<'_>) -> Parsed {
        Parsed::Done
    }
}
