//! The sensor's counters, under fixed names. They are never labelled by address.

use std::collections::BTreeMap;

use serde::Serialize;
use ward_core::Timestamp;
use ward_dissect::DissectStats;
use ward_flow::decode::Anomaly;
use ward_flow::defrag::DefragStats;
use ward_flow::reassembly::ReassemblyStats;
use ward_flow::table::FlowStats;

/// Packets by what carried them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProtocolCounts {
    /// IPv4 packets (fragments included).
    pub ipv4: u64,
    /// IPv6 packets.
    pub ipv6: u64,
    /// ARP frames.
    pub arp: u64,
    /// Frames with another EtherType (LLDP, EAPOL, ...).
    pub other_ether: u64,
    /// 802.3 frames with an LLC header (CDP, STP, ...).
    pub llc: u64,
    /// Frames whose network layer could not be read.
    pub undecoded: u64,
    /// TCP segments (after reassembly of fragments).
    pub tcp: u64,
    /// UDP datagrams.
    pub udp: u64,
    /// ICMP and ICMPv6 messages.
    pub icmp: u64,
    /// Other IP protocols (GRE, ESP, OSPF, ...).
    pub other_ip: u64,
    /// IP fragments (each also counted under ipv4/ipv6).
    pub ip_fragments: u64,
}

impl ProtocolCounts {
    fn add(&mut self, o: &ProtocolCounts) {
        self.ipv4 += o.ipv4;
        self.ipv6 += o.ipv6;
        self.arp += o.arp;
        self.other_ether += o.other_ether;
        self.llc += o.llc;
        self.undecoded += o.undecoded;
        self.tcp += o.tcp;
        self.udp += o.udp;
        self.icmp += o.icmp;
        self.other_ip += o.other_ip;
        self.ip_fragments += o.ip_fragments;
    }
}

/// Everything a sensor counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Packets read from the captures.
    pub packets: u64,
    /// Bytes of those packets on the wire.
    pub bytes: u64,
    /// Bytes of them present in the captures (less under a snap length).
    pub captured_bytes: u64,
    /// Time stamp of the earliest packet.
    pub first_packet: Option<Timestamp>,
    /// Time stamp of the latest packet.
    pub last_packet: Option<Timestamp>,
    /// Packets dropped by the sensor itself because a queue was full (live capture only; a
    /// file is read at the pace of its slowest worker instead).
    pub dropped: u64,
    /// Packets by protocol.
    pub protocols: ProtocolCounts,
    /// Decoding anomalies by kind.
    pub decode_errors: BTreeMap<&'static str, u64>,
    /// The flow table.
    pub flows: FlowStats,
    /// IP fragment reassembly.
    pub defrag: DefragStats,
    /// TCP stream reassembly.
    pub reassembly: ReassemblyStats,
    /// The most out-of-order stream bytes held at once by one worker.
    pub reassembly_peak_bytes: u64,
    /// Application-layer dissection.
    pub dissect: DissectStats,
    /// Observations emitted.
    pub observations: u64,
}

impl Counters {
    /// Adds another worker's counters into these.
    pub fn add(&mut self, o: &Counters) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.captured_bytes += o.captured_bytes;
        self.dropped += o.dropped;
        self.first_packet = match (self.first_packet, o.first_packet) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_packet = self.last_packet.max(o.last_packet);
        self.protocols.add(&o.protocols);
        for (k, v) in &o.decode_errors {
            *self.decode_errors.entry(k).or_default() += v;
        }
        self.flows.add(&o.flows);
        self.defrag.add(&o.defrag);
        self.reassembly.add(&o.reassembly);
        self.reassembly_peak_bytes = self.reassembly_peak_bytes.max(o.reassembly_peak_bytes);
        self.dissect.add(&o.dissect);
        self.observations += o.observations;
    }

    /// Decode anomalies as fixed names, from a worker's array.
    pub(crate) fn set_decode_errors(&mut self, totals: &[u64; Anomaly::COUNT]) {
        for a in Anomaly::ALL {
            let n = totals[a as usize];
            if n > 0 {
                *self.decode_errors.entry(a.name()).or_default() += n;
            }
        }
    }

    /// Every cap that was hit, by name, with how often: the figure an operator checks first.
    pub fn caps_hit(&self) -> BTreeMap<&'static str, u64> {
        let all = [
            ("flow_table_full", self.flows.table_full),
            ("flows_evicted", self.flows.evicted),
            ("defrag_datagrams", self.defrag.cap_datagrams),
            ("defrag_bytes", self.defrag.cap_bytes),
            ("reassembly_depth", self.reassembly.depth_reached),
            ("reassembly_stream_buffer", self.reassembly.stream_cap_hits),
            ("reassembly_budget", self.reassembly.budget_cap_hits),
            ("dissect_pending_bytes", self.dissect.pending_cap_hits),
            ("observations_per_flow", self.dissect.observation_cap_hits),
            ("queue_full_drops", self.dropped),
        ];
        all.into_iter().filter(|(_, n)| *n > 0).collect()
    }
}
