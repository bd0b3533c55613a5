//! What one run shows each internal address doing: the raw material baselines learn from and
//! anomalies are found in. Every map is capped; what does not fit is counted.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ward_core::{FlowRecord, FlowRef, Timestamp};

/// External peers kept per address.
pub(crate) const MAX_PEERS: usize = 4096;
/// Services kept per address and side.
pub(crate) const MAX_SERVICES: usize = 1024;
/// Clinical destinations kept per address.
pub(crate) const MAX_CLINICAL: usize = 1024;
/// Failed or unanswered attempts kept per address (for scan detection).
pub(crate) const MAX_ATTEMPTS: usize = 16_384;
/// Hours of volume kept per address.
pub(crate) const MAX_HOURS: usize = 24 * 92;

/// The first time something was seen, and the conversation that showed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) first: Timestamp,
    pub(crate) flow: FlowRef,
}

/// One internal address in one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct IpActivity {
    pub(crate) external_peers: HashMap<IpAddr, Seen>,
    pub(crate) client_services: HashMap<(u8, u16), Seen>,
    pub(crate) server_services: HashMap<(u8, u16), Seen>,
    pub(crate) clinical: HashMap<(String, IpAddr), Seen>,
    pub(crate) hourly: BTreeMap<i64, u64>,
    pub(crate) attempts: Vec<(Timestamp, IpAddr, u16, FlowRef)>,
}

/// A run's behaviour, by address.
#[derive(Debug, Default)]
pub struct Activity {
    pub(crate) by_ip: HashMap<IpAddr, IpActivity>,
    /// Entries left out because a cap was hit.
    pub not_kept: u64,
}

/// Whether an address is on the internet: not private, shared, loopback, link-local,
/// documentation, multicast or otherwise reserved.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_unspecified()
                || a.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || a.to_ipv4_mapped().is_some())
        }
    }
}

fn keep<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Seen>,
    cap: usize,
    key: K,
    seen: Seen,
    dropped: &mut u64,
) {
    let room = map.len() < cap;
    match map.get_mut(&key) {
        Some(s) if seen.first < s.first => *s = seen,
        Some(_) => {}
        None if room => {
            map.insert(key, seen);
        }
        None => *dropped += 1,
    }
}

/// The flow's five-tuple and VLAN.
pub fn flow_ref(r: &FlowRecord) -> FlowRef {
    let ports = r.proto.has_ports();
    FlowRef {
        src: r.initiator.ip,
        src_port: if ports { r.initiator.port } else { 0 },
        dst: r.responder.ip,
        dst_port: if ports { r.responder.port } else { 0 },
        proto: r.proto.0,
        vlan: r.vlans.access_vlan(),
    }
}

impl Activity {
    /// Takes one finished conversation.
    pub fn flow(&mut self, r: &FlowRecord) {
        let (i, d) = (r.initiator.ip, r.responder.ip);
        let answered = r.packets[1] > 0;
        let f = flow_ref(r);
        let seen = Seen { first: r.start, flow: f };
        let port = f.dst_port;
        let hour = (r.start.as_secs() / 3600) as i64;
        let bytes = r.bytes[0] + r.bytes[1];
        let mut dropped = 0;
        if !is_global(i) && is_device(i) {
            let a = self.by_ip.entry(i).or_default();
            if answered {
                keep(&mut a.client_services, MAX_SERVICES, (f.proto, port), seen, &mut dropped);
                if is_global(d) {
                    keep(&mut a.external_peers, MAX_PEERS, d, seen, &mut dropped);
                }
                if let Some(app) = r.app.as_deref().filter(|a| matches!(*a, "dicom" | "hl7")) {
                    keep(&mut a.clinical, MAX_CLINICAL, (app.to_owned(), d), seen, &mut dropped);
                }
            } else if r.proto.has_ports() && (r.is_failed_connection() || r.proto.0 == 17) {
                if a.attempts.len() < MAX_ATTEMPTS {
                    a.attempts.push((r.start, d, port, f));
                } else {
                    dropped += 1;
                }
            }
            add_hour(&mut a.hourly, hour, bytes, &mut dropped);
        }
        if !is_global(d) && is_device(d) && answered {
            let a = self.by_ip.entry(d).or_default();
            if r.proto.has_ports() {
                keep(&mut a.server_services, MAX_SERVICES, (f.proto, port), seen, &mut dropped);
            }
            if is_global(i) {
                keep(&mut a.external_peers, MAX_PEERS, i, seen, &mut dropped);
            }
            add_hour(&mut a.hourly, hour, bytes, &mut dropped);
        }
        self.not_kept += dropped;
    }

    /// Addresses seen.
    pub fn len(&self) -> usize {
        self.by_ip.len()
    }

    /// Whether nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.by_ip.is_empty()
    }
}

fn add_hour(h: &mut BTreeMap<i64, u64>, hour: i64, bytes: u64, dropped: &mut u64) {
    if let Some(v) = h.get_mut(&hour) {
        *v += bytes;
    } else if h.len() < MAX_HOURS {
        h.insert(hour, bytes);
    } else {
        *dropped += 1;
    }
}

/// Broadcast, multicast and unspecified addresses are nobody's.
fn is_device(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => !(a.is_broadcast() || a.is_multicast() || a.is_unspecified()),
        IpAddr::V6(a) => !(a.is_multicast() || a.is_unspecified()),
    }
}

#[cfg(test)]
mod tests {
    use super::is_global;

    #[test]
    fn global_means_on_the_internet() {
        for a in ["8.8.8.8", "93.184.216.34", "2a00:1450::1"] {
            assert!(is_global(a.parse().expect("ip")), "{a}");
        }
        for a in [
            "10.1.1.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.1.1",
            "127.0.0.1",
            "192.0.2.1",
            "224.0.0.251",
            "255.255.255.255",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::1",
        ] {
            assert!(!is_global(a.parse().expect("ip")), "{a}");
        }
    }
}
