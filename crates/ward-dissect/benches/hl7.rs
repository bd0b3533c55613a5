//! HL7 parsing throughput over a reassembled stream (W3 asks for 1 GB/s per core).
//!
//! A realistic conversation of about 8 MB: admissions (ADT^A01 with PID, PV1, NK1, AL1) and
//! IHE PCD-01 reports from a patient monitor gateway (ORU^R01, 40 OBX rows naming the monitor
//! in OBX-18) going one way, orders (ORM^O01) the other way, and the acknowledgements both
//! ways, each message in MLLP framing. It is cut into 1448-byte TCP segments and fed through
//! the public API as the flow code does: bytes a parse leaves unconsumed are kept and offered
//! again in front of the next segment.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_core::{Direction, Endpoint, IpProto, Timestamp, Vlans};
use ward_dissect::hl7::Hl7Dissector;
use ward_dissect::{Dissector, Emitter, FlowContext, OBSERVATIONS_PER_FLOW, Parsed};

const MSS: usize = 1448;

fn mllp(segments: &[String]) -> Vec<u8> {
    let mut v = vec![0x0b];
    for s in segments {
        v.extend_from_slice(s.as_bytes());
        v.push(b'\r');
    }
    v.extend_from_slice(b"\x1c\r");
    v
}

fn msh(from: &str, to: &str, ty: &str, id: usize, extra: &str) -> String {
    format!(
        r"MSH|^~\&|{from}|{to}|20240613{:06}.{:03}+0200||{ty}|{id:010}|P|2.6|||AL|NE||UNICODE UTF-8|||{extra}",
        id % 235959,
        id % 1000
    )
}

fn ack(from: &str, to: &str, id: usize) -> Vec<u8> {
    mllp(&[msh(from, to, "ACK^R01^ACK", id + 1_000_000, ""), format!("MSA|AA|{id:010}")])
}

fn adt(id: usize) -> Vec<u8> {
    mllp(&[
        msh("EPIC^1.2.840.114350^ISO|NORTH_CAMPUS", "LAB_IF|NORTH_LAB", "ADT^A01^ADT_A01", id, ""),
        format!("EVN|A01|20240613083617|||U{id}^NURSE^ANNA"),
        format!(
            "PID|1||{id:08}^^^NORTH^MR~{:09}^^^SSA^SS||GRUBER^ANNA^MARIA^^^^L||19480321|F|||Hauptstrasse {}^^Wien^^1010^AT||(01)555-0199^PRN^PH|||M||{id:08}",
            id * 7,
            id % 90
        ),
        "PD1|||NORTH CAMPUS^^1234|5678^HUBER^KARL^^^DR".to_owned(),
        "NK1|1|GRUBER^JOSEF|SPO^Spouse|Hauptstrasse 5^^Wien^^1010||(01)555-0198".to_owned(),
        format!(
            "PV1|1|I|ICU^12^B^NORTH||||5678^HUBER^KARL^^^DR|||MED||||1|||5678^HUBER^KARL^^^DR|IP|V{id:08}|||||||||||||||||||||||||20240613083000"
        ),
        "PV2|||^Chest pain".to_owned(),
        "AL1|1|DA|^Penicillin|SV|Anaphylaxis".to_owned(),
        "AL1|2|FA|^Peanuts|MO|Rash".to_owned(),
        "DG1|1||I21.9^Acute myocardial infarction^I10||20240613|A".to_owned(),
    ])
}

fn oru(id: usize) -> Vec<u8> {
    let mut segs = vec![
        msh(
            "MONITOR_GW^ACDE48234567ABCD^EUI-64|ICU_EAST",
            "CIS|HOSPITAL",
            "ORU^R01^ORU_R01",
            id,
            "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        ),
        format!("PID|||{id:08}^^^NORTH^MR||GRUBER^ANNA^MARIA^^^^L||19480321|F"),
        "PV1||I|ICU^12^B".to_owned(),
        format!(
            "OBR|1|{id}^MONITOR_GW^ACDE48234567ABCD^EUI-64|{id}^MONITOR_GW^ACDE48234567ABCD^EUI-64|182777000^monitoring of patient^SNOMED-CT|||20240613083700+0200"
        ),
    ];
    segs.push("OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||0012A3FFFE44B5C6^^0012A3FFFE44B5C6^EUI-64".to_owned());
    for i in 2..=40 {
        let (code, unit) = match i % 5 {
            0 => ("150456^MDC_PULS_OXIM_SAT_O2^MDC", "262688^MDC_DIM_PERCENT^MDC"),
            1 => ("147842^MDC_ECG_HEART_RATE^MDC", "264864^MDC_DIM_BEAT_PER_MIN^MDC"),
            2 => ("150037^MDC_PRESS_BLD_ART_ABP_SYS^MDC", "266016^MDC_DIM_MMHG^MDC"),
            3 => ("151562^MDC_RESP_RATE^MDC", "264928^MDC_DIM_RESP_PER_MIN^MDC"),
            _ => ("150344^MDC_TEMP^MDC", "268192^MDC_DIM_DEGC^MDC"),
        };
        segs.push(format!(
            "OBX|{i}|NM|{code}|1.1.{}.{i}|{}.{}|{unit}|||||R|||20240613083700+0200||||0012A3FFFE44B5C6^^0012A3FFFE44B5C6^EUI-64",
            i / 5,
            60 + (id + i) % 40,
            (id * i) % 10
        ));
    }
    mllp(&segs)
}

fn orm(id: usize) -> Vec<u8> {
    mllp(&[
        msh("CPOE|NORTH_CAMPUS", "MONITOR_GW|ICU_EAST", "ORM^O01^ORM_O01", id, ""),
        format!("PID|||{id:08}^^^NORTH^MR||GRUBER^ANNA^MARIA^^^^L||19480321|F"),
        "PV1||I|ICU^12^B".to_owned(),
        format!("ORC|NW|{id}^CPOE|||||^^^20240613090000^^R||20240613083800|5678^HUBER^KARL"),
        format!(
            "OBR|1|{id}^CPOE||85354-9^Blood pressure panel^LN|||20240613083800||||||||||||||||||||^^^20240613090000^^R"
        ),
        "NTE|1||Repeat every 15 minutes".to_owned(),
    ])
}

/// The conversation: (direction, message bytes) in the order sent.
fn conversation(target: usize) -> (Vec<(Direction, Vec<u8>)>, usize) {
    use Direction::*;
    let (mut out, mut total, mut id) = (Vec::new(), 0, 1);
    while total < target {
        for (dir, msg) in [
            (ToResponder, adt(id)),
            (ToInitiator, ack("LAB_IF|NORTH_LAB", "EPIC|NORTH_CAMPUS", id)),
            (ToResponder, oru(id + 1)),
            (ToInitiator, ack("CIS|HOSPITAL", "MONITOR_GW|ICU_EAST", id + 1)),
            (ToInitiator, orm(id + 2)),
            (ToResponder, ack("MONITOR_GW|ICU_EAST", "CPOE|NORTH_CAMPUS", id + 2)),
        ] {
            total += msg.len();
            out.push((dir, msg));
        }
        id += 3;
    }
    (out, total)
}

fn ctx() -> FlowContext {
    let ep = |a: [u8; 4], port| Endpoint { ip: IpAddr::V4(Ipv4Addr::from(a)), port, mac: None };
    FlowContext {
        ts: Timestamp::from_secs(1),
        uid: 1,
        vlans: Vlans::default(),
        proto: IpProto::TCP,
        initiator: ep([10, 3, 0, 155], 49242),
        responder: ep([10, 3, 0, 126], 2575),
    }
}

/// Feeds the conversation as the flow code does; returns the observations made.
fn run(conv: &[(Direction, Vec<u8>)], ctx: &FlowContext, out: &mut Vec<ward_core::Observation>) -> usize {
    let mut session = Hl7Dissector.start();
    let mut pending: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut room = OBSERVATIONS_PER_FLOW;
    out.clear();
    for (dir, msg) in conv {
        let d = dir.index();
        for seg in msg.chunks(MSS) {
            let mut emitter = Emitter::new(out, room);
            let buf = &mut pending[d];
            let r = if buf.is_empty() {
                let r = session.parse(ctx, *dir, seg, &mut emitter);
                if let Parsed::Consumed(n) = r {
                    buf.extend_from_slice(seg.get(n..).unwrap_or_default());
                }
                r
            } else {
                buf.extend_from_slice(seg);
                let r = session.parse(ctx, *dir, buf, &mut emitter);
                if let Parsed::Consumed(n) = r {
                    buf.drain(..n.min(buf.len()));
                }
                r
            };
            room = emitter.room();
            assert!(matches!(r, Parsed::Consumed(_)), "{r:?}");
        }
    }
    session.end(ctx, &mut Emitter::new(out, room));
    out.len()
}

fn bench(c: &mut Criterion) {
    let (conv, total) = conversation(8 << 20);
    let ctx = ctx();
    let mut out = Vec::new();
    let made = run(&conv, &ctx, &mut out);
    // The stream is understood, not merely skipped.
    assert!(made >= 10, "{made} observations");
    let mut g = c.benchmark_group("hl7");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("mllp_stream_1448", |b| b.iter(|| black_box(run(black_box(&conv), &ctx, &mut out))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
