//! IPv4 and IPv6 fragment reassembly with caps.
//!
//! Every datagram in progress costs memory until its last fragment arrives or it times out,
//! so both the number of datagrams and their bytes are capped; a fragment that would exceed a
//! cap is dropped and counted. Overlapping fragments keep the bytes that arrived first (and the
//! overlap is counted: it is how fragment-based evasion looks).

use std::net::IpAddr;

use hashbrown::HashMap;
use ward_core::{Timestamp, Vlans};

use crate::decode::{Fragment, IpPacket};

/// Caps on fragment reassembly, per worker.
#[derive(Clone, Copy, Debug)]
pub struct DefragLimits {
    /// Datagrams being reassembled at once.
    pub max_datagrams: usize,
    /// Bytes held for them.
    pub max_bytes: usize,
    /// A datagram not complete after this long is dropped.
    pub timeout_ns: u64,
}

impl Default for DefragLimits {
    fn default() -> DefragLimits {
        DefragLimits { max_datagrams: 4096, max_bytes: 16 << 20, timeout_ns: 30_000_000_000 }
    }
}

/// Counters of fragment reassembly, under fixed names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DefragStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Datagrams dropped incomplete after the timeout.
    pub timed_out: u64,
    /// Fragments that overlapped bytes already held.
    pub overlaps: u64,
    /// Fragments dropped because `max_datagrams` was reached.
    pub cap_datagrams: u64,
    /// Fragments dropped because `max_bytes` was reached.
    pub cap_bytes: u64,
    /// Fragments reaching past 65,535 bytes, or cut by the snap length.
    pub invalid: u64,
}

impl DefragStats {
    /// Adds another reassembler's counters.
    pub fn add(&mut self, o: &DefragStats) {
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.timed_out += o.timed_out;
        self.overlaps += o.overlaps;
        self.cap_datagrams += o.cap_datagrams;
        self.cap_bytes += o.cap_bytes;
        self.invalid += o.invalid;
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    vlans: Vlans,
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

struct Pending {
    started: Timestamp,
    data: Vec<u8>,
    /// Byte ranges held, sorted and merged.
    have: Vec<(u32, u32)>,
    total: Option<u32>,
}

/// A datagram put back together.
#[derive(Debug)]
pub struct Datagram {
    /// Its transport protocol.
    pub proto: u8,
    /// The whole transport payload. Give it back with [`Defragmenter::recycle`].
    pub data: Vec<u8>,
}

/// Reassembles fragmented IP datagrams.
pub struct Defragmenter {
    pending: HashMap<Key, Pending>,
    bytes: usize,
    limits: DefragLimits,
    spare: Vec<Vec<u8>>,
    /// Counters.
    pub stats: DefragStats,
}

const MAX_DATAGRAM: u32 = 65_535;

impl Defragmenter {
    /// An empty reassembler with these caps.
    pub fn new(limits: DefragLimits) -> Defragmenter {
        Defragmenter {
            pending: HashMap::new(),
            bytes: 0,
            limits,
            spare: Vec::new(),
            stats: DefragStats::default(),
        }
    }

    /// Bytes held for incomplete datagrams.
    pub fn bytes_held(&self) -> usize {
        self.bytes
    }

    /// Adds a fragment; returns the datagram when this fragment completes it.
    pub fn add(
        &mut self,
        now: Timestamp,
        vlans: Vlans,
        ip: &IpPacket<'_>,
        frag: Fragment,
    ) -> Option<Datagram> {
        self.stats.fragments += 1;
        let len = ip.payload.len() as u32;
        let end = frag.offset.saturating_add(len);
        if ip.truncated || end > MAX_DATAGRAM || (frag.more && !len.is_multiple_of(8)) {
            self.stats.invalid += 1;
            return None;
        }
        let key = Key { vlans, src: ip.src, dst: ip.dst, id: frag.id, proto: ip.proto };
        if let Some(stale) =
            self.pending.get(&key).filter(|p| now.nanos_since(p.started) > self.limits.timeout_ns)
        {
            // An old datagram that never completed, with the same id: this one starts anew.
            self.bytes = self.bytes.saturating_sub(stale.data.len());
            self.stats.timed_out += 1;
            self.pending.remove(&key);
        }
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= self.limits.max_datagrams {
                self.stats.cap_datagrams += 1;
                return None;
            }
            let data = self.spare.pop().unwrap_or_default();
            self.pending.insert(key, Pending { started: now, data, have: Vec::new(), total: None });
        }
        let p = self.pending.get_mut(&key)?;
        let grow = (end as usize).saturating_sub(p.data.len());
        if self.bytes + grow > self.limits.max_bytes {
            self.stats.cap_bytes += 1;
            return None;
        }
        if grow > 0 {
            p.data.resize(end as usize, 0);
            self.bytes += grow;
        }
        // Copy only into holes: the first bytes to arrive win.
        let mut overlapped = false;
        let mut cursor = frag.offset;
        for &(s, e) in &p.have {
            if e <= cursor || s >= end {
                continue;
            }
            overlapped = true;
            if s > cursor {
                copy_range(&mut p.data, ip.payload, frag.offset, cursor, s);
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            copy_range(&mut p.data, ip.payload, frag.offset, cursor, end);
        }
        if overlapped {
            self.stats.overlaps += 1;
        }
        insert_range(&mut p.have, frag.offset, end);
        if !frag.more && p.total.is_none() {
            p.total = Some(end);
        }
        let complete = p.total.is_some_and(|t| p.have.first() == Some(&(0, t)));
        if !complete {
            return None;
        }
        let mut done = self.pending.remove(&key)?;
        self.bytes = self.bytes.saturating_sub(done.data.len());
        done.data.truncate(done.total.unwrap_or(0) as usize);
        self.stats.reassembled += 1;
        Some(Datagram { proto: ip.proto, data: done.data })
    }

    /// Takes back a datagram's buffer for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < 64 {
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// Drops datagrams older than the timeout. The sensor calls this as capture time passes;
    /// without it, datagrams that lost a fragment would hold their slots until the cap.
    pub fn expire(&mut self, now: Timestamp) {
        let timeout = self.limits.timeout_ns;
        let mut freed = 0usize;
        let mut dropped = 0u64;
        self.pending.retain(|_, p| {
            let keep = now.nanos_since(p.started) <= timeout;
            if !keep {
                freed += p.data.len();
                dropped += 1;
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
        self.stats.timed_out += dropped;
    }

    /// Datagrams still incomplete.
    pub fn in_progress(&self) -> usize {
        self.pending.len()
    }
}

fn copy_range(data: &mut [u8], payload: &[u8], frag_off: u32, from: u32, to: u32) {
    let (src_from, src_to) = ((from - frag_off) as usize, (to - frag_off) as usize);
    if let (Some(dst), Some(src)) = (data.get_mut(from as usize..to as usize), payload.get(src_from..src_to))
    {
        dst.copy_from_slice(src);
    }
}

fn insert_range(have: &mut Vec<(u32, u32)>, s: u32, e: u32) {
    have.push((s, e));
    have.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(have.len());
    for &(s, e) in have.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *have = merged;
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ip(payload: &[u8]) -> IpPacket<'_> {
        IpPacket {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            proto: 17,
            ttl: 64,
            wire_len: 20 + payload.len() as u32,
            fragment: None,
            payload,
            truncated: false,
        }
    }

    fn frag(offset: u32, more: bool) -> Fragment {
        Fragment { id: 7, offset, more }
    }

    #[test]
    fn in_order_out_of_order_and_overlapping() {
        let whole: Vec<u8> = (0..40u8).collect();
        let orders: [&[(u32, u32, bool)]; 3] = [
            &[(0, 16, true), (16, 32, true), (32, 40, false)],
            &[(32, 40, false), (0, 16, true), (16, 32, true)],
            &[(0, 24, true), (16, 32, true), (8, 40, false)],
        ];
        for order in orders {
            let mut d = Defragmenter::new(DefragLimits::default());
            let mut got = None;
            for &(s, e, more) in order {
                assert!(got.is_none());
                got = d.add(
                    Timestamp::ZERO,
                    Vlans::default(),
                    &ip(&whole[s as usize..e as usize]),
                    frag(s, more),
                );
            }
            let got = got.expect("complete");
            assert_eq!(got.data, whole);
            assert_eq!(d.bytes_held(), 0);
            assert_eq!(d.in_progress(), 0);
        }
    }

    #[test]
    fn first_bytes_win_on_overlap() {
        let mut d = Defragmenter::new(DefragLimits::default());
        assert!(d.add(Timestamp::ZERO, Vlans::default(), &ip(&[1; 16]), frag(0, true)).is_none());
        let got = d.add(Timestamp::ZERO, Vlans::default(), &ip(&[2; 16]), frag(8, false)).unwrap();
        assert_eq!(&got.data[..16], &[1; 16]);
        assert_eq!(&got.data[16..], &[2; 8]);
        assert_eq!(d.stats.overlaps, 1);
    }

    #[test]
    fn caps_and_timeouts_are_counted() {
        let limits = DefragLimits { max_datagrams: 2, max_bytes: 64, timeout_ns: 1_000 };
        let mut d = Defragmenter::new(limits);
        for id in 0..3 {
            let f = Fragment { id, offset: 0, more: true };
            d.add(Timestamp::ZERO, Vlans::default(), &ip(&[0; 16]), f);
        }
        assert_eq!(d.stats.cap_datagrams, 1);
        d.add(Timestamp::ZERO, Vlans::default(), &ip(&[0; 64]), Fragment { id: 0, offset: 16, more: true });
        assert_eq!(d.stats.cap_bytes, 1);
        d.add(
            Timestamp::ZERO,
            Vlans::default(),
            &ip(&[0; 8]),
            Fragment { id: 1, offset: 65_530, more: false },
        );
        assert_eq!(d.stats.invalid, 1);
        d.expire(Timestamp::from_nanos(5_000));
        assert_eq!(d.stats.timed_out, 2);
        assert_eq!(d.in_progress(), 0);
        assert_eq!(d.bytes_held(), 0);
    }
}
