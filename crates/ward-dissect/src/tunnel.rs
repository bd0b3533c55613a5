//! What runs inside a tunnel (a SOCKS connection, an HTTP `CONNECT`): the tunnelling
//! dissector hands the bytes after its own handshake to this, which probes the protocols
//! worth reading there and feeds the one that matches.
//!
//! The responder of the flow is the proxy, not the host the tunnel reaches: what the inner
//! protocol says about its server (a certificate, a `Server` header) describes a host whose
//! address Ward does not see, so it is left out rather than pinned on the proxy.

use ward_core::Direction;

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session};

/// Probes at most this many bytes of a tunnel before giving up on it.
const PROBE_LIMIT: usize = 4096;

#[derive(Default)]
pub(crate) struct Tunnel {
    inner: Option<Box<dyn Session>>,
    /// Nothing inside was recognised: the rest is skipped.
    opaque: bool,
}

impl Tunnel {
    /// Parses tunnelled bytes of `dir`; the same contract as [`Session::parse`].
    pub(crate) fn parse(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter<'_>,
    ) -> Parsed {
        if self.opaque {
            return Parsed::Consumed(data.len());
        }
        if self.inner.is_none() {
            if data.is_empty() {
                return Parsed::Consumed(0);
            }
            let candidates: [&dyn Dissector; 2] = [&crate::tls::TlsDissector, &crate::http::HttpDissector];
            let mut undecided = false;
            for d in candidates {
                match d.probe(dir, data) {
                    Probe::Match => {
                        self.inner = Some(d.start());
                        break;
                    }
                    Probe::NeedMore => undecided = true,
                    Probe::NoMatch => {}
                }
            }
            if self.inner.is_none() {
                if undecided && data.len() < PROBE_LIMIT {
                    return Parsed::Consumed(0);
                }
                self.opaque = true;
                return Parsed::Consumed(data.len());
            }
        }
        let Some(inner) = &mut self.inner else { return Parsed::Consumed(data.len()) };
        let mut said = Vec::new();
        let r = inner.parse(ctx, dir, data, &mut Emitter::new(&mut said, out.room()));
        keep_client_side(ctx, said, out);
        r
    }

    /// Bytes of `dir` are missing.
    pub(crate) fn gap(&mut self, dir: Direction, len: u64) -> bool {
        match &mut self.inner {
            Some(s) => s.gap(dir, len),
            None => {
                self.opaque = true;
                true
            }
        }
    }

    /// The flow ended.
    pub(crate) fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if let Some(s) = &mut self.inner {
            let mut said = Vec::new();
            s.end(ctx, &mut Emitter::new(&mut said, out.room()));
            keep_client_side(ctx, said, out);
        }
    }
}

/// Passes on what the inner protocol said, except what it says about the far server.
fn keep_client_side(ctx: &FlowContext, said: Vec<ward_core::Observation>, out: &mut Emitter<'_>) {
    let proxy = ward_core::DeviceKey::Ip(ctx.responder.ip);
    for o in said.into_iter().filter(|o| o.device != proxy) {
        out.emit(o);
    }
}
