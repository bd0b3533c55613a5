//! DHCPv4 (RFC 2131/2132) and DHCPv6 (RFC 8415) messages as borrowed views.

use std::net::Ipv4Addr;

/// The DHCPv4 magic cookie after the BOOTP header.
pub const MAGIC: [u8; 4] = [0x63, 0x82, 0x53, 0x63];
/// Options start after the 236-byte BOOTP header and the cookie.
const OPTIONS_AT: usize = 240;
/// Most options one message may carry before the rest is ignored and counted as malformed.
const MAX_OPTIONS: usize = 255;

/// One DHCPv4 message.
#[derive(Debug)]
pub struct Dhcp4<'a> {
    /// 1 = request (client to server), 2 = reply.
    pub op: u8,
    /// Transaction id.
    pub xid: u32,
    /// Client address the client already has.
    pub ciaddr: Ipv4Addr,
    /// Address the server gives ("your" address).
    pub yiaddr: Ipv4Addr,
    /// Relay agent address.
    pub giaddr: Ipv4Addr,
    /// Client hardware address, `hlen` bytes.
    pub chaddr: &'a [u8],
    /// Hardware type (1 = Ethernet).
    pub htype: u8,
    /// Options in the order they appear, from the options field and, with option 52,
    /// from the `file` and `sname` fields.
    pub options: Vec<(u8, &'a [u8])>,
}

impl<'a> Dhcp4<'a> {
    /// Whether `b` is shaped like a DHCPv4 message: BOOTP op and header, the magic cookie.
    pub fn looks_like(b: &[u8]) -> bool {
        b.len() >= OPTIONS_AT && matches!(b[0], 1 | 2) && b[2] <= 16 && b[236..240] == MAGIC
    }

    /// Parses a message; options stop at the end option or at the first option cut short.
    pub fn parse(b: &'a [u8]) -> Result<Dhcp4<'a>, &'static str> {
        if !Dhcp4::looks_like(b) {
            return Err("not a DHCPv4 message");
        }
        let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        let hlen = usize::from(b[2]);
        let mut msg = Dhcp4 {
            op: b[0],
            htype: b[1],
            xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            ciaddr: ip(12),
            yiaddr: ip(16),
            giaddr: ip(24),
            chaddr: &b[28..28 + hlen],
            options: Vec::new(),
        };
        let mut truncated = walk_options(&b[OPTIONS_AT..], &mut msg.options);
        // Option 52 moves more options into the file (1), sname (2) or both (3) fields.
        if let Some(&[overload]) = msg.option(52) {
            if overload & 1 != 0 {
                truncated |= walk_options(&b[108..236], &mut msg.options);
            }
            if overload & 2 != 0 {
                truncated |= walk_options(&b[44..108], &mut msg.options);
            }
        }
        if truncated && msg.options.is_empty() {
            return Err("dhcp options truncated");
        }
        Ok(msg)
    }

    /// The first option with this code.
    pub fn option(&self, code: u8) -> Option<&'a [u8]> {
        self.options.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
    }

    /// The DHCP message type (option 53), if any.
    pub fn message_type(&self) -> Option<u8> {
        self.option(53).and_then(|v| v.first().copied())
    }
}

/// Walks TLV options; returns true when one was cut short.
fn walk_options<'a>(mut b: &'a [u8], out: &mut Vec<(u8, &'a [u8])>) -> bool {
    while let Some((&code, rest)) = b.split_first() {
        match code {
            0 => b = rest,
            255 => return false,
            _ => {
                let Some((&len, rest)) = rest.split_first() else { return true };
                let Some(value) = rest.get(..usize::from(len)) else { return true };
                if out.len() >= MAX_OPTIONS {
                    return true;
                }
                out.push((code, value));
                b = &rest[usize::from(len)..];
            }
        }
    }
    false
}

/// Name of a DHCPv4 message type.
pub fn message_type_name(t: u8) -> &'static str {
    match t {
        1 => "discover",
        2 => "offer",
        3 => "request",
        4 => "decline",
        5 => "ack",
        6 => "nak",
        7 => "release",
        8 => "inform",
        _ => "other",
    }
}

/// One DHCPv6 message (relayed messages are unwrapped to the inner message).
#[derive(Debug)]
pub struct Dhcp6<'a> {
    /// Message type of the innermost message.
    pub msg_type: u8,
    /// Options of the innermost message, in order.
    pub options: Vec<(u16, &'a [u8])>,
    /// Options of the relays around it, outermost first (interface id, remote id).
    pub relay_options: Vec<(u16, &'a [u8])>,
    /// For a relayed message, the innermost relay's peer address: the client's address.
    pub peer: Option<std::net::Ipv6Addr>,
}

/// Relays may nest; Ward unwraps this many.
const MAX_RELAY_DEPTH: usize = 8;

impl<'a> Dhcp6<'a> {
    /// Parses a DHCPv6 message: a known message type and options that fill it exactly.
    pub fn parse(mut b: &'a [u8]) -> Result<Dhcp6<'a>, &'static str> {
        let mut relay_options = Vec::new();
        let mut peer = None;
        for _ in 0..=MAX_RELAY_DEPTH {
            let Some(&msg_type) = b.first() else { return Err("empty dhcpv6 message") };
            match msg_type {
                1..=11 => {
                    let opts = b.get(4..).ok_or("dhcpv6 header truncated")?;
                    let options = walk_options6(opts)?;
                    return Ok(Dhcp6 { msg_type, options, relay_options, peer });
                }
                12 | 13 => {
                    let opts = b.get(34..).ok_or("dhcpv6 relay header truncated")?;
                    let addr: [u8; 16] = b[18..34].try_into().map_err(|_| "dhcpv6 relay header truncated")?;
                    peer = Some(std::net::Ipv6Addr::from(addr));
                    let options = walk_options6(opts)?;
                    // The relayed message is option 9; the rest describes the relay.
                    let inner = options.iter().find(|(c, _)| *c == 9).map(|(_, v)| *v);
                    relay_options.extend(options.into_iter().filter(|(c, _)| *c != 9));
                    b = inner.ok_or("dhcpv6 relay without a relayed message")?;
                }
                _ => return Err("unknown dhcpv6 message type"),
            }
        }
        Err("dhcpv6 relays nested too deep")
    }

    /// The first option with this code.
    pub fn option(&self, code: u16) -> Option<&'a [u8]> {
        self.options.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
    }
}

fn walk_options6(mut b: &[u8]) -> Result<Vec<(u16, &[u8])>, &'static str> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (Some(code), Some(len)) = (b.get(0..2), b.get(2..4)) else {
            return Err("dhcpv6 option truncated");
        };
        let code = u16::from_be_bytes([code[0], code[1]]);
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let value = b.get(4..4 + len).ok_or("dhcpv6 option truncated")?;
        if out.len() >= MAX_OPTIONS {
            return Err("too many dhcpv6 options");
        }
        out.push((code, value));
        b = &b[4 + len..];
    }
    Ok(out)
}

/// Name of a DHCPv6 message type.
pub fn message_type6_name(t: u8) -> &'static str {
    match t {
        1 => "solicit",
        2 => "advertise",
        3 => "request",
        4 => "confirm",
        5 => "renew",
        6 => "rebind",
        7 => "reply",
        8 => "release",
        9 => "decline",
        10 => "reconfigure",
        11 => "information-request",
        _ => "other",
    }
}

/// The link-layer address in a DUID (DUID-LLT, type 1, or DUID-LL, type 3, of Ethernet).
pub fn duid_mac(duid: &[u8]) -> Option<[u8; 6]> {
    let kind = u16::from_be_bytes([*duid.first()?, *duid.get(1)?]);
    let hw = u16::from_be_bytes([*duid.get(2)?, *duid.get(3)?]);
    let addr = match kind {
        1 => duid.get(8..)?,
        3 => duid.get(4..)?,
        _ => return None,
    };
    if hw != 1 || addr.len() != 6 {
        return None;
    }
    addr.try_into().ok()
}

/// A domain name in DNS wire format (as in DHCP option 81 and DHCPv6 option 39), as text.
/// Falls back to the bytes as text when they are not wire format.
pub fn wire_name(b: &[u8]) -> String {
    let mut labels = Vec::new();
    let mut rest = b;
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0 {
            return labels.join(".");
        }
        let Some(label) = tail.get(..usize::from(len)).filter(|_| len < 64) else { break };
        labels.push(String::from_utf8_lossy(label).into_owned());
        rest = &tail[usize::from(len)..];
    }
    if labels.is_empty() || !rest.is_empty() {
        return String::from_utf8_lossy(b).into_owned();
    }
    labels.join(".")
}
