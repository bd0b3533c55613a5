//! POCT1-A (CLSI POCT1-A2) device messaging: XML documents over TCP between a point-of-care
//! analyser (the device, which says hello with `HEL.R01`) and a data manager.
//!
//! The device's identity comes from the `DEV` object of its hello and status messages:
//! vendor, manufacturer, model, serial, device id, software and hardware version, each in the
//! `V` attribute of its element. Observations (`OBS.R01`, `OBS.R02`) and patient objects
//! (`PT`) carry patient data: they make the flow a `Cleartext { protocol: poct1a, phi: true }`
//! and are never read. The stream is read one tag at a time; text between tags is skipped.

mod parser;
#[cfg(test)]
mod tests;

use memchr::{memchr, memchr2, memmem};
use ward_core::{DeviceKey, Direction};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, cleartext};

/// The POCT1-A dissector.
pub struct Poct1aDissector;

/// Longest tag (from `<` to `>`) waited for whole; POCT1-A tags are short.
const MAX_TAG: usize = 4096;
/// Bytes the probe reads past an XML declaration and comments looking for the root.
const PROBE_LIMIT: usize = 1024;

/// The `DEV` elements read, the attribute each becomes and its source.
const DEVICE_FIELDS: [(&[u8], &str, &str); 7] = [
    (b"DEV.vendor_id", "vendor", "poct1a.dev.vendor_id"),
    (b"DEV.manufacturer_name", "manufacturer", "poct1a.dev.manufacturer_name"),
    (b"DEV.model_id", "model", "poct1a.dev.model_id"),
    (b"DEV.serial_id", "serial", "poct1a.dev.serial_id"),
    (b"DEV.device_id", "device_id", "poct1a.dev.device_id"),
    (b"DEV.sw_version", "software_version", "poct1a.dev.sw_version"),
    (b"DEV.hw_version", "revision", "poct1a.dev.hw_version"),
];

impl Dissector for Poct1aDissector {
    fn name(&self) -> &'static str {
        "poct1a"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    /// An optional byte order mark, XML declaration and comments, then a root element that
    /// is a POCT1-A message type (`<HEL.R01>`).
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        let mut rest = data.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(data);
        loop {
            rest = rest.trim_ascii_start();
            if data.len() - rest.len() > PROBE_LIMIT {
                return Probe::NoMatch;
            }
            let skip = if rest.starts_with(b"<?") {
                memmem::find(rest, b"?>").map(|i| i + 2)
            } else if rest.starts_with(b"<!--") {
                memmem::find(rest, b"-->").map(|i| i + 3)
            } else {
                break;
            };
            match skip {
                Some(n) => rest = &rest[n..],
                None if data.len() < PROBE_LIMIT => return Probe::NeedMore,
                None => return Probe::NoMatch,
            }
        }
        // `<` + `XXX.Rnn` + a delimiter.
        let shape: [fn(u8) -> bool; 9] = [
            |b| b == b'<',
            |b| b.is_ascii_uppercase(),
            |b| b.is_ascii_uppercase(),
            |b| b.is_ascii_uppercase(),
            |b| b == b'.',
            |b| b == b'R',
            |b| b.is_ascii_digit(),
            |b| b.is_ascii_digit(),
            |b| b == b'>' || b == b'/' || b.is_ascii_whitespace(),
        ];
        for (i, ok) in shape.iter().enumerate() {
            match rest.get(i) {
                Some(b) if ok(*b) => {}
                Some(_) => return Probe::NoMatch,
                None => return Probe::NeedMore,
            }
        }
        if parser::message_type(&rest[1..8]).is_some() { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(PoctSession::default())
    }
}

/// Where a direction's scan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum State {
    /// Outside markup: text, or between documents.
    #[default]
    Text,
    /// Inside `<!-- ... -->`.
    Comment,
    /// Inside `<![CDATA[ ... ]]>`.
    Cdata,
}

#[derive(Default)]
struct PoctSession {
    states: [State; 2],
    messages: u64,
    /// Patient data was seen (and reported) on this flow.
    phi: bool,
    /// Roles were reported.
    roles: bool,
    repeats: Repeats,
}

/// The sender and the receiver of bytes going `dir`.
fn ends(ctx: &FlowContext, dir: Direction) -> (DeviceKey, DeviceKey) {
    let (i, r) = (DeviceKey::Ip(ctx.initiator.ip), DeviceKey::Ip(ctx.responder.ip));
    match dir {
        Direction::ToResponder => (i, r),
        Direction::ToInitiator => (r, i),
    }
}

impl PoctSession {
    fn patient_data(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if !self.phi {
            self.phi = true;
            let (a, b) = ends(ctx, Direction::ToResponder);
            out.emit(cleartext(ctx.ts, a, "poct1a", true, "poct1a.obs"));
            out.emit(cleartext(ctx.ts, b, "poct1a", true, "poct1a.obs"));
        }
    }

    /// One tag's inside (between `<` and `>`).
    fn tag(&mut self, ctx: &FlowContext, dir: Direction, tag: &[u8], out: &mut Emitter<'_>) {
        // Declarations, processing instructions and end tags say nothing.
        if matches!(tag.first(), Some(b'?' | b'!' | b'/') | None) {
            return;
        }
        let name = parser::tag_name(tag);
        if let Some(t) = parser::message_type(name) {
            self.messages += 1;
            match &t {
                b"OBS" => self.patient_data(ctx, out),
                // Only the device says hello, reports its status or sends results.
                b"HEL" | b"DST" if !self.roles => {
                    self.roles = true;
                    let (device, manager) = ends(ctx, dir);
                    self.repeats.attribute(out, ctx.ts, device, "role", "POCT1-A device", "poct1a.hel", 80);
                    self.repeats.attribute(
                        out,
                        ctx.ts,
                        manager,
                        "role",
                        "POCT1-A data manager",
                        "poct1a.hel",
                        70,
                    );
                }
                _ => {}
            }
            return;
        }
        if name == b"PT" || name.starts_with(b"PT.") {
            self.patient_data(ctx, out);
            return;
        }
        if !name.starts_with(b"DEV.") {
            return;
        }
        let Some(&(_, key, source)) = DEVICE_FIELDS.iter().find(|(n, _, _)| *n == name) else { return };
        let Some(v) = parser::attribute(tag, b"V") else { return };
        let (device, _) = ends(ctx, dir);
        self.repeats.attribute(out, ctx.ts, device, key, &parser::unescape(v), source, 80);
    }
}

impl Session for PoctSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let mut pos = 0;
        loop {
            let rest = &data[pos..];
            match self.states[d] {
                State::Text => {
                    let Some(i) = memchr2(b'<', 0, rest) else { return Parsed::Consumed(data.len()) };
                    if rest[i] == 0 {
                        return Parsed::Malformed("poct1a NUL byte in XML");
                    }
                    pos += i;
                    let rest = &rest[i..];
                    for (open, state) in [(b"<!--".as_slice(), State::Comment), (b"<![CDATA[", State::Cdata)]
                    {
                        if rest.starts_with(open) {
                            self.states[d] = state;
                            pos += open.len();
                            break;
                        }
                        if open.starts_with(rest) {
                            // Could still open a comment or CDATA section.
                            return Parsed::Consumed(pos);
                        }
                    }
                    if self.states[d] != State::Text {
                        continue;
                    }
                    let window = &rest[..rest.len().min(MAX_TAG + 1)];
                    let Some(e) = memchr(b'>', window) else {
                        if rest.len() > MAX_TAG {
                            return Parsed::Malformed("poct1a tag too long");
                        }
                        return Parsed::Consumed(pos);
                    };
                    let tag = &rest[1..e];
                    if memchr(0, tag).is_some() {
                        return Parsed::Malformed("poct1a NUL byte in XML");
                    }
                    self.tag(ctx, dir, tag, out);
                    pos += e + 1;
                }
                State::Comment | State::Cdata => {
                    let close: &[u8] = if self.states[d] == State::Comment { b"-->" } else { b"]]>" };
                    match memmem::find(rest, close) {
                        Some(i) => {
                            pos += i + close.len();
                            self.states[d] = State::Text;
                        }
                        // Keep what could be the start of the closing sequence.
                        None => return Parsed::Consumed(data.len() - rest.len().min(close.len() - 1)),
                    }
                }
            }
        }
    }

    fn gap(&mut self, dir: Direction, _len: u64) -> bool {
        // The next `<` may be inside a lost comment, at worst a tag is misread as text.
        self.states[dir.index()] = State::Text;
        true
    }

    fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if self.messages > 0 && !self.phi {
            let (a, b) = ends(ctx, Direction::ToResponder);
            out.emit(cleartext(ctx.ts, a, "poct1a", false, "poct1a.messages"));
            out.emit(cleartext(ctx.ts, b, "poct1a", false, "poct1a.messages"));
        }
    }
}
