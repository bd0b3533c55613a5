//! BACnet/IP datagrams as borrowed views, after ANSI/ASHRAE Standard 135: the BVLC header
//! (Annex J.2), the NPDU (clause 6.2), the APDU headers (clause 20.1) and the tagged encoding
//! of service parameters (clause 20.2). Only what Ward reads is decoded: I-Am, Who-Is, and
//! the answers to ReadProperty and ReadPropertyMultiple.

use std::net::{IpAddr, Ipv4Addr};

/// BVLC type of BACnet/IP (Annex J).
pub(crate) const BVLC_TYPE: u8 = 0x81;

/// BVLC functions that carry an NPDU, and where it starts.
fn npdu_offset(function: u8) -> Option<usize> {
    match function {
        // Forwarded-NPDU: the originating device's B/IP address (4 + 2 bytes) comes first.
        0x04 => Some(10),
        // Distribute-Broadcast-To-Network, Original-Unicast-NPDU, Original-Broadcast-NPDU.
        0x09..=0x0b => Some(4),
        _ => None,
    }
}

/// A BVLC header that checks out: type 0x81, a function Annex J defines, and a length equal
/// to the datagram's. `Err` names the violation.
pub(crate) fn bvlc(d: &[u8]) -> Result<Bvlc<'_>, &'static str> {
    let Some(&[t, function, hi, lo]) = d.get(..4) else { return Err("bacnet bvlc truncated") };
    if t != BVLC_TYPE {
        return Err("bacnet bvlc type is not 0x81");
    }
    if function > 0x0c {
        return Err("bacnet bvlc function unknown");
    }
    if usize::from(u16::from_be_bytes([hi, lo])) != d.len() {
        return Err("bacnet bvlc length differs from the datagram's");
    }
    let origin = match (function, d.get(4..8)) {
        (0x04, Some(&[a, b, c, e])) => Some(IpAddr::V4(Ipv4Addr::new(a, b, c, e))),
        (0x04, _) => return Err("bacnet forwarded npdu truncated"),
        _ => None,
    };
    let npdu = match npdu_offset(function) {
        Some(off) => Some(d.get(off..).ok_or("bacnet forwarded npdu truncated")?),
        None => None,
    };
    Ok(Bvlc { origin, npdu })
}

/// What a BVLC header says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Bvlc<'a> {
    /// A Forwarded-NPDU's originating device.
    pub(crate) origin: Option<IpAddr>,
    /// The NPDU, for the functions that carry one.
    pub(crate) npdu: Option<&'a [u8]>,
}

/// An NPDU's header fields Ward uses, and the APDU after it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Npdu<'a> {
    /// The message came through a router from another BACnet network (SNET present): the
    /// device that sent it is not at the datagram's IP address.
    pub(crate) routed: bool,
    /// A network-layer message (no APDU).
    pub(crate) network_message: bool,
    pub(crate) apdu: &'a [u8],
}

/// Parses an NPDU: version 1, control octet, optional DNET/DLEN/DADR, SNET/SLEN/SADR and hop
/// count, then a network-layer message or an APDU.
pub(crate) fn npdu(b: &[u8]) -> Result<Npdu<'_>, &'static str> {
    let mut r = Reader(b);
    if r.u8()? != 1 {
        return Err("bacnet npdu version is not 1");
    }
    let control = r.u8()?;
    let (dnet, snet) = (control & 0x20 != 0, control & 0x08 != 0);
    if dnet {
        r.take(2)?;
        let len = r.u8()?;
        r.take(usize::from(len))?;
    }
    if snet {
        r.take(2)?;
        let len = r.u8()?;
        // SLEN 0 is invalid (clause 6.2.2.1).
        if len == 0 {
            return Err("bacnet npdu source address empty");
        }
        r.take(usize::from(len))?;
    }
    if dnet {
        r.u8()?; // hop count
    }
    Ok(Npdu { routed: snet, network_message: control & 0x80 != 0, apdu: r.0 })
}

/// A cursor whose reads are all checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if n > self.0.len() {
            return Err("bacnet field runs past its datagram");
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
}

/// One tag of the encoding of clause 20.2.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag<'a> {
    /// An application-tagged value: its tag number (2 unsigned, 7 character string, 12
    /// object identifier...) and content. An application Boolean's value is in its LVT.
    App(u8, &'a [u8]),
    /// A context-tagged value.
    Context(u8, &'a [u8]),
    Opening(u8),
    Closing(u8),
}

/// The tag at the start of `b` and what follows it.
pub(crate) fn tag(b: &[u8]) -> Result<(Tag<'_>, &[u8]), &'static str> {
    let mut r = Reader(b);
    let first = r.u8()?;
    let mut number = first >> 4;
    if number == 15 {
        number = r.u8()?;
    }
    let context = first & 0x08 != 0;
    let lvt = first & 0x07;
    let len = match lvt {
        // Application Boolean: the value is the LVT itself.
        _ if !context && number == 1 => 0,
        6 if context => return Ok((Tag::Opening(number), r.0)),
        7 if context => return Ok((Tag::Closing(number), r.0)),
        5 => match r.u8()? {
            254 => {
                let b = r.take(2)?;
                usize::from(u16::from_be_bytes([b[0], b[1]]))
            }
            255 => {
                let b = r.take(4)?;
                usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .map_err(|_| "bacnet tag too long")?
            }
            n => usize::from(n),
        },
        n => usize::from(n),
    };
    let data = r.take(len)?;
    Ok((if context { Tag::Context(number, data) } else { Tag::App(number, data) }, r.0))
}

/// An unsigned integer of 1 to 4 bytes.
pub(crate) fn unsigned(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
}

/// An object identifier: (object type, instance number).
pub(crate) fn object_id(b: &[u8]) -> Option<(u16, u32)> {
    let v = u32::from_be_bytes(b.try_into().ok()?);
    Some(((v >> 22) as u16, v & 0x3f_ffff))
}

/// Object type of the Device object.
pub(crate) const DEVICE: u16 = 8;

/// An I-Am's parameters (clause 16.1.2): the device's object identifier and vendor id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IAm {
    pub(crate) instance: u32,
    pub(crate) vendor: u32,
}

pub(crate) fn i_am(b: &[u8]) -> Result<IAm, &'static str> {
    let (Tag::App(12, id), rest) = tag(b)? else { return Err("bacnet i-am without an object identifier") };
    let (Tag::App(2, _max_apdu), rest) = tag(rest)? else { return Err("bacnet i-am without max apdu") };
    let (Tag::App(9, _segmentation), rest) = tag(rest)? else {
        return Err("bacnet i-am without segmentation");
    };
    let (Tag::App(2, vendor), _) = tag(rest)? else { return Err("bacnet i-am without a vendor id") };
    let (_, instance) = object_id(id).ok_or("bacnet i-am object identifier is not 4 bytes")?;
    let vendor = unsigned(vendor).ok_or("bacnet i-am vendor id too long")?;
    Ok(IAm { instance, vendor })
}

/// One property value of an answer: the object it belongs to, the property id, and the
/// application-tagged value (its first element for a list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PropertyValue<'a> {
    pub(crate) object: (u16, u32),
    pub(crate) property: u32,
    pub(crate) value: Option<Tag<'a>>,
}

/// The value between an opening tag `n` (already read) and its closing tag: the first
/// application-tagged element, and what follows the closing tag.
fn enclosed(mut b: &[u8], n: u8) -> Result<(Option<Tag<'_>>, &[u8]), &'static str> {
    let mut depth = 0usize;
    let mut first = None;
    loop {
        let (t, rest) = tag(b)?;
        b = rest;
        match t {
            Tag::Opening(_) => depth += 1,
            Tag::Closing(m) if depth == 0 => {
                return if m == n { Ok((first, b)) } else { Err("bacnet closing tag does not match") };
            }
            Tag::Closing(_) => depth -= 1,
            Tag::App(..) if first.is_none() && depth == 0 => first = Some(t),
            _ => {}
        }
    }
}

/// A ReadProperty-ACK (clause 15.5.1.3): object identifier [0], property identifier [1],
/// optional array index [2], value [3].
pub(crate) fn read_property_ack(b: &[u8]) -> Result<PropertyValue<'_>, &'static str> {
    let (Tag::Context(0, id), rest) = tag(b)? else {
        return Err("bacnet readproperty ack without an object");
    };
    let (Tag::Context(1, prop), mut rest) = tag(rest)? else {
        return Err("bacnet readproperty ack without a property");
    };
    let object = object_id(id).ok_or("bacnet object identifier is not 4 bytes")?;
    let property = unsigned(prop).ok_or("bacnet property identifier too long")?;
    let (mut t, mut after) = tag(rest)?;
    if let Tag::Context(2, _) = t {
        rest = after;
        (t, after) = tag(rest)?;
    }
    let Tag::Opening(3) = t else { return Err("bacnet readproperty ack without a value") };
    let (value, _) = enclosed(after, 3)?;
    Ok(PropertyValue { object, property, value })
}

/// The values of a ReadPropertyMultiple-ACK (clause 15.7.1.3): for each object, its
/// identifier [0] and a list [1] of property identifier [2], optional array index [3], and
/// a value [4] or an error [5]. `each` gets the values; errors are passed over.
pub(crate) fn read_property_multiple_ack<'a>(
    mut b: &'a [u8],
    mut each: impl FnMut(PropertyValue<'a>),
) -> Result<(), &'static str> {
    while !b.is_empty() {
        let (Tag::Context(0, id), rest) = tag(b)? else { return Err("bacnet rpm ack without an object") };
        let object = object_id(id).ok_or("bacnet object identifier is not 4 bytes")?;
        let (Tag::Opening(1), mut rest) = tag(rest)? else { return Err("bacnet rpm ack without results") };
        let mut property = None;
        loop {
            let (t, after) = tag(rest)?;
            rest = after;
            match t {
                Tag::Context(2, p) => property = unsigned(p),
                Tag::Context(3, _) => {}
                Tag::Opening(n @ (4 | 5)) => {
                    let (value, after) = enclosed(rest, n)?;
                    rest = after;
                    if let (4, Some(property)) = (n, property) {
                        each(PropertyValue { object, property, value });
                    }
                }
                Tag::Closing(1) => break,
                _ => return Err("bacnet rpm ack result malformed"),
            }
        }
        b = rest;
    }
    Ok(())
}

/// A CharacterString's text (clause 20.2.9): its first byte names the character set. UTF-8
/// (formerly ANSI X3.4), UCS-2 and ISO 8859-1 are read; the rarer DBCS, JIS X 0208 and UCS-4
/// sets are not.
pub(crate) fn character_string(b: &[u8]) -> Option<String> {
    let (&set, text) = b.split_first()?;
    match set {
        0 => Some(String::from_utf8_lossy(text).into_owned()),
        4 => {
            let units = text.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            Some(char::decode_utf16(units).map(|c| c.unwrap_or('\u{fffd}')).collect())
        }
        5 => Some(text.iter().map(|c| char::from(*c)).collect()),
        _ => None,
    }
}
