//! MQTT 3.1, 3.1.1 and 5. (Being written: the dissector matches nothing yet.)

#[cfg(test)]
mod tests;

use ward_core::Direction;

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session, Transport};

/// The mqtt dissector.
pub struct MqttDissector;

impl Dissector for MqttDissector {
    fn name(&self) -> &'static str {
        "mqtt"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
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
