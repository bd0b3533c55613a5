//! Engine ingest into SQLite: the observations of the benchmark capture (made by
//! `scripts/bench`, or `$WARD_BENCH_CAPTURE`; the sample when missing) taken by the engine,
//! placed in the inventory, classified, and written to a new SQLite file in one transaction.
//! Throughput is in observations. The sensor runs once beforehand: only the engine is timed.
//!
//! - `engine_ingest/new_store`: into an empty inventory (every device new, every row inserted);
//! - `engine_ingest/same_captures_again`: into the inventory the first run made, the same
//!   captures again (everything compared, nothing new to write);
//! - `engine_ingest/observe_only`: the run's reading alone, without placing or writing.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ward_capture::{CaptureReader, CaptureSet};
use ward_core::Observation;
use ward_dissect::Registry;
use ward_engine::{Engine, EngineConfig};
use ward_inventory::classify::Rules;
use ward_inventory::sightings::Sightings;
use ward_sensor::{Sensor, SensorConfig};
use ward_store::{Blocking, Import};

fn observations() -> (Vec<Observation>, Import) {
    let path = ward_gen::bench_capture();
    let reader = CaptureReader::open(&path).unwrap();
    let sensor = Sensor::new(SensorConfig { threads: 1, ..SensorConfig::default() }, Registry::builtin());
    let mut all = Vec::new();
    let report = sensor.run(&mut CaptureSet::new(vec![reader]), |batch| all.extend(batch));
    let run = Import {
        fingerprint: ward_capture::fingerprint(&path).unwrap(),
        source: path.display().to_string(),
        first_packet: report.counters.first_packet,
        last_packet: report.counters.last_packet,
        packets: report.counters.packets,
        written_at: ward_core::Timestamp::ZERO, // set by the engine when it writes the run
    };
    (all, run)
}

fn ingest(db: &std::path::Path, obs: &[Observation], run: &Import) -> usize {
    let store = Blocking::open_sqlite(db).unwrap();
    let mut engine = Engine::open(Some(store), Rules::builtin(), EngineConfig::default()).unwrap();
    for batch in obs.chunks(4096) {
        engine.observe(batch);
    }
    engine.finish(run.clone()).unwrap().devices_written
}

fn benches(c: &mut Criterion) {
    let (obs, run) = observations();
    let dir = tempfile::tempdir().unwrap();
    let warm = dir.path().join("warm.db");
    let written = ingest(&warm, &obs, &run);
    eprintln!("{} observations, {written} devices written", obs.len());
    let mut g = c.benchmark_group("engine_ingest");
    g.throughput(Throughput::Elements(obs.len() as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let mut n = 0u32;
    g.bench_function("new_store", |b| {
        b.iter_batched(
            || {
                n += 1;
                dir.path().join(format!("new-{n}.db"))
            },
            |db| {
                let w = black_box(ingest(&db, &obs, &run));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                }
                w
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("same_captures_again", |b| b.iter(|| black_box(ingest(&warm, &obs, &run))));
    g.bench_function("observe_only", |b| {
        b.iter(|| {
            let mut s = Sightings::new();
            obs.iter().for_each(|o| s.observe(o));
            black_box(s.devices().len())
        })
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
