//! DICOM associations (PS3.8 upper layer, PS3.7 DIMSE, PS3.5 encoding): who talks to whom
//! (AE titles), with what stack, for which services, with what outcome, and what equipment
//! the stored instances say they come from. No patient attribute is ever read.
//!
//! # What is read
//! - A-ASSOCIATE-RQ: the calling AE title (the initiator's `ae_title`, `dicom.calling_ae`),
//!   the called one (kept, reported on the responder once it accepts: `dicom.called_ae`),
//!   the proposed presentation contexts, and the user information: implementation class UID
//!   and version name (`stack`, `dicom_implementation_uid`, `dicom_implementation_version`),
//!   SCP/SCU role selection, and user identity (a user name and passcode in cleartext
//!   become a `Credential` observation; neither is kept).
//! - A-ASSOCIATE-AC: which contexts were accepted with which transfer syntax; the responder's
//!   stack; whether the user identity was accepted (a server response sub-item).
//! - A-ASSOCIATE-RJ and A-ABORT: as `dicom_status` on the side that sent them.
//! - P-DATA-TF is streamed: PDV headers and payload pieces are consumed as they come, with
//!   state across parse calls, so no P-DATA PDU is ever held whole. Command sets (small,
//!   held up to 4 KiB) give the DIMSE command, SOP class and status. The operations a
//!   device requests become `dicom_command` ("C-STORE", "C-FIND", "C-MOVE", ...) on the
//!   requester; a response with a failure or warning status becomes `dicom_status`, e.g.
//!   "C-STORE failure 0xA700 (out of resources)", on the device that answered so.
//! - Data sets are walked element by element in the context's transfer syntax (implicit VR
//!   LE, explicit VR LE, including all encapsulated syntaxes, and explicit VR BE; deflated and
//!   unknown syntaxes are skipped whole). Every value is skipped by its length; only
//!   Modality, Manufacturer, Station Name, Institutional Department Name, Manufacturer's Model
//!   Name, Device Serial Number and Software Versions are read, only at the top level of a
//!   C-STORE-RQ data set sent by the initiator (the equipment that made the instances is the
//!   one pushing them; a PACS answering a C-GET sends other devices' instances), and past
//!   (0018,1020) the rest of the data set, pixel data included, is skipped unread.
//!   Patient elements (group 0010) are never read: that one carries a value is noted, and
//!   both ends get one `Cleartext { phi: true }` per flow; a DICOM flow without any gets
//!   `phi: false` at the association's end.
//!
//! # Services and roles
//! `dicom_service` names the accepted presentation contexts: "CT Image Storage SCU" on the
//! initiator, "CT Image Storage SCP" on the responder (reversed or doubled where SCP/SCU role
//! selection was agreed, as C-GET does for storage), at most [`MAX_SERVICES`] per flow.
//! Proposals alone are not reported: storescu proposes a hundred classes. A service a DIMSE
//! request uses is reported whatever the cap (`dicom.dimse`): its requester is the SCU.
//!
//! `role` comes from what the association does:
//! - an initiator sending C-STORE-RQ of a storage class is the modality the class implies
//!   ("CT modality", "MR modality", "Ultrasound modality", ...);
//! - a responder answering C-STORE-RQ is a "DICOM storage SCP", and a "PACS" when it accepts
//!   storage contexts of at least [`PACS_MODALITIES`] acquisition modalities in one
//!   association, or answers Query/Retrieve C-FIND, C-MOVE or C-GET (its initiator is then a
//!   "DICOM query/retrieve SCU");
//! - the responder of Modality Worklist C-FIND is a "DICOM worklist SCP" (a RIS), its
//!   initiator a "DICOM worklist SCU";
//! - the responder of print management is a "DICOM printer";
//! - an association that only echoes (C-ECHO) makes the initiator a "DICOM client" and the
//!   responder a "DICOM SCP", said when the association ends.

mod parser;
#[cfg(test)]
mod tests;
mod uids;

/// Confidence of a role that says what the device is (a modality, a PACS, a printer).
const ROLE_SPECIFIC: u8 = 90;
/// Confidence of a role that says which service it used or offered.
const ROLE_SERVICE: u8 = 75;
/// Confidence of the roles an echo alone implies: any DICOM node echoes, so a more telling
/// role from another association wins in the device's description.
const ROLE_GENERIC: u8 = 40;

use ward_core::{DeviceKey, Direction, ObservationKind};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, credentials};
use parser::{Identity, Syntax, Walker};
use uids::{Encoding, Kind};

/// The DICOM dissector.
pub struct DicomDissector;

/// Accepted presentation contexts reported as services, per flow.
pub const MAX_SERVICES: usize = 32;
/// Acquisition modalities whose storage a responder must accept to be called a PACS.
pub const PACS_MODALITIES: u32 = 3;
/// Longest command set held while its fragments arrive.
const MAX_COMMAND: usize = 4096;
/// Presentation contexts remembered (ids are odd numbers 1 to 255).
const MAX_CONTEXTS: usize = 128;

impl Dissector for DicomDissector {
    fn name(&self) -> &'static str {
        "dicom"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        probe(dir, data)
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(DicomSession::default())
    }
}

/// An A-ASSOCIATE-RQ toward the responder; an A-ASSOCIATE-AC or -RJ toward the initiator.
/// Checks the PDU type and reserved byte, the length against the cap, the protocol version,
/// that both AE titles are printable, and that the first item is the application context.
fn probe(dir: Direction, data: &[u8]) -> Probe {
    let Some(&kind) = data.first() else { return Probe::NeedMore };
    let associate = match (dir, kind) {
        (Direction::ToResponder, parser::ASSOCIATE_RQ) | (Direction::ToInitiator, parser::ASSOCIATE_AC) => {
            true
        }
        (Direction::ToInitiator, parser::ASSOCIATE_RJ) => false,
        _ => return Probe::NoMatch,
    };
    if data.get(1).is_some_and(|b| *b != 0) {
        return Probe::NoMatch;
    }
    let Some((_, len)) = parser::pdu_header(data) else { return Probe::NeedMore };
    if !associate {
        if len != 4 {
            return Probe::NoMatch;
        }
        return match data.get(6..10) {
            Some([_, result, source, _]) if (1..=2).contains(result) && (1..=3).contains(source) => {
                Probe::Match
            }
            Some(_) => Probe::NoMatch,
            None => Probe::NeedMore,
        };
    }
    if !(68 + 4..=parser::MAX_ASSOCIATE_PDU).contains(&len) {
        return Probe::NoMatch;
    }
    // Version, reserved, two AE titles, 32 reserved bytes, then the first item's type.
    let have = &data[6..];
    if have.len() >= 2 && have[1] & 1 == 0 {
        return Probe::NoMatch;
    }
    let titles = have.get(4..36.min(have.len())).unwrap_or_default();
    if !titles.iter().all(|b| (0x20..0x7f).contains(b) || *b == 0) {
        return Probe::NoMatch;
    }
    match have.get(68..70) {
        Some([0x10, 0]) => Probe::Match,
        Some(_) => Probe::NoMatch,
        None => Probe::NeedMore,
    }
}

/// A presentation context as negotiated.
#[derive(Clone, Copy)]
struct Context {
    id: u8,
    /// The abstract syntax, when the table names it.
    sop: Option<u16>,
    /// Accepted, with this data set encoding (`None`: unreadable).
    accepted: Option<Option<Syntax>>,
}

/// One direction's stream state.
struct Side {
    /// Bytes of the current P-DATA-TF PDU still to come.
    pdata_left: u32,
    /// The rest of the current PDU is skipped (a gap broke its PDVs).
    skip_pdu: bool,
    /// Bytes of the current PDV's payload still to come.
    pdv_left: u32,
    pdv_command: bool,
    pdv_last: bool,
    pdv_context: u8,
    /// The command set being assembled, and whether it outgrew [`MAX_COMMAND`] or broke.
    cmd: Vec<u8>,
    cmd_broken: bool,
    /// A data set is open (its walker started).
    in_dataset: bool,
    /// The last command announced a C-STORE data set.
    store_follows: bool,
    walker: Walker,
    /// Bytes left unconsumed at the last parse (the flow drops them at a gap).
    pending: usize,
}

impl Default for Side {
    fn default() -> Side {
        Side {
            pdata_left: 0,
            skip_pdu: false,
            pdv_left: 0,
            pdv_command: false,
            pdv_last: false,
            pdv_context: 0,
            cmd: Vec::new(),
            cmd_broken: false,
            in_dataset: false,
            store_follows: false,
            walker: Walker::new(),
            pending: 0,
        }
    }
}

impl Side {
    /// The message being received is lost (a gap): drop what was gathered of it.
    fn lose_message(&mut self) {
        self.cmd.clear();
        self.cmd_broken = true;
        self.walker.stop();
    }
}

#[derive(Default)]
struct DicomSession {
    sides: [Side; 2],
    contexts: Vec<Context>,
    /// The called AE title of the request, reported on the responder when it accepts.
    called: Option<String>,
    /// The user identity judged from the request, waiting for the answer.
    login: Option<ward_core::Observation>,
    /// An A-ASSOCIATE-RQ was read.
    associated: bool,
    /// The association ended (release, abort or reject): final words were said.
    finished: bool,
    services: usize,
    /// Acquisition modalities whose storage the responder accepted.
    accepted_modalities: u32,
    echoed: bool,
    other_dimse: bool,
    /// The last request's (command field, SOP class), to name responses that omit theirs.
    last_request: Option<(u16, Option<u16>)>,
    phi: bool,
    repeats: Repeats,
}

fn device(ctx: &FlowContext, initiator: bool) -> DeviceKey {
    DeviceKey::Ip(if initiator { ctx.initiator.ip } else { ctx.responder.ip })
}

impl Session for DicomSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let mut pos = 0usize;
        let r = loop {
            let rest = data.get(pos..).unwrap_or_default();
            let side = &mut self.sides[d];
            if side.pdata_left > 0 {
                if side.skip_pdu {
                    let n = rest.len().min(side.pdata_left as usize);
                    if n == 0 {
                        break None;
                    }
                    side.pdata_left -= n as u32;
                    side.skip_pdu = side.pdata_left > 0;
                    pos += n;
                    continue;
                }
                if side.pdv_left == 0 {
                    // A PDV header: length (4), presentation context id, message control header.
                    if side.pdata_left < 6 {
                        break Some(Parsed::Malformed("dicom pdv header beyond its pdu"));
                    }
                    let Some(h) = rest.get(..6) else { break None };
                    let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                    if len < 2 || len > side.pdata_left - 4 {
                        break Some(Parsed::Malformed("dicom pdv length"));
                    }
                    side.pdata_left -= 6;
                    side.pdv_left = len - 2;
                    side.pdv_context = h[4];
                    side.pdv_command = h[5] & 1 != 0;
                    side.pdv_last = h[5] & 2 != 0;
                    pos += 6;
                    self.pdv_start(dir);
                    if self.sides[d].pdv_left == 0
                        && let Some(p) = self.pdv_end(ctx, dir, out)
                    {
                        break Some(p);
                    }
                    continue;
                }
                let n = rest.len().min(side.pdv_left as usize);
                if n == 0 {
                    break None;
                }
                self.pdv_piece(ctx, dir, &rest[..n], out);
                let side = &mut self.sides[d];
                side.pdv_left -= n as u32;
                side.pdata_left -= n as u32;
                pos += n;
                if side.pdv_left == 0
                    && let Some(p) = self.pdv_end(ctx, dir, out)
                {
                    break Some(p);
                }
                continue;
            }
            let Some((kind, len)) = parser::pdu_header(rest) else { break None };
            if kind == parser::P_DATA_TF {
                if !(6..=parser::MAX_PDATA_PDU).contains(&len) {
                    break Some(Parsed::Malformed("dicom p-data pdu length"));
                }
                side.pdata_left = len;
                pos += 6;
                continue;
            }
            let cap = match kind {
                parser::ASSOCIATE_RQ | parser::ASSOCIATE_AC => parser::MAX_ASSOCIATE_PDU,
                parser::ASSOCIATE_RJ | parser::RELEASE_RQ | parser::RELEASE_RP | parser::ABORT => 4,
                _ => break Some(Parsed::Malformed("dicom pdu type")),
            };
            if len > cap {
                break Some(Parsed::Malformed("dicom pdu length"));
            }
            let Some(body) = rest.get(6..6 + len as usize) else { break None };
            pos += 6 + len as usize;
            if let Some(p) = self.pdu(ctx, dir, kind, body, out) {
                break Some(p);
            }
        };
        match r {
            Some(p) => p,
            None => {
                self.sides[d].pending = data.len() - pos;
                Parsed::Consumed(pos)
            }
        }
    }

    fn gap(&mut self, dir: Direction, len: u64) -> bool {
        let side = &mut self.sides[dir.index()];
        // The flow drops what was left unconsumed too: it is lost with the gap.
        let lost = len.saturating_add(side.pending as u64);
        side.pending = 0;
        // Only within a P-DATA PDU is the framing known past the hole.
        if u64::from(side.pdata_left) < lost {
            return false;
        }
        side.lose_message();
        side.pdata_left -= lost as u32;
        if u64::from(side.pdv_left) >= lost {
            side.pdv_left -= lost as u32;
        } else {
            side.pdv_left = 0;
            side.skip_pdu = side.pdata_left > 0;
        }
        true
    }

    fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        self.finish(ctx, out);
    }
}

impl DicomSession {
    #[allow(clippy::too_many_arguments)]
    fn attr(
        &mut self,
        out: &mut Emitter<'_>,
        ctx: &FlowContext,
        initiator: bool,
        key: &'static str,
        value: &str,
        source: &'static str,
        confidence: u8,
    ) {
        self.repeats.attribute(out, ctx.ts, device(ctx, initiator), key, value, source, confidence);
    }

    /// A whole non-P-DATA PDU. Returns what the parse call answers, if it ends here.
    fn pdu(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        kind: u8,
        body: &[u8],
        out: &mut Emitter<'_>,
    ) -> Option<Parsed> {
        let from_initiator = dir == Direction::ToResponder;
        match kind {
            parser::ASSOCIATE_RQ if from_initiator => {
                if let Err(e) = self.request(ctx, body, out) {
                    return Some(Parsed::Malformed(e));
                }
            }
            parser::ASSOCIATE_AC if !from_initiator => {
                if let Err(e) = self.accept(ctx, body, out) {
                    return Some(Parsed::Malformed(e));
                }
            }
            parser::ASSOCIATE_RJ if !from_initiator => {
                let (result, source, reason) = match body {
                    [_, r, s, why] => (*r, *s, *why),
                    _ => return Some(Parsed::Malformed("dicom a-associate-rj length")),
                };
                let text = format!(
                    "A-ASSOCIATE-RJ {}: {}",
                    if result == 1 { "permanent" } else { "transient" },
                    reject_reason(source, reason)
                );
                self.attr(out, ctx, false, "dicom_status", &text, "dicom.associate_rj", 90);
                if let Some(mut o) = self.login.take() {
                    if let ObservationKind::Credential { accepted, .. } = &mut o.kind {
                        *accepted = Some(false);
                    }
                    out.emit(o);
                }
                self.finish(ctx, out);
                return Some(Parsed::Done);
            }
            parser::RELEASE_RQ => {}
            parser::RELEASE_RP => {
                self.finish(ctx, out);
                return Some(Parsed::Done);
            }
            parser::ABORT => {
                let text = match body {
                    [_, _, 2, reason] => {
                        format!("A-ABORT by the service provider: {}", abort_reason(*reason))
                    }
                    _ => "A-ABORT".to_owned(),
                };
                self.attr(out, ctx, from_initiator, "dicom_status", &text, "dicom.abort", 80);
                self.finish(ctx, out);
                return Some(Parsed::Done);
            }
            _ => return Some(Parsed::Malformed("dicom pdu in the wrong direction")),
        }
        None
    }

    fn request(&mut self, ctx: &FlowContext, body: &[u8], out: &mut Emitter<'_>) -> Result<(), &'static str> {
        let rq = parser::associate(body)?;
        self.associated = true;
        let calling = String::from_utf8_lossy(parser::ae_title(rq.calling)).into_owned();
        self.attr(out, ctx, true, "ae_title", &calling, "dicom.calling_ae", 90);
        self.called = Some(String::from_utf8_lossy(parser::ae_title(rq.called)).into_owned());
        self.contexts.clear();
        let mut items = parser::Items::new(rq.items);
        for (kind, value) in items.by_ref() {
            match kind {
                0x20 => {
                    let Some(&id) = value.first() else { return Err("dicom presentation context") };
                    let mut sop = None;
                    let mut sub = parser::Items::new(value.get(4..).unwrap_or_default());
                    for (k, v) in sub.by_ref() {
                        if k == 0x30 {
                            sop = uids::sop_class(parser::trim(v)).map(|(i, _)| i);
                        }
                    }
                    if sub.bad {
                        return Err("dicom presentation context item");
                    }
                    if self.contexts.len() < MAX_CONTEXTS {
                        self.contexts.push(Context { id, sop, accepted: None });
                    }
                }
                0x50 => self.user_information(ctx, true, value, out)?,
                _ => {}
            }
        }
        if items.bad {
            return Err("dicom associate item");
        }
        Ok(())
    }

    fn accept(&mut self, ctx: &FlowContext, body: &[u8], out: &mut Emitter<'_>) -> Result<(), &'static str> {
        let ac = parser::associate(body)?;
        if let Some(called) = self.called.take() {
            self.attr(out, ctx, false, "ae_title", &called, "dicom.called_ae", 90);
        }
        // Role selection comes after the contexts (in the user information): gather first.
        let mut accepted: Vec<(u8, Option<&'static uids::TransferSyntax>)> = Vec::new();
        let mut roles: Vec<(Option<u16>, bool, bool)> = Vec::new();
        let mut items = parser::Items::new(ac.items);
        for (kind, value) in items.by_ref() {
            match kind {
                0x21 => {
                    let (Some(&id), Some(&result)) = (value.first(), value.get(2)) else {
                        return Err("dicom presentation context");
                    };
                    if result != 0 {
                        continue;
                    }
                    let mut sub = parser::Items::new(value.get(4..).unwrap_or_default());
                    let ts = sub
                        .by_ref()
                        .find(|(k, _)| *k == 0x40)
                        .and_then(|(_, v)| uids::transfer_syntax(parser::trim(v)));
                    accepted.push((id, ts));
                }
                0x50 => {
                    self.user_information(ctx, false, value, out)?;
                    for (k, v) in parser::Items::new(value) {
                        if k == 0x54
                            && let Some((uid, scu, scp)) = parser::role_selection(v)
                        {
                            roles.push((uids::sop_class(uid).map(|(i, _)| i), scu, scp));
                        }
                    }
                }
                _ => {}
            }
        }
        if items.bad {
            return Err("dicom associate item");
        }
        if let Some(o) = self.login.take() {
            out.emit(o);
        }
        for (id, ts) in accepted {
            let Some(i) = self.contexts.iter().position(|c| c.id == id) else { continue };
            let syntax = match ts.map(|t| t.encoding) {
                Some(Encoding::ImplicitLe) => Some(Syntax::ImplicitLe),
                Some(Encoding::ExplicitLe) => Some(Syntax::ExplicitLe),
                Some(Encoding::ExplicitBe) => Some(Syntax::ExplicitBe),
                Some(Encoding::Unreadable) | None => None,
            };
            self.contexts[i].accepted = Some(syntax);
            if let Some(t) = ts {
                self.attr(out, ctx, true, "dicom_transfer_syntax", t.name, "dicom.transfer_syntax", 80);
                self.attr(out, ctx, false, "dicom_transfer_syntax", t.name, "dicom.transfer_syntax", 80);
            }
            let Some(sop) = self.contexts[i].sop else { continue };
            let Some(class) = uids::SOP_CLASSES.get(usize::from(sop)) else { continue };
            if let Kind::Storage(Some(m)) = class.kind
                && m.acquires()
            {
                self.accepted_modalities |= m.bit();
            }
            // The requestor is SCU unless role selection agreed otherwise.
            let (scu, scp) =
                roles.iter().find(|r| r.0 == Some(sop)).map(|r| (r.1, r.2)).unwrap_or((true, false));
            for (initiator, role) in [(true, "SCU"), (true, "SCP"), (false, "SCU"), (false, "SCP")] {
                let plays = match (initiator, role) {
                    (true, "SCU") => scu,
                    (true, _) => scp,
                    (false, "SCU") => scp,
                    (false, _) => scu,
                };
                if plays && self.services < MAX_SERVICES {
                    self.services += 1;
                    let name = format!("{} {role}", class.name);
                    self.attr(out, ctx, initiator, "dicom_service", &name, "dicom.presentation_context", 80);
                }
            }
        }
        if self.accepted_modalities.count_ones() >= PACS_MODALITIES {
            self.attr(out, ctx, false, "role", "PACS", "dicom.presentation_context", ROLE_SPECIFIC - 5);
        }
        Ok(())
    }

    /// The user information item (0x50) of a request (`initiator`) or acceptance.
    fn user_information(
        &mut self,
        ctx: &FlowContext,
        initiator: bool,
        value: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        let (mut uid, mut version) = (None, None);
        let mut sub = parser::Items::new(value);
        for (k, v) in sub.by_ref() {
            match k {
                0x52 => uid = Some(String::from_utf8_lossy(parser::trim(v)).into_owned()),
                0x55 => version = Some(String::from_utf8_lossy(parser::trim(v)).into_owned()),
                0x58 if initiator => {
                    if let Some(id) = parser::user_identity(v)
                        && (id.kind == 1 || id.kind == 2)
                    {
                        let user = String::from_utf8_lossy(id.primary);
                        let pass =
                            if id.kind == 2 { String::from_utf8_lossy(id.secondary) } else { "".into() };
                        self.login = Some(credentials::observation(
                            ctx.ts,
                            device(ctx, false),
                            "dicom",
                            &user,
                            &pass,
                            None,
                            "dicom.user_identity",
                        ));
                    }
                }
                0x59 if !initiator => {
                    if let Some(ObservationKind::Credential { accepted, .. }) =
                        self.login.as_mut().map(|o| &mut o.kind)
                    {
                        *accepted = Some(true);
                    }
                }
                _ => {}
            }
        }
        if sub.bad {
            return Err("dicom user information item");
        }
        if let Some(u) = &uid {
            self.attr(
                out,
                ctx,
                initiator,
                "dicom_implementation_uid",
                u,
                "dicom.implementation_class_uid",
                90,
            );
        }
        if let Some(v) = &version {
            self.attr(
                out,
                ctx,
                initiator,
                "dicom_implementation_version",
                v,
                "dicom.implementation_version",
                90,
            );
        }
        if let Some(s) = stack(version.as_deref().unwrap_or(""), uid.as_deref().unwrap_or("")) {
            let source = if version.as_deref().is_some_and(|v| !v.is_empty()) {
                "dicom.implementation_version"
            } else {
                "dicom.implementation_class_uid"
            };
            self.attr(out, ctx, initiator, "stack", &s, source, 80);
        }
        Ok(())
    }

    /// A PDV header was read: a data set PDV opens the walk when none is open.
    fn pdv_start(&mut self, dir: Direction) {
        let side = &mut self.sides[dir.index()];
        if side.pdv_command || side.in_dataset {
            return;
        }
        side.in_dataset = true;
        let syntax =
            self.contexts.iter().find(|c| c.id == side.pdv_context).and_then(|c| c.accepted).flatten();
        let read = side.store_follows && dir == Direction::ToResponder;
        side.walker.start(syntax, read);
    }

    fn pdv_piece(&mut self, ctx: &FlowContext, dir: Direction, piece: &[u8], out: &mut Emitter<'_>) {
        let DicomSession { sides, repeats, .. } = self;
        let side = &mut sides[dir.index()];
        if side.pdv_command {
            if side.cmd.len() + piece.len() <= MAX_COMMAND {
                side.cmd.extend_from_slice(piece);
            } else {
                side.cmd_broken = true;
            }
            return;
        }
        if side.walker.done() {
            return;
        }
        let dev = device(ctx, true);
        side.walker.feed(piece, &mut |id, value| identity(repeats, out, ctx, dev, id, value));
        if side.walker.phi && !self.phi {
            self.phi = true;
            out.emit(crate::cleartext(ctx.ts, device(ctx, true), "dicom", true, "dicom.dataset"));
            out.emit(crate::cleartext(ctx.ts, device(ctx, false), "dicom", true, "dicom.dataset"));
        }
    }

    /// A PDV ended; at a message's last fragment, the command is read or the data set closed.
    fn pdv_end(&mut self, ctx: &FlowContext, dir: Direction, out: &mut Emitter<'_>) -> Option<Parsed> {
        let side = &mut self.sides[dir.index()];
        if !side.pdv_last {
            return None;
        }
        if !side.pdv_command {
            side.in_dataset = false;
            side.store_follows = false;
            side.walker.stop();
            return None;
        }
        let cmd = std::mem::take(&mut side.cmd);
        let broken = std::mem::replace(&mut side.cmd_broken, false);
        let r = if broken {
            None
        } else {
            match parser::command(&cmd) {
                Ok(c) => {
                    self.command(ctx, dir, &c, out);
                    None
                }
                Err(e) => Some(Parsed::Malformed(e)),
            }
        };
        // Keep the buffer's memory for the next command.
        let side = &mut self.sides[dir.index()];
        side.cmd = cmd;
        side.cmd.clear();
        r
    }

    fn command(&mut self, ctx: &FlowContext, dir: Direction, c: &parser::Command<'_>, out: &mut Emitter<'_>) {
        let from_initiator = dir == Direction::ToResponder;
        let request = c.field & 0x8000 == 0;
        let base = c.field & 0x7fff;
        let mut sop = uids::sop_class(c.sop_class).map(|(i, _)| i);
        self.sides[dir.index()].store_follows = request && base == 0x0001 && c.has_dataset;
        if request {
            self.last_request = Some((base, sop));
        } else if sop.is_none()
            && let Some((f, s)) = self.last_request
            && f == base
        {
            sop = s;
        }
        if base == 0x0030 {
            self.echoed = true;
        } else {
            self.other_dimse = true;
        }
        let class = sop.and_then(|i| uids::SOP_CLASSES.get(usize::from(i)));
        let kind = class.map(|s| s.kind);
        // The operations a device asks for (C-MOVE and C-GET pull studies out of a PACS).
        if request && let Some(name) = parser::command_name(base) {
            self.attr(out, ctx, from_initiator, "dicom_command", name, "dicom.dimse.command", 80);
        }
        // A service used is worth more than the accepted ones (which are capped): the
        // requester is its SCU, the other end its SCP.
        if request && let (Some(class), Some(i)) = (class, sop) {
            for (initiator, role) in [(from_initiator, "SCU"), (!from_initiator, "SCP")] {
                let (r, dev) = (&mut self.repeats, device(ctx, initiator));
                let name = || format!("{} {role}", class.name);
                r.attribute_by(out, ctx.ts, dev, "dicom_service", (i, role), name, "dicom.dimse", 90);
            }
        }
        const DIMSE: &str = "dicom.dimse";
        match (base, request, from_initiator, kind) {
            (0x0001, true, true, Some(Kind::Storage(Some(m)))) => {
                self.attr(out, ctx, true, "role", m.role(), DIMSE, ROLE_SPECIFIC)
            }
            (0x0001, false, false, _) => {
                self.attr(out, ctx, false, "role", "DICOM storage SCP", DIMSE, ROLE_SERVICE)
            }
            (0x0020, true, true, Some(Kind::Worklist)) => {
                self.attr(out, ctx, true, "role", "DICOM worklist SCU", DIMSE, ROLE_SERVICE)
            }
            (0x0020, false, false, Some(Kind::Worklist)) => {
                self.attr(out, ctx, false, "role", "DICOM worklist SCP", DIMSE, ROLE_SPECIFIC - 10)
            }
            (0x0010 | 0x0020 | 0x0021, true, true, Some(Kind::QueryRetrieve)) => {
                self.attr(out, ctx, true, "role", "DICOM query/retrieve SCU", DIMSE, ROLE_SERVICE)
            }
            (0x0010 | 0x0020 | 0x0021, false, false, Some(Kind::QueryRetrieve)) => {
                self.attr(out, ctx, false, "role", "PACS", DIMSE, ROLE_SPECIFIC)
            }
            (_, false, false, Some(Kind::Print)) => {
                self.attr(out, ctx, false, "role", "DICOM printer", DIMSE, ROLE_SPECIFIC)
            }
            _ => {}
        }
        if !request
            && let Some(status) = c.status
            && let Some(class) = parser::status_class(status)
        {
            let name = parser::command_name(c.field).unwrap_or("DIMSE");
            let text = match parser::status_meaning(status) {
                Some(m) => format!("{name} {class} 0x{status:04X} ({m})"),
                None => format!("{name} {class} 0x{status:04X}"),
            };
            self.attr(out, ctx, from_initiator, "dicom_status", &text, "dicom.dimse.status", 90);
        }
    }

    /// The association is over (released, aborted, rejected, or the flow ended): the roles
    /// only an association's whole tells, and whether patient data went by.
    fn finish(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if self.finished || !self.associated {
            return;
        }
        self.finished = true;
        if let Some(o) = self.login.take() {
            out.emit(o);
        }
        if self.echoed && !self.other_dimse {
            self.attr(out, ctx, true, "role", "DICOM client", "dicom.dimse", ROLE_GENERIC);
            self.attr(out, ctx, false, "role", "DICOM SCP", "dicom.dimse", ROLE_GENERIC);
        }
        if !self.phi {
            out.emit(crate::cleartext(ctx.ts, device(ctx, true), "dicom", false, "dicom.association"));
            out.emit(crate::cleartext(ctx.ts, device(ctx, false), "dicom", false, "dicom.association"));
        }
    }
}

/// An identity value from a data set, as attributes of `dev`.
fn identity(
    repeats: &mut Repeats,
    out: &mut Emitter<'_>,
    ctx: &FlowContext,
    dev: DeviceKey,
    id: Identity,
    value: &[u8],
) {
    let (key, source) = match id {
        Identity::Modality => ("modality", "dicom.dataset.modality"),
        Identity::Manufacturer => ("manufacturer", "dicom.dataset.manufacturer"),
        Identity::StationName => ("station_name", "dicom.dataset.station_name"),
        Identity::Department => ("department", "dicom.dataset.institutional_department"),
        Identity::Model => ("model", "dicom.dataset.model_name"),
        Identity::Serial => ("serial", "dicom.dataset.device_serial_number"),
        Identity::SoftwareVersions => ("software_version", "dicom.dataset.software_versions"),
    };
    // Multi-valued strings are separated by backslashes; a few values are enough.
    for v in value.split(|b| *b == b'\\').take(4) {
        let v = parser::trim(v);
        if !v.is_empty() {
            repeats.attribute(out, ctx.ts, dev, key, &String::from_utf8_lossy(v), source, 80);
        }
    }
}

/// The stack in words, from the implementation version name and class UID.
pub(crate) fn stack(version: &str, uid: &str) -> Option<String> {
    let dotted = |v: &str| -> String {
        if v.len() >= 3 && v.bytes().all(|b| b.is_ascii_digit()) {
            format!("{}.{}.{}", &v[..1], &v[1..2], &v[2..])
        } else {
            v.replace('_', ".")
        }
    };
    if let Some(v) = version.strip_prefix("OFFIS_DCMTK_") {
        return Some(format!("DCMTK {}", dotted(v)));
    }
    if let Some(v) = version.strip_prefix("PYNETDICOM_") {
        return Some(format!("pynetdicom {}", dotted(v)));
    }
    if let Some(v) = version.strip_prefix("dcm4che-") {
        return Some(format!("dcm4che {v}"));
    }
    if version.starts_with("fo-dicom ") || version.starts_with("GDCM ") {
        return Some(version.to_owned());
    }
    match (version.is_empty(), uids::stack_of_uid(uid)) {
        (false, Some(root)) => Some(format!("{version} ({root})")),
        (false, None) => Some(version.to_owned()),
        (true, Some(root)) => Some(root.to_owned()),
        (true, None) => None,
    }
}

/// A-ASSOCIATE-RJ source and reason (PS3.8 table 9-21).
fn reject_reason(source: u8, reason: u8) -> &'static str {
    match (source, reason) {
        (1, 2) => "application context name not supported",
        (1, 3) => "calling AE title not recognized",
        (1, 7) => "called AE title not recognized",
        (1, _) => "rejected by the service user",
        (2, 2) => "protocol version not supported",
        (2, _) => "rejected by the ACSE provider",
        (3, 1) => "temporary congestion",
        (3, 2) => "local limit exceeded",
        _ => "rejected",
    }
}

/// A-ABORT reasons from the service provider (PS3.8 table 9-26).
fn abort_reason(reason: u8) -> &'static str {
    match reason {
        1 => "unrecognized PDU",
        2 => "unexpected PDU",
        4 => "unrecognized PDU parameter",
        5 => "unexpected PDU parameter",
        6 => "invalid PDU parameter value",
        _ => "reason not specified",
    }
}
