use std::net::{IpAddr, Ipv4Addr};

use ward_core::{DeviceKey, Endpoint, IpProto, Mac, ObservationKind, Timestamp, Vlans};

use super::*;

fn encode(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = format!("{name:<15}").into_bytes();
    raw.truncate(15);
    raw.push(suffix);
    let mut out = vec![0x20];
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
    out
}

fn ctx() -> FlowContext {
    let ep = |a: [u8; 4]| Endpoint { ip: IpAddr::V4(Ipv4Addr::from(a)), port: 137, mac: None };
    FlowContext {
        ts: Timestamp::ZERO,
        uid: 1,
        vlans: Vlans::default(),
        proto: IpProto::UDP,
        initiator: ep([10, 40, 0, 9]),
        responder: ep([10, 40, 0, 255]),
    }
}

fn run(data: &[u8], dir: Direction) -> Vec<ward_core::Observation> {
    assert_eq!(NbnsDissector.probe(dir, data), Probe::Match);
    let mut out = Vec::new();
    assert!(matches!(
        NbnsDissector.start().parse(&ctx(), dir, data, &mut Emitter::new(&mut out, 64)),
        Parsed::Consumed(_)
    ));
    out
}

#[test]
fn a_registration_names_its_sender() {
    let mut m = vec![0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1];
    m.extend(encode("WS-0042", 0x00));
    m.extend([0, 0x20, 0, 1]);
    m.extend([0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0x60, 0, 10, 40, 0, 9]);
    let out = run(&m, Direction::ToResponder);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].device, DeviceKey::Ip(IpAddr::V4(Ipv4Addr::new(10, 40, 0, 9))));
    assert!(
        matches!(&out[0].kind, ObservationKind::Attribute { key, value, .. } if key == "netbios_name" && value == "WS-0042")
    );
}

#[test]
fn looping_and_chained_pointers_are_refused() {
    // Found by the `dns` fuzz target: an answer name pointing at itself recursed without end.
    let mut m = vec![0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 2];
    m.extend(encode("WS-0042", 0x00));
    m.extend([0, 0x20, 0, 1]);
    let own = m.len() as u8;
    // A pointer to itself, then a pointer to that pointer.
    m.extend([0xc0, own, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0x60, 0, 10, 40, 0, 9]);
    m.extend([0xc0, own, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0x60, 0, 10, 40, 0, 9]);
    assert!(parser::read_name(&m, usize::from(own)).is_none());
    assert!(parser::read_name(&m, usize::from(own) + 18).is_none());
    let mut out = Vec::new();
    let _ = NbnsDissector.start().parse(&ctx(), Direction::ToResponder, &m, &mut Emitter::new(&mut out, 64));
}

#[test]
fn a_node_status_answer_gives_names_and_the_mac() {
    let mut m = vec![0x12, 0x34, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    m.extend(encode("*", 0));
    m.extend([0, 0x21, 0, 1, 0, 0, 0, 0]);
    let mut rd = vec![2];
    for (n, s) in [("PRN-7", 0x00u8), ("HOSPITAL", 0x00)] {
        let mut e = format!("{n:<15}").into_bytes();
        e.push(s);
        e.extend([0x04, 0x00]);
        rd.extend(e);
    }
    rd.extend([0x00, 0x14, 0x38, 0xaa, 0xbb, 0xcc]);
    rd.extend([0; 40]);
    m.extend((rd.len() as u16).to_be_bytes());
    m.extend(rd);
    let out = run(&m, Direction::ToInitiator);
    let names: Vec<_> = out
        .iter()
        .filter_map(|o| match &o.kind {
            ObservationKind::Attribute { value, .. } => Some(value.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["PRN-7", "HOSPITAL"]);
    assert!(out.iter().any(|o| o.device == DeviceKey::Mac(Mac([0x00, 0x14, 0x38, 0xaa, 0xbb, 0xcc]))));
}

#[test]
fn dns_is_not_nbns() {
    let mut dns = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    dns.extend([7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1]);
    dns.resize(60, 0);
    assert_eq!(NbnsDissector.probe(Direction::ToResponder, &dns), Probe::NoMatch);
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(mut data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), shape: bool) {
        if shape && data.len() > 60 {
            data[2] = 0x85;
            let name = encode("X", 0);
            data[12..12 + name.len()].copy_from_slice(&name);
        }
        let mut out = Vec::new();
        let _ = NbnsDissector.start().parse(&ctx(), Direction::ToInitiator, &data, &mut Emitter::new(&mut out, 64));
        let _ = Nbns::parse(&data);
    }
}
