//! DICOM bytes to messages: upper-layer PDUs and their items (PS3.8 section 9.3), DIMSE
//! command sets (PS3.7 section 9.3 and annex E) and a streaming walker over data sets
//! (PS3.5 section 7) that reads nothing but the identity attributes. Everything borrows from
//! the input; nothing here allocates except the walker's few value bytes.

/// PDU types (PS3.8 table 9-10 and following).
pub(crate) const ASSOCIATE_RQ: u8 = 0x01;
pub(crate) const ASSOCIATE_AC: u8 = 0x02;
pub(crate) const ASSOCIATE_RJ: u8 = 0x03;
pub(crate) const P_DATA_TF: u8 = 0x04;
pub(crate) const RELEASE_RQ: u8 = 0x05;
pub(crate) const RELEASE_RP: u8 = 0x06;
pub(crate) const ABORT: u8 = 0x07;

/// Longest association PDU (A-ASSOCIATE-RQ/AC) read whole. storescu's ~120 proposed
/// contexts take about 14 KiB.
pub(crate) const MAX_ASSOCIATE_PDU: u32 = 60 << 10;
/// Longest P-DATA-TF PDU accepted (read as it comes, never held): PS3.8 allows up to
/// 2^32-1, stacks send 16 KiB to 1 MiB; beyond 64 MiB is a framing error.
pub(crate) const MAX_PDATA_PDU: u32 = 64 << 20;

/// A PDU header: type and length of what follows.
pub(crate) fn pdu_header(b: &[u8]) -> Option<(u8, u32)> {
    let h = b.get(..6)?;
    Some((h[0], u32::from_be_bytes([h[2], h[3], h[4], h[5]])))
}

/// An AE title as sent: 16 bytes, space padded (leading spaces are insignificant too).
pub(crate) fn ae_title(b: &[u8]) -> &[u8] {
    trim(b)
}

/// Trims spaces and NULs (UIDs are NUL padded, strings space padded) at both ends.
pub(crate) fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if *first == b' ' || *first == 0 {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if *last == b' ' || *last == 0 {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// The fixed fields of an A-ASSOCIATE-RQ or -AC (the body after the 6-byte PDU header).
pub(crate) struct Associate<'a> {
    pub(crate) called: &'a [u8],
    pub(crate) calling: &'a [u8],
    /// The variable items.
    pub(crate) items: &'a [u8],
}

/// Reads an A-ASSOCIATE-RQ/AC body: protocol version (bit 0 set), reserved, called and
/// calling AE titles, 32 reserved bytes, then items.
pub(crate) fn associate(body: &[u8]) -> Result<Associate<'_>, &'static str> {
    if body.len() < 68 {
        return Err("dicom associate pdu too short");
    }
    if body[1] & 1 == 0 {
        return Err("dicom protocol version");
    }
    Ok(Associate { called: &body[4..20], calling: &body[20..36], items: &body[68..] })
}

/// Items (or sub-items) in sequence: a type byte, a reserved byte, a 2-byte big-endian
/// length and the value. A truncated item ends the iteration and sets `bad`.
pub(crate) struct Items<'a> {
    rest: &'a [u8],
    pub(crate) bad: bool,
}

impl<'a> Items<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Items<'a> {
        Items { rest: b, bad: false }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(h) = self.rest.get(..4) else {
            self.bad = true;
            return None;
        };
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        let Some(value) = self.rest.get(4..4 + len) else {
            self.bad = true;
            return None;
        };
        let kind = h[0];
        self.rest = &self.rest[4 + len..];
        Some((kind, value))
    }
}

/// A user identity negotiation sub-item (0x58, PS3.7 D.3.3.7.1).
pub(crate) struct UserIdentity<'a> {
    /// 1 user name, 2 user name and passcode, 3 Kerberos, 4 SAML, 5 JWT.
    pub(crate) kind: u8,
    pub(crate) primary: &'a [u8],
    pub(crate) secondary: &'a [u8],
}

pub(crate) fn user_identity(b: &[u8]) -> Option<UserIdentity<'_>> {
    let kind = *b.first()?;
    let plen = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    let primary = b.get(4..4 + plen)?;
    let rest = b.get(4 + plen..)?;
    let secondary = match rest {
        [a, c, tail @ ..] => tail.get(..usize::from(u16::from_be_bytes([*a, *c]))).unwrap_or_default(),
        _ => &[],
    };
    Some(UserIdentity { kind, primary, secondary })
}

/// A role selection sub-item (0x54): the SOP class and whether the requestor takes the SCU
/// and SCP roles.
pub(crate) fn role_selection(b: &[u8]) -> Option<(&[u8], bool, bool)> {
    let len = usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]));
    let uid = b.get(2..2 + len)?;
    Some((trim(uid), *b.get(2 + len)? == 1, *b.get(3 + len)? == 1))
}

/// DIMSE command fields (PS3.7 annex E).
pub(crate) fn command_name(field: u16) -> Option<&'static str> {
    Some(match field & 0x7fff {
        0x0001 => "C-STORE",
        0x0010 => "C-GET",
        0x0020 => "C-FIND",
        0x0021 => "C-MOVE",
        0x0030 => "C-ECHO",
        0x0100 => "N-EVENT-REPORT",
        0x0110 => "N-GET",
        0x0120 => "N-SET",
        0x0130 => "N-ACTION",
        0x0140 => "N-CREATE",
        0x0150 => "N-DELETE",
        0x0FFF => "C-CANCEL",
        _ => return None,
    })
}

/// What a command set says that matters here.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Command<'a> {
    /// (0000,0002) Affected SOP Class UID, or (0000,0003) Requested SOP Class UID.
    pub(crate) sop_class: &'a [u8],
    /// (0000,0100) Command Field.
    pub(crate) field: u16,
    /// (0000,0800) Command Data Set Type: anything but 0x0101 means a data set follows.
    pub(crate) has_dataset: bool,
    /// (0000,0900) Status, in responses.
    pub(crate) status: Option<u16>,
}

/// Reads a command set: implicit VR little endian elements of group 0000.
pub(crate) fn command(mut b: &[u8]) -> Result<Command<'_>, &'static str> {
    let mut c = Command::default();
    let mut field = None;
    while !b.is_empty() {
        let Some(h) = b.get(..8) else { return Err("dicom command element truncated") };
        let group = u16::from_le_bytes([h[0], h[1]]);
        let elem = u16::from_le_bytes([h[2], h[3]]);
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        let Some(v) = b.get(8..8usize.saturating_add(len)) else {
            return Err("dicom command element truncated");
        };
        if group != 0 {
            return Err("dicom command element outside group 0000");
        }
        let u16v = || v.get(..2).map(|x| u16::from_le_bytes([x[0], x[1]]));
        match elem {
            0x0002 => c.sop_class = trim(v),
            0x0003 if c.sop_class.is_empty() => c.sop_class = trim(v),
            0x0100 => field = u16v(),
            0x0800 => c.has_dataset = u16v() != Some(0x0101),
            0x0900 => c.status = u16v(),
            _ => {}
        }
        b = &b[8 + len..];
    }
    c.field = field.ok_or("dicom command without command field")?;
    Ok(c)
}

/// How a status code reads (PS3.7 annex C): `None` for success, pending and cancel, which
/// say nothing worth keeping.
pub(crate) fn status_class(status: u16) -> Option<&'static str> {
    match status {
        0x0000 | 0xFF00 | 0xFF01 | 0xFE00 => None,
        0x0001 | 0x0107 | 0x0116 => Some("warning"),
        s if s & 0xF000 == 0xB000 => Some("warning"),
        _ => Some("failure"),
    }
}

/// The meaning of the common failure codes, for the status attribute.
pub(crate) fn status_meaning(status: u16) -> Option<&'static str> {
    Some(match status {
        0x0110 => "processing failure",
        0x0111 => "duplicate SOP instance",
        0x0112 => "no such SOP instance",
        0x0117 => "invalid object instance",
        0x0118 => "no such SOP class",
        0x0119 => "class-instance conflict",
        0x0122 => "SOP class not supported",
        0x0124 => "refused: not authorized",
        0x0211 => "unrecognized operation",
        0x0212 => "mistyped argument",
        0x0213 => "resource limitation",
        0xA700..=0xA7FF => "out of resources",
        0xA801 => "move destination unknown",
        0xA900..=0xA9FF => "data set does not match SOP class",
        0xB000 => "coercion of data elements",
        0xB006 => "elements discarded",
        0xB007 => "data set does not match SOP class",
        0xC000..=0xCFFF => "cannot understand",
        _ => return None,
    })
}

/// The identity attributes read from data sets; every other element is skipped unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    /// (0008,0060)
    Modality,
    /// (0008,0070)
    Manufacturer,
    /// (0008,1010)
    StationName,
    /// (0008,1040)
    Department,
    /// (0008,1090)
    Model,
    /// (0018,1000)
    Serial,
    /// (0018,1020), multi-valued.
    SoftwareVersions,
}

impl Identity {
    fn of(tag: u32) -> Option<Identity> {
        Some(match tag {
            0x0008_0060 => Identity::Modality,
            0x0008_0070 => Identity::Manufacturer,
            0x0008_1010 => Identity::StationName,
            0x0008_1040 => Identity::Department,
            0x0008_1090 => Identity::Model,
            0x0018_1000 => Identity::Serial,
            0x0018_1020 => Identity::SoftwareVersions,
            _ => return None,
        })
    }
}

/// The last identity tag: at the top level, past it nothing is read.
const LAST_IDENTITY_TAG: u32 = 0x0018_1020;
/// Longest identity value read; the rest of a longer one is skipped.
pub(crate) const MAX_IDENTITY_VALUE: usize = 256;
/// Nesting of undefined-length sequences and items followed before the data set is given up.
pub(crate) const MAX_DEPTH: u8 = 16;

/// Data set encoding the walker reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    ImplicitLe,
    ExplicitLe,
    ExplicitBe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk {
    /// Reading an element header into `hdr`.
    Header,
    /// Skipping `skip` value bytes.
    Skip,
    /// Reading an identity value.
    Value(Identity),
    /// Nothing more is read from this data set.
    Done,
}

/// A streaming walker over one data set at a time, fed the PDV payload pieces as they come;
/// it keeps an element header split across pieces in 12 bytes of its own, skips every value
/// by its length without copying it, follows undefined-length sequences and items by their
/// delimiters (up to [`MAX_DEPTH`]), notes whether any patient element (group 0010) carries
/// a value, and reads only the identity values at the top level, up to (0018,1020).
pub(crate) struct Walker {
    syntax: Syntax,
    state: Walk,
    hdr: [u8; 12],
    hdr_len: u8,
    skip: u64,
    depth: u8,
    value: Vec<u8>,
    value_left: u32,
    /// Read identity values (else the walk only looks for patient elements).
    pub(crate) read_identity: bool,
    /// A patient element with a value was passed.
    pub(crate) phi: bool,
}

impl Walker {
    pub(crate) fn new() -> Walker {
        Walker {
            syntax: Syntax::ImplicitLe,
            state: Walk::Done,
            hdr: [0; 12],
            hdr_len: 0,
            skip: 0,
            depth: 0,
            value: Vec::new(),
            value_left: 0,
            read_identity: false,
            phi: false,
        }
    }

    /// Starts a data set in `syntax` (`None`: unreadable, skipped whole).
    pub(crate) fn start(&mut self, syntax: Option<Syntax>, read_identity: bool) {
        self.state = if syntax.is_some() { Walk::Header } else { Walk::Done };
        self.syntax = syntax.unwrap_or(Syntax::ImplicitLe);
        self.hdr_len = 0;
        self.skip = 0;
        self.depth = 0;
        self.value.clear();
        self.read_identity = read_identity;
    }

    /// Stops reading the current data set (a gap, or its end).
    pub(crate) fn stop(&mut self) {
        self.state = Walk::Done;
    }

    /// Whether the walk of this data set is over (the rest is skipped).
    pub(crate) fn done(&self) -> bool {
        self.state == Walk::Done
    }

    /// Feeds the next piece of the data set; `found` gets each whole identity value.
    pub(crate) fn feed(&mut self, mut b: &[u8], found: &mut impl FnMut(Identity, &[u8])) {
        while !b.is_empty() {
            match self.state {
                Walk::Done => return,
                Walk::Skip => {
                    let n = (b.len() as u64).min(self.skip);
                    self.skip -= n;
                    b = &b[n as usize..];
                    if self.skip == 0 {
                        self.state = Walk::Header;
                    }
                }
                Walk::Value(id) => {
                    let n = b.len().min(self.value_left as usize);
                    let room = MAX_IDENTITY_VALUE.saturating_sub(self.value.len());
                    self.value.extend_from_slice(&b[..n.min(room)]);
                    self.value_left -= n as u32;
                    b = &b[n..];
                    if self.value_left == 0 {
                        found(id, &self.value);
                        self.value.clear();
                        self.state = Walk::Header;
                    }
                }
                Walk::Header => {
                    // The common case: a whole header in the piece, read in place.
                    let used = if self.hdr_len == 0 {
                        match self.header(b) {
                            Some(n) => n,
                            None => {
                                let n = b.len().min(12);
                                self.hdr[..n].copy_from_slice(&b[..n]);
                                self.hdr_len = n as u8;
                                n
                            }
                        }
                    } else {
                        let have = usize::from(self.hdr_len);
                        let n = b.len().min(12 - have);
                        self.hdr[have..have + n].copy_from_slice(&b[..n]);
                        let hdr = self.hdr;
                        match self.header(&hdr[..have + n]) {
                            Some(used) => {
                                self.hdr_len = 0;
                                used.saturating_sub(have)
                            }
                            None => {
                                self.hdr_len = (have + n) as u8;
                                n
                            }
                        }
                    };
                    b = b.get(used..).unwrap_or_default();
                }
            }
        }
    }

    /// Reads one element header from `h`; returns the bytes it took, or `None` when `h`
    /// holds too few. Sets the state for the value.
    fn header(&mut self, h: &[u8]) -> Option<usize> {
        let be = self.syntax == Syntax::ExplicitBe;
        let u16at = |i: usize| -> Option<u16> {
            let x = h.get(i..i + 2)?;
            Some(if be { u16::from_be_bytes([x[0], x[1]]) } else { u16::from_le_bytes([x[0], x[1]]) })
        };
        let u32at = |i: usize| -> Option<u32> {
            let x = h.get(i..i + 4)?;
            let a = [x[0], x[1], x[2], x[3]];
            Some(if be { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) })
        };
        let group = u16at(0)?;
        let elem = u16at(2)?;
        let tag = (u32::from(group) << 16) | u32::from(elem);
        // Items and delimiters have no VR in any syntax.
        let (len, used, vr) = if group == 0xFFFE || self.syntax == Syntax::ImplicitLe {
            (u32at(4)?, 8, None)
        } else {
            let vr = [*h.get(4)?, *h.get(5)?];
            if !vr[0].is_ascii_uppercase() || !vr[1].is_ascii_uppercase() {
                self.state = Walk::Done;
                return Some(h.len().min(8));
            }
            if matches!(
                &vr,
                b"OB"
                    | b"OD"
                    | b"OF"
                    | b"OL"
                    | b"OV"
                    | b"OW"
                    | b"SQ"
                    | b"SV"
                    | b"UC"
                    | b"UN"
                    | b"UR"
                    | b"UT"
                    | b"UV"
            ) {
                (u32at(8)?, 12, Some(vr))
            } else {
                (u32::from(u16at(6)?), 8, Some(vr))
            }
        };
        const UNDEFINED: u32 = 0xFFFF_FFFF;
        match tag {
            // Item.
            0xFFFE_E000 => {
                if self.depth == 0 {
                    self.state = Walk::Done;
                } else if len == UNDEFINED {
                    self.enter();
                } else {
                    self.skip(len);
                }
            }
            // Item and sequence delimiters.
            0xFFFE_E00D | 0xFFFE_E0DD => {
                if self.depth == 0 {
                    self.state = Walk::Done;
                } else {
                    self.depth -= 1;
                }
            }
            _ if len == UNDEFINED => {
                // A sequence (or encapsulated pixel data: items of defined length). An
                // undefined-length UN holds implicit VR elements: not followed.
                if vr == Some(*b"UN") || (self.depth == 0 && tag > LAST_IDENTITY_TAG) {
                    self.state = Walk::Done;
                } else {
                    self.enter();
                }
            }
            _ => {
                if group == 0x0010 && len > 0 {
                    self.phi = true;
                }
                if self.depth == 0 && tag > LAST_IDENTITY_TAG {
                    self.state = Walk::Done;
                } else if let Some(id) = Identity::of(tag).filter(|_| self.depth == 0 && self.read_identity) {
                    self.value.clear();
                    self.value_left = len;
                    self.state = if len == 0 { Walk::Header } else { Walk::Value(id) };
                } else {
                    self.skip(len);
                }
            }
        }
        Some(used)
    }

    fn enter(&mut self) {
        if self.depth >= MAX_DEPTH {
            self.state = Walk::Done;
        } else {
            self.depth += 1;
        }
    }

    fn skip(&mut self, len: u32) {
        self.skip = u64::from(len);
        self.state = if len == 0 { Walk::Header } else { Walk::Skip };
    }
}
