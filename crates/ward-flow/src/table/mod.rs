//! The flow table: one entry per conversation, keyed the same in both directions.
//!
//! A flow is keyed by its VLAN tags, IP protocol and the two endpoints in a canonical order,
//! so both directions of a conversation find the same entry. It records who started it,
//! packets, bytes and TCP flags per direction, and ends on RST, on FIN from both sides (after
//! a short linger that absorbs the last ACKs and retransmissions), on idle timeout, or when the
//! capture ends. The table has a size cap: when full it first expires flows early, then
//! refuses new ones, and counts both.
//!
//! `A` is the per-flow state of whoever uses the table (the sensor's dissector state).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashTable};
pub use ward_core::Direction;
use ward_core::{Endpoint, FlowEndReason, FlowRecord, IpProto, Mac, Timestamp, Vlans};

use crate::decode::tcp_flags::{ACK, FIN, RST, SYN};
use crate::reassembly::Reassembler;

/// Timeouts and size of a flow table.
#[derive(Clone, Copy, Debug)]
pub struct FlowConfig {
    /// Idle timeout of a TCP connection that completed its handshake.
    pub tcp_timeout_ns: u64,
    /// Idle timeout of a TCP flow that never got past SYN.
    pub tcp_unanswered_timeout_ns: u64,
    /// Idle timeout of UDP flows.
    pub udp_timeout_ns: u64,
    /// Idle timeout of ICMP and other protocols.
    pub other_timeout_ns: u64,
    /// How long a closed TCP flow stays to absorb trailing packets.
    pub closed_linger_ns: u64,
    /// How often (in capture time) idle flows are looked for.
    pub sweep_interval_ns: u64,
    /// Most flows the table holds.
    pub max_flows: usize,
}

const SEC: u64 = 1_000_000_000;

impl Default for FlowConfig {
    fn default() -> FlowConfig {
        FlowConfig {
            tcp_timeout_ns: 300 * SEC,
            tcp_unanswered_timeout_ns: 30 * SEC,
            udp_timeout_ns: 60 * SEC,
            other_timeout_ns: 60 * SEC,
            closed_linger_ns: 2 * SEC,
            sweep_interval_ns: 5 * SEC,
            max_flows: 1 << 20,
        }
    }
}

/// Counters of the flow table, under fixed names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows ended by FIN from both sides.
    pub ended_fin: u64,
    /// Flows ended by RST.
    pub ended_rst: u64,
    /// Flows ended by idle timeout.
    pub ended_idle: u64,
    /// Flows open when the capture ended.
    pub ended_eof: u64,
    /// Flows expired early because the table was full.
    pub evicted: u64,
    /// Packets of new flows not tracked because the table stayed full.
    pub table_full: u64,
    /// The largest number of flows held at once.
    pub peak_flows: u64,
    /// Bytes the table's own storage took at its largest (entries and control bytes; hash
    /// tables keep spare room, so this divided by `peak_flows` is the cost of a flow).
    pub peak_table_bytes: u64,
}

impl FlowStats {
    /// Adds another table's counters. Peaks add up too: across workers, the sum bounds what
    /// was held at once.
    pub fn add(&mut self, o: &FlowStats) {
        self.created += o.created;
        self.ended_fin += o.ended_fin;
        self.ended_rst += o.ended_rst;
        self.ended_idle += o.ended_idle;
        self.ended_eof += o.ended_eof;
        self.evicted += o.evicted;
        self.table_full += o.table_full;
        self.peak_flows += o.peak_flows;
        self.peak_table_bytes += o.peak_table_bytes;
    }
}

/// What the flow table needs of a packet.
#[derive(Clone, Copy, Debug)]
pub struct PacketMeta {
    /// Capture time.
    pub ts: Timestamp,
    /// VLAN tags.
    pub vlans: Vlans,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol.
    pub proto: u8,
    /// Source port (ICMP: echo id of a request, else 0).
    pub src_port: u16,
    /// Destination port (ICMP: echo id of a reply, else 0).
    pub dst_port: u16,
    /// Bytes of the packet at the IP layer, as on the wire.
    pub ip_len: u32,
    /// TCP flags (0 for other protocols).
    pub tcp_flags: u8,
    /// Source MAC, when layer 2 was visible.
    pub src_mac: Option<Mac>,
    /// Who most likely opened the conversation, if this is its first packet.
    pub hint: InitiatorHint,
}

/// Who sent the first packet of a conversation, as far as a packet can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitiatorHint {
    /// The packet's source opened it (a SYN, a request).
    Source,
    /// The packet's destination opened it (a SYN-ACK, a reply seen first).
    Destination,
}

impl InitiatorHint {
    /// The initiator of a flow whose first packet is this one: TCP flags decide when they
    /// can (SYN, SYN-ACK); otherwise a well-known source port talking to a high port is an
    /// answer, so the destination opened the flow.
    pub fn guess(proto: u8, flags: u8, src_port: u16, dst_port: u16, icmp_reply: bool) -> InitiatorHint {
        if proto == 6 && flags & SYN != 0 {
            return if flags & ACK != 0 { InitiatorHint::Destination } else { InitiatorHint::Source };
        }
        if icmp_reply || (src_port != 0 && src_port < 1024 && dst_port >= 1024) {
            InitiatorHint::Destination
        } else {
            InitiatorHint::Source
        }
    }
}

/// An IP address as two words, IPv4 mapped into IPv6 (`::ffff:a.b.c.d`), so that keys of
/// both families compare, hash and order alike. Two `u64` rather than a `u128` keep the key's
/// alignment at 8, which keeps the table's entries small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Addr([u64; 2]);

impl Addr {
    #[inline]
    fn of(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr([0, 0xffff_0000_0000 | u64::from(u32::from(v4))]),
            IpAddr::V6(v6) => {
                let b = u128::from(v6);
                Addr([(b >> 64) as u64, b as u64])
            }
        }
    }

    /// The address back. An IPv4-mapped IPv6 address reads as IPv4: such addresses are not
    /// allowed on the wire (RFC 4291, 2.5.5.2), so nothing real is lost.
    fn ip(self) -> IpAddr {
        let [hi, lo] = self.0;
        if hi == 0 && lo >> 32 == 0xffff {
            IpAddr::V4(Ipv4Addr::from(lo as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(u128::from(hi) << 64 | u128::from(lo)))
        }
    }
}

/// The canonical key of a conversation: both endpoints in order, VLAN tags and protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo_ip: Addr,
    hi_ip: Addr,
    lo_port: u16,
    hi_port: u16,
    vlans: u32,
    proto: u8,
}

const NO_VLAN: u32 = 0xffff;

impl FlowKey {
    /// The key of a packet's conversation, and whether the packet goes from the key's low
    /// endpoint to its high one.
    #[inline]
    pub fn of(m: &PacketMeta) -> (FlowKey, bool) {
        let a = (Addr::of(m.src), m.src_port);
        let b = (Addr::of(m.dst), m.dst_port);
        let src_is_lo = a <= b;
        let ((lo_ip, lo_port), (hi_ip, hi_port)) = if src_is_lo { (a, b) } else { (b, a) };
        let tag = |v: Option<u16>| v.map_or(NO_VLAN, |v| u32::from(v & 0x0fff));
        let vlans = tag(m.vlans.outer) << 16 | tag(m.vlans.inner);
        (FlowKey { lo_ip, hi_ip, lo_port, hi_port, vlans, proto: m.proto }, src_is_lo)
    }

    fn vlans(&self) -> Vlans {
        let tag = |v: u32| (v != NO_VLAN).then_some(v as u16);
        Vlans { outer: tag(self.vlans >> 16), inner: tag(self.vlans & 0xffff) }
    }

    fn side(&self, lo: bool) -> (IpAddr, u16) {
        if lo { (self.lo_ip.ip(), self.lo_port) } else { (self.hi_ip.ip(), self.hi_port) }
    }
}

/// One tracked conversation. Addresses, ports, VLANs and protocol live in its key only; the
/// endpoints are rebuilt from it when asked for, which keeps the table's entries small.
pub struct Flow<A> {
    key: FlowKey,
    /// Unique within the sensor run.
    pub uid: u64,
    /// First packet.
    pub start: Timestamp,
    /// Latest packet.
    pub last: Timestamp,
    /// Packets per direction.
    pub packets: [u64; 2],
    /// IP bytes per direction.
    pub bytes: [u64; 2],
    /// Source MAC of the first frame in each direction.
    macs: [Option<Mac>; 2],
    /// TCP flags per direction.
    pub flags: [u8; 2],
    /// Whether the key's low endpoint is the initiator.
    initiator_is_lo: bool,
    fin: [bool; 2],
    closing: Option<FlowEndReason>,
    /// TCP reassembly, per direction, when a dissector asked for it.
    pub streams: Option<Box<[Reassembler; 2]>>,
    /// The user's per-flow state.
    pub app: A,
}

impl<A> Flow<A> {
    /// Whether the flow has been closed by FIN or RST and is only lingering.
    pub fn is_closing(&self) -> bool {
        self.closing.is_some()
    }

    /// The side that opened the conversation.
    pub fn initiator(&self) -> Endpoint {
        let (ip, port) = self.key.side(self.initiator_is_lo);
        Endpoint { ip, port, mac: self.macs[0] }
    }

    /// The other side.
    pub fn responder(&self) -> Endpoint {
        let (ip, port) = self.key.side(!self.initiator_is_lo);
        Endpoint { ip, port, mac: self.macs[1] }
    }

    /// VLAN tags.
    pub fn vlans(&self) -> Vlans {
        self.key.vlans()
    }

    /// IP protocol.
    pub fn proto(&self) -> u8 {
        self.key.proto
    }

    /// The finished record, with the application protocol a dissector named.
    pub fn record(&self, reason: FlowEndReason, app: Option<Cow<'static, str>>) -> FlowRecord {
        FlowRecord {
            uid: self.uid,
            start: self.start,
            end: self.last,
            vlans: self.vlans(),
            proto: IpProto(self.key.proto),
            initiator: self.initiator(),
            responder: self.responder(),
            packets: self.packets,
            bytes: self.bytes,
            tcp_flags: self.flags,
            app,
            end_reason: reason,
        }
    }

    fn timeout(&self, cfg: &FlowConfig) -> u64 {
        if self.closing.is_some() {
            return cfg.closed_linger_ns;
        }
        match self.key.proto {
            6 if self.packets[1] > 0 => cfg.tcp_timeout_ns,
            6 => cfg.tcp_unanswered_timeout_ns,
            17 => cfg.udp_timeout_ns,
            _ => cfg.other_timeout_ns,
        }
    }
}

fn new_flow<A: Default>(key: FlowKey, m: &PacketMeta, src_is_lo: bool, uid: u64) -> Flow<A> {
    let (initiator_is_lo, initiator_mac) = match m.hint {
        InitiatorHint::Source => (src_is_lo, m.src_mac),
        InitiatorHint::Destination => (!src_is_lo, None),
    };
    Flow {
        key,
        uid,
        start: m.ts,
        last: m.ts,
        packets: [0; 2],
        bytes: [0; 2],
        macs: [initiator_mac, None],
        flags: [0; 2],
        initiator_is_lo,
        fin: [false; 2],
        closing: None,
        streams: None,
        app: A::default(),
    }
}

/// Why `flow` cannot take packet `m`, if it cannot: a new SYN after the connection closed, or
/// the packet comes after the flow's idle timeout (or closing linger).
fn stale<A>(flow: &Flow<A>, m: &PacketMeta, cfg: &FlowConfig) -> Option<FlowEndReason> {
    if m.proto == 6
        && m.tcp_flags & (SYN | ACK) == SYN
        && (flow.closing.is_some() || flow.flags[1] & RST != 0)
    {
        return Some(flow.closing.unwrap_or(FlowEndReason::Rst));
    }
    if m.ts.nanos_since(flow.last) > flow.timeout(cfg) {
        return Some(flow.closing.unwrap_or(FlowEndReason::Idle));
    }
    None
}

fn record_end<A>(stats: &mut FlowStats, ended: &mut Vec<Ended<A>>, flow: Flow<A>, reason: FlowEndReason) {
    match reason {
        FlowEndReason::Fin => stats.ended_fin += 1,
        FlowEndReason::Rst => stats.ended_rst += 1,
        FlowEndReason::Idle => stats.ended_idle += 1,
        FlowEndReason::EndOfCapture => stats.ended_eof += 1,
        FlowEndReason::Evicted => stats.evicted += 1,
    }
    ended.push(Ended { flow, reason });
}

/// A flow taken out of the table, with why.
pub struct Ended<A> {
    /// The flow.
    pub flow: Flow<A>,
    /// Why it ended.
    pub reason: FlowEndReason,
}

/// A packet's place in its flow.
pub struct Touched<'t, A> {
    /// The flow.
    pub flow: &'t mut Flow<A>,
    /// The packet's direction in it.
    pub dir: Direction,
    /// True when this packet created the flow.
    pub created: bool,
}

/// Tracks conversations.
pub struct FlowTable<A> {
    map: HashTable<Flow<A>>,
    hasher: DefaultHashBuilder,
    cfg: FlowConfig,
    uid_base: u64,
    next_uid: u64,
    swept_to: Timestamp,
    closing: VecDeque<(Timestamp, FlowKey)>,
    ended: Vec<Ended<A>>,
    last_emergency: Timestamp,
    /// Counters.
    pub stats: FlowStats,
}

impl<A: Default> FlowTable<A> {
    /// An empty table. `worker` makes uids unique across the sensor's workers.
    pub fn new(cfg: FlowConfig, worker: u16) -> FlowTable<A> {
        FlowTable {
            map: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            cfg,
            uid_base: u64::from(worker) << 48,
            next_uid: 1,
            swept_to: Timestamp::ZERO,
            closing: VecDeque::new(),
            ended: Vec::new(),
            last_emergency: Timestamp::ZERO,
            stats: FlowStats::default(),
        }
    }

    /// Flows held now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Bytes the table's own storage takes (entries and control bytes, not the
    /// out-of-line reassembly buffers), for the per-flow memory figure.
    pub fn table_bytes(&self) -> usize {
        self.map.capacity() * (std::mem::size_of::<Flow<A>>() + 1)
    }

    /// Finds or creates the packet's flow and counts the packet in it. Returns `None` when the
    /// flow is new and the table is full even after early expiry.
    pub fn update(&mut self, m: &PacketMeta) -> Option<Touched<'_, A>> {
        let (key, src_is_lo) = FlowKey::of(m);
        // One hash per packet; one probe in the common case of a known flow.
        let hash = self.hasher.hash_one(key);
        if self.map.len() >= self.cfg.max_flows && self.map.find(hash, |f| f.key == key).is_none() {
            // Sweeping the whole table is costly: under a flood, at most once a second.
            if m.ts.nanos_since(self.last_emergency) > SEC {
                self.last_emergency = m.ts;
                self.sweep(m.ts, 16);
            }
            if self.map.len() >= self.cfg.max_flows {
                self.stats.table_full += 1;
                return None;
            }
        }
        let (hasher, cfg) = (&self.hasher, &self.cfg);
        let uid = self.uid_base | self.next_uid;
        let len_before = self.map.len() as u64;
        let mut replaced = None;
        let (flow, created) = match self.map.entry(hash, |f| f.key == key, |f| hasher.hash_one(f.key)) {
            Entry::Occupied(o) => {
                let flow = o.into_mut();
                match stale(flow, m, cfg) {
                    None => (flow, false),
                    // The packet belongs to a new conversation on the same ports: the old one
                    // ends here, whether or not a sweep has looked at it yet. This keeps the
                    // records the same however packets are spread over workers.
                    Some(reason) => {
                        replaced = Some((std::mem::replace(flow, new_flow(key, m, src_is_lo, uid)), reason));
                        (flow, true)
                    }
                }
            }
            Entry::Vacant(v) => (v.insert(new_flow(key, m, src_is_lo, uid)).into_mut(), true),
        };
        if let Some((old, reason)) = replaced {
            record_end(&mut self.stats, &mut self.ended, old, reason);
        }
        if created {
            self.next_uid += 1;
            self.stats.created += 1;
        }
        if created {
            self.stats.peak_flows = self.stats.peak_flows.max(len_before + 1);
        }
        let dir =
            if src_is_lo == flow.initiator_is_lo { Direction::ToResponder } else { Direction::ToInitiator };
        let d = dir.index();
        flow.packets[d] += 1;
        flow.bytes[d] += u64::from(m.ip_len);
        if m.ts > flow.last {
            flow.last = m.ts;
        }
        if flow.macs[d].is_none() {
            flow.macs[d] = m.src_mac;
        }
        if m.proto == 6 {
            flow.flags[d] |= m.tcp_flags;
            if flow.closing.is_none() {
                if m.tcp_flags & RST != 0 {
                    flow.closing = Some(FlowEndReason::Rst);
                } else if m.tcp_flags & FIN != 0 {
                    flow.fin[d] = true;
                    if flow.fin[0] && flow.fin[1] {
                        flow.closing = Some(FlowEndReason::Fin);
                    }
                }
                if flow.closing.is_some() {
                    self.closing.push_back((m.ts, key));
                }
            }
        }
        Some(Touched { flow, dir, created })
    }

    fn finish(&mut self, flow: Flow<A>, reason: FlowEndReason) {
        record_end(&mut self.stats, &mut self.ended, flow, reason);
    }

    /// Ends flows whose time is up at `now`: closed flows past their linger at once, idle ones
    /// at the last multiple of the sweep interval before `now`. Cheap to call often.
    pub fn expire(&mut self, now: Timestamp) {
        while let Some(&(since, key)) = self.closing.front() {
            if now.nanos_since(since) <= self.cfg.closed_linger_ns {
                break;
            }
            self.closing.pop_front();
            // The entry may be gone, or reopened by a new SYN; trailing packets may have kept
            // it alive, in which case it is looked at again one linger after its last packet.
            let hash = self.hasher.hash_one(key);
            let linger = self.cfg.closed_linger_ns;
            if let Ok(e) = self.map.find_entry(hash, |f| f.key == key) {
                match e.get().closing {
                    Some(reason) if now.nanos_since(e.get().last) > linger => {
                        let (flow, _) = e.remove();
                        self.finish(flow, reason);
                    }
                    Some(_) => {
                        let last = e.get().last;
                        self.closing.push_back((last, key));
                    }
                    None => {}
                }
            }
        }
        // Idle flows are swept as of fixed points in capture time (multiples of the interval),
        // so that whether a flow was still there when its next packet came depends on the
        // capture alone, not on when this table happened to be called.
        let interval = self.cfg.sweep_interval_ns.max(1);
        let boundary = Timestamp::from_nanos(now.as_nanos() - now.as_nanos() % interval);
        if boundary > self.swept_to {
            self.swept_to = boundary;
            self.sweep(boundary, 1);
        }
    }

    /// Ends flows idle longer than their timeout divided by `urgency` (1 normally; more when
    /// the table is full, which counts them as evicted).
    fn sweep(&mut self, now: Timestamp, urgency: u64) {
        let cfg = self.cfg;
        let expired: Vec<(Flow<A>, FlowEndReason)> = self
            .map
            .extract_if(|f| now.nanos_since(f.last) > f.timeout(&cfg) / urgency)
            .map(|f| {
                let reason = match (f.closing, urgency) {
                    (Some(r), _) => r,
                    (None, 1) => FlowEndReason::Idle,
                    (None, _) => FlowEndReason::Evicted,
                };
                (f, reason)
            })
            .collect();
        for (f, reason) in expired {
            self.finish(f, reason);
        }
        // Flows come and go: a table that grew for a burst, or filled with the marks of removed
        // entries, is rebuilt at twice what it holds, so memory follows the flows alive.
        self.stats.peak_table_bytes = self.stats.peak_table_bytes.max(self.table_bytes() as u64);
        if self.map.capacity() > 4 * self.map.len() + 1024 {
            let hasher = &self.hasher;
            self.map.shrink_to(2 * self.map.len(), |f| hasher.hash_one(f.key));
        }
    }

    /// Ends every flow: the capture is over at `now`. A flow already past its idle timeout
    /// ends as idle, as a sweep at `now` would have ended it.
    pub fn close_all(&mut self, now: Timestamp) {
        self.stats.peak_table_bytes = self.stats.peak_table_bytes.max(self.table_bytes() as u64);
        let all: Vec<Flow<A>> = self.map.drain().collect();
        for f in all {
            let reason = match f.closing {
                Some(r) => r,
                None if now.nanos_since(f.last) > f.timeout(&self.cfg) => FlowEndReason::Idle,
                None => FlowEndReason::EndOfCapture,
            };
            self.finish(f, reason);
        }
        self.closing.clear();
    }

    /// Takes the flows that have ended since the last call.
    pub fn take_ended(&mut self) -> std::vec::Drain<'_, Ended<A>> {
        self.ended.drain(..)
    }

    /// Whether any flow has ended since the last [`take_ended`](Self::take_ended).
    pub fn has_ended(&self) -> bool {
        !self.ended.is_empty()
    }
}

#[cfg(test)]
mod tests;
