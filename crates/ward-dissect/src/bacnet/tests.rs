#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use ward_core::{Direction::*, IpProto, ObservationKind};

use super::*;
use crate::testutil::{attrs, converse, ctx, has};

fn flow() -> crate::FlowContext {
    ctx(IpProto::UDP, [10, 9, 0, 7], 47808, [10, 9, 0, 40], 47808)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

// From nDPI's bacnet.pcap: Who-Is, an I-Am of device 0 by vendor 260 broadcast to every
// network (DNET 0xffff), a Who-Is with a range 111..111, a network-layer message, an Error.
const WHO_IS: &str = "810b000c0120ffff00ff1008";
const I_AM: &str = "810b00190120ffff00ff1000c4020000002205c49103220104";
const WHO_IS_RANGE: &str = "810b00100120ffff00ff1008096f196f";
const NETWORK_MESSAGE: &str = "810b000d01a0ffff00ff010000";
const ERROR: &str = "810b000d010050010c91009100";

/// Wraps an APDU in an Original-Unicast-NPDU BVLC and a plain NPDU.
fn unicast(apdu: &[u8]) -> Vec<u8> {
    let mut d = vec![0x81, 0x0a, 0, 0, 0x01, 0x00];
    d.extend(apdu);
    let len = d.len() as u16;
    d[2..4].copy_from_slice(&len.to_be_bytes());
    d
}

/// An application-tagged CharacterString in UTF-8 (clause 20.2.9).
fn char_string(s: &str) -> Vec<u8> {
    let mut v = vec![0x75, s.len() as u8 + 1, 0];
    v.extend(s.as_bytes());
    v
}

/// The ReadProperty-ACK a device object 260001 sends for `property`, as bacnet-stack's demo
/// server answers (clause 15.5.1.3): context 0 object id, context 1 property, [3] value.
fn read_property_ack(property: u8, value: &[u8]) -> Vec<u8> {
    let mut a = vec![0x30, 0x07, 0x0c, 0x0c, 0x02, 0x03, 0xf7, 0xa1, 0x19, property, 0x3e];
    a.extend(value);
    a.push(0x3f);
    unicast(&a)
}

#[test]
fn i_am_names_instance_and_vendor() {
    let datagrams = [hex(WHO_IS), hex(I_AM), hex(WHO_IS_RANGE), hex(NETWORK_MESSAGE), hex(ERROR)];
    let conv: Vec<(Direction, &[u8])> = datagrams.iter().map(|d| (ToResponder, d.as_slice())).collect();
    let (out, proto, stats) = converse(BacnetDissector, &flow(), &conv);
    assert_eq!(proto, Some("bacnet"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let dev = "ip:10.9.0.7";
    assert!(has(&out, dev, "bacnet_device_instance", "0"));
    assert!(has(&out, dev, "bacnet_vendor", "BACnet Stack at SourceForge"));
    assert!(has(&out, dev, "role", "BACnet device"));
    // It looked for others too (Who-Is), which names it less surely than its I-Am.
    assert!(has(&out, dev, "role", "BACnet client"));
    let clear =
        out.iter().filter(|o| matches!(&o.kind, ObservationKind::Cleartext { phi: false, .. })).count();
    assert_eq!(clear, 1);
    assert_eq!(attrs(&out).len(), 4);
}

#[test]
fn read_property_answers_name_the_answering_device() {
    let request = unicast(&hex("0004070c0c0c0203f7a11979"));
    let answers = [
        read_property_ack(121, &char_string("BACnet Stack at SourceForge")),
        read_property_ack(70, &char_string("GNU")),
        read_property_ack(44, &char_string("0.8.2")),
        read_property_ack(12, &char_string("1.0")),
        read_property_ack(77, &char_string("SimpleServer")),
        read_property_ack(58, &char_string("USA")),
        // Property 85 (present-value) of the device is nothing Ward keeps.
        read_property_ack(85, &char_string("x")),
    ];
    let mut conv: Vec<(Direction, &[u8])> = vec![(ToResponder, &request)];
    conv.extend(answers.iter().map(|a| (ToInitiator, a.as_slice())));
    let (out, _, stats) = converse(BacnetDissector, &flow(), &conv);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let dev = "ip:10.9.0.40";
    assert!(has(&out, dev, "vendor", "BACnet Stack at SourceForge"));
    assert!(has(&out, dev, "model", "GNU"));
    assert!(has(&out, dev, "firmware", "0.8.2"));
    assert!(has(&out, dev, "software_version", "1.0"));
    assert!(has(&out, dev, "bacnet_device_name", "SimpleServer"));
    assert!(has(&out, dev, "bacnet_location", "USA"));
    assert!(has(&out, dev, "bacnet_device_instance", "260001"));
    assert!(has(&out, dev, "role", "BACnet device"));
    // The asking side said nothing about itself but that it asks.
    let asker: Vec<_> = attrs(&out).into_iter().filter(|a| a.0 == "ip:10.9.0.7").collect();
    assert_eq!(asker.len(), 1);
    assert!(has(&out, "ip:10.9.0.7", "role", "BACnet client"));
    assert_eq!(attrs(&out).len(), 9);
}

#[test]
fn read_property_multiple_of_a_device() {
    // ReadPropertyMultiple-ACK (clause 15.7.1.3) for device 260001: vendor-identifier,
    // model-name, serial-number, and an error for description.
    let mut a = hex("3008 0e 0c0203f7a1 1e");
    a.extend(hex("2978 4e 220104 4f"));
    a.extend(hex("2946 4e"));
    a.extend(char_string("Infusion Gateway IG-7"));
    a.extend(hex("4f"));
    a.extend(hex("2a0174 4e"));
    a.extend(char_string("SN-00417"));
    a.extend(hex("4f"));
    a.extend(hex("291c 5e 9102 9120 5f"));
    a.extend(hex("1f"));
    let d = unicast(&a);
    let (out, _, stats) = converse(BacnetDissector, &flow(), &[(ToInitiator, &d)]);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let dev = "ip:10.9.0.40";
    assert!(has(&out, dev, "bacnet_vendor", "BACnet Stack at SourceForge"));
    assert!(has(&out, dev, "model", "Infusion Gateway IG-7"));
    assert!(has(&out, dev, "serial", "SN-00417"));
    assert!(!attrs(&out).iter().any(|a| a.1 == "bacnet_description"));
}

#[test]
fn rpm_answer_of_a_schedule_is_read_but_not_kept() {
    // From automayt's BACnetL_SchedRPM capture: a schedule object's properties (its name
    // "123" among them). Points are not the device: nothing but the role is kept.
    let d = hex(
        "810a0083010030080e0c044000581e294b4ec4044000584f294d4e74003132334f294f4e91114f29554e004f291c4e74003132334f29204ea4720101ffa4730101ff4f297b4e0e0f0e0f0e0f0e0f0e0f0e0f0e0f4f29264e4f29ae4e004f29364e4f29584e210a4f296f4e8204004f29674e91004f29514e104f29a85e910291205f1f",
    );
    let mut seen = Vec::new();
    let npdu = parser::npdu(parser::bvlc(&d).unwrap().npdu.unwrap()).unwrap();
    parser::read_property_multiple_ack(&npdu.apdu[3..], |p| seen.push((p.object, p.property, p.value)))
        .unwrap();
    assert_eq!(seen.len(), 14);
    assert_eq!(seen[1], ((17, 88), 77, Some(Tag::App(7, b"\x00123".as_slice()))));
    let (out, _, stats) = converse(BacnetDissector, &flow(), &[(ToInitiator, &d)]);
    assert!(stats.malformed.is_empty());
    assert!(attrs(&out).is_empty());
}

#[test]
fn forwarded_and_routed_messages() {
    // A Forwarded-NPDU from a BBMD names the I-Am's origin, 10.9.1.50:47808.
    let mut f = hex("81040000 0a090132bac0");
    f.extend(&hex(I_AM)[4..]);
    let len = f.len() as u16;
    f[2..4].copy_from_slice(&len.to_be_bytes());
    let (out, _, stats) = converse(BacnetDissector, &flow(), &[(ToResponder, &f)]);
    assert!(stats.malformed.is_empty());
    assert!(has(&out, "ip:10.9.1.50", "bacnet_device_instance", "0"));
    assert!(!attrs(&out).iter().any(|a| a.0 == "ip:10.9.0.7"));
    // An I-Am a router relays from MS/TP network 5, station 0x12: not the router's.
    let routed = unicast(&hex("1000c4020000072205c49103220104"));
    let mut r = routed[..4].to_vec();
    r.extend(hex("0108 0005 01 12"));
    r.extend(&routed[6..]);
    let len = r.len() as u16;
    r[2..4].copy_from_slice(&len.to_be_bytes());
    let (out, proto, stats) = converse(BacnetDissector, &flow(), &[(ToInitiator, &r)]);
    assert_eq!(proto, Some("bacnet"));
    assert!(stats.malformed.is_empty());
    assert!(attrs(&out).is_empty());
}

#[test]
fn strings_in_other_character_sets() {
    assert_eq!(parser::character_string(b"\x05Sauter Z\xfcrich").as_deref(), Some("Sauter Zürich"));
    assert_eq!(parser::character_string(b"\x04\x00A\x00B").as_deref(), Some("AB"));
    assert_eq!(parser::character_string(b"\x03\x00\x00\x00A"), None);
    assert_eq!(parser::character_string(b""), None);
}

#[test]
fn segmented_answers_are_skipped_and_counted() {
    let mut s = BacnetSession::default();
    let d = unicast(&hex("3807000203 0c 0c0203f7a1 194d 3e"));
    let mut out = Vec::new();
    let mut e = crate::Emitter::new(&mut out, 64);
    assert_eq!(s.parse(&flow(), ToInitiator, &d, &mut e), Parsed::Consumed(d.len()));
    assert_eq!(s.segmented, 1);
    assert!(out.is_empty());
}

#[test]
fn malformed_datagrams() {
    let good = hex(I_AM);
    let bad = [
        // Truncated I-Am (vendor id missing), length fixed up.
        hex("810b00170120ffff00ff1000c4020000002205c4910322"),
        // A ReadProperty-ACK whose value is not closed.
        read_property_ack(70, &char_string("GNU"))[..23].to_vec(),
        // NPDU version 2.
        hex("810a000802001008"),
        // Unknown APDU type 9.
        hex("810a0007010090"),
    ];
    for mut b in bad {
        let len = b.len() as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        let (_, proto, stats) =
            converse(BacnetDissector, &flow(), &[(ToResponder, &good), (ToResponder, &b)]);
        assert_eq!(proto, Some("bacnet"));
        assert_eq!(stats.malformed.get("bacnet"), Some(&1), "{b:02x?}");
    }
    // A length that disagrees with the datagram after the flow matched.
    let mut b = hex(I_AM);
    b.push(0);
    let (_, _, stats) = converse(BacnetDissector, &flow(), &[(ToResponder, &good), (ToResponder, &b)]);
    assert_eq!(stats.malformed.get("bacnet"), Some(&1));
}

#[test]
fn probe() {
    let p = |b: &[u8]| BacnetDissector.probe(ToResponder, b);
    assert_eq!(p(&hex(I_AM)), Probe::Match);
    assert_eq!(p(&hex(NETWORK_MESSAGE)), Probe::Match);
    // BVLC-Result (no NPDU).
    assert_eq!(p(&hex("810000060000")), Probe::Match);
    assert_eq!(p(&hex(I_AM)[..10]), Probe::NoMatch);
    assert_eq!(p(&hex("810a000802001008")), Probe::NoMatch);
    assert_eq!(p(&hex("810d00060000")), Probe::NoMatch);
    // A DNS query whose id starts with 0x81.
    assert_eq!(p(&hex("81a10100000100000000000003777777076578616d706c6503636f6d0000010001")), Probe::NoMatch);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..300), f in 0u8..16) {
        let mut d = vec![0x81, f, 0, 0, 1, 0];
        d.extend(&a);
        let len = d.len() as u16;
        d[2..4].copy_from_slice(&len.to_be_bytes());
        converse(BacnetDissector, &flow(), &[(ToResponder, &hex(I_AM)), (ToInitiator, &d), (ToResponder, &a)]);
        let _ = parser::tag(&a);
        let _ = parser::read_property_multiple_ack(&a, |_| {});
    }
}
