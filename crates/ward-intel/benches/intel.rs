//! Indicator sets: loading a million synthetic indicators, and lookups of addresses and
//! names against them, per core.
//!
//!   cargo bench -p ward-intel --bench intel
//!
//! Lookups are timed by the thread's own CPU time (`/proc/thread-self/schedstat`, in
//! nanoseconds), not the wall clock: the figure asked for is per core, and on a shared
//! machine the wall clock also counts the time other processes held the core. The load is
//! timed both ways.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_intel::synth::{self, Rng};
use ward_intel::{FeedSet, Format, Intel, ParseOptions, formats};

/// 750,000 address lines and 250,000 names: one million indicators.
const IPS: usize = 750_000;
const NAMES: usize = 250_000;

fn load(ips: &str, names: &str) -> Intel {
    let opts = ParseOptions::default();
    let intel = Intel::new();
    intel.replace(vec![
        std::sync::Arc::new(FeedSet::build("ips", formats::parse(Format::Ip, ips.as_bytes(), &opts))),
        std::sync::Arc::new(FeedSet::build("names", formats::parse(Format::Domain, names.as_bytes(), &opts))),
    ]);
    intel
}

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Criterion measurement: the thread's CPU time.
struct ThreadCpu;

struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, _typical: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        let n = match throughput {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => *n as f64,
            _ => 1.0,
        };
        // Values are CPU nanoseconds per iteration: millions of elements per CPU second.
        values.iter_mut().for_each(|v| *v = n * 1e3 / *v);
        "Melem/cpu-s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns().saturating_sub(i)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

fn bench_load_wall(c: &mut Criterion) {
    bench_load(c, "intel_load_wall");
}

fn bench_load_cpu(c: &mut Criterion<ThreadCpu>) {
    bench_load(c, "intel_load_cpu");
}

fn bench_load<M: Measurement>(c: &mut Criterion<M>, group: &str) {
    let ips = synth::ip_list(1, IPS);
    let names = synth::domain_list(2, NAMES);
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements((IPS + NAMES) as u64));
    g.bench_function("parse_and_build_1M", |b| {
        b.iter(|| black_box(load(&ips, &names).snapshot().indicators()))
    });
    g.finish();
}

fn bench(c: &mut Criterion<ThreadCpu>) {
    let ips = synth::ip_list(1, IPS);
    let names = synth::domain_list(2, NAMES);
    let intel = load(&ips, &names);
    let snap = intel.snapshot();
    assert_eq!(snap.indicators(), IPS + NAMES);
    // Addresses: one in eight listed (taken from the list's own generator), the rest random.
    // A seed of its own: the list's seed would replay the list's addresses.
    let mut rng = Rng::new(99);
    let mut listed: Vec<Ipv4Addr> = Vec::new();
    for line in ips.lines().skip(1).take(100_000) {
        if let Some(Ok(a)) = line.split('\t').next().map(str::parse::<Ipv4Addr>) {
            listed.push(a);
        }
    }
    let addrs: Vec<IpAddr> = (0..65_536)
        .map(|i| {
            if i % 8 == 0 {
                IpAddr::V4(listed[rng.below(listed.len() as u64) as usize])
            } else {
                IpAddr::V4(synth::public_v4(&mut rng))
            }
        })
        .collect();
    let hits = addrs.iter().filter(|a| snap.match_ip(**a).is_some()).count();
    eprintln!("address hit rate: {:.1}%", hits as f64 * 100.0 / addrs.len() as f64);
    let mut g = c.benchmark_group("intel_lookup");
    g.throughput(Throughput::Elements(addrs.len() as u64));
    g.bench_function("match_ip", |b| {
        b.iter(|| addrs.iter().filter(|a| snap.match_ip(**a).is_some()).count())
    });
    g.bench_function("lookup_ip_with_hit_text", |b| {
        b.iter(|| addrs.iter().filter(|a| snap.lookup_ip(**a).is_some()).count())
    });
    // Names as DNS, SNI and Host give them: one in eight under a listed name, the rest not
    // listed; three to five labels.
    let mut drng = Rng::new(2);
    let listed_names: Vec<String> = (0..50_000).map(|_| synth::domain(&mut drng)).collect();
    let mut rng = Rng::new(3);
    let queries: Vec<String> = (0..65_536)
        .map(|i| {
            if i % 8 == 0 {
                format!("www.{}", listed_names[rng.below(listed_names.len() as u64) as usize])
            } else {
                format!("cdn{}.{}", rng.below(100), synth::domain(&mut Rng::new(rng.next_u64())))
            }
        })
        .collect();
    let hits = queries.iter().filter(|q| snap.match_domain(q).is_some()).count();
    eprintln!("name hit rate: {:.1}%", hits as f64 * 100.0 / queries.len() as f64);
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function("match_domain", |b| {
        b.iter(|| queries.iter().filter(|q| snap.match_domain(q).is_some()).count())
    });
    g.finish();
}

criterion_group!(load_wall, bench_load_wall);
criterion_group! {
    name = per_core;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench_load_cpu, bench
}
criterion_main!(load_wall, per_core);
