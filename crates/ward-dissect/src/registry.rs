use std::collections::BTreeMap;

use ward_core::Observation;

use crate::{Dissector, Emitter, FrameContext, FrameDissector, Transport};

/// Most flow dissectors a registry holds (candidates are tracked in a 64-bit mask).
pub const MAX_FLOW_DISSECTORS: usize = 64;

/// Observations one frame may produce.
const FRAME_ROOM: usize = 16;

/// The dissectors a sensor runs.
pub struct Registry {
    frames: Vec<Box<dyn FrameDissector>>,
    flows: Vec<Box<dyn Dissector>>,
    tcp: u64,
    udp: u64,
}

impl Registry {
    /// No dissectors at all: the sensor then only decodes and tracks flows.
    pub fn empty() -> Registry {
        Registry { frames: Vec::new(), flows: Vec::new(), tcp: 0, udp: 0 }
    }

    /// Every dissector Ward has.
    pub fn builtin() -> Registry {
        Registry::empty()
            .with_frame(Box::new(crate::arp::ArpDissector))
            .with_frame(Box::new(crate::lldp::LldpDissector))
            .with_frame(Box::new(crate::cdp::CdpDissector))
            .with(Box::new(crate::dhcp::Dhcp4Dissector))
            .with(Box::new(crate::dhcp::Dhcp6Dissector))
            // NetBIOS names parse as DNS too: the narrower shape is asked first.
            .with(Box::new(crate::nbns::NbnsDissector))
            // BVLC's type byte and exact length are narrower than DNS's header.
            .with(Box::new(crate::bacnet::BacnetDissector))
            .with(Box::new(crate::dns::DnsDissector))
            .with(Box::new(crate::ssdp::SsdpDissector))
            .with(Box::new(crate::snmp::SnmpDissector))
            .with(Box::new(crate::ntp::NtpDissector))
            .with(Box::new(crate::http::HttpDissector))
            .with(Box::new(crate::tls::TlsDissector))
            .with(Box::new(crate::hl7::Hl7Dissector))
            .with(Box::new(crate::dicom::DicomDissector))
            // Modbus checks its protocol id, lengths and each function's shape: narrower than
            // MQTT's reading of a connection whose start was missed (which once took a Modbus
            // flow picked up mid-stream on the benchmark capture), and than SOCKS's version
            // byte, which a transaction id may start with.
            .with(Box::new(crate::modbus::ModbusDissector))
            .with(Box::new(crate::mqtt::MqttDissector))
            .with(Box::new(crate::poct::Poct1aDissector))
            .with(Box::new(crate::socks::SocksDissector))
            .with(Box::new(crate::ftp::FtpDissector))
            .with(Box::new(crate::telnet::TelnetDissector))
    }

    /// Adds a frame dissector.
    pub fn with_frame(mut self, d: Box<dyn FrameDissector>) -> Registry {
        self.frames.push(d);
        self
    }

    /// Adds a flow dissector; probes run in the order dissectors were added.
    ///
    /// # Panics
    /// When more than [`MAX_FLOW_DISSECTORS`] are added: a programming error, not input.
    pub fn with(mut self, d: Box<dyn Dissector>) -> Registry {
        assert!(self.flows.len() < MAX_FLOW_DISSECTORS, "at most {MAX_FLOW_DISSECTORS} flow dissectors");
        let bit = 1u64 << self.flows.len();
        match d.transport() {
            Transport::Tcp => self.tcp |= bit,
            Transport::Udp => self.udp |= bit,
        }
        self.flows.push(d);
        self
    }

    /// Keeps only the dissectors named in `names`; an unknown name is an error that lists
    /// the known ones.
    pub fn only(self, names: &[&str]) -> Result<Registry, String> {
        let known = self.names();
        if let Some(bad) = names.iter().find(|n| !known.contains(n)) {
            return Err(format!("unknown dissector {bad:?}; known: {}", known.join(", ")));
        }
        let frames = self.frames.into_iter().filter(|d| names.contains(&d.name())).collect();
        let mut kept = Registry { frames, flows: Vec::new(), tcp: 0, udp: 0 };
        for d in self.flows.into_iter().filter(|d| names.contains(&d.name())) {
            kept = kept.with(d);
        }
        Ok(kept)
    }

    /// Names of all dissectors, frame dissectors first.
    pub fn names(&self) -> Vec<&'static str> {
        self.frames.iter().map(|d| d.name()).chain(self.flows.iter().map(|d| d.name())).collect()
    }

    /// Whether any flow dissector reads `t`.
    pub fn has(&self, t: Transport) -> bool {
        self.candidates(t) != 0
    }

    pub(crate) fn candidates(&self, t: Transport) -> u64 {
        match t {
            Transport::Tcp => self.tcp,
            Transport::Udp => self.udp,
        }
    }

    pub(crate) fn flow(&self, i: usize) -> Option<&dyn Dissector> {
        self.flows.get(i).map(|d| d.as_ref())
    }

    /// Name of flow dissector `i`.
    pub fn flow_name(&self, i: usize) -> Option<&'static str> {
        self.flows.get(i).map(|d| d.name())
    }

    /// Whether a frame dissector reads this EtherType.
    pub fn reads_ether_type(&self, ether_type: u16) -> bool {
        self.frames.iter().any(|d| d.ether_types().contains(&ether_type))
    }

    /// Runs the frame dissectors for an 802.3 frame's LLC payload: an LLC SNAP header
    /// (AA AA 03, then an OUI and a protocol id) picks the dissector. Returns whether one read it.
    pub fn dissect_llc(
        &self,
        ctx: &FrameContext,
        llc: &[u8],
        out: &mut Vec<Observation>,
        stats: &mut DissectStats,
    ) -> bool {
        let Some(([0xaa, 0xaa, 0x03, o1, o2, o3, p1, p2], payload)) =
            llc.split_first_chunk::<8>().map(|(h, p)| (*h, p))
        else {
            return false;
        };
        let id = ([o1, o2, o3], u16::from_be_bytes([p1, p2]));
        self.run_frames(|d| d.snap_ids().contains(&id), ctx, payload, out, stats)
    }

    /// Runs the frame dissectors for `ether_type` over a frame's payload; returns whether one
    /// read it. Frames read, framing violations and dropped observations go to `stats`.
    pub fn dissect_frame(
        &self,
        ether_type: u16,
        ctx: &FrameContext,
        payload: &[u8],
        out: &mut Vec<Observation>,
        stats: &mut DissectStats,
    ) -> bool {
        self.run_frames(|d| d.ether_types().contains(&ether_type), ctx, payload, out, stats)
    }

    /// Runs the frame dissectors `which` picks over a payload; returns whether one read it.
    fn run_frames(
        &self,
        which: impl Fn(&dyn FrameDissector) -> bool,
        ctx: &FrameContext,
        payload: &[u8],
        out: &mut Vec<Observation>,
        stats: &mut DissectStats,
    ) -> bool {
        let mut read = false;
        for d in self.frames.iter().filter(|d| which(d.as_ref())) {
            read = true;
            DissectStats::bump(&mut stats.frames, d.name());
            let mut emitter = Emitter::new(out, FRAME_ROOM);
            if d.dissect(ctx, payload, &mut emitter).is_err() {
                DissectStats::bump(&mut stats.malformed, d.name());
            }
            stats.observation_cap_hits += emitter.dropped();
        }
        read
    }
}

/// Counters of dissection, under fixed names. Per-protocol counts are keyed by the
/// dissector's name.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DissectStats {
    /// Frames read, per frame dissector.
    pub frames: BTreeMap<&'static str, u64>,
    /// Flows bound to a dissector, per dissector.
    pub flows_matched: BTreeMap<&'static str, u64>,
    /// Frames or flows given up for broken framing, per dissector.
    pub malformed: BTreeMap<&'static str, u64>,
    /// Flows whose payload no dissector recognised.
    pub flows_unmatched: u64,
    /// Flows whose unparsed bytes exceeded the per-flow buffer cap.
    pub pending_cap_hits: u64,
    /// Observations dropped by the per-flow or per-frame cap.
    pub observation_cap_hits: u64,
    /// Flows given up at a gap in the stream.
    pub gave_up_at_gap: u64,
}

impl DissectStats {
    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &DissectStats) {
        for (mine, theirs) in [
            (&mut self.frames, &o.frames),
            (&mut self.flows_matched, &o.flows_matched),
            (&mut self.malformed, &o.malformed),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
        self.flows_unmatched += o.flows_unmatched;
        self.pending_cap_hits += o.pending_cap_hits;
        self.observation_cap_hits += o.observation_cap_hits;
        self.gave_up_at_gap += o.gave_up_at_gap;
    }

    pub(crate) fn bump(map: &mut BTreeMap<&'static str, u64>, name: &'static str) {
        *map.entry(name).or_default() += 1;
    }
}
