//! The messages are built as DCMTK 3.6.7 (`echoscu`, `storescu`, `findscu`) and pynetdicom
//! send them: PS3.8 section 9.3 for the PDUs, PS3.7 section 9.3 for the command sets,
//! PS3.5 section 7 for the data sets.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use ward_core::{Direction::*, IpProto, Observation, ObservationKind};
use ward_gen::dicom::{ae, element, explicit_element, item, pdata, pdu};

use super::*;

use crate::testutil::{attrs, cleartext_evidence, converse, credentials, ctx, has, value};

const VERIFICATION: &str = "1.2.840.10008.1.1";
const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const MR: &str = "1.2.840.10008.5.1.4.1.1.4";
const US: &str = "1.2.840.10008.5.1.4.1.1.6.1";
const MWL: &str = "1.2.840.10008.5.1.4.31";
const STUDY_FIND: &str = "1.2.840.10008.5.1.4.1.2.2.1";
const IMPLICIT: &str = "1.2.840.10008.1.2";
const EXPLICIT: &str = "1.2.840.10008.1.2.1";
const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";
const DEFLATED: &str = "1.2.840.10008.1.2.1.99";
const DCMTK_UID: &str = "1.2.276.0.7230010.3.0.3.6.7";
const DCMTK_VERSION: &str = "OFFIS_DCMTK_367";

fn flow() -> crate::FlowContext {
    ctx(IpProto::TCP, [10, 7, 0, 31], 50412, [10, 7, 0, 5], 11112)
}

fn uid(u: &str) -> Vec<u8> {
    let mut v = u.as_bytes().to_vec();
    // UIDs are padded to even length with a NUL.
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// User information as DCMTK sends it: max length 16384, class UID, version name, plus extras.
fn user_info(class_uid: &str, version: &str, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut ui = item(0x51, &16384u32.to_be_bytes());
    ui.extend(item(0x52, class_uid.as_bytes()));
    for e in extra {
        ui.extend(e);
    }
    ui.extend(item(0x55, version.as_bytes()));
    item(0x50, &ui)
}

fn associate(kind: u8, called: &str, calling: &str, items: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![0, 1, 0, 0];
    b.extend(ae(called));
    b.extend(ae(calling));
    b.extend([0; 32]);
    b.extend(item(0x10, b"1.2.840.10008.3.1.1.1"));
    for i in items {
        b.extend(i);
    }
    pdu(kind, &b)
}

fn rq(called: &str, calling: &str, contexts: &[(u8, &str, &[&str])], user: Vec<u8>) -> Vec<u8> {
    let mut items = Vec::new();
    for (id, abs, tss) in contexts {
        let mut pc = vec![*id, 0, 0, 0];
        pc.extend(item(0x30, abs.as_bytes()));
        for t in *tss {
            pc.extend(item(0x40, t.as_bytes()));
        }
        items.push(item(0x20, &pc));
    }
    items.push(user);
    associate(0x01, called, calling, &items)
}

fn ac(called: &str, calling: &str, contexts: &[(u8, u8, &str)], user: Vec<u8>) -> Vec<u8> {
    let mut items = Vec::new();
    for (id, result, ts) in contexts {
        let mut pc = vec![*id, 0, *result, 0];
        pc.extend(item(0x40, ts.as_bytes()));
        items.push(item(0x21, &pc));
    }
    items.push(user);
    associate(0x02, called, calling, &items)
}

/// A command set with its group length first, as DCMTK writes it.
fn command(sop: &str, field: u16, message_id: u16, dataset: bool, status: Option<u16>) -> Vec<u8> {
    let mut body = element(0, 0x0002, &uid(sop));
    body.extend(element(0, 0x0100, &field.to_le_bytes()));
    if field & 0x8000 == 0 {
        body.extend(element(0, 0x0110, &message_id.to_le_bytes()));
    } else {
        body.extend(element(0, 0x0120, &message_id.to_le_bytes()));
    }
    body.extend(element(0, 0x0800, &(if dataset { 0x0000u16 } else { 0x0101 }).to_le_bytes()));
    if let Some(s) = status {
        body.extend(element(0, 0x0900, &s.to_le_bytes()));
    }
    let mut c = element(0, 0, &(body.len() as u32).to_le_bytes());
    c.extend(body);
    c
}

fn pad(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(b' ');
    }
    v
}

const PATIENT_NAME: &str = "DOE^JANE^Q";
const PATIENT_ID: &str = "MRN-4451-778";
const BIRTH_DATE: &str = "19610423";

/// A CT-like data set, as storescu sends a file made with dump2dcm: identity, patient,
/// a sequence holding a decoy station name, and pixel data of `pixels` bytes.
fn ct_dataset(syntax: &str, pixels: usize) -> Vec<u8> {
    let be = syntax == EXPLICIT_BE;
    let e = |g: u16, el_: u16, vr: &[u8; 2], v: &[u8]| {
        if syntax == IMPLICIT { element(g, el_, v) } else { explicit_element(be, g, el_, vr, v) }
    };
    let mut d = Vec::new();
    d.extend(e(0x0008, 0x0016, b"UI", &uid(CT)));
    d.extend(e(0x0008, 0x0018, b"UI", &uid("1.2.826.0.1.3680043.2.1125.1.42")));
    d.extend(e(0x0008, 0x0060, b"CS", &pad("CT")));
    d.extend(e(0x0008, 0x0070, b"LO", &pad("SIEMENS")));
    d.extend(e(0x0008, 0x0080, b"LO", &pad("St Elsewhere Hospital")));
    d.extend(e(0x0008, 0x1010, b"SH", &pad("CTAWP91234")));
    d.extend(e(0x0008, 0x1040, b"LO", &pad("Radiology")));
    d.extend(e(0x0008, 0x1090, b"LO", &pad("SOMATOM Definition AS")));
    // Referenced Study Sequence, undefined length, with a station name inside: not read.
    let mut item_body = e(0x0008, 0x1150, b"UI", &uid("1.2.3"));
    item_body.extend(e(0x0008, 0x1010, b"SH", &pad("DECOY")));
    let w16 = |x: u16| if be { x.to_be_bytes() } else { x.to_le_bytes() };
    let w32 = |x: u32| if be { x.to_be_bytes() } else { x.to_le_bytes() };
    let mut sq = w16(0x0008).to_vec();
    sq.extend(w16(0x1110));
    if syntax != IMPLICIT {
        sq.extend(b"SQ\0\0");
    }
    sq.extend(w32(0xFFFF_FFFF));
    // An undefined-length item, then a defined-length one.
    sq.extend(w16(0xFFFE));
    sq.extend(w16(0xE000));
    sq.extend(w32(0xFFFF_FFFF));
    sq.extend(&item_body);
    sq.extend(w16(0xFFFE));
    sq.extend(w16(0xE00D));
    sq.extend(w32(0));
    sq.extend(w16(0xFFFE));
    sq.extend(w16(0xE000));
    sq.extend(w32(item_body.len() as u32));
    sq.extend(&item_body);
    sq.extend(w16(0xFFFE));
    sq.extend(w16(0xE0DD));
    sq.extend(w32(0));
    d.extend(sq);
    d.extend(e(0x0010, 0x0010, b"PN", &pad(PATIENT_NAME)));
    d.extend(e(0x0010, 0x0020, b"LO", &pad(PATIENT_ID)));
    d.extend(e(0x0010, 0x0030, b"DA", &pad(BIRTH_DATE)));
    d.extend(e(0x0018, 0x1000, b"LO", &pad("48213")));
    d.extend(e(0x0018, 0x1020, b"LO", &pad("syngo CT 2012B\\VA44A")));
    // A manufacturer after (0018,1020) is never read (and never at this place in real data).
    d.extend(e(0x0020, 0x0010, b"SH", &pad("SIEMENS-LATE")));
    d.extend(e(0x0028, 0x0010, b"US", &w16(512)));
    let pixel: Vec<u8> = (0..pixels).map(|i| (i % 251) as u8).collect();
    d.extend(e(0x7FE0, 0x0010, b"OW", &pixel));
    d
}

/// The data set cut into P-DATA PDUs of at most `max` payload bytes per PDV, the last one
/// flagged.
fn dataset_pdus(pc: u8, data: &[u8], max: usize) -> Vec<u8> {
    let chunks: Vec<&[u8]> = data.chunks(max).collect();
    let mut out = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let mch = if i + 1 == chunks.len() { 2 } else { 0 };
        out.extend(pdata(&[(pc, mch, c)]));
    }
    out
}

fn release() -> Vec<(Direction, Vec<u8>)> {
    vec![(ToResponder, pdu(0x05, &[0; 4])), (ToInitiator, pdu(0x06, &[0; 4]))]
}

/// storescu's association for one CT image in `syntax`, with a C-STORE-RSP of `status`.
fn store_conversation(syntax: &str, pixels: usize, status: u16) -> Vec<(Direction, Vec<u8>)> {
    let mut c = vec![
        (
            ToResponder,
            rq(
                "STORESCP",
                "CT01",
                &[(1, CT, &[syntax, IMPLICIT]), (3, MR, &[IMPLICIT])],
                user_info(DCMTK_UID, DCMTK_VERSION, &[]),
            ),
        ),
        (
            ToInitiator,
            ac(
                "STORESCP",
                "CT01",
                &[(1, 0, syntax), (3, 3, IMPLICIT)],
                user_info(DCMTK_UID, DCMTK_VERSION, &[]),
            ),
        ),
    ];
    let mut store = pdata(&[(1, 3, &command(CT, 0x0001, 1, true, None))]);
    store.extend(dataset_pdus(1, &ct_dataset(syntax, pixels), 16372));
    c.push((ToResponder, store));
    c.push((ToInitiator, pdata(&[(1, 3, &command(CT, 0x8001, 1, false, Some(status)))])));
    c.extend(release());
    c
}

fn run(conv: &[(Direction, Vec<u8>)]) -> (Vec<Observation>, Option<&'static str>, crate::DissectStats) {
    let msgs: Vec<(Direction, &[u8])> = conv.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    converse(DicomDissector, &flow(), &msgs)
}

/// The same conversation with every message cut into `size`-byte segments.
fn split(conv: &[(Direction, Vec<u8>)], size: usize) -> Vec<(Direction, Vec<u8>)> {
    conv.iter().flat_map(|(d, b)| b.chunks(size).map(move |c| (*d, c.to_vec()))).collect()
}

const INI: &str = "ip:10.7.0.31";
const RSP: &str = "ip:10.7.0.5";

#[test]
fn echo_association() {
    // echoscu -aet ECHOSCU -aec ANY-SCP: Verification in implicit VR LE only.
    let mut c = vec![
        (
            ToResponder,
            rq(
                "ANY-SCP",
                "ECHOSCU",
                &[(1, VERIFICATION, &[IMPLICIT])],
                user_info(DCMTK_UID, DCMTK_VERSION, &[]),
            ),
        ),
        (
            ToInitiator,
            ac(
                "ANY-SCP",
                "ECHOSCU",
                &[(1, 0, IMPLICIT)],
                user_info("1.2.826.0.1.3680043.9.3811.2.0.2", "PYNETDICOM_202", &[]),
            ),
        ),
        (ToResponder, pdata(&[(1, 3, &command(VERIFICATION, 0x0030, 1, false, None))])),
        (ToInitiator, pdata(&[(1, 3, &command(VERIFICATION, 0x8030, 1, false, Some(0)))])),
    ];
    c.extend(release());
    let (out, proto, stats) = run(&c);
    assert_eq!(proto, Some("dicom"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert!(has(&out, INI, "ae_title", "ECHOSCU"));
    assert!(has(&out, RSP, "ae_title", "ANY-SCP"));
    assert!(has(&out, INI, "stack", "DCMTK 3.6.7"));
    assert!(has(&out, INI, "dicom_implementation_uid", DCMTK_UID));
    assert!(has(&out, INI, "dicom_implementation_version", DCMTK_VERSION));
    assert!(has(&out, RSP, "stack", "pynetdicom 2.0.2"));
    assert!(has(&out, INI, "dicom_service", "Verification SCU"));
    assert!(has(&out, RSP, "dicom_service", "Verification SCP"));
    assert!(has(&out, INI, "role", "DICOM client"));
    assert!(has(&out, RSP, "role", "DICOM SCP"));
    assert!(has(&out, RSP, "dicom_transfer_syntax", "Implicit VR Little Endian"));
    assert_eq!(
        cleartext_evidence(&out, "dicom"),
        [(INI.into(), false, "dicom.association".into()), (RSP.into(), false, "dicom.association".into())]
    );
    assert!(value(&out, "dicom_status").is_none());
    let sources: Vec<_> = attrs(&out).into_iter().filter(|a| a.1 == "ae_title").map(|a| a.3).collect();
    assert_eq!(sources, ["dicom.calling_ae", "dicom.called_ae"]);
}

fn check_store(out: &[Observation], stats: &crate::DissectStats) {
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert_eq!(stats.pending_cap_hits, 0);
    assert!(has(out, INI, "role", "CT modality"));
    assert!(has(out, RSP, "role", "DICOM storage SCP"));
    assert!(!has(out, RSP, "role", "PACS"));
    assert!(has(out, INI, "modality", "CT"));
    assert!(has(out, INI, "manufacturer", "SIEMENS"));
    assert!(has(out, INI, "station_name", "CTAWP91234"));
    assert!(has(out, INI, "department", "Radiology"));
    assert!(has(out, INI, "model", "SOMATOM Definition AS"));
    assert!(has(out, INI, "serial", "48213"));
    assert!(has(out, INI, "software_version", "syngo CT 2012B"));
    assert!(has(out, INI, "software_version", "VA44A"));
    assert!(has(out, INI, "dicom_service", "CT Image Storage SCU"));
    assert!(has(out, RSP, "dicom_service", "CT Image Storage SCP"));
    // The rejected MR context is no service.
    assert!(!attrs(out).iter().any(|a| a.2.contains("MR Image")));
    let json = serde_json::to_string(out).unwrap();
    for secret in [PATIENT_NAME, "DOE", PATIENT_ID, BIRTH_DATE, "DECOY", "SIEMENS-LATE", "St Elsewhere"] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
    }
    assert_eq!(
        cleartext_evidence(out, "dicom"),
        [(INI.into(), true, "dicom.dataset".into()), (RSP.into(), true, "dicom.dataset".into())]
    );
}

#[test]
fn ct_store_in_each_syntax() {
    for syntax in [EXPLICIT, IMPLICIT, EXPLICIT_BE, "1.2.840.10008.1.2.4.70"] {
        let (out, _, stats) = run(&store_conversation(syntax, 40_000, 0));
        check_store(&out, &stats);
        assert!(value(&out, "dicom_status").is_none(), "{syntax}");
    }
}

#[test]
fn split_anywhere_and_merged_give_the_same() {
    let conv = store_conversation(EXPLICIT, 3000, 0);
    let (whole, _, _) = run(&conv);
    for size in [1, 2, 3, 5, 7, 11, 13, 1448] {
        let (out, _, stats) = run(&split(&conv, size));
        check_store(&out, &stats);
        assert_eq!(attrs(&out), attrs(&whole), "segments of {size}");
    }
    // Everything of a direction in one segment: several PDUs per segment.
    let mut merged: Vec<(Direction, Vec<u8>)> = Vec::new();
    for (d, b) in conv {
        match merged.last_mut() {
            Some((ld, lb)) if *ld == d => lb.extend(b),
            _ => merged.push((d, b)),
        }
    }
    let (out, _, stats) = run(&merged);
    check_store(&out, &stats);
}

#[test]
fn pdvs_split_anywhere_within_a_pdu() {
    // A command and its data set fragmented in 5-byte PDVs, several per PDU, so that element
    // headers and values break across PDVs.
    let mut c = store_conversation(IMPLICIT, 100, 0);
    let data = ct_dataset(IMPLICIT, 100);
    let cmd = command(CT, 0x0001, 1, true, None);
    let mut pdvs: Vec<(u8, u8, &[u8])> = Vec::new();
    let cmd_chunks: Vec<&[u8]> = cmd.chunks(5).collect();
    for (i, ch) in cmd_chunks.iter().enumerate() {
        pdvs.push((1, if i + 1 == cmd_chunks.len() { 3 } else { 1 }, ch));
    }
    let data_chunks: Vec<&[u8]> = data.chunks(5).collect();
    for (i, ch) in data_chunks.iter().enumerate() {
        pdvs.push((1, if i + 1 == data_chunks.len() { 2 } else { 0 }, ch));
    }
    c[2] = (ToResponder, pdata(&pdvs));
    let (out, _, stats) = run(&c);
    check_store(&out, &stats);
}

#[test]
fn large_pdata_is_streamed_not_held() {
    // One P-DATA PDU of 2 MiB (beyond what the flow would buffer): read as it comes.
    let data = ct_dataset(EXPLICIT, 2 << 20);
    let mut c = store_conversation(EXPLICIT, 10, 0xA700);
    let mut store = pdata(&[(1, 3, &command(CT, 0x0001, 1, true, None))]);
    store.extend(pdata(&[(1, 2, &data)]));
    c[2] = (ToResponder, store);
    let (out, _, stats) = run(&split(&c, 1448));
    check_store(&out, &stats);
    assert_eq!(value(&out, "dicom_status"), Some("C-STORE failure 0xA700 (out of resources)"));
    assert!(attrs(&out).iter().any(|a| a.0 == RSP && a.1 == "dicom_status" && a.3 == "dicom.dimse.status"));
}

#[test]
fn deflated_dataset_is_skipped() {
    let mut c = store_conversation(EXPLICIT, 10, 0);
    c[0] = (
        ToResponder,
        rq("STORESCP", "CT01", &[(1, CT, &[DEFLATED])], user_info(DCMTK_UID, DCMTK_VERSION, &[])),
    );
    c[1] =
        (ToInitiator, ac("STORESCP", "CT01", &[(1, 0, DEFLATED)], user_info(DCMTK_UID, DCMTK_VERSION, &[])));
    let (out, _, stats) = run(&c);
    assert!(stats.malformed.is_empty());
    assert!(has(&out, INI, "role", "CT modality"));
    assert!(value(&out, "manufacturer").is_none());
    assert!(has(&out, INI, "dicom_transfer_syntax", "Deflated Explicit VR Little Endian"));
}

#[test]
fn pacs_accepts_many_modalities() {
    let ctxs: [(u8, &str, &[&str]); 4] =
        [(1, CT, &[IMPLICIT]), (3, MR, &[IMPLICIT]), (5, US, &[IMPLICIT]), (7, VERIFICATION, &[IMPLICIT])];
    let mut c = vec![
        (ToResponder, rq("ARCHIVE", "STORESCU", &ctxs, user_info(DCMTK_UID, DCMTK_VERSION, &[]))),
        (
            ToInitiator,
            ac(
                "ARCHIVE",
                "STORESCU",
                &[(1, 0, IMPLICIT), (3, 0, IMPLICIT), (5, 0, IMPLICIT), (7, 0, IMPLICIT)],
                user_info("1.2.40.0.13.1.3", "dcm4che-5.29.2", &[]),
            ),
        ),
    ];
    c.extend(release());
    let (out, _, _) = run(&c);
    assert!(has(&out, RSP, "role", "PACS"));
    assert!(has(&out, RSP, "stack", "dcm4che 5.29.2"));
    assert!(has(&out, RSP, "dicom_service", "US Image Storage SCP"));
    // Only two modalities accepted: no PACS.
    c[1] = (
        ToInitiator,
        ac(
            "ARCHIVE",
            "STORESCU",
            &[(1, 0, IMPLICIT), (3, 0, IMPLICIT), (5, 3, IMPLICIT)],
            user_info(DCMTK_UID, DCMTK_VERSION, &[]),
        ),
    );
    let (out, _, _) = run(&c);
    assert!(!has(&out, RSP, "role", "PACS"));
}

#[test]
fn worklist_and_query() {
    // findscu -W against a RIS: a worklist query with empty patient keys (no patient data),
    // answered with one pending match carrying a patient name, then success.
    let mut query = element(0x0008, 0x0050, b"");
    query.extend(element(0x0010, 0x0010, b""));
    query.extend(element(0x0010, 0x0020, b""));
    let mut answer = element(0x0008, 0x0050, &pad("A123"));
    answer.extend(element(0x0010, 0x0010, &pad(PATIENT_NAME)));
    let mut c = vec![
        (
            ToResponder,
            rq("RIS", "MODALITY", &[(1, MWL, &[IMPLICIT])], user_info(DCMTK_UID, DCMTK_VERSION, &[])),
        ),
        (ToInitiator, ac("RIS", "MODALITY", &[(1, 0, IMPLICIT)], user_info(DCMTK_UID, DCMTK_VERSION, &[]))),
        (ToResponder, pdata(&[(1, 3, &command(MWL, 0x0020, 1, true, None)), (1, 2, &query)])),
    ];
    let (out, _, _) = run(&c);
    assert!(has(&out, INI, "role", "DICOM worklist SCU"));
    assert_eq!(
        cleartext_evidence(&out, "dicom").iter().filter(|c| c.1).count(),
        0,
        "an empty key is no patient data"
    );
    c.push((ToInitiator, pdata(&[(1, 3, &command(MWL, 0x8020, 1, true, Some(0xFF00))), (1, 2, &answer)])));
    c.push((ToInitiator, pdata(&[(1, 3, &command(MWL, 0x8020, 1, false, Some(0)))])));
    c.extend(release());
    let (out, _, stats) = run(&c);
    assert!(stats.malformed.is_empty());
    assert!(has(&out, RSP, "role", "DICOM worklist SCP"));
    assert!(has(&out, INI, "role", "DICOM worklist SCU"));
    // The operation is the requester's; the answers (C-FIND-RSP) name none.
    assert!(has(&out, INI, "dicom_command", "C-FIND"));
    assert!(!attrs(&out).iter().any(|a| a.1 == "dicom_command" && a.0 == RSP));
    assert!(value(&out, "dicom_status").is_none(), "pending and success are no news");
    // The worklist answer's accession number is not identity: not read.
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("A123") && !json.contains("DOE"));
    assert_eq!(cleartext_evidence(&out, "dicom").iter().filter(|c| c.1).count(), 2);

    // A study root C-FIND answered: the responder is a PACS.
    let mut c = vec![
        (
            ToResponder,
            rq("PACS", "WS1", &[(1, STUDY_FIND, &[EXPLICIT])], user_info(DCMTK_UID, DCMTK_VERSION, &[])),
        ),
        (ToInitiator, ac("PACS", "WS1", &[(1, 0, EXPLICIT)], user_info(DCMTK_UID, DCMTK_VERSION, &[]))),
        (
            ToResponder,
            pdata(&[
                (1, 3, &command(STUDY_FIND, 0x0020, 1, true, None)),
                (1, 2, &explicit_element(false, 8, 0x52, b"CS", b"STUDY ")),
            ]),
        ),
        (ToInitiator, pdata(&[(1, 3, &command(STUDY_FIND, 0x8020, 1, false, Some(0xC001)))])),
    ];
    c.extend(release());
    let (out, _, _) = run(&c);
    assert!(has(&out, RSP, "role", "PACS"));
    assert!(has(&out, INI, "role", "DICOM query/retrieve SCU"));
    assert!(has(&out, RSP, "dicom_status", "C-FIND failure 0xC001 (cannot understand)"));
}

#[test]
fn rejection_and_abort() {
    let c = vec![
        (ToResponder, rq("WRONG", "CT01", &[(1, CT, &[IMPLICIT])], user_info(DCMTK_UID, DCMTK_VERSION, &[]))),
        (ToInitiator, pdu(0x03, &[0, 1, 1, 7])),
    ];
    let (out, proto, _) = run(&c);
    assert_eq!(proto, Some("dicom"));
    assert!(has(&out, RSP, "dicom_status", "A-ASSOCIATE-RJ permanent: called AE title not recognized"));
    assert!(!has(&out, RSP, "ae_title", "WRONG"), "a rejected called title is not the responder's");
    // An RJ alone is recognised too (the request was lost).
    let (_, proto, _) = run(&c[1..]);
    assert_eq!(proto, Some("dicom"));

    let mut c = store_conversation(EXPLICIT, 10, 0);
    c.truncate(2);
    c.push((ToInitiator, pdu(0x07, &[0, 0, 2, 6])));
    let (out, _, _) = run(&c);
    assert!(has(&out, RSP, "dicom_status", "A-ABORT by the service provider: invalid PDU parameter value"));
}

#[test]
fn user_identity_is_a_credential() {
    // PS3.7 D.3.3.7: user name and passcode, positive response requested; the AC answers 0x59.
    let mut ident = vec![2, 1];
    ident.extend(9u16.to_be_bytes());
    ident.extend(b"radiology");
    ident.extend(11u16.to_be_bytes());
    ident.extend(b"S3cret-pass");
    let c = vec![
        (
            ToResponder,
            rq(
                "PACS",
                "CT01",
                &[(1, CT, &[IMPLICIT])],
                user_info(DCMTK_UID, DCMTK_VERSION, &[item(0x58, &ident)]),
            ),
        ),
        (
            ToInitiator,
            ac(
                "PACS",
                "CT01",
                &[(1, 0, IMPLICIT)],
                user_info(DCMTK_UID, DCMTK_VERSION, &[item(0x59, &[0, 0])]),
            ),
        ),
    ];
    let (out, _, _) = run(&c);
    let creds = credentials(&out);
    assert_eq!(creds.len(), 1);
    match &creds[0].kind {
        ObservationKind::Credential { protocol, accepted, .. } => {
            assert_eq!(protocol, "dicom");
            assert_eq!(*accepted, Some(true));
        }
        _ => unreachable!(),
    }
    assert_eq!(creds[0].device.to_string(), RSP);
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("radiology") && !json.contains("S3cret"));
    // Without an answer, whether it was accepted is unknown; a rejection says no.
    let (out, _, _) = run(&c[..1]);
    assert!(matches!(credentials(&out)[0].kind, ObservationKind::Credential { accepted: None, .. }));
    let (out, _, _) = run(&[c[0].clone(), (ToInitiator, pdu(0x03, &[0, 1, 1, 1]))]);
    assert!(matches!(credentials(&out)[0].kind, ObservationKind::Credential { accepted: Some(false), .. }));
}

#[test]
fn role_selection_reverses_storage_for_c_get() {
    // movescu/getscu ask to be SCP for CT storage (role selection 0x54: SCU 0, SCP 1).
    let mut role = (CT.len() as u16).to_be_bytes().to_vec();
    role.extend(CT.as_bytes());
    role.extend([0, 1]);
    let c = vec![
        (
            ToResponder,
            rq(
                "PACS",
                "GETSCU",
                &[(1, CT, &[IMPLICIT])],
                user_info(DCMTK_UID, DCMTK_VERSION, &[item(0x54, &role)]),
            ),
        ),
        (
            ToInitiator,
            ac(
                "PACS",
                "GETSCU",
                &[(1, 0, IMPLICIT)],
                user_info(DCMTK_UID, DCMTK_VERSION, &[item(0x54, &role)]),
            ),
        ),
    ];
    let (out, _, _) = run(&c);
    assert!(has(&out, INI, "dicom_service", "CT Image Storage SCP"));
    assert!(has(&out, RSP, "dicom_service", "CT Image Storage SCU"));
    assert!(!has(&out, INI, "dicom_service", "CT Image Storage SCU"));
}

#[test]
fn stacks_in_words() {
    assert_eq!(stack("OFFIS_DCMTK_367", DCMTK_UID).as_deref(), Some("DCMTK 3.6.7"));
    assert_eq!(stack("OFFIS_DCMTK_3610", "").as_deref(), Some("DCMTK 3.6.10"));
    assert_eq!(stack("PYNETDICOM_304", "").as_deref(), Some("pynetdicom 3.0.4"));
    assert_eq!(stack("fo-dicom 4.0.8", "1.3.6.1.4.1.30071.8").as_deref(), Some("fo-dicom 4.0.8"));
    assert_eq!(stack("", "1.2.276.0.7230010.3.0.3.6.2").as_deref(), Some("DCMTK"));
    assert_eq!(stack("ORTHANC_1", "1.2.276.0.7230010.3.0.3.6.7").as_deref(), Some("ORTHANC_1 (DCMTK)"));
    assert_eq!(stack("ACME_PACS_9", "1.2.3.4").as_deref(), Some("ACME_PACS_9"));
    assert_eq!(stack("", "1.2.276.0.72300100").as_deref(), None, "a root matches whole components");
}

#[test]
fn probes_are_narrow() {
    let rq = rq("STORESCP", "CT01", &[(1, CT, &[IMPLICIT])], user_info(DCMTK_UID, DCMTK_VERSION, &[]));
    assert_eq!(probe(ToResponder, &rq), Probe::Match);
    for n in [0, 1, 5, 6, 40, 74] {
        assert_eq!(probe(ToResponder, &rq[..n]), Probe::NeedMore, "{n} bytes");
    }
    assert_eq!(probe(ToInitiator, &rq), Probe::NoMatch);
    assert_eq!(probe(ToResponder, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(probe(ToResponder, b"\x01\x00\x00\x00\x00\x10"), Probe::NoMatch, "too short for an RQ");
    assert_eq!(probe(ToResponder, b"\x01\x00\x7f\x00\x00\x00"), Probe::NoMatch, "beyond the cap");
    let mut bad = rq.clone();
    bad[10] = 0x01;
    assert_eq!(probe(ToResponder, &bad), Probe::NoMatch, "AE title not printable");
    let mut bad = rq.clone();
    bad[74] = 0x20;
    assert_eq!(probe(ToResponder, &bad), Probe::NoMatch, "first item not the application context");
    // TLS and MQTT CONNECT do not pass.
    assert_eq!(probe(ToResponder, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), Probe::NoMatch);
    assert_eq!(probe(ToResponder, b"\x10\x1a\x00\x04MQTT\x04\x02"), Probe::NoMatch);
    assert_eq!(probe(ToInitiator, &pdu(0x03, &[0, 1, 1, 7])), Probe::Match);
    assert_eq!(probe(ToInitiator, &pdu(0x03, &[0, 9, 1, 7])), Probe::NoMatch);
}

fn malformed(c: &[(Direction, Vec<u8>)]) -> Vec<&'static str> {
    let (_, _, stats) = run(c);
    stats.malformed.keys().copied().collect()
}

#[test]
fn malformed_framing_is_counted() {
    let good = store_conversation(EXPLICIT, 10, 0);
    let head = &good[..2];
    let with = |b: Vec<u8>| {
        let mut c = head.to_vec();
        c.push((ToResponder, b));
        c
    };
    // Unknown PDU type, huge P-DATA, an RQ over the cap, a release of the wrong length.
    assert_eq!(malformed(&with(pdu(0x09, &[0; 4]))), ["dicom"]);
    assert_eq!(malformed(&with(vec![4, 0, 0xff, 0xff, 0xff, 0xff])), ["dicom"]);
    assert_eq!(malformed(&with(vec![4, 0, 0, 0, 0, 2])), ["dicom"]);
    assert_eq!(malformed(&with(vec![1, 0, 0, 1, 0, 0])), ["dicom"]);
    assert_eq!(malformed(&with(pdu(0x05, &[0; 6]))), ["dicom"]);
    // A PDV longer than its PDU, or shorter than its header.
    let mut p = pdata(&[(1, 3, b"abcd")]);
    p[9] = 0x40;
    assert_eq!(malformed(&with(p)), ["dicom"]);
    let mut p = pdata(&[(1, 3, b"abcd")]);
    p[9] = 1;
    assert_eq!(malformed(&with(p)), ["dicom"]);
    // A truncated command set.
    let cmd = command(CT, 0x0001, 1, true, None);
    assert_eq!(malformed(&with(pdata(&[(1, 3, &cmd[..cmd.len() - 3])]))), ["dicom"]);
    // An AC toward the responder.
    assert_eq!(malformed(&with(good[1].1.clone())), ["dicom"]);
    // A truncated presentation context inside the RQ.
    let mut rq = good[0].1.clone();
    let at = 74 + 4 + 21 + 2;
    rq[at] = 0x7f;
    assert_eq!(malformed(&[(ToResponder, rq)]), ["dicom"]);
    // A data set that is nonsense is not malformed framing: the walk just stops.
    assert!(malformed(&with(pdata(&[(1, 3, &cmd), (1, 2, &[0xff; 40])]))).is_empty());
}

#[test]
fn gaps_inside_pdata_are_survived() {
    let conv = store_conversation(EXPLICIT, 40_000, 0xA700);
    // The gap falls inside the pixel data PDV: the dataset walk stops, framing is kept.
    let store = &conv[2].1;
    let reg = crate::Registry::empty().with(Box::new(DicomDissector));
    let mut fd = crate::FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut stats) = (Vec::new(), crate::DissectStats::default());
    let ctx = flow();
    for (d, b) in &conv[..2] {
        fd.on_stream(&reg, &ctx, *d, b, &mut out, &mut stats);
    }
    // Identity lies in the first 2 KiB; lose 1000 bytes well inside the first data PDV.
    fd.on_stream(&reg, &ctx, ToResponder, &store[..5000], &mut out, &mut stats);
    fd.on_gap(ToResponder, 1000, &mut stats);
    fd.on_stream(&reg, &ctx, ToResponder, &store[6000..], &mut out, &mut stats);
    fd.on_stream(&reg, &ctx, ToInitiator, &conv[3].1, &mut out, &mut stats);
    assert_eq!(stats.gave_up_at_gap, 0);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert!(has(&out, INI, "manufacturer", "SIEMENS"));
    assert!(has(&out, RSP, "dicom_status", "C-STORE failure 0xA700 (out of resources)"));

    // A gap across a PDV boundary: the rest of that PDU is skipped, the next PDU read.
    let mut fd = crate::FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut stats) = (Vec::new(), crate::DissectStats::default());
    for (d, b) in &conv[..2] {
        fd.on_stream(&reg, &ctx, *d, b, &mut out, &mut stats);
    }
    let first_pdu = 6 + u32::from_be_bytes([store[2], store[3], store[4], store[5]]) as usize;
    // Three bytes into the second PDU's first PDV header, then lose 20.
    let at = first_pdu + 6 + 3;
    fd.on_stream(&reg, &ctx, ToResponder, &store[..at], &mut out, &mut stats);
    fd.on_gap(ToResponder, 20, &mut stats);
    fd.on_stream(&reg, &ctx, ToResponder, &store[at + 20..], &mut out, &mut stats);
    fd.on_stream(&reg, &ctx, ToInitiator, &conv[3].1, &mut out, &mut stats);
    assert_eq!(stats.gave_up_at_gap, 0);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert!(has(&out, RSP, "dicom_status", "C-STORE failure 0xA700 (out of resources)"));

    // A gap between PDUs: framing is lost, the flow is given up.
    let mut fd = crate::FlowDissection::start(&reg, Transport::Tcp);
    let mut stats = crate::DissectStats::default();
    fd.on_stream(&reg, &ctx, ToResponder, &conv[0].1, &mut out, &mut stats);
    fd.on_gap(ToResponder, 10, &mut stats);
    assert_eq!(stats.gave_up_at_gap, 1);
}

#[test]
fn nesting_beyond_the_cap_stops_the_walk() {
    // 40 nested undefined-length sequences, then the manufacturer: never read, no panic.
    let mut d = Vec::new();
    for _ in 0..40 {
        d.extend(element(0x0008, 0x1110, &[]).iter().take(4));
        d.extend(0xFFFF_FFFFu32.to_le_bytes());
        d.extend(element(0xFFFE, 0xE000, &[]).iter().take(4));
        d.extend(0xFFFF_FFFFu32.to_le_bytes());
    }
    d.extend(element(0x0008, 0x0070, &pad("NESTED")));
    let mut c = store_conversation(IMPLICIT, 10, 0);
    c[2] = (ToResponder, pdata(&[(1, 3, &command(CT, 0x0001, 1, true, None)), (1, 2, &d)]));
    let (out, _, stats) = run(&c);
    assert!(stats.malformed.is_empty());
    assert!(value(&out, "manufacturer").is_none());
}

#[test]
fn walker_reads_only_top_level_identity() {
    let mut w = parser::Walker::new();
    w.start(Some(parser::Syntax::ImplicitLe), true);
    let data = ct_dataset(IMPLICIT, 64);
    let mut seen = Vec::new();
    for b in data.chunks(3) {
        w.feed(b, &mut |id, v| seen.push((id, String::from_utf8_lossy(v).into_owned())));
    }
    assert!(w.phi && w.done());
    let stations: Vec<_> = seen.iter().filter(|s| s.0 == parser::Identity::StationName).collect();
    assert_eq!(stations.len(), 1);
    assert_eq!(seen.len(), 7);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..8)) {
        let mut c = store_conversation(EXPLICIT, 10, 0);
        c.truncate(2);
        for (to_responder, b) in chunks {
            c.push((if to_responder { ToResponder } else { ToInitiator }, b));
        }
        let _ = run(&c);
        let mut s = parser::Walker::new();
        s.start(Some(parser::Syntax::ExplicitLe), true);
        for (_, b) in &c[2..] {
            s.feed(b, &mut |_, _| {});
            let _ = parser::command(b);
        }
    }

    #[test]
    fn any_segmentation_reads_the_same(cuts in proptest::collection::vec(1usize..3000, 1..20)) {
        let conv = store_conversation(IMPLICIT, 5000, 0xB000);
        let (whole, _, _) = run(&conv);
        let mut c = Vec::new();
        for (i, (d, b)) in conv.iter().enumerate() {
            let mut rest = b.as_slice();
            let mut k = i;
            while !rest.is_empty() {
                let n = cuts[k % cuts.len()].min(rest.len());
                c.push((*d, rest[..n].to_vec()));
                rest = &rest[n..];
                k += 1;
            }
        }
        let (out, _, _) = run(&c);
        prop_assert_eq!(attrs(&out), attrs(&whole));
    }

    #[test]
    fn mutated_associations_never_panic(at in 0usize..200, byte in any::<u8>()) {
        let mut c = store_conversation(EXPLICIT, 10, 0);
        for (_, b) in c.iter_mut().take(3) {
            if let Some(x) = b.get_mut(at) {
                *x = byte;
            }
        }
        let _ = run(&c);
    }
}

/// A real storescu association (see testdata/README.md).
fn real_capture() -> Vec<(Direction, Vec<u8>)> {
    let mut rest: &[u8] = include_bytes!("testdata/storescu_ct.bin");
    let mut c = Vec::new();
    while let [d, a, b, cc, dd, tail @ ..] = rest {
        let len = u32::from_be_bytes([*a, *b, *cc, *dd]) as usize;
        c.push((if *d == 0 { ToResponder } else { ToInitiator }, tail[..len].to_vec()));
        rest = &tail[len..];
    }
    c
}

#[test]
fn real_storescu_association() {
    let c = real_capture();
    assert!(c.len() >= 6);
    for conv in [c.clone(), split(&c, 1), split(&c, 100)] {
        let (out, proto, stats) = run(&conv);
        assert_eq!(proto, Some("dicom"));
        assert!(stats.malformed.is_empty(), "{stats:?}");
        for (key, val) in [
            ("ae_title", "CT03"),
            ("stack", "DCMTK 3.6.7"),
            ("role", "CT modality"),
            ("modality", "CT"),
            ("manufacturer", "ACME Medical"),
            ("model", "Scanner 3000"),
            ("station_name", "CTSTATION7"),
            ("department", "Radiology"),
            ("serial", "SN-00042"),
            ("software_version", "VA10"),
            ("software_version", "BUILD7"),
            ("dicom_service", "CT Image Storage SCU"),
        ] {
            assert!(has(&out, INI, key, val), "{key} {val}");
        }
        assert!(has(&out, RSP, "ae_title", "STORESCP"));
        assert!(has(&out, RSP, "role", "DICOM storage SCP"));
        assert!(has(&out, RSP, "dicom_service", "CT Image Storage SCP"));
        let json = serde_json::to_string(&out).unwrap();
        for secret in ["SYNTH", "19700101"] {
            assert!(!json.contains(secret), "{secret} leaked");
        }
        assert_eq!(cleartext_evidence(&out, "dicom").iter().filter(|c| c.1).count(), 2);
    }
}
