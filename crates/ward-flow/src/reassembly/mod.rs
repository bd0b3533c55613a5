//! Per-direction TCP stream reassembly for dissectors.
//!
//! A [`Reassembler`] turns segments (in any order, retransmitted, overlapping, across sequence
//! wrap) into the in-order byte stream a dissector parses, up to a depth. In-order data is
//! handed on without a copy; only out-of-order segments are buffered, within a per-stream cap
//! and a budget shared by all streams of a worker. When a cap is hit, or the receiver's ACK
//! shows that the capture missed bytes, the hole becomes a [`StreamEvent::Gap`] and the stream
//! goes on. Every such event is counted in [`ReassemblyStats`].

use std::collections::BTreeMap;

/// Caps on reassembly.
#[derive(Clone, Copy, Debug)]
pub struct ReassemblyLimits {
    /// Bytes of each direction handed to dissectors; later bytes are not looked at.
    pub depth: u64,
    /// Out-of-order bytes one direction may hold (with [`SEGMENT_OVERHEAD`] per segment).
    pub max_buffered_per_stream: usize,
}

impl Default for ReassemblyLimits {
    fn default() -> ReassemblyLimits {
        ReassemblyLimits { depth: 1 << 20, max_buffered_per_stream: 256 << 10 }
    }
}

/// Out-of-order bytes all streams of one worker may hold together.
#[derive(Debug)]
pub struct Budget {
    used: usize,
    max: usize,
}

impl Budget {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> Budget {
        Budget { used: 0, max }
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }
}

/// Counters of reassembly, under fixed names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReassemblyStats {
    /// Segments that arrived ahead of a hole and were buffered.
    pub out_of_order: u64,
    /// Bytes received again after they had been delivered.
    pub retransmitted_bytes: u64,
    /// Segments overlapping buffered bytes.
    pub overlaps: u64,
    /// Overlaps whose bytes differ from those held: a sign of evasion or corruption.
    pub overlap_conflicts: u64,
    /// Holes skipped.
    pub gaps: u64,
    /// Bytes in skipped holes.
    pub gap_bytes: u64,
    /// Streams that reached the depth.
    pub depth_reached: u64,
    /// Times a stream's own buffer cap forced a gap.
    pub stream_cap_hits: u64,
    /// Times the worker's shared budget forced a gap.
    pub budget_cap_hits: u64,
}

impl ReassemblyStats {
    /// Adds `other` into `self`.
    pub fn add(&mut self, o: &ReassemblyStats) {
        self.out_of_order += o.out_of_order;
        self.retransmitted_bytes += o.retransmitted_bytes;
        self.overlaps += o.overlaps;
        self.overlap_conflicts += o.overlap_conflicts;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.depth_reached += o.depth_reached;
        self.stream_cap_hits += o.stream_cap_hits;
        self.budget_cap_hits += o.budget_cap_hits;
    }
}

/// What a stream hands to its consumer.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The next bytes of the stream, in order.
    Data(&'a [u8]),
    /// This many bytes are missing from the capture; data resumes after them.
    Gap(u64),
}

/// What holding one out-of-order segment costs beyond its bytes (map node, vector header,
/// allocator): charged against the caps, so that a flood of one-byte segments cannot hold
/// far more memory than the caps say.
pub const SEGMENT_OVERHEAD: usize = 64;

/// Reassembles one direction of a TCP connection.
pub struct Reassembler {
    /// Sequence number of stream offset 0.
    base: u32,
    started: bool,
    /// Offset of the next byte to deliver.
    next: u64,
    /// Out-of-order segments by offset, never overlapping each other.
    segs: BTreeMap<u64, Vec<u8>>,
    /// Bytes held, with [`SEGMENT_OVERHEAD`] per segment.
    buffered: usize,
    done: bool,
}

impl Default for Reassembler {
    fn default() -> Reassembler {
        Reassembler::new()
    }
}

fn cost(len: usize) -> usize {
    len + SEGMENT_OVERHEAD
}

impl Reassembler {
    /// A stream that has seen nothing yet.
    pub fn new() -> Reassembler {
        Reassembler { base: 0, started: false, next: 0, segs: BTreeMap::new(), buffered: 0, done: false }
    }

    /// Bytes delivered or skipped so far.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Out-of-order bytes held, with their bookkeeping.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// True once the depth is reached or the consumer stopped the stream.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Stops the stream (the dissector has what it needs) and frees its buffers.
    pub fn stop(&mut self, budget: &mut Budget) {
        self.done = true;
        self.release(budget);
    }

    fn release(&mut self, budget: &mut Budget) {
        budget.used = budget.used.saturating_sub(self.buffered);
        self.buffered = 0;
        self.segs = BTreeMap::new();
    }

    /// The stream offset of sequence number `seq`: its signed distance from the next expected
    /// byte, so that numbers wrapping past 2^32 keep counting up and a segment from just before
    /// the stream's start is a retransmission (negative), never one 4 GiB ahead.
    fn offset_of(&self, seq: u32) -> i64 {
        let next_seq = self.base.wrapping_add(self.next as u32);
        self.next as i64 + i64::from(seq.wrapping_sub(next_seq) as i32)
    }

    /// A SYN fixes the stream's start: its sequence number plus one (data a SYN carries
    /// starts there too).
    pub fn syn(&mut self, seq: u32) {
        if !self.started {
            self.base = seq.wrapping_add(1);
            self.started = true;
        }
    }

    /// Feeds one segment's payload, handing in-order bytes to `sink`.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        limits: &ReassemblyLimits,
        budget: &mut Budget,
        stats: &mut ReassemblyStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if self.done || payload.is_empty() {
            return;
        }
        if !self.started {
            // Picked up mid-stream: this segment is where the stream starts for us.
            self.base = seq;
            self.started = true;
        }
        let off = self.offset_of(seq);
        let end = off + payload.len() as i64;
        let next = self.next as i64;
        if end <= next {
            stats.retransmitted_bytes += payload.len() as u64;
            return;
        }
        let (off, data) = if off < next {
            let skip = (next - off) as usize;
            stats.retransmitted_bytes += skip as u64;
            (self.next, &payload[skip..])
        } else {
            (off as u64, payload)
        };
        if off == self.next {
            self.deliver(data, limits, stats, sink);
            self.drain(limits, budget, stats, sink);
            return;
        }
        stats.out_of_order += 1;
        if !self.try_buffer(off, data, limits, budget, stats) {
            // A cap is hit: give up on the hole. Skip to the first byte held (or this segment),
            // deliver what is then contiguous, and place this segment again from there.
            let first = self.segs.keys().next().map_or(off, |&s| s.min(off));
            self.skip_to(first, limits, stats, sink);
            self.drain(limits, budget, stats, sink);
            if self.done || off + data.len() as u64 <= self.next {
                return;
            }
            let from = self.next.saturating_sub(off) as usize;
            let (at, rest) = (off.max(self.next), &data[from..]);
            if at == self.next {
                self.deliver(rest, limits, stats, sink);
                self.drain(limits, budget, stats, sink);
            } else {
                // Still no room: the bytes are dropped, and become part of a later gap.
                let _ = self.try_buffer(at, rest, limits, budget, stats);
            }
        }
    }

    /// The other direction acknowledged up to `ack`: bytes before it that never showed up were
    /// received by the host but missed by the capture, so waiting for them is pointless.
    pub fn acked(
        &mut self,
        ack: u32,
        limits: &ReassemblyLimits,
        budget: &mut Budget,
        stats: &mut ReassemblyStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if self.done || !self.started {
            return;
        }
        let acked = self.offset_of(ack);
        // Only act on a hole we hold data beyond; a plain ACK of delivered data is normal.
        if acked > self.next as i64
            && let Some(&first) = self.segs.keys().next()
        {
            self.skip_to((acked as u64).min(first), limits, stats, sink);
            self.drain(limits, budget, stats, sink);
        }
    }

    /// The connection is over: hand on whatever is buffered, skipping holes.
    pub fn finish(
        &mut self,
        limits: &ReassemblyLimits,
        budget: &mut Budget,
        stats: &mut ReassemblyStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        while !self.done {
            let Some(&first) = self.segs.keys().next() else { break };
            self.skip_to(first, limits, stats, sink);
            self.drain(limits, budget, stats, sink);
        }
        self.release(budget);
    }

    fn deliver(
        &mut self,
        data: &[u8],
        limits: &ReassemblyLimits,
        stats: &mut ReassemblyStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        let room = limits.depth.saturating_sub(self.next);
        let take = (data.len() as u64).min(room) as usize;
        if take > 0 {
            sink(StreamEvent::Data(&data[..take]));
        }
        self.next += data.len() as u64;
        if self.next >= limits.depth && !self.done {
            self.done = true;
            stats.depth_reached += 1;
        }
    }

    fn skip_to(
        &mut self,
        to: u64,
        limits: &ReassemblyLimits,
        stats: &mut ReassemblyStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        if to <= self.next {
            return;
        }
        let len = to - self.next;
        stats.gaps += 1;
        stats.gap_bytes += len;
        sink(StreamEvent::Gap(len));
        self.next = to;
        if self.next >= limits.depth && !self.done {
            self.done = true;
            stats.depth_reached += 1;
        }
    }

    /// Delivers buffered segments that have become contiguous.
    fn drain(
        &mut self,
        limits: &ReassemblyLimits,
        budget: &mut Budget,
        stats: &mut ReassemblyStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        while !self.done {
            let Some(entry) = self.segs.first_entry() else { break };
            if *entry.key() > self.next {
                break;
            }
            let (off, seg) = entry.remove_entry();
            self.buffered -= cost(seg.len());
            budget.used = budget.used.saturating_sub(cost(seg.len()));
            if off + seg.len() as u64 > self.next {
                let skip = (self.next - off) as usize;
                self.deliver(&seg[skip..], limits, stats, sink);
            }
        }
        if self.done {
            self.release(budget);
        }
    }

    /// Holds an out-of-order segment, filling only holes (the first bytes to arrive win).
    /// Returns false, holding nothing, when that would pass a cap.
    fn try_buffer(
        &mut self,
        off: u64,
        data: &[u8],
        limits: &ReassemblyLimits,
        budget: &mut Budget,
        stats: &mut ReassemblyStats,
    ) -> bool {
        let end = off + data.len() as u64;
        // The pieces of [off, end) no held segment covers: walk the held segments that overlap,
        // starting with the one that begins before `off`, if it reaches past it.
        let before = self.segs.range(..off).next_back().filter(|(s, d)| **s + d.len() as u64 > off);
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let (mut cursor, mut overlapped, mut conflict) = (off, false, false);
        for (&s, held) in before.into_iter().chain(self.segs.range(off..end)) {
            let e = s + held.len() as u64;
            overlapped = true;
            let (os, oe) = (s.max(off), e.min(end));
            if os < oe {
                conflict |= held[(os - s) as usize..(oe - s) as usize]
                    != data[(os - off) as usize..(oe - off) as usize];
            }
            if s > cursor {
                pieces.push((cursor, s));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        let need: usize = pieces.iter().map(|(s, e)| cost((e - s) as usize)).sum();
        if self.buffered + need > limits.max_buffered_per_stream {
            stats.stream_cap_hits += 1;
            return false;
        }
        if budget.used + need > budget.max {
            stats.budget_cap_hits += 1;
            return false;
        }
        if overlapped {
            stats.overlaps += 1;
        }
        if conflict {
            stats.overlap_conflicts += 1;
        }
        for (s, e) in pieces {
            self.segs.insert(s, data[(s - off) as usize..(e - off) as usize].to_vec());
        }
        self.buffered += need;
        budget.used += need;
        true
    }
}

#[cfg(test)]
mod tests;
