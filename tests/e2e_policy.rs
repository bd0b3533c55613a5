//! End to end through a real firewall: `ward policy apply` loads the compiled policy
//! (`tests/e2e/policy/firewall.toml`) into a router namespace between four segments, and real
//! traffic crosses it (python sockets for TCP, UDP and ICMP, DCMTK's `echoscu` against
//! `storescp`, python-hl7's MLLP client against an MLLP listener). The network and its peers
//! are in `tests/e2e/policy-net.sh`, which runs every exchange three times (no ruleset, monitor
//! mode while tcpdump captures the router's ports, enforcing) and records what got through.
//!
//! This test judges it: the network carries everything without a ruleset; monitor mode lets
//! everything through and logs (and counts) what it would drop; enforcing, what the policy
//! allows passes and what it denies is dropped, counted by the rule that denied it and logged;
//! an allowlisted peer passes where another is dropped, a denylisted one is dropped. Then
//! `ward policy simulate` reads the monitor run's capture, and its decision for every
//! conversation must be what the enforcing firewall did.
//!
//! Needs root (namespaces, nftables) and `nft`, `tcpdump`, DCMTK and python-hl7; `scripts/test`
//! installs them when it runs as root. Without them the test says what it skipped.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::is_root;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

fn policy() -> PathBuf {
    here().join("policy/firewall.toml")
}

/// Why the network cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("the firewall network needs root for network namespaces and nftables".to_owned());
    }
    let check = Command::new("bash").arg(here().join("policy-net.sh")).arg("--check").output();
    match check {
        Ok(o) if o.status.success() && o.stdout.iter().all(u8::is_ascii_whitespace) => None,
        Ok(o) => Some(format!(
            "the firewall network needs {} (scripts/test installs them as root)",
            String::from_utf8_lossy(&o.stdout).trim().replace('\n', ", ")
        )),
        Err(e) => Some(format!("cannot run bash: {e}")),
    }
}

/// What the policy says of one exchange of the script, and where the firewall decides it.
struct Expected {
    name: &'static str,
    allowed: bool,
    /// The chain and rule comment whose counter the exchange's first packet meets (`None`:
    /// the chain's only rule, which has no comment).
    chain: &'static str,
    rule: Option<&'static str>,
}

const fn allow(name: &'static str, chain: &'static str, rule: &'static str) -> Expected {
    Expected { name, allowed: true, chain, rule: Some(rule) }
}
const fn deny(name: &'static str, chain: &'static str, rule: Option<&'static str>) -> Expected {
    Expected { name, allowed: false, chain, rule }
}

/// Read from firewall.toml by hand: the test's own account of the policy.
const EXPECTED: [Expected; 13] = [
    allow("hl7-clin1-engine", "clinical__servers", "rule clinical-hl7-to-engine"),
    // The engine's denylist names clin2: the rule that allows the clinical segment's HL7 does
    // not help it, in either protocol.
    deny("hl7-clin2-engine", "forward", Some("device denylist")),
    deny("udp-clin2-engine", "forward", Some("device denylist")),
    deny("hl7-guest-engine", "guest__servers", Some("rule guest-no-hospital")),
    // The PACS's allowlist holds img1, not img2; both are in imaging, whose DICOM is allowed.
    allow("dicom-img1-pacs", "imaging__servers", "rule modalities-to-pacs"),
    deny("dicom-img2-pacs", "forward", Some("device allowlist")),
    allow("tcp-img1-pacs", "imaging__servers", "rule imaging-web-to-pacs"),
    deny("telnet-clin1-pacs", "forward", Some("rule no-telnet")),
    deny("tcp-clin1-img1", "deny_out_clinical", None),
    allow("udp-clin1-pacs", "clinical__servers", "rule clinical-results-udp"),
    deny("udp-img1-pacs", "deny_out_imaging", None),
    allow("ping-clin1-engine", "clinical__servers", "rule clinical-ping-servers"),
    deny("ping-guest-engine", "guest__servers", Some("rule guest-no-hospital")),
];

/// One line of a phase's record.
#[derive(Clone, Debug)]
struct Outcome {
    src: String,
    dst: String,
    proto: String,
    port: u16,
    passed: bool,
}

impl Outcome {
    fn proto_number(&self) -> u64 {
        match self.proto.as_str() {
            "tcp" => 6,
            "udp" => 17,
            _ => 1,
        }
    }
}

fn outcomes(dir: &Path, phase: &str) -> BTreeMap<String, Outcome> {
    let text = std::fs::read_to_string(dir.join(format!("{phase}.tsv"))).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{phase}.tsv: {l:?}");
            let o = Outcome {
                src: f[1].to_owned(),
                dst: f[2].to_owned(),
                proto: f[3].to_owned(),
                port: f[4].parse().unwrap(),
                passed: f[5] == "pass",
            };
            (f[0].to_owned(), o)
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Packets counted by one rule (summed over its IPv4 and IPv6 forms).
fn counted(counters: &Value, chain: &str, rule: Option<&str>) -> u64 {
    counters
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["chain"] == chain && rule.is_none_or(|r| c["rule"] == r))
        .map(|c| c["packets"].as_u64().unwrap())
        .sum()
}

/// The client's and servers' logs of a run, for a failure message.
fn logs(dir: &Path, phase: &str, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{phase}-{name}.log"))).unwrap_or_default()
}

/// Whether the kernel logged a packet of this exchange with `prefix`.
fn logged(kernel: &str, prefix: &str, o: &Outcome) -> bool {
    kernel.lines().any(|l| {
        l.contains(prefix)
            && l.contains(&format!(" SRC={} DST={} ", o.src, o.dst))
            && match o.proto.as_str() {
                "icmp" => l.contains(" PROTO=ICMP "),
                p => {
                    l.contains(&format!(" PROTO={} ", p.to_uppercase()))
                        && l.contains(&format!(" DPT={} ", o.port))
                }
            }
    })
}

#[test]
fn the_firewall_does_what_the_policy_and_simulate_say() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let run = Command::new("bash")
        .arg(here().join("policy-net.sh"))
        .arg(out)
        .env("WARD", env!("CARGO_BIN_EXE_ward"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the network script failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&run.stdout).trim());

    let open = outcomes(out, "open");
    let monitor = outcomes(out, "monitor");
    let enforce = outcomes(out, "enforce");
    assert_eq!(open.len(), EXPECTED.len(), "the script ran other exchanges than this test knows");
    let mut problems = Vec::new();
    for e in &EXPECTED {
        // Without a ruleset, and in monitor mode, the network carries every exchange: a drop
        // when enforcing is then the firewall's doing.
        for (phase, o) in [("open", &open), ("monitor", &monitor)] {
            let o = o.get(e.name).unwrap_or_else(|| panic!("{phase}.tsv lacks {}", e.name));
            if !o.passed {
                problems.push(format!(
                    "{phase}: {} did not get through\n{}",
                    e.name,
                    logs(out, phase, e.name)
                ));
            }
        }
        let o = &enforce[e.name];
        if o.passed != e.allowed {
            problems.push(format!(
                "enforcing: {} {} (the policy {} it)\n{}",
                e.name,
                if o.passed { "got through" } else { "was dropped" },
                if e.allowed { "allows" } else { "denies" },
                logs(out, "enforce", e.name)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Counters: the rule that decides each exchange counted it, in monitor mode and enforcing.
    let apply_monitor = read_json(&out.join("apply-monitor.json"));
    let apply_enforce = read_json(&out.join("apply-enforce.json"));
    assert_eq!(apply_monitor["monitor"], true, "{apply_monitor:#}");
    assert_eq!(apply_enforce["monitor"], false, "{apply_enforce:#}");
    assert_eq!(
        apply_enforce["applied"]["replaced"], true,
        "the monitor table was replaced: {apply_enforce:#}"
    );
    assert!(apply_enforce["applied"]["previous"].is_string(), "and kept for rollback: {apply_enforce:#}");
    for phase in ["monitor", "enforce"] {
        let counters = read_json(&out.join(format!("counters-{phase}.json")));
        for e in &EXPECTED {
            let n = counted(&counters, e.chain, e.rule);
            if n == 0 {
                problems.push(format!(
                    "{phase}: {} counted nothing at chain {} rule {:?}",
                    e.name, e.chain, e.rule
                ));
            }
        }
        if !problems.is_empty() {
            problems.push(format!("counters ({phase}): {counters:#}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The kernel's log: each denied exchange is logged as dropped when enforcing and as
    // "would drop" in monitor mode; nothing allowed is logged as dropped.
    let status = std::fs::read_to_string(out.join("kernel.txt")).unwrap();
    let kernel = std::fs::read_to_string(out.join("kernel.log")).unwrap();
    if status.trim() == "readable" {
        for e in &EXPECTED {
            let o = &enforce[e.name];
            for (prefix, phase) in [("ward would drop ", "monitor"), ("ward drop ", "enforcing")] {
                if logged(&kernel, prefix, o) == e.allowed {
                    problems.push(format!(
                        "{phase}: {} {} logged with {prefix:?}",
                        e.name,
                        if e.allowed { "was" } else { "was not" }
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}\nkernel log:\n{kernel}", problems.join("\n"));
    } else {
        eprintln!("the kernel log was not read ({}): counters alone show the drops", status.trim());
    }

    // Simulate on the monitor run's capture: every exchange is there, and the policy's
    // decision for each of its conversations is what the enforcing firewall did.
    let mut captures: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("capture-"))
        .collect();
    captures.sort();
    assert_eq!(captures.len(), 7, "one capture per router port: {captures:?}");
    let mut sim = Command::new(env!("CARGO_BIN_EXE_ward"));
    sim.args(["policy", "simulate", "--all", "--json", "--policy"])
        .arg(policy())
        .arg("--db")
        .arg(out.join("no-inventory.db"));
    for c in &captures {
        sim.arg("--capture").arg(c);
    }
    let sim = sim.output().unwrap();
    assert!(sim.status.success(), "simulate: {}", String::from_utf8_lossy(&sim.stderr));
    let sim: Value = serde_json::from_slice(&sim.stdout).unwrap();
    let decisions = sim["decisions"].as_array().unwrap();
    let mut matched = 0;
    for e in &EXPECTED {
        let o = &enforce[e.name];
        let mine: Vec<&Value> = decisions
            .iter()
            .filter(|d| {
                d["src"] == o.src.as_str()
                    && d["dst"] == o.dst.as_str()
                    && d["proto"] == o.proto_number()
                    && d["port"] == o.port
            })
            .collect();
        if mine.is_empty() {
            problems.push(format!("simulate saw no conversation for {} ({o:?})", e.name));
        }
        for d in &mine {
            matched += 1;
            let would_pass = d["action"] == "allow";
            if would_pass != o.passed {
                problems.push(format!(
                    "{}: simulate says {} ({}), the firewall {}",
                    e.name,
                    d["action"],
                    d["reason"],
                    if o.passed { "let it through" } else { "dropped it" }
                ));
            }
        }
    }
    let others: Vec<&Value> = decisions
        .iter()
        .filter(|d| {
            !enforce.values().any(|o| {
                d["src"] == o.src.as_str()
                    && d["dst"] == o.dst.as_str()
                    && d["proto"] == o.proto_number()
                    && d["port"] == o.port
            })
        })
        .collect();
    assert!(problems.is_empty(), "simulate and the firewall disagree:\n{}", problems.join("\n"));
    assert_eq!(sim["conversations"], decisions.len(), "{sim:#}");
    eprintln!(
        "firewall end to end: {} exchanges, {} allowed and {} denied as the policy says; simulate agreed on \
         {matched} conversations ({} others in the capture: {others:?})",
        EXPECTED.len(),
        EXPECTED.iter().filter(|e| e.allowed).count(),
        EXPECTED.iter().filter(|e| !e.allowed).count(),
        others.len()
    );
}
