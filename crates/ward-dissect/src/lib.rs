//! Ward's application-layer dissectors, one folder per protocol.
//!
//! This crate owns the dissector interface and every protocol parser. A dissector recognises
//! its protocol from the payload ([`Dissector::probe`]), never from port numbers, parses the
//! reassembled bytes ([`Session::parse`]) and emits [`Observation`]s. Parsers are pure: they
//! never log, never do I/O, never panic on any input, and never put payload content that may
//! carry patient data or secrets into an observation. Framing violations are counted, not
//! fatal.
//!
//! Two kinds of dissector exist:
//! - [`FrameDissector`]s read layer-2 protocols named by their EtherType or LLC header (ARP,
//!   and later LLDP and CDP): one frame at a time, no flow.
//! - [`Dissector`]s read UDP datagrams or TCP streams of a flow; [`FlowDissection`] is the
//!   per-flow state that probes them, binds the flow to the one that matches and feeds it.
//!
//! A new protocol is a folder with `mod.rs` (the dissector), `parser.rs` (bytes to messages)
//! and `tests.rs`, added to [`Registry::builtin`] and given a fuzz target.
//!
//! ```
//! use ward_core::{Mac, ObservationKind, Timestamp, Vlans};
//! use ward_dissect::{FrameContext, Registry};
//!
//! let registry = Registry::builtin();
//! // An ARP request from 00:1b:63:84:45:e6 at 10.1.2.3 for 10.1.2.1.
//! let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1, 0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 10, 1, 2, 3];
//! arp.extend([0; 6]);
//! arp.extend([10, 1, 2, 1]);
//! let ctx = FrameContext { ts: Timestamp::ZERO, src_mac: None, dst_mac: None, vlans: Vlans::default() };
//! let mut out = Vec::new();
//! registry.dissect_frame(0x0806, &ctx, &arp, &mut out, &mut Default::default());
//! assert!(matches!(&out[0].kind, ObservationKind::Seen { ip: Some(ip), .. } if ip.to_string() == "10.1.2.3"));
//! ```

pub mod arp;
pub mod bacnet;
pub mod cdp;
pub mod credentials;
pub mod dhcp;
pub mod dicom;
pub mod dns;
mod flow;
pub mod ftp;
pub mod hl7;
pub mod http;
pub mod lldp;
pub mod modbus;
pub mod mqtt;
pub mod nbns;
pub mod ntp;
pub mod poct;
mod registry;
pub mod snmp;
pub mod socks;
pub mod ssdp;
pub mod telnet;
#[cfg(test)]
mod testutil;
pub mod tls;
mod tunnel;

pub use flow::{
    FlowDissection, MAX_PENDING, OBSERVATIONS_PER_DATAGRAM, OBSERVATIONS_PER_FLOW, PROBE_BYTES, Want,
};
pub use registry::{DissectStats, MAX_FLOW_DISSECTORS, Registry};
use std::borrow::Cow;

use ward_core::{
    DeviceKey, Direction, Endpoint, Evidence, IpProto, Mac, Observation, ObservationKind, Timestamp, Vlans,
};

/// The transport a flow dissector reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP: reassembled, in-order stream bytes per direction.
    Tcp,
    /// UDP: one datagram at a time.
    Udp,
}

/// What a dissector learns about the frame it reads.
#[derive(Clone, Copy, Debug)]
pub struct FrameContext {
    /// Capture time.
    pub ts: Timestamp,
    /// Source MAC of the frame.
    pub src_mac: Option<Mac>,
    /// Destination MAC of the frame.
    pub dst_mac: Option<Mac>,
    /// VLAN tags.
    pub vlans: Vlans,
}

/// What a dissector learns about the flow it reads.
#[derive(Clone, Copy, Debug)]
pub struct FlowContext {
    /// Time of the packet that carried the bytes.
    pub ts: Timestamp,
    /// The flow's uid, to join observations with its record.
    pub uid: u64,
    /// VLAN tags.
    pub vlans: Vlans,
    /// IP protocol.
    pub proto: IpProto,
    /// The side that opened the flow.
    pub initiator: Endpoint,
    /// The other side.
    pub responder: Endpoint,
}

/// A probe's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The bytes are this protocol.
    Match,
    /// The bytes are not this protocol.
    NoMatch,
    /// Too few bytes to tell.
    NeedMore,
}

/// How a parse call went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// This many bytes were used; the rest is offered again when more arrive (streams). For
    /// datagrams the value is ignored.
    Consumed(usize),
    /// The dissector has all it wants from this flow.
    Done,
    /// The bytes break the protocol's framing; the flow is given up and counted.
    Malformed(&'static str),
}

/// A layer-2 protocol identified by its EtherType (or LLC header).
pub trait FrameDissector: Send + Sync {
    /// The protocol's short name (`arp`).
    fn name(&self) -> &'static str;
    /// The EtherTypes it reads.
    fn ether_types(&self) -> &'static [u16] {
        &[]
    }
    /// The LLC SNAP (OUI, protocol id) pairs it reads in 802.3 frames.
    fn snap_ids(&self) -> &'static [([u8; 3], u16)] {
        &[]
    }
    /// Reads one frame's payload (after the EtherType). `Err` names a framing violation.
    fn dissect(&self, ctx: &FrameContext, payload: &[u8], out: &mut Emitter<'_>) -> Result<(), &'static str>;
}

/// An application protocol carried over UDP or TCP.
pub trait Dissector: Send + Sync {
    /// The protocol's short name (`dhcp`, `hl7`).
    fn name(&self) -> &'static str;
    /// The transport it reads.
    fn transport(&self) -> Transport;
    /// Whether `data` (the first bytes of one direction, or a datagram) is this protocol.
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe;
    /// Per-flow parsing state for a flow that matched.
    fn start(&self) -> Box<dyn Session>;
}

/// A dissector's state for one flow.
pub trait Session: Send {
    /// Parses a datagram, or the stream bytes of `dir` not consumed yet.
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed;

    /// `len` bytes of `dir` are missing from the capture. Return `true` to go on after them
    /// (the next bytes are offered from wherever they start), `false` to give the flow up.
    fn gap(&mut self, dir: Direction, len: u64) -> bool {
        let _ = (dir, len);
        false
    }

    /// The flow ended.
    fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        let _ = (ctx, out);
    }

    /// A more precise name for what the flow speaks than the dissector's own, once the session
    /// knows (`mdns` for the DNS dissector on the mDNS group). The flow is recorded under it.
    fn protocol(&self) -> Option<&'static str> {
        None
    }
}

/// Longest attribute value kept; longer values are cut at a character boundary.
pub const MAX_VALUE_LEN: usize = 256;

/// Where dissectors put observations. It caps how many one flow may produce.
pub struct Emitter<'a> {
    out: &'a mut Vec<Observation>,
    room: usize,
    dropped: u64,
}

impl<'a> Emitter<'a> {
    /// An emitter that accepts at most `room` observations.
    pub fn new(out: &'a mut Vec<Observation>, room: usize) -> Emitter<'a> {
        Emitter { out, room, dropped: 0 }
    }

    /// Adds an observation, or counts it as dropped when the cap is reached.
    pub fn emit(&mut self, obs: Observation) {
        if self.room == 0 {
            self.dropped += 1;
            return;
        }
        self.room -= 1;
        self.out.push(obs);
    }

    /// Observations refused because the cap was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Observations still accepted.
    pub fn room(&self) -> usize {
        self.room
    }
}

/// An attribute observation; the value is cleaned with [`clean_value`]. Empty values are
/// not worth an observation: `None`.
pub fn attribute(
    ts: Timestamp,
    device: DeviceKey,
    key: &'static str,
    value: &str,
    source: &'static str,
    confidence: u8,
) -> Option<Observation> {
    let value = clean_value(value);
    if value.trim().is_empty() {
        return None;
    }
    Some(Observation {
        ts,
        device,
        kind: ObservationKind::Attribute {
            key: Cow::Borrowed(key),
            value,
            evidence: Evidence::new(source, confidence),
        },
    })
}

/// A [`ObservationKind::Cleartext`] observation: `device` sent or received `protocol` in
/// cleartext, with patient data (`phi`) or without. Nothing of the content is kept.
pub fn cleartext(
    ts: Timestamp,
    device: DeviceKey,
    protocol: &'static str,
    phi: bool,
    source: &'static str,
) -> Observation {
    Observation {
        ts,
        device,
        kind: ObservationKind::Cleartext {
            protocol: Cow::Borrowed(protocol),
            phi,
            evidence: Evidence::new(source, 90),
        },
    }
}

/// The sighting of a frame's source MAC, for frame dissectors whose protocol a device sends
/// about itself (LLDP, CDP): `None` for a source that is no device (multicast, zero).
pub fn frame_source(ctx: &FrameContext, source: &'static str) -> Option<(DeviceKey, Observation)> {
    let mac = ctx.src_mac.filter(Mac::is_unicast_device)?;
    let device = DeviceKey::Mac(mac);
    let kind = ObservationKind::Seen {
        ip: None,
        vlan: ctx.vlans.access_vlan(),
        evidence: Evidence::new(source, 90),
    };
    Some((device, Observation { ts: ctx.ts, device, kind }))
}

/// Bytes as text when they are printable ASCII, else as colon-separated hex (identifiers
/// such as DHCP client ids and relay circuit ids come both ways).
pub fn text_or_hex(b: &[u8]) -> String {
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        String::from_utf8_lossy(b).into_owned()
    } else {
        hex(b)
    }
}

/// Colon-separated hex.
pub fn hex(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{x:02x}"));
    }
    out
}

/// Cuts `s` to at most [`MAX_VALUE_LEN`] bytes at a character boundary; line breaks and tabs
/// become single spaces and other control characters are dropped, so that a value is safe
/// to print and store.
pub fn clean_value(s: &str) -> String {
    let s = s.trim();
    // Nearly every value is short printable text already.
    if s.len() <= MAX_VALUE_LEN && !s.bytes().any(|b| b.is_ascii_control()) && s.is_ascii() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len().min(MAX_VALUE_LEN));
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_control() {
            space |= c.is_whitespace();
            continue;
        }
        if space && !out.is_empty() && !out.ends_with(' ') {
            if out.len() + 1 > MAX_VALUE_LEN {
                break;
            }
            out.push(' ');
        }
        space = false;
        if out.len() + c.len_utf8() > MAX_VALUE_LEN {
            break;
        }
        out.push(c);
    }
    out
}

/// Remembers which attributes a flow already reported, so that a device repeating itself
/// (an SSDP announcement every few minutes, NTP polls) does not use the flow's observation
/// budget up. It holds hashes, never the values, and forgets nothing; once full, what it
/// does not hold is reported each time rather than the memory growing.
#[derive(Default, Debug)]
pub struct Repeats {
    seen: Vec<u64>,
}

impl Repeats {
    /// How many distinct attributes are remembered.
    pub const CAPACITY: usize = 64;

    /// Whether (`device`, `key`, `value`) is new to this flow; remembers it.
    pub fn first(&mut self, device: &DeviceKey, key: &str, value: &str) -> bool {
        self.first_by(device, key, value)
    }

    /// Like [`Repeats::first`] for a value known by something that stands for it (a function
    /// code, a table index), so that nothing needs to be formatted to ask. A value asked
    /// about by its id and by its text is remembered twice, apart.
    pub fn first_by(&mut self, device: &DeviceKey, key: &str, id: impl std::hash::Hash) -> bool {
        use std::hash::BuildHasher;
        let h = foldhash::fast::FixedState::default().hash_one((device, key, id));
        if self.seen.contains(&h) {
            return false;
        }
        if self.seen.len() < Self::CAPACITY {
            self.seen.push(h);
        }
        true
    }

    /// Emits an attribute (see [`attribute`]) unless this flow reported it already; nothing
    /// is built for a repeat.
    #[allow(clippy::too_many_arguments)]
    pub fn attribute(
        &mut self,
        out: &mut Emitter<'_>,
        ts: Timestamp,
        device: DeviceKey,
        key: &'static str,
        value: &str,
        source: &'static str,
        confidence: u8,
    ) {
        if self.first(&device, key, value)
            && let Some(o) = attribute(ts, device, key, value, source, confidence)
        {
            out.emit(o);
        }
    }

    /// Like [`Repeats::attribute`] for a value that has to be made (formatted) first: `id`
    /// stands for it (see [`Repeats::first_by`]), and `value` is called only the first time,
    /// so a repeat costs a hash and nothing is allocated for it.
    #[allow(clippy::too_many_arguments)]
    pub fn attribute_by(
        &mut self,
        out: &mut Emitter<'_>,
        ts: Timestamp,
        device: DeviceKey,
        key: &'static str,
        id: impl std::hash::Hash,
        value: impl FnOnce() -> String,
        source: &'static str,
        confidence: u8,
    ) {
        if self.first_by(&device, key, id)
            && let Some(o) = attribute(ts, device, key, &value(), source, confidence)
        {
            out.emit(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cleaned() {
        assert_eq!(clean_value("Cisco IOS (fc1)\nCopyright\r\n\tby me\0"), "Cisco IOS (fc1) Copyright by me");
        assert_eq!(clean_value("  nas1\0"), "nas1");
        assert_eq!(clean_value("a\u{7}b"), "ab");
        let long = "é".repeat(200);
        let cut = clean_value(&long);
        assert!(cut.len() <= MAX_VALUE_LEN && cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_value_known_by_its_id_is_made_only_the_first_time() {
        let dev = DeviceKey::Ip(std::net::IpAddr::from([10, 0, 0, 1]));
        let (mut r, mut obs, mut made) = (Repeats::default(), Vec::new(), 0);
        let mut out = Emitter::new(&mut obs, 16);
        for code in [3u8, 3, 16, 3] {
            let value = || {
                made += 1;
                format!("function {code}")
            };
            r.attribute_by(&mut out, Timestamp::ZERO, dev, "modbus_function", code, value, "modbus", 80);
        }
        assert_eq!(made, 2);
        assert_eq!(obs.len(), 2);
    }

    #[test]
    fn repeats_are_reported_once() {
        let dev = DeviceKey::Ip(std::net::IpAddr::from([10, 0, 0, 1]));
        let mut r = Repeats::default();
        assert!(r.first(&dev, "server", "x"));
        assert!(!r.first(&dev, "server", "x"));
        assert!(r.first(&dev, "server", "y"));
        for i in 0..Repeats::CAPACITY * 2 {
            r.first(&dev, "k", &i.to_string());
        }
        // Full: what was remembered stays so; what is new is reported each time rather than
        // the memory growing.
        assert!(!r.first(&dev, "k", "0"));
        assert!(r.first(&dev, "k", "late"));
        assert!(r.first(&dev, "k", "late"));
    }
}
