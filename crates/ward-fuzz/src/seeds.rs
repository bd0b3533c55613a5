//! Seeds for the dissector targets, cut from real captures: each flow goes to the target of
//! the dissector whose probe accepts its first payload, in that target's record framing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use ward_capture::{CaptureReader, ReaderOptions};
use ward_core::Direction;
use ward_dissect::{Dissector, Probe};
use ward_flow::decode::{self, Anomalies, Net, Transport};

/// Bytes of a flow kept in its seed.
const MAX_SEED: usize = 16 << 10;

/// Which target reads a flow that `d` recognises, and the control byte's target bits.
fn targets() -> Vec<(&'static str, u8, Box<dyn Dissector>)> {
    use ward_dissect::*;
    vec![
        ("dhcp", 0, Box::new(dhcp::Dhcp4Dissector)),
        ("dhcp", 8, Box::new(dhcp::Dhcp6Dissector)),
        ("dns", 8, Box::new(nbns::NbnsDissector)),
        ("dns", 0, Box::new(dns::DnsDissector)),
        ("ssdp", 0, Box::new(ssdp::SsdpDissector)),
        ("snmp", 0, Box::new(snmp::SnmpDissector)),
        ("ntp", 0, Box::new(ntp::NtpDissector)),
        ("http", 0, Box::new(http::HttpDissector)),
        ("tls", 0, Box::new(tls::TlsDissector)),
        ("socks", 0, Box::new(socks::SocksDissector)),
        ("logins", 0, Box::new(ftp::FtpDissector)),
        ("logins", 8, Box::new(telnet::TelnetDissector)),
    ]
}

type Key = (bool, IpAddr, u16, IpAddr, u16);

#[derive(Default)]
struct Flow {
    records: Vec<u8>,
    first: Option<(Direction, Vec<u8>)>,
    group: bool,
}

/// Seeds from one capture: (target, input) for every flow whose first payload a dissector
/// recognises, and for every LLDP and CDP frame. A capture that cannot be opened gives none.
pub fn from_capture(path: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let targets = targets();
    let mut seeds = Vec::new();
    let Ok(mut r) = CaptureReader::open_with(path, ReaderOptions { mmap: false, ..ReaderOptions::default() })
    else {
        return seeds;
    };
    let mut flows: HashMap<Key, Flow> = HashMap::new();
    let _ = r.for_each_packet(|p, data| {
        let mut an = Anomalies::default();
        let f = decode::decode(p.link, data, p.orig_len, &mut an);
        let (ip, payload, tcp, sport, dport) = match f.net {
            Net::Ether { ether_type: 0x88cc, payload } => {
                seeds.push(("lldp", [&[0u8][..], payload].concat()));
                return;
            }
            Net::Llc(llc)
                if llc.len() > 8 && llc[..8] == [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00] =>
            {
                seeds.push(("lldp", [&[1u8][..], &llc[8..]].concat()));
                return;
            }
            Net::Ip(ip) if ip.fragment.is_none() => {
                match decode::decode_transport(ip.proto, ip.payload, ip.src.is_ipv6(), &mut an) {
                    Transport::Udp { src_port, dst_port, payload } => {
                        (ip, payload, false, src_port, dst_port)
                    }
                    Transport::Tcp(t) => (ip, t.payload, true, t.src_port, t.dst_port),
                    _ => return,
                }
            }
            _ => return,
        };
        if payload.is_empty() {
            return;
        }
        let fwd = (tcp, ip.src, sport, ip.dst, dport);
        let rev = (tcp, ip.dst, dport, ip.src, sport);
        let (key, dir) = if flows.contains_key(&rev) {
            (rev, Direction::ToInitiator)
        } else {
            (fwd, Direction::ToResponder)
        };
        let flow = flows.entry(key).or_default();
        flow.group |= ip.dst.is_multicast();
        if flow.records.len() >= MAX_SEED {
            return;
        }
        flow.first.get_or_insert((dir, payload.to_vec()));
        flow.records.push(u8::from(dir == Direction::ToInitiator));
        flow.records.extend((payload.len().min(usize::from(u16::MAX)) as u16).to_le_bytes());
        flow.records.extend(payload);
    });
    let mut keys: Vec<&Key> = flows.keys().collect();
    keys.sort();
    for key in keys {
        let flow = &flows[key];
        let Some((dir, first)) = &flow.first else { continue };
        let Some((name, bits, _)) = targets
            .iter()
            .filter(|(_, _, d)| (d.transport() == ward_dissect::Transport::Tcp) == key.0)
            .find(|(_, _, d)| d.probe(*dir, first) == Probe::Match)
        else {
            continue;
        };
        let mut seed = flow.records.clone();
        // The target bits ride on the first control byte; so does the multicast bit.
        seed[0] |= bits | if flow.group { 4 } else { 0 };
        seeds.push((name, seed));
    }
    seeds
}
