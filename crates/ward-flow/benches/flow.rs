//! Decoding and flow tracking on one core, over the first packets of the benchmark capture
//! held in memory (no I/O): the figure W1 sets at 4 million packets/s or more.
//!
//! The capture comes from `$WARD_BENCH_CAPTURE` or `bench-data/hospital-bench.pcap`
//! (`scripts/bench` makes it); without it the sample capture stands in, and the figures are
//! then not the benchmark's.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stderr)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ward_capture::{CaptureReader, LinkType, ReaderOptions};
use ward_core::Timestamp;
use ward_flow::decode::{self, Anomalies, Net, Transport};
use ward_flow::table::{FlowConfig, FlowTable, InitiatorHint, PacketMeta};

const PACKETS: usize = 200_000;

struct Packets {
    bytes: Vec<u8>,
    index: Vec<(usize, usize, u32, LinkType, Timestamp)>,
}

fn load() -> Packets {
    let path = ward_gen::bench_capture();
    let mut r =
        CaptureReader::open_with(&path, ReaderOptions { mmap: false, ..ReaderOptions::default() }).unwrap();
    let mut p = Packets { bytes: Vec::new(), index: Vec::new() };
    while let Some(chunk) = r.next_chunk().unwrap() {
        for pkt in &chunk.packets {
            if p.index.len() == PACKETS {
                return p;
            }
            let data = chunk.data(pkt);
            p.index.push((p.bytes.len(), data.len(), pkt.orig_len, pkt.link, pkt.ts));
            p.bytes.extend_from_slice(data);
        }
    }
    p
}

fn benches(c: &mut Criterion) {
    let p = load();
    let mut g = c.benchmark_group("one_core");
    g.throughput(Throughput::Elements(p.index.len() as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut an = Anomalies::default();
            let mut tcp = 0u32;
            for &(off, len, orig, link, _) in &p.index {
                let f = decode::decode(link, &p.bytes[off..off + len], orig, &mut an);
                if let Net::Ip(ip) = f.net
                    && let Transport::Tcp(_) =
                        decode::decode_transport(ip.proto, ip.payload, ip.src.is_ipv6(), &mut an)
                {
                    tcp += 1;
                }
            }
            black_box(tcp)
        })
    });
    g.bench_function("shard_hash", |b| {
        b.iter(|| {
            let mut h = 0u64;
            for &(off, len, _, link, _) in &p.index {
                h ^= decode::shard_hash(link, &p.bytes[off..off + len]);
            }
            black_box(h)
        })
    });
    g.bench_function("decode_and_flows", |b| {
        b.iter(|| {
            let mut table: FlowTable<()> = FlowTable::new(FlowConfig::default(), 0);
            let mut an = Anomalies::default();
            for &(off, len, orig, link, ts) in &p.index {
                let f = decode::decode(link, &p.bytes[off..off + len], orig, &mut an);
                let Net::Ip(ip) = f.net else { continue };
                let (sp, dp, flags) =
                    match decode::decode_transport(ip.proto, ip.payload, ip.src.is_ipv6(), &mut an) {
                        Transport::Tcp(t) => (t.src_port, t.dst_port, t.flags),
                        Transport::Udp { src_port, dst_port, .. } => (src_port, dst_port, 0),
                        _ => (0, 0, 0),
                    };
                let m = PacketMeta {
                    ts,
                    vlans: f.vlans,
                    src: ip.src,
                    dst: ip.dst,
                    proto: ip.proto,
                    src_port: sp,
                    dst_port: dp,
                    ip_len: ip.wire_len,
                    tcp_flags: flags,
                    src_mac: f.src_mac,
                    hint: InitiatorHint::guess(ip.proto, flags, sp, dp, false),
                };
                table.update(&m);
                table.expire(ts);
                table.take_ended().for_each(drop);
            }
            table.close_all(Timestamp::from_nanos(u64::MAX / 2));
            black_box(table.stats.created)
        })
    });
    g.finish();
}

criterion_group!(flow, benches);
criterion_main!(flow);
