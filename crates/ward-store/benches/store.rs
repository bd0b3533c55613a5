//! The store's costs that bound the engine and the command line: writing a flush of devices
//! (devices/s, facts/s), and listing a 100,000-device inventory with a filter and a sort
//! (must stay under 100 ms), with the database file's size.
//!
//! `cargo bench -p ward-store --bench store`

#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ward_store::{Blocking, ChangeSet, DeviceQuery, synthetic};

/// Devices per transaction when building the large inventory.
const BATCH: usize = 10_000;
/// The large inventory.
const INVENTORY: usize = 100_000;

/// This process's CPU time (all threads) from `/proc/self/stat`, in seconds: on a shared
/// machine, wall time alone says more about the neighbours than about the store.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn facts(c: &ChangeSet) -> usize {
    c.devices.iter().map(|r| r.facts.len()).sum()
}

fn apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in [1_000usize, 10_000, 50_000] {
        let changes = synthetic::change_set(1, n, 3, 1);
        let fact_count = facts(&changes);
        group.throughput(Throughput::Elements(n as u64));
        let mut best = Duration::MAX;
        let mut best_cpu = None;
        group.bench_with_input(BenchmarkId::new("new devices", n), &changes, |b, changes| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // A fresh file each time: the write of new devices, as a first import.
                    let Ok(dir) = tempfile::tempdir() else { return total };
                    let Ok(store) = Blocking::open_sqlite(&dir.path().join("bench.db")) else {
                        return total;
                    };
                    let (t, cpu) = (Instant::now(), cpu_seconds());
                    let done = store.apply(changes);
                    let took = t.elapsed();
                    assert!(done.is_ok(), "{done:?}");
                    if took < best {
                        best = took;
                        best_cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
                    }
                    total += took;
                    store.close();
                }
                total
            })
        });
        println!(
            "apply {n} new devices: best {:.3} s (CPU of all threads {:.2} s) = {:.0} devices/s, \
             {:.0} facts/s ({fact_count} facts, {} edges, {} events)",
            best.as_secs_f64(),
            best_cpu.unwrap_or(f64::NAN),
            n as f64 / best.as_secs_f64(),
            fact_count as f64 / best.as_secs_f64(),
            changes.edges.len(),
            changes.events.len()
        );
    }
    // The same devices written again: the steady state of an engine refreshing what it saw.
    let n = 10_000;
    let changes = synthetic::change_set(1, n, 0, 1);
    let changes = ChangeSet { devices: changes.devices, ..ChangeSet::default() };
    if let Ok(dir) = tempfile::tempdir()
        && let Ok(store) = Blocking::open_sqlite(&dir.path().join("bench.db"))
        && store.apply(&changes).is_ok()
    {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new("rewritten devices", n), |b| {
            b.iter(|| store.apply(black_box(&changes)))
        });
    }
    group.finish();
}

/// Builds the 100,000-device inventory in `path`; prints how long it took and its size.
fn build_inventory(path: &Path) -> Option<Blocking> {
    let store = Blocking::open_sqlite(path).ok()?;
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let mut first = 1i64;
    while (first as usize) <= INVENTORY {
        let n = BATCH.min(INVENTORY + 1 - first as usize);
        store.apply(&synthetic::change_set(first, n, 3, 1)).ok()?;
        first += n as i64;
    }
    let took = t.elapsed();
    let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a).unwrap_or(f64::NAN);
    store.close();
    let size = std::fs::metadata(path).ok()?.len();
    println!(
        "inventory: {INVENTORY} devices written in {:.2} s (CPU {cpu:.2} s, {:.0} devices/s) in \
         batches of {BATCH}; database file {:.1} MiB ({:.0} bytes/device)",
        took.as_secs_f64(),
        INVENTORY as f64 / took.as_secs_f64(),
        size as f64 / 1_048_576.0,
        size as f64 / INVENTORY as f64
    );
    assert!(size < 1 << 30, "the database grew past 1 GB");
    Blocking::open_sqlite(path).ok()
}

fn list(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("inventory.db");
    let Some(store) = build_inventory(&path) else {
        println!("could not build the inventory");
        return;
    };
    let queries = [
        (
            "class=infusion_pump sort=-last_seen",
            DeviceQuery {
                class: Some("infusion_pump".into()),
                sort: Some("-last_seen".into()),
                ..DeviceQuery::default()
            },
        ),
        (
            "vendor~philips sort=model",
            DeviceQuery {
                vendor: Some("philips".into()),
                sort: Some("model".into()),
                ..DeviceQuery::default()
            },
        ),
        (
            "text~10.20. sort=ip limit=50",
            DeviceQuery {
                text: Some("10.20.".into()),
                sort: Some("ip".into()),
                limit: Some(50),
                ..DeviceQuery::default()
            },
        ),
        (
            "all sort=-last_seen limit=100",
            DeviceQuery { sort: Some("-last_seen".into()), limit: Some(100), ..DeviceQuery::default() },
        ),
    ];
    let mut group = c.benchmark_group("list 100k");
    group.sample_size(20);
    for (name, q) in &queries {
        let rows = store.list(q).map(|l| l.len()).unwrap_or(0);
        let t = Instant::now();
        let _ = store.list(q);
        println!("list {name}: {rows} devices, one call {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        group.bench_function(*name, |b| b.iter(|| store.list(black_box(q))));
    }
    group.bench_function("count class=infusion_pump", |b| b.iter(|| store.count(black_box(&queries[0].1))));
    group.bench_function("device 4242", |b| b.iter(|| store.device(black_box(ward_core::DeviceId(4242)))));
    group.bench_function("peers 7", |b| b.iter(|| store.peers(black_box(ward_core::DeviceId(7)))));
    group.finish();

    let t = Instant::now();
    let snapshot = store.snapshot();
    let took = t.elapsed();
    if let Ok(s) = snapshot {
        println!(
            "snapshot of {} devices ({} facts): {:.2} s",
            s.devices.len(),
            s.devices.iter().map(|r| r.facts.len()).sum::<usize>(),
            took.as_secs_f64()
        );
    }
}

criterion_group!(benches, apply, list);
criterion_main!(benches);
