//! The per-flow machinery, driven by two small test protocols: a line protocol whose client
//! says `HELLO <name>` (TCP) and a datagram protocol whose datagrams start with `WD`.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use ward_core::{DeviceKey, Endpoint, Evidence, IpProto, ObservationKind, Timestamp, Vlans};

use super::*;
use crate::{Dissector, Emitter, FlowContext, Probe, Session, Transport};

struct Hello;
struct HelloSession {
    allow_gaps: bool,
}

impl Dissector for Hello {
    fn name(&self) -> &'static str {
        "hello"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        if dir != Direction::ToResponder {
            return Probe::NoMatch;
        }
        let n = data.len().min(6);
        if data[..n] != b"HELLO "[..n] {
            Probe::NoMatch
        } else if n < 6 {
            Probe::NeedMore
        } else {
            Probe::Match
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(HelloSession { allow_gaps: true })
    }
}

impl Session for HelloSession {
    fn parse(&mut self, ctx: &FlowContext, _dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let mut used = 0;
        while let Some(nl) = data[used..].iter().position(|&b| b == b'\n') {
            let line = &data[used..used + nl];
            used += nl + 1;
            if line == b"QUIT" {
                return Parsed::Done;
            }
            let Some(name) = line.strip_prefix(b"HELLO ") else { return Parsed::Malformed("not a greeting") };
            out.emit(Observation {
                ts: ctx.ts,
                device: DeviceKey::Ip(ctx.initiator.ip),
                kind: ObservationKind::Attribute {
                    key: Cow::Borrowed("hello.name"),
                    value: String::from_utf8_lossy(name).into_owned(),
                    evidence: Evidence::new("hello.name", 50),
                },
            });
        }
        Parsed::Consumed(used)
    }
    fn gap(&mut self, _dir: Direction, _len: u64) -> bool {
        self.allow_gaps
    }
}

struct Banner;
impl Dissector for Banner {
    fn name(&self) -> &'static str {
        "banner"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        match (dir, data.get(..4)) {
            (Direction::ToInitiator, Some(b"220 ")) => Probe::Match,
            (Direction::ToInitiator, None) if b"220 ".starts_with(data) => Probe::NeedMore,
            _ => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(HelloSession { allow_gaps: false })
    }
}

struct Datagrams;
impl Dissector for Datagrams {
    fn name(&self) -> &'static str {
        "wd"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        if data.starts_with(b"WD") { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        struct S;
        impl Session for S {
            fn parse(
                &mut self,
                ctx: &FlowContext,
                _: Direction,
                data: &[u8],
                out: &mut Emitter<'_>,
            ) -> Parsed {
                out.emit(Observation {
                    ts: ctx.ts,
                    device: DeviceKey::Ip(ctx.initiator.ip),
                    kind: ObservationKind::Attribute {
                        key: Cow::Borrowed("wd.len"),
                        value: data.len().to_string(),
                        evidence: Evidence::new("wd", 10),
                    },
                });
                Parsed::Consumed(data.len())
            }
        }
        Box::new(S)
    }
}

fn registry() -> Registry {
    Registry::empty().with(Box::new(Hello)).with(Box::new(Banner)).with(Box::new(Datagrams))
}

fn ctx() -> FlowContext {
    let ep = |last, port| Endpoint { ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port, mac: None };
    FlowContext {
        ts: Timestamp::ZERO,
        uid: 1,
        vlans: Vlans::default(),
        proto: IpProto::TCP,
        initiator: ep(1, 55555),
        responder: ep(2, 31337),
    }
}

fn names(out: &[Observation]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match &o.kind {
            ObservationKind::Attribute { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn probes_on_payload_whatever_the_port_and_parses_split_messages() {
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    let c = ctx();
    assert_eq!(fd.on_stream(&reg, &c, Direction::ToResponder, b"HEL", &mut out, &mut st), Want::More);
    assert!(fd.protocol().is_none());
    fd.on_stream(&reg, &c, Direction::ToResponder, b"LO pump-7\nHELLO mon", &mut out, &mut st);
    assert_eq!(fd.protocol(), Some("hello"));
    assert_eq!(names(&out), ["pump-7"]);
    fd.on_stream(&reg, &c, Direction::ToResponder, b"itor-3\n", &mut out, &mut st);
    assert_eq!(names(&out), ["pump-7", "monitor-3"]);
    assert_eq!(fd.on_stream(&reg, &c, Direction::ToResponder, b"QUIT\n", &mut out, &mut st), Want::Enough);
    assert_eq!(fd.protocol(), Some("hello"), "the protocol is remembered after Done");
    assert_eq!(st.flows_matched.get("hello"), Some(&1));
}

#[test]
fn server_first_protocols_match_on_the_responder() {
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    fd.on_stream(&reg, &ctx(), Direction::ToInitiator, b"22", &mut out, &mut st);
    assert!(fd.wants_data());
    fd.on_stream(&reg, &ctx(), Direction::ToInitiator, b"0 HELLO\n", &mut out, &mut st);
    assert_eq!(fd.protocol(), Some("banner"));
    // Its parser calls "220 HELLO" malformed: counted, flow given up.
    assert_eq!(st.malformed.get("banner"), Some(&1));
    assert!(!fd.wants_data());
}

#[test]
fn unknown_payload_ends_probing_once_both_sides_spoke() {
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    assert_eq!(
        fd.on_stream(&reg, &ctx(), Direction::ToResponder, b"GET / HTTP/1.1\r\n", &mut out, &mut st),
        Want::More
    );
    assert_eq!(
        fd.on_stream(&reg, &ctx(), Direction::ToInitiator, b"HTTP/1.1 200 OK\r\n", &mut out, &mut st),
        Want::Enough
    );
    assert_eq!(st.flows_unmatched, 1);
    assert!(fd.protocol().is_none());
}

/// A protocol that can never decide: it shows that probing stops at its byte budget.
struct Undecided;
impl Dissector for Undecided {
    fn name(&self) -> &'static str {
        "undecided"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, _dir: Direction, _data: &[u8]) -> Probe {
        Probe::NeedMore
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(HelloSession { allow_gaps: false })
    }
}

#[test]
fn probing_gives_up_after_its_byte_budget() {
    let reg = Registry::empty().with(Box::new(Undecided));
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    let chunk = [0u8; 1000];
    for _ in 0..PROBE_BYTES / chunk.len() {
        assert_eq!(fd.on_stream(&reg, &ctx(), Direction::ToResponder, &chunk, &mut out, &mut st), Want::More);
    }
    fd.on_stream(&reg, &ctx(), Direction::ToResponder, &chunk, &mut out, &mut st);
    assert!(fd.wants_data(), "the other direction may still decide");
    for _ in 0..=PROBE_BYTES / chunk.len() {
        fd.on_stream(&reg, &ctx(), Direction::ToInitiator, &chunk, &mut out, &mut st);
    }
    assert!(!fd.wants_data());
    assert_eq!(st.flows_unmatched, 1);
}

#[test]
fn unparsed_bytes_are_capped() {
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    fd.on_stream(&reg, &ctx(), Direction::ToResponder, b"HELLO never-ending", &mut out, &mut st);
    let chunk = vec![b'x'; 8192];
    let mut want = Want::More;
    for _ in 0..(MAX_PENDING / chunk.len() + 2) {
        want = fd.on_stream(&reg, &ctx(), Direction::ToResponder, &chunk, &mut out, &mut st);
    }
    assert_eq!(want, Want::Enough);
    assert_eq!(st.pending_cap_hits, 1);
}

#[test]
fn gaps_resynchronise_or_give_up() {
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    fd.on_stream(&reg, &ctx(), Direction::ToResponder, b"HELLO a\nHELLO partial", &mut out, &mut st);
    assert_eq!(fd.on_gap(Direction::ToResponder, 100, &mut st), Want::More);
    fd.on_stream(&reg, &ctx(), Direction::ToResponder, b"HELLO b\n", &mut out, &mut st);
    assert_eq!(names(&out), ["a", "b"], "the partial line before the gap is dropped");
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    fd.on_stream(&reg, &ctx(), Direction::ToInitiator, b"220 x", &mut out, &mut st);
    assert_eq!(fd.on_gap(Direction::ToInitiator, 5, &mut st), Want::Enough);
    assert_eq!(st.gave_up_at_gap, 1);
}

#[test]
fn observations_per_flow_are_capped() {
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    let many: Vec<u8> = b"HELLO x\n".repeat(OBSERVATIONS_PER_FLOW + 10);
    fd.on_stream(&reg, &ctx(), Direction::ToResponder, &many, &mut out, &mut st);
    assert_eq!(out.len(), OBSERVATIONS_PER_FLOW);
    assert_eq!(st.observation_cap_hits, 10);
}

#[test]
fn datagram_flows_have_no_cumulative_cap() {
    // Every DHCP client of a VLAN broadcasts in one flow: each datagram must be heard.
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Udp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    for _ in 0..OBSERVATIONS_PER_FLOW + 50 {
        fd.on_datagram(&reg, &ctx(), Direction::ToResponder, b"WD-discover", &mut out, &mut st);
    }
    assert_eq!(out.len(), OBSERVATIONS_PER_FLOW + 50);
    assert_eq!(st.observation_cap_hits, 0);
}

#[test]
fn datagrams_probe_each_and_bind() {
    let reg = registry();
    let mut fd = FlowDissection::start(&reg, Transport::Udp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    assert_eq!(fd.on_datagram(&reg, &ctx(), Direction::ToResponder, b"WD123", &mut out, &mut st), Want::More);
    fd.on_datagram(&reg, &ctx(), Direction::ToInitiator, b"anything", &mut out, &mut st);
    assert_eq!(names(&out), ["5", "8"]);
    let mut fd = FlowDissection::start(&reg, Transport::Udp);
    fd.on_datagram(&reg, &ctx(), Direction::ToResponder, b"nope", &mut out, &mut st);
    assert!(fd.wants_data(), "the other side may still speak the protocol");
    assert_eq!(
        fd.on_datagram(&reg, &ctx(), Direction::ToInitiator, b"nope", &mut out, &mut st),
        Want::Enough
    );
}

#[test]
fn no_dissector_for_the_transport_means_no_work() {
    let reg = Registry::empty().with(Box::new(Datagrams));
    assert!(!FlowDissection::start(&reg, Transport::Tcp).wants_data());
    assert!(Registry::builtin().only(&["nope"]).is_err());
    assert_eq!(Registry::builtin().only(&["arp"]).map(|r| r.names()), Ok(vec!["arp"]));
}

/// Records what its session is fed, to show the order of bytes and gaps.
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);
struct RecorderSession(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Dissector for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        match dir {
            Direction::ToResponder if data.starts_with(b"GO") => Probe::Match,
            _ => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(RecorderSession(self.0.clone()))
    }
}

impl Session for RecorderSession {
    fn parse(&mut self, _: &FlowContext, dir: Direction, data: &[u8], _: &mut Emitter<'_>) -> Parsed {
        self.0.lock().unwrap().push(format!("{dir:?} {}", data.len()));
        Parsed::Consumed(data.len())
    }
    fn gap(&mut self, dir: Direction, len: u64) -> bool {
        self.0.lock().unwrap().push(format!("{dir:?} gap {len}"));
        true
    }
}

#[test]
fn bytes_dropped_while_probing_reach_the_dissector_as_a_gap() {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reg = Registry::empty().with(Box::new(Recorder(log.clone())));
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    // The server talks first, more than the probe buffer holds.
    fd.on_stream(&reg, &ctx(), Direction::ToInitiator, &[b'-'; PROBE_BYTES], &mut out, &mut st);
    fd.on_stream(&reg, &ctx(), Direction::ToInitiator, &[b'-'; 900], &mut out, &mut st);
    assert!(fd.wants_data(), "the client has not spoken yet");
    fd.on_stream(&reg, &ctx(), Direction::ToResponder, b"GO now", &mut out, &mut st);
    assert_eq!(
        *log.lock().unwrap(),
        ["ToResponder 6", format!("ToInitiator {PROBE_BYTES}").as_str(), "ToInitiator gap 900"]
    );
}
