//! The committed sample capture is what the generator makes from its seed: anyone can
//! regenerate it, and a change to the generator that alters it is seen here.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn the_committed_sample_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sample.pcap");
    let status = Command::new(env!("CARGO_BIN_EXE_ward-gen"))
        .args(["--profile", "sample", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/ward-sample.pcap");
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(committed).unwrap(),
        "regenerate samples/ward-sample.pcap with: cargo run -p ward-gen -- --profile sample --out samples/ward-sample.pcap"
    );
}

#[test]
fn seeds_change_the_capture_and_sizes_follow_flows() {
    let dir = tempfile::tempdir().unwrap();
    let make = |seed: &str, flows: &str, name: &str| {
        let out = dir.path().join(name);
        let ok = Command::new(env!("CARGO_BIN_EXE_ward-gen"))
            .args(["--profile", "sample", "--seed", seed, "--flows", flows, "--out"])
            .arg(&out)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        std::fs::read(out).unwrap()
    };
    let a = make("7", "100", "a.pcap");
    let b = make("8", "100", "b.pcap");
    let c = make("7", "300", "c.pcap");
    assert_ne!(a, b);
    assert!(c.len() > a.len());
}
