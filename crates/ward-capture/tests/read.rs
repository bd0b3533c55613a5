//! Behaviour of the capture readers on files in every flavour, and on damaged ones.
#![allow(clippy::unwrap_used)]

use std::io::Write;

use ward_capture::write::{ByteOrder, PcapNgWriter, PcapWriter};
use ward_capture::{CaptureError, CaptureReader, CaptureSet, LinkType, ReaderOptions};
use ward_core::Timestamp;

fn frame(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (i * 31 + k) as u8).collect()
}

fn ts(i: usize) -> Timestamp {
    Timestamp::from_nanos(1_700_000_000_000_000_000 + i as u64 * 1_234_567)
}

type Packets = Vec<(Timestamp, LinkType, Vec<u8>)>;

/// Every packet as (time, link, bytes), and the error that ended the file, if any.
fn read_all(bytes: Vec<u8>, opts: ReaderOptions) -> (Packets, Option<CaptureError>) {
    let mut r = CaptureReader::from_read("mem.pcap", std::io::Cursor::new(bytes), opts).unwrap();
    let mut out = Vec::new();
    let res = r.for_each_packet(|p, d| out.push((p.ts, p.link, d.to_vec())));
    (out, res.err())
}

fn small() -> ReaderOptions {
    ReaderOptions { chunk_size: 4096, first_chunk_size: 4096, mmap: true }
}

fn pcap_file(order: ByteOrder, nanos: bool, n: usize) -> (Vec<u8>, Vec<usize>) {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, order, nanos).unwrap();
    let mut ends = Vec::new();
    for i in 0..n {
        w.packet(ts(i), &frame(i, 60 + i * 37 % 1400), 0).unwrap();
        ends.push(24 + (0..=i).map(|k| 16 + 60 + k * 37 % 1400).sum::<usize>());
    }
    (w.finish().unwrap(), ends)
}

#[test]
fn pcap_in_both_byte_orders_and_resolutions() {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        for nanos in [false, true] {
            let (bytes, _) = pcap_file(order, nanos, 50);
            let (pkts, err) = read_all(bytes, small());
            assert!(err.is_none(), "{order:?} nanos={nanos}: {err:?}");
            assert_eq!(pkts.len(), 50);
            for (i, (t, link, data)) in pkts.iter().enumerate() {
                let want = if nanos { ts(i) } else { Timestamp::from_nanos(ts(i).as_nanos() / 1000 * 1000) };
                assert_eq!(*t, want);
                assert_eq!(*link, LinkType::ETHERNET);
                assert_eq!(data, &frame(i, 60 + i * 37 % 1400));
            }
        }
    }
}

#[test]
fn pcapng_interfaces_with_own_link_types_resolutions_and_sections() {
    let mut w = PcapNgWriter::new(Vec::new(), ByteOrder::Little).unwrap();
    let eth = w.interface(LinkType::ETHERNET, 6).unwrap();
    let raw = w.interface(LinkType::RAW, 9).unwrap();
    w.packet(eth, ts(0), &frame(0, 60), 60).unwrap();
    w.opaque_block(0x0000_0bad, b"custom block to skip").unwrap();
    w.packet(raw, ts(1), &frame(1, 40), 1500).unwrap();
    // A second section in the other byte order, with a binary time resolution.
    w.section(ByteOrder::Big).unwrap();
    let sll2 = w.interface(LinkType::LINUX_SLL2, 0x80 | 20).unwrap();
    w.packet(sll2, ts(2), &frame(2, 80), 80).unwrap();
    let bytes = w.finish().unwrap();
    let (pkts, err) = read_all(bytes, ReaderOptions::default());
    assert!(err.is_none(), "{err:?}");
    let links: Vec<_> = pkts.iter().map(|p| p.1).collect();
    assert_eq!(links, [LinkType::ETHERNET, LinkType::RAW, LinkType::LINUX_SLL2]);
    assert_eq!(pkts[0].0.as_nanos() / 1000, ts(0).as_nanos() / 1000);
    assert_eq!(pkts[1].0, ts(1));
    // 2^-20 s resolution: within a microsecond.
    assert!(pkts[2].0.as_nanos().abs_diff(ts(2).as_nanos()) < 1000);
    assert_eq!(pkts[1].2, frame(1, 40));
}

#[test]
fn compressed_captures_by_magic_and_by_name() {
    let (plain, _) = pcap_file(ByteOrder::Little, false, 300);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("a.pcap.gz", &gz), ("b.pcap.zst", &zst), ("c.cap", &gz), ("d.pcap", &plain)] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let mut r = CaptureReader::open(&path).unwrap();
        assert_eq!(r.for_each_packet(|_, _| {}).unwrap(), 300, "{name}");
        assert_eq!(r.progress().load(std::sync::atomic::Ordering::Relaxed), bytes.len() as u64);
    }
}

#[test]
fn truncation_at_every_offset_keeps_what_came_before() {
    let (bytes, ends) = pcap_file(ByteOrder::Little, false, 12);
    for cut in 0..bytes.len() {
        let (pkts, err) = read_all(bytes[..cut].to_vec(), small());
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        assert_eq!(pkts.len(), complete, "cut at {cut}");
        let at_boundary = cut == 24 || ends.contains(&cut);
        match err {
            None => assert!(at_boundary, "cut at {cut} not reported"),
            Some(CaptureError::Truncated { offset, packets, path, .. }) => {
                assert!(!at_boundary, "cut at record boundary {cut} reported as damage");
                let record_start =
                    if complete == 0 { if cut < 24 { 0 } else { 24 } } else { ends[complete - 1] };
                assert_eq!(offset as usize, record_start, "cut at {cut}");
                assert_eq!(packets as usize, complete);
                assert_eq!(path.to_str(), Some("mem.pcap"));
            }
            Some(other) => panic!("cut at {cut}: {other}"),
        }
    }
}

#[test]
fn mapped_and_copied_files_read_the_same_even_when_cut() {
    let (bytes, ends) = pcap_file(ByteOrder::Big, true, 300);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    // Whole, cut inside a record, and cut on a record boundary.
    for cut in [bytes.len(), ends[150] + 7, ends[200]] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let mut results = Vec::new();
        for mmap in [true, false] {
            let opts = ReaderOptions { chunk_size: 4096, first_chunk_size: 4096, mmap };
            let mut r = CaptureReader::open_with(&path, opts).unwrap();
            let mut got = Vec::new();
            let res = r.for_each_packet(|p, d| got.push((p.ts, d.to_vec())));
            results.push((got, res.err().map(|e| e.to_string())));
        }
        assert_eq!(results[0], results[1], "cut at {cut}");
        assert_eq!(results[0].1.is_some(), cut == ends[150] + 7);
    }
}

#[test]
fn truncated_gzip_keeps_what_came_before() {
    let (plain, _) = pcap_file(ByteOrder::Little, false, 2000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let (pkts, err) = read_all(gz[..gz.len() / 2].to_vec(), small());
    assert!(pkts.len() > 100, "{}", pkts.len());
    let msg = err.expect("a cut gzip stream is an error").to_string();
    assert!(msg.contains("mem.pcap") && msg.contains("byte"), "{msg}");
}

#[test]
fn corrupt_record_length_names_file_and_offset() {
    let (mut bytes, ends) = pcap_file(ByteOrder::Little, false, 10);
    let at = ends[4];
    bytes[at + 8..at + 12].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    let (pkts, err) = read_all(bytes, small());
    assert_eq!(pkts.len(), 5);
    match err {
        Some(e @ CaptureError::Corrupt { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&format!("corrupt at byte {at}")), "{msg}");
            assert!(msg.contains("the 5 packets before it were read"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn records_larger_than_a_chunk() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, ByteOrder::Little, false).unwrap();
    for (i, len) in [100usize, 70_000, 200, 262_144, 10].into_iter().enumerate() {
        w.packet(ts(i), &frame(i, len), 0).unwrap();
    }
    let (pkts, err) = read_all(w.finish().unwrap(), small());
    assert!(err.is_none(), "{err:?}");
    let lens: Vec<_> = pkts.iter().map(|p| p.2.len()).collect();
    assert_eq!(lens, [100, 70_000, 200, 262_144, 10]);
    assert_eq!(pkts[3].2, frame(3, 262_144));
}

#[test]
fn not_a_capture_empty_and_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a capture").unwrap();
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, "").unwrap();
    let err = CaptureReader::open(&text).unwrap().next_chunk().err().unwrap();
    assert!(matches!(err, CaptureError::NotACapture { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"));
    let err = CaptureReader::open(&empty).unwrap().next_chunk().err().unwrap();
    assert!(err.to_string().contains("empty"), "{err}");
    assert!(CaptureReader::open(dir.path()).is_err());
    assert!(CaptureReader::open(dir.path().join("missing.pcap")).is_err());
}

#[test]
fn files_merge_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    // a: even packets, b: odd packets, c: later than both. Given in the order c, a, b.
    let mut files = Vec::new();
    for (name, range) in [("c", 200..260usize), ("a", 0..200), ("b", 0..200)] {
        let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, ByteOrder::Little, true).unwrap();
        for i in range.filter(|i| match name {
            "a" => i % 2 == 0,
            "b" => i % 2 == 1,
            _ => true,
        }) {
            w.packet(ts(i), &frame(i, 64), 0).unwrap();
        }
        let path = dir.path().join(format!("{name}.pcap"));
        std::fs::write(&path, w.finish().unwrap()).unwrap();
        files.push(CaptureReader::open_with(&path, small()).unwrap());
    }
    let mut set = CaptureSet::new(files);
    let mut seen = Vec::new();
    while let Some(run) = set.next_run() {
        for p in run.packets {
            seen.push(p.ts);
            assert_eq!(p.bytes(run.chunk).len(), 64);
        }
    }
    assert!(set.errors().is_empty());
    let want: Vec<_> = (0..260).map(ts).collect();
    assert_eq!(seen, want);
}

#[test]
fn a_damaged_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = pcap_file(ByteOrder::Little, false, 40);
    let (bad, ends) = pcap_file(ByteOrder::Big, false, 40);
    let (p1, p2) = (dir.path().join("good.pcap"), dir.path().join("bad.pcap"));
    std::fs::write(&p1, &good).unwrap();
    std::fs::write(&p2, &bad[..ends[19] + 5]).unwrap();
    let readers = vec![CaptureReader::open(&p1).unwrap(), CaptureReader::open(&p2).unwrap()];
    let mut set = CaptureSet::new(readers);
    let mut n = 0;
    while let Some(run) = set.next_run() {
        n += run.packets.len();
    }
    assert_eq!(n, 60);
    assert_eq!(set.errors().len(), 1);
    assert!(set.errors()[0].to_string().contains("bad.pcap"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Any bytes after a valid header: never a panic, and the error (if any) names the file.
    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4000), ng: bool) {
        let mut bytes = if ng {
            PcapNgWriter::new(Vec::new(), ByteOrder::Little).unwrap().finish().unwrap()
        } else {
            PcapWriter::new(Vec::new(), LinkType::ETHERNET, ByteOrder::Little, false).unwrap().finish().unwrap()
        };
        bytes.extend(body);
        let (_, err) = read_all(bytes, small());
        if let Some(e) = err {
            proptest::prop_assert!(e.to_string().contains("mem.pcap"));
        }
    }
}

#[test]
fn a_huge_record_does_not_make_every_later_chunk_huge() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, ByteOrder::Little, false).unwrap();
    for i in 0..200 {
        let len = if i == 10 { 200_000 } else { 300 };
        w.packet(ts(i), &frame(i, len), 0).unwrap();
    }
    let mut r =
        CaptureReader::from_read("mem.pcap", std::io::Cursor::new(w.finish().unwrap()), small()).unwrap();
    let mut sizes = Vec::new();
    while let Some(c) = r.next_chunk().unwrap() {
        sizes.push(c.chunk.len());
    }
    let big = sizes.iter().position(|&n| n >= 200_000).unwrap();
    assert!(sizes[big + 1..].iter().all(|&n| n <= 8192), "{sizes:?}");
}

#[test]
fn a_read_error_names_the_offset_and_keeps_what_came_before() {
    struct Failing(std::io::Cursor<Vec<u8>>, u64);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.position() >= self.1 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let room = (self.1 - self.0.position()) as usize;
            let n = buf.len().min(room);
            self.0.read(&mut buf[..n])
        }
    }
    let (bytes, ends) = pcap_file(ByteOrder::Little, false, 100);
    let fail_at = ends[50] as u64 + 3;
    let mut r = CaptureReader::from_read("disk.pcap", Failing(std::io::Cursor::new(bytes), fail_at), small())
        .unwrap();
    let mut n = 0;
    let err = r.for_each_packet(|_, _| n += 1).unwrap_err().to_string();
    assert_eq!(n, 51);
    assert!(
        err.contains("disk.pcap")
            && err.contains(&format!("read failed at byte {fail_at}"))
            && err.contains("disk on fire"),
        "{err}"
    );
}
