//! One worker: every packet of the flows it owns, from bytes to observations.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use hashbrown::HashSet;
use ward_capture::PacketRef;
use ward_core::{DeviceKey, Direction, Evidence, Mac, Observation, ObservationKind, Timestamp, Vlans};
use ward_dissect::{
    DissectStats, FlowContext, FlowDissection, FrameContext, Registry, Transport as DissectTransport,
};
use ward_flow::decode::{self, Anomalies, Anomaly, IpPacket, Net, Transport};
use ward_flow::defrag::Defragmenter;
use ward_flow::reassembly::{Budget, Reassembler, StreamEvent};
use ward_flow::table::{Ended, Flow, FlowTable, InitiatorHint, PacketMeta};

use crate::SensorConfig;
use crate::counters::Counters;

/// What the sensor keeps per flow beyond the flow table's own fields.
#[derive(Default)]
pub(crate) struct FlowApp {
    dissection: FlowDissection,
}

/// Distinct layer-2 sightings remembered before the memory is cleared and starts over.
const SEEN_CACHE: usize = 1 << 16;

/// How often (in capture time) fragments that never completed are dropped.
const DEFRAG_CHECK_NS: u64 = 1_000_000_000;

/// Evidence that a MAC sent a frame that is neither IP nor ARP (LLDP, STP, CDP, ...).
const L2_SOURCE: Evidence = Evidence::new("l2.source", 50);

/// Decodes, tracks and dissects the packets of the flows it owns.
pub(crate) struct Worker {
    registry: Arc<Registry>,
    cfg: SensorConfig,
    table: FlowTable<FlowApp>,
    defrag: Defragmenter,
    budget: Budget,
    anomalies: Anomalies,
    anomaly_totals: [u64; Anomaly::COUNT],
    seen: HashSet<(DeviceKey, Option<IpAddr>, Option<u16>)>,
    pub(crate) counters: Counters,
    /// Observations not yet handed on.
    pub(crate) out: Vec<Observation>,
    now: Timestamp,
    defrag_checked: Timestamp,
}

impl Worker {
    /// Worker `id` of `threads`; caps shared by all workers are divided between them.
    pub(crate) fn new(id: u16, threads: usize, registry: Arc<Registry>, cfg: &SensorConfig) -> Worker {
        let share = cfg.reassembly_budget / threads.max(1);
        Worker {
            registry,
            cfg: cfg.clone(),
            table: FlowTable::new(cfg.flow, id),
            defrag: Defragmenter::new(cfg.defrag),
            budget: Budget::new(share),
            anomalies: Anomalies::default(),
            anomaly_totals: [0; Anomaly::COUNT],
            seen: HashSet::new(),
            counters: Counters::default(),
            out: Vec::new(),
            now: Timestamp::ZERO,
            defrag_checked: Timestamp::ZERO,
        }
    }

    /// Processes packets lying in `chunk`. `clock` is the capture time the reader has reached:
    /// flows expire on it rather than on the time of this worker's own latest packet, so that
    /// the outcome does not depend on how packets were spread over workers.
    pub(crate) fn process(&mut self, chunk: &[u8], packets: &[PacketRef], clock: Timestamp) {
        self.advance(clock);
        // Headers of packets a few places ahead are fetched while this one is decoded.
        const AHEAD: usize = 4;
        for (i, p) in packets.iter().enumerate() {
            if let Some(first) = packets.get(i + AHEAD).and_then(|a| a.bytes(chunk).first()) {
                ward_capture::prefetch(first);
            }
            self.packet(p, p.bytes(chunk));
        }
    }

    /// Expires flows and fragments at `clock`, the capture time reached before this batch.
    /// Only batch boundaries move time, never a worker's own packets: every worker then sees
    /// the same clock before the same packets, and records do not depend on how packets were
    /// spread over workers, even when the capture's time stamps go back and forth.
    fn advance(&mut self, clock: Timestamp) {
        if clock <= self.now {
            return;
        }
        self.now = clock;
        self.table.expire(clock);
        if self.now.nanos_since(self.defrag_checked) > DEFRAG_CHECK_NS {
            self.defrag_checked = self.now;
            self.defrag.expire(self.now);
        }
        if self.table.has_ended() {
            self.drain_ended();
        }
    }

    fn packet(&mut self, p: &PacketRef, data: &[u8]) {
        let c = &mut self.counters;
        c.packets += 1;
        c.bytes += u64::from(p.orig_len);
        c.captured_bytes += data.len() as u64;
        c.last_packet = c.last_packet.max(Some(p.ts));
        if c.first_packet.is_none_or(|f| p.ts < f) {
            c.first_packet = Some(p.ts);
        }
        let frame = decode::decode(p.link, data, p.orig_len, &mut self.anomalies);
        match frame.net {
            Net::Ip(ip) => self.ip(p.ts, frame.vlans, frame.src_mac, &ip),
            Net::Arp(payload) => {
                self.counters.protocols.arp += 1;
                self.frame_dissect(p.ts, &frame, decode::ether_type::ARP, payload);
            }
            Net::Ether { ether_type, payload } => {
                self.counters.protocols.other_ether += 1;
                self.l2_source(p.ts, frame.src_mac, frame.vlans);
                if self.registry.reads_ether_type(ether_type) {
                    self.frame_dissect(p.ts, &frame, ether_type, payload);
                }
            }
            Net::Llc(llc) => {
                self.counters.protocols.llc += 1;
                self.l2_source(p.ts, frame.src_mac, frame.vlans);
                let ctx = FrameContext {
                    ts: p.ts,
                    src_mac: frame.src_mac,
                    dst_mac: frame.dst_mac,
                    vlans: frame.vlans,
                };
                self.registry.dissect_llc(&ctx, llc, &mut self.out, &mut self.counters.dissect);
            }
            Net::None => self.counters.protocols.undecoded += 1,
        }
        self.anomalies.drain_into(&mut self.anomaly_totals);
        // A packet may end its flow's old record (a new SYN, or a packet after the timeout).
        if self.table.has_ended() {
            self.drain_ended();
        }
    }

    fn frame_dissect(&mut self, ts: Timestamp, frame: &decode::Frame<'_>, ether_type: u16, payload: &[u8]) {
        let ctx = FrameContext { ts, src_mac: frame.src_mac, dst_mac: frame.dst_mac, vlans: frame.vlans };
        let start = self.out.len();
        self.registry.dissect_frame(ether_type, &ctx, payload, &mut self.out, &mut self.counters.dissect);
        // The same binding is announced again and again (every ARP request): say it once.
        let mut i = start;
        while i < self.out.len() {
            let fresh = match &self.out[i].kind {
                ObservationKind::Seen { ip, vlan, .. } => self.remember(self.out[i].device, *ip, *vlan),
                _ => true,
            };
            if fresh {
                i += 1;
            } else {
                self.out.swap_remove(i);
            }
        }
    }

    fn remember(&mut self, device: DeviceKey, ip: Option<IpAddr>, vlan: Option<u16>) -> bool {
        if self.seen.len() >= SEEN_CACHE {
            self.seen.clear();
        }
        self.seen.insert((device, ip, vlan))
    }

    fn l2_source(&mut self, ts: Timestamp, mac: Option<Mac>, vlans: Vlans) {
        let Some(mac) = mac.filter(Mac::is_unicast_device) else { return };
        let vlan = vlans.access_vlan();
        if self.remember(DeviceKey::Mac(mac), None, vlan) {
            self.out.push(Observation {
                ts,
                device: DeviceKey::Mac(mac),
                kind: ObservationKind::Seen { ip: None, vlan, evidence: L2_SOURCE },
            });
        }
    }

    fn ip(&mut self, ts: Timestamp, vlans: Vlans, src_mac: Option<Mac>, ip: &IpPacket<'_>) {
        if ip.src.is_ipv4() {
            self.counters.protocols.ipv4 += 1;
        } else {
            self.counters.protocols.ipv6 += 1;
        }
        let Some(frag) = ip.fragment else {
            self.transport(ts, vlans, src_mac, ip, ip.payload);
            return;
        };
        self.counters.protocols.ip_fragments += 1;
        if let Some(datagram) = self.defrag.add(ts, vlans, ip, frag) {
            // IPv6 headers behind the fragment header belong to the whole datagram.
            let (proto, skip) = if ip.src.is_ipv6() {
                let (proto, skip, _) =
                    decode::ipv6_extensions(datagram.proto, &datagram.data, &mut self.anomalies);
                (proto, skip.min(datagram.data.len()))
            } else {
                (datagram.proto, 0)
            };
            // The datagram's length on the wire: the last fragment's header plus the payload.
            let whole = IpPacket {
                proto,
                wire_len: ip.wire_len - ip.payload.len() as u32 + datagram.data.len() as u32,
                fragment: None,
                ..*ip
            };
            self.transport(ts, vlans, src_mac, &whole, &datagram.data[skip..]);
            self.defrag.recycle(datagram.data);
        }
    }

    fn transport(
        &mut self,
        ts: Timestamp,
        vlans: Vlans,
        src_mac: Option<Mac>,
        ip: &IpPacket<'_>,
        payload: &[u8],
    ) {
        let t = decode::decode_transport(ip.proto, payload, ip.src.is_ipv6(), &mut self.anomalies);
        let protos = &mut self.counters.protocols;
        let (src_port, dst_port, flags, icmp_reply) = match t {
            Transport::Tcp(s) => {
                protos.tcp += 1;
                (s.src_port, s.dst_port, s.flags, false)
            }
            Transport::Udp { src_port, dst_port, .. } => {
                protos.udp += 1;
                (src_port, dst_port, 0, false)
            }
            Transport::Icmp { kind, echo_id, .. } => {
                protos.icmp += 1;
                let reply = matches!((ip.proto, kind), (1, 0) | (58, 129));
                // Echo request and reply share the identifier: it keys the flow, on the
                // requester's side, so both directions meet.
                let id = echo_id.unwrap_or(0);
                if reply { (0, id, 0, true) } else { (id, 0, 0, false) }
            }
            Transport::Other => {
                if matches!(ip.proto, 1 | 6 | 17 | 58) {
                    // A TCP/UDP/ICMP header we could not read; counted as an anomaly already.
                } else {
                    protos.other_ip += 1;
                }
                (0, 0, 0, false)
            }
        };
        let meta = PacketMeta {
            ts,
            vlans,
            src: ip.src,
            dst: ip.dst,
            proto: ip.proto,
            src_port,
            dst_port,
            ip_len: ip.wire_len,
            tcp_flags: flags,
            src_mac: src_mac.filter(Mac::is_unicast_device),
            hint: InitiatorHint::guess(ip.proto, flags, src_port, dst_port, icmp_reply),
        };
        let registry: &Registry = &self.registry;
        let Some(touched) = self.table.update(&meta) else { return };
        let (flow, dir) = (touched.flow, touched.dir);
        if touched.created {
            let kind = match t {
                Transport::Tcp(_) => Some(DissectTransport::Tcp),
                Transport::Udp { .. } => Some(DissectTransport::Udp),
                _ => None,
            };
            if let Some(kind) = kind {
                flow.app.dissection = FlowDissection::start(registry, kind);
                if kind == DissectTransport::Tcp && flow.app.dissection.wants_data() {
                    flow.streams = Some(Box::new([Reassembler::new(), Reassembler::new()]));
                }
            }
        }
        if !flow.app.dissection.wants_data() {
            return;
        }
        // Dissectors hear of payload, and of holes, which a bare ACK turns into gaps only when
        // out-of-order bytes are held: the context (addresses rebuilt from the flow key) is
        // made only then. Most packets of a bulk transfer are bare ACKs.
        let needs_context = match t {
            Transport::Udp { payload, .. } => !payload.is_empty(),
            Transport::Tcp(seg) => {
                !seg.payload.is_empty()
                    || flow.streams.as_ref().is_some_and(|p| p.iter().any(|r| r.buffered() > 0))
            }
            _ => false,
        };
        let ctx = needs_context.then(|| flow_context(flow, ts));
        let Flow { streams, app, .. } = flow;
        let (out, dissect) = (&mut self.out, &mut self.counters.dissect);
        match t {
            Transport::Udp { payload, .. } if !payload.is_empty() => {
                if let Some(ctx) = &ctx {
                    app.dissection.on_datagram(registry, ctx, dir, payload, out, dissect);
                }
            }
            Transport::Tcp(seg) => {
                if let Some(pair) = streams.as_mut() {
                    let (limits, stats, budget) =
                        (&self.cfg.reassembly, &mut self.counters.reassembly, &mut self.budget);
                    let d = dir.index();
                    // Data on a SYN (TCP Fast Open) starts one after the SYN's number.
                    let data_seq = if seg.flags & decode::tcp_flags::SYN != 0 {
                        pair[d].syn(seg.seq);
                        seg.seq.wrapping_add(1)
                    } else {
                        seg.seq
                    };
                    pair[d].segment(data_seq, seg.payload, limits, budget, stats, &mut |e| match &ctx {
                        Some(ctx) => deliver(&mut app.dissection, registry, ctx, dir, e, out, dissect),
                        None => debug_assert!(false, "stream event without payload"),
                    });
                    if seg.flags & decode::tcp_flags::ACK != 0 {
                        // The other direction's acknowledgements show bytes the capture missed.
                        pair[1 - d].acked(seg.ack, limits, budget, stats, &mut |e| match &ctx {
                            Some(ctx) => {
                                deliver(&mut app.dissection, registry, ctx, dir.reverse(), e, out, dissect)
                            }
                            None => debug_assert!(false, "gap event with nothing held"),
                        });
                    }
                    let peak = &mut self.counters.reassembly_peak_bytes;
                    *peak = (*peak).max(budget.used() as u64);
                }
                if !app.dissection.wants_data() {
                    // Nothing more to parse: free the stream buffers at once.
                    if let Some(mut pair) = streams.take() {
                        pair.iter_mut().for_each(|r| r.stop(&mut self.budget));
                    }
                }
            }
            _ => {}
        }
    }

    /// Turns ended flows into observations.
    fn drain_ended(&mut self) {
        let ended: Vec<Ended<FlowApp>> = self.table.take_ended().collect();
        for e in ended {
            self.end_flow(e);
        }
    }

    fn end_flow(&mut self, e: Ended<FlowApp>) {
        let Ended { mut flow, reason } = e;
        let ctx = flow_context(&flow, flow.last);
        let registry: &Registry = &self.registry;
        let (out, dissect) = (&mut self.out, &mut self.counters.dissect);
        if let Some(mut pair) = flow.streams.take() {
            // Hand on what was buffered behind holes, so the dissector sees all it can.
            for (s, dir) in pair.iter_mut().zip([Direction::ToResponder, Direction::ToInitiator]) {
                let app = &mut flow.app;
                s.finish(&self.cfg.reassembly, &mut self.budget, &mut self.counters.reassembly, &mut |e| {
                    deliver(&mut app.dissection, registry, &ctx, dir, e, out, dissect)
                });
            }
        }
        flow.app.dissection.on_end(&ctx, out, dissect);
        let app = flow.app.dissection.protocol().map(Cow::Borrowed);
        let record = flow.record(reason, app);
        out.push(Observation {
            ts: record.end,
            device: DeviceKey::Ip(record.initiator.ip),
            kind: ObservationKind::FlowEnd(Box::new(record)),
        });
    }

    /// Ends every flow: the capture is over at `end`.
    pub(crate) fn finish(&mut self, end: Timestamp) {
        self.advance(end);
        self.table.close_all(end.max(self.now));
        self.drain_ended();
        self.defrag.expire(Timestamp::from_nanos(u64::MAX));
        let c = &mut self.counters;
        c.flows = self.table.stats;
        c.defrag = self.defrag.stats;
        c.set_decode_errors(&self.anomaly_totals);
    }

    /// Takes the observations produced so far, counting them.
    pub(crate) fn take_out(&mut self) -> Vec<Observation> {
        self.counters.observations += self.out.len() as u64;
        std::mem::take(&mut self.out)
    }
}

/// Hands one stream event to a flow's dissection, unless it wants nothing more.
fn deliver(
    d: &mut FlowDissection,
    registry: &Registry,
    ctx: &FlowContext,
    dir: Direction,
    e: StreamEvent<'_>,
    out: &mut Vec<Observation>,
    stats: &mut DissectStats,
) {
    if !d.wants_data() {
        return;
    }
    match e {
        StreamEvent::Data(bytes) => d.on_stream(registry, ctx, dir, bytes, out, stats),
        StreamEvent::Gap(n) => d.on_gap(dir, n, stats),
    };
}

fn flow_context(flow: &Flow<FlowApp>, ts: Timestamp) -> FlowContext {
    FlowContext {
        ts,
        uid: flow.uid,
        vlans: flow.vlans(),
        proto: ward_core::IpProto(flow.proto()),
        initiator: flow.initiator(),
        responder: flow.responder(),
    }
}
