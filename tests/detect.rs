//! Detection through the command line, over the bundled sample: intel matches checked
//! against tshark's own reading of the capture, and behaviour that learns while the window
//! lasts and then knows the same traffic again.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/ward-sample.pcap")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// `(source address, source port)` of the packets tshark's filter picks.
fn tshark(filter: &str, port_field: &str) -> BTreeSet<(String, u16)> {
    let out = Command::new("tshark")
        .args(["-r", s(&sample()), "-Y", filter, "-T", "fields", "-e", "ip.src", "-e", port_field])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, p)| (a.to_owned(), p.parse().unwrap()))
        .collect()
}

#[test]
fn listed_addresses_and_names_raise_exactly_the_alerts_tshark_finds() {
    if !have("tshark") {
        eprintln!("skipped: tshark is missing (Debian tshark)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ips = dir.path().join("ips.txt");
    std::fs::write(&ips, "# two addresses the sample's devices reach\n15.175.66.65\n162.17.131.72\t7\n")
        .unwrap();
    let names = dir.path().join("names.txt");
    std::fs::write(&names, "telemetry.pumpvendor.example\n").unwrap();
    let out = json(&ward(&[
        "analyze",
        "--json",
        "--no-progress",
        "--no-store",
        "--intel",
        s(&ips),
        "--intel",
        s(&names),
        s(&sample()),
    ]));
    let alerts = out["alerts"].as_array().unwrap();
    let got = |field: &str| -> BTreeSet<(String, u16)> {
        alerts
            .iter()
            .filter(|a| a["kind"] == "intel_match" && a["evidence"].as_str().unwrap().starts_with(field))
            .map(|a| {
                (
                    a["flow"]["src"].as_str().unwrap().to_owned(),
                    a["flow"]["src_port"].as_u64().unwrap() as u16,
                )
            })
            .collect()
    };
    // The oracle: tshark's reading of the same packets.
    let queries = tshark(
        "dns.flags.response == 0 && dns.qry.name contains \"telemetry.pumpvendor.example\"",
        "udp.srcport",
    );
    let connections = tshark(
        "(ip.dst == 15.175.66.65 || ip.dst == 162.17.131.72) && tcp.flags.syn == 1 && tcp.flags.ack == 0",
        "tcp.srcport",
    );
    assert!(!queries.is_empty() && !connections.is_empty(), "the sample has the traffic");
    assert_eq!(got("dns.query"), queries);
    assert_eq!(got("flow."), connections);
    assert_eq!(alerts.len(), queries.len() + connections.len(), "nothing else: {alerts:#?}");
    // The same run with an export: every alert reaches the JSON lines file.
    let lines = dir.path().join("alerts.jsonl");
    let export = dir.path().join("export.toml");
    std::fs::write(&export, format!("[[export]]\nkind = \"jsonl\"\npath = {:?}\n", s(&lines))).unwrap();
    let again = json(&ward(&[
        "analyze",
        "--json",
        "--no-progress",
        "--no-store",
        "--intel",
        s(&ips),
        "--intel",
        s(&names),
        "--export",
        s(&export),
        s(&sample()),
    ]));
    let written: Vec<Value> =
        std::fs::read_to_string(&lines).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(written.len(), again["alerts"].as_array().unwrap().len());
    assert_eq!(written[0]["kind"], "intel_match");
    for a in alerts {
        assert!(a["source"].as_str().is_some_and(|f| f == "ips.txt" || f == "names.txt"), "{a}");
        assert!(a["indicator"].is_string() && a["confidence"].is_u64(), "{a}");
        assert!(a["device"].is_i64(), "every match names the device: {a}");
    }
}

#[test]
fn behaviour_learns_within_the_window_and_then_knows_the_same_traffic() {
    if !have("editcap") {
        eprintln!("skipped: editcap is missing (Debian wireshark-common, with tshark)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    // The same morning eight days later.
    let later = dir.path().join("later.pcap");
    let st = Command::new("editcap")
        .args(["-t", &(8 * 86_400).to_string(), s(&sample()), s(&later)])
        .status()
        .unwrap();
    assert!(st.success());
    let behavioural = |v: &Value| -> Vec<String> {
        v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] != "intel_match" && a["kind"] != "medical_device_internet")
            .map(|a| a["message"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = json(&ward(&["analyze", "--json", "--no-progress", "--db", s(&db), s(&sample())]));
    assert!(first["alerts"].as_array().unwrap().is_empty(), "learning raises nothing");
    let learning = first["detection"]["learning"].as_array().unwrap().len();
    assert!(learning > 100, "the sample's devices learn: {learning}");
    assert_eq!(first["detection"]["baselined"], 0);
    // Past the window, the same traffic is known: nothing behavioural is new.
    let second = json(&ward(&["analyze", "--json", "--no-progress", "--db", s(&db), s(&later)]));
    assert_eq!(second["detection"]["learning"].as_array().unwrap().len(), 0);
    assert!(second["detection"]["baselined"].as_u64().unwrap() > 100);
    let raised = behavioural(&second);
    assert!(raised.is_empty(), "{raised:#?}");
    // With no learning at all, the same capture is all new: the test can fail.
    let db2 = dir.path().join("none.db");
    let eager = json(&ward(&[
        "analyze",
        "--json",
        "--no-progress",
        "--learning-days",
        "0",
        "--db",
        s(&db2),
        s(&sample()),
    ]));
    assert!(behavioural(&eager).len() > 50);
    // Alerts are stored, and people act on them.
    let list = json(&ward(&["alerts", "list", "--json", "--db", s(&db2), "--limit", "5"]));
    let id = list[0]["id"].as_i64().unwrap().to_string();
    assert!(ward(&["alerts", "ack", "--db", s(&db2), &id]).status.success());
    let acked = json(&ward(&["alerts", "list", "--json", "--db", s(&db2), "--state", "acknowledged"]));
    assert_eq!(acked.as_array().unwrap().len(), 1);
    let bad = ward(&[
        "alerts",
        "suppress",
        "--db",
        s(&db2),
        "--kind",
        "scan",
        "--owner",
        "soc",
        "--reason",
        "x",
        "--days",
        "0",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Packets a test writes with scapy: a temperature sensor of the sample opens a TLS
/// conversation with an internet address it never used, and sweeps 25 hosts on tcp/445
/// without answers, at `t0` seconds since the epoch.
const CRAFT: &str = r#"
import sys
from scapy.all import Ether, Dot1Q, IP, TCP, wrpcap
out, t0 = sys.argv[1], float(sys.argv[2])
me, gw = "dc:a6:32:41:5f:37", "00:00:0c:07:ac:01"
def l2(src, dst):
    return Ether(src=src, dst=dst) / Dot1Q(vlan=50)
pkts = []
def at(p, t):
    p.time = t
    pkts.append(p)
at(l2(me, gw) / IP(src="10.50.0.73", dst="45.33.32.200") / TCP(sport=50001, dport=443, flags="S", seq=1000), t0)
at(l2(gw, me) / IP(src="45.33.32.200", dst="10.50.0.73") / TCP(sport=443, dport=50001, flags="SA", seq=5000, ack=1001), t0 + 0.01)
at(l2(me, gw) / IP(src="10.50.0.73", dst="45.33.32.200") / TCP(sport=50001, dport=443, flags="A", seq=1001, ack=5001), t0 + 0.02)
at(l2(me, gw) / IP(src="10.50.0.73", dst="45.33.32.200") / TCP(sport=50001, dport=443, flags="FA", seq=1001, ack=5001), t0 + 0.03)
at(l2(gw, me) / IP(src="45.33.32.200", dst="10.50.0.73") / TCP(sport=443, dport=50001, flags="FA", seq=5001, ack=1002), t0 + 0.04)
at(l2(me, gw) / IP(src="10.50.0.73", dst="45.33.32.200") / TCP(sport=50001, dport=443, flags="A", seq=1002, ack=5002), t0 + 0.05)
for i in range(25):
    at(l2(me, gw) / IP(src="10.50.0.73", dst=f"10.40.9.{i + 1}") / TCP(sport=51000 + i, dport=445, flags="S"), t0 + 1 + i * 0.2)
wrpcap(out, pkts)
"#;

#[test]
fn after_the_window_a_replay_with_new_behaviour_raises_exactly_it() {
    let scapy =
        Command::new("python3").args(["-c", "import scapy"]).output().is_ok_and(|o| o.status.success());
    if !have("editcap") || !have("mergecap") || !scapy {
        eprintln!("skipped: needs editcap and mergecap (Debian wireshark-common) and python's scapy");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let shift = 8 * 86_400u64;
    let later = dir.path().join("later.pcap");
    assert!(
        Command::new("editcap")
            .args(["-t", &shift.to_string(), s(&sample()), s(&later)])
            .status()
            .unwrap()
            .success()
    );
    // The sample starts 2026-03-02T08:00:00Z; the new behaviour comes 30 s into the replay.
    let crafted = dir.path().join("new.pcap");
    let t0 = (1_772_438_400 + shift + 30).to_string();
    let st = Command::new("python3").args(["-c", CRAFT, s(&crafted), &t0]).status().unwrap();
    assert!(st.success());
    let replay = dir.path().join("replay.pcap");
    assert!(
        Command::new("mergecap")
            .args(["-F", "pcap", "-w", s(&replay), s(&later), s(&crafted)])
            .status()
            .unwrap()
            .success()
    );

    let first = json(&ward(&["analyze", "--json", "--no-progress", "--db", s(&db), s(&sample())]));
    assert!(first["alerts"].as_array().unwrap().is_empty(), "learning raises nothing");
    let out = json(&ward(&["analyze", "--json", "--no-progress", "--db", s(&db), s(&replay)]));
    let mut got: Vec<(String, String, String)> = out["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] != "medical_device_internet")
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["flow"]["src"].as_str().unwrap_or_default().to_owned(),
                a["peer"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("new_external_peer".to_owned(), "10.50.0.73".to_owned(), "45.33.32.200".to_owned()),
            ("scan".to_owned(), "10.50.0.73".to_owned(), String::new()),
        ],
        "{:#}",
        out["alerts"]
    );
}
