//! MQTT control packets as borrowed views: the fixed header with its variable-length
//! remaining length, and the few packets Ward reads (CONNECT, CONNACK, PUBLISH's topic,
//! SUBSCRIBE's and UNSUBSCRIBE's topic filters). Layouts follow MQTT 3.1 (IBM's "MQIsdp"),
//! OASIS MQTT 3.1.1 (sections 2 and 3) and OASIS MQTT 5.0 (sections 2 and 3), where 5 adds a
//! property block after each variable header. Nothing here reads a PUBLISH payload or a will
//! message.

/// Packet types (the fixed header's high nibble).
pub(crate) const CONNECT: u8 = 1;
pub(crate) const CONNACK: u8 = 2;
pub(crate) const PUBLISH: u8 = 3;
pub(crate) const SUBSCRIBE: u8 = 8;
pub(crate) const SUBACK: u8 = 9;
pub(crate) const UNSUBSCRIBE: u8 = 10;
pub(crate) const UNSUBACK: u8 = 11;
pub(crate) const PINGREQ: u8 = 12;
pub(crate) const PINGRESP: u8 = 13;
pub(crate) const AUTH: u8 = 15;

/// A fixed header: type, flags and the remaining length, and how many bytes it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    /// Bytes after the fixed header.
    pub(crate) remaining: usize,
    /// Bytes of the fixed header itself (2 to 5).
    pub(crate) len: usize,
}

/// A variable byte integer (1 to 4 bytes, 7 bits each, low first): `Ok(None)` when more
/// bytes are needed, `Err` when a fifth byte would be needed.
pub(crate) fn varint(b: &[u8]) -> Result<Option<(usize, usize)>, &'static str> {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&byte) = b.get(i) else { return Ok(None) };
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    Err("mqtt remaining length over 4 bytes")
}

/// The fixed header at the start of `b`; `Ok(None)` when more bytes are needed.
pub(crate) fn header(b: &[u8]) -> Result<Option<Header>, &'static str> {
    let Some((&first, rest)) = b.split_first() else { return Ok(None) };
    let Some((remaining, n)) = varint(rest)? else { return Ok(None) };
    Ok(Some(Header { kind: first >> 4, flags: first & 0x0f, remaining, len: 1 + n }))
}

/// A cursor over one packet's bytes; every read is checked.
pub(crate) struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if n > self.b.len() {
            return Err("mqtt field runs past its packet");
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, &'static str> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A two-byte-length-prefixed string or binary field.
    pub(crate) fn string(&mut self) -> Result<&'a [u8], &'static str> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// An MQTT 5 property block, skipped.
    pub(crate) fn properties(&mut self) -> Result<(), &'static str> {
        match varint(self.b) {
            Ok(Some((n, used))) => {
                self.take(used)?;
                self.take(n).map(|_| ()).map_err(|_| "mqtt properties run past their packet")
            }
            Ok(None) => Err("mqtt property length runs past its packet"),
            Err(e) => Err(e),
        }
    }
}

/// A CONNECT packet: what identifies the client and whether it logs in. The password is kept
/// only as a borrow for the credential judgement; the will message is never read.
#[derive(Debug)]
pub(crate) struct Connect<'a> {
    pub(crate) level: u8,
    pub(crate) client_id: &'a [u8],
    pub(crate) will_topic: Option<&'a [u8]>,
    pub(crate) user: Option<&'a [u8]>,
    pub(crate) password: Option<&'a [u8]>,
}

/// The protocol level of a CONNECT's variable header at the start of `body`: `Ok(None)` when
/// `body` is too short to tell, `Err` when it is no MQTT CONNECT. The level's top bit is the
/// bridge flag some brokers (mosquitto) set when they connect to each other.
pub(crate) fn protocol_level(body: &[u8]) -> Result<Option<u8>, &'static str> {
    const NAMES: [(&[u8], u8); 2] = [(b"\x00\x04MQTT", 4), (b"\x00\x06MQIsdp", 3)];
    for (name, min) in NAMES {
        let n = body.len().min(name.len());
        if body.get(..n) != name.get(..n) {
            continue;
        }
        let Some(&level) = body.get(name.len()) else { return Ok(None) };
        let level = level & 0x7f;
        return if (min..=5).contains(&level) { Ok(Some(level)) } else { Err("mqtt unknown protocol level") };
    }
    Err("not an mqtt protocol name")
}

/// Parses a CONNECT packet's body (after the fixed header).
pub(crate) fn connect(body: &[u8]) -> Result<Connect<'_>, &'static str> {
    let level = protocol_level(body)?.ok_or("mqtt connect too short")?;
    let mut r = Reader::new(body);
    r.string()?;
    r.u8()?;
    let flags = r.u8()?;
    r.u16()?; // keep alive
    if level == 5 {
        r.properties()?;
    }
    let client_id = r.string()?;
    let mut will_topic = None;
    if flags & 0x04 != 0 {
        if level == 5 {
            r.properties()?;
        }
        will_topic = Some(r.string()?);
        r.string()?; // the will message: skipped unread
    }
    let user = if flags & 0x80 != 0 { Some(r.string()?) } else { None };
    let password = if flags & 0x40 != 0 { Some(r.string()?) } else { None };
    Ok(Connect { level, client_id, will_topic, user, password })
}

/// A CONNACK's return code (3.1, 3.1.1) or reason code (5), and in 5 the client id the
/// broker assigned to a client that connected without one (property 0x12).
pub(crate) fn connack(body: &[u8]) -> Result<(u8, Option<&[u8]>), &'static str> {
    let mut r = Reader::new(body);
    r.u8()?;
    let rc = r.u8()?;
    if r.is_empty() {
        return Ok((rc, None));
    }
    let (n, used) = varint(r.b)?.ok_or("mqtt property length runs past its packet")?;
    r.take(used)?;
    let mut props = Reader::new(r.take(n)?);
    while !props.is_empty() {
        // MQTT 5 section 2.2.2.2: each property's identifier names its type.
        match props.u8()? {
            0x12 => return Ok((rc, Some(props.string()?))),
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2a => {
                props.take(1)?;
            }
            0x13 | 0x21 | 0x22 | 0x23 => {
                props.take(2)?;
            }
            0x02 | 0x11 | 0x18 | 0x27 => {
                props.take(4)?;
            }
            0x0b => {
                let (_, used) = varint(props.b)?.ok_or("mqtt property runs past its packet")?;
                props.take(used)?;
            }
            0x03 | 0x08 | 0x15 | 0x1a | 0x1c | 0x1f | 0x09 | 0x16 => {
                props.string()?;
            }
            0x26 => {
                props.string()?;
                props.string()?;
            }
            _ => return Ok((rc, None)),
        }
    }
    Ok((rc, None))
}

/// The topic name at the start of a PUBLISH's variable header.
pub(crate) fn publish_topic(head: &[u8]) -> Result<&[u8], &'static str> {
    Reader::new(head).string()
}

/// The topic filters of a SUBSCRIBE (each followed by an options byte) or an UNSUBSCRIBE.
pub(crate) fn topic_filters<'a>(
    body: &'a [u8],
    level: u8,
    subscribe: bool,
    mut each: impl FnMut(&'a [u8]),
) -> Result<(), &'static str> {
    let mut r = Reader::new(body);
    r.u16()?; // packet identifier
    if level == 5 {
        r.properties()?;
    }
    while !r.is_empty() {
        each(r.string()?);
        if subscribe {
            r.u8()?;
        }
    }
    Ok(())
}
