//! SSDP, UPnP's discovery over UDP: announcements (`NOTIFY`), searches (`M-SEARCH`) and the
//! answers to them, whichever port they use and whether they go to the multicast group or to
//! one host (some devices answer a search with a unicast `NOTIFY`).
//!
//! The sender of an announcement or an answer is the device: its `SERVER` header (operating
//! system, UPnP stack and often model), its UUID (from `USN`), the device and service types it
//! offers (`NT`/`ST`) and where its description lives (`LOCATION`). The sender of a search is
//! a client: its `USER-AGENT` and what it looks for.

#[cfg(test)]
mod tests;

use ward_core::{DeviceKey, Direction};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport};

/// The SSDP dissector.
pub struct SsdpDissector;

/// What an SSDP message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Notify,
    Search,
    Answer,
}

fn kind(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"NOTIFY * HTTP/1.") {
        Some(Kind::Notify)
    } else if data.starts_with(b"M-SEARCH * HTTP/1.") {
        Some(Kind::Search)
    } else if data.starts_with(b"HTTP/1.1 200") || data.starts_with(b"HTTP/1.0 200") {
        Some(Kind::Answer)
    } else {
        None
    }
}

/// The message's header lines as (name, value); lines without a colon are skipped, and a
/// message that ends without its blank line is read as far as it goes.
fn headers(data: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    data.split(|b| *b == b'\n')
        .skip(1)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let l = std::str::from_utf8(l).ok()?;
            let (name, value) = l.split_once(':')?;
            Some((name.trim(), value.trim()))
        })
}

impl Dissector for SsdpDissector {
    fn name(&self) -> &'static str {
        "ssdp"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        match kind(data) {
            Some(Kind::Notify | Kind::Search) => Probe::Match,
            // HTTP over UDP answers are SSDP when they name what they answer.
            Some(Kind::Answer) if headers(data).any(|(n, _)| n.eq_ignore_ascii_case("usn")) => Probe::Match,
            _ => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(SsdpSession::default())
    }
}

#[derive(Default)]
struct SsdpSession {
    repeats: Repeats,
}

/// A device or service type worth keeping (`urn:schemas-upnp-org:device:MediaRenderer:1`);
/// the generic targets say nothing about the device.
fn upnp_type(v: &str) -> Option<&str> {
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("urn:") { Some(v) } else { None }
}

/// The UUID part of a USN (`uuid:…::urn:…`).
fn usn_uuid(v: &str) -> Option<&str> {
    let uuid = v.split("::").next()?.trim();
    let id = uuid.get(..5).filter(|p| p.eq_ignore_ascii_case("uuid:")).map(|_| &uuid[5..])?;
    (!id.is_empty()).then_some(id)
}

impl Session for SsdpSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let Some(kind) = kind(data) else {
            return Parsed::Malformed("not an ssdp message");
        };
        let sender = match dir {
            Direction::ToResponder => ctx.initiator.ip,
            Direction::ToInitiator => ctx.responder.ip,
        };
        let dev = DeviceKey::Ip(sender);
        let ts = ctx.ts;
        let mut emit =
            |key, value: &str, source, conf| self.repeats.attribute(out, ts, dev, key, value, source, conf);
        for (name, value) in headers(data) {
            let name = name.to_ascii_lowercase();
            match (kind, name.as_str()) {
                (Kind::Search, "user-agent") => emit("user_agent", value, "ssdp.user_agent", 70),
                (Kind::Search, "st") => emit("upnp_search", value, "ssdp.st", 50),
                (Kind::Notify | Kind::Answer, "server") => emit("server", value, "ssdp.server", 70),
                (Kind::Notify | Kind::Answer, "location") => {
                    emit("upnp_location", value, "ssdp.location", 60)
                }
                (Kind::Notify | Kind::Answer, "usn") => {
                    if let Some(id) = usn_uuid(value) {
                        emit("upnp_uuid", id, "ssdp.usn", 80);
                    }
                }
                (Kind::Notify, "nt") | (Kind::Answer, "st") => {
                    if let Some(t) = upnp_type(value) {
                        emit("upnp_type", t, if kind == Kind::Notify { "ssdp.nt" } else { "ssdp.st" }, 70);
                    }
                }
                _ => {}
            }
        }
        Parsed::Consumed(data.len())
    }
}
