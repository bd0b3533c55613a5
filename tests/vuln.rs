//! `ward vuln` through the command line, with the real advisories in `../shared/data/vuln`
//! (CISA's 144 ICSMA advisories as CSAF 2.0, two NVD records, the KEV catalogue): every
//! file imports or is refused with a reason; a fixture inventory of real products gives
//! exactly the expected findings; a CSAF provider is fetched over HTTP; a second report says
//! what changed. Tests print that they skipped when the data is absent.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use ward_core::{CommEdge, Derived, DeviceId, DeviceKey, Fact, Mac, Timestamp};
use ward_store::{Blocking, ChangeSet, synthetic};

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), stdout(out));
    stdout(out)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `../shared/data/vuln`, or `$WARD_SHARED_DATA/vuln`.
fn data() -> Option<PathBuf> {
    let dir = std::env::var_os("WARD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
        .join("vuln");
    if dir.join("csaf_icsma").is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: no {} (the shared advisories)", dir.display());
        None
    }
}

fn vex_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vuln/vex-bd-alaris-systems-manager.json")
}

/// EPSS scores made up for the test (FIRST's CSV form; its model line says `ward-test`).
fn epss_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vuln/epss-test-scores.csv")
}

#[test]
fn every_icsma_advisory_imports_or_is_refused_with_a_reason() {
    let Some(data) = data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    // A damaged copy beside the real files: refused by name, the rest still imported.
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("icsma-cut-short.json"), b"{\"document\": {\"csaf_version\": \"2.0\", \"tra")
        .unwrap();
    let csaf = data.join("csaf_icsma");
    let out = ward(&["vuln", "import", "--json", "--db", s(&db), s(&csaf), s(&bad)]);
    assert_eq!(out.status.code(), Some(1), "a skipped document makes the exit status 1");
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let docs = v["documents"].as_array().unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&csaf)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 144);
    // The outcome of every file, listed.
    for f in &files {
        let d =
            docs.iter().find(|d| d["source"] == f.as_str()).unwrap_or_else(|| panic!("no outcome for {f}"));
        eprintln!("{:<8} {:<18} {}", d["outcome"].as_str().unwrap(), d["id"].as_str().unwrap_or("-"), f);
        assert_eq!(d["outcome"], "new", "{f}: {d}");
        assert_eq!(d["kind"], "csaf");
    }
    let bad_out =
        docs.iter().find(|d| d["source"].as_str().unwrap().ends_with("icsma-cut-short.json")).unwrap();
    assert_eq!(bad_out["outcome"], "skipped");
    assert!(bad_out["detail"].as_str().unwrap().contains("invalid JSON"), "{bad_out}");
    assert_eq!(v["stored"]["csaf"], 144);
    // Again: nothing new, nothing replaced.
    let again: Value =
        serde_json::from_str(&stdout(&ward(&["vuln", "import", "--json", "--db", s(&db), s(&csaf)])))
            .unwrap();
    assert_eq!(again["counts"]["unchanged"], 144, "{}", again["counts"]);
}

#[test]
fn a_later_revision_replaces_and_an_earlier_one_is_kept_out() {
    let Some(data) = data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let original = std::fs::read_to_string(data.join("csaf_icsma/icsma-20-317-01.json")).unwrap();
    let mut doc: Value = serde_json::from_str(&original).unwrap();
    doc["document"]["tracking"]["version"] = "2".into();
    doc["document"]["tracking"]["current_release_date"] = "2021-01-01T00:00:00.000000Z".into();
    let v2 = dir.path().join("v2.json");
    std::fs::write(&v2, serde_json::to_vec(&doc).unwrap()).unwrap();
    let v1 = data.join("csaf_icsma/icsma-20-317-01.json");
    ok(&ward(&["vuln", "import", "--db", s(&db), s(&v1)]));
    let up: Value =
        serde_json::from_str(&ok(&ward(&["vuln", "import", "--json", "--db", s(&db), s(&v2)]))).unwrap();
    assert_eq!(up["documents"][0]["outcome"], "updated", "{up}");
    let old: Value =
        serde_json::from_str(&ok(&ward(&["vuln", "import", "--json", "--db", s(&db), s(&v1)]))).unwrap();
    assert_eq!(old["documents"][0]["outcome"], "older", "{old}");
}

fn derived(v: &str) -> Option<Derived> {
    Some(Derived { value: v.into(), source: "test".into(), confidence: 90 })
}

/// (id, vendor, model, firmware, criticality, address)
type FixtureDevice = (i64, &'static str, &'static str, Option<&'static str>, &'static str, &'static str);

/// The fixture inventory: real products and versions from the advisories.
const FIXTURE: &[FixtureDevice] = &[
    // ICSMA-20-317-01 and NVD: <= 9.33.1; ICSMA-17-017-02: <= 9.33.
    (1, "BD", "Alaris 8015 PC Unit", Some("9.19"), "critical", "10.1.1.10"),
    // Above both ranges.
    (2, "BD", "Alaris 8015 PC Unit", Some("9.33.2"), "critical", "10.1.1.11"),
    // No firmware known: every Alaris PC Unit advisory is "unknown version".
    (3, "BD", "Alaris 8015 PC Unit", None, "critical", "10.1.1.12"),
    // ICSMA-17-255-01: prior to B.06.18, so B.06.18 fixes it.
    (4, "Philips", "IntelliVue MX40", Some("B.06.12"), "critical", "10.1.2.10"),
    (5, "Philips", "IntelliVue MX40", Some("B.06.18"), "critical", "10.1.2.11"),
    // ICSMA-17-009-01A names St. Jude Medical, now Abbott: prior to 8.2.2.
    (6, "Abbott", "Merlin@home RF EX1150", Some("8.2.1"), "high", "10.1.3.10"),
    // ICSMA-17-241-01: "manufactured prior to August 28": not a version Ward can compare.
    (7, "Abbott", "Assurity MRI", Some("1.2"), "critical", "10.1.3.11"),
    // ICSMA-19-241-01: 14.x.
    (8, "Change Healthcare", "McKesson Cardiology", Some("14.1"), "high", "10.1.4.10"),
    (9, "Change Healthcare", "McKesson Cardiology", Some("13.2"), "high", "10.1.4.11"),
    // ICSMA-20-317-01 and NVD say <= 4.33; the VEX fixture says 4.33 is not affected.
    (10, "BD", "Alaris Systems Manager", Some("4.33"), "high", "10.1.5.10"),
    // Nothing published for it.
    (11, "Cisco", "Catalyst 9300", Some("17.3.1"), "low", "10.1.6.1"),
    // On the internet, talking to device 1.
    (12, "Unknown", "Unknown", None, "low", "81.2.69.160"),
];

fn fixture(db: &Path) {
    let store = Blocking::open_sqlite(db).unwrap();
    let devices = FIXTURE
        .iter()
        .map(|&(id, vendor, model, firmware, crit, ip)| {
            let mut r = synthetic::device(id, 1);
            let ip: IpAddr = ip.parse().unwrap();
            let mac = Mac([0x02, 0, 0, 0, 0, id as u8]);
            r.device.keys = vec![DeviceKey::Mac(mac), DeviceKey::Ip(ip)];
            r.device.macs = vec![mac];
            r.device.ips = vec![ip];
            r.ip_ranges.clear();
            r.device.state = ward_core::Lifecycle::Active;
            let c = &mut r.device.classification;
            c.vendor = derived(vendor);
            c.model = derived(model);
            c.firmware = firmware.and_then(derived);
            c.criticality = derived(crit);
            r.facts.retain(|f| !matches!(f.key.as_str(), "vendor" | "model" | "firmware"));
            if id == 1 {
                r.facts.push(Fact {
                    key: "credential".into(),
                    value: "telnet user login, default, accepted".into(),
                    source: "telnet.login".into(),
                    confidence: 90,
                    first_seen: Timestamp::from_secs(1),
                    last_seen: Timestamp::from_secs(2),
                });
            }
            r
        })
        .collect();
    let edge = CommEdge {
        initiator: DeviceId(12),
        responder: DeviceId(1),
        proto: 6,
        port: 23,
        app: "telnet".into(),
        hour: 490_000,
        flows: 1,
        packets: 10,
        bytes: 1000,
    };
    store.apply(&ChangeSet { devices, edges: vec![edge], ..ChangeSet::default() }).unwrap();
    store.close();
}

/// (device, CVE, standing, fixed version, patch available, advisories) of a report.
fn findings(report: &Value) -> Vec<(i64, String, String, String, bool, String)> {
    let mut out = Vec::new();
    for d in report["devices"].as_array().unwrap() {
        for f in d["findings"].as_array().unwrap() {
            out.push((
                d["id"].as_i64().unwrap(),
                f["cve"].as_str().unwrap().to_owned(),
                f["standing"].as_str().unwrap().to_owned(),
                f["fixed_version"].as_str().unwrap_or("").to_owned(),
                f["patch_available"].as_bool().unwrap(),
                f["advisories"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(" "),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn a_fixture_inventory_of_real_products_gives_exactly_the_expected_findings() {
    let Some(data) = data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    fixture(&db);
    ok(&ward(&[
        "vuln",
        "import",
        "--db",
        s(&db),
        s(&data.join("csaf_icsma")),
        s(&data.join("nvd_cve_2_0")),
        s(&data.join("kev_known_exploited_vulnerabilities.json")),
        s(&vex_fixture()),
        s(&epss_fixture()),
    ]));
    let report: Value =
        serde_json::from_str(&ok(&ward(&["vuln", "report", "--json", "--db", s(&db)]))).unwrap();
    let got = findings(&report);
    for f in &got {
        eprintln!("{f:?}");
    }
    let f = |d: i64, cve: &str, st: &str, fixed: &str, patch: bool, adv: &str| {
        (d, cve.to_owned(), st.to_owned(), fixed.to_owned(), patch, adv.to_owned())
    };
    // ICSMA-23-194-01 lists the PCU Model 8015 up to 12.1.3 and the Systems Manager up to
    // 12.3; ICSMA-20-170-06 lists PC Unit versions 9.13, 9.19, 9.33 and 12.1 exactly;
    // ICSMA-19-241-01 lists McKesson Cardiology 12.x, 13.x, 14.x, 14.1.x and 11.x and older.
    let alaris_23: &[&str] = &[
        "CVE-2018-1285",
        "CVE-2023-30559",
        "CVE-2023-30560",
        "CVE-2023-30561",
        "CVE-2023-30562",
        "CVE-2023-30563",
        "CVE-2023-30564",
        "CVE-2023-30565",
    ];
    let mut want = vec![
        f(1, "CVE-2016-8375", "affected", "", false, "ICSMA-17-017-02"),
        f(1, "CVE-2016-9355", "affected", "", false, "ICSMA-17-017-02"),
        f(1, "CVE-2019-11479", "affected", "", false, "ICSMA-20-170-06"),
        // One finding from two sources.
        f(1, "CVE-2020-25165", "affected", "", false, "ICSMA-20-317-01 NVD:CVE-2020-25165"),
        f(3, "CVE-2016-8375", "unknown_version", "", false, "ICSMA-17-017-02"),
        f(3, "CVE-2016-9355", "unknown_version", "", false, "ICSMA-17-017-02"),
        f(3, "CVE-2019-11479", "unknown_version", "", false, "ICSMA-20-170-06"),
        f(3, "CVE-2020-25165", "unknown_version", "", false, "ICSMA-20-317-01 NVD:CVE-2020-25165"),
        f(4, "CVE-2017-9657", "affected", "B.06.18", true, "ICSMA-17-255-01"),
        f(4, "CVE-2017-9658", "affected", "B.06.18", true, "ICSMA-17-255-01"),
        f(6, "CVE-2017-5149", "affected", "8.2.2", true, "ICSMA-17-009-01A"),
        f(7, "CVE-2017-12712", "unknown_version", "", false, "ICSMA-17-241-01"),
        f(7, "CVE-2017-12714", "unknown_version", "", false, "ICSMA-17-241-01"),
        f(7, "CVE-2017-12716", "unknown_version", "", false, "ICSMA-17-241-01"),
        f(8, "CVE-2018-18630", "affected", "", false, "ICSMA-19-241-01"),
        f(9, "CVE-2018-18630", "affected", "", false, "ICSMA-19-241-01"),
    ];
    for cve in alaris_23 {
        // Device 10's CVE-2020-25165 is suppressed by the VEX fixture; these are not.
        for (device, standing) in [(1, "affected"), (2, "affected"), (3, "unknown_version"), (10, "affected")]
        {
            want.push(f(device, cve, standing, "", false, "ICSMA-23-194-01"));
        }
    }
    want.sort();
    assert_eq!(got, want);
    assert_eq!(report["suppressed_by_vex"], 1, "device 10's CVE-2020-25165");
    let finding = |device: i64, cve: &str| {
        let d = report["devices"].as_array().unwrap().iter().find(|d| d["id"] == device).unwrap();
        d["findings"].as_array().unwrap().iter().find(|f| f["cve"] == cve).unwrap().clone()
    };
    // KEV, EPSS and both sources' scores reach the finding: CISA scores CVE-2020-25165 6.5,
    // NVD 7.5; the higher is kept.
    assert_eq!(finding(6, "CVE-2017-5149")["epss"], 0.42);
    assert_eq!(finding(1, "CVE-2020-25165")["cvss_v3"], 7.5);
    assert_eq!(finding(1, "CVE-2020-25165")["kev"], false);
    // The device on the internet with a default login weighs more than its twin.
    let risk = |id: i64| {
        report["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .map(|d| d["risk"]["score"].as_i64().unwrap())
    };
    let (r1, r3) = (risk(1).unwrap(), risk(3).unwrap());
    assert!(r1 > r3, "{r1} vs {r3}");
    let d1 = report["devices"].as_array().unwrap().iter().find(|d| d["id"] == 1).unwrap();
    assert_eq!(d1["exposure"]["internet_peers"], 1);
    assert_eq!(d1["exposure"]["weak_credentials"], true);
    // The first report has nothing to compare with: every finding is new.
    assert_eq!(report["changes"].as_array().unwrap().len(), want.len());

    // The findings are in the store as `vuln` findings.
    let store = Blocking::open_sqlite(&db).unwrap();
    let stored = store.findings(None).unwrap();
    assert_eq!(stored.iter().filter(|f| f.kind == "vuln").count(), want.len());
    store.close();

    // Device 4's firmware is updated to the fixed version: its findings resolve.
    ok(&ward(&["inventory", "set", "--db", s(&db), "4", "firmware=B.06.18"]));
    let second: Value =
        serde_json::from_str(&ok(&ward(&["vuln", "report", "--json", "--db", s(&db)]))).unwrap();
    let changes = second["changes"].as_array().unwrap();
    assert_eq!(
        changes.iter().filter(|c| c["change"] == "resolved" && c["device"] == 4).count(),
        2,
        "{changes:?}"
    );
    assert!(changes.iter().all(|c| c["device"] == 4), "{changes:?}");
    // Per advisory, table and CSV.
    let by_adv: Value = serde_json::from_str(&ok(&ward(&[
        "vuln",
        "report",
        "--by",
        "advisory",
        "--json",
        "--no-record",
        "--db",
        s(&db),
    ])))
    .unwrap();
    let icsma =
        by_adv["advisories"].as_array().unwrap().iter().find(|a| a["advisory"] == "ICSMA-20-317-01").unwrap();
    assert_eq!(icsma["devices_affected"], serde_json::json!([1]));
    assert_eq!(icsma["devices_unknown_version"], serde_json::json!([3]));
    let csv = ok(&ward(&["vuln", "report", "--csv", "--no-record", "--db", s(&db)]));
    assert_eq!(csv.lines().count(), 1 + want.len() - 2);
    let table = ok(&ward(&["vuln", "report", "--device", "1", "--no-record", "--db", s(&db)]));
    assert!(table.contains("CVE-2020-25165") && table.contains("internet peers"), "{table}");
}

#[test]
fn a_scheduled_import_assesses_after_a_change_and_keeps_the_last_good_document() {
    use std::io::BufRead;
    let Some(data) = data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    fixture(&db);
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    let doc = feed.join("icsma-20-317-01.json");
    std::fs::copy(data.join("csaf_icsma/icsma-20-317-01.json"), &doc).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["vuln", "import", "--every", "1s", "--json", "--db", s(&db), s(&feed)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next = || -> Value {
        let line =
            rx.recv_timeout(std::time::Duration::from_secs(60)).expect("a line from the scheduled import");
        serde_json::from_str(&line).unwrap()
    };
    // Round 1: the advisory is new, and the inventory is assessed.
    assert_eq!(next()["counts"]["new"], 1);
    let assessed = next();
    assert_eq!(assessed["devices_with_findings"], 3, "{assessed}"); // devices 1, 3 and 10
    // The document goes bad: a later round reports it and keeps the stored one.
    std::fs::write(&doc, b"{\"document\": ").unwrap();
    loop {
        let round = next();
        if round["counts"]["skipped"] == 1 {
            break;
        }
        assert!(round.get("assessment").is_none(), "nothing changed, nothing assessed: {round}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let report: Value =
        serde_json::from_str(&ok(&ward(&["vuln", "report", "--json", "--no-record", "--db", s(&db)])))
            .unwrap();
    assert_eq!(findings(&report).len(), 3, "the last good document still matches");
}

/// A free port on the loopback address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_csaf_provider_is_fetched_over_http() {
    let Some(data) = data() else { return };
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: no python3 to serve the provider");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    let csaf = root.join(".well-known/csaf");
    std::fs::create_dir_all(csaf.join("white/2020")).unwrap();
    std::fs::create_dir_all(csaf.join("directory/2017")).unwrap();
    for (name, sub) in [("icsma-20-317-01.json", "white/2020"), ("icsma-17-255-01.json", "directory/2017")] {
        std::fs::copy(data.join("csaf_icsma").join(name), csaf.join(sub).join(name)).unwrap();
    }
    std::fs::write(csaf.join("directory/index.txt"), "2017/icsma-17-255-01.json\n2017/missing.json\n")
        .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/.well-known/csaf");
    let feed = serde_json::json!({"feed": {"id": "x", "title": "t", "entry": [
        {"id": "ICSMA-20-317-01", "content": {"type": "application/json", "src": format!("{base}/white/2020/icsma-20-317-01.json")}}
    ]}});
    std::fs::write(csaf.join("white/feed.json"), feed.to_string()).unwrap();
    let meta = serde_json::json!({
        "canonical_url": format!("{base}/provider-metadata.json"),
        "metadata_version": "2.0",
        "list_on_CSAF_aggregators": false,
        "mirror_on_CSAF_aggregators": false,
        "publisher": {"category": "vendor", "name": "test", "namespace": "https://example.invalid"},
        "role": "csaf_provider",
        "distributions": [
            {"rolie": {"feeds": [{"summary": "white", "tlp_label": "WHITE", "url": format!("{base}/white/feed.json")}]}},
            {"directory_url": format!("{base}/directory/")}
        ]
    });
    std::fs::write(csaf.join("provider-metadata.json"), meta.to_string()).unwrap();
    let mut server = Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory", s(&root)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the HTTP server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let db = dir.path().join("ward.db");
    let out = ward(&["vuln", "import", "--json", "--db", s(&db), &format!("{base}/provider-metadata.json")]);
    let _ = server.kill();
    let _ = server.wait();
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let docs = v["documents"].as_array().unwrap();
    let outcome = |suffix: &str| {
        docs.iter()
            .find(|d| d["source"].as_str().unwrap().ends_with(suffix))
            .map(|d| d["outcome"].as_str().unwrap().to_owned())
    };
    assert_eq!(outcome("icsma-20-317-01.json").as_deref(), Some("new"), "{v}");
    assert_eq!(outcome("icsma-17-255-01.json").as_deref(), Some("new"), "{v}");
    // The missing one is reported by its URL; the others are still imported.
    assert_eq!(outcome("missing.json").as_deref(), Some("skipped"), "{v}");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["stored"]["csaf"], 2);
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let out = ward(&["vuln", "report", "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no inventory"));
    assert!(!db.exists(), "a report never creates a database");
    let out = ward(&["vuln", "import", "--db", s(&db), s(&dir.path().join("nothing-here.json"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("skipped"));
    let out = ward(&["vuln", "report", "--db", s(&db), "--device", "999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device"));
    let out = ward(&["vuln", "import", "--every", "5w", "--db", s(&db), "x"]);
    assert_eq!(out.status.code(), Some(2));
}
