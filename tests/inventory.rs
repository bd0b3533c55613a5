//! The inventory through the command line: `ward analyze` writing the store, `ward inventory`
//! reading it, overrides, re-analysis, and a process killed in the middle of a large analysis.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde_json::Value;

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ward-sample.pcap")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A capture from ward-gen: `flows` conversations of the hospital over five minutes.
fn capture(dir: &Path, seed: u64, flows: usize) -> PathBuf {
    let path = dir.join(format!("hospital-{seed}-{flows}.pcap"));
    let file = std::fs::File::create(&path).unwrap();
    ward_gen::write_capture(file, ward_gen::Profile::Bench, seed, Some(flows), Some(300)).unwrap();
    path
}

fn analyze(db: &Path, files: &[&Path]) -> Value {
    let mut args = vec!["analyze", "--json", "--no-progress", "--db", s(db)];
    args.extend(files.iter().map(|f| s(f)));
    serde_json::from_str(&ok(&ward(&args))).unwrap()
}

/// Everything the store holds that a person can read: devices with facts, history, services
/// and overrides, and the events.
fn contents(db: &Path) -> String {
    let export = ok(&ward(&["inventory", "export", "--db", s(db)]));
    let events = ok(&ward(&["inventory", "events", "--json", "--limit", "1000000", "--db", s(db)]));
    format!("{export}\n{events}")
}

/// Asserts two store dumps are equal, showing the first line that differs.
fn same(a: &str, b: &str) {
    if let Some((i, (x, y))) = a.lines().zip(b.lines()).enumerate().find(|(_, (x, y))| x != y) {
        let at = x.bytes().zip(y.bytes()).take_while(|(p, q)| p == q).count();
        let from = x[..at].char_indices().rev().nth(300).map_or(0, |(j, _)| j);
        let window = |s: &str| s.get(from..(at + 300).min(s.len())).unwrap_or(s).to_owned();
        panic!("line {i} differs at byte {at}:\n{}\n{}", window(x), window(y));
    }
    assert_eq!(a.lines().count(), b.lines().count());
}

#[test]
fn the_same_capture_twice_changes_nothing_and_another_extends_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let first = analyze(&db, &[&sample()]);
    let inv = &first["inventory"];
    assert!(inv["devices_written"].as_u64().unwrap() > 100, "{inv}");
    assert_eq!(inv["already_imported"], false);
    assert!(inv["edges_unplaced"].as_u64().is_some(), "{inv}");
    let news = inv["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "new_device").count();
    assert_eq!(news as u64, inv["devices"].as_u64().unwrap(), "every device is new on the first run");
    // Every device of the run has its place and its evidence.
    for d in first["devices"].as_array().unwrap() {
        assert!(d["id"].as_i64().is_some(), "{d}");
        assert!(d["state"].is_string(), "{d}");
        if let Some(class) = d.get("class") {
            assert!(class["source"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
        }
    }
    let before = contents(&db);
    let again = analyze(&db, &[&sample()]);
    assert_eq!(again["inventory"]["already_imported"], true);
    assert_eq!(again["inventory"]["devices_written"], 0);
    assert_eq!(again["inventory"]["events"].as_array().unwrap().len(), 0, "{}", again["inventory"]);
    same(&contents(&db), &before);
    let ids = |v: &Value| -> Vec<i64> {
        v["devices"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(ids(&again), ids(&first), "devices keep their numbers");

    // Another capture of the same hospital (another seed, the same devices) extends it.
    let other = capture(dir.path(), 1, 400);
    let third = analyze(&db, &[&other]);
    assert_eq!(third["inventory"]["already_imported"], false);
    assert!(third["inventory"]["edges_written"].as_u64().unwrap() > 0);
}

#[test]
fn killed_in_the_middle_of_a_large_analysis_the_store_opens_and_a_rerun_equals_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let cap = capture(dir.path(), 3, 12_000);
    let clean = dir.path().join("clean.db");
    let t = Instant::now();
    analyze(&clean, &[&cap]);
    let whole = t.elapsed();
    let killed = dir.path().join("killed.db");
    let mut kills = 0;
    for tenth in [1u32, 3, 5, 7, 8, 9, 10] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(["analyze", "--json", "--no-progress", "--db", s(&killed), s(&cap)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole * tenth / 10);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL: no destructor, no flush, no rollback of its own
            kills += 1;
        }
        child.wait().unwrap();
        if killed.exists() {
            let store = ward_store::Blocking::open_sqlite(&killed).unwrap();
            assert_eq!(store.integrity_check().unwrap(), "ok", "after a kill at {tenth}/10 of the run");
            drop(store);
            ok(&ward(&["inventory", "list", "--db", s(&killed)]));
        }
    }
    assert!(kills >= 3, "only {kills} runs were still going when killed (a run takes {whole:?})");
    analyze(&killed, &[&cap]);
    same(&contents(&killed), &contents(&clean));
}

#[test]
fn bad_stores_and_bad_requests_are_refused_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    // A file that is not an inventory is left as it was.
    let notes = dir.path().join("notes.db");
    std::fs::write(&notes, "ward round notes, not a database\n").unwrap();
    let out = ward(&["analyze", "--no-progress", "--db", s(&notes), s(&sample())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("notes.db"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "ward round notes, not a database\n");
    // Reading an inventory that does not exist does not create one.
    let missing = dir.path().join("missing.db");
    let out = ward(&["inventory", "list", "--db", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
    let db = dir.path().join("ward.db");
    analyze(&db, &[&sample()]);
    // A rule file that does not load is refused before anything is read or written.
    let rules = dir.path().join("site.toml");
    std::fs::write(&rules, "[[rule]]\nid = \"broken\"\nconfidence = 70\nmatch = [{ key = \"hostname\", regex = '(' }]\nset = { class = \"printer\" }\n").unwrap();
    let fresh = dir.path().join("fresh.db");
    let out = ward(&["analyze", "--no-progress", "--db", s(&fresh), "--rules", s(&rules), s(&sample())]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("site.toml") && err.contains("broken"), "{err}");
    assert!(!fresh.exists(), "an inventory was made by a run that refused its rules");
    for (args, says) in [
        (vec!["inventory", "list", "--sort", "password"], "sort"),
        (vec!["inventory", "list", "--state", "asleep"], "state"),
        (vec!["inventory", "show", "99999"], "no device"),
        (vec!["inventory", "show", "not-a-device"], "not a device"),
        (vec!["inventory", "set", "1", "colour=red"], "unknown key"),
        (vec!["inventory", "set", "1", "class=toaster"], "unknown class"),
        (vec!["inventory", "set", "1", "state=asleep"], "state"),
        (vec!["inventory", "set", "1", "criticality"], "key=value"),
        (vec!["inventory", "events", "--kind", "party"], "event kind"),
    ] {
        let mut a = args.clone();
        a.extend(["--db", s(&db)]);
        let out = ward(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn list_show_peers_and_export_agree_with_the_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let run = analyze(&db, &[&sample()]);
    let db = s(&db);
    let listed: Value =
        serde_json::from_str(&ok(&ward(&["inventory", "list", "--json", "--db", db]))).unwrap();
    assert_eq!(listed.as_array().unwrap().len() as u64, run["inventory"]["devices"].as_u64().unwrap());
    // CSV: a header and one row per device.
    let csv = ok(&ward(&["inventory", "list", "--csv", "--db", db]));
    assert_eq!(csv.lines().count(), listed.as_array().unwrap().len() + 1);
    assert!(csv.starts_with("id,macs,ips,vlans,class,"));
    // The busiest answering device has peers, and they point back.
    let busiest = run["devices"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|d| d["flows_answered"].as_u64().unwrap_or(0))
        .unwrap();
    let id = busiest["id"].as_i64().unwrap().to_string();
    let peers: Value =
        serde_json::from_str(&ok(&ward(&["inventory", "peers", &id, "--json", "--db", db]))).unwrap();
    let peers = peers.as_array().unwrap();
    assert!(!peers.is_empty());
    let answered: u64 =
        peers.iter().filter(|p| p["initiated"] == false).map(|p| p["flows"].as_u64().unwrap()).sum();
    assert_eq!(answered, busiest["flows_answered"].as_u64().unwrap(), "{busiest}");
    let back = peers[0]["peer"].as_i64().unwrap().to_string();
    let theirs: Value =
        serde_json::from_str(&ok(&ward(&["inventory", "peers", &back, "--json", "--db", db]))).unwrap();
    assert!(theirs.as_array().unwrap().iter().any(|p| p["peer"].as_i64().unwrap().to_string() == id));
    // Show by MAC names the same device as by number, with its facts and evidence.
    if let Some(mac) = busiest["macs"].as_array().and_then(|m| m.first()).and_then(Value::as_str) {
        let by_mac: Value =
            serde_json::from_str(&ok(&ward(&["inventory", "show", mac, "--json", "--db", db]))).unwrap();
        assert_eq!(by_mac["device"]["id"].as_i64().unwrap().to_string(), id);
        assert!(
            by_mac["facts"].as_array().unwrap().iter().all(|f| !f["source"].as_str().unwrap().is_empty())
        );
    }
    let text = ok(&ward(&["inventory", "show", &id, "--db", db]));
    assert!(text.contains("Facts") && text.contains("Services it offers"), "{text}");
    let export: Value = serde_json::from_str(&ok(&ward(&["inventory", "export", "--db", db]))).unwrap();
    assert_eq!(export.as_array().unwrap().len(), listed.as_array().unwrap().len());
}

#[test]
fn overrides_survive_reanalysis_and_rule_updates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let run = analyze(&db, &[&sample()]);
    // A pump the rules recognised.
    let pump = run["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["class"]["value"] == "infusion_pump" && d["macs"].as_array().is_some_and(|m| !m.is_empty())
        })
        .expect("the sample has an infusion pump the rules recognise");
    let id = pump["id"].as_i64().unwrap().to_string();
    let mac = pump["macs"][0].as_str().unwrap().to_owned();
    let dbs = s(&db);
    // A biomedical engineer knows better: it is a ventilator, owned by the ICU.
    let out = ok(&ward(&[
        "inventory",
        "set",
        &mac,
        "class=ventilator",
        "vendor=Hamilton Medical",
        "owner=ICU",
        "--by",
        "biomed",
        "--db",
        dbs,
    ]));
    assert!(out.contains("class = ventilator"), "{out}");
    let shown = |id: &str| -> Value {
        serde_json::from_str(&ok(&ward(&["inventory", "show", id, "--json", "--db", dbs]))).unwrap()
    };
    let d = shown(&id);
    assert_eq!(d["device"]["class"]["value"], "ventilator");
    assert_eq!(d["device"]["class"]["source"], "override");
    assert!(
        d["events"].as_array().unwrap().iter().any(|e| e["kind"] == "override" && e["new"] == "ventilator")
    );

    // Another reading of the same capture, and of another capture with the pump in it.
    let again = analyze(&db, &[&sample()]);
    let seen = |v: &Value| -> Value {
        v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"].as_i64().unwrap().to_string() == id)
            .unwrap()
            .clone()
    };
    assert_eq!(seen(&again)["class"]["value"], "ventilator");
    assert_eq!(seen(&again)["vendor"]["value"], "Hamilton Medical");
    assert_eq!(shown(&id)["device"]["class"]["value"], "ventilator");

    // New rules that would call it a printer, as confidently as a rule can: the override
    // still wins, and the rule's opinion is kept as evidence.
    let rules = dir.path().join("site.toml");
    std::fs::write(
        &rules,
            "[[rule]]\nid = \"site-printers\"\ndescription = \"test: the site's printer list\"\nconfidence = 100\n\
             match = [{ key = \"oui_vendor\", regex = '.' }]\nset = { class = \"printer\", vendor = \"Zebra\" }\n",
    )
    .unwrap();
    let other = capture(dir.path(), 1, 300);
    let third: Value = serde_json::from_str(&ok(&ward(&[
        "analyze",
        "--json",
        "--no-progress",
        "--db",
        dbs,
        "--rules",
        s(&rules),
        s(&sample()),
        s(&other),
    ])))
    .unwrap();
    assert_eq!(third["inventory"]["already_imported"], false);
    assert_eq!(seen(&third)["class"]["value"], "ventilator");
    let d = shown(&id);
    assert_eq!(d["device"]["class"]["value"], "ventilator");
    assert_eq!(d["device"]["vendor"]["value"], "Hamilton Medical");
    assert!(
        d["facts"].as_array().unwrap().iter().any(|f| f["key"] == "class"
            && f["value"] == "printer"
            && f["source"].as_str().unwrap().starts_with("rule:site-printers")),
        "the new rule's reading is kept as evidence"
    );
    // Devices without an override follow the new rule.
    let listed: Value =
        serde_json::from_str(&ok(&ward(&["inventory", "list", "--json", "--class", "printer", "--db", dbs])))
            .unwrap();
    assert!(listed.as_array().unwrap().len() > 10);

    // Removing the override gives the device back to the rules at the next reading.
    ok(&ward(&["inventory", "set", &id, "class=", "--db", dbs]));
    analyze(&db, &[&sample()]);
    assert_ne!(shown(&id)["device"]["class"]["value"], "ventilator");
    // Retired by a person: it stays retired however often it is seen.
    ok(&ward(&["inventory", "set", &id, "state=retired", "--db", dbs]));
    let fourth = analyze(&db, &[&sample()]);
    assert_eq!(seen(&fourth)["state"], "retired");
    let retired: Value =
        serde_json::from_str(&ok(&ward(&["inventory", "list", "--json", "--state", "retired", "--db", dbs])))
            .unwrap();
    assert_eq!(retired.as_array().unwrap().len(), 1);
}

#[test]
fn a_relayed_dhcp_ack_binds_the_clients_address_to_its_mac_not_to_the_relay() {
    let Some(shared) = ward_fuzz::outside::shared_data() else {
        eprintln!("skipped: ../shared/data not present");
        return;
    };
    // tcpdump's dhcp-mud.pcap: a DHCP ACK relayed by 62.12.173.114 (giaddr), carried between
    // the relay's and the server's MACs, for a client (chaddr b8:27:eb:b8:53:c8) that is not on
    // this link.
    let cap = shared.join("pcaps/tcpdump_tests/dhcp-mud.pcap");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let run = analyze(&db, &[&cap]);
    let client = run["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["macs"][0] == "b8:27:eb:b8:53:c8")
        .expect("the relayed client is a device of its own, known by its MAC");
    assert_eq!(client["ips"], serde_json::json!(["62.12.173.123"]));
    assert!(client["evidence"].as_array().unwrap().iter().any(|e| e == "dhcp.ack"), "{client}");
    for d in run["devices"].as_array().unwrap() {
        if d["macs"][0] != "b8:27:eb:b8:53:c8" {
            assert!(!d["ips"].as_array().unwrap().iter().any(|ip| ip == "62.12.173.123"), "{d}");
        }
    }
    // In the inventory, the address names the client.
    let shown: Value =
        serde_json::from_str(&ok(&ward(&["inventory", "show", "62.12.173.123", "--json", "--db", s(&db)])))
            .unwrap();
    assert_eq!(shown["device"]["macs"], serde_json::json!(["b8:27:eb:b8:53:c8"]));
    assert!(shown["ip_history"].as_array().unwrap().iter().any(|r| r["ip"] == "62.12.173.123"));
}
