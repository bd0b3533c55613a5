//! DICOM parsing throughput over a reassembled stream: storescu-like associations, each
//! storing one CT image (~600 KiB with pixel data) in P-DATA PDUs of 16 KiB, delivered in
//! 1448-byte segments through the public session API, honouring `Consumed(n)` as the flow
//! code does (unconsumed bytes are kept and offered again with the next segment).
//!
//! Most of a C-STORE is pixel data, which the dissector skips by its length; the second case
//! is the opposite: a worklist query answered with 200 small data sets, where nearly every
//! byte is a PDU, PDV, command or element header that must be read.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_core::{Direction, Endpoint, IpProto, Timestamp, Vlans};
use ward_dissect::dicom::DicomDissector;
use ward_dissect::{Dissector, Emitter, FlowContext, Parsed};
use ward_gen::dicom::{element, explicit_element, item, pdata, pdu};

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const EXPLICIT: &str = "1.2.840.10008.1.2.1";

fn associate(kind: u8, pc: Vec<u8>) -> Vec<u8> {
    let mut b = vec![0, 1, 0, 0];
    b.extend(*b"STORESCP        CT01            ");
    b.extend([0; 32]);
    b.extend(item(0x10, b"1.2.840.10008.3.1.1.1"));
    b.extend(pc);
    let mut ui = item(0x51, &16384u32.to_be_bytes());
    ui.extend(item(0x52, b"1.2.276.0.7230010.3.0.3.6.7"));
    ui.extend(item(0x55, b"OFFIS_DCMTK_367"));
    b.extend(item(0x50, &ui));
    pdu(kind, &b)
}

/// One association's two directions.
fn association() -> (Vec<u8>, Vec<u8>) {
    let mut pc = vec![1, 0, 0, 0];
    pc.extend(item(0x30, CT.as_bytes()));
    pc.extend(item(0x40, EXPLICIT.as_bytes()));
    let mut to_responder = associate(1, item(0x20, &pc));
    let mut acc = vec![1, 0, 0, 0];
    acc.extend(item(0x40, EXPLICIT.as_bytes()));
    let mut to_initiator = associate(2, item(0x21, &acc));

    let mut cmd = element(0, 0x0002, b"1.2.840.10008.5.1.4.1.1.2\0");
    cmd.extend(element(0, 0x0100, &1u16.to_le_bytes()));
    cmd.extend(element(0, 0x0110, &1u16.to_le_bytes()));
    cmd.extend(element(0, 0x0800, &0u16.to_le_bytes()));
    to_responder.extend(pdata(&[(1, 3, &cmd)]));

    let mut ds = Vec::new();
    ds.extend(explicit_element(false, 8, 0x16, b"UI", b"1.2.840.10008.5.1.4.1.1.2\0"));
    ds.extend(explicit_element(false, 8, 0x18, b"UI", b"1.2.826.0.1.3680043.2.1125.1.42\0"));
    ds.extend(explicit_element(false, 8, 0x20, b"DA", b"20240101"));
    ds.extend(explicit_element(false, 8, 0x60, b"CS", b"CT"));
    ds.extend(explicit_element(false, 8, 0x70, b"LO", b"SIEMENS "));
    ds.extend(explicit_element(false, 8, 0x1010, b"SH", b"CTAWP91234"));
    ds.extend(explicit_element(false, 8, 0x1090, b"LO", b"SOMATOM Definition AS "));
    ds.extend(explicit_element(false, 0x10, 0x10, b"PN", b"DOE^JANE"));
    ds.extend(explicit_element(false, 0x10, 0x20, b"LO", b"MRN-4451"));
    ds.extend(explicit_element(false, 0x18, 0x1000, b"LO", b"48213 "));
    ds.extend(explicit_element(false, 0x18, 0x1020, b"LO", b"syngo CT 2012B"));
    ds.extend(explicit_element(false, 0x20, 0x0D, b"UI", b"1.2.3.4.5.6\0"));
    ds.extend(explicit_element(false, 0x28, 0x10, b"US", &512u16.to_le_bytes()));
    ds.extend(explicit_element(false, 0x28, 0x11, b"US", &600u16.to_le_bytes()));
    let pixels: Vec<u8> = (0..512 * 600 * 2).map(|i| (i % 253) as u8).collect();
    ds.extend(explicit_element(false, 0x7FE0, 0x10, b"OW", &pixels));
    // PDUs of 16 KiB: a PDV of 16384 - 6 payload bytes each.
    let chunks: Vec<&[u8]> = ds.chunks(16384 - 6).collect();
    for (i, c) in chunks.iter().enumerate() {
        to_responder.extend(pdata(&[(1, if i + 1 == chunks.len() { 2 } else { 0 }, c)]));
    }
    let mut rsp = element(0, 0x0002, b"1.2.840.10008.5.1.4.1.1.2\0");
    rsp.extend(element(0, 0x0100, &0x8001u16.to_le_bytes()));
    rsp.extend(element(0, 0x0120, &1u16.to_le_bytes()));
    rsp.extend(element(0, 0x0800, &0x0101u16.to_le_bytes()));
    rsp.extend(element(0, 0x0900, &0u16.to_le_bytes()));
    to_initiator.extend(pdata(&[(1, 3, &rsp)]));
    to_responder.extend(pdu(5, &[0; 4]));
    to_initiator.extend(pdu(6, &[0; 4]));
    (to_responder, to_initiator)
}

/// A Modality Worklist association: one C-FIND-RQ answered with `items` pending responses
/// of about 300 bytes each (command and data set in one P-DATA PDU), then success.
fn worklist(items: usize) -> (Vec<u8>, Vec<u8>) {
    const MWL: &str = "1.2.840.10008.5.1.4.31";
    const IMPLICIT: &str = "1.2.840.10008.1.2";
    let mut pc = vec![1, 0, 0, 0];
    pc.extend(item(0x30, MWL.as_bytes()));
    pc.extend(item(0x40, IMPLICIT.as_bytes()));
    let mut to_responder = associate(1, item(0x20, &pc));
    let mut acc = vec![1, 0, 0, 0];
    acc.extend(item(0x40, IMPLICIT.as_bytes()));
    let mut to_initiator = associate(2, item(0x21, &acc));
    let command = |field: u16, status: Option<u16>, dataset: bool| {
        let mut c = element(0, 0x0002, b"1.2.840.10008.5.1.4.31\0");
        c.extend(element(0, 0x0100, &field.to_le_bytes()));
        c.extend(element(0, if status.is_some() { 0x0120 } else { 0x0110 }, &7u16.to_le_bytes()));
        c.extend(element(0, 0x0800, &(if dataset { 0x0000u16 } else { 0x0101 }).to_le_bytes()));
        if let Some(s) = status {
            c.extend(element(0, 0x0900, &s.to_le_bytes()));
        }
        c
    };
    let mut query = element(8, 0x50, b"");
    query.extend(element(0x10, 0x10, b""));
    query.extend(element(0x10, 0x20, b""));
    to_responder.extend(pdata(&[(1, 3, &command(0x0020, None, true)), (1, 2, &query)]));
    for i in 0..items {
        let mut ds = element(8, 0x50, format!("ACC{i:07}").as_bytes());
        ds.extend(element(8, 0x90, b"REFERRING^DOCTOR"));
        ds.extend(element(0x10, 0x10, b"DOE^JANE"));
        ds.extend(element(0x10, 0x20, format!("MRN{i:06}").as_bytes()));
        ds.extend(element(0x10, 0x30, b"19700101"));
        ds.extend(element(0x10, 0x40, b"F "));
        ds.extend(element(0x20, 0x0D, b"1.2.826.0.1.3680043.2.1125.1.4242424242\0"));
        ds.extend(element(0x32, 0x1060, b"CT CHEST WITH CONTRAST "));
        ds.extend(element(0x40, 0x1001, format!("RP{i:06}").as_bytes()));
        to_initiator.extend(pdata(&[(1, 3, &command(0x8020, Some(0xFF00), true)), (1, 2, &ds)]));
    }
    to_initiator.extend(pdata(&[(1, 3, &command(0x8020, Some(0x0000), false))]));
    to_responder.extend(pdu(5, &[0; 4]));
    to_initiator.extend(pdu(6, &[0; 4]));
    (to_responder, to_initiator)
}

/// Feeds one direction in segments, keeping what the session leaves unconsumed.
fn feed(
    session: &mut dyn ward_dissect::Session,
    ctx: &FlowContext,
    dir: Direction,
    bytes: &[u8],
    pending: &mut Vec<u8>,
    out: &mut Vec<ward_core::Observation>,
) {
    for seg in bytes.chunks(1448) {
        let mut emitter = Emitter::new(out, 256);
        let r = if pending.is_empty() {
            let r = session.parse(ctx, dir, seg, &mut emitter);
            if let Parsed::Consumed(n) = r {
                pending.extend_from_slice(&seg[n.min(seg.len())..]);
            }
            r
        } else {
            pending.extend_from_slice(seg);
            let r = session.parse(ctx, dir, pending, &mut emitter);
            if let Parsed::Consumed(n) = r {
                pending.drain(..n.min(pending.len()));
            }
            r
        };
        if !matches!(r, Parsed::Consumed(_)) {
            return;
        }
    }
}

/// An association's two directions in conversation order: the request, the acceptance, what
/// the initiator sends, what the responder answers, the release request and reply.
fn in_order<'a>(up: &'a [u8], down: &'a [u8]) -> [(Direction, &'a [u8]); 5] {
    let rq_len = 6 + u32::from_be_bytes([up[2], up[3], up[4], up[5]]) as usize;
    let ac_len = 6 + u32::from_be_bytes([down[2], down[3], down[4], down[5]]) as usize;
    let release_at = up.len() - 10;
    [
        (Direction::ToResponder, &up[..rq_len]),
        (Direction::ToInitiator, &down[..ac_len]),
        (Direction::ToResponder, &up[rq_len..release_at]),
        (Direction::ToInitiator, &down[ac_len..]),
        (Direction::ToResponder, &up[release_at..]),
    ]
}

/// One association through a new session.
fn converse(
    ctx: &FlowContext,
    steps: &[(Direction, &[u8])],
    out: &mut Vec<ward_core::Observation>,
    pending: &mut [Vec<u8>; 2],
) {
    let mut s = DicomDissector.start();
    pending[0].clear();
    pending[1].clear();
    for &(dir, bytes) in steps {
        feed(s.as_mut(), ctx, dir, bytes, &mut pending[dir.index()], out);
    }
}

fn bench(c: &mut Criterion) {
    let ep = |a: [u8; 4], port| Endpoint { ip: IpAddr::V4(Ipv4Addr::from(a)), port, mac: None };
    let ctx = FlowContext {
        ts: Timestamp::from_secs(1),
        uid: 1,
        vlans: Vlans::default(),
        proto: IpProto::TCP,
        initiator: ep([10, 7, 0, 31], 50412),
        responder: ep([10, 7, 0, 5], 11112),
    };
    let (up, down) = association();
    let steps = in_order(&up, &down);
    let run = |out: &mut Vec<ward_core::Observation>, pending: &mut [Vec<u8>; 2]| {
        converse(&ctx, &steps, out, pending);
    };
    const ASSOCIATIONS: usize = 8;
    let total = (up.len() + down.len()) * ASSOCIATIONS;
    let mut g = c.benchmark_group("dicom");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("c_store_ct_1448_byte_segments", |b| {
        let mut out = Vec::with_capacity(64);
        let mut pending = [Vec::with_capacity(4096), Vec::with_capacity(4096)];
        b.iter(|| {
            for _ in 0..ASSOCIATIONS {
                out.clear();
                run(&mut out, &mut pending);
                black_box(&out);
            }
        })
    });

    // The worklist: the request, the acceptance, the query, 200 answers, the release.
    let (wup, wdown) = worklist(200);
    let wsteps = in_order(&wup, &wdown);
    let wrun = |out: &mut Vec<ward_core::Observation>, pending: &mut [Vec<u8>; 2]| {
        converse(&ctx, &wsteps, out, pending);
    };
    g.throughput(Throughput::Bytes((wup.len() + wdown.len()) as u64));
    g.bench_function("worklist_200_answers_1448_byte_segments", |b| {
        let mut out = Vec::with_capacity(64);
        let mut pending = [Vec::with_capacity(4096), Vec::with_capacity(4096)];
        b.iter(|| {
            out.clear();
            wrun(&mut out, &mut pending);
            black_box(&out);
        })
    });
    g.finish();
    let mut out = Vec::new();
    wrun(&mut out, &mut [Vec::new(), Vec::new()]);
    assert!(format!("{out:?}").contains("DICOM worklist SCP"), "the worklist is read: {out:?}");
    assert!(!format!("{out:?}").contains("DOE") && !format!("{out:?}").contains("MRN"));

    // Sanity: the association reads as it should.
    let mut out = Vec::new();
    run(&mut out, &mut [Vec::new(), Vec::new()]);
    assert!(out.iter().any(|o| format!("{o:?}").contains("SOMATOM")), "the bench data is read");
    assert!(!format!("{out:?}").contains("DOE"));
    assert!(format!("{out:?}").contains("DCMTK 3.6.7"));
}

criterion_group!(benches, bench);
criterion_main!(benches);
