//! DNS, multicast DNS (with DNS service discovery) and LLMNR: what devices look up, the
//! names bound to addresses, and what devices announce about themselves.
//!
//! The three share one wire format; which one a flow speaks shows in its addresses (the mDNS
//! group 224.0.0.251/ff02::fb, the LLMNR group 224.0.0.252/ff02::1:3), and the flow is
//! recorded under that name. Messages are recognised by their shape: a sane header and a
//! message that parses to its end. `simple-dns` parses them; it bounds names and refuses
//! compression loops.
//!
//! - Unicast DNS: the name a device looked up (`dns_query`), and for each address in an
//!   answer the name it answers for (`dns_name`, on that address; PTR answers the same way).
//! - mDNS and LLMNR answers come from the device they describe: its host name (A/AAAA),
//!   the services it offers (PTR to an instance: `mdns_service`, `mdns_instance`), and the
//!   model, manufacturer and firmware version its TXT records publish.

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use simple_dns::rdata::RData;
use simple_dns::{Packet, ResourceRecord};
use ward_core::{DeviceKey, Direction, Observation};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session, Transport, attribute};

/// DNS, mDNS and LLMNR over UDP.
pub struct DnsDissector;

/// Which of the three a flow speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    Dns,
    Mdns,
    Llmnr,
}

struct DnsSession {
    flavour: Option<Flavour>,
}

/// A header is not DNS when it claims more records than a datagram could hold.
fn sane_header(b: &[u8]) -> bool {
    let Some(h) = b.get(..12) else { return false };
    let count = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let opcode = (h[2] >> 3) & 0x0f;
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    let records = u32::from(qd) + u32::from(an) + u32::from(ns) + u32::from(ar);
    // Each question takes 5 bytes at least, each record 11.
    matches!(opcode, 0 | 4 | 5) && qd <= 64 && records > 0 && (b.len() as u32) >= 12 + records * 5
}

impl Dissector for DnsDissector {
    fn name(&self) -> &'static str {
        "dns"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        if sane_header(data) && Packet::parse(data).is_ok() { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(DnsSession { flavour: None })
    }
}

fn flavour_of(ctx: &FlowContext) -> Flavour {
    let group = |ip: IpAddr| match ip {
        IpAddr::V4(v4) if v4 == Ipv4Addr::new(224, 0, 0, 251) => Some(Flavour::Mdns),
        IpAddr::V4(v4) if v4 == Ipv4Addr::new(224, 0, 0, 252) => Some(Flavour::Llmnr),
        IpAddr::V6(v6) if v6 == Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb) => Some(Flavour::Mdns),
        IpAddr::V6(v6) if v6 == Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 3) => Some(Flavour::Llmnr),
        _ => None,
    };
    group(ctx.responder.ip).or_else(|| group(ctx.initiator.ip)).unwrap_or(Flavour::Dns)
}

/// TXT keys devices use for what they are, by the attribute they feed. Printers (IPP, Bonjour
/// printing), AirPlay and HomeKit devices, Google Cast, and many IoT stacks use these.
fn txt_attribute(key: &str) -> Option<&'static str> {
    Some(match key.to_ascii_lowercase().as_str() {
        "model" | "md" | "ty" | "usb_mdl" | "product" | "am" | "mdl" => "model",
        "manufacturer" | "usb_mfg" | "mfg" | "vendor" | "mf" => "manufacturer",
        "fw" | "fv" | "firmware" | "vers" | "version" | "srcvers" | "fwver" | "sw" => "firmware",
        "serialnumber" | "serial" | "sn" => "serial_number",
        "fn" | "name" => "friendly_name",
        _ => return None,
    })
}

/// An address from an in-addr.arpa or ip6.arpa name, for PTR answers.
fn reverse_address(name: &str) -> Option<IpAddr> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(v4) = name.strip_suffix(".in-addr.arpa") {
        let mut o: Vec<u8> = v4.split('.').map(str::parse).collect::<Result<_, _>>().ok()?;
        if o.len() != 4 {
            return None;
        }
        o.reverse();
        return Some(IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3])));
    }
    let v6 = name.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = v6.split('.').map(|n| u8::from_str_radix(n, 16)).collect::<Result<_, _>>().ok()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        b[i] = pair[1] << 4 | pair[0];
    }
    Some(IpAddr::V6(Ipv6Addr::from(b)))
}

fn address(rr: &ResourceRecord<'_>) -> Option<IpAddr> {
    match &rr.rdata {
        RData::A(a) => Some(IpAddr::V4(Ipv4Addr::from(a.address))),
        RData::AAAA(a) => Some(IpAddr::V6(Ipv6Addr::from(a.address))),
        _ => None,
    }
}

/// `printer.local.` → `printer`.
/// A name as text, as `simple-dns` writes it (labels joined by dots, a dot or backslash
/// inside a label escaped), without the formatting machinery: this runs for every answer.
fn name_text(name: &simple_dns::Name<'_>) -> String {
    let mut out = String::with_capacity(64);
    for (i, label) in name.as_bytes().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.iter().all(|b| b.is_ascii() && *b != b'.' && *b != b'\\') {
            out.extend(label.iter().map(|b| char::from(*b)));
        } else {
            for c in String::from_utf8_lossy(label).chars() {
                if c == '.' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

fn local_host(name: &str) -> String {
    let n = name.trim_end_matches('.');
    n.strip_suffix(".local").unwrap_or(n).to_owned()
}

impl Session for DnsSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let flavour = *self.flavour.get_or_insert_with(|| flavour_of(ctx));
        let Ok(msg) = Packet::parse(data) else { return Parsed::Malformed("dns message does not parse") };
        let ts = ctx.ts;
        let sender = if dir == Direction::ToResponder { ctx.initiator.ip } else { ctx.responder.ip };
        let is_response = data.get(2).is_some_and(|f| f & 0x80 != 0);
        let mut emit = |o: Option<Observation>| {
            if let Some(o) = o {
                out.emit(o);
            }
        };
        let records = || msg.answers.iter().chain(&msg.additional_records);
        match flavour {
            Flavour::Dns if !is_response => {
                for q in &msg.questions {
                    let name = name_text(&q.qname);
                    emit(attribute(ts, DeviceKey::Ip(sender), "dns_query", &name, "dns.query", 40));
                }
            }
            Flavour::Dns => {
                // Each address answers for the name asked (through CNAMEs).
                let asked = msg.questions.first().map(|q| name_text(&q.qname));
                for rr in records() {
                    if let Some(ip) = address(rr) {
                        let name = asked.clone().unwrap_or_else(|| name_text(&rr.name));
                        emit(attribute(ts, DeviceKey::Ip(ip), "dns_name", &name, "dns.answer", 70));
                    } else if let RData::PTR(ptr) = &rr.rdata
                        && let Some(ip) = reverse_address(&name_text(&rr.name))
                    {
                        emit(attribute(ts, DeviceKey::Ip(ip), "dns_name", &name_text(&ptr.0), "dns.ptr", 70));
                    }
                }
            }
            Flavour::Mdns | Flavour::Llmnr => {
                let (host_src, conf) =
                    if flavour == Flavour::Mdns { ("mdns.a", 85) } else { ("llmnr.answer", 80) };
                for rr in records() {
                    let name = name_text(&rr.name);
                    match &rr.rdata {
                        RData::A(_) | RData::AAAA(_) => {
                            if let Some(ip) = address(rr) {
                                emit(attribute(
                                    ts,
                                    DeviceKey::Ip(ip),
                                    "hostname",
                                    &local_host(&name),
                                    host_src,
                                    conf,
                                ));
                            }
                        }
                        RData::PTR(ptr) if name.starts_with('_') => {
                            // _ipp._tcp.local → "HP LaserJet [ABC]._ipp._tcp.local"
                            let service = name.trim_end_matches('.').trim_end_matches(".local");
                            let target = name_text(&ptr.0);
                            let instance = target.split("._").next().unwrap_or(&target);
                            let dev = DeviceKey::Ip(sender);
                            emit(attribute(ts, dev, "mdns_service", service, "mdns.ptr", 80));
                            if !name.starts_with("_services._dns-sd") {
                                emit(attribute(ts, dev, "mdns_instance", instance, "mdns.ptr", 80));
                            }
                        }
                        RData::TXT(txt) => {
                            for (k, v) in txt.iter_raw() {
                                let key = String::from_utf8_lossy(k);
                                let (Some(attr), Some(v)) = (txt_attribute(&key), v) else { continue };
                                let source = match attr {
                                    "model" => "mdns.txt.model",
                                    "manufacturer" => "mdns.txt.manufacturer",
                                    "firmware" => "mdns.txt.version",
                                    "serial_number" => "mdns.txt.serial",
                                    _ => "mdns.txt.name",
                                };
                                let dev = DeviceKey::Ip(sender);
                                emit(attribute(ts, dev, attr, &String::from_utf8_lossy(v), source, 75));
                            }
                        }
                        RData::SRV(srv) => {
                            // "HP LaserJet M507._ipp._tcp.local" SRV 0 0 631 prn-7.local: the
                            // service's port, and the host that offers it.
                            let service = name.split_once("._").map_or("", |(_, rest)| rest);
                            let service = service.trim_end_matches('.').trim_end_matches(".local");
                            let dev = DeviceKey::Ip(sender);
                            if !service.is_empty() {
                                let offer = format!("_{service} {}", srv.port);
                                emit(attribute(ts, dev, "mdns_service_port", &offer, "mdns.srv", 80));
                            }
                            let host = local_host(&name_text(&srv.target));
                            emit(attribute(ts, dev, "hostname", &host, "mdns.srv", 75));
                        }
                        RData::HINFO(h) => {
                            let dev = DeviceKey::Ip(sender);
                            emit(attribute(ts, dev, "os", &h.os.to_string(), "mdns.hinfo", 60));
                        }
                        _ => {}
                    }
                }
            }
        }
        Parsed::Consumed(data.len())
    }

    fn protocol(&self) -> Option<&'static str> {
        match self.flavour? {
            Flavour::Dns => None,
            Flavour::Mdns => Some("mdns"),
            Flavour::Llmnr => Some("llmnr"),
        }
    }
}
