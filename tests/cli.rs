//! The `ward` command as a user runs it: output shapes, exit status, errors.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Packets in `samples/ward-sample.pcap` (`ward-gen --profile sample`), as `tshark -r` counts them.
const SAMPLE_PACKETS: u64 = 2965;

/// Runs `ward` in a folder of its own, where `analyze` writes its inventory (`ward.db`).
fn ward(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).current_dir(home.path()).output().unwrap()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ward-sample.pcap")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn json_summary_of_the_sample() {
    let out = ward(&["analyze", "--json", sample().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["packets"], SAMPLE_PACKETS);
    assert_eq!(v["bytes"], 724_171);
    assert!(v["flows"].as_u64().unwrap() > 150);
    let devices = v["devices"].as_array().unwrap();
    assert!(devices.len() > 100);
    for d in devices {
        assert!(d["macs"].is_array() && d["ips"].is_array(), "{d}");
    }
    // The pumps on VLAN 10 are there by MAC, with their IPs.
    let pump = devices.iter().find(|d| d["key"].as_str().unwrap().starts_with("mac:9c:c8:ae")).unwrap();
    assert!(pump["ips"][0].as_str().unwrap().starts_with("10.10."));
    assert_eq!(pump["vlans"][0], 10);
    assert_eq!(v["files"][0]["packets"], SAMPLE_PACKETS);
}

#[test]
fn readable_summary() {
    let out = ward(&["analyze", "--threads", "2", sample().to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "2,965 packets",
        "Files",
        "Traffic",
        "Devices (",
        "identity",
        "model VVX 450; manufacturer Polycom",
        "Cleartext and default logins",
        "ftp service account cleartext refused x1",
        "HL7 sender, application MONGW, facility ICU, version 2.6",
        "Clinical and device protocols in cleartext",
        "hl7 WITH patient data",
        "snmp no user name DEFAULT accepted x1",
        "Decode anomalies: none",
        "Caps hit: none",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn a_damaged_file_still_gets_its_summary_then_a_failing_status() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample()).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let missing = dir.path().join("missing.pcap");
    let out = ward(&[
        "analyze",
        "--json",
        cut.to_str().unwrap(),
        missing.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let cut_report = files.iter().find(|f| f["path"].as_str().unwrap().ends_with("cut.pcap")).unwrap();
    assert!(cut_report["error"].as_str().unwrap().contains("truncated at byte"), "{cut_report}");
    let read_from_cut = cut_report["packets"].as_u64().unwrap();
    assert!(read_from_cut > 1000);
    assert_eq!(v["packets"].as_u64().unwrap(), SAMPLE_PACKETS + read_from_cut);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut.pcap") && stderr.contains("missing.pcap"), "{stderr}");
}

#[test]
fn compressed_and_plain_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("sample.pcap.gz");
    let mut enc =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(&std::fs::read(sample()).unwrap()).unwrap();
    enc.finish().unwrap();
    let zst = dir.path().join("sample.pcap.zst");
    std::fs::write(&zst, zstd::encode_all(&std::fs::read(sample()).unwrap()[..], 3).unwrap()).unwrap();
    let plain = json(&ward(&["analyze", "--json", sample().to_str().unwrap()]));
    for f in [&gz, &zst] {
        let v = json(&ward(&["analyze", "--json", "--no-mmap", f.to_str().unwrap()]));
        assert_eq!(v["packets"], plain["packets"]);
        assert_eq!(v["flows"], plain["flows"]);
        assert_eq!(v["devices"], plain["devices"]);
    }
}

#[test]
fn bad_arguments_are_explained() {
    let out = ward(&["analyze", "--threads", "0", sample().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threads must be at least 1"));
    let out = ward(&["analyze", "--dissectors", "arp,nope", sample().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dissector \"nope\""));
    let out = ward(&["analyze"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ward(&["analyze", "--dissectors", "none", "--json", sample().to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(json(&out)["counters"]["dissect"]["frames"], serde_json::json!({}));
}

#[test]
fn no_patient_data_or_secret_from_the_wire_reaches_the_output() {
    // The sample's HL7 and DICOM traffic carries synthetic patients (names, record numbers,
    // birth dates), its MQTT and FTP logins passwords and its SNMP polls a site community.
    // None of it may be in anything Ward prints.
    let capture = std::fs::read(sample()).unwrap();
    let needles = [
        "SYNTHETIC^PATIENT",
        "PATIENT",
        "19700101",
        "hosp-ro-2024",
        "Lab-Archive-2024!",
        "sensor-pass",
        "SYN1",
        "SYN2",
    ];
    for n in &needles[..4] {
        assert!(capture.windows(n.len()).any(|w| w == n.as_bytes()), "the sample should carry {n:?}");
    }
    for args in [vec!["analyze", "--json"], vec!["analyze"], vec!["analyze", "--threads", "3", "--json"]] {
        let mut args = args.clone();
        let path = sample();
        args.push(path.to_str().unwrap());
        let out = ward(&args);
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            for n in needles {
                assert!(!text.contains(n), "{n:?} leaked into the output of {args:?}");
            }
        }
    }
}
