//! The two figures W6 sets: importing every ICSMA advisory and the KEV catalogue (read,
//! recognise, parse, index: under 2 s), and matching 100,000 devices against them (under
//! 5 s). Devices are `ward-store`'s synthetic inventory: real vendor and model names of the
//! classes a hospital has, with random firmware.
//!
//! `cargo bench -p ward-vuln --bench vuln` (needs `../shared/data/vuln`, or
//! `$WARD_SHARED_DATA/vuln`; skips without it).

#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_vuln::document::{self, Document};
use ward_vuln::matching::{Catalog, DeviceProfile};

fn data() -> Option<PathBuf> {
    let dir = std::env::var_os("WARD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")))
        .join("vuln");
    dir.join("csaf_icsma").is_dir().then_some(dir)
}

fn files(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("csaf_icsma"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths.push(dir.join("kev_known_exploited_vulnerabilities.json"));
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Reads every file and builds the matching index: what `ward vuln import` and `report`
/// do with the documents, without the store.
fn import(files: &[Vec<u8>]) -> Catalog {
    let mut advisories = Vec::new();
    let mut kev = Default::default();
    for f in files {
        match document::read(f) {
            Ok(Document::Advisories(list)) => advisories.extend(list.into_iter().map(|(a, _)| a)),
            Ok(Document::Kev(k, _)) => kev = k,
            _ => {}
        }
    }
    Catalog::new(advisories, kev, Default::default())
}

fn devices(n: usize) -> Vec<DeviceProfile> {
    (1..=n as i64)
        .map(|id| {
            let d = ward_store::synthetic::device(id, 7).device;
            let c = d.classification;
            DeviceProfile {
                id,
                vendor: c.vendor.map(|v| v.value),
                model: c.model.map(|v| v.value),
                firmware: c.firmware.map(|v| v.value),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let Some(dir) = data() else {
        println!("skipped: no shared data (../shared/data/vuln or $WARD_SHARED_DATA/vuln)");
        return;
    };
    let files = files(&dir);
    let bytes: usize = files.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("vuln");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("import_icsma_and_kev", |b| b.iter(|| black_box(import(&files))));
    let catalog = import(&files);
    let devices = devices(100_000);
    let found = catalog.match_devices(&devices);
    println!(
        "catalog {:?}; 100,000 synthetic devices: {} findings, {} suppressed",
        catalog.counts(),
        found.findings.len(),
        found.suppressed
    );
    g.throughput(Throughput::Elements(devices.len() as u64));
    g.bench_function("match_100k_devices", |b| b.iter(|| black_box(catalog.match_devices(&devices))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
