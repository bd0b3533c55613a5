//! HL7 v2 messages over MLLP (a start block 0x0B, the message, an end block 0x1C 0x0D; any
//! number of messages per connection, split anywhere across segments).
//!
//! From each message header (MSH) the sender's application and facility, the intended
//! receiver's (with less confidence), the message type and trigger, the version and the
//! message profile; from acknowledgements (MSA) the rejections; device identity from the few
//! fields made for it: OBX-18 (equipment instance identifier), PRT-10/16/20/22 (participating
//! device, UDI, serial, type) and the v2.9 DEV segment. Every other field is skipped unread:
//! segments that carry patient data (PID, PV1, OBX values, ...) only make the flow a
//! `Cleartext { protocol: hl7, phi: true }`.
//!
//! The stream is scanned, not buffered: the parser looks at the three bytes after each segment
//! break and reads fields only in MSH, MSA, OBX, PRT and DEV; a message of any size passes
//! through without being held whole.

mod parser;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::hash::BuildHasher;

use memchr::memchr;
use ward_core::{DeviceKey, Direction};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, cleartext};
use parser::{AckCode, END, Kind, START, Separators};

/// The HL7 v2 (MLLP) dissector.
pub struct Hl7Dissector;

/// Longest header segment waited for whole; a longer one breaks the framing.
const MAX_HEADER: usize = 4096;
/// Longest MSA, OBX, PRT or DEV segment waited for whole; a longer one (an OBX carrying an
/// encapsulated document) is skipped unread.
const MAX_SEGMENT: usize = 16 << 10;
/// Distinct equipment identifiers reported per flow: a gateway relaying for a ward of
/// monitors would otherwise spend the flow's observations on them.
const MAX_DEVICE_IDS: usize = 16;
/// Messages per direction whose control id is remembered to name what a negative
/// acknowledgement refused.
const RECENT: usize = 32;
/// Distinct headers remembered per direction (a sender alternates a few message types).
const HEADERS: usize = 8;
/// Longest message type kept for that purpose ("ORU^R01" is 7).
const TYPE_LEN: usize = 24;

impl Dissector for Hl7Dissector {
    fn name(&self) -> &'static str {
        "hl7"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    /// A start block, then a header segment name and a delimiter as field separator and
    /// component separator: `\x0bMSH|^`.
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        const HEADS: [&[u8]; 3] = [b"MSH", b"FHS", b"BHS"];
        let want = 6;
        let head = &data[..data.len().min(want)];
        let Some((&first, name)) = head.split_first() else { return Probe::NeedMore };
        if first != START {
            return Probe::NoMatch;
        }
        let n = name.len().min(3);
        if !HEADS.iter().any(|h| h[..n] == name[..n]) {
            return Probe::NoMatch;
        }
        if data.len() < want {
            return Probe::NeedMore;
        }
        // The separators are checked as the session will read them.
        let end = data.len().min(64);
        if parser::separators(&data[1..end]).is_ok() { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(Hl7Session::default())
    }
}

/// Where a direction's scan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum State {
    /// Between messages: looking for a start block.
    #[default]
    Between,
    /// After a start block: the header segment is awaited whole.
    Header,
    /// At the first byte of a segment inside a message.
    SegmentStart,
    /// Inside a segment that is skipped to its end.
    Skip,
}

/// A message type as sent ("ORU^R01"), kept inline.
#[derive(Clone, Copy, Debug)]
struct TypeBuf {
    buf: [u8; TYPE_LEN],
    len: u8,
}

impl TypeBuf {
    fn new(code: &[u8], trigger: &[u8]) -> TypeBuf {
        let mut t = TypeBuf { buf: [0; TYPE_LEN], len: 0 };
        t.push(code);
        if !trigger.is_empty() {
            t.push(b"^");
            t.push(trigger);
        }
        t
    }
    fn push(&mut self, b: &[u8]) {
        let at = usize::from(self.len);
        let n = b.len().min(TYPE_LEN - at);
        self.buf[at..at + n].copy_from_slice(&b[..n]);
        self.len += n as u8;
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

/// One direction's scan.
#[derive(Default)]
struct Side {
    state: State,
    seps: Separators,
    /// Hashes of the reported fields of the last few distinct headers: a sender repeating
    /// its headers costs one hash per message, not one per attribute.
    headers: [u64; HEADERS],
    next_header: usize,
    /// The last equipment identifier seen, raw, so that forty OBX rows naming the same
    /// monitor are compared, not hashed.
    last_device_id: Vec<u8>,
    /// (hash of MSH-10 control id, message type) of the messages this side sent lately.
    recent: VecDeque<(u64, TypeBuf)>,
}

#[derive(Default)]
struct Hl7Session {
    sides: [Side; 2],
    messages: u64,
    /// Patient segments were seen (and reported) on this flow.
    phi: bool,
    device_ids: usize,
    repeats: Repeats,
}

fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

fn hash(b: &[&[u8]]) -> u64 {
    foldhash::fast::FixedState::default().hash_one(b)
}

/// An entity identifier (EI: entity id ^ namespace id ^ universal id ^ universal id type) in
/// the standard's notation, whatever separator the message used, without trailing empty
/// components.
fn ei_text(value: &[u8], seps: &Separators) -> String {
    let parts: Vec<&[u8]> = value.split(|b| *b == seps.component).take(4).collect();
    let used = parts.iter().rposition(|p| !p.is_empty()).map_or(0, |i| i + 1);
    let mut out = String::new();
    for (i, p) in parts[..used].iter().enumerate() {
        if i > 0 {
            out.push('^');
        }
        out.push_str(&text(p));
    }
    out
}

/// The sender and the receiver of bytes going `dir`.
fn ends(ctx: &FlowContext, dir: Direction) -> (DeviceKey, DeviceKey) {
    let (i, r) = (DeviceKey::Ip(ctx.initiator.ip), DeviceKey::Ip(ctx.responder.ip));
    match dir {
        Direction::ToResponder => (i, r),
        Direction::ToInitiator => (r, i),
    }
}

impl Hl7Session {
    /// Patient data went by: reported once per flow, for both ends.
    fn patient_data(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if !self.phi {
            self.phi = true;
            let (a, b) = ends(ctx, Direction::ToResponder);
            out.emit(cleartext(ctx.ts, a, "hl7", true, "hl7.segments"));
            out.emit(cleartext(ctx.ts, b, "hl7", true, "hl7.segments"));
        }
    }

    /// A message header (MSH).
    fn header(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        seg: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        let seps = parser::separators(seg)?;
        let h = parser::header(seg, &seps);
        self.messages += 1;
        let side = &mut self.sides[dir.index()];
        side.seps = seps;
        let cs = seps.component;
        let code = parser::part(h.message_type, cs, 0);
        let ty = TypeBuf::new(code, parser::part(h.message_type, cs, 1));
        if side.recent.len() == RECENT {
            side.recent.pop_front();
        }
        side.recent.push_back((hash(&[h.control_id]), ty));

        let key = hash(&[
            h.sending_application,
            h.sending_facility,
            h.receiving_application,
            h.receiving_facility,
            h.message_type,
            h.version,
            h.profile,
            &[cs, seps.repetition],
        ]);
        if side.headers.contains(&key) {
            return Ok(());
        }
        side.headers[side.next_header % HEADERS] = key;
        side.next_header = side.next_header.wrapping_add(1);

        let (sender, receiver) = ends(ctx, dir);
        let ts = ctx.ts;
        let r = &mut self.repeats;
        let role = if code == b"ACK" { "HL7 receiver" } else { "HL7 sender" };
        r.attribute(out, ts, sender, "role", role, "hl7.msh9", 80);
        let hd = |f| text(parser::hd_name(f, &seps));
        r.attribute(out, ts, sender, "hl7_application", &hd(h.sending_application), "hl7.msh3", 80);
        r.attribute(out, ts, sender, "hl7_facility", &hd(h.sending_facility), "hl7.msh4", 80);
        // What a sender says of its peer is remembered apart from what the peer says of
        // itself, so that the peer's own, surer word is not taken for a repeat.
        for (key, named, value, source) in [
            ("hl7_application", "hl7_application named", hd(h.receiving_application), "hl7.msh5"),
            ("hl7_facility", "hl7_facility named", hd(h.receiving_facility), "hl7.msh6"),
        ] {
            if r.first(&receiver, named, &value)
                && let Some(o) = crate::attribute(ts, receiver, key, &value, source, 50)
            {
                out.emit(o);
            }
        }
        r.attribute(out, ts, sender, "hl7_message", &text(ty.bytes()), "hl7.msh9", 80);
        r.attribute(out, ts, sender, "hl7_version", &text(parser::part(h.version, cs, 0)), "hl7.msh12", 80);
        for rep in h.profile.split(|b| *b == seps.repetition).take(4) {
            r.attribute(out, ts, sender, "hl7_profile", &text(parser::part(rep, cs, 0)), "hl7.msh21", 80);
        }
        Ok(())
    }

    /// An acknowledgement (MSA): a refused message is reported on the device that sent it,
    /// as `hl7_rejected` = "<code> <message type>" (the type found by MSA-2, the control id
    /// the acknowledgement answers).
    fn ack(&mut self, ctx: &FlowContext, dir: Direction, seg: &[u8], out: &mut Emitter<'_>) {
        let fs = self.sides[dir.index()].seps.field;
        let Some((code, name)) = AckCode::parse(parser::field(seg, fs, 1).trim_ascii()) else { return };
        if code == AckCode::Accept {
            return;
        }
        let id = hash(&[parser::field(seg, fs, 2)]);
        let answered = &self.sides[dir.reverse().index()].recent;
        let ty = answered.iter().rev().find(|(h, _)| *h == id).map(|(_, t)| *t);
        let value = match ty {
            Some(t) if t.len > 0 => format!("{name} {}", text(t.bytes())),
            _ => name.to_owned(),
        };
        let (_, refused) = ends(ctx, dir);
        self.repeats.attribute(out, ctx.ts, refused, "hl7_rejected", &value, "hl7.msa1", 80);
    }

    /// OBX-18, the equipment instance identifier of an observation row.
    fn observation(&mut self, ctx: &FlowContext, dir: Direction, seg: &[u8], out: &mut Emitter<'_>) {
        let side = &mut self.sides[dir.index()];
        let seps = side.seps;
        let id = parser::first_repetition(parser::field(seg, seps.field, 18), seps.repetition);
        if id.is_empty() || id == side.last_device_id.as_slice() || self.device_ids >= MAX_DEVICE_IDS {
            return;
        }
        side.last_device_id.clear();
        side.last_device_id.extend_from_slice(id);
        let value = ei_text(id, &seps);
        let (sender, _) = ends(ctx, dir);
        if self.repeats.first(&sender, "device_id", &value)
            && let Some(o) = crate::attribute(ctx.ts, sender, "device_id", &value, "hl7.obx18", 70)
        {
            self.device_ids += 1;
            out.emit(o);
        }
    }

    /// PRT (v2.7+): a participating device's identifier (PRT-10, which carries the UDI when
    /// one is sent), UDI device identifier (PRT-16), serial number (PRT-20) and type (PRT-22).
    /// PRT-5 and the other fields that may name a person are not read.
    fn participation(&mut self, ctx: &FlowContext, dir: Direction, seg: &[u8], out: &mut Emitter<'_>) {
        let seps = self.sides[dir.index()].seps;
        let (sender, _) = ends(ctx, dir);
        let (fs, cs, rs) = (seps.field, seps.component, seps.repetition);
        let first = |n| parser::first_repetition(parser::field(seg, fs, n), rs);
        let r = &mut self.repeats;
        r.attribute(out, ctx.ts, sender, "udi", &text(parser::part(first(10), cs, 0)), "hl7.prt10", 70);
        r.attribute(out, ctx.ts, sender, "udi", &text(parser::part(first(16), cs, 0)), "hl7.prt16", 70);
        r.attribute(out, ctx.ts, sender, "serial", &text(first(20)), "hl7.prt20", 70);
        // CWE: the text (component 2) reads better than the code.
        let ty = first(22);
        let name = parser::part(ty, cs, 1);
        let name = if name.is_empty() { parser::part(ty, cs, 0) } else { name };
        r.attribute(out, ctx.ts, sender, "device_type", &text(name), "hl7.prt22", 60);
    }

    /// DEV (v2.9): manufacturer (DEV-5, XON organisation name), model (DEV-7), UDI device
    /// identifier (DEV-9), serial (DEV-11) and software version (DEV-16).
    fn device(&mut self, ctx: &FlowContext, dir: Direction, seg: &[u8], out: &mut Emitter<'_>) {
        let seps = self.sides[dir.index()].seps;
        let (sender, _) = ends(ctx, dir);
        let (fs, cs, rs) = (seps.field, seps.component, seps.repetition);
        let first = |n| parser::first_repetition(parser::field(seg, fs, n), rs);
        let r = &mut self.repeats;
        r.attribute(
            out,
            ctx.ts,
            sender,
            "manufacturer",
            &text(parser::part(first(5), cs, 0)),
            "hl7.dev5",
            70,
        );
        r.attribute(out, ctx.ts, sender, "model", &text(first(7)), "hl7.dev7", 70);
        r.attribute(out, ctx.ts, sender, "udi", &text(parser::part(first(9), cs, 0)), "hl7.dev9", 70);
        r.attribute(out, ctx.ts, sender, "serial", &text(first(11)), "hl7.dev11", 70);
        r.attribute(out, ctx.ts, sender, "software_version", &text(first(16)), "hl7.dev16", 70);
    }

    /// Reads one whole segment whose fields matter.
    fn segment(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        kind: Kind,
        seg: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        match kind {
            Kind::Header => self.header(ctx, dir, seg, out)?,
            Kind::BatchHeader => self.sides[dir.index()].seps = parser::separators(seg)?,
            Kind::Ack => self.ack(ctx, dir, seg, out),
            Kind::Observation => {
                self.patient_data(ctx, out);
                self.observation(ctx, dir, seg, out);
            }
            Kind::Participation => self.participation(ctx, dir, seg, out),
            Kind::Device => self.device(ctx, dir, seg, out),
            Kind::Patient | Kind::Other => {}
        }
        Ok(())
    }
}

impl Session for Hl7Session {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let mut pos = 0;
        // Each turn moves `pos` forward or returns.
        loop {
            let rest = &data[pos..];
            // Where the segment being read ends, relative to `rest`.
            let end = match self.sides[d].state {
                State::Between => match memchr(START, rest) {
                    Some(i) => {
                        pos += i + 1;
                        self.sides[d].state = State::Header;
                        continue;
                    }
                    None => return Parsed::Consumed(data.len()),
                },
                State::Header => {
                    let window = &rest[..rest.len().min(MAX_HEADER + 1)];
                    let Some(e) = parser::segment_end(window) else {
                        if rest.len() > MAX_HEADER {
                            return Parsed::Malformed("hl7 header segment too long");
                        }
                        return Parsed::Consumed(pos);
                    };
                    let seg = &rest[..e];
                    match seg.get(..3).map(|n| parser::kind([n[0], n[1], n[2]])) {
                        Some(k @ (Kind::Header | Kind::BatchHeader)) => {
                            if let Err(e) = self.segment(ctx, dir, k, seg, out) {
                                return Parsed::Malformed(e);
                            }
                        }
                        // Line breaks before the header are tolerated; an empty frame ends.
                        None if seg.is_empty() => {
                            if rest[e] == END {
                                self.sides[d].state = State::Between;
                            }
                            pos += e + 1;
                            continue;
                        }
                        _ => return Parsed::Malformed("hl7 message does not start with MSH"),
                    }
                    e
                }
                State::SegmentStart => {
                    let Some(&first) = rest.first() else { return Parsed::Consumed(pos) };
                    if first == b'\r' || first == b'\n' || first == END {
                        0
                    } else if let Some(e) = parser::segment_end(&rest[..rest.len().min(4)]) {
                        // A segment shorter than a name: nothing to read.
                        e
                    } else if rest.len() < 4 {
                        return Parsed::Consumed(pos);
                    } else {
                        let fs = self.sides[d].seps.field;
                        let kind = if rest[3] == fs {
                            parser::kind([rest[0], rest[1], rest[2]])
                        } else {
                            Kind::Other
                        };
                        match kind {
                            Kind::Other | Kind::Patient => {
                                if kind == Kind::Patient {
                                    self.patient_data(ctx, out);
                                }
                                self.sides[d].state = State::Skip;
                                pos += 3;
                                continue;
                            }
                            _ => {}
                        }
                        let window = &rest[..rest.len().min(MAX_SEGMENT + 1)];
                        match parser::segment_end(window) {
                            Some(e) => {
                                if let Err(e) = self.segment(ctx, dir, kind, &rest[..e], out) {
                                    return Parsed::Malformed(e);
                                }
                                e
                            }
                            None if rest.len() > MAX_SEGMENT => {
                                // Too long to wait for: skipped unread, what it is still counts.
                                if kind == Kind::Observation {
                                    self.patient_data(ctx, out);
                                }
                                self.sides[d].state = State::Skip;
                                pos += 3;
                                continue;
                            }
                            None => return Parsed::Consumed(pos),
                        }
                    }
                }
                State::Skip => match parser::segment_end(rest) {
                    Some(e) => e,
                    None => return Parsed::Consumed(data.len()),
                },
            };
            // `rest[end]` is a segment break or the end block.
            let Some(&b) = rest.get(end) else { return Parsed::Consumed(data.len()) };
            self.sides[d].state = if b == END { State::Between } else { State::SegmentStart };
            pos += end + 1;
        }
    }

    fn gap(&mut self, dir: Direction, _len: u64) -> bool {
        // The next start block begins a whole message again.
        self.sides[dir.index()].state = State::Between;
        true
    }

    fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if self.messages > 0 && !self.phi {
            let (a, b) = ends(ctx, Direction::ToResponder);
            out.emit(cleartext(ctx.ts, a, "hl7", false, "hl7.segments"));
            out.emit(cleartext(ctx.ts, b, "hl7", false, "hl7.segments"));
        }
    }
}
