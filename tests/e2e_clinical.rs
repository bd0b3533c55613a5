//! End to end on a clinical network: real DICOM, HL7, MQTT, Modbus and BACnet software talks
//! on a network of namespaces while tcpdump captures it, and `ward analyze` names each
//! device's role and stack ("CT modality, AE CT01, DCMTK 3.6.7"; "HL7 sender, application
//! WARDHIS, facility WARDHOSP, version 2.6") from what went by. The network and its peers are
//! in `tests/e2e/clinical-net.sh` (DCMTK storescp, wlmscpfs, echoscu, storescu and findscu;
//! pynetdicom; python-hl7's MLLP client and server; mosquitto with mosquitto_pub/sub, with and
//! without a password; pymodbus; bacpypes3).
//!
//! The second test is the patient-data test: every DICOM dataset and HL7 message carries a
//! distinctive synthetic patient, and none of it may appear in anything Ward prints or writes.
//!
//! Needs root (namespaces) and those programs; `scripts/test` installs them when it runs as
//! root. Without them the tests say what they skipped. Each test runs its own network (a
//! dozen seconds), so that either can run alone and in its own process.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::{assert_has, assert_identity, credential, device, is_root, values};

/// The synthetic patient in every dataset and message: name ZZWARDTEST^QUINCE, id
/// WPID-5523917, born 19230417. The name is searched by component, since DICOM pads values
/// with spaces and HL7 separates components with `^` (or escapes them).
const PATIENT: [&str; 4] = ["ZZWARDTEST", "QUINCE", "WPID-5523917", "19230417"];

/// The secrets that crossed the wire in MQTT CONNECT packets.
const SECRETS: [&str; 2] = ["Mqtt$ecret-88", "wrong-guess-88"];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/clinical-net.sh")
}

/// Why the network cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("the clinical network needs root for network namespaces".to_owned());
    }
    // The script knows its tools (DCMTK's are told apart from pynetdicom's same-named commands).
    let check = Command::new("bash").arg(script()).arg("--check").output();
    match check {
        Ok(o) if o.status.success() && o.stdout.iter().all(u8::is_ascii_whitespace) => None,
        Ok(o) => Some(format!(
            "the clinical network needs {} (scripts/test installs them as root)",
            String::from_utf8_lossy(&o.stdout).trim().replace('\n', ", ")
        )),
        Err(e) => Some(format!("cannot run bash: {e}")),
    }
}

/// A run of the network: its folder (capture.pcap, the hosts' logs, versions.txt).
struct Network {
    dir: tempfile::TempDir,
    versions: BTreeMap<String, String>,
}

impl Network {
    fn run() -> Network {
        let dir = tempfile::tempdir().unwrap();
        let run = Command::new("bash").arg(script()).arg(dir.path()).output().unwrap();
        let logs = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .map(|e| {
                format!(
                    "--- {}\n{}",
                    e.path().display(),
                    std::fs::read_to_string(e.path()).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            run.status.success(),
            "the network script failed:\n{}\n{}\n{logs}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        eprintln!("{}", String::from_utf8_lossy(&run.stdout).trim());
        let versions = std::fs::read_to_string(dir.path().join("versions.txt"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
            .collect();
        Network { dir, versions }
    }

    fn capture(&self) -> PathBuf {
        self.dir.path().join("capture.pcap")
    }

    /// A peer's version, as the script asked the installed tool.
    fn version(&self, peer: &str) -> &str {
        let v = self.versions.get(peer).map(String::as_str).unwrap_or_default();
        assert!(!v.is_empty(), "no version for {peer} in versions.txt: {:?}", self.versions);
        v
    }
}

/// What one run of `ward` printed.
struct WardRun {
    what: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `ward` with `args` in `home`: its working directory, HOME, TMPDIR and XDG folders, so
/// that any file it writes lands where the patient-data test looks. Logging at its most verbose
/// where Ward reads RUST_LOG.
fn ward(home: &Path, args: &[&str], capture: &Path) -> WardRun {
    let sub = |name: &str| {
        let p = home.join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .arg(capture)
        .current_dir(home)
        .env("HOME", home)
        .env("TMPDIR", sub("tmp"))
        .env("XDG_DATA_HOME", sub("data"))
        .env("XDG_STATE_HOME", sub("state"))
        .env("XDG_CACHE_HOME", sub("cache"))
        .env("XDG_CONFIG_HOME", sub("config"))
        .env("XDG_RUNTIME_DIR", sub("run"))
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "ward {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    WardRun { what: format!("ward {}", args.join(" ")), stdout: out.stdout, stderr: out.stderr }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The forms in which a patient string could leak: as sent, in upper and lower case (either
/// also catches HL7's `\S\`-style escapes and DICOM's space padding around it, since the
/// needles are single components), as hex (a dump of payload bytes), and the birth date in
/// ISO form.
fn forms(needle: &str) -> Vec<String> {
    let mut out = vec![needle.to_owned(), needle.to_ascii_uppercase(), needle.to_ascii_lowercase()];
    let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
    out.push(hex.to_ascii_uppercase());
    out.push(hex);
    if needle.len() == 8 && needle.bytes().all(|b| b.is_ascii_digit()) {
        out.push(format!("{}-{}-{}", &needle[..4], &needle[4..6], &needle[6..]));
    }
    out
}

/// Where any of `needles` (in any of its [`forms`]) occurs in `texts` (a name and the bytes
/// of each output) or in `files`. Returns one line per find; empty when nothing leaked.
///
/// The list of files is what Ward wrote in this run: today nothing (it only prints). The store
/// (W4) and the exports (W7) will join this list when they exist, with the same search over
/// them, so that patient data never reaches any of Ward's outputs.
fn find_leaks(needles: &[&str], texts: &[(String, Vec<u8>)], files: &[PathBuf]) -> Vec<String> {
    let mut all: Vec<(String, Vec<u8>)> = texts.to_vec();
    for f in files {
        all.push((f.display().to_string(), std::fs::read(f).unwrap_or_default()));
    }
    let mut found = Vec::new();
    for (name, bytes) in &all {
        for needle in needles {
            for form in forms(needle) {
                if contains(bytes, form.as_bytes()) {
                    found.push(format!("{name}: {form:?} (from {needle:?})"));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The host with this last octet: MAC 02:78:00:00:00:<octet> (as the script gives them).
fn mac(octet: u8) -> String {
    format!("02:78:00:00:00:{octet}")
}

/// `key` has a value that `ok` accepts; `what` says what was expected.
fn assert_has_where(dev: &Value, key: &str, what: &str, ok: impl Fn(&str) -> bool) {
    assert!(
        values(dev, key).into_iter().any(ok),
        "{} lacks {key} {what}; it has {:#}",
        dev["key"],
        dev["attributes"]
    );
}

fn assert_lacks(dev: &Value, key: &str, value: &str) {
    assert!(!values(dev, key).contains(&value), "{} should not have {key} = {value:?}", dev["key"]);
}

/// The description holds `parts` as items of its comma-separated list, in this order (other
/// items may come between: a device can have more than one role or AE title).
fn assert_describes(dev: &Value, parts: &[&str]) {
    let description = dev["description"].as_str().unwrap_or_else(|| {
        panic!("{} has no description; its attributes: {:#}", dev["key"], dev["attributes"])
    });
    let items: Vec<&str> = description.split(", ").collect();
    let mut at = 0;
    for part in parts {
        match items[at..].iter().position(|i| i == part) {
            Some(p) => at += p + 1,
            None => {
                panic!("{}: description {description:?} lacks {part:?} (in the order {parts:?})", dev["key"])
            }
        }
    }
}

/// The device spoke `protocol` in cleartext, with patient data (`phi`) or without.
fn assert_cleartext(dev: &Value, protocol: &str, phi: bool) {
    let ok = dev["cleartext"]
        .as_array()
        .is_some_and(|c| c.iter().any(|x| x["protocol"] == protocol && x["phi"] == phi));
    assert!(ok, "{} lacks cleartext {protocol} with phi {phi}; it has {:#}", dev["key"], dev["cleartext"]);
}

#[test]
fn devices_show_their_clinical_roles_and_stacks() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let net = Network::run();
    let home = tempfile::tempdir().unwrap();
    let json = ward(home.path(), &["analyze", "--json"], &net.capture());
    let summary: Value = serde_json::from_slice(&json.stdout).unwrap();
    let dcmtk = format!("DCMTK {}", net.version("dcmtk"));
    let pynetdicom = format!("pynetdicom {}", net.version("pynetdicom"));

    // Every conversation is recognised by its protocol: four DICOM associations (echoscu,
    // storescu, findscu, pynetdicom), two MLLP connections, four MQTT connections (the
    // subscriber, the login, the refused login, the anonymous client), one Modbus connection.
    let apps = &summary["applications"];
    assert_eq!(apps["dicom"], 4, "applications: {apps:#}");
    assert_eq!(apps["hl7"], 2, "applications: {apps:#}");
    assert_eq!(apps["mqtt"], 4, "applications: {apps:#}");
    assert_eq!(apps["modbus"], 1, "applications: {apps:#}");
    assert!(apps["bacnet"].as_u64().is_some_and(|n| n >= 1), "applications: {apps:#}");

    // The CT (DCMTK echoscu, storescu and findscu, AE CT01): its role, stack and the identity
    // in the image it stored.
    let ct = device(&summary, &mac(11));
    assert_describes(ct, &["CT modality", "AE CT01", &dcmtk]);
    assert_has(ct, "role", "CT modality");
    assert_has(ct, "ae_title", "CT01");
    assert_has(ct, "stack", &dcmtk);
    assert_has(ct, "modality", "CT");
    // echoscu, storescu and findscu -W: the operations it asked for.
    for command in ["C-ECHO", "C-STORE", "C-FIND"] {
        assert_has(ct, "dicom_command", command);
    }
    assert_has(ct, "manufacturer", "Ward E2E Medical");
    assert_has(ct, "model", "Tomoscan W64");
    assert_has(ct, "serial", "CTSN-880123");
    assert_has(ct, "software_version", "VA44B");
    assert_has(ct, "station_name", "CTROOM2");
    assert_has(ct, "department", "Radiology");
    assert_cleartext(ct, "dicom", true);

    // The PACS (DCMTK storescp and wlmscpfs, AE PACS01): a storage and a worklist SCP. What the
    // images and the worklist answer say belongs to the modalities, not to it.
    let pacs = device(&summary, &mac(10));
    assert_describes(pacs, &["AE PACS01", &dcmtk]);
    assert_has_where(pacs, "role", "PACS or DICOM storage SCP", |v| v == "PACS" || v == "DICOM storage SCP");
    assert_has(pacs, "role", "DICOM worklist SCP");
    assert_has(pacs, "ae_title", "PACS01");
    assert_has(pacs, "stack", &dcmtk);
    assert_cleartext(pacs, "dicom", true);
    assert_lacks(pacs, "modality", "CT");
    assert_lacks(pacs, "manufacturer", "Ward E2E Medical");
    assert_lacks(pacs, "serial", "CTSN-880123");
    assert_lacks(pacs, "ae_title", "CT01");

    // The ultrasound cart (pynetdicom, AE US01).
    let us = device(&summary, &mac(12));
    assert_describes(us, &["AE US01", &pynetdicom]);
    assert_has_where(us, "role", "naming a modality", |v| v.ends_with("modality"));
    assert_has(us, "ae_title", "US01");
    assert_has(us, "stack", &pynetdicom);
    assert_has(us, "modality", "US");
    assert_has(us, "manufacturer", "Ward E2E Sonics");
    assert_has(us, "model", "Sonoline W5");
    assert_has(us, "serial", "USSN-550077");
    assert_has(us, "software_version", "2.3.1");
    assert_has(us, "station_name", "USCART5");
    assert_has(us, "department", "Cardiology");
    assert_cleartext(us, "dicom", true);

    // HL7 over MLLP: the receiver (python-hl7's server, ACKs as WARDEMR/WARDHOSP), the HIS
    // (ADT^A01, ORM^O01) and the monitor gateway (IHE PCD-01 ORU^R01).
    let emr = device(&summary, &mac(20));
    assert_describes(emr, &["HL7 receiver", "application WARDEMR", "facility WARDHOSP", "version 2.6"]);
    assert_has(emr, "role", "HL7 receiver");
    assert_has(emr, "hl7_application", "WARDEMR");
    assert_has(emr, "hl7_facility", "WARDHOSP");
    assert_has(emr, "hl7_version", "2.6");
    assert_cleartext(emr, "hl7", true);

    let his = device(&summary, &mac(21));
    assert_eq!(
        his["description"].as_str(),
        Some("HL7 sender, application WARDHIS, facility WARDHOSP, version 2.6"),
        "attributes: {:#}",
        his["attributes"]
    );
    assert_has(his, "role", "HL7 sender");
    assert_has(his, "hl7_application", "WARDHIS");
    assert_has(his, "hl7_facility", "WARDHOSP");
    assert_has(his, "hl7_version", "2.6");
    assert_has(his, "hl7_message", "ADT^A01");
    assert_has(his, "hl7_message", "ORM^O01");
    assert_cleartext(his, "hl7", true);

    let monitor = device(&summary, &mac(22));
    assert_describes(monitor, &["HL7 sender", "application WARDMONGW", "facility ICU3", "version 2.6"]);
    assert_has(monitor, "role", "HL7 sender");
    assert_has(monitor, "hl7_application", "WARDMONGW");
    assert_has(monitor, "hl7_facility", "ICU3");
    assert_has(monitor, "hl7_version", "2.6");
    assert_has(monitor, "hl7_message", "ORU^R01");
    assert_has_where(monitor, "hl7_profile", "IHE_PCD_001 (MSH-21)", |v| v.starts_with("IHE_PCD_001"));
    assert_has_where(monitor, "device_id", "with EUI-64 0009FB7800000022 (OBX-18)", |v| {
        v.contains("0009FB7800000022")
    });
    assert_cleartext(monitor, "hl7", true);

    // MQTT: the broker saw a password login that worked and one that was refused (account
    // "biomed" is a service account); the clients' ids, versions and topics.
    let broker = device(&summary, &mac(30));
    assert_describes(broker, &["MQTT broker"]);
    assert_has(broker, "role", "MQTT broker");
    assert!(
        credential(broker, "mqtt", "service", "cleartext", Some(true)),
        "the password login: {:#}",
        broker["credentials"]
    );
    assert!(
        credential(broker, "mqtt", "service", "cleartext", Some(false)),
        "the refused login: {:#}",
        broker["credentials"]
    );
    assert_cleartext(broker, "mqtt", false);

    let pump = device(&summary, &mac(31));
    assert_describes(pump, &["MQTT client"]);
    assert_has(pump, "mqtt_client_id", "infusion-gw-17");
    assert_has(pump, "mqtt_version", "3.1.1");
    assert_has(pump, "mqtt_topic", "ward/icu3/pump17/status");

    let vent = device(&summary, &mac(32));
    assert_has(vent, "role", "MQTT client");
    assert_has(vent, "mqtt_client_id", "vent-7");
    assert_has_where(vent, "mqtt_version", "5 or 5.0", |v| v == "5" || v == "5.0");
    assert_has(vent, "mqtt_topic", "ward/icu3/vent7/alarm");

    let dash = device(&summary, &mac(33));
    assert_has(dash, "role", "MQTT client");
    assert_has(dash, "mqtt_client_id", "ward-dashboard");
    assert_has(dash, "mqtt_topic", "ward/#");

    // No MQTT payload is patient data here, and no device has MQTT marked as such.
    for d in summary["devices"].as_array().unwrap() {
        let phi_mqtt = d["cleartext"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x["protocol"] == "mqtt" && x["phi"] == true));
        assert!(!phi_mqtt, "{} has MQTT with patient data", d["key"]);
    }

    // Modbus: the PLC's device identification (pymodbus server), the SCADA client.
    let plc = device(&summary, &mac(40));
    assert_describes(plc, &["Modbus server"]);
    assert_has(plc, "role", "Modbus server");
    assert_has(plc, "vendor", "Ward E2E Automation");
    assert_has(plc, "product_code", "WPLC-220");
    assert_has(plc, "revision", "3.4.1");
    assert_has(plc, "modbus_unit", "1");
    let scada = device(&summary, &mac(41));
    assert_has(scada, "role", "Modbus client");
    assert!(
        !values(plc, "modbus_function").is_empty() || !values(scada, "modbus_function").is_empty(),
        "no modbus_function on the PLC or the client"
    );
    assert_lacks(scada, "vendor", "Ward E2E Automation");

    // BACnet: the controller's I-Am and the properties the workstation read.
    let bms = device(&summary, &mac(50));
    assert_describes(bms, &["BACnet device"]);
    assert_has(bms, "role", "BACnet device");
    assert_has(bms, "bacnet_device_instance", "1078");
    assert_has_where(bms, "bacnet_vendor", "naming vendor 999 or Ward E2E Controls", |v| {
        v.contains("999") || v == "Ward E2E Controls"
    });
    assert_has(bms, "model", "WBC-3100 AHU controller");
    assert_has(bms, "firmware", "4.7.2");
    assert_has(bms, "software_version", "AHU-app 2.1.0");
    let bmsws = device(&summary, &mac(51));
    assert_lacks(bmsws, "model", "WBC-3100 AHU controller");
    assert_lacks(bmsws, "bacnet_device_instance", "1078");
    assert_has(bmsws, "role", "BACnet client");
    assert_eq!(bmsws["description"].as_str(), Some("BACnet client"));

    // What each device is, from the protocol fields that said so; the maker where its
    // traffic names one (a data set, Modbus or BACnet identification, the DICOM toolkit), and
    // none guessed where nothing does (python-hl7, mosquitto).
    assert_identity(device(&summary, &mac(10)), "pacs", "dicom.", Some("OFFIS"));
    assert_identity(device(&summary, &mac(11)), "ct_modality", "dicom.", Some("Ward E2E Medical"));
    assert_identity(device(&summary, &mac(12)), "us_modality", "dicom.", Some("Ward E2E Sonics"));
    assert_identity(device(&summary, &mac(20)), "ehr_server", "hl7.msh3", None);
    assert_identity(device(&summary, &mac(21)), "ehr_server", "hl7.msh3", None);
    assert_identity(device(&summary, &mac(22)), "patient_monitor", "hl7.msh", None);
    assert_identity(device(&summary, &mac(30)), "mqtt_broker", "mqtt", None);
    assert_identity(device(&summary, &mac(31)), "infusion_pump", "mqtt.connect.client_id", None);
    assert_identity(device(&summary, &mac(32)), "ventilator", "mqtt.", None);
    assert_identity(device(&summary, &mac(40)), "plc", "modbus", Some("Ward E2E Automation"));
    assert_identity(device(&summary, &mac(50)), "building_automation", "bacnet", Some("Ward E2E Controls"));
    assert_eq!(device(&summary, &mac(11))["model"]["value"], "Tomoscan W64");
    assert_eq!(device(&summary, &mac(50))["firmware"]["value"], "4.7.2");
    // The dashboard only receives what the pump and the ventilator publish: it is neither.
    assert!(device(&summary, &mac(33)).get("class").is_none(), "{:#}", device(&summary, &mac(33))["class"]);

    // No secret that crossed the wire reaches the output, JSON or readable.
    let readable = ward(home.path(), &["analyze"], &net.capture());
    let outputs = [json, readable];
    for secret in SECRETS {
        for o in &outputs {
            assert!(
                !contains(&o.stdout, secret.as_bytes()) && !contains(&o.stderr, secret.as_bytes()),
                "{secret} reached {}",
                o.what
            );
        }
    }
    let described: Vec<String> = summary["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| Some(format!("{}: {}", d["ips"], d["description"].as_str()?)))
        .collect();
    eprintln!("end to end (clinical): 13 devices checked\n{}", described.join("\n"));
}

#[test]
fn patient_data_never_leaves_ward() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let net = Network::run();
    let capture = std::fs::read(net.capture()).unwrap();
    // The test can fail: the patient went over the wire, in DICOM and in HL7.
    for needle in PATIENT {
        assert!(
            contains(&capture, needle.as_bytes()),
            "the capture lacks {needle}: the network did not carry it"
        );
    }
    assert!(contains(&capture, b"ZZWARDTEST^QUINCE "), "DICOM's padded name is in the capture");
    assert!(contains(&capture, b"|ZZWARDTEST^QUINCE|"), "HL7's PID-5 is in the capture");

    // Ward reads the capture every way it can; whatever it prints and writes is searched.
    let home = tempfile::tempdir().unwrap();
    let before: BTreeSet<PathBuf> = files_under(net.dir.path()).into_iter().collect();
    let runs = [
        ward(home.path(), &["analyze", "--json"], &net.capture()),
        ward(home.path(), &["analyze"], &net.capture()),
        ward(home.path(), &["analyze", "--json", "--threads", "1", "--no-mmap"], &net.capture()),
        ward(home.path(), &["analyze", "--no-progress", "--threads", "2"], &net.capture()),
    ];
    let mut texts = Vec::new();
    for r in &runs {
        texts.push((format!("{} (stdout)", r.what), r.stdout.clone()));
        texts.push((format!("{} (stderr)", r.what), r.stderr.clone()));
    }
    // Files Ward wrote: anything in its home (working directory, HOME, TMPDIR, XDG folders)
    // and anything new beside the capture. The store and exports join here when they exist.
    let mut written = files_under(home.path());
    written.extend(files_under(net.dir.path()).into_iter().filter(|f| !before.contains(f)));

    // The search finds what it looks for (so an empty result means something).
    let probe = vec![("probe".to_owned(), b"x zzwardtest^quince wpid-5523917 1923-04-17 x".to_vec())];
    assert_eq!(find_leaks(&PATIENT, &probe, &[]).len(), 4, "the search misses forms");

    // The inventory those runs wrote, and everything that reads it back.
    let db = home.path().join("ward.db");
    assert!(written.contains(&db), "the inventory was not written in Ward's folder");
    for args in [
        vec!["inventory", "export"],
        vec!["inventory", "export", "--csv"],
        vec!["inventory", "list", "--json"],
        vec!["inventory", "events", "--json", "--limit", "100000"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ward")).args(&args).arg("--db").arg(&db).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        texts.push((format!("ward {}", args.join(" ")), out.stdout));
    }
    // The policy commands: what they print, and the findings `check` keeps in the store.
    let hospital = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policy/hospital.toml");
    let capture_path = net.capture();
    let policy_runs: [Vec<&std::ffi::OsStr>; 4] = [
        vec!["policy".as_ref(), "suggest".as_ref()],
        vec![
            "policy".as_ref(),
            "check".as_ref(),
            "--json".as_ref(),
            "--policy".as_ref(),
            hospital.as_os_str(),
        ],
        vec![
            "policy".as_ref(),
            "simulate".as_ref(),
            "--json".as_ref(),
            "--all".as_ref(),
            "--policy".as_ref(),
            hospital.as_os_str(),
            "--capture".as_ref(),
            capture_path.as_os_str(),
        ],
        vec!["policy".as_ref(), "compile".as_ref(), "--policy".as_ref(), hospital.as_os_str()],
    ];
    for args in policy_runs {
        let out = Command::new(env!("CARGO_BIN_EXE_ward")).args(&args).arg("--db").arg(&db).output().unwrap();
        // check exits 1 when it finds violations.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        texts.push((format!("ward {args:?}"), out.stdout));
        texts.push((format!("ward {args:?} (stderr)"), out.stderr));
    }
    let leaks = find_leaks(&PATIENT, &texts, &written);
    assert!(leaks.is_empty(), "patient data reached Ward's output:\n{}", leaks.join("\n"));
    // The JSON output is not empty: Ward did look at the traffic.
    let summary: Value = serde_json::from_slice(&runs[0].stdout).unwrap();
    assert!(summary["packets"].as_u64().is_some_and(|n| n > 100), "ward read {}", summary["packets"]);
    eprintln!(
        "patient data: {} outputs and {} written files searched, none holds {PATIENT:?}",
        texts.len(),
        written.len()
    );
}
