//! NTP: who keeps time for whom. A client's version and the server it asks; a server's
//! stratum and its reference (the clock or the upstream server it follows); symmetric and
//! broadcast peers. Control (mode 6) and private (mode 7, `monlist`) answers are reported
//! too: an agent that answers them from the network is an amplifier and leaks its peers.

#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;

use ward_core::{DeviceKey, Direction};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport};

/// The NTP dissector.
pub struct NtpDissector;

/// The fixed header of modes 1 to 5.
const HEADER: usize = 48;
/// Header, a few extension fields and a MAC: more than this is not NTP.
const MAX_PACKET: usize = 1024;

/// The fields Ward reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    version: u8,
    mode: u8,
    stratum: u8,
    reference: [u8; 4],
}

fn header(data: &[u8]) -> Option<Header> {
    let first = *data.first()?;
    let (version, mode) = ((first >> 3) & 7, first & 7);
    if !(1..=4).contains(&version) || mode == 0 || data.len() > MAX_PACKET {
        return None;
    }
    match mode {
        1..=5 => {
            if data.len() < HEADER {
                return None;
            }
            let (stratum, poll, precision) = (data[1], data[2] as i8, data[3] as i8);
            // After the header come extension fields and a MAC, in whole 32-bit words.
            // Stratum 16 is "unsynchronised"; poll and precision are log2 seconds (clients
            // such as chrony fill precision with noise, so it is checked only for servers).
            let sane_clock = mode == 3 || ((-6..=17).contains(&poll) && (-32..=0).contains(&precision));
            if !(data.len() - HEADER).is_multiple_of(4) || stratum > 16 || !sane_clock {
                return None;
            }
            Some(Header { version, mode, stratum, reference: [data[12], data[13], data[14], data[15]] })
        }
        // Control messages: 12-byte header; private: at least 8 bytes, implementation 0..=3.
        // Control: 12-byte header, an opcode, and a data count that fits the packet.
        6 if data.len() >= 12
            && data[1] & 0x1f != 0
            && usize::from(u16::from_be_bytes([data[10], data[11]])) <= data.len() - 12 =>
        {
            Some(Header { version, mode, stratum: 0, reference: [0; 4] })
        }
        7 if data.len() >= 8 && data[2] <= 3 => Some(Header { version, mode, stratum: 0, reference: [0; 4] }),
        _ => None,
    }
}

fn mode_name(mode: u8) -> &'static str {
    match mode {
        1 => "symmetric active",
        2 => "symmetric passive",
        3 => "client",
        4 => "server",
        5 => "broadcast",
        6 => "control",
        _ => "private",
    }
}

impl Dissector for NtpDissector {
    fn name(&self) -> &'static str {
        "ntp"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        if header(data).is_some() { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(NtpSession::default())
    }
}

#[derive(Default)]
struct NtpSession {
    repeats: Repeats,
}

impl Session for NtpSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let Some(h) = header(data) else { return Parsed::Malformed("not an ntp packet") };
        let (sender, receiver) = match dir {
            Direction::ToResponder => (ctx.initiator.ip, ctx.responder.ip),
            Direction::ToInitiator => (ctx.responder.ip, ctx.initiator.ip),
        };
        let (ts, dev) = (ctx.ts, DeviceKey::Ip(sender));
        let mut emit = |dev, key, value: &str, source, conf| {
            self.repeats.attribute(out, ts, dev, key, value, source, conf)
        };
        emit(dev, "ntp_version", &h.version.to_string(), "ntp.version", 80);
        emit(dev, "ntp_mode", mode_name(h.mode), "ntp.mode", 80);
        match h.mode {
            3 => emit(dev, "ntp_server", &receiver.to_string(), "ntp.client", 70),
            4 | 5 | 1 | 2 if h.stratum > 0 => {
                emit(dev, "ntp_stratum", &h.stratum.to_string(), "ntp.stratum", 80);
                // Stratum 1 names its clock in ASCII (GPS, PPS, DCF); above, the reference is
                // the upstream server's IPv4 address (or a hash of an IPv6 one), except for
                // servers that name a local clock (LOCL) whatever their stratum.
                let named = h.reference.iter().all(|b| b.is_ascii_uppercase());
                let reference = if h.stratum == 1 || named {
                    String::from_utf8_lossy(&h.reference).trim_end_matches('\0').to_owned()
                } else {
                    Ipv4Addr::from(h.reference).to_string()
                };
                emit(dev, "ntp_reference", &reference, "ntp.refid", 60);
            }
            // The response bit (in the second byte for control messages, the first for
            // private ones): this device answers such queries.
            6 | 7 if (h.mode == 6 && data[1] & 0x80 != 0) || (h.mode == 7 && data[0] & 0x80 != 0) => {
                let key = if h.mode == 6 { "ntp_control_answers" } else { "ntp_private_answers" };
                emit(dev, key, "true", "ntp.mode", 80);
            }
            _ => {}
        }
        Parsed::Consumed(data.len())
    }
}
