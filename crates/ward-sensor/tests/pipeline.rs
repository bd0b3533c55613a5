//! The sensor end to end on captures built for each behaviour: link types, VLANs, fragments,
//! TCP streams reaching a dissector, caps, damaged files, and thread counts.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use etherparse::{PacketBuilder, VlanId};
use ward_capture::write::{ByteOrder, PcapNgWriter, PcapWriter};
use ward_capture::{CaptureReader, CaptureSet, LinkType, ReaderOptions};
use ward_core::{Direction, FlowEndReason, FlowRecord, Observation, ObservationKind, Timestamp};
use ward_dissect::{Dissector, Emitter, FlowContext, Parsed, Probe, Registry, Session, Transport};
use ward_sensor::{Report, Sensor, SensorConfig, Sightings};

/// Packets in `samples/ward-sample.pcap` (`ward-gen --profile sample`), as `tshark -r` counts them.
const SAMPLE_PACKETS: u64 = 2965;

const A: [u8; 6] = [0x00, 0x09, 0x5c, 0x10, 0x20, 0x30];
const B: [u8; 6] = [0x00, 0x14, 0x38, 0x01, 0x02, 0x03];
const S: u64 = 1_000_000_000;

fn ts(ms: u64) -> Timestamp {
    Timestamp::from_nanos(1_772_438_400 * S + ms * 1_000_000)
}

fn reader(bytes: Vec<u8>) -> CaptureReader {
    CaptureReader::from_read("test.pcap", Cursor::new(bytes), ReaderOptions::default()).unwrap()
}

fn config(threads: usize) -> SensorConfig {
    SensorConfig { threads, ..SensorConfig::default() }
}

/// Runs the sensor; returns the report and every observation.
fn run(files: Vec<CaptureReader>, cfg: SensorConfig, registry: Registry) -> (Report, Vec<Observation>) {
    let sensor = Sensor::new(cfg, registry);
    let mut all = Vec::new();
    let report = sensor.run(&mut CaptureSet::new(files), |batch| all.extend(batch));
    (report, all)
}

fn flows(obs: &[Observation]) -> Vec<FlowRecord> {
    let mut f: Vec<FlowRecord> = obs
        .iter()
        .filter_map(|o| match &o.kind {
            ObservationKind::FlowEnd(r) => Some((**r).clone()),
            _ => None,
        })
        .collect();
    f.sort_by_key(|r| (r.start, r.initiator.ip, r.initiator.port, r.responder.port, r.proto));
    f
}

fn pcap(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, ByteOrder::Little, true).unwrap();
    for (t, f) in frames {
        w.packet(ts(*t), f, f.len() as u32).unwrap();
    }
    w.finish().unwrap()
}

fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(A, B).ipv4(src, dst, 64).udp(sport, dport).write(&mut v, payload).unwrap();
    v
}

fn sample() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/ward-sample.pcap")
}

#[test]
fn one_and_several_threads_see_the_same_traffic() {
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        let (report, obs) =
            run(vec![CaptureReader::open(sample()).unwrap()], config(threads), Registry::builtin());
        let mut records = flows(&obs);
        for r in &mut records {
            r.uid = 0; // uids name the worker that owned the flow
        }
        let mut sightings = Sightings::new();
        obs.iter().for_each(|o| sightings.observe(o));
        let devices = sightings.devices();
        assert_eq!(report.worker_packets.len(), threads);
        assert_eq!(report.worker_packets.iter().sum::<u64>(), report.counters.packets);
        results.push((report.counters.packets, report.counters.flows.created, records, devices));
    }
    assert_eq!(results[0].0, SAMPLE_PACKETS);
    assert!(results[0].1 > 150, "{}", results[0].1);
    for (threads, r) in [2, 3].into_iter().zip(&results[1..]) {
        assert_eq!(r.0, results[0].0);
        assert_eq!(r.1, results[0].1);
        assert_eq!(r.2.len(), results[0].2.len(), "{threads} threads: flow count");
        if let Some((a, b)) = r.2.iter().zip(&results[0].2).find(|(a, b)| a != b) {
            panic!("{threads} threads: flow records differ:\n{a:?}\n{b:?}");
        }
        assert_eq!(r.3.len(), results[0].3.len(), "{threads} threads: device count");
        if let Some((a, b)) = r.3.iter().zip(&results[0].3).find(|(a, b)| a != b) {
            panic!("{threads} threads: devices differ:\n{a:?}\n{b:?}");
        }
    }
}

#[test]
fn every_link_type_decodes_to_flows() {
    let frame = udp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 161, b"q");
    let back = {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(B, A)
            .ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
            .udp(161, 40000)
            .write(&mut v, b"a")
            .unwrap();
        v
    };
    let ip = |f: &[u8]| f[14..].to_vec();
    let sll = |f: &[u8]| {
        let mut v = vec![0, 0, 0, 1, 0, 6];
        v.extend(&f[6..12]);
        v.extend([0, 0, 0x08, 0x00]);
        v.extend(ip(f));
        v
    };
    let sll2 = |f: &[u8]| {
        let mut v = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6];
        v.extend(&f[6..12]);
        v.extend([0, 0]);
        v.extend(ip(f));
        v
    };
    let null = |f: &[u8], be: bool| {
        let mut v = if be { 2u32.to_be_bytes() } else { 2u32.to_le_bytes() }.to_vec();
        v.extend(ip(f));
        v
    };
    let cases: Vec<(LinkType, Vec<u8>, Vec<u8>)> = vec![
        (LinkType::ETHERNET, frame.clone(), back.clone()),
        (LinkType::LINUX_SLL, sll(&frame), sll(&back)),
        (LinkType::LINUX_SLL2, sll2(&frame), sll2(&back)),
        (LinkType::RAW, ip(&frame), ip(&back)),
        (LinkType::IPV4, ip(&frame), ip(&back)),
        (LinkType::NULL, null(&frame, false), null(&back, false)),
        (LinkType::NULL, null(&frame, true), null(&back, true)),
        (LinkType::LOOP, null(&frame, true), null(&back, true)),
    ];
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).unwrap();
    for (i, (link, out, back)) in cases.iter().enumerate() {
        let iface = w.interface(*link, 9).unwrap();
        w.packet(iface, ts(i as u64 * 10), out, out.len() as u32).unwrap();
        w.packet(iface, ts(i as u64 * 10 + 1), back, back.len() as u32).unwrap();
    }
    let (report, obs) = run(vec![reader(w.finish().unwrap())], config(1), Registry::builtin());
    assert!(report.counters.decode_errors.is_empty(), "{:?}", report.counters.decode_errors);
    assert_eq!(report.counters.packets, 16);
    assert_eq!(report.counters.protocols.udp, 16);
    // One conversation seen on eight links: the same five-tuple, so one flow of 16 packets.
    let f = flows(&obs);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].packets, [8, 8]);
    assert_eq!((f[0].initiator.port, f[0].responder.port), (40000, 161));
}

#[test]
fn vlans_and_qinq_keep_conversations_apart() {
    let mut frames = Vec::new();
    for (t, vlan) in
        [(0u64, None), (1, Some((10u16, None))), (2, Some((10, Some(20)))), (3, Some((11, Some(20))))]
    {
        let mut v = Vec::new();
        let eth = PacketBuilder::ethernet2(A, B);
        match vlan {
            None => eth.ipv4([10, 1, 1, 1], [10, 1, 1, 2], 64).udp(1000, 2000).write(&mut v, b"x"),
            Some((o, None)) => eth
                .single_vlan(VlanId::try_new(o).unwrap())
                .ipv4([10, 1, 1, 1], [10, 1, 1, 2], 64)
                .udp(1000, 2000)
                .write(&mut v, b"x"),
            Some((o, Some(i))) => eth
                .double_vlan(VlanId::try_new(o).unwrap(), VlanId::try_new(i).unwrap())
                .ipv4([10, 1, 1, 1], [10, 1, 1, 2], 64)
                .udp(1000, 2000)
                .write(&mut v, b"x"),
        }
        .unwrap();
        frames.push((t, v));
    }
    let (_, obs) = run(vec![reader(pcap(&frames))], config(2), Registry::builtin());
    let mut vlans: Vec<_> = flows(&obs).iter().map(|f| (f.vlans.outer, f.vlans.inner)).collect();
    vlans.sort();
    assert_eq!(vlans, [(None, None), (Some(10), None), (Some(10), Some(20)), (Some(11), Some(20))]);
}

/// A UDP datagram from port 5000 to 6000 carrying `payload`.
fn udp_datagram(payload: &[u8]) -> Vec<u8> {
    let mut udp = Vec::new();
    udp.extend(5000u16.to_be_bytes());
    udp.extend(6000u16.to_be_bytes());
    udp.extend(((8 + payload.len()) as u16).to_be_bytes());
    udp.extend([0, 0]);
    udp.extend(payload);
    udp
}

/// Splits a UDP datagram into fragments of `size` payload bytes (a multiple of 8), each
/// framed by `frame(index, is_last, piece)`.
fn fragments(payload: &[u8], size: usize, frame: impl Fn(usize, bool, &[u8]) -> Vec<u8>) -> Vec<Vec<u8>> {
    let udp = udp_datagram(payload);
    let pieces: Vec<&[u8]> = udp.chunks(size).collect();
    let n = pieces.len();
    pieces.into_iter().enumerate().map(|(i, piece)| frame(i, i + 1 == n, piece)).collect()
}

fn fragments_v4(payload: &[u8], size: usize) -> Vec<Vec<u8>> {
    fragments(payload, size, |i, last, piece| {
        let mut f = B.to_vec();
        f.extend(A);
        f.extend([0x08, 0x00, 0x45, 0]);
        f.extend(((20 + piece.len()) as u16).to_be_bytes());
        f.extend(0x4242u16.to_be_bytes());
        f.extend(((i * size / 8) as u16 | if last { 0 } else { 0x2000 }).to_be_bytes());
        f.extend([64, 17, 0, 0, 10, 2, 0, 1, 10, 2, 0, 2]);
        f.extend(piece);
        f
    })
}

fn fragments_v6(payload: &[u8], size: usize) -> Vec<Vec<u8>> {
    fragments(payload, size, |i, last, piece| {
        let mut f = B.to_vec();
        f.extend(A);
        f.extend([0x86, 0xdd, 0x60, 0, 0, 0]);
        f.extend(((8 + piece.len()) as u16).to_be_bytes());
        f.extend([44, 64]);
        f.extend(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1).octets());
        f.extend(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2).octets());
        f.extend([17, 0]);
        f.extend((((i * size / 8) as u16) << 3 | u16::from(!last)).to_be_bytes());
        f.extend(0xdead_beefu32.to_be_bytes());
        f.extend(piece);
        f
    })
}

#[test]
fn ipv4_and_ipv6_fragments_make_one_flow_each() {
    let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut v4 = fragments_v4(&payload, 1480);
    v4.swap(0, 2); // out of order
    let v6 = fragments_v6(&payload, 1232);
    let frames: Vec<(u64, Vec<u8>)> =
        v4.into_iter().chain(v6).enumerate().map(|(i, f)| (i as u64, f)).collect();
    let (report, obs) = run(vec![reader(pcap(&frames))], config(2), Registry::builtin());
    assert_eq!(report.counters.defrag.reassembled, 2, "{:?}", report.counters.defrag);
    assert_eq!(report.counters.protocols.ip_fragments, 6);
    assert_eq!(report.counters.protocols.udp, 2);
    let f = flows(&obs);
    assert_eq!(f.len(), 2);
    for r in &f {
        assert_eq!((r.initiator.port, r.responder.port), (5000, 6000));
        assert_eq!(r.packets, [1, 0], "a reassembled datagram is one packet of its flow");
    }
    assert!(f.iter().any(|r| r.initiator.ip == IpAddr::V4(Ipv4Addr::new(10, 2, 0, 1))));
    assert!(f.iter().any(|r| r.initiator.ip.is_ipv6()));
}

/// A test protocol: the client sends lines; each becomes an observation. It records gaps.
struct Lines(Arc<Mutex<Vec<String>>>);
struct LinesSession(Arc<Mutex<Vec<String>>>);

impl Dissector for Lines {
    fn name(&self) -> &'static str {
        "lines"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        match (dir, data.first()) {
            (Direction::ToResponder, Some(b'L')) => Probe::Match,
            (_, None) => Probe::NeedMore,
            _ => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(LinesSession(self.0.clone()))
    }
}

impl Session for LinesSession {
    fn parse(&mut self, _: &FlowContext, dir: Direction, data: &[u8], _: &mut Emitter<'_>) -> Parsed {
        if dir != Direction::ToResponder {
            return Parsed::Consumed(data.len());
        }
        let mut used = 0;
        while let Some(nl) = data[used..].iter().position(|&b| b == b'\n') {
            self.0.lock().unwrap().push(String::from_utf8_lossy(&data[used..used + nl]).into_owned());
            used += nl + 1;
        }
        Parsed::Consumed(used)
    }
    fn gap(&mut self, _: Direction, len: u64) -> bool {
        self.0.lock().unwrap().push(format!("<gap {len}>"));
        true
    }
}

fn tcp(from_client: bool, seq: u32, ack: u32, flags: &str, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sm, dm, sp, dp) = if from_client {
        ([10, 3, 0, 1], [10, 3, 0, 2], A, B, 50000, 7777)
    } else {
        ([10, 3, 0, 2], [10, 3, 0, 1], B, A, 7777, 50000)
    };
    let mut b = PacketBuilder::ethernet2(sm, dm).ipv4(src, dst, 64).tcp(sp, dp, seq, 1000);
    for f in flags.chars() {
        b = match f {
            'S' => b.syn(),
            'A' => b.ack(ack),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => b,
        };
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

#[test]
fn a_tcp_stream_reaches_its_dissector_whole_across_reordering_overlap_and_wrap() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let registry = Registry::builtin().with(Box::new(Lines(seen.clone())));
    let isn = u32::MAX - 10; // the client's sequence numbers wrap within the stream
    let c = isn.wrapping_add(1);
    let srv = 5000u32;
    let frames = vec![
        (0, tcp(true, isn, 0, "S", b"")),
        (1, tcp(false, srv, c, "SA", b"")),
        (2, tcp(true, c, srv + 1, "A", b"")),
        // "LINE one\nLINE two\nLINE three\n" sent as pieces: the last first, one overlap.
        (3, tcp(true, c.wrapping_add(18), srv + 1, "AP", b"LINE three\n")),
        (4, tcp(true, c, srv + 1, "AP", b"LINE one\nLI")),
        (5, tcp(true, c.wrapping_add(9), srv + 1, "AP", b"LINE two\nLI")),
        // a retransmission of data already delivered
        (6, tcp(true, c, srv + 1, "AP", b"LINE one\n")),
        (7, tcp(false, srv + 1, c.wrapping_add(29), "A", b"")),
        // bytes 29..39 were never captured; the server acknowledges past them
        (8, tcp(true, c.wrapping_add(39), srv + 1, "AP", b"LINE four\n")),
        (9, tcp(false, srv + 1, c.wrapping_add(49), "A", b"")),
        (10, tcp(true, c.wrapping_add(49), srv + 1, "FA", b"")),
        (11, tcp(false, srv + 1, c.wrapping_add(50), "FA", b"")),
        (12, tcp(true, c.wrapping_add(50), srv + 2, "A", b"")),
    ];
    let (report, obs) = run(vec![reader(pcap(&frames))], config(1), registry);
    assert_eq!(*seen.lock().unwrap(), ["LINE one", "LINE two", "LINE three", "<gap 10>", "LINE four"]);
    let r = &report.counters.reassembly;
    assert!(r.out_of_order >= 1 && r.retransmitted_bytes >= 9 && r.gaps == 1, "{r:?}");
    let f = flows(&obs);
    assert_eq!(f.len(), 1, "trailing ACK after FIN must not make a new flow");
    assert_eq!(f[0].app.as_deref(), Some("lines"));
    assert_eq!(f[0].end_reason, FlowEndReason::Fin);
    assert_eq!(report.counters.dissect.flows_matched.get("lines"), Some(&1));
}

#[test]
fn caps_are_hit_and_counted_not_fatal() {
    // A table of 4 flows facing 50 conversations at once.
    let frames: Vec<(u64, Vec<u8>)> =
        (0..50u16).map(|i| (u64::from(i), udp([10, 4, 0, 1], [10, 4, 0, 2], 1000 + i, 53, b"q"))).collect();
    let mut cfg = config(1);
    cfg.flow.max_flows = 4;
    let (report, _) = run(vec![reader(pcap(&frames))], cfg, Registry::builtin());
    assert_eq!(report.counters.packets, 50);
    assert_eq!(report.counters.flows.table_full, 46);
    assert_eq!(report.counters.caps_hit().get("flow_table_full"), Some(&46));
    // Reassembly depth: a stream longer than the depth stops being parsed, counted once.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let registry = Registry::builtin().with(Box::new(Lines(seen.clone())));
    let mut cfg = config(1);
    cfg.reassembly.depth = 20;
    let frames = vec![
        (0, tcp(true, 99, 0, "S", b"")),
        (1, tcp(true, 100, 0, "AP", b"LINE 1\nLINE 2\nLINE 3\nLINE 4\n")),
        (2, tcp(true, 128, 0, "AP", b"LINE 5\n")),
    ];
    let (report, _) = run(vec![reader(pcap(&frames))], cfg, registry);
    assert_eq!(*seen.lock().unwrap(), ["LINE 1", "LINE 2"]);
    assert_eq!(report.counters.reassembly.depth_reached, 1);
}

#[test]
fn a_truncated_capture_reports_where_and_keeps_what_came_before() {
    let frames: Vec<(u64, Vec<u8>)> = (0..20u16)
        .map(|i| (u64::from(i), udp([10, 5, 0, 1], [10, 5, 0, 2], 2000 + i, 53, b"query")))
        .collect();
    let mut bytes = pcap(&frames);
    let cut = bytes.len() - 10;
    bytes.truncate(cut);
    let (report, obs) = run(vec![reader(bytes)], config(2), Registry::builtin());
    assert_eq!(report.counters.packets, 19);
    assert_eq!(flows(&obs).len(), 19);
    assert!(report.has_file_errors());
    let err = report.files[0].error.as_deref().unwrap();
    assert!(err.contains("test.pcap") && err.contains("truncated at byte"), "{err}");
}

#[test]
fn arp_bindings_name_devices_and_routers_do_not_own_addresses_behind_them() {
    let mut frames = Vec::new();
    let arp = |sha: [u8; 6], spa: [u8; 4], tpa: [u8; 4]| {
        let mut v = vec![0xff; 6];
        v.extend(sha);
        v.extend([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        v.extend(sha);
        v.extend(spa);
        v.extend([0; 6]);
        v.extend(tpa);
        v
    };
    frames.push((0, arp(A, [10, 6, 0, 5], [10, 6, 0, 1])));
    frames.push((1, arp(A, [10, 6, 0, 5], [10, 6, 0, 1])));
    // B routes traffic of many internet hosts to A.
    for i in 0..12u8 {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(B, A)
            .ipv4([93, 184, 0, i], [10, 6, 0, 5], 50)
            .udp(443, 40000 + u16::from(i))
            .write(&mut v, b"r")
            .unwrap();
        frames.push((2 + u64::from(i), v));
    }
    let (report, obs) = run(vec![reader(pcap(&frames))], config(1), Registry::builtin());
    let seen = obs.iter().filter(|o| matches!(o.kind, ObservationKind::Seen { .. })).count();
    assert_eq!(seen, 1, "a repeated ARP binding is reported once");
    let mut s = Sightings::new();
    obs.iter().for_each(|o| s.observe(o));
    let summary = ward_sensor::Summary::new(&s, &report, s.devices());
    let dev_a = summary.devices.iter().find(|d| d.key == format!("mac:{}", ward_core::Mac(A))).unwrap();
    assert_eq!(dev_a.ips, [IpAddr::V4(Ipv4Addr::new(10, 6, 0, 5))]);
    assert!(dev_a.evidence.contains(&"arp.sender".to_owned()));
    let dev_b = summary.devices.iter().find(|d| d.key == format!("mac:{}", ward_core::Mac(B))).unwrap();
    assert!(dev_b.router && dev_b.ips.is_empty());
    assert_eq!(summary.devices.iter().filter(|d| d.key.starts_with("ip:93.184.")).count(), 12);
}

/// The records of a run, without the uids (they name the worker that owned a flow).
fn records(files: Vec<CaptureReader>, threads: usize) -> (Vec<FlowRecord>, Report) {
    let (report, obs) = run(files, config(threads), Registry::builtin());
    let mut f = flows(&obs);
    for r in &mut f {
        r.uid = 0;
    }
    (f, report)
}

#[test]
fn time_stamps_that_go_back_and_forth_give_the_same_records_on_any_thread_count() {
    // The sample with every time stamp moved by up to three seconds either way, read in tiny
    // chunks so that the reader's clock moves often.
    let mut r = CaptureReader::open(sample()).unwrap();
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, ByteOrder::Little, true).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    r.for_each_packet(|p, data| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let jitter = (x % 6_000_000_000) as i64 - 3_000_000_000;
        let t = Timestamp::from_nanos(p.ts.as_nanos().saturating_add_signed(jitter));
        w.packet(t, data, p.orig_len).unwrap();
    })
    .unwrap();
    let bytes = w.finish().unwrap();
    let tiny = ReaderOptions { chunk_size: 4096, first_chunk_size: 4096, mmap: false };
    let open = || CaptureReader::from_read("jitter.pcap", Cursor::new(bytes.clone()), tiny).unwrap();
    let (one, _) = records(vec![open()], 1);
    for threads in [2, 4] {
        let (many, report) = records(vec![open()], threads);
        assert_eq!(report.counters.packets, SAMPLE_PACKETS);
        assert_eq!(many.len(), one.len(), "{threads} threads: flow count");
        if let Some((a, b)) = many.iter().zip(&one).find(|(a, b)| a != b) {
            panic!("{threads} threads: flow records differ:\n{a:?}\n{b:?}");
        }
    }
}

#[test]
fn fragments_of_lost_datagrams_time_out_during_the_run() {
    // 50 datagrams lose their last fragment; a cap of 8 pending datagrams would refuse all
    // later ones unless old ones expire as capture time passes.
    let mut frames = Vec::new();
    let payload = vec![7u8; 2000];
    for i in 0..50u64 {
        let mut frags = fragments_v4(&payload, 1480);
        frags.pop();
        for f in &mut frags {
            f[14 + 4..14 + 6].copy_from_slice(&(i as u16).to_be_bytes()); // IP id
        }
        frames.extend(frags.into_iter().map(|f| (i * 40_000, f)));
    }
    // A whole datagram at the end must still be reassembled.
    frames.extend(fragments_v4(&payload, 1480).into_iter().map(|f| (51 * 40_000, f)));
    let mut cfg = config(1);
    cfg.defrag.max_datagrams = 8;
    let tiny = ReaderOptions { chunk_size: 4096, first_chunk_size: 4096, mmap: false };
    let reader = CaptureReader::from_read("frag.pcap", Cursor::new(pcap(&frames)), tiny).unwrap();
    let (report, _) = run(vec![reader], cfg, Registry::builtin());
    let d = &report.counters.defrag;
    assert_eq!(d.reassembled, 1, "{d:?}");
    assert_eq!(d.cap_datagrams, 0, "{d:?}");
    assert!(d.timed_out >= 40, "{d:?}");
}

#[test]
fn many_threads_and_tiny_chunks_from_a_stream_finish() {
    // read(2) input with more workers than cores and small chunks: many batches in flight
    // and the observation channel under pressure; the run must end with every packet.
    let bytes = std::fs::read(sample()).unwrap();
    let tiny = ReaderOptions { chunk_size: 4096, first_chunk_size: 4096, mmap: false };
    let reader = CaptureReader::from_read("s.pcap", Cursor::new(bytes), tiny).unwrap();
    let mut cfg = config(8);
    cfg.queue_depth = 1;
    let (report, obs) = run(vec![reader], cfg, Registry::builtin());
    assert_eq!(report.counters.packets, SAMPLE_PACKETS);
    assert_eq!(flows(&obs).len() as u64, report.counters.flows.created);
}
