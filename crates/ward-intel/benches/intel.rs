//! Indicator sets: loading a million synthetic indicators, and lookups of addresses and
//! names against them (per core: criterion runs on one thread).
//!
//!   cargo bench -p ward-intel --bench intel
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

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

fn bench(c: &mut Criterion) {
    let ips = synth::ip_list(1, IPS);
    let names = synth::domain_list(2, NAMES);
    let mut g = c.benchmark_group("intel_load");
    g.sample_size(10);
    g.throughput(Throughput::Elements((IPS + NAMES) as u64));
    g.bench_function("parse_and_build_1M", |b| {
        b.iter(|| black_box(load(&ips, &names).snapshot().indicators()))
    });
    g.finish();

    let intel = load(&ips, &names);
    let snap = intel.snapshot();
    assert_eq!(snap.indicators(), IPS + NAMES);
    // Addresses: one in eight listed (taken from the list's own generator), the rest random.
    let mut rng = Rng::new(1);
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

criterion_group!(benches, bench);
criterion_main!(benches);
