//! A blocked indicator is dropped by the real nftables set: a client namespace reaches a
//! server through a router namespace carrying Ward's table, then `ward intel apply` blocks the
//! server's address from a feed and the next connection fails, counted by the block rule.
//! Needs root, `ip` and `nft`; says it skipped otherwise.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Net {
    tag: String,
    server: Option<Child>,
}

impl Net {
    fn ns(&self, n: &str) -> String {
        format!("{}-{n}", self.tag)
    }
    fn ip(&self, ns: &str, args: &str) {
        let st = Command::new("ip").arg("-n").arg(self.ns(ns)).args(args.split(' ')).status().unwrap();
        assert!(st.success(), "ip -n {ns} {args}");
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(c) = &mut self.server {
            let _ = c.kill();
            let _ = c.wait();
        }
        for n in ["cl", "rt", "sv"] {
            let _ = Command::new("ip").args(["netns", "del", &self.ns(n)]).status();
        }
    }
}

fn ready() -> Option<String> {
    let root = Command::new("id").arg("-u").output().ok().is_some_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        return Some("needs root for network namespaces".into());
    }
    for t in ["ip", "nft", "python3"] {
        if !Command::new(t)
            .arg(if t == "ip" { "-V" } else { "--version" })
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(format!("{t} is missing"));
        }
    }
    None
}

/// Whether the client namespace opens a TCP connection to the server, via python.
fn connects(net: &Net) -> bool {
    let code = "import socket,sys\ns=socket.socket();s.settimeout(2)\ntry:\n s.connect(('45.33.32.156',8080));print('ok')\nexcept Exception as e:\n print(e)";
    let out =
        Command::new("ip").args(["netns", "exec", &net.ns("cl"), "python3", "-c", code]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "ok"
}

fn ward(net: &Net, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &net.ns("rt"), env!("CARGO_BIN_EXE_ward")])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "ward {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_blocked_indicator_is_dropped_by_the_real_set() {
    if let Some(why) = ready() {
        eprintln!("skipped: {why}");
        return;
    }
    let mut net = Net { tag: format!("wib{}", std::process::id() % 100_000), server: None };
    for n in ["cl", "rt", "sv"] {
        assert!(Command::new("ip").args(["netns", "add", &net.ns(n)]).status().unwrap().success());
        net.ip(n, "link set lo up");
    }
    let link = |a: &str, b: &str| {
        let st = Command::new("ip")
            .args([
                "link",
                "add",
                "eth0",
                "netns",
                &net.ns(a),
                "type",
                "veth",
                "peer",
                "name",
                a,
                "netns",
                &net.ns(b),
            ])
            .status()
            .unwrap();
        assert!(st.success());
    };
    link("cl", "rt");
    link("sv", "rt");
    net.ip("rt", "addr add 10.1.0.1/24 dev cl");
    net.ip("rt", "addr add 45.33.32.1/24 dev sv");
    net.ip("cl", "addr add 10.1.0.10/24 dev eth0");
    net.ip("sv", "addr add 45.33.32.156/24 dev eth0");
    for (n, d) in [("rt", "cl"), ("rt", "sv"), ("cl", "eth0"), ("sv", "eth0")] {
        net.ip(n, &format!("link set {d} up"));
    }
    net.ip("cl", "route add default via 10.1.0.1");
    net.ip("sv", "route add default via 45.33.32.1");
    let st = Command::new("ip")
        .args(["netns", "exec", &net.ns("rt"), "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        .status()
        .unwrap();
    assert!(st.success());
    net.server = Some(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &net.ns("sv"),
                "python3",
                "-m",
                "http.server",
                "8080",
                "--bind",
                "45.33.32.156",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    std::fs::write(
        dir.path().join("policy.toml"),
        "[[segment]]\nname = \"lan\"\ncidrs = [\"10.1.0.0/24\"]\ninbound = \"allow\"\noutbound = \"allow\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("feed.txt"), "# a listed server\n45.33.32.156\n10.0.0.0/8\n").unwrap();
    ward(
        &net,
        &[
            "policy",
            "apply",
            "--policy",
            &d("policy.toml"),
            "--db",
            &d("none.db"),
            "--state-dir",
            &d("state"),
        ],
    );
    let mut up = false;
    for _ in 0..40 {
        if connects(&net) {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(up, "the client reaches the server through Ward's table before the block");

    let said = ward(
        &net,
        &["intel", "apply", "--intel", &d("feed.txt"), "--state-dir", &d("cache"), "--timeout", "600"],
    );
    assert!(said.contains("blocked 1 IPv4"), "{said}");
    assert!(!connects(&net), "the listed server is blocked");
    let counters: serde_json::Value =
        serde_json::from_str(&ward(&net, &["policy", "counters", "--json"])).unwrap();
    let dropped: u64 = counters
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == "intel blocklist")
        .map(|c| c["packets"].as_u64().unwrap())
        .sum();
    assert!(dropped > 0, "the block rule counted the drop: {counters}");
    // The feed's private network was refused, not blocked: one IPv4 element only.
    let elements = Command::new("ip")
        .args(["netns", "exec", &net.ns("rt"), "nft", "list", "set", "inet", "ward", "intel_block_v4"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&elements.stdout);
    assert!(listing.contains("45.33.32.156") && !listing.contains("10.0.0.0"), "{listing}");
}
