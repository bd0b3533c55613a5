//! A point-of-care glucose meter's conversation with its data manager, written from the
//! element names of the POCT1-A2 device messaging layer as vendors document them (the
//! HEL.R01/DST.R01/OBS.R01 examples of a Nova StatStrip data-manager interface and Quidel
//! Sofia's POCT1-A field catalogue, both quoted in public code): values in the `V`
//! attribute, the device's identity in the `DEV` object, patients in `PT`.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use ward_core::{Direction::*, IpProto, Observation};

use super::*;
use crate::testutil::{attrs, cleartexts, converse, ctx, has};

fn flow() -> FlowContext {
    ctx(IpProto::TCP, [10, 7, 1, 40], 50311, [10, 7, 0, 5], 7001)
}

const METER: &str = "ip:10.7.1.40";
const MANAGER: &str = "ip:10.7.0.5";

const HEL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<HEL.R01>
  <HDR>
    <HDR.message_type V="HEL.R01" SN="POCT1" SV="1"/>
    <HDR.control_id V="7135"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2024-02-22T14:06:34.00-05:00"/>
  </HDR>
  <DEV>
    <DEV.device_id V="00:06:66:00:22:A1">ICU^EAST</DEV.device_id>
    <DEV.vendor_id V="NOVABIO"/>
    <DEV.model_id V="StatStrip"/>
    <DEV.serial_id V="0600100736"/>
    <DEV.manufacturer_name V="Nova Biomedical &amp; Co"/>
    <DEV.hw_version V="K1"/>
    <DEV.sw_version V="3.10.8.0">3.10.8.0_en-US</DEV.sw_version>
    <DEV.device_name V="GLU-ICU-3"/>
    <DCP><DCP.application_timeout V="120"/></DCP>
    <DSC>
      <DSC.connection_profile_cd V="SA"/>
      <DSC.topics_supported_cd V="DTV" SN="POCT1" SV="1"/>
      <DSC.max_message_sz V="32768"/>
    </DSC>
  </DEV>
</HEL.R01>
"#;

const ACK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ACK.R01><HDR><HDR.message_type V="ACK.R01" SN="POCT1" SV="1"/><HDR.control_id V="9001"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="2024-02-22T14:06:35.00-05:00"/></HDR><ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="7135"/></ACK></ACK.R01>
"#;

const DST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<DST.R01>
  <HDR><HDR.message_type V="DST.R01" SN="POCT1" SV="1"/><HDR.control_id V="7136"/><HDR.version_id V="POCT1"/></HDR>
  <DST><DST.status_dttm V="2024-02-22T14:06:36.00-05:00"/><DST.new_observations_qty V="1"/><DST.condition_cd V="R"/></DST>
  <!-- status only: no <PT> here -->
</DST.R01>
"#;

const OBS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<OBS.R01>
  <HDR><HDR.message_type V="OBS.R01"/><HDR.control_id V="7137"/><HDR.version_id V="POCT1"/></HDR>
  <SVC>
    <SVC.role_cd V="OBS"/>
    <SVC.observation_dttm V="2024-02-22T14:05:54-05:00"/>
    <PT>
      <PT.patient_id V="MRN-4455667"/>
      <PT.name V="NOVAK^PETRA"/>
      <OBS><OBS.observation_id V="2341-6" DN="Glu" SN="LN"/><OBS.value V="145" U="mg/dL"/></OBS>
    </PT>
    <OPR><OPR.operator_id V="RN-881"/></OPR>
  </SVC>
</OBS.R01>
"#;

fn conversation() -> Vec<(ward_core::Direction, &'static [u8])> {
    vec![
        (ToResponder, HEL.as_bytes()),
        (ToInitiator, ACK.as_bytes()),
        (ToResponder, DST.as_bytes()),
        (ToInitiator, ACK.as_bytes()),
        (ToResponder, OBS.as_bytes()),
        (ToInitiator, ACK.as_bytes()),
    ]
}

fn identity(out: &[Observation]) {
    assert!(has(out, METER, "vendor", "NOVABIO"));
    assert!(has(out, METER, "manufacturer", "Nova Biomedical & Co"));
    assert!(has(out, METER, "model", "StatStrip"));
    assert!(has(out, METER, "serial", "0600100736"));
    assert!(has(out, METER, "device_id", "00:06:66:00:22:A1"));
    assert!(has(out, METER, "software_version", "3.10.8.0"));
    assert!(has(out, METER, "revision", "K1"));
    assert!(has(out, METER, "role", "POCT1-A device"));
    assert!(has(out, MANAGER, "role", "POCT1-A data manager"));
    let json = serde_json::to_string(out).unwrap();
    for s in ["MRN-4455667", "NOVAK", "PETRA", "145", "mg/dL", "RN-881", "ICU^EAST"] {
        assert!(!json.contains(s), "{s} leaked");
    }
}

#[test]
fn hello_status_observation() {
    let (out, proto, stats) = converse(Poct1aDissector, &flow(), &conversation());
    assert_eq!(proto, Some("poct1a"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    identity(&out);
    assert_eq!(cleartexts(&out, "poct1a"), [(METER.into(), true), (MANAGER.into(), true)]);
    // Each attribute once.
    assert_eq!(attrs(&out).len(), 9);
}

#[test]
fn split_anywhere_and_together() {
    let all: Vec<u8> = [HEL, DST, OBS].concat().into_bytes();
    for chunk in [1usize, 5, 13, 1448, all.len()] {
        let mut msgs: Vec<(ward_core::Direction, &[u8])> =
            all.chunks(chunk).map(|c| (ToResponder, c)).collect();
        msgs.push((ToInitiator, ACK.as_bytes()));
        let (out, _, stats) = converse(Poct1aDissector, &flow(), &msgs);
        assert!(stats.malformed.is_empty() && stats.pending_cap_hits == 0, "{chunk}: {stats:?}");
        identity(&out);
        assert_eq!(cleartexts(&out, "poct1a").len(), 2, "{chunk}");
    }
}

#[test]
fn no_observations_no_patient_data() {
    let msgs = &conversation()[..4];
    let (out, _, _) = converse(Poct1aDissector, &flow(), msgs);
    assert_eq!(cleartexts(&out, "poct1a"), [(METER.into(), false), (MANAGER.into(), false)]);
    // Comments and CDATA hide nothing that is read.
    let tricky = "<HEL.R01><!-- <DEV.serial_id V=\"FAKE\"/> --><![CDATA[<PT.name V=\"X\"/>]]><DEV.serial_id V='S-2'/></HEL.R01>";
    let (out, _, _) = converse(Poct1aDissector, &flow(), &[(ToResponder, tricky.as_bytes())]);
    assert!(has(&out, METER, "serial", "S-2"));
    assert!(!has(&out, METER, "serial", "FAKE"));
    assert_eq!(cleartexts(&out, "poct1a"), [(METER.into(), false), (MANAGER.into(), false)]);
}

#[test]
fn malformed() {
    let mut s = HEL.as_bytes().to_vec();
    s.extend(b"<DEV.serial_id V=\"");
    s.extend(vec![b'9'; MAX_TAG + 1]);
    let (out, _, stats) = converse(Poct1aDissector, &flow(), &[(ToResponder, &s)]);
    assert_eq!(stats.malformed.get("poct1a"), Some(&1));
    assert!(has(&out, METER, "serial", "0600100736"));
    let mut s = HEL.as_bytes().to_vec();
    s.extend(b"text\0<x/>");
    let (_, _, stats) = converse(Poct1aDissector, &flow(), &[(ToResponder, &s)]);
    assert_eq!(stats.malformed.get("poct1a"), Some(&1));
    // Truncated inside a tag and inside a comment: nothing breaks.
    for cut in [HEL.find("serial_id").unwrap(), HEL.find("<!--").unwrap_or(HEL.len() - 3)] {
        let (_, _, stats) = converse(Poct1aDissector, &flow(), &[(ToResponder, &HEL.as_bytes()[..cut])]);
        assert!(stats.malformed.is_empty());
    }
}

#[test]
fn resynchronises_after_a_gap() {
    use crate::{DissectStats, FlowDissection, Registry};
    let reg = Registry::empty().with(Box::new(Poct1aDissector));
    let mut fd = FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut st) = (Vec::new(), DissectStats::default());
    let c = flow();
    fd.on_stream(&reg, &c, ToResponder, &HEL.as_bytes()[..300], &mut out, &mut st);
    fd.on_gap(ToResponder, 200, &mut st);
    fd.on_stream(&reg, &c, ToResponder, b"ware V=\"1\"/></DEV></HEL.R01>", &mut out, &mut st);
    fd.on_stream(&reg, &c, ToResponder, DST.as_bytes(), &mut out, &mut st);
    fd.on_stream(
        &reg,
        &c,
        ToResponder,
        b"<DST.R01><DEV><DEV.serial_id V=\"0600100737\"/></DEV></DST.R01>",
        &mut out,
        &mut st,
    );
    fd.on_end(&c, &mut out, &mut st);
    assert_eq!(st.gave_up_at_gap, 0);
    assert!(st.malformed.is_empty());
    assert!(has(&out, METER, "serial", "0600100737"));
}

#[test]
fn probe() {
    let d = Poct1aDissector;
    assert_eq!(d.probe(ToResponder, HEL.as_bytes()), Probe::Match);
    assert_eq!(d.probe(ToResponder, b"<OBS.R01>"), Probe::Match);
    assert_eq!(d.probe(ToResponder, b"\xef\xbb\xbf<!-- hi -->\r\n<DST.R01 >"), Probe::Match);
    assert_eq!(d.probe(ToResponder, b"<?xml version=\"1.0\"?>"), Probe::NeedMore);
    assert_eq!(d.probe(ToResponder, b"<?xml version="), Probe::NeedMore);
    assert_eq!(d.probe(ToResponder, b"<HEL.R0"), Probe::NeedMore);
    assert_eq!(d.probe(ToResponder, b"<?xml version=\"1.0\"?><soap:Envelope>"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, b"<XYZ.R01>"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, b"<HEL.R01x"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(d.probe(ToResponder, &[0x0b, b'M', b'S', b'H']), Probe::NoMatch);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..400), b in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..1200) {
        let mut s = HEL.as_bytes().to_vec();
        s.extend(&a);
        let cut = cut.min(s.len());
        converse(Poct1aDissector, &flow(), &[(ToResponder, &s[..cut]), (ToInitiator, &b), (ToResponder, &s[cut..]), (ToInitiator, &a)]);
    }
}
