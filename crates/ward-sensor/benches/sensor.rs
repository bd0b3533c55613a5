//! The whole sensor on one core, read as `ward analyze` reads files (memory-mapped, from the
//! page cache): record parsing, decoding, fragments, flows, reassembly, dissectors and
//! observations handed to a sink that counts them. `sensor_one_core` runs over the first
//! 200,000 packets of the benchmark capture with no dissectors (`none`) and with all of Ward's
//! (`builtin`); `sensor_whole_capture` runs over the whole of it with all dissectors. The
//! capture comes from `$WARD_BENCH_CAPTURE` or `bench-data/hospital-bench.pcap` (`scripts/bench`
//! makes it), else the sample.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_capture::write::{ByteOrder, PcapWriter};
use ward_capture::{CaptureReader, CaptureSet, LinkType, ReaderOptions};
use ward_dissect::Registry;
use ward_sensor::{Sensor, SensorConfig};

const PACKETS: u64 = 200_000;

/// One run of the sensor on one thread over `file`: (flows, observations).
fn run_once(file: &std::path::Path, registry: Registry) -> (u64, usize) {
    let reader = CaptureReader::open(file).unwrap();
    let sensor = Sensor::new(SensorConfig { threads: 1, ..SensorConfig::default() }, registry);
    let mut observations = 0usize;
    let report = sensor.run(&mut CaptureSet::new(vec![reader]), |batch| observations += batch.len());
    (report.counters.flows.created, observations)
}

/// The first packets of the benchmark capture, as an in-memory pcap.
fn load() -> (Vec<u8>, u64) {
    let path = ward_gen::bench_capture();
    let mut r =
        CaptureReader::open_with(&path, ReaderOptions { mmap: false, ..ReaderOptions::default() }).unwrap();
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, ByteOrder::Little, false).unwrap();
    let mut n = 0;
    while let Some(chunk) = r.next_chunk().unwrap() {
        for p in &chunk.packets {
            if n < PACKETS {
                w.packet(p.ts, chunk.data(p), p.orig_len).unwrap();
                n += 1;
            }
        }
        if n == PACKETS {
            break;
        }
    }
    (w.finish().unwrap(), n)
}

fn benches(c: &mut Criterion) {
    let (bytes, n) = load();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slice.pcap");
    std::fs::write(&file, &bytes).unwrap();
    drop(bytes);
    let mut g = c.benchmark_group("sensor_one_core");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, registry) in [("none", Registry::empty as fn() -> Registry), ("builtin", Registry::builtin)] {
        g.bench_function(name, |b| b.iter(|| black_box(run_once(&file, registry()))));
    }
    g.finish();

    let whole = ward_gen::bench_capture();
    let packets = CaptureReader::open(&whole).unwrap().for_each_packet(|_, _| {}).unwrap();
    let mut g = c.benchmark_group("sensor_whole_capture");
    g.throughput(Throughput::Elements(packets));
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("builtin", |b| b.iter(|| black_box(run_once(&whole, Registry::builtin()))));
    g.finish();
}

criterion_group!(sensor, benches);
criterion_main!(sensor);
