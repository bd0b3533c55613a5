//! Per-flow dissection: probe the candidates, bind the flow to the one that matches, feed it.

use ward_core::{Direction, Observation};

use crate::registry::DissectStats;
use crate::{Emitter, FlowContext, Parsed, Probe, Registry, Session, Transport};

/// Stream bytes a direction may buffer while dissectors cannot yet tell.
pub const PROBE_BYTES: usize = 4096;
/// Unparsed stream bytes a direction may hold for a dissector waiting for a whole message.
pub const MAX_PENDING: usize = 64 << 10;
/// Observations one TCP flow may produce: a stream can say anything any number of times.
pub const OBSERVATIONS_PER_FLOW: usize = 256;
/// Observations one datagram may produce. UDP flows have no cumulative cap: one flow can be
/// every DHCP client of a VLAN broadcasting from 0.0.0.0:68, and each must be heard; a
/// datagram's size already bounds what it says.
pub const OBSERVATIONS_PER_DATAGRAM: usize = 64;

/// State while probing.
pub struct Probing {
    transport: Transport,
    /// Candidates that said no, per direction.
    excluded: [u64; 2],
    bufs: [Vec<u8>; 2],
    /// Bytes of each direction that arrived after its probe buffer was full and were not kept.
    dropped: [u64; 2],
}

/// State while bound to a dissector.
pub struct Active {
    which: usize,
    /// The dissector's name, or what its session said more precisely.
    protocol: &'static str,
    session: Box<dyn Session>,
    bufs: [Vec<u8>; 2],
    room: usize,
}

impl Probing {
    /// Asks the candidates not yet excluded for `dir` whether `data` is theirs; returns the
    /// first that says yes. A "need more" counts as no when `final_answer` (the bytes cannot
    /// grow: a whole datagram, or a full probe buffer).
    fn probe(
        &mut self,
        registry: &Registry,
        dir: Direction,
        data: &[u8],
        final_answer: bool,
    ) -> Option<usize> {
        let d = dir.index();
        for i in bits(registry.candidates(self.transport) & !self.excluded[d]) {
            let Some(dissector) = registry.flow(i) else { continue };
            match dissector.probe(dir, data) {
                Probe::Match => return Some(i),
                Probe::NeedMore if !final_answer => {}
                Probe::NoMatch | Probe::NeedMore => self.excluded[d] |= 1 << i,
            }
        }
        None
    }
}

/// Whether the sensor should keep feeding a flow's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Keep feeding.
    More,
    /// Nothing more is wanted: stop reassembling this flow.
    Enough,
}

/// A flow's dissection state.
#[derive(Default)]
pub enum FlowDissection {
    /// No dissector was started for this flow.
    #[default]
    Idle,
    /// Candidates are being probed.
    Probing(Box<Probing>),
    /// Bound to one dissector.
    Active(Box<Active>),
    /// Finished; `protocol` names what the flow spoke, if a dissector recognised it.
    Done {
        /// The dissector's name, or its session's more precise one.
        protocol: Option<&'static str>,
    },
}

impl FlowDissection {
    /// The starting state of a new flow on `transport`: probing if any dissector reads it.
    pub fn start(registry: &Registry, transport: Transport) -> FlowDissection {
        if registry.has(transport) {
            FlowDissection::Probing(Box::new(Probing {
                transport,
                excluded: [0; 2],
                bufs: [Vec::new(), Vec::new()],
                dropped: [0; 2],
            }))
        } else {
            FlowDissection::Done { protocol: None }
        }
    }

    /// Whether payload still matters for this flow.
    pub fn wants_data(&self) -> bool {
        matches!(self, FlowDissection::Probing(_) | FlowDissection::Active(_))
    }

    /// The application protocol, once a dissector matched.
    pub fn protocol(&self) -> Option<&'static str> {
        match self {
            FlowDissection::Active(a) => Some(a.protocol),
            FlowDissection::Done { protocol } => *protocol,
            _ => None,
        }
    }

    /// Feeds one UDP datagram.
    pub fn on_datagram(
        &mut self,
        registry: &Registry,
        ctx: &FlowContext,
        dir: Direction,
        payload: &[u8],
        out: &mut Vec<Observation>,
        stats: &mut DissectStats,
    ) -> Want {
        if let FlowDissection::Probing(p) = self {
            // A datagram is whole: "need more" cannot be given, so it counts as no.
            match p.probe(registry, dir, payload, true) {
                Some(i) => self.activate(registry, i, stats),
                None => return self.give_up_if_all_refused(registry, stats),
            }
        }
        if let FlowDissection::Active(a) = self {
            let mut emitter = Emitter::new(out, OBSERVATIONS_PER_DATAGRAM);
            let r = a.session.parse(ctx, dir, payload, &mut emitter);
            let dropped = emitter.dropped();
            self.after_parse(registry, r, dropped, stats);
        }
        self.want()
    }

    /// Feeds in-order stream bytes of one direction.
    pub fn on_stream(
        &mut self,
        registry: &Registry,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Vec<Observation>,
        stats: &mut DissectStats,
    ) -> Want {
        let d = dir.index();
        if let FlowDissection::Probing(p) = self {
            let take = data.len().min(PROBE_BYTES.saturating_sub(p.bufs[d].len()));
            p.bufs[d].extend_from_slice(&data[..take]);
            let full = p.bufs[d].len() >= PROBE_BYTES;
            let probe_bytes = std::mem::take(&mut p.bufs[d]);
            let matched = p.probe(registry, dir, &probe_bytes, full);
            p.bufs[d] = probe_bytes;
            let Some(i) = matched else {
                p.dropped[d] += (data.len() - take) as u64;
                return self.give_up_if_all_refused(registry, stats);
            };
            // Replay what was buffered, in stream order: this direction's probe bytes, the hole
            // where bytes were dropped while its buffer was full, and the rest of this chunk;
            // then the other direction's probe bytes and hole.
            let rest = &data[take..];
            let first = std::mem::take(&mut p.bufs[d]);
            let other = std::mem::take(&mut p.bufs[1 - d]);
            let dropped = p.dropped;
            self.activate(registry, i, stats);
            self.feed_active(registry, ctx, dir, &first, out, stats);
            if dropped[d] > 0 {
                self.on_gap(dir, dropped[d], stats);
            }
            if !rest.is_empty() {
                self.feed_active(registry, ctx, dir, rest, out, stats);
            }
            if !other.is_empty() {
                self.feed_active(registry, ctx, dir.reverse(), &other, out, stats);
            }
            if dropped[1 - d] > 0 {
                self.on_gap(dir.reverse(), dropped[1 - d], stats);
            }
            return self.want();
        }
        self.feed_active(registry, ctx, dir, data, out, stats);
        self.want()
    }

    fn feed_active(
        &mut self,
        registry: &Registry,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Vec<Observation>,
        stats: &mut DissectStats,
    ) {
        let FlowDissection::Active(a) = self else { return };
        let d = dir.index();
        let mut emitter = Emitter::new(out, a.room);
        let r = if a.bufs[d].is_empty() {
            // The common case: parse straight from the reassembler's bytes.
            let r = a.session.parse(ctx, dir, data, &mut emitter);
            if let Parsed::Consumed(n) = r {
                a.bufs[d].extend_from_slice(data.get(n..).unwrap_or_default());
            }
            r
        } else {
            a.bufs[d].extend_from_slice(data);
            let r = a.session.parse(ctx, dir, &a.bufs[d], &mut emitter);
            if let Parsed::Consumed(n) = r {
                a.bufs[d].drain(..n.min(a.bufs[d].len()));
            }
            r
        };
        a.room = emitter.room();
        let dropped = emitter.dropped();
        let over = a.bufs[d].len() > MAX_PENDING;
        self.after_parse(registry, r, dropped, stats);
        // A parser waiting for more than a message may be: the flow is given up, counted.
        if let FlowDissection::Active(a) = self
            && over
        {
            stats.pending_cap_hits += 1;
            *self = FlowDissection::Done { protocol: Some(a.protocol) };
        }
    }

    /// Ends probing when every candidate has refused both directions.
    fn give_up_if_all_refused(&mut self, registry: &Registry, stats: &mut DissectStats) -> Want {
        if let FlowDissection::Probing(p) = self {
            let all = registry.candidates(p.transport);
            if p.excluded[0] & p.excluded[1] & all == all {
                stats.flows_unmatched += 1;
                *self = FlowDissection::Done { protocol: None };
            }
        }
        self.want()
    }

    /// What follows a parse, on a datagram or stream bytes alike: observations dropped at the
    /// cap are counted, the session's more precise protocol name is taken, and the flow ends
    /// when the session is done or found the bytes malformed.
    fn after_parse(&mut self, registry: &Registry, r: Parsed, dropped: u64, stats: &mut DissectStats) {
        stats.observation_cap_hits += dropped;
        let FlowDissection::Active(a) = self else { return };
        if let Some(p) = a.session.protocol() {
            a.protocol = p;
        }
        let (which, protocol) = (a.which, a.protocol);
        match r {
            Parsed::Consumed(_) => {}
            Parsed::Done => *self = FlowDissection::Done { protocol: Some(protocol) },
            Parsed::Malformed(_) => {
                if let Some(name) = registry.flow_name(which) {
                    DissectStats::bump(&mut stats.malformed, name);
                }
                *self = FlowDissection::Done { protocol: Some(protocol) };
            }
        }
    }

    fn activate(&mut self, registry: &Registry, i: usize, stats: &mut DissectStats) {
        let Some(d) = registry.flow(i) else { return };
        DissectStats::bump(&mut stats.flows_matched, d.name());
        *self = FlowDissection::Active(Box::new(Active {
            which: i,
            protocol: d.name(),
            session: d.start(),
            bufs: [Vec::new(), Vec::new()],
            room: OBSERVATIONS_PER_FLOW,
        }));
    }

    /// `len` bytes of `dir` are missing from the capture.
    pub fn on_gap(&mut self, dir: Direction, len: u64, stats: &mut DissectStats) -> Want {
        let d = dir.index();
        match self {
            // The start of this direction is lost; probe again on what follows.
            FlowDissection::Probing(p) => p.bufs[d].clear(),
            FlowDissection::Active(a) => {
                if a.session.gap(dir, len) {
                    a.bufs[d].clear();
                } else {
                    stats.gave_up_at_gap += 1;
                    *self = FlowDissection::Done { protocol: Some(a.protocol) };
                }
            }
            FlowDissection::Idle | FlowDissection::Done { .. } => {}
        }
        self.want()
    }

    /// The flow ended: let the dissector say its last word.
    pub fn on_end(&mut self, ctx: &FlowContext, out: &mut Vec<Observation>, stats: &mut DissectStats) {
        match std::mem::take(self) {
            FlowDissection::Active(mut a) => {
                let mut emitter = Emitter::new(out, a.room);
                a.session.end(ctx, &mut emitter);
                stats.observation_cap_hits += emitter.dropped();
                *self = FlowDissection::Done { protocol: Some(a.session.protocol().unwrap_or(a.protocol)) };
            }
            FlowDissection::Probing(_) => {
                stats.flows_unmatched += 1;
                *self = FlowDissection::Done { protocol: None };
            }
            other => *self = other,
        }
    }

    fn want(&self) -> Want {
        if self.wants_data() { Want::More } else { Want::Enough }
    }
}

/// Indices of the set bits of `mask`, lowest first.
fn bits(mask: u64) -> impl Iterator<Item = usize> {
    let mut m = mask;
    std::iter::from_fn(move || {
        if m == 0 {
            return None;
        }
        let i = m.trailing_zeros() as usize;
        m &= m - 1;
        Some(i)
    })
}

#[cfg(test)]
mod tests;
