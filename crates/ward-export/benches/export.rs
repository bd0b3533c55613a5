//! Formatting cost per alert (syslog with structured data, CEF in syslog, JSON), and alerts
//! per second through the exporter: 10,000 alerts sent, then a shutdown that waits for all
//! of them, to a TCP syslog receiver on loopback that discards what it reads, and to a JSON
//! lines file (no fsync). Each figure includes starting and stopping the sink's thread.
//!
//! `cargo bench -p ward-export --bench export`
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::TcpListener;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_core::{Alert, DeviceId, FlowRef, Severity, Timestamp};
use ward_export::format::{cef, json, syslog};
use ward_export::{ExportConfig, ExportKind, Exporter, Fsync, Transport};

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

const N: usize = 10_000;

fn through(config: &ExportConfig, alerts: &[Alert]) {
    let exporter = Exporter::from_config(std::slice::from_ref(config)).unwrap();
    for a in alerts {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_secs(600));
    assert_eq!(stats[0].sent, alerts.len() as u64, "{stats:?}");
}

fn exporter(c: &mut Criterion) {
    let alerts: Vec<Alert> = (0..N as i64)
        .map(|id| {
            let mut a = alert();
            a.id = id;
            a
        })
        .collect();
    // A receiver that reads and discards, one thread per connection.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let _ = std::io::copy(&mut conn, &mut std::io::sink());
            });
        }
    });
    let mut tcp = ExportConfig::new(ExportKind::Syslog);
    tcp.address = Some(format!("127.0.0.1:{port}"));
    tcp.transport = Some(Transport::Tcp);
    tcp.queue = Some(N);

    let dir = tempfile::tempdir().unwrap();
    let mut file = ExportConfig::new(ExportKind::Jsonl);
    file.path = Some(dir.path().join("alerts.jsonl"));
    file.fsync = Some(Fsync::Never);
    file.max_bytes = Some(64 << 20);
    file.keep = Some(1);
    file.queue = Some(N);

    let mut g = c.benchmark_group("exporter");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("tcp_syslog_10k", |b| b.iter(|| through(&tcp, &alerts)));
    g.bench_function("jsonl_10k", |b| b.iter(|| through(&file, &alerts)));
    g.finish();
}

criterion_group!(benches, formats, exporter);
criterion_main!(benches);
