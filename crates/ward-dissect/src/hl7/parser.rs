//! HL7 v2 segments as borrowed bytes: the separators a message declares in MSH-1 and MSH-2,
//! fields, repetitions and components, and the header (MSH) fields Ward reads. Nothing here
//! allocates or looks at a field it was not asked for.

use memchr::{memchr, memchr3};

/// MLLP start block.
pub(crate) const START: u8 = 0x0b;
/// MLLP end block (followed by a carriage return).
pub(crate) const END: u8 = 0x1c;

/// The delimiters a message declares in its header (HL7 v2 section 2.5.4): MSH-1 is the
/// field separator, MSH-2 the component, repetition, escape and subcomponent characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Separators {
    pub(crate) field: u8,
    pub(crate) component: u8,
    pub(crate) repetition: u8,
}

impl Default for Separators {
    fn default() -> Separators {
        Separators { field: b'|', component: b'^', repetition: b'~' }
    }
}

/// Where the current segment ends: the next segment break (`\r`, or `\n` from senders that
/// use line ends) or the MLLP end block, whichever comes first.
pub(crate) fn segment_end(data: &[u8]) -> Option<usize> {
    memchr3(b'\r', b'\n', END, data)
}

/// Whether `b` may be a delimiter: printable ASCII that is neither a letter nor a digit.
fn is_delimiter(b: u8) -> bool {
    b.is_ascii_graphic() && !b.is_ascii_alphanumeric()
}

/// Reads the separators of a header segment (`MSH`, or a batch/file header `BHS`/`FHS`):
/// the byte after the name and the encoding characters that follow it.
pub(crate) fn separators(segment: &[u8]) -> Result<Separators, &'static str> {
    let field = *segment.get(3).ok_or("hl7 header too short")?;
    if !is_delimiter(field) {
        return Err("hl7 field separator is not a delimiter");
    }
    let enc = segment.get(4..).unwrap_or_default();
    let enc = &enc[..memchr(field, enc).unwrap_or(enc.len())];
    // MSH-2 holds at least the component separator; the repetition separator usually follows.
    let component = *enc.first().ok_or("hl7 encoding characters missing")?;
    if !is_delimiter(component) || component == field {
        return Err("hl7 component separator is not a delimiter");
    }
    let repetition = enc.get(1).copied().filter(|b| is_delimiter(*b)).unwrap_or(b'~');
    Ok(Separators { field, component, repetition })
}

/// The `n`th field of a segment, counting the segment name as field 0 (so `OBX-18` is
/// `field(seg, fs, 18)`). For MSH, whose field separator is MSH-1, MSH-n is field n-1.
/// Empty when absent.
pub(crate) fn field(segment: &[u8], fs: u8, n: usize) -> &[u8] {
    let start = match n {
        0 => 0,
        _ => match nth(segment, fs, n) {
            Some(i) => i + 1,
            None => return &[],
        },
    };
    let rest = &segment[start..];
    &rest[..rest.iter().position(|b| *b == fs).unwrap_or(rest.len())]
}

/// Where the `n`th (from 1) `needle` is in `hay`. Fields are short, so a library search per
/// separator would spend more on each call than on the bytes: 32 bytes at a time become a
/// bit mask of matches (a loop the compiler turns into vector compares) that is counted.
pub(crate) fn nth(hay: &[u8], needle: u8, mut n: usize) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let mut chunks = hay.chunks_exact(32);
    let mut base = 0;
    for c in &mut chunks {
        let mut hits = 0u32;
        for (i, b) in c.iter().enumerate() {
            hits |= u32::from(*b == needle) << i;
        }
        let k = hits.count_ones() as usize;
        if k >= n {
            for _ in 1..n {
                hits &= hits - 1;
            }
            return Some(base + hits.trailing_zeros() as usize);
        }
        n -= k;
        base += 32;
    }
    for (i, b) in chunks.remainder().iter().enumerate() {
        if *b == needle {
            n -= 1;
            if n == 0 {
                return Some(base + i);
            }
        }
    }
    None
}

/// The `n`th (0-based) part of `value` split at `sep`; empty when absent.
pub(crate) fn part(value: &[u8], sep: u8, n: usize) -> &[u8] {
    value.split(|b| *b == sep).nth(n).unwrap_or_default()
}

/// The first non-empty repetition of a field.
pub(crate) fn first_repetition(value: &[u8], rs: u8) -> &[u8] {
    value.split(|b| *b == rs).find(|r| !r.is_empty()).unwrap_or_default()
}

/// A hierarchic designator (HD: namespace id ^ universal id ^ universal id type) as a name:
/// the namespace id, or the universal id when the namespace is empty.
pub(crate) fn hd_name<'a>(value: &'a [u8], seps: &Separators) -> &'a [u8] {
    let ns = part(value, seps.component, 0);
    if ns.iter().all(u8::is_ascii_whitespace) { part(value, seps.component, 1) } else { ns }
}

/// The header fields Ward reads from MSH; each is the raw field, borrowed.
#[derive(Debug, Default)]
pub(crate) struct Header<'a> {
    /// MSH-3 sending application (HD).
    pub(crate) sending_application: &'a [u8],
    /// MSH-4 sending facility (HD).
    pub(crate) sending_facility: &'a [u8],
    /// MSH-5 receiving application (HD).
    pub(crate) receiving_application: &'a [u8],
    /// MSH-6 receiving facility (HD).
    pub(crate) receiving_facility: &'a [u8],
    /// MSH-9 message type (MSG: code ^ trigger ^ structure).
    pub(crate) message_type: &'a [u8],
    /// MSH-10 message control id: only to match acknowledgements, never reported.
    pub(crate) control_id: &'a [u8],
    /// MSH-12 version (VID: version id ^ ...).
    pub(crate) version: &'a [u8],
    /// MSH-21 message profile identifiers (EI, repeating).
    pub(crate) profile: &'a [u8],
}

/// Reads the fields of an MSH segment. MSH-n is the (n-1)th field after the name because
/// MSH-1 is the separator itself.
pub(crate) fn header<'a>(segment: &'a [u8], seps: &Separators) -> Header<'a> {
    let mut h = Header::default();
    // One pass over the first 21 fields.
    for (i, f) in segment.split(|b| *b == seps.field).enumerate().take(21) {
        match i + 1 {
            3 => h.sending_application = f,
            4 => h.sending_facility = f,
            5 => h.receiving_application = f,
            6 => h.receiving_facility = f,
            9 => h.message_type = f,
            10 => h.control_id = f,
            12 => h.version = f,
            21 => h.profile = f,
            _ => {}
        }
    }
    h
}

/// An acknowledgement code of MSA-1 (HL7 table 0008), original or enhanced mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AckCode {
    /// AA / CA: accepted.
    Accept,
    /// AE / CE: error.
    Error,
    /// AR / CR: rejected.
    Reject,
}

impl AckCode {
    pub(crate) fn parse(code: &[u8]) -> Option<(AckCode, &'static str)> {
        Some(match code {
            b"AA" => (AckCode::Accept, "AA"),
            b"CA" => (AckCode::Accept, "CA"),
            b"AE" => (AckCode::Error, "AE"),
            b"CE" => (AckCode::Error, "CE"),
            b"AR" => (AckCode::Reject, "AR"),
            b"CR" => (AckCode::Reject, "CR"),
            _ => return None,
        })
    }
}

/// What a segment's three-letter name says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A message header inside a batch (`MSH`).
    Header,
    /// Batch and file headers (`BHS`, `FHS`), which declare separators like MSH.
    BatchHeader,
    /// `MSA`: acknowledgement code.
    Ack,
    /// `OBX`: patient data, but OBX-18 names the equipment.
    Observation,
    /// `PRT` (v2.7+): participation, which may be a device with its UDI and serial.
    Participation,
    /// `DEV` (v2.9): a device's manufacturer, model, UDI, serial and software version.
    Device,
    /// A segment that carries patient data (demographics, visits, orders, results).
    Patient,
    /// Anything else: skipped unread.
    Other,
}

/// Classifies a segment by its name.
pub(crate) fn kind(name: [u8; 3]) -> Kind {
    match &name {
        b"MSH" => Kind::Header,
        b"BHS" | b"FHS" => Kind::BatchHeader,
        b"MSA" => Kind::Ack,
        b"OBX" => Kind::Observation,
        b"PRT" => Kind::Participation,
        b"DEV" => Kind::Device,
        // Patient identity and visit, next of kin, allergies, diagnoses, procedures,
        // insurance and guarantor, merges, accidents, orders and results, notes, specimens,
        // documents, pharmacy and queries naming a patient.
        b"PID" | b"PD1" | b"PV1" | b"PV2" | b"NK1" | b"NTE" | b"AL1" | b"IAM" | b"DG1" | b"DRG" | b"PR1"
        | b"IN1" | b"IN2" | b"IN3" | b"GT1" | b"MRG" | b"ACC" | b"UB1" | b"UB2" | b"OBR" | b"ORC"
        | b"SPM" | b"TXA" | b"RXA" | b"RXE" | b"RXO" | b"RXD" | b"RXG" | b"RXR" | b"QRD" | b"QPD"
        | b"PDA" | b"DB1" => Kind::Patient,
        _ => Kind::Other,
    }
}
