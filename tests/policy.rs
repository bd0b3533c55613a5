//! `ward policy` through the command line, over the inventory of the bundled sample: check
//! with the hospital example, a suggestion that checks clean against the traffic it came from,
//! simulate on the same capture, compile in both modes, and bad policies and requests.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), text(out));
    text(out)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn hospital() -> PathBuf {
    root().join("examples/policy/hospital.toml")
}

/// The sample's inventory in a fresh store.
fn inventory(dir: &Path) -> PathBuf {
    let db = dir.join("ward.db");
    let sample = root().join("samples/ward-sample.pcap");
    ok(&ward(&["analyze", "--no-progress", "--db", s(&db), s(&sample)]));
    db
}

#[test]
fn check_reports_violations_with_evidence_and_keeps_them_as_findings() {
    let dir = tempfile::tempdir().unwrap();
    let db = inventory(dir.path());
    let out = ward(&["policy", "check", "--json", "--policy", s(&hospital()), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(1), "violations exit 1: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&text(&out)).unwrap();
    let violations = report["violations"].as_array().unwrap();
    assert!(!violations.is_empty());
    let flows: Vec<&Value> = violations.iter().filter(|v| v["kind"] == "denied_flow").collect();
    assert!(!flows.is_empty(), "{report}");
    for v in &flows {
        let f = &v["flow"];
        for key in ["src", "dst", "proto", "port", "first", "last", "flows"] {
            assert!(!f[key].is_null(), "{key} missing from {v}");
        }
        assert!(v["reason"]["by"].is_string(), "{v}");
    }
    assert!(violations.iter().any(|v| v["kind"] == "misplaced"), "{report}");
    // Kept as findings of kind policy, one per violation with a device.
    let store = ward_store::Blocking::open_sqlite(&db).unwrap();
    let findings: Vec<_> = store.findings(None).unwrap().into_iter().filter(|f| f.kind == "policy").collect();
    let with_device = violations.iter().filter(|v| v["device"].is_i64()).count();
    assert_eq!(findings.len(), with_device);
    drop(store);
    // --no-record leaves them; a policy that allows everything clears them.
    let open = dir.path().join("open.toml");
    std::fs::write(
        &open,
        "[[segment]]\nname = \"all\"\ncidrs = [\"0.0.0.0/0\", \"::/0\"]\ninbound = \"allow\"\n",
    )
    .unwrap();
    let out = ward(&["policy", "check", "--policy", s(&open), "--db", s(&db)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let store = ward_store::Blocking::open_sqlite(&db).unwrap();
    assert!(store.findings(None).unwrap().iter().all(|f| f.kind != "policy"));
}

#[test]
fn a_suggested_policy_checks_clean_and_simulate_blocks_nothing_answered() {
    let dir = tempfile::tempdir().unwrap();
    let db = inventory(dir.path());
    let suggested = dir.path().join("suggested.toml");
    ok(&ward(&["policy", "suggest", "--db", s(&db), "-o", s(&suggested)]));
    let again = ward(&["policy", "suggest", "--db", s(&db), "-o", s(&suggested)]);
    assert_eq!(again.status.code(), Some(2), "an existing file is not replaced without --force");
    let report: Value = serde_json::from_str(&ok(&ward(&[
        "policy",
        "check",
        "--json",
        "--policy",
        s(&suggested),
        "--db",
        s(&db),
    ])))
    .unwrap();
    assert_eq!(report["violations"].as_array().unwrap().len(), 0, "{report}");
    assert!(report["allowed"].as_u64().unwrap() > 50, "{report}");

    let sample = root().join("samples/ward-sample.pcap");
    let sim: Value = serde_json::from_str(&ok(&ward(&[
        "policy",
        "simulate",
        "--json",
        "--all",
        "--policy",
        s(&suggested),
        "--db",
        s(&db),
        "--capture",
        s(&sample),
    ])))
    .unwrap();
    let decisions = sim["decisions"].as_array().unwrap();
    assert_eq!(decisions.len() as u64, sim["conversations"].as_u64().unwrap());
    let answered_blocked: Vec<&Value> =
        decisions.iter().filter(|d| d["answered"] == true && d["action"] == "deny").collect();
    assert!(answered_blocked.is_empty(), "{:#?}", &answered_blocked[..answered_blocked.len().min(5)]);

    // The hospital example blocks some of it, and says why, by class and application.
    let out = ok(&ward(&[
        "policy",
        "simulate",
        "--policy",
        s(&hospital()),
        "--db",
        s(&db),
        "--capture",
        s(&sample),
    ]));
    assert!(out.contains("would be blocked"), "{out}");
    assert!(out.contains("CLASS") && out.contains("APPLICATION"), "{out}");
}

#[test]
fn compile_writes_wards_table_and_monitor_mode_never_drops() {
    let dir = tempfile::tempdir().unwrap();
    let db = inventory(dir.path());
    let enforce =
        ok(&ward(&["policy", "compile", "--target", "nftables", "--policy", s(&hospital()), "--db", s(&db)]));
    assert!(enforce.contains("table inet ward {\n\tcomment \"managed by ward"), "{enforce}");
    assert!(enforce.contains("\" drop comment \"rule no-telnet\""), "{enforce}");
    let monitor = ok(&ward(&[
        "policy",
        "compile",
        "--monitor",
        "--table",
        "ward_test",
        "--policy",
        s(&hospital()),
        "--db",
        s(&db),
    ]));
    assert!(monitor.contains("table inet ward_test {"));
    assert!(!monitor.contains("\" drop"), "monitor mode must not drop");
    assert!(monitor.contains("ward would drop"));
    let info: Value = serde_json::from_str(&ok(&ward(&[
        "policy",
        "compile",
        "--json",
        "--policy",
        s(&hospital()),
        "--db",
        s(&db),
        "-o",
        s(&dir.path().join("w.nft")),
    ])))
    .unwrap();
    assert_eq!(info["segments"], 10);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("w.nft")).unwrap().len() as u64,
        info["bytes"].as_u64().unwrap()
    );
}

#[test]
fn bad_policies_and_requests_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[segment]]\nname = \"a\"\ncidrs = [\"10.0.0.0/8\"]\n\n[[rule]]\nname = \"x\"\nfrom = \"segment:b\"\nto = \"any\"\naction = \"permit\"\n").unwrap();
    let out = ward(&["policy", "compile", "--policy", s(&bad), "--db", s(&dir.path().join("none.db"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:7:8: unknown segment \"b\""), "{err}");
    assert!(err.contains("bad.toml:9:10: action \"permit\""), "{err}");
    // A check needs an inventory, and never creates one.
    let missing = dir.path().join("missing.db");
    let out = ward(&["policy", "check", "--policy", s(&hospital()), "--db", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no inventory at"));
    assert!(!missing.exists());
    let out = ward(&["policy", "compile", "--policy", s(&dir.path().join("nope.toml"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read it"));
    let out = ward(&["policy", "compile", "--policy", s(&hospital()), "--table", "bad name"]);
    assert_eq!(out.status.code(), Some(2));
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let out = ward(&["policy", "compile", "--policy", s(&binary)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
}
