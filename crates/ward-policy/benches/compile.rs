//! The synthetic hospital policy of W5's figure (10,000 devices, 200 segments, 50,000
//! allowlist entries): reading it, resolving it against its inventory, compiling it to
//! nftables, all three together (the target: under 1 s), and deciding conversations.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_policy::nft::NftOptions;
use ward_policy::{Context, Policy};

const DEVICES: usize = 10_000;
const SEGMENTS: usize = 200;
const ALLOW: usize = 50_000;

fn context() -> Context {
    // The command line checks class names against the taxonomy; so does the benchmark.
    Context { classes: ward_inventory::classify::taxonomy().iter().map(|c| c.id.to_owned()).collect() }
}

fn compile(c: &mut Criterion) {
    let (text, devices) = ward_policy::synthetic::policy(DEVICES, SEGMENTS, ALLOW);
    let ctx = context();
    let policy = Policy::parse(&text, "synthetic.toml", &ctx).unwrap();
    let resolved = policy.resolve(&devices);
    let opts = NftOptions::default();
    let ruleset = resolved.compile_nft(&opts);
    eprintln!(
        "policy: {} bytes, {} segments, {} rules, {} device lists; ruleset {} bytes, {} warnings",
        text.len(),
        policy.segments.len(),
        policy.rules.len(),
        policy.devices.len(),
        ruleset.len(),
        resolved.warnings.len()
    );

    let mut g = c.benchmark_group("policy_10k_devices");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("parse", |b| {
        b.iter(|| Policy::parse(black_box(&text), "synthetic.toml", &ctx).unwrap())
    });
    g.bench_function("resolve", |b| b.iter(|| policy.resolve(black_box(&devices)).rules.len()));
    g.bench_function("compile_nft", |b| b.iter(|| resolved.compile_nft(black_box(&opts)).len()));
    g.bench_function("parse_resolve_compile", |b| {
        b.iter(|| {
            let p = Policy::parse(black_box(&text), "synthetic.toml", &ctx).unwrap();
            let r = p.resolve(&devices);
            r.compile_nft(&opts).len()
        })
    });
    g.finish();

    // Conversations between the inventory's devices, and out to the internet: every kind
    // of decision (lists, rules, defaults) is taken.
    let mut convs: Vec<(IpAddr, IpAddr, u8, u16)> = Vec::new();
    let internet: IpAddr = "93.184.216.34".parse().unwrap();
    for i in 0..10_000usize {
        let a = &devices[(i * 7919) % devices.len()];
        let b = &devices[(i * 104_729 + 13) % devices.len()];
        let (proto, port) = [(6u8, 443u16), (6, 2575), (17, 53), (6, 104), (6, 23), (1, 0)][i % 6];
        let dst = if i % 10 == 9 { internet } else { b.ips[0] };
        convs.push((a.ips[0], dst, proto, port));
    }
    let mut g = c.benchmark_group("policy_decide");
    g.throughput(Throughput::Elements(convs.len() as u64));
    g.bench_function("10k_conversations", |b| {
        b.iter(|| {
            convs
                .iter()
                .filter(|&&(s, d, p, port)| {
                    resolved.decide(s, d, p, port).action == ward_policy::Action::Deny
                })
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
