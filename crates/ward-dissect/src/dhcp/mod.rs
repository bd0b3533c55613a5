//! DHCP: what a device calls itself and what it asks for when it joins the network.
//!
//! DHCPv4 requests carry the host name (12), FQDN (81), vendor class (60), client id (61),
//! user class (77), the parameter request list (55, kept in order: its order fingerprints
//! the DHCP client), the requested address (50) and the MUD URL (161); relays add the switch
//! and port (82). An ACK binds the client's hardware address to its address. DHCPv6 carries
//! the DUID, vendor class (16), FQDN (39), the option request list (6) and the MUD URL (112).
//! Messages are recognised by their shape (BOOTP header and magic cookie; DHCPv6 message type
//! and options that fill the datagram), never by port.

pub mod parser;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use parser::{Dhcp4, Dhcp6};
use ward_core::{DeviceKey, Direction, Evidence, Mac, Observation, ObservationKind};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session, Transport, attribute, text_or_hex};

/// DHCPv4.
pub struct Dhcp4Dissector;
/// DHCPv6.
pub struct Dhcp6Dissector;

struct Dhcp4Session;
struct Dhcp6Session;

impl Dissector for Dhcp4Dissector {
    fn name(&self) -> &'static str {
        "dhcp"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        if Dhcp4::looks_like(data) { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(Dhcp4Session)
    }
}

impl Dissector for Dhcp6Dissector {
    fn name(&self) -> &'static str {
        "dhcpv6"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        // A known message type, options that fill the datagram exactly, and a client or
        // server id holding a well-formed DUID (types 1-4): together a narrow shape.
        let Ok(m) = Dhcp6::parse(data) else { return Probe::NoMatch };
        let duid = |v: &[u8]| v.len() >= 6 && matches!(u16::from_be_bytes([v[0], v[1]]), 1..=4);
        if m.options.iter().any(|(c, v)| matches!(c, 1 | 2) && duid(v)) {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(Dhcp6Session)
    }
}

fn ipv4(v: &[u8]) -> Option<Ipv4Addr> {
    let b: [u8; 4] = v.get(..4)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

impl Session for Dhcp4Session {
    fn parse(&mut self, ctx: &FlowContext, _dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let msg = match Dhcp4::parse(data) {
            Ok(m) => m,
            Err(e) => return Parsed::Malformed(e),
        };
        let ts = ctx.ts;
        let vlan = ctx.vlans.access_vlan();
        let client = Mac::from_slice(msg.chaddr).filter(|m| msg.htype == 1 && m.is_unicast_device());
        let mut emit = |o: Option<Observation>| {
            if let Some(o) = o {
                out.emit(o);
            }
        };
        if msg.op == 1 {
            let Some(mac) = client else { return Parsed::Consumed(data.len()) };
            let dev = DeviceKey::Mac(mac);
            let ip = (!msg.ciaddr.is_unspecified()).then_some(IpAddr::V4(msg.ciaddr));
            let evidence = Evidence::new(if ip.is_some() { "dhcp.ciaddr" } else { "dhcp.chaddr" }, 90);
            emit(Some(Observation { ts, device: dev, kind: ObservationKind::Seen { ip, vlan, evidence } }));
            for &(code, v) in &msg.options {
                let o = match code {
                    12 => attribute(ts, dev, "hostname", &String::from_utf8_lossy(v), "dhcp.option12", 80),
                    81 if v.len() > 3 => {
                        // flags, two rcodes, then the name: DNS wire format when flag E is set.
                        let name = if v[0] & 0x04 != 0 {
                            parser::wire_name(&v[3..])
                        } else {
                            String::from_utf8_lossy(&v[3..]).into_owned()
                        };
                        attribute(ts, dev, "fqdn", &name, "dhcp.option81", 80)
                    }
                    60 => {
                        attribute(ts, dev, "vendor_class", &String::from_utf8_lossy(v), "dhcp.option60", 85)
                    }
                    61 => attribute(ts, dev, "client_id", &text_or_hex(v), "dhcp.option61", 60),
                    77 => attribute(ts, dev, "user_class", &user_class(v), "dhcp.option77", 70),
                    55 => attribute(
                        ts,
                        dev,
                        "dhcp_fingerprint",
                        &list(v.iter().map(|c| c.to_string())),
                        "dhcp.option55",
                        70,
                    ),
                    50 => ipv4(v).and_then(|a| {
                        attribute(ts, dev, "requested_ip", &a.to_string(), "dhcp.option50", 60)
                    }),
                    161 => attribute(ts, dev, "mud_url", &String::from_utf8_lossy(v), "dhcp.option161", 90),
                    82 => {
                        for (sub, sv) in suboptions(v) {
                            let (key, source) = match sub {
                                1 => ("relay_circuit_id", "dhcp.option82.1"),
                                2 => ("relay_remote_id", "dhcp.option82.2"),
                                _ => continue,
                            };
                            emit(attribute(ts, dev, key, &text_or_hex(sv), source, 80));
                        }
                        None
                    }
                    _ => None,
                };
                emit(o);
            }
        } else {
            if msg.message_type() == Some(5)
                && let Some(mac) = client
                && !msg.yiaddr.is_unspecified()
            {
                let kind = ObservationKind::Seen {
                    ip: Some(IpAddr::V4(msg.yiaddr)),
                    vlan: if msg.giaddr.is_unspecified() { vlan } else { None },
                    evidence: Evidence::new("dhcp.ack", 95),
                };
                emit(Some(Observation { ts, device: DeviceKey::Mac(mac), kind }));
            }
            if let Some(server) = msg.option(54).and_then(ipv4) {
                emit(attribute(
                    ts,
                    DeviceKey::Ip(IpAddr::V4(server)),
                    "service",
                    "dhcp-server",
                    "dhcp.option54",
                    80,
                ));
            }
        }
        Parsed::Consumed(data.len())
    }
}

/// Option 77: a list of length-prefixed classes (RFC 3004), or one plain string as older
/// Windows clients send.
fn user_class(v: &[u8]) -> String {
    let mut classes = Vec::new();
    let mut rest = v;
    while let Some((&len, tail)) = rest.split_first() {
        let Some(c) = tail.get(..usize::from(len)).filter(|_| len > 0) else {
            return String::from_utf8_lossy(v).into_owned();
        };
        classes.push(String::from_utf8_lossy(c).into_owned());
        rest = &tail[usize::from(len)..];
    }
    if classes.is_empty() { String::from_utf8_lossy(v).into_owned() } else { classes.join(",") }
}

/// Sub-options (code, length, value) of option 82.
fn suboptions(mut v: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let [code, len, rest @ ..] = v {
        let Some(value) = rest.get(..usize::from(*len)) else { break };
        out.push((*code, value));
        v = &rest[usize::from(*len)..];
    }
    out
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}

impl Session for Dhcp6Session {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let msg = match Dhcp6::parse(data) {
            Ok(m) => m,
            Err(e) => return Parsed::Malformed(e),
        };
        let ts = ctx.ts;
        let sender = if dir == Direction::ToResponder { ctx.initiator } else { ctx.responder };
        let client_mac = msg.option(1).and_then(parser::duid_mac).map(Mac).filter(Mac::is_unicast_device);
        let mut emit = |o: Option<Observation>| {
            if let Some(o) = o {
                out.emit(o);
            }
        };
        let from_client = matches!(msg.msg_type, 1 | 3 | 4 | 5 | 6 | 8 | 9 | 11);
        if from_client {
            let dev = client_mac.map_or(DeviceKey::Ip(sender.ip), DeviceKey::Mac);
            if let Some(mac) = client_mac {
                // The client's link-local address: its own source, or the peer address its
                // relay gives.
                let ip = match (msg.peer, sender.ip) {
                    (Some(peer), _) => Some(peer),
                    (None, IpAddr::V6(ip)) => Some(ip),
                    _ => None,
                }
                .filter(Ipv6Addr::is_unicast_link_local)
                .map(IpAddr::V6);
                let kind = ObservationKind::Seen {
                    ip,
                    vlan: ctx.vlans.access_vlan(),
                    evidence: Evidence::new("dhcpv6.duid", 85),
                };
                emit(Some(Observation { ts, device: DeviceKey::Mac(mac), kind }));
            }
            for &(code, v) in &msg.options {
                let o = match code {
                    1 => attribute(ts, dev, "client_id", &crate::hex(v), "dhcpv6.option1", 60),
                    39 if v.len() > 1 => {
                        attribute(ts, dev, "fqdn", &parser::wire_name(&v[1..]), "dhcpv6.option39", 80)
                    }
                    16 if v.len() > 4 => {
                        let enterprise = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                        let data = length_prefixed(&v[4..]);
                        let text = if data.is_empty() {
                            enterprise.to_string()
                        } else {
                            format!("{enterprise}:{data}")
                        };
                        attribute(ts, dev, "vendor_class", &text, "dhcpv6.option16", 85)
                    }
                    15 => attribute(ts, dev, "user_class", &length_prefixed(v), "dhcpv6.option15", 70),
                    6 => {
                        let codes = v.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]).to_string());
                        attribute(ts, dev, "dhcpv6_fingerprint", &list(codes), "dhcpv6.option6", 70)
                    }
                    112 => attribute(ts, dev, "mud_url", &String::from_utf8_lossy(v), "dhcpv6.option112", 90),
                    _ => None,
                };
                emit(o);
            }
            for &(code, v) in &msg.relay_options {
                let o = match code {
                    18 => {
                        attribute(ts, dev, "relay_circuit_id", &text_or_hex(v), "dhcpv6.relay.option18", 80)
                    }
                    37 if v.len() > 4 => attribute(
                        ts,
                        dev,
                        "relay_remote_id",
                        &text_or_hex(&v[4..]),
                        "dhcpv6.relay.option37",
                        80,
                    ),
                    _ => None,
                };
                emit(o);
            }
        } else if msg.msg_type == 7
            && let Some(mac) = client_mac
        {
            // Addresses the server assigned, inside IA_NA (3) as IAADDR (5) options.
            for (_, ia) in msg.options.iter().filter(|(c, _)| *c == 3) {
                for addr in ia_addresses(ia) {
                    let kind = ObservationKind::Seen {
                        ip: Some(IpAddr::V6(addr)),
                        vlan: None,
                        evidence: Evidence::new("dhcpv6.iaaddr", 90),
                    };
                    emit(Some(Observation { ts, device: DeviceKey::Mac(mac), kind }));
                }
            }
        }
        Parsed::Consumed(data.len())
    }
}

/// A list of 2-byte-length-prefixed strings (DHCPv6 vendor and user classes), joined.
fn length_prefixed(mut v: &[u8]) -> String {
    let mut items = Vec::new();
    while v.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([v[0], v[1]]));
        let Some(item) = v.get(2..2 + len) else { break };
        items.push(String::from_utf8_lossy(item).into_owned());
        v = &v[2 + len..];
    }
    items.join(",")
}

/// IAADDR addresses inside an IA_NA option (IAID, T1, T2, then options).
fn ia_addresses(ia: &[u8]) -> Vec<Ipv6Addr> {
    let mut out = Vec::new();
    let mut v = ia.get(12..).unwrap_or_default();
    while v.len() >= 4 {
        let code = u16::from_be_bytes([v[0], v[1]]);
        let len = usize::from(u16::from_be_bytes([v[2], v[3]]));
        let Some(value) = v.get(4..4 + len) else { break };
        if code == 5
            && let Some(a) = value.get(..16).and_then(|a| <[u8; 16]>::try_from(a).ok())
        {
            out.push(Ipv6Addr::from(a));
        }
        v = &v[4 + len..];
    }
    out
}
