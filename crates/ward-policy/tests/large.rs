//! Large policies: the compiled ruleset of a synthetic hospital of thousands of devices, kept
//! as a reviewed outline, and the kernel's own parser (`nft -c`) accepting the ruleset of
//! W5's figure (10,000 devices, 200 segments, 50,000 allowlist entries).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};
use ward_policy::nft::NftOptions;
use ward_policy::{Context, Policy};

fn context() -> Context {
    Context { classes: ward_inventory::classify::taxonomy().iter().map(|c| c.id.to_owned()).collect() }
}

fn compiled(devices: usize, segments: usize, allow: usize) -> String {
    let (text, infos) = ward_policy::synthetic::policy(devices, segments, allow);
    let policy = Policy::parse(&text, "synthetic.toml", &context()).unwrap();
    let resolved = policy.resolve(&infos);
    assert!(resolved.warnings.is_empty(), "{:?}", &resolved.warnings[..resolved.warnings.len().min(5)]);
    resolved.compile_nft(&NftOptions::default())
}

/// The ruleset's outline: every set and map with its element count and first elements,
/// every chain with its rule count, the base chain and one pair chain in full, and the
/// digest of the whole text. The full text of 2,000 devices runs to hundreds of kilobytes,
/// which no one reviews in a diff; the outline is what changes visibly, and the digest
/// fails the test on any other change.
fn outline(ruleset: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "sha256 {:x}", Sha256::digest(ruleset.as_bytes()));
    let _ = writeln!(out, "{} bytes, {} lines\n", ruleset.len(), ruleset.lines().count());
    let lines: Vec<&str> = ruleset.lines().collect();
    let end_of = |i: usize| (i..lines.len()).find(|&j| lines[j] == "\t}").unwrap_or(lines.len() - 1);
    let mut i = 0;
    let mut shown_pair = false;
    while i < lines.len() {
        let l = lines[i].trim();
        let head = l.strip_suffix(" {").unwrap_or(l);
        if let Some(name) = head.strip_prefix("set ").or_else(|| head.strip_prefix("map ")) {
            let end = end_of(i);
            let body: Vec<&str> = lines[i + 1..end].iter().map(|s| s.trim()).collect();
            let ty = body.first().copied().unwrap_or("").trim_end_matches(';');
            let elems: Vec<&str> =
                match body.iter().find(|s| s.starts_with("elements = {") && s.ends_with('}')) {
                    // Inline: `elements = { a, b }` on one line.
                    Some(s) => s["elements = {".len()..s.len() - 1].split(',').map(str::trim).collect(),
                    None => body
                        .iter()
                        .copied()
                        .filter(|s| {
                            !s.starts_with("type")
                                && !s.starts_with("flags")
                                && !s.starts_with("elements")
                                && *s != "}"
                        })
                        .map(|s| s.trim_end_matches(','))
                        .collect(),
                };
            let first: Vec<&str> = elems.iter().take(3).copied().collect();
            let _ =
                writeln!(out, "{} {name} ({ty}): {} elements: {}", &l[..3], elems.len(), first.join(" | "));
            i = end + 1;
            continue;
        }
        if let Some(name) = head.strip_prefix("chain ") {
            let end = end_of(i);
            let full = name == "forward" || (!shown_pair && name.contains("__") && end - i > 4);
            let _ = writeln!(out, "chain {name}: {} statements", end - i - 1);
            if full {
                shown_pair |= name.contains("__");
                for b in &lines[i + 1..end] {
                    let _ = writeln!(out, "    {}", b.trim());
                }
            }
            i = end + 1;
            continue;
        }
        i += 1;
    }
    out
}

#[test]
fn the_compiled_ruleset_of_two_thousand_devices_is_stable() {
    let ruleset = compiled(2_000, 40, 10_000);
    insta::assert_snapshot!("synthetic_2000_devices", outline(&ruleset));
}

/// Runs `nft -c -f -` on the text inside a new network namespace; `None` (with the reason
/// printed) when that cannot be tried here.
fn nft_check_in_namespace(ruleset: &str) -> Option<Result<(), String>> {
    let skip = |why: &str| {
        eprintln!("skipped: {why}");
        None
    };
    if Command::new("id").arg("-u").output().map(|o| o.stdout != b"0\n").unwrap_or(true) {
        return skip("not root (nft needs CAP_NET_ADMIN in its own network namespace)");
    }
    if Command::new("nft").arg("--version").output().is_err() {
        return skip("nft is not installed");
    }
    let ns = format!("wardtest{}", std::process::id());
    match Command::new("ip").args(["netns", "add", &ns]).status() {
        Ok(s) if s.success() => {}
        _ => return skip("cannot make a network namespace (ip netns add)"),
    }
    let result = (|| {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns, "nft", "-c", "-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        child.stdin.take().unwrap().write_all(ruleset.as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).chars().take(2000).collect())
        }
    })();
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    Some(result)
}

#[test]
fn nft_accepts_the_ruleset_of_ten_thousand_devices() {
    let ruleset = compiled(10_000, 200, 50_000);
    assert!(ruleset.len() > 1_000_000);
    if let Some(Err(e)) = nft_check_in_namespace(&ruleset) {
        panic!("nft -c refused the ruleset:\n{e}");
    }
}

#[test]
fn nft_refuses_a_broken_ruleset_so_the_check_above_means_something() {
    let ruleset = compiled(200, 10, 500).replace("type ipv4_addr . ipv4_addr", "type ipv4_addr . nonsense");
    if let Some(result) = nft_check_in_namespace(&ruleset) {
        assert!(result.is_err(), "nft -c accepted a ruleset with an unknown type");
    }
}
