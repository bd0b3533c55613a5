//! Messages are framed as python-hl7's `MLLPClient` sends them (`\x0b` + segments joined by
//! `\r` + `\x1c\x0d`); their content follows HL7 v2.3-2.8 and the IHE PCD-01 (DEC) profile.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use ward_core::{Direction::*, IpProto, Observation};

use super::*;
use crate::testutil::{attrs, cleartexts, converse, ctx, has};
use crate::{DissectStats, FlowDissection, Registry};

fn flow() -> FlowContext {
    ctx(IpProto::TCP, [10, 3, 0, 155], 49242, [10, 3, 0, 126], 6661)
}

const SENDER: &str = "ip:10.3.0.155";
const RECEIVER: &str = "ip:10.3.0.126";

/// `segments` joined by `\r` in an MLLP frame, as python-hl7's client sends a message.
fn mllp(segments: &[&str]) -> Vec<u8> {
    let mut v = vec![0x0b];
    v.extend_from_slice(segments.join("\r").as_bytes());
    v.extend_from_slice(b"\x1c\r");
    v
}

/// An admission with patient demographics, visit, next of kin and allergies (the shape of
/// the ADT^A01 in nDPI's hl7.pcap, with made-up people).
fn adt() -> Vec<u8> {
    mllp(&[
        r"MSH|^~\&|EPIC|NORTH_CAMPUS|LAB_IF|NORTH_LAB|20240613083617||ADT^A01|MSG00001|P|2.3||||",
        "EVN|A01|20240613083617",
        "PID|1||PAT-556677||GRUBER^ANNA^||19480321|F|||Hauptstrasse 5^^Wien^^1010||(01)555-0199",
        "NK1|1|GRUBER^JOSEF|HUSBAND",
        "PV1|1|I|ICU^12^B",
        "AL1|1||^Penicillin||Anaphylaxis",
    ])
}

fn ack(code: &str, answered: &str) -> Vec<u8> {
    mllp(&[
        r"MSH|^~\&|LAB_IF|NORTH_LAB|EPIC|NORTH_CAMPUS|20240613083618||ACK^A01|ACK00001|P|2.3",
        &format!("MSA|{code}|{answered}|free text about GRUBER"),
    ])
}

/// An IHE PCD-01 observation report from a patient monitor gateway: `rows` OBX rows, each
/// naming the monitor by its EUI-64 in OBX-18.
fn oru(control: &str, rows: usize) -> Vec<u8> {
    let mut segs = vec![
        format!(
            r"MSH|^~\&|MONITOR_GW^ACDE48234567ABCD^EUI-64|ICU_EAST|CIS|HOSPITAL|20240613083700+0200||ORU^R01^ORU_R01|{control}|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
        ),
        "PID|||PAT-556677^^^HOSP^MR||GRUBER^ANNA^^^^^L".to_owned(),
        "PV1||I|ICU^^BED7".to_owned(),
        "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||20240613083700".to_owned(),
    ];
    for i in 0..rows {
        segs.push(format!(
            "OBX|{}|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.{i}|9{i}|262688^MDC_DIM_PERCENT^MDC|||||R|||20240613083700||||0012A3FFFE44B5C6^^0012A3FFFE44B5C6^EUI-64",
            i + 1
        ));
    }
    let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
    mllp(&refs)
}

fn no_patient_data(out: &[Observation]) {
    let json = serde_json::to_string(out).unwrap();
    for s in [
        "GRUBER",
        "ANNA",
        "PAT-556677",
        "19480321",
        "Hauptstrasse",
        "Penicillin",
        "ICU^",
        "MDC_PULS",
        "free text",
    ] {
        assert!(!json.contains(s), "{s} leaked: {json}");
    }
}

#[test]
fn admission_and_acknowledgement() {
    let (out, proto, stats) =
        converse(Hl7Dissector, &flow(), &[(ToResponder, &adt()), (ToInitiator, &ack("AA", "MSG00001"))]);
    assert_eq!(proto, Some("hl7"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert!(has(&out, SENDER, "hl7_application", "EPIC"));
    assert!(has(&out, SENDER, "hl7_facility", "NORTH_CAMPUS"));
    assert!(has(&out, SENDER, "hl7_message", "ADT^A01"));
    assert!(has(&out, SENDER, "hl7_version", "2.3"));
    assert!(has(&out, SENDER, "role", "HL7 sender"));
    assert!(has(&out, RECEIVER, "role", "HL7 receiver"));
    assert!(has(&out, RECEIVER, "hl7_message", "ACK^A01"));
    // The receiver's own header says it with more confidence than the sender's naming.
    let own: Vec<_> = attrs(&out).into_iter().filter(|a| a.3 == "hl7.msh3").map(|a| (a.0, a.2)).collect();
    assert_eq!(own, [(SENDER.into(), "EPIC".into()), (RECEIVER.into(), "LAB_IF".into())]);
    // The receiver named in the sender's header, with less confidence than its own word.
    let named: Vec<_> = attrs(&out).into_iter().filter(|a| a.3 == "hl7.msh5").collect();
    assert_eq!(
        named,
        [
            (RECEIVER.into(), "hl7_application".into(), "LAB_IF".into(), "hl7.msh5".into()),
            (SENDER.into(), "hl7_application".into(), "EPIC".into(), "hl7.msh5".into())
        ]
    );
    assert!(!attrs(&out).iter().any(|a| a.1 == "hl7_rejected"));
    assert_eq!(cleartexts(&out, "hl7"), [(SENDER.into(), true), (RECEIVER.into(), true)]);
    no_patient_data(&out);
}

#[test]
fn pcd01_report_split_anywhere_and_several_per_segment() {
    let mut stream = oru("A1", 40);
    stream.extend(oru("A2", 40));
    stream.extend(oru("A3", 3));
    // Byte-sized pieces of odd length, then everything in one segment.
    for chunk in [1usize, 7, 1448, stream.len()] {
        let mut msgs: Vec<(Direction, &[u8])> = stream.chunks(chunk).map(|c| (ToResponder, c)).collect();
        let acks = [ack("CA", "A1"), ack("CA", "A2")].concat();
        msgs.push((ToInitiator, &acks));
        let (out, _, stats) = converse(Hl7Dissector, &flow(), &msgs);
        assert!(stats.malformed.is_empty() && stats.pending_cap_hits == 0, "{chunk}: {stats:?}");
        assert!(has(&out, SENDER, "hl7_application", "MONITOR_GW"), "{chunk}");
        assert!(has(&out, SENDER, "hl7_facility", "ICU_EAST"));
        assert!(has(&out, SENDER, "hl7_message", "ORU^R01"));
        assert!(has(&out, SENDER, "hl7_version", "2.6"));
        assert!(has(&out, SENDER, "hl7_profile", "IHE_PCD_001"));
        assert!(has(&out, SENDER, "device_id", "0012A3FFFE44B5C6^^0012A3FFFE44B5C6^EUI-64"));
        // Reported once per flow however many rows and messages repeat them.
        let ids = attrs(&out).iter().filter(|a| a.1 == "device_id").count();
        assert_eq!(ids, 1, "{chunk}");
        assert_eq!(attrs(&out).iter().filter(|a| a.1 == "hl7_message" && a.0 == SENDER).count(), 1);
        assert_eq!(cleartexts(&out, "hl7").len(), 2);
        no_patient_data(&out);
    }
}

#[test]
fn declared_separators_are_honoured() {
    // Field separator '#', components '@', repetitions '%'; segments end with \r\n.
    let msg = b"\x0bMSH#@%\\&#INFUSION@@PUMPS#4WEST#PHARM#HOSP#20240101##RGV@O15#X1#P#2.5.1#########PCD_IOP@IHE\r\nPRT##UC##EQUIP######(01)00643169001763(17)160712(21)21A11F4855@@FDA######(01)00643169001763@@GS1####21A11F4855##DEV123@Infusion pump@MDC\r\n\x1c\r";
    let (out, _, stats) = converse(Hl7Dissector, &flow(), &[(ToResponder, msg)]);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert!(has(&out, SENDER, "hl7_application", "INFUSION"));
    assert!(has(&out, SENDER, "hl7_facility", "4WEST"));
    assert!(has(&out, SENDER, "hl7_message", "RGV^O15"));
    assert!(has(&out, SENDER, "hl7_version", "2.5.1"));
    assert!(has(&out, SENDER, "hl7_profile", "PCD_IOP"));
    assert!(has(&out, SENDER, "udi", "(01)00643169001763(17)160712(21)21A11F4855"));
    assert!(has(&out, SENDER, "udi", "(01)00643169001763"));
    assert!(has(&out, SENDER, "serial", "21A11F4855"));
    assert!(has(&out, SENDER, "device_type", "Infusion pump"));
    // No patient segment: a cleartext flow without patient data, said at the end.
    assert_eq!(cleartexts(&out, "hl7"), [(SENDER.into(), false), (RECEIVER.into(), false)]);
}

#[test]
fn hd_universal_id_when_namespace_is_empty() {
    let msg =
        mllp(&[r"MSH|^~\&|^1.2.840.114350.1.13^ISO|^2.16.840.1.113883.3.72^ISO|||20240101||ORM^O01|9|P|2.4"]);
    let (out, _, _) = converse(Hl7Dissector, &flow(), &[(ToResponder, &msg)]);
    assert!(has(&out, SENDER, "hl7_application", "1.2.840.114350.1.13"));
    assert!(has(&out, SENDER, "hl7_facility", "2.16.840.1.113883.3.72"));
}

#[test]
fn v29_device_segment() {
    let msg = mllp(&[
        r"MSH|^~\&|LAB|HOSP|LIS|HOSP|20240101||OUL^R22|5|P|2.9",
        r"DEV|UC|(01)00812345678901^^2.51^ISO|||Roche Diagnostics^L|cobas|cobas pro|C-123|00812345678901^^GS1||SN-7781|||||04.01.2",
    ]);
    let (out, _, _) = converse(Hl7Dissector, &flow(), &[(ToResponder, &msg)]);
    assert!(has(&out, SENDER, "manufacturer", "Roche Diagnostics"));
    assert!(has(&out, SENDER, "model", "cobas pro"));
    assert!(has(&out, SENDER, "udi", "00812345678901"));
    assert!(has(&out, SENDER, "serial", "SN-7781"));
    assert!(has(&out, SENDER, "software_version", "04.01.2"));
}

#[test]
fn rejected_messages_are_named() {
    let owned = [
        (ToResponder, oru("R-1", 2)),
        (ToInitiator, ack("AR", "R-1")),
        (ToResponder, adt()),
        (ToInitiator, ack("AE", "MSG00001")),
        (ToResponder, oru("R-2", 2)),
        (ToInitiator, ack("AA", "R-2")),
        // An answer to a message not seen: the code alone.
        (ToInitiator, ack("CR", "elsewhere")),
    ];
    let msgs: Vec<(Direction, &[u8])> = owned.iter().map(|(d, m)| (*d, m.as_slice())).collect();
    let (out, _, _) = converse(Hl7Dissector, &flow(), &msgs);
    let rejected: Vec<_> =
        attrs(&out).into_iter().filter(|a| a.1 == "hl7_rejected").map(|a| (a.0, a.2)).collect();
    assert_eq!(
        rejected,
        [
            (SENDER.into(), "AR ORU^R01".into()),
            (SENDER.into(), "AE ADT^A01".into()),
            (SENDER.into(), "CR".into())
        ]
    );
    no_patient_data(&out);
}

#[test]
fn a_message_larger_than_the_pending_cap_streams_through() {
    // An ORU carrying a 200 KiB encapsulated PDF in OBX-5 (ED type), then a second message.
    let pdf = "JVBERi0xLjQK".repeat(200 << 10 >> 4);
    let big = mllp(&[
        r"MSH|^~\&|REPORTS|CARDIO|CIS|HOSP|20240101||ORU^R01|B1|P|2.5",
        "PID|||PAT-556677||GRUBER^ANNA",
        &format!("OBX|1|ED|PDF^Report||^application^pdf^Base64^{pdf}||||||F|||||||ECG-CART-7^^^"),
    ]);
    let mut stream = big.clone();
    stream.extend(mllp(&[r"MSH|^~\&|REPORTS|CARDIO|CIS|HOSP|20240101||MDM^T02|B2|P|2.5"]));
    let msgs: Vec<(Direction, &[u8])> = stream.chunks(1448).map(|c| (ToResponder, c)).collect();
    let (out, proto, stats) = converse(Hl7Dissector, &flow(), &msgs);
    assert_eq!(proto, Some("hl7"));
    assert_eq!(stats.pending_cap_hits, 0, "{stats:?}");
    assert!(stats.malformed.is_empty());
    assert!(has(&out, SENDER, "hl7_message", "MDM^T02"), "the message after the big one is read");
    // The overlong OBX is skipped unread: its OBX-18 is not reported, its patient data is.
    assert!(!attrs(&out).iter().any(|a| a.1 == "device_id"));
    assert_eq!(cleartexts(&out, "hl7"), [(SENDER.into(), true), (RECEIVER.into(), true)]);
    assert!(!serde_json::to_string(&out).unwrap().contains("JVBER"));
}

#[test]
fn resynchronises_after_a_gap() {
    let reg = Registry::empty().with(Box::new(Hl7Dissector));
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    let first = adt();
    let c = flow();
    fd.on_stream(&reg, &c, ToResponder, &first[..120], &mut out, &mut st);
    fd.on_gap(ToResponder, 500, &mut st);
    // The tail of a lost message, then a whole one.
    let mut next = b"PV1|1|I|ICU\r\x1c\r".to_vec();
    next.extend(mllp(&[r"MSH|^~\&|PACS|RAD|RIS|RAD|20240101||ORM^O01|7|P|2.4"]));
    fd.on_stream(&reg, &c, ToResponder, &next, &mut out, &mut st);
    fd.on_end(&c, &mut out, &mut st);
    assert_eq!(st.gave_up_at_gap, 0);
    assert!(st.malformed.is_empty(), "{st:?}");
    assert!(has(&out, SENDER, "hl7_message", "ADT^A01"));
    assert!(has(&out, SENDER, "hl7_message", "ORM^O01"));
}

#[test]
fn malformed_framing() {
    // A frame that does not open with a header.
    let mut s = adt();
    s.extend(b"\x0bPID|1||X\r\x1c\r");
    let (_, _, stats) = converse(Hl7Dissector, &flow(), &[(ToResponder, &s)]);
    assert_eq!(stats.malformed.get("hl7"), Some(&1));
    // A header that never ends.
    let mut s = b"\x0bMSH|^~\\&|".to_vec();
    s.extend(vec![b'A'; MAX_HEADER + 10]);
    let (_, _, stats) = converse(Hl7Dissector, &flow(), &[(ToResponder, &s)]);
    assert_eq!(stats.malformed.get("hl7"), Some(&1));
    // A second header with a letter as field separator.
    let mut s = adt();
    s.extend(b"\x0bMSHA^~\\&A\r\x1c\r");
    let (_, _, stats) = converse(Hl7Dissector, &flow(), &[(ToResponder, &s)]);
    assert_eq!(stats.malformed.get("hl7"), Some(&1));
    // Truncated mid-message: what was read stands, nothing breaks.
    let s = adt();
    let (out, _, stats) = converse(Hl7Dissector, &flow(), &[(ToResponder, &s[..s.len() / 2])]);
    assert!(stats.malformed.is_empty());
    assert!(has(&out, SENDER, "hl7_message", "ADT^A01"));
    no_patient_data(&out);
}

#[test]
fn probe() {
    let d = Hl7Dissector;
    assert_eq!(d.probe(ToResponder, &adt()), Probe::Match);
    assert_eq!(d.probe(ToResponder, b"\x0bMSH|^~\\&|"), Probe::Match);
    assert_eq!(d.probe(ToResponder, b"\x0bFHS|^~\\&|"), Probe::Match);
    assert_eq!(d.probe(ToResponder, b"\x0bMS"), Probe::NeedMore);
    assert_eq!(d.probe(ToResponder, b""), Probe::NeedMore);
    assert_eq!(d.probe(ToResponder, b"MSH|^~\\&|"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, b"\x0bMSX|^~"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, b"\x0bMSH1^~\\&"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, b"\x0bMSH||~\\&"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, &[0x16, 3, 1, 0, 200, 1]), Probe::NoMatch);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..400), b in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..400) {
        let mut s = adt();
        s.extend(&a);
        let cut = cut.min(s.len());
        converse(Hl7Dissector, &flow(), &[(ToResponder, &s[..cut]), (ToInitiator, &b), (ToResponder, &s[cut..]), (ToInitiator, &a)]);
        // Random bytes inside a message's segments.
        let mut inner = b"\x0bMSH|^~\\&|A|B|C|D|1||ORU^R01|1|P|2.6\r".to_vec();
        inner.extend(&b);
        converse(Hl7Dissector, &flow(), &[(ToResponder, &inner)]);
    }
}

/// The bytes python-hl7 0.4.5's `MLLPClient.send_message` put on a loopback socket (captured
/// with a recording server): every segment, the last too, ends with `\r` before `\x1c\r`.
#[test]
fn python_hl7_client_bytes() {
    let sent = b"\x0bMSH|^~\\&|GW|ICU|LIS|LAB|20240101||ORU^R01|X1|P|2.6\rPID|||123||DOE^JOHN\rOBX|1|NM|X||5||||||R|||||||DEV1^^ACDE^EUI-64\r\x1c\r";
    let answer = b"\x0bMSH|^~\\&|LIS|LAB|GW|ICU|20240101||ACK^R01|A1|P|2.6\rMSA|AA|X1\x1c\r";
    let (out, _, stats) =
        converse(Hl7Dissector, &flow(), &[(ToResponder, sent), (ToInitiator, answer), (ToResponder, sent)]);
    assert!(stats.malformed.is_empty());
    assert!(has(&out, SENDER, "hl7_application", "GW"));
    assert!(has(&out, SENDER, "device_id", "DEV1^^ACDE^EUI-64"));
    assert!(has(&out, RECEIVER, "role", "HL7 receiver"));
    assert!(has(&out, RECEIVER, "hl7_message", "ACK^R01"));
    assert!(!serde_json::to_string(&out).unwrap().contains("DOE"));
}

#[test]
fn nth_separator_matches_a_plain_count() {
    let seg = b"OBX|1|NM|150456^MDC^MDC|1.3.1|97|%||||R|||20240613||||0012A3^^0012A3^EUI-64|x|";
    for n in 0..25 {
        let plain = seg.iter().enumerate().filter(|(_, b)| **b == b'|').nth(n.max(1) - 1).map(|(i, _)| i);
        assert_eq!(parser::nth(seg, b'|', n), if n == 0 { None } else { plain }, "{n}");
    }
    for n in 0..30 {
        let plain: &[u8] = seg.split(|b| *b == b'|').nth(n).unwrap_or_default();
        assert_eq!(parser::field(seg, b'|', n), plain, "{n}");
    }
}
