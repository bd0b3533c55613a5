//! Ward's HL7 dissector against nDPI's HL7 capture (`ndpi/hl7.pcap`): the flows nDPI names
//! HL7 in `hl7.pcap.ndpi.out` are Ward's too, and the devices carry what the capture holds.
//!
//! The capture (checked with `tshark -r hl7.pcap -q -z follow,tcp,raw,0`) is one MLLP
//! connection from 10.0.0.155 to 10.0.0.126:6661: an ADT^A01 (HL7 2.3) from
//! SENDING_APPLICATION / SENDING_FACILITY to RECEIVING_APPLICATION / RECEIVING_FACILITY with
//! PID, NK1, PV1 and AL1 segments, answered by an ACK (MSA|AA) from RECEIVING_APPLICATION.
//! The test skips when the shared data is absent.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

#[macro_use]
mod common;

use serde_json::Value;

use common::{Analysis, ndpi_flows};

/// The device whose IPs include `ip`.
fn device<'a>(v: &'a Value, ip: &str) -> &'a Value {
    v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ips"].as_array().into_iter().flatten().any(|i| i == ip))
        .unwrap_or_else(|| panic!("no device {ip}"))
}

fn has(d: &Value, key: &str, value: &str) -> bool {
    d["attributes"].as_array().into_iter().flatten().any(|a| a["key"] == key && a["value"] == value)
}

#[test]
fn ndpi_hl7_capture() {
    let pcap = data_or_skip!().join("ndpi/hl7.pcap");
    let a = Analysis::of(&pcap);
    assert!(a.read_whole);
    let v = &a.json;

    // nDPI's HL7 flows are Ward's HL7 flows.
    let flows = ndpi_flows(&pcap.with_extension("pcap.ndpi.out"), "HL7");
    assert_eq!(flows, [("10.0.0.155".to_owned(), "10.0.0.126".to_owned())]);
    assert_eq!(v["applications"]["hl7"].as_u64(), Some(flows.len() as u64), "{}", v["applications"]);
    assert_eq!(v["flows"].as_u64(), Some(1));

    for (sender, receiver) in &flows {
        let s = device(v, sender);
        assert!(has(s, "hl7_application", "SENDING_APPLICATION"), "{s}");
        assert!(has(s, "hl7_facility", "SENDING_FACILITY"));
        assert!(has(s, "hl7_message", "ADT^A01"));
        assert!(has(s, "hl7_version", "2.3"));
        assert!(has(s, "role", "HL7 sender"));
        let r = device(v, receiver);
        assert!(has(r, "hl7_application", "RECEIVING_APPLICATION"), "{r}");
        assert!(has(r, "hl7_facility", "RECEIVING_FACILITY"));
        assert!(has(r, "hl7_message", "ACK"));
        assert!(has(r, "role", "HL7 receiver"));
        assert!(!has(r, "hl7_rejected", "AA"));
        // PID, NK1, PV1 and AL1 went by: patient data in cleartext, on both ends.
        for d in [s, r] {
            let ct = d["cleartext"].as_array().unwrap();
            assert!(ct.iter().any(|c| c["protocol"] == "hl7" && c["phi"] == true), "{d}");
        }
    }

    // Nothing of the patient segments reached the report.
    let text = v.to_string();
    for s in [
        "MOUSE",
        "MICKEY",
        "MINNIE",
        "135769",
        "19281118",
        "Main St",
        "ohtoodles",
        "Penicillin",
        "Cat dander",
        "999999999",
    ] {
        assert!(!text.contains(s), "{s} leaked into the report");
    }
}
