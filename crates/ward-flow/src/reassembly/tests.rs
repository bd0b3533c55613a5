use proptest::prelude::*;

use super::*;

/// What a stream delivered; gaps are kept apart (with the data length before each) so that
/// tests can tell them from data.
#[derive(Default, Debug, PartialEq)]
struct Out {
    data: Vec<u8>,
    gaps: Vec<(usize, u64)>,
}

impl Out {
    fn sink(&mut self) -> impl FnMut(StreamEvent<'_>) + '_ {
        |e| match e {
            StreamEvent::Data(d) => self.data.extend_from_slice(d),
            StreamEvent::Gap(n) => self.gaps.push((self.data.len(), n)),
        }
    }
}

struct Rig {
    r: Reassembler,
    limits: ReassemblyLimits,
    budget: Budget,
    stats: ReassemblyStats,
    out: Out,
}

impl Rig {
    fn new(limits: ReassemblyLimits, budget: usize) -> Rig {
        Rig {
            r: Reassembler::new(),
            limits,
            budget: Budget::new(budget),
            stats: ReassemblyStats::default(),
            out: Out::default(),
        }
    }
    fn seg(&mut self, seq: u32, data: &[u8]) {
        let mut sink = self.out.sink();
        self.r.segment(seq, data, &self.limits, &mut self.budget, &mut self.stats, &mut sink);
    }
    fn ack(&mut self, ack: u32) {
        let mut sink = self.out.sink();
        self.r.acked(ack, &self.limits, &mut self.budget, &mut self.stats, &mut sink);
    }
    fn finish(&mut self) {
        let mut sink = self.out.sink();
        self.r.finish(&self.limits, &mut self.budget, &mut self.stats, &mut sink);
    }
}

fn rig() -> Rig {
    Rig::new(ReassemblyLimits::default(), 1 << 20)
}

#[test]
fn in_order_after_syn() {
    let mut t = rig();
    t.r.syn(1000);
    t.seg(1001, b"hello ");
    t.seg(1007, b"world");
    assert_eq!(t.out.data, b"hello world");
    assert_eq!(t.r.buffered(), 0);
}

#[test]
fn out_of_order_is_put_back_in_order() {
    let mut t = rig();
    t.r.syn(0);
    t.seg(7, b"world");
    t.seg(12, b"!");
    assert!(t.out.data.is_empty());
    t.seg(1, b"hello ");
    assert_eq!(t.out.data, b"hello world!");
    assert_eq!(t.stats.out_of_order, 2);
    assert_eq!(t.budget.used(), 0);
}

#[test]
fn retransmissions_and_partial_overlaps_with_delivered_data() {
    let mut t = rig();
    t.r.syn(0);
    t.seg(1, b"abcdef");
    t.seg(1, b"abcdef");
    t.seg(4, b"defghi");
    assert_eq!(t.out.data, b"abcdefghi");
    assert_eq!(t.stats.retransmitted_bytes, 6 + 3);
}

#[test]
fn overlapping_buffered_segments_keep_first_bytes_and_count_conflicts() {
    let mut t = rig();
    t.r.syn(0);
    t.seg(5, b"EFGH");
    t.seg(3, b"cdXXXXij");
    t.seg(1, b"ab");
    assert_eq!(t.out.data, b"abcdEFGHij");
    assert_eq!(t.stats.overlaps, 1);
    assert_eq!(t.stats.overlap_conflicts, 1);
}

#[test]
fn a_missing_segment_becomes_a_gap_at_the_end() {
    let mut t = rig();
    t.r.syn(0);
    t.seg(1, b"aaaa");
    t.seg(9, b"cccc");
    t.finish();
    assert_eq!(t.out.data, b"aaaacccc");
    assert_eq!(t.out.gaps, vec![(4, 4)]);
    assert_eq!((t.stats.gaps, t.stats.gap_bytes), (1, 4));
    assert_eq!(t.budget.used(), 0);
}

#[test]
fn an_ack_beyond_a_hole_means_the_capture_missed_it() {
    let mut t = rig();
    t.r.syn(0);
    t.seg(1, b"aaaa");
    t.seg(9, b"cccc");
    t.ack(5); // acknowledges only what we have: nothing to do
    assert!(t.out.gaps.is_empty());
    t.ack(13);
    assert_eq!(t.out.data, b"aaaacccc");
    assert_eq!(t.out.gaps, vec![(4, 4)]);
}

#[test]
fn sequence_numbers_wrap() {
    let mut t = rig();
    let isn = u32::MAX - 5;
    t.r.syn(isn);
    let data: Vec<u8> = (0..200u8).collect();
    // Deliver in reverse-ish order across the wrap.
    t.seg(isn.wrapping_add(101), &data[100..]);
    t.seg(isn.wrapping_add(1), &data[..50]);
    t.seg(isn.wrapping_add(51), &data[50..100]);
    assert_eq!(t.out.data, data);
    // Far past 4 GiB of stream the offsets keep counting up.
    let mut t = rig();
    t.r.syn(0);
    let mut seq = 1u32;
    let chunk = vec![7u8; 1 << 16];
    let limits = ReassemblyLimits { depth: u64::MAX, ..ReassemblyLimits::default() };
    t.limits = limits;
    for _ in 0..70_000 {
        t.seg(seq, &chunk);
        seq = seq.wrapping_add(chunk.len() as u32);
        if t.out.data.len() > 1 << 20 {
            t.out.data.clear();
        }
    }
    assert_eq!(t.r.position(), 70_000 * (1 << 16));
    assert!(t.out.gaps.is_empty());
}

#[test]
fn depth_stops_the_stream() {
    let mut t = Rig::new(ReassemblyLimits { depth: 10, ..ReassemblyLimits::default() }, 1 << 20);
    t.r.syn(0);
    t.seg(9, b"later");
    t.seg(1, b"0123456789abcdef");
    assert_eq!(t.out.data, b"0123456789");
    assert!(t.r.is_done());
    assert_eq!(t.stats.depth_reached, 1);
    assert_eq!(t.budget.used(), 0, "buffers are released at depth");
    t.seg(17, b"more");
    assert_eq!(t.out.data.len(), 10);
}

#[test]
fn stream_cap_forces_a_gap() {
    let limits = ReassemblyLimits { depth: 1 << 20, max_buffered_per_stream: 8 };
    let mut t = Rig::new(limits, 1 << 20);
    t.r.syn(0);
    t.seg(1, b"ab");
    t.seg(11, b"kkkk"); // hole at 3..11
    t.seg(15, b"oooo");
    t.seg(19, b"ssss"); // would exceed 8 buffered bytes
    assert_eq!(t.stats.stream_cap_hits, 1);
    assert_eq!(t.out.data, b"abkkkkoooossss");
    assert_eq!(t.out.gaps, vec![(2, 8)]);
}

#[test]
fn shared_budget_forces_a_gap() {
    let mut t = Rig::new(ReassemblyLimits::default(), 4);
    t.r.syn(0);
    t.seg(5, b"eeee");
    t.seg(9, b"iiii");
    assert_eq!(t.stats.budget_cap_hits, 1);
    assert_eq!(t.out.data, b"eeeeiiii");
    assert_eq!(t.out.gaps, vec![(0, 4)]);
}

#[test]
fn midstream_pickup_starts_at_first_data() {
    let mut t = rig();
    t.seg(123_456, b"mid");
    t.seg(123_459, b"stream");
    assert_eq!(t.out.data, b"midstream");
}

proptest! {
    /// Any arrival order of a stream's segments, with duplicates and consistent overlaps,
    /// yields exactly the stream; segments that never arrive become gaps of their size.
    #[test]
    fn any_order_yields_the_stream(
        len in 1usize..3000,
        cuts in proptest::collection::vec(1usize..3000, 0..40),
        order in proptest::collection::vec(any::<proptest::sample::Index>(), 0..80),
        dropped in proptest::collection::vec(any::<proptest::sample::Index>(), 0..3),
        isn: u32,
    ) {
        let stream: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c < len).collect();
        bounds.push(0);
        bounds.push(len);
        bounds.sort_unstable();
        bounds.dedup();
        let segs: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
        let drop: std::collections::BTreeSet<usize> = dropped.iter().map(|i| i.index(segs.len())).filter(|&i| i > 0).collect();
        // Arrival sequence: a shuffled selection (duplicates allowed), then every segment once.
        let mut arrivals: Vec<(usize, usize)> = order.iter().map(|i| segs[i.index(segs.len())]).collect();
        arrivals.extend(segs.iter().copied());
        // Overlapping pieces that straddle segment boundaries, with the same bytes.
        arrivals.push((len / 3, (len / 3 + 50).min(len)));
        let mut t = rig();
        t.r.syn(isn);
        for (s, e) in arrivals {
            if drop.iter().any(|&d| segs[d].0 < e && s < segs[d].1) {
                continue;
            }
            t.seg(isn.wrapping_add(1).wrapping_add(s as u32), &stream[s..e]);
        }
        t.finish();
        // Every byte not in a dropped segment arrives; dropped segments before the last byte
        // that arrived are gaps, and the ones after it cannot be known at all.
        let last_kept = (0..segs.len()).rev().find(|k| !drop.contains(k));
        let mut want = Vec::new();
        let mut want_gap = 0u64;
        for (k, &(s, e)) in segs.iter().enumerate() {
            if Some(k) > last_kept {
                break;
            }
            if drop.contains(&k) {
                want_gap += (e - s) as u64;
            } else {
                want.extend_from_slice(&stream[s..e]);
            }
        }
        prop_assert_eq!(&t.out.data, &want);
        prop_assert_eq!(t.out.gaps.iter().map(|g| g.1).sum::<u64>(), want_gap);
        prop_assert_eq!(t.budget.used(), 0);
    }
}

#[test]
fn a_segment_from_before_a_midstream_start_is_a_retransmission() {
    let mut t = rig();
    t.seg(1_000, b"world");
    t.seg(995, b"hello");
    t.finish();
    assert_eq!(t.out.data, b"world");
    assert!(t.out.gaps.is_empty(), "no 4 GiB gap: {:?}", t.out.gaps);
    assert_eq!(t.stats.retransmitted_bytes, 5);
}

#[test]
fn data_on_a_syn_starts_the_stream() {
    let mut t = rig();
    t.r.syn(500);
    t.seg(501, b"fast open");
    t.seg(510, b"!");
    assert_eq!(t.out.data, b"fast open!");
}

#[test]
fn a_flood_of_tiny_reversed_segments_stays_within_the_caps() {
    let limits = ReassemblyLimits { depth: 1 << 20, max_buffered_per_stream: 64 << 10 };
    let mut t = Rig::new(limits, 1 << 20);
    t.r.syn(0);
    let start = std::time::Instant::now();
    for i in (2..200_000u32).rev() {
        t.seg(i, b"x");
        assert!(t.r.buffered() <= limits.max_buffered_per_stream);
    }
    // Each held segment is charged its bookkeeping: about a thousand fit, not 64 K; then the
    // stream gives up the hole, skips ahead, and everything lower is a retransmission.
    assert_eq!(t.stats.stream_cap_hits, 1, "{:?}", t.stats);
    assert!((900..1100).contains(&t.stats.out_of_order), "{:?}", t.stats);
    assert!(start.elapsed() < std::time::Duration::from_secs(20), "quadratic time: {:?}", start.elapsed());
    t.finish();
    assert_eq!(t.budget.used(), 0);
}
