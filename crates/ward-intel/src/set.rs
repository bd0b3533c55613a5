//! Indicator sets: addresses and networks as sorted disjoint ranges found by a 16-bit
//! bucket index and a binary search, and names in a hash table probed once per suffix.
//!
//! Networks nest or are disjoint (they are CIDRs; ranges are cut into CIDRs when read), so
//! the ranges are built by one sweep over the networks sorted by start (and widest first):
//! each range points at the innermost network covering it, and every network at the one
//! around it (`parent`), so all the networks an address is in are one walk away. The most
//! specific indicator answers first; among equal ones, the most confident.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;
use ward_core::Timestamp;

use crate::config::Format;
use crate::formats::{Indicator, ParseStats, Parsed};

/// No link.
pub(crate) const NONE: u32 = u32::MAX;

/// One feed's indicators, as read (the sets of all feeds are built together, in
/// [`crate::Snapshot`]).
#[derive(Debug, Default)]
pub struct FeedSet {
    /// The feed's name.
    pub name: Arc<str>,
    /// What reading it found.
    pub stats: ParseStats,
    /// When an indicator becomes valid or expires: the set must be read again then.
    pub next_change: Option<Timestamp>,
    /// The format it was read as.
    pub format: Option<Format>,
    /// The indicators.
    pub indicators: Vec<Indicator>,
}

impl FeedSet {
    /// A feed's set from what was read.
    pub fn build(name: &str, parsed: Parsed) -> FeedSet {
        FeedSet {
            name: Arc::from(name),
            stats: parsed.stats,
            next_change: parsed.next_change,
            format: parsed.format,
            indicators: parsed.indicators,
        }
    }
}

/// An address as a number that can be bucketed by its top 16 bits.
pub(crate) trait Addr: Copy + Ord + Default {
    fn bucket(self) -> usize;
    fn from_u128(v: u128) -> Self;
}

impl Addr for u32 {
    #[inline]
    fn bucket(self) -> usize {
        (self >> 16) as usize
    }
    fn from_u128(v: u128) -> u32 {
        v as u32
    }
}

impl Addr for u128 {
    #[inline]
    fn bucket(self) -> usize {
        (self >> 112) as usize
    }
    fn from_u128(v: u128) -> u128 {
        v
    }
}

/// One range: its first and last address and its value, side by side so that the search
/// and the answer share cache lines.
#[derive(Clone, Copy, Debug)]
struct Range<A> {
    start: A,
    end: A,
    val: u32,
}

/// Tables of at most this many ranges have no bucket index: a binary search over them is
/// as quick, and a feed of a few entries does not cost 256 KiB.
const SMALL: usize = 256;

/// Sorted disjoint ranges, each with a value, and where each 16-bit bucket starts (for
/// tables of more than [`SMALL`] ranges).
#[derive(Debug)]
pub(crate) struct RangeTable<A> {
    ranges: Vec<Range<A>>,
    /// `index[b]`: how many ranges start below bucket `b`.
    index: Vec<u32>,
}

impl<A: Addr> Default for RangeTable<A> {
    fn default() -> Self {
        RangeTable { ranges: Vec::new(), index: Vec::new() }
    }
}

/// A network going into a table: first and last address, and the link it stands for.
pub(crate) struct Span {
    pub(crate) start: u128,
    pub(crate) end: u128,
    pub(crate) link: u32,
}

impl<A: Addr> RangeTable<A> {
    /// Builds from networks sorted by start, then widest first, then least preferred
    /// first. `parent[link]` is set to the network around each one.
    pub(crate) fn build(spans: &[Span], parent: &mut [u32]) -> RangeTable<A> {
        let mut t = RangeTable::<A> { ranges: Vec::new(), index: Vec::new() };
        let emit = |t: &mut RangeTable<A>, start: u128, end: u128, link: u32| {
            t.ranges.push(Range { start: A::from_u128(start), end: A::from_u128(end), val: link });
        };
        // Open networks, outermost first; `cursor` is the first address not yet given a range.
        let mut stack: Vec<&Span> = Vec::new();
        let mut cursor: u128 = 0;
        let mut done = false; // the cursor passed the last address
        for s in spans {
            while let Some(top) = stack.last().copied() {
                if top.end >= s.start {
                    break;
                }
                if !done && cursor <= top.end {
                    emit(&mut t, cursor, top.end, top.link);
                }
                match top.end.checked_add(1) {
                    Some(c) => cursor = cursor.max(c),
                    None => done = true,
                }
                stack.pop();
            }
            if let Some(top) = stack.last() {
                if !done && cursor < s.start {
                    emit(&mut t, cursor, s.start - 1, top.link);
                }
                parent[s.link as usize] = top.link;
            }
            cursor = s.start;
            done = false;
            stack.push(s);
        }
        while let Some(top) = stack.pop() {
            if !done && cursor <= top.end {
                emit(&mut t, cursor, top.end, top.link);
            }
            match top.end.checked_add(1) {
                Some(c) => cursor = cursor.max(c),
                None => done = true,
            }
        }
        // Empty ranges cannot occur (starts only move forward), but equal networks give a
        // range to the last one pushed: the preferred one.
        if t.ranges.len() <= SMALL {
            return t;
        }
        let mut index = Vec::with_capacity((1 << 16) + 1);
        let mut i = 0usize;
        for b in 0..=(1usize << 16) {
            while i < t.ranges.len() && t.ranges[i].start.bucket() < b {
                i += 1;
            }
            index.push(i as u32);
        }
        t.index = index;
        t
    }

    /// The value of the range holding `a`.
    #[inline]
    pub(crate) fn get(&self, a: A) -> Option<u32> {
        let ranges = if self.index.is_empty() {
            // A small table is searched whole.
            &self.ranges[..]
        } else {
            let b = a.bucket();
            // Bucket b's ranges, and the last one before it (which may reach into it).
            let lo = (self.index[b] as usize).saturating_sub(1);
            let hi = self.index[b + 1] as usize;
            &self.ranges[lo..hi]
        };
        let n = ranges.partition_point(|r| r.start <= a);
        let r = ranges.get(n.checked_sub(1)?)?;
        (a <= r.end).then_some(r.val)
    }

    /// Ranges held (for tests and sizes).
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }
}

/// Names in one byte arena, found by hash.
#[derive(Default)]
pub(crate) struct NameTable {
    arena: Vec<u8>,
    slots: HashTable<Slot>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for NameTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameTable").field("names", &self.slots.len()).finish()
    }
}

#[derive(Clone, Copy)]
struct Slot {
    off: u32,
    len: u32,
    link: u32,
}

impl NameTable {
    fn name(&self, s: &Slot) -> &[u8] {
        &self.arena[s.off as usize..(s.off + s.len) as usize]
    }

    /// The link under `name`, if any.
    #[inline]
    pub(crate) fn get(&self, name: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(name);
        self.slots.find(h, |s| self.name(s) == name).map(|s| s.link)
    }

    /// Puts `link` under `name`; returns the link that was there. `false` when the arena
    /// is full (4 GiB of names).
    pub(crate) fn insert(&mut self, name: &[u8], link: u32) -> Result<Option<u32>, ()> {
        let h = self.hasher.hash_one(name);
        let NameTable { arena, slots, hasher } = self;
        let found = slots.find_mut(h, |s| &arena[s.off as usize..(s.off + s.len) as usize] == name);
        if let Some(s) = found {
            return Ok(Some(std::mem::replace(&mut s.link, link)));
        }
        let off = u32::try_from(arena.len()).map_err(|_| ())?;
        let len = u32::try_from(name.len()).map_err(|_| ())?;
        off.checked_add(len).ok_or(())?;
        arena.extend_from_slice(name);
        let slot = Slot { off, len, link };
        slots.insert_unique(h, slot, |s| hasher.hash_one(&arena[s.off as usize..(s.off + s.len) as usize]));
        Ok(None)
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(nets: &[(u128, u128)]) -> (RangeTable<u32>, Vec<u32>) {
        let mut spans: Vec<Span> =
            nets.iter().enumerate().map(|(i, &(start, end))| Span { start, end, link: i as u32 }).collect();
        spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then(a.link.cmp(&b.link)));
        let mut parent = vec![NONE; nets.len()];
        (RangeTable::build(&spans, &mut parent), parent)
    }

    #[test]
    fn nested_networks_answer_innermost_first() {
        // 0: 1.0.0.0/8, 1: 1.2.0.0/16, 2: 1.2.3.4/32, 3: 9.0.0.0/24, 4: 1.2.0.0/16 again
        let nets = [
            (0x0100_0000, 0x01ff_ffff),
            (0x0102_0000, 0x0102_ffff),
            (0x0102_0304, 0x0102_0304),
            (0x0900_0000, 0x0900_00ff),
            (0x0102_0000, 0x0102_ffff),
        ];
        let (t, parent) = table(&nets);
        assert_eq!(t.get(0x0102_0304), Some(2));
        assert_eq!(t.get(0x0102_0305), Some(4));
        assert_eq!(t.get(0x0102_0303), Some(4));
        assert_eq!(t.get(0x0103_0000), Some(0));
        assert_eq!(t.get(0x01ff_ffff), Some(0));
        assert_eq!(t.get(0x0200_0000), None);
        assert_eq!(t.get(0x0000_0001), None);
        assert_eq!(t.get(0x0900_0080), Some(3));
        assert_eq!(t.get(0x0900_0100), None);
        assert_eq!(parent[2], 4);
        assert_eq!(parent[4], 1);
        assert_eq!(parent[1], 0);
        assert_eq!(parent[0], NONE);
        assert_eq!(t.len(), 6);
    }

    #[test]
    fn matches_a_linear_scan() {
        // Random nested CIDRs against the obvious answer (innermost = shortest covering).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut nets = Vec::new();
        for _ in 0..2000 {
            let len = 8 + (rnd() % 25) as u32;
            let a = (rnd() as u32) & 0x0fff_ffff;
            let mask = if len == 32 { u32::MAX } else { !(u32::MAX >> len) };
            nets.push((u128::from(a & mask), u128::from(a & mask | !mask)));
        }
        let (t, _) = table(&nets);
        for _ in 0..20_000 {
            let a = (rnd() as u32) & 0x0fff_ffff;
            let want = nets
                .iter()
                .enumerate()
                .filter(|&(_, &(s, e))| s <= u128::from(a) && u128::from(a) <= e)
                .min_by(|(i, x), (j, y)| (x.1 - x.0).cmp(&(y.1 - y.0)).then(j.cmp(i)))
                .map(|(i, _)| i as u32);
            assert_eq!(t.get(a), want, "{a:#x}");
        }
    }

    #[test]
    fn ends_of_the_space() {
        let nets = [(u128::MAX - 255, u128::MAX), (u128::MAX - 15, u128::MAX)];
        let mut spans: Vec<Span> =
            nets.iter().enumerate().map(|(i, &(start, end))| Span { start, end, link: i as u32 }).collect();
        spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut parent = vec![NONE; 2];
        let t = RangeTable::<u128>::build(&spans, &mut parent);
        assert_eq!(t.get(u128::MAX), Some(1));
        assert_eq!(t.get(u128::MAX - 16), Some(0));
        assert_eq!(t.get(0), None);
    }

    #[test]
    fn names() {
        let mut t = NameTable::default();
        assert_eq!(t.insert(b"evil.example", 1), Ok(None));
        assert_eq!(t.insert(b"bad.example", 2), Ok(None));
        assert_eq!(t.insert(b"evil.example", 3), Ok(Some(1)));
        assert_eq!(t.get(b"evil.example"), Some(3));
        assert_eq!(t.get(b"good.example"), None);
        assert_eq!(t.len(), 2);
    }
}
