#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use ward_core::{Direction::*, IpProto};

use super::*;
use crate::testutil::{attrs, converse, ctx, has, value};

fn flow() -> crate::FlowContext {
    ctx(IpProto::TCP, [10, 8, 0, 9], 3082, [10, 8, 0, 3], 502)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

const SERVER: &str = "ip:10.8.0.3";

// Frames of Suricata-verify's modbus capture (from ITI's ICS-Security-Tools, a Modbus client
// polling unit 10): read coils and its answer, read holding registers, a write, a
// diagnostics request answered by an exception, Report Server ID.
const READ_COILS: &str = "0001000000060a0100000001";
const READ_COILS_ANSWER: &str = "0001000000040a010100";
const READ_HOLDING: &str = "0001000000060a0300050002";
const READ_HOLDING_ANSWER: &str = "0001000000070a030400090018";
const WRITE_COIL: &str = "0001000000060a0500010000";
const DIAGNOSTICS: &str = "0000000000060a0800010000";
const DIAGNOSTICS_EXCEPTION: &str = "0000000000030a880b";
const REPORT_SERVER_ID_ANSWER: &str = "0000000000150a111200ff57696e6770617468204c696d69746564";
const READ_DEVICE_ID: &str = "0001000000060a2b0e030100";

/// A Read Device Identification answer as the specification's section 6.21 example lays it
/// out (basic objects 0 to 2), with extended objects 4 to 6 added as a pump's Modbus gateway
/// could send them.
fn device_id_answer() -> Vec<u8> {
    let objects: [(u8, &[u8]); 6] = [
        (0, b"Schneider Electric"),
        (1, b"BMX P34 2020"),
        (2, b"V3.10"),
        (4, b"Modicon M340"),
        (5, b"BMXP342020"),
        (6, b"AHU-3 West Wing"),
    ];
    let mut pdu = vec![0x0a, 0x2b, 0x0e, 0x03, 0x83, 0x00, 0x00, objects.len() as u8];
    for (id, v) in objects {
        pdu.extend([id, v.len() as u8]);
        pdu.extend(v);
    }
    let mut f = vec![0x00, 0x01, 0x00, 0x00];
    f.extend((pdu.len() as u16).to_be_bytes());
    f.extend(pdu);
    f
}

fn conversation(
    frames: &[(Direction, Vec<u8>)],
) -> (Vec<ward_core::Observation>, Option<&'static str>, crate::DissectStats) {
    let conv: Vec<(Direction, &[u8])> = frames.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    converse(ModbusDissector, &flow(), &conv)
}

#[test]
fn polling_writes_and_exceptions() {
    let (out, proto, stats) = conversation(&[
        (ToResponder, hex(READ_COILS)),
        (ToInitiator, hex(READ_COILS_ANSWER)),
        (ToResponder, hex(READ_HOLDING)),
        (ToInitiator, hex(READ_HOLDING_ANSWER)),
        (ToResponder, hex(WRITE_COIL)),
        (ToResponder, hex(DIAGNOSTICS)),
        (ToInitiator, hex(DIAGNOSTICS_EXCEPTION)),
        (ToInitiator, hex(REPORT_SERVER_ID_ANSWER)),
    ]);
    assert_eq!(proto, Some("modbus"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert!(has(&out, SERVER, "role", "Modbus server"));
    assert!(has(&out, "ip:10.8.0.9", "role", "Modbus client"));
    assert!(has(&out, SERVER, "modbus_unit", "10"));
    let functions: Vec<_> =
        attrs(&out).into_iter().filter(|a| a.1 == "modbus_function").map(|a| a.2).collect();
    assert_eq!(
        functions,
        ["1 Read Coils", "3 Read Holding Registers", "5 Write Single Coil", "8 Diagnostics"]
    );
    assert_eq!(
        value(&out, "modbus_exception"),
        Some("8 Diagnostics: 11 Gateway Target Device Failed to Respond")
    );
    // Register values never become observations.
    assert_eq!(attrs(&out).len(), 8);
    let clear = out
        .iter()
        .filter(|o| matches!(&o.kind, ward_core::ObservationKind::Cleartext { phi: false, .. }))
        .count();
    assert_eq!(clear, 2);
}

#[test]
fn read_device_identification() {
    let (out, _, stats) =
        conversation(&[(ToResponder, hex(READ_DEVICE_ID)), (ToInitiator, device_id_answer())]);
    assert!(stats.malformed.is_empty());
    assert!(has(&out, SERVER, "vendor", "Schneider Electric"));
    assert!(has(&out, SERVER, "product_code", "BMX P34 2020"));
    assert!(has(&out, SERVER, "revision", "V3.10"));
    assert!(has(&out, SERVER, "model", "Modicon M340"));
    assert!(has(&out, SERVER, "model", "BMXP342020"));
    assert!(has(&out, SERVER, "modbus_application", "AHU-3 West Wing"));
    assert!(has(&out, SERVER, "modbus_function", "43 Encapsulated Interface Transport"));
}

#[test]
fn truncated_device_identification_is_read_as_far_as_it_goes() {
    let mut f = device_id_answer();
    // Claim one object more than sent.
    f[13] += 1;
    let (out, _, stats) = conversation(&[(ToResponder, hex(READ_DEVICE_ID)), (ToInitiator, f)]);
    assert!(stats.malformed.is_empty());
    assert!(has(&out, SERVER, "vendor", "Schneider Electric"));
}

#[test]
fn split_and_coalesced_frames() {
    let mut client = hex(READ_COILS);
    client.extend(hex(READ_HOLDING));
    client.extend(hex(WRITE_COIL));
    let mut server = hex(READ_COILS_ANSWER);
    server.extend(device_id_answer());
    let mut conv: Vec<(Direction, &[u8])> = client.chunks(5).map(|c| (ToResponder, c)).collect();
    conv.extend(server.chunks(3).map(|c| (ToInitiator, c)));
    let (out, proto, stats) = converse(ModbusDissector, &flow(), &conv);
    assert_eq!(proto, Some("modbus"));
    assert!(stats.malformed.is_empty());
    let (out2, _, _) = converse(ModbusDissector, &flow(), &[(ToResponder, &client), (ToInitiator, &server)]);
    assert_eq!(attrs(&out), attrs(&out2));
    assert!(has(&out, SERVER, "vendor", "Schneider Electric"));
    assert_eq!(attrs(&out).iter().filter(|a| a.1 == "modbus_function").count(), 3);
}

#[test]
fn bad_frames_are_malformed() {
    // Suricata-verify's modbus capture holds these: a protocol id of 0x10, and a length of
    // 0x8804.
    for bad in ["0001001000060a0100010003", "00010000880405070809100001000088"] {
        let (_, proto, stats) =
            converse(ModbusDissector, &flow(), &[(ToResponder, &hex(READ_COILS)), (ToResponder, &hex(bad))]);
        assert_eq!(proto, Some("modbus"));
        assert_eq!(stats.malformed.get("modbus"), Some(&1), "{bad}");
        // Alone they never match.
        assert_eq!(ModbusDissector.probe(ToResponder, &hex(bad)), Probe::NoMatch);
    }
}

#[test]
fn gap_resynchronises_on_the_next_frame() {
    let reg = crate::Registry::empty().with(Box::new(ModbusDissector));
    let mut fd = crate::FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut stats) = (Vec::new(), crate::DissectStats::default());
    let f = flow();
    fd.on_stream(&reg, &f, ToResponder, &hex(READ_COILS), &mut out, &mut stats);
    // Half a frame, then a hole, then the rest of a frame and a whole one.
    fd.on_stream(&reg, &f, ToResponder, &hex(READ_HOLDING)[..5], &mut out, &mut stats);
    fd.on_gap(ToResponder, 100, &mut stats);
    fd.on_stream(&reg, &f, ToResponder, &hex("00060a0300050002"), &mut out, &mut stats);
    fd.on_stream(&reg, &f, ToResponder, &hex(WRITE_COIL), &mut out, &mut stats);
    assert!(stats.malformed.is_empty() && stats.gave_up_at_gap == 0, "{stats:?}");
    assert!(has(&out, SERVER, "modbus_function", "5 Write Single Coil"));
}

#[test]
fn probe() {
    let p = |b: &[u8]| ModbusDissector.probe(ToResponder, b);
    assert_eq!(p(&hex(READ_COILS)), Probe::Match);
    assert_eq!(p(&hex(READ_COILS)[..7]), Probe::NeedMore);
    assert_eq!(p(&hex(READ_COILS)[..2]), Probe::NeedMore);
    assert_eq!(ModbusDissector.probe(ToInitiator, &hex(DIAGNOSTICS_EXCEPTION)), Probe::Match);
    assert_eq!(ModbusDissector.probe(ToInitiator, &device_id_answer()), Probe::Match);
    // A frame followed by garbage, a wrong shape, an unknown function, a length that does
    // not fit the function: no.
    let mut b = hex(READ_COILS);
    b.extend(b"GET / HTTP/1.1\r\n");
    assert_eq!(p(&b), Probe::NoMatch);
    assert_eq!(p(&hex("0001000000060a0100000000")), Probe::NoMatch);
    assert_eq!(p(&hex("0001000000060a6300000001")), Probe::NoMatch);
    assert_eq!(p(&hex("0001000000070a010000000100")), Probe::NoMatch);
    // Other protocols' first bytes: SOCKS 5, TLS, HTTP.
    assert_eq!(p(&[5, 1, 0]), Probe::NeedMore);
    assert_eq!(p(&[5, 1, 0, 1, 10, 0, 0, 1, 0, 80]), Probe::NoMatch);
    assert_eq!(p(&[0x16, 3, 1, 0, 200, 1, 0, 0, 196]), Probe::NoMatch);
    assert_eq!(p(b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..300), b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut client = hex(READ_COILS);
        client.extend(&a);
        let mut server = hex(READ_COILS_ANSWER);
        server.extend(&b);
        converse(ModbusDissector, &flow(), &[(ToResponder, &client), (ToInitiator, &server), (ToResponder, &b)]);
        // A device identification answer with random objects.
        let mut f = hex("0001000000000a2b0e0383000005");
        f.extend(&a);
        let len = (f.len() - 6).min(254) as u16;
        f[4..6].copy_from_slice(&len.to_be_bytes());
        converse(ModbusDissector, &flow(), &[(ToResponder, &hex(READ_DEVICE_ID)), (ToInitiator, &f)]);
    }
}
