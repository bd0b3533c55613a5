//! Every real capture under `../shared/data/pcaps` (tcpdump's, Suricata's, nDPI's, FoxIO's,
//! including tcpdump's crash reproducers) is read to its end or refused with a clear error,
//! never with a panic; and on a sample, Ward counts the same packets as tshark.
//!
//! The data lives outside the repository (its licences do not all allow a copy). The tests
//! look in `$WARD_SHARED_DATA`, then in `../shared/data` beside the repository, and say that
//! they skipped when neither exists.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;

use ward_capture::{CaptureReader, CaptureSet};
use ward_dissect::Registry;
use ward_sensor::{Sensor, SensorConfig};

/// Packets Ward reads from `path`, and the error that stopped it, if any.
fn ward_count(path: &Path) -> (u64, Option<String>) {
    let reader = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e) => return (0, Some(e.to_string())),
    };
    let sensor = Sensor::new(SensorConfig { threads: 1, ..SensorConfig::default() }, Registry::builtin());
    let report = sensor.run(&mut CaptureSet::new(vec![reader]), |_| {});
    (report.counters.packets, report.files[0].error.clone())
}

#[test]
fn every_outside_capture_is_read_or_refused_clearly() {
    let Some(data) = ward_fuzz::outside::shared_data() else {
        eprintln!("skipped: ../shared/data not present (set WARD_SHARED_DATA)");
        return;
    };
    let files = ward_fuzz::outside::capture_files(&data.join("pcaps"));
    assert!(files.len() > 200, "expected the full set of captures, found {}", files.len());
    let (mut whole, mut refused, mut packets) = (0, Vec::new(), 0u64);
    for path in &files {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| ward_count(path)));
        let (n, err) = outcome.unwrap_or_else(|_| panic!("panic while reading {}", path.display()));
        packets += n;
        match err {
            None => whole += 1,
            Some(e) => {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(e.contains(&name), "error does not name the file: {e}");
                assert!(
                    e.contains("byte") || e.contains("not a pcap or pcapng"),
                    "error does not say where or what: {e}"
                );
                refused.push(e);
            }
        }
    }
    eprintln!(
        "{} captures: {whole} read to the end, {} refused with an error, {packets} packets",
        files.len(),
        refused.len()
    );
    for e in &refused {
        eprintln!("  {e}");
    }
    assert!(whole > files.len() * 9 / 10, "too many refusals: {}", refused.len());
}

#[test]
fn packet_counts_equal_tsharks_on_a_sample() {
    let Some(data) = ward_fuzz::outside::shared_data() else {
        eprintln!("skipped: ../shared/data not present (set WARD_SHARED_DATA)");
        return;
    };
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("skipped: tshark not installed (apt-get install tshark)");
        return;
    }
    let files = ward_fuzz::outside::capture_files(&data.join("pcaps"));
    // Every sixth file, so each source and both formats are in the sample, plus all of the
    // crash reproducers, where readers are most likely to disagree.
    let sample: Vec<&PathBuf> = files
        .iter()
        .enumerate()
        .filter(|(i, p)| i % 6 == 0 || p.to_string_lossy().contains("/malformed/"))
        .map(|(_, p)| p)
        .collect();
    let mut compared = 0;
    let mut differ = Vec::new();
    for path in &sample {
        let out = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(path)
            .args(["-T", "fields", "-e", "frame.number"])
            .output()
            .unwrap();
        let theirs =
            String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).count() as u64;
        let (ours, _) = ward_count(path);
        compared += 1;
        if ours != theirs {
            differ.push(format!("{}: ward {ours}, tshark {theirs}", path.display()));
        }
    }
    eprintln!("compared packet counts with tshark on {compared} captures");
    assert!(differ.is_empty(), "packet counts differ from tshark's:\n{}", differ.join("\n"));
}
