//! Formatting cost per alert: syslog with structured data, CEF in syslog, JSON.
//!
//! `cargo bench -p ward-export --bench export`
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_core::{Alert, DeviceId, FlowRef, Severity, Timestamp};
use ward_export::format::{cef, json, syslog};

fn alert() -> Alert {
    Alert {
        id: 123_456,
        ts: Timestamp::from_nanos(1_764_512_360_000_000_000),
        last_seen: Timestamp::from_nanos(1_764_512_367_500_000_000),
        count: 3,
        severity: Severity::High,
        kind: "intel_match".into(),
        device: Some(DeviceId(12)),
        peer: Some("203.0.113.9".parse().unwrap()),
        flow: Some(FlowRef {
            src: "10.1.2.3".parse().unwrap(),
            src_port: 51000,
            dst: "203.0.113.9".parse().unwrap(),
            dst_port: 443,
            proto: 6,
            vlan: Some(20),
        }),
        source: Some("ipsum-3".into()),
        indicator: Some("203.0.113.9".into()),
        confidence: Some(80),
        evidence: "flow.dst".into(),
        message: "Infusion pump 12 connected to 203.0.113.9, listed by ipsum-3".into(),
        state: "open".into(),
        key: "intel_match:12:203.0.113.9".into(),
    }
}

fn formats(c: &mut Criterion) {
    let a = alert();
    let header = syslog::Header { facility: 16, hostname: "ward-sensor-1".into(), procid: "4242".into() };
    let mut g = c.benchmark_group("format");
    g.throughput(Throughput::Elements(1));
    g.bench_function("syslog_sd", |b| {
        b.iter(|| syslog::format(black_box(&a), &header, syslog::Body::StructuredData))
    });
    g.bench_function("cef_in_syslog", |b| {
        b.iter(|| syslog::format(black_box(&a), &header, syslog::Body::Cef))
    });
    g.bench_function("cef", |b| b.iter(|| cef::format(black_box(&a))));
    g.bench_function("json", |b| b.iter(|| json::format(black_box(&a))));
    g.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
