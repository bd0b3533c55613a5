//! Per-direction TCP stream reassembly for dissectors.
//!
//! A [`Reassembler`] turns segments (in any order, retransmitted, overlapping, across sequence
//! wrap) into the in-order byte stream a dissector parses, up to a depth. In-order data is
//! handed on without a copy; only out-of-order segments are buffered, within a per-stream cap
//! and a budget shared by all streams of a worker. When a cap is hit, or the receiver's ACK
//! shows that the capture missed bytes, the hole becomes a [`StreamEvent::Gap`] and the stream
//! goes on. Every such event is counted in [`ReassemblyStats`].

/// Caps on reassembly.
#[derive(Clone, Copy, Debug)]
pub struct ReassemblyLimits {
    /// Bytes of each direction handed to dissectors; later bytes are not looked at.
    pub depth: u64,
    /// Out-of-order bytes one direction may hold.
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

struct Segment {
    off: u64,
    data: Vec<u8>,
}

impl Segment {
    fn end(&self) -> u64 {
        self.off + self.data.len() as u64
    }
}

/// Reassembles one direction of a TCP connection.
pub struct Reassembler {
    /// Sequence number of stream offset 0.
    base: u32,
    started: bool,
    /// Offset of the next byte to deliver.
    next: u64,
    /// Out-of-order segments, sorted by offset, never overlapping each other.
    segs: Vec<Segment>,
    buffered: usize,
    done: bool,
}

impl Default for Reassembler {
    fn default() -> Reassembler {
        Reassembler::new()
    }
}

const HALF: u64 = 1 << 31;
const WRAP: u64 = 1 << 32;

impl Reassembler {
    /// A stream that has seen nothing yet.
    pub fn new() -> Reassembler {
        Reassembler { base: 0, started: false, next: 0, segs: Vec::new(), buffered: 0, done: false }
    }

    /// Bytes delivered or skipped so far.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Out-of-order bytes held.
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
        self.segs = Vec::new();
    }

    /// The stream offset of sequence number `seq`, taking the one nearest to `next` so that
    /// sequence numbers wrapping past 2^32 keep counting up.
    fn offset_of(&self, seq: u32) -> u64 {
        let rel = u64::from(seq.wrapping_sub(self.base));
        let mut cand = (self.next & !(WRAP - 1)) | rel;
        if cand + HALF < self.next {
            cand += WRAP;
        } else if cand > self.next + HALF && cand >= WRAP {
            cand -= WRAP;
        }
        cand
    }

    /// A SYN fixes the stream's start: its sequence number plus one.
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
        let mut off = self.offset_of(seq);
        let mut data = payload;
        let end = off + data.len() as u64;
        if end <= self.next {
            stats.retransmitted_bytes += data.len() as u64;
            return;
        }
        if off < self.next {
            let skip = (self.next - off) as usize;
            stats.retransmitted_bytes += skip as u64;
            data = &data[skip..];
            off = self.next;
        }
        if off == self.next {
            self.deliver(data, limits, stats, sink);
            self.drain(limits, budget, stats, sink);
            return;
        }
        stats.out_of_order += 1;
        self.buffer(off, data, limits, budget, stats, sink);
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
        // Only act on a hole we are holding data beyond; a plain ACK of delivered data is normal.
        if acked > self.next && acked <= self.next + HALF && !self.segs.is_empty() {
            let first = self.segs.first().map_or(acked, |s| s.off);
            self.skip_to(acked.min(first), limits, stats, sink);
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
            let Some(first) = self.segs.first().map(|s| s.off) else { break };
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
        while let Some(first) = self.segs.first() {
            if self.done || first.off > self.next {
                break;
            }
            let seg = self.segs.remove(0);
            self.buffered -= seg.data.len();
            budget.used = budget.used.saturating_sub(seg.data.len());
            if seg.end() > self.next {
                let skip = (self.next - seg.off) as usize;
                self.deliver(&seg.data[skip..], limits, stats, sink);
            }
        }
        if self.done {
            self.release(budget);
        }
    }

    /// Buffers an out-of-order segment, filling only holes (first bytes win).
    fn buffer(
        &mut self,
        off: u64,
        data: &[u8],
        limits: &ReassemblyLimits,
        budget: &mut Budget,
        stats: &mut ReassemblyStats,
        sink: &mut impl FnMut(StreamEvent<'_>),
    ) {
        // Pieces of [off, end) that no held segment covers.
        let end = off + data.len() as u64;
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut cursor = off;
        let mut overlapped = false;
        let mut conflict = false;
        for s in &self.segs {
            if s.end() <= cursor || s.off >= end {
                continue;
            }
            overlapped = true;
            let (os, oe) = (s.off.max(off), s.end().min(end));
            let held = &s.data[(os - s.off) as usize..(oe - s.off) as usize];
            let new = &data[(os - off) as usize..(oe - off) as usize];
            conflict |= held != new;
            if s.off > cursor {
                pieces.push((cursor, s.off));
            }
            cursor = cursor.max(s.end());
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        if overlapped {
            stats.overlaps += 1;
        }
        if conflict {
            stats.overlap_conflicts += 1;
        }
        let need: usize = pieces.iter().map(|(s, e)| (e - s) as usize).sum();
        if self.buffered + need > limits.max_buffered_per_stream || budget.used + need > budget.max {
            if self.buffered + need > limits.max_buffered_per_stream {
                stats.stream_cap_hits += 1;
            } else {
                stats.budget_cap_hits += 1;
            }
            // Give up on the hole: skip to the first byte we hold (or this segment), deliver
            // what is then contiguous, and try this segment again from the new position.
            let first = self.segs.first().map_or(off, |s| s.off.min(off));
            self.skip_to(first, limits, stats, sink);
            self.drain(limits, budget, stats, sink);
            if self.done {
                return;
            }
            if end > self.next {
                let skip = self.next.saturating_sub(off) as usize;
                let rest = &data[skip.min(data.len())..];
                let at = off.max(self.next);
                if at == self.next {
                    self.deliver(rest, limits, stats, sink);
                    self.drain(limits, budget, stats, sink);
                } else if rest.len() <= limits.max_buffered_per_stream
                    && budget.used + rest.len() <= budget.max
                {
                    self.insert_pieces(at, rest, &[(at, at + rest.len() as u64)], budget);
                }
            }
            return;
        }
        self.insert_pieces(off, data, &pieces, budget);
    }

    fn insert_pieces(&mut self, off: u64, data: &[u8], pieces: &[(u64, u64)], budget: &mut Budget) {
        for &(s, e) in pieces {
            let bytes = data[(s - off) as usize..(e - off) as usize].to_vec();
            let at = self.segs.partition_point(|x| x.off < s);
            self.buffered += bytes.len();
            budget.used += bytes.len();
            self.segs.insert(at, Segment { off: s, data: bytes });
        }
    }
}

#[cfg(test)]
mod tests;
