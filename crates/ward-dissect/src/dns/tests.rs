use std::net::{IpAddr, Ipv4Addr};

use simple_dns::rdata::{A, PTR, RData, SRV, TXT};
use simple_dns::{CLASS, Name, Packet, QCLASS, QTYPE, Question, ResourceRecord, TYPE};
use ward_core::{DeviceKey, Endpoint, IpProto, ObservationKind, Timestamp, Vlans};

use super::*;

fn ctx(from: [u8; 4], to: [u8; 4]) -> FlowContext {
    let ep = |a: [u8; 4], port| Endpoint { ip: IpAddr::V4(Ipv4Addr::from(a)), port, mac: None };
    FlowContext {
        ts: Timestamp::from_secs(1),
        uid: 1,
        vlans: Vlans::default(),
        proto: IpProto::UDP,
        initiator: ep(from, 40000),
        responder: ep(to, 53),
    }
}

/// (device, key, value, source) of each attribute.
type Attrs = Vec<(DeviceKey, String, String, String)>;

fn run(ctx: &FlowContext, dir: Direction, bytes: &[u8]) -> (Attrs, Option<&'static str>) {
    assert_eq!(DnsDissector.probe(dir, bytes), Probe::Match);
    let mut session = DnsDissector.start();
    let mut out = Vec::new();
    let r = session.parse(ctx, dir, bytes, &mut Emitter::new(&mut out, 256));
    assert_eq!(r, Parsed::Consumed(bytes.len()));
    let attrs = out
        .into_iter()
        .filter_map(|o| match o.kind {
            ObservationKind::Attribute { key, value, evidence } => {
                Some((o.device, key.to_string(), value, evidence.source.to_string()))
            }
            _ => None,
        })
        .collect();
    (attrs, session.protocol())
}

fn ip(a: [u8; 4]) -> DeviceKey {
    DeviceKey::Ip(IpAddr::V4(Ipv4Addr::from(a)))
}

#[test]
fn queries_and_answers() {
    let mut q = Packet::new_query(7);
    q.questions.push(Question::new(
        Name::new("telemetry.pumpvendor.example").unwrap(),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    let bytes = q.build_bytes_vec().unwrap();
    let (attrs, flavour) = run(&ctx([10, 0, 0, 5], [10, 30, 0, 53]), Direction::ToResponder, &bytes);
    assert_eq!(
        attrs,
        [(ip([10, 0, 0, 5]), "dns_query".into(), "telemetry.pumpvendor.example".into(), "dns.query".into())]
    );
    assert_eq!(flavour, None);

    let mut a = Packet::new_reply(7);
    a.questions.push(Question::new(
        Name::new("telemetry.pumpvendor.example").unwrap(),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    a.answers.push(ResourceRecord::new(
        Name::new("telemetry.pumpvendor.example").unwrap(),
        CLASS::IN,
        300,
        RData::A(A { address: 0x5db8_d822 }),
    ));
    a.answers.push(ResourceRecord::new(
        Name::new("34.216.184.93.in-addr.arpa").unwrap(),
        CLASS::IN,
        300,
        RData::PTR(PTR(Name::new("edge.example").unwrap())),
    ));
    let bytes = a.build_bytes_vec_compressed().unwrap();
    let (attrs, _) = run(&ctx([10, 0, 0, 5], [10, 30, 0, 53]), Direction::ToInitiator, &bytes);
    assert!(attrs.contains(&(
        ip([93, 184, 216, 34]),
        "dns_name".into(),
        "telemetry.pumpvendor.example".into(),
        "dns.answer".into()
    )));
    assert!(attrs.contains(&(
        ip([93, 184, 216, 34]),
        "dns_name".into(),
        "edge.example".into(),
        "dns.ptr".into()
    )));
}

#[test]
fn mdns_announcements_describe_their_sender() {
    let mut p = Packet::new_reply(0);
    let service = Name::new("_ipp._tcp.local").unwrap();
    let instance = Name::new("HP LaserJet M507._ipp._tcp.local").unwrap();
    p.answers.push(ResourceRecord::new(service, CLASS::IN, 4500, RData::PTR(PTR(instance.clone()))));
    let txt = TXT::new()
        .with_string("ty=HP LaserJet M507")
        .unwrap()
        .with_string("usb_MFG=HP")
        .unwrap()
        .with_string("fw=2406048_055487")
        .unwrap();
    p.answers.push(ResourceRecord::new(instance.clone(), CLASS::IN, 4500, RData::TXT(txt)));
    p.answers.push(ResourceRecord::new(
        instance,
        CLASS::IN,
        120,
        RData::SRV(SRV { priority: 0, weight: 0, port: 631, target: Name::new("prn-7.local").unwrap() }),
    ));
    p.answers.push(ResourceRecord::new(
        Name::new("prn-7.local").unwrap(),
        CLASS::IN,
        120,
        RData::A(A { address: 0x0a28_0007 }),
    ));
    let bytes = p.build_bytes_vec_compressed().unwrap();
    let (attrs, flavour) = run(&ctx([10, 40, 0, 7], [224, 0, 0, 251]), Direction::ToResponder, &bytes);
    assert_eq!(flavour, Some("mdns"));
    let me = ip([10, 40, 0, 7]);
    for (k, v, src) in [
        ("mdns_service", "_ipp._tcp", "mdns.ptr"),
        ("mdns_instance", "HP LaserJet M507", "mdns.ptr"),
        ("model", "HP LaserJet M507", "mdns.txt.model"),
        ("manufacturer", "HP", "mdns.txt.manufacturer"),
        ("firmware", "2406048_055487", "mdns.txt.version"),
        ("hostname", "prn-7", "mdns.a"),
        ("mdns_service_port", "_ipp._tcp 631", "mdns.srv"),
        ("hostname", "prn-7", "mdns.srv"),
    ] {
        assert!(attrs.contains(&(me, k.into(), v.into(), src.into())), "missing {k}={v}: {attrs:?}");
    }
}

#[test]
fn llmnr_is_named_by_its_group() {
    let mut a = Packet::new_reply(1);
    a.answers.push(ResourceRecord::new(
        Name::new("ws-12").unwrap(),
        CLASS::IN,
        30,
        RData::A(A { address: 0x0a28_000c }),
    ));
    let bytes = a.build_bytes_vec().unwrap();
    let (attrs, flavour) = run(&ctx([10, 40, 0, 12], [224, 0, 0, 252]), Direction::ToResponder, &bytes);
    assert_eq!(flavour, Some("llmnr"));
    assert_eq!(attrs[0].1, "hostname");
    assert_eq!(attrs[0].2, "ws-12");
}

#[test]
fn reverse_names() {
    assert_eq!(reverse_address("4.3.2.1.in-addr.arpa."), Some(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4))));
    let v6 = "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa";
    assert_eq!(reverse_address(v6), Some("4321:0:1:2:3:4:567:89ab".parse().unwrap()));
    assert_eq!(reverse_address("1.2.3.in-addr.arpa"), None);
    assert_eq!(reverse_address("example.com"), None);
}

#[test]
fn not_dns() {
    for bytes in [&b"GET / HTTP/1.1\r\n\r\n"[..], &[0u8; 12], &[0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'a']]
    {
        assert_eq!(DnsDissector.probe(Direction::ToResponder, bytes), Probe::NoMatch, "{bytes:?}");
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let mut out = Vec::new();
        let _ = DnsDissector.probe(Direction::ToResponder, &data);
        for c in [ctx([10, 0, 0, 1], [224, 0, 0, 251]), ctx([10, 0, 0, 1], [10, 0, 0, 2])] {
            let _ = DnsDissector.start().parse(&c, Direction::ToInitiator, &data, &mut Emitter::new(&mut out, 256));
        }
    }
}

#[test]
fn names_read_as_simple_dns_writes_them() {
    for n in ["telemetry.pumpvendor.example", "a.b", "Lucas’s iMac._airplay._tcp.local"] {
        let name = Name::new(n).unwrap();
        assert_eq!(name_text(&name), name.to_string());
    }
    let odd = Name::new_with_labels(&[
        simple_dns::Label::new(b"dot.ted".as_slice()).unwrap(),
        simple_dns::Label::new(b"back\\slash".as_slice()).unwrap(),
    ]);
    assert_eq!(name_text(&odd), odd.to_string());
}
