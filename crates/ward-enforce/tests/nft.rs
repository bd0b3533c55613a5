//! Ward's table in a real nftables, in a network namespace made for the test: apply, replace,
//! roll back, refuse a table Ward does not own, and leave other tables alone. Needs root and
//! `nft`; says it skipped otherwise.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::process::Command;

use ward_enforce::{EnforceError, Nft};

struct Netns(String);

impl Netns {
    fn new() -> Option<Netns> {
        let root = Command::new("id").arg("-u").output().ok().is_some_and(|o| o.stdout.starts_with(b"0\n"));
        let nft = Command::new("nft").arg("--version").output().is_ok_and(|o| o.status.success());
        if !root || !nft {
            eprintln!("SKIPPED: needs root and nft (Debian nftables)");
            return None;
        }
        let name = format!("ward-enforce-{}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status().is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot create a network namespace");
            return None;
        }
        Some(Netns(name))
    }

    fn nft(&self, args: &[&str]) -> String {
        let out = Command::new("ip").args(["netns", "exec", &self.0, "nft"]).args(args).output().unwrap();
        assert!(out.status.success(), "nft {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ruleset(table: &str, marker: &str) -> String {
    let policy = ward_policy::Policy::parse(
        &format!(
            "[policy]\nname = \"{marker}\"\n[[segment]]\nname = \"a\"\ncidrs = [\"10.1.0.0/16\"]\n\
             [[segment]]\nname = \"b\"\ncidrs = [\"10.2.0.0/16\"]\n\
             [[rule]]\nname = \"web\"\nfrom = \"segment:a\"\nto = \"segment:b\"\nservices = [\"https\"]\naction = \"allow\"\n"
        ),
        "t.toml",
        &ward_policy::Context::default(),
    )
    .unwrap();
    let opts = ward_policy::nft::NftOptions { table: table.into(), ..Default::default() };
    policy.resolve(&[]).compile_nft(&opts)
}

#[test]
fn apply_replace_rollback_and_ownership() {
    let Some(ns) = Netns::new() else { return };
    let state = tempfile::tempdir().unwrap();
    let nft = Nft { netns: Some(ns.0.clone()), ..Nft::new(state.path()) };
    // Someone else's table, which Ward must leave alone.
    ns.nft(&["add", "table", "inet", "theirs"]);
    ns.nft(&["add", "chain", "inet", "theirs", "keep"]);

    let first = nft.apply("ward", &ruleset("ward", "first")).unwrap();
    assert!(!first.replaced && first.previous.is_none());
    // Rolling back the first apply leaves no table, as before it.
    nft.rollback("ward").unwrap();
    assert!(!ns.nft(&["list", "ruleset"]).contains("table inet ward"));
    nft.apply("ward", &ruleset("ward", "first")).unwrap();
    assert!(ns.nft(&["list", "table", "inet", "ward"]).contains("policy first"));
    let second = nft.apply("ward", &ruleset("ward", "second")).unwrap();
    assert!(second.replaced);
    assert!(ns.nft(&["list", "table", "inet", "ward"]).contains("policy second"));
    nft.rollback("ward").unwrap();
    assert!(ns.nft(&["list", "table", "inet", "ward"]).contains("policy first"));
    assert!(nft.counters("ward").unwrap().iter().any(|c| c.rule == "rule web"));

    // Blocks and quarantines hold across a new policy, with their time.
    nft.set_timed("ward", "intel_block_v4", &["203.0.113.0/24".into(), "198.51.100.7".into()], 600).unwrap();
    nft.set_timed("ward", "quarantine_v4", &["10.1.0.9".into()], 600).unwrap();
    assert_eq!(nft.live_elements("ward", "intel_block_v4").unwrap().len(), 2);
    let again = nft.apply("ward", &ruleset("ward", "first")).unwrap();
    assert_eq!(again.blocks_kept, 3);
    assert_eq!(nft.live_elements("ward", "intel_block_v4").unwrap().len(), 2);
    assert!(nft.live_elements("ward", "quarantine_v4").unwrap()[0].starts_with("10.1.0.9 timeout "));
    // A new list replaces the old one whole.
    nft.set_timed("ward", "intel_block_v4", &["192.0.2.1".into()], 600).unwrap();
    let now = nft.live_elements("ward", "intel_block_v4").unwrap();
    assert_eq!(now.len(), 1);
    assert!(now[0].starts_with("192.0.2.1 timeout"));
    assert!(nft.set_timed("ward", "dev_allow_v4", &[], 1).is_err());

    // A broken ruleset is refused by nft -c and the loaded table stays.
    let broken = ruleset("ward", "third").replace("accept comment", "acept comment");
    assert!(matches!(nft.apply("ward", &broken), Err(EnforceError::Nft { .. })));
    assert!(ns.nft(&["list", "table", "inet", "ward"]).contains("policy first"));

    // A table of the same name that is not Ward's is never replaced.
    ns.nft(&["add", "table", "inet", "other"]);
    let err = nft.apply("other", &ruleset("other", "x")).unwrap_err();
    assert!(matches!(err, EnforceError::NotOwned(_)), "{err}");
    assert!(matches!(nft.remove("other"), Err(EnforceError::NotOwned(_))));
    assert!(nft.remove("ward").unwrap());
    let all = ns.nft(&["list", "ruleset"]);
    assert!(
        all.contains("table inet theirs") && all.contains("chain keep") && all.contains("table inet other")
    );
    assert!(!all.contains("table inet ward"));
}
