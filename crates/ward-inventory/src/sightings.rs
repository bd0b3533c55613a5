//! One run's reading of the traffic: the devices it saw with their MACs, IPs, VLANs, services
//! and what they said about themselves, the communication map by address, and totals.
//!
//! This is identity within one run; [`crate::Inventory`] merges runs into the inventory. It binds an IP to a MAC when
//! ARP says so, or when that MAC sent the IP's packets and sends for few addresses. A MAC that
//! sends for many addresses is a router (or a firewall, or a NAT) and does not own them; the
//! addresses behind it are listed as devices of their own, known by IP.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use hashbrown::HashMap;
use serde::Serialize;
use ward_core::{
    AccountKind, Classification, DeviceId, DeviceKey, FlowRecord, IpProto, IpRange, Lifecycle, Mac,
    Observation, ObservationKind, Service, Timestamp, Weakness,
};

/// A MAC sending for more addresses than this (and not claiming them by ARP) is a router.
pub const ROUTER_MIN_ADDRESSES: usize = 8;
/// Distinct attributes (key and value) kept per device key; more are counted, not listed.
/// Different attributes (keys) one device key may announce.
const MAX_ATTRIBUTE_KEYS: usize = 64;
/// Different values one attribute may take on one device key (a workstation asks DNS for
/// thousands of names; its host name must still fit).
const MAX_VALUES_PER_KEY: usize = 32;
/// Distinct credential findings kept per device key.
const MAX_CREDENTIALS: usize = 16;
/// Services remembered per address.
const MAX_SERVICES: usize = 64;
/// Addresses one MAC may claim by ARP in the summary.
const MAX_CLAIMED_IPS: usize = 256;
/// Addresses remembered per MAC from traffic (beyond this it is a router anyway).
const MAX_TRAFFIC_IPS: usize = 64;
/// Devices tracked at most; beyond, new ones are counted and not listed.
const MAX_DEVICES: usize = 1 << 20;
/// Entries of the communication map kept for one run (address pair, service, hour).
const MAX_EDGES: usize = 1 << 21;

impl EdgeSeen {
    fn add(&mut self, r: &FlowRecord) {
        self.flows += 1;
        self.packets += r.packets[0] + r.packets[1];
        self.bytes += r.bytes[0] + r.bytes[1];
    }
}

#[derive(Default)]
struct MacSeen {
    /// Addresses ARP or DHCP bound to it, with when.
    arp_ips: BTreeMap<IpAddr, (Timestamp, Timestamp)>,
    traffic_ips: BTreeSet<IpAddr>,
    vlans: BTreeSet<u16>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    evidence: BTreeSet<Cow<'static, str>>,
}

struct AttributeSeen {
    source: Cow<'static, str>,
    confidence: u8,
    first: Timestamp,
    last: Timestamp,
    count: u64,
}

struct CredentialSeen {
    source: Cow<'static, str>,
    count: u64,
}

/// A credential finding: protocol, kind of account, weakness, whether it was accepted.
type CredentialKey = (String, AccountKind, Weakness, Option<bool>);

/// What one device key announced about itself.
#[derive(Default)]
struct Announced {
    /// Values seen for each attribute key.
    attributes: HashMap<String, HashMap<String, AttributeSeen>>,
    credentials: BTreeMap<CredentialKey, CredentialSeen>,
    /// Cleartext protocols it spoke, with or without patient data.
    cleartext: BTreeMap<(Cow<'static, str>, bool), CredentialSeen>,
}

#[derive(Default, Clone)]
struct IpSeen {
    vlans: BTreeSet<u16>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    flows_initiated: u64,
    flows_answered: u64,
    packets_sent: u64,
    packets_received: u64,
    bytes_sent: u64,
    bytes_received: u64,
    /// Services it answered on: (proto, port) to the application and when.
    services: BTreeMap<(u8, u16), ServiceSeen>,
}

#[derive(Clone)]
struct ServiceSeen {
    app: Option<Cow<'static, str>>,
    flows: u64,
    first: Timestamp,
    last: Timestamp,
}

/// Traffic between two addresses on one service within one hour.
#[derive(Clone, Copy, Default)]
struct EdgeSeen {
    flows: u64,
    packets: u64,
    bytes: u64,
}

/// (initiator, responder, proto, responder port, application, hour).
type EdgeKey = (IpAddr, IpAddr, u8, u16, Option<Cow<'static, str>>, i64);

fn widen(first: &mut Option<Timestamp>, last: &mut Option<Timestamp>, a: Timestamp, b: Timestamp) {
    *first = Some(first.map_or(a, |f| f.min(a)));
    *last = Some(last.map_or(b, |l| l.max(b)));
}

/// Whether an address can belong to one device.
fn is_device_address(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_unicast_link_local(),
    }
}

/// Gathers devices, services and applications from observations.
#[derive(Default)]
pub struct Sightings {
    macs: HashMap<Mac, MacSeen>,
    ips: HashMap<IpAddr, IpSeen>,
    applications: BTreeMap<String, u64>,
    services: BTreeMap<(u8, u16), u64>,
    failed_connections: u64,
    flows: u64,
    untracked: u64,
    claims_not_listed: u64,
    announced: HashMap<DeviceKey, Announced>,
    attributes_not_listed: u64,
    edges: HashMap<EdgeKey, EdgeSeen>,
    edges_not_listed: u64,
}

impl Sightings {
    /// Nothing seen yet.
    pub fn new() -> Sightings {
        Sightings::default()
    }

    /// Takes one observation into account.
    pub fn observe(&mut self, o: &Observation) {
        match &o.kind {
            ObservationKind::Seen { ip, vlan, evidence } => {
                let DeviceKey::Mac(mac) = o.device else { return };
                let Some(m) = self.mac(mac) else { return };
                widen(&mut m.first, &mut m.last, o.ts, o.ts);
                m.vlans.extend(*vlan);
                if !m.evidence.contains(evidence.source.as_ref()) {
                    m.evidence.insert(evidence.source.clone());
                }
                if let Some(ip) = ip.filter(is_device_address) {
                    if let Some(t) = m.arp_ips.get_mut(&ip) {
                        t.0 = t.0.min(o.ts);
                        t.1 = t.1.max(o.ts);
                    } else if m.arp_ips.len() < MAX_CLAIMED_IPS {
                        m.arp_ips.insert(ip, (o.ts, o.ts));
                    } else {
                        // A MAC claiming ever more addresses (ARP spoofing, or a proxy): the
                        // summary keeps the first ones and counts the rest.
                        self.claims_not_listed += 1;
                    }
                }
            }
            ObservationKind::FlowEnd(r) => self.flow(r),
            ObservationKind::Attribute { key, value, evidence } => {
                let a = self.announced.entry(o.device).or_default();
                // Looked up by reference (one probe per level): most observations repeat what
                // is known already, and nothing is allocated for them.
                let keys = a.attributes.len();
                let values = match a.attributes.entry_ref(key.as_ref()) {
                    hashbrown::hash_map::EntryRef::Occupied(e) => e.into_mut(),
                    hashbrown::hash_map::EntryRef::Vacant(_) if keys >= MAX_ATTRIBUTE_KEYS => {
                        self.attributes_not_listed += 1;
                        return;
                    }
                    hashbrown::hash_map::EntryRef::Vacant(e) => e.insert(HashMap::new()),
                };
                let n = values.len();
                let e = match values.entry_ref(value.as_str()) {
                    hashbrown::hash_map::EntryRef::Occupied(e) => e.into_mut(),
                    hashbrown::hash_map::EntryRef::Vacant(_) if n >= MAX_VALUES_PER_KEY => {
                        self.attributes_not_listed += 1;
                        return;
                    }
                    hashbrown::hash_map::EntryRef::Vacant(e) => e.insert(AttributeSeen {
                        source: evidence.source.clone(),
                        confidence: evidence.confidence,
                        first: o.ts,
                        last: o.ts,
                        count: 0,
                    }),
                };
                e.count += 1;
                e.first = e.first.min(o.ts);
                e.last = e.last.max(o.ts);
                // The most confident source names the value; between equally confident ones
                // the first by name, so that the answer does not depend on which worker's
                // observations arrived first.
                if (evidence.confidence, std::cmp::Reverse(evidence.source.as_ref()))
                    > (e.confidence, std::cmp::Reverse(e.source.as_ref()))
                {
                    e.confidence = evidence.confidence;
                    e.source = evidence.source.clone();
                }
            }
            ObservationKind::Credential { protocol, account, weakness, accepted, evidence } => {
                let a = self.announced.entry(o.device).or_default();
                // Accepted, refused and unanswered logins are counted apart: refusals in
                // numbers are someone guessing.
                let k = (protocol.to_string(), *account, *weakness, *accepted);
                if !a.credentials.contains_key(&k) && a.credentials.len() >= MAX_CREDENTIALS {
                    self.attributes_not_listed += 1;
                    return;
                }
                let c = a
                    .credentials
                    .entry(k)
                    .or_insert_with(|| CredentialSeen { source: evidence.source.clone(), count: 0 });
                c.count += 1;
            }
            ObservationKind::Cleartext { protocol, phi, evidence } => {
                let a = self.announced.entry(o.device).or_default();
                let k = (protocol.clone(), *phi);
                if !a.cleartext.contains_key(&k) && a.cleartext.len() >= MAX_CREDENTIALS {
                    self.attributes_not_listed += 1;
                    return;
                }
                let c = a
                    .cleartext
                    .entry(k)
                    .or_insert_with(|| CredentialSeen { source: evidence.source.clone(), count: 0 });
                c.count += 1;
            }
        }
    }

    /// What the device keys of one summarised device announced.
    fn announced_by(&self, keys: impl Iterator<Item = DeviceKey>, d: &mut DeviceSummary) {
        // Borrowed, sorted and deduplicated first (the most confident of equal attributes
        // stays); strings are copied once, for the output.
        let mut attrs: Vec<(&str, &str, &AttributeSeen)> = Vec::new();
        // Credential findings: the first key's source, counted over all the keys.
        let mut creds: BTreeMap<&CredentialKey, (&Cow<'static, str>, u64)> = BTreeMap::new();
        for key in keys {
            let Some(a) = self.announced.get(&key) else { continue };
            for (k, values) in &a.attributes {
                attrs.extend(values.iter().map(|(v, seen)| (k.as_str(), v.as_str(), seen)));
            }
            for (k, v) in &a.credentials {
                let c = creds.entry(k).or_insert((&v.source, 0));
                c.1 += v.count;
            }
            for ((protocol, phi), c) in &a.cleartext {
                match d.cleartext.iter_mut().find(|x| x.protocol == *protocol && x.phi == *phi) {
                    Some(x) => x.count += c.count,
                    None => d.cleartext.push(CleartextSummary {
                        protocol: protocol.to_string(),
                        phi: *phi,
                        source: c.source.to_string(),
                        count: c.count,
                    }),
                }
            }
        }
        d.cleartext.sort_by(|a, b| (&a.protocol, a.phi).cmp(&(&b.protocol, b.phi)));
        attrs.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then(b.2.confidence.cmp(&a.2.confidence))
                .then(a.2.source.cmp(&b.2.source))
        });
        // One value said under several of the device's keys (its MAC and its IPs) is one
        // attribute: counted over all of them, from the first time to the last, named by the
        // most confident source (first in the order above). Keeping one key's figures instead
        // made the result depend on the order a hash table gave the keys.
        let mut merged: Vec<AttributeSummary> = Vec::with_capacity(attrs.len());
        for (key, value, a) in attrs {
            match merged.last_mut() {
                Some(m) if m.key == key && m.value == value => {
                    m.count += a.count;
                    m.first_seen = m.first_seen.min(a.first);
                    m.last_seen = m.last_seen.max(a.last);
                }
                _ => merged.push(AttributeSummary {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    source: a.source.to_string(),
                    confidence: a.confidence,
                    first_seen: a.first,
                    last_seen: a.last,
                    count: a.count,
                }),
            }
        }
        d.attributes = merged;
        d.credentials = creds
            .into_iter()
            .map(|((protocol, account, weakness, accepted), c)| CredentialSummary {
                protocol: protocol.clone(),
                account: *account,
                weakness: *weakness,
                accepted: *accepted,
                source: c.0.to_string(),
                count: c.1,
            })
            .collect();
        d.description = describe(&d.attributes);
    }

    fn mac(&mut self, mac: Mac) -> Option<&mut MacSeen> {
        if !self.macs.contains_key(&mac) && self.macs.len() + self.ips.len() >= MAX_DEVICES {
            self.untracked += 1;
            return None;
        }
        Some(self.macs.entry(mac).or_default())
    }

    fn ip(&mut self, ip: IpAddr) -> Option<&mut IpSeen> {
        if !self.ips.contains_key(&ip) && self.macs.len() + self.ips.len() >= MAX_DEVICES {
            self.untracked += 1;
            return None;
        }
        Some(self.ips.entry(ip).or_default())
    }

    fn flow(&mut self, r: &FlowRecord) {
        self.flows += 1;
        if r.is_failed_connection() {
            self.failed_connections += 1;
        }
        let app = r.app.as_deref().unwrap_or("unknown");
        match self.applications.get_mut(app) {
            Some(n) => *n += 1,
            None => {
                self.applications.insert(app.to_owned(), 1);
            }
        }
        let answered = r.packets[1] > 0;
        if answered && r.proto.has_ports() {
            *self.services.entry((r.proto.0, r.responder.port)).or_default() += 1;
        }
        if answered {
            let port = if r.proto.has_ports() { r.responder.port } else { 0 };
            let hour = (r.start.as_secs() / 3600) as i64;
            let key = (r.initiator.ip, r.responder.ip, r.proto.0, port, r.app.clone(), hour);
            let room = self.edges.len() < MAX_EDGES;
            match self.edges.get_mut(&key) {
                Some(e) => e.add(r),
                None if room => self.edges.entry(key).or_default().add(r),
                None => self.edges_not_listed += 1,
            }
        }
        let vlan = r.vlans.access_vlan();
        for (side, ep) in [(0usize, &r.initiator), (1, &r.responder)] {
            let sent = r.packets[side];
            if let Some(m) = ep.mac.filter(|_| sent > 0).and_then(|mac| self.mac(mac)) {
                widen(&mut m.first, &mut m.last, r.start, r.end);
                m.vlans.extend(vlan);
                if m.traffic_ips.len() < MAX_TRAFFIC_IPS && is_device_address(&ep.ip) {
                    m.traffic_ips.insert(ep.ip);
                }
                m.evidence.insert(Cow::Borrowed(if side == 0 { "flow.initiator" } else { "flow.responder" }));
            }
            let Some(s) = self.ip(ep.ip) else { continue };
            if sent > 0 || side == 0 {
                widen(&mut s.first, &mut s.last, r.start, r.end);
            }
            s.vlans.extend(vlan);
            s.packets_sent += sent;
            s.packets_received += r.packets[1 - side];
            s.bytes_sent += r.bytes[side];
            s.bytes_received += r.bytes[1 - side];
            if side == 0 {
                s.flows_initiated += 1;
            } else if answered {
                s.flows_answered += 1;
                let k = (r.proto.0, r.responder.port);
                if r.proto.has_ports() && (s.services.len() < MAX_SERVICES || s.services.contains_key(&k)) {
                    let e = s.services.entry(k).or_insert(ServiceSeen {
                        app: None,
                        flows: 0,
                        first: r.start,
                        last: r.end,
                    });
                    e.flows += 1;
                    e.first = e.first.min(r.start);
                    e.last = e.last.max(r.end);
                    // The first application by name, so that the result does not depend on
                    // the order flows ended in.
                    if let Some(app) = &r.app
                        && e.app.as_ref().is_none_or(|a| app < a)
                    {
                        e.app = Some(app.clone());
                    }
                }
            }
        }
    }

    /// The devices seen: one per unicast MAC, and one per address that sent packets and
    /// belongs to no MAC (behind a router, or on a link layer without MACs).
    pub fn devices(&self) -> Vec<DeviceSummary> {
        let mut owned: BTreeSet<IpAddr> = BTreeSet::new();
        let mut out = Vec::new();
        let mut macs: Vec<_> = self.macs.iter().collect();
        macs.sort_by_key(|(m, _)| **m);
        for (mac, m) in macs {
            let foreign = m.traffic_ips.iter().filter(|ip| !m.arp_ips.contains_key(ip)).count();
            let router = foreign >= ROUTER_MIN_ADDRESSES;
            let ips: BTreeSet<IpAddr> = if router {
                // Link-local addresses never cross a router: those it sends from are its own.
                m.arp_ips.keys().chain(m.traffic_ips.iter().filter(|ip| is_link_local(ip))).copied().collect()
            } else {
                m.arp_ips.keys().chain(&m.traffic_ips).copied().collect()
            };
            let mut d = DeviceSummary {
                key: DeviceKey::Mac(*mac).to_string(),
                macs: vec![*mac],
                ips: ips.iter().copied().collect(),
                vlans: m.vlans.iter().copied().collect(),
                first_seen: m.first,
                last_seen: m.last,
                locally_administered_mac: mac.is_locally_administered(),
                router,
                evidence: m.evidence.iter().map(|e| e.to_string()).collect(),
                ..DeviceSummary::default()
            };
            for ip in &ips {
                let mut range = m.arp_ips.get(ip).map(|&(f, l)| (f, l));
                if let Some(s) = self.ips.get(ip) {
                    d.add(s);
                    if let (Some(f), Some(l)) = (s.first, s.last) {
                        range = Some(range.map_or((f, l), |(a, b)| (a.min(f), b.max(l))));
                    }
                }
                if let Some((first_seen, last_seen)) = range {
                    d.ip_history.push(IpRange { ip: *ip, first_seen, last_seen });
                }
            }
            self.announced_by(
                std::iter::once(DeviceKey::Mac(*mac)).chain(ips.iter().map(|ip| DeviceKey::Ip(*ip))),
                &mut d,
            );
            owned.extend(ips);
            out.push(d);
        }
        let mut ips: Vec<_> =
            self.ips.iter().filter(|(ip, s)| s.packets_sent > 0 && !owned.contains(ip)).collect();
        ips.sort_by_key(|(ip, _)| **ip);
        for (ip, s) in ips.into_iter().filter(|(ip, _)| is_device_address(ip)) {
            let mut d = DeviceSummary {
                key: DeviceKey::Ip(*ip).to_string(),
                ips: vec![*ip],
                first_seen: s.first,
                last_seen: s.last,
                evidence: vec!["flow".to_owned()],
                ..DeviceSummary::default()
            };
            d.add(s);
            if let (Some(first_seen), Some(last_seen)) = (s.first, s.last) {
                d.ip_history.push(IpRange { ip: *ip, first_seen, last_seen });
            }
            self.announced_by(std::iter::once(DeviceKey::Ip(*ip)), &mut d);
            out.push(d);
        }
        out
    }
}

/// `tcp/104`.
pub fn service_name(proto: u8, port: u16) -> String {
    format!("{}/{port}", IpProto(proto).name())
}

/// What a run saw beyond its devices: conversations, applications, services, and what
/// did not fit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunTotals {
    /// Conversations.
    pub flows: u64,
    /// TCP connection attempts that got no answer or were refused.
    pub failed_connections: u64,
    /// Flows by application protocol (`unknown` where no dissector recognised them).
    pub applications: BTreeMap<String, u64>,
    /// The services that answered most flows.
    pub top_services: Vec<ServiceCount>,
    /// Devices beyond the tracking cap.
    pub devices_not_tracked: u64,
    /// ARP claims beyond the addresses listed per MAC.
    pub arp_claims_not_listed: u64,
    /// Attributes and credential findings beyond those listed per device.
    pub attributes_not_listed: u64,
    /// Communication-map entries beyond the cap of one run.
    pub edges_not_listed: u64,
}

/// Traffic between two addresses on one service within one hour, as one run saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressEdge<'a> {
    /// The address that opened the conversations.
    pub initiator: IpAddr,
    /// The address that answered.
    pub responder: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// The responder's port (0 without ports).
    pub port: u16,
    /// The application, when detected.
    pub app: Option<&'a str>,
    /// Seconds since the epoch / 3600.
    pub hour: i64,
    /// Conversations.
    pub flows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// Bytes both ways.
    pub bytes: u64,
}

impl Sightings {
    /// The run's totals.
    pub fn totals(&self) -> RunTotals {
        let mut services: Vec<ServiceCount> = self
            .services
            .iter()
            .map(|(&(proto, port), &flows)| ServiceCount { service: service_name(proto, port), flows })
            .collect();
        services.sort_by(|a, b| b.flows.cmp(&a.flows).then_with(|| a.service.cmp(&b.service)));
        services.truncate(20);
        RunTotals {
            flows: self.flows,
            failed_connections: self.failed_connections,
            applications: self.applications.clone(),
            top_services: services,
            devices_not_tracked: self.untracked,
            arp_claims_not_listed: self.claims_not_listed,
            attributes_not_listed: self.attributes_not_listed,
            edges_not_listed: self.edges_not_listed,
        }
    }

    /// The communication map of the run, by address (answered conversations only).
    pub fn edges(&self) -> impl Iterator<Item = AddressEdge<'_>> {
        self.edges.iter().map(|((i, r, proto, port, app, hour), e)| AddressEdge {
            initiator: *i,
            responder: *r,
            proto: *proto,
            port: *port,
            app: app.as_deref(),
            hour: *hour,
            flows: e.flows,
            packets: e.packets,
            bytes: e.bytes,
        })
    }
}

/// Flows answered on one service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceCount {
    /// `tcp/443`.
    pub service: String,
    /// Flows that got an answer.
    pub flows: u64,
}

/// One device seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeviceSummary {
    /// `mac:...` or `ip:...`.
    pub key: String,
    /// Its number in the inventory, once the engine has placed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<DeviceId>,
    /// What it is (class, vendor, model, firmware, os, criticality) with the evidence, once
    /// the engine has placed it.
    #[serde(flatten)]
    pub classification: Classification,
    /// Active, stale or retired, once the engine has placed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Lifecycle>,
    /// Its MAC addresses.
    pub macs: Vec<Mac>,
    /// Its IP addresses.
    pub ips: Vec<IpAddr>,
    /// VLANs it was seen on.
    pub vlans: Vec<u16>,
    /// First sighting.
    pub first_seen: Option<Timestamp>,
    /// Last sighting.
    pub last_seen: Option<Timestamp>,
    /// Conversations it opened.
    pub flows_initiated: u64,
    /// Conversations it answered.
    pub flows_answered: u64,
    /// Packets it sent.
    pub packets_sent: u64,
    /// Packets it received.
    pub packets_received: u64,
    /// IP bytes it sent.
    pub bytes_sent: u64,
    /// IP bytes it received.
    pub bytes_received: u64,
    /// Services it answered on, with the application heard there.
    pub services: Vec<Service>,
    /// Its addresses over time (in this run: one range per address; the inventory keeps
    /// the history across runs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_history: Vec<IpRange>,
    /// Whether its MAC is locally administered (often randomised: not a stable identity).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub locally_administered_mac: bool,
    /// Whether it forwards for many addresses (a router, firewall or NAT).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub router: bool,
    /// Which kinds of evidence showed it.
    pub evidence: Vec<String>,
    /// What it announced about itself (host name, vendor class, model, ...), each with the
    /// protocol field that said it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeSummary>,
    /// Logins seen in cleartext, without their secrets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<CredentialSummary>,
    /// Clinical and other sensitive protocols it spoke in cleartext, and whether they carried
    /// patient data (never the data itself).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cleartext: Vec<CleartextSummary>,
    /// What it is, in a few words, from the roles and stacks its protocols showed: "CT
    /// modality, AE CT01, DCMTK 3.6.7"; "HL7 sender, application LAB, version 2.6".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A protocol a device spoke in cleartext.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CleartextSummary {
    /// `hl7`, `dicom`, `mqtt`, ...
    pub protocol: String,
    /// Whether patient data went by (its content is never read).
    pub phi: bool,
    /// The exchange that showed it.
    pub source: String,
    /// How many times.
    pub count: u64,
}

/// Attributes that make up a description, in order, with the word that introduces each.
const DESCRIBED: [(&str, &str, usize); 6] = [
    ("role", "", 3),
    ("ae_title", "AE ", 2),
    ("hl7_application", "application ", 2),
    ("hl7_facility", "facility ", 1),
    ("stack", "", 2),
    ("hl7_version", "version ", 1),
];

/// How far below the most confident value of a key another value may be and still be named.
const ROLE_MARGIN: u8 = 20;

/// The description of a device with a role or a stack: see [`DeviceSummary::description`].
fn describe(attributes: &[AttributeSummary]) -> Option<String> {
    if !attributes.iter().any(|a| a.key == "role" || a.key == "stack") {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for (key, word, most) in DESCRIBED {
        let mut values: Vec<&AttributeSummary> = attributes.iter().filter(|a| a.key == key).collect();
        values.sort_by_key(|a| std::cmp::Reverse((a.confidence, a.count)));
        // A much less confident value is a vaguer reading of the same device ("DICOM client"
        // beside "CT modality"): the description leaves it out.
        let best = values.first().map_or(0, |a| a.confidence);
        values.retain(|a| a.confidence + ROLE_MARGIN >= best);
        parts.extend(values.into_iter().take(most).map(|a| format!("{word}{}", a.value)));
    }
    Some(parts.join(", "))
}

/// One thing a device announced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeSummary {
    /// What it is (`hostname`, `vendor_class`, ...).
    pub key: String,
    /// Its value.
    pub value: String,
    /// The protocol field it came from (`dhcp.option12`).
    pub source: String,
    /// 0-100.
    pub confidence: u8,
    /// First time it was said.
    pub first_seen: Timestamp,
    /// Last time it was said.
    pub last_seen: Timestamp,
    /// How often it was said.
    pub count: u64,
}

/// A weak login, without its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CredentialSummary {
    /// The protocol that carried it.
    pub protocol: String,
    /// What kind of account.
    pub account: AccountKind,
    /// Cleartext, or a known default.
    pub weakness: Weakness,
    /// Whether the server accepted it, when the traffic shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    /// The exchange that showed it.
    pub source: String,
    /// How often it was seen.
    pub count: u64,
}

impl DeviceSummary {
    fn add(&mut self, s: &IpSeen) {
        self.flows_initiated += s.flows_initiated;
        self.flows_answered += s.flows_answered;
        self.packets_sent += s.packets_sent;
        self.packets_received += s.packets_received;
        self.bytes_sent += s.bytes_sent;
        self.bytes_received += s.bytes_received;
        for v in &s.vlans {
            if !self.vlans.contains(v) {
                self.vlans.push(*v);
            }
        }
        self.vlans.sort_unstable();
        for (&(proto, port), seen) in &s.services {
            match self.services.iter_mut().find(|x| x.proto == proto && x.port == port) {
                Some(x) => {
                    x.flows += seen.flows;
                    x.first_seen = x.first_seen.min(seen.first);
                    x.last_seen = x.last_seen.max(seen.last);
                }
                None => self.services.push(Service {
                    proto,
                    port,
                    app: seen.app.as_deref().map(str::to_owned),
                    flows: seen.flows,
                    first_seen: seen.first,
                    last_seen: seen.last,
                }),
            }
        }
        self.services.sort_by_key(|x| (x.proto, x.port));
        if let (Some(f), Some(l)) = (s.first, s.last) {
            widen(&mut self.first_seen, &mut self.last_seen, f, l);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::net::IpAddr;

    use ward_core::{DeviceKey, Evidence, Mac, Observation, ObservationKind, Timestamp};

    use super::Sightings;

    fn seen(mac: Mac, ip: IpAddr) -> Observation {
        let evidence = Evidence::new("arp.sender", 90);
        Observation {
            ts: Timestamp::from_secs(1),
            device: DeviceKey::Mac(mac),
            kind: ObservationKind::Seen { ip: Some(ip), vlan: None, evidence },
        }
    }

    fn said(device: DeviceKey, secs: u64) -> Observation {
        let kind = ObservationKind::Attribute {
            key: Cow::Borrowed("mdns_service"),
            value: "_workstation._tcp".to_owned(),
            evidence: Evidence::new("mdns.ptr", 80),
        };
        Observation { ts: Timestamp::from_secs(secs), device, kind }
    }

    #[test]
    fn a_value_said_under_a_devices_mac_and_ip_is_counted_once_over_both() {
        let mac: Mac = "00:01:e6:09:9b:49".parse().unwrap();
        let ip: IpAddr = "10.40.0.9".parse().unwrap();
        // Whatever order the keys come in, the device has the value once, counted over
        // both keys, from the first time to the last.
        for ip_first in [false, true] {
            let mut s = Sightings::new();
            s.observe(&seen(mac, ip));
            let (a, b) = if ip_first {
                (DeviceKey::Ip(ip), DeviceKey::Mac(mac))
            } else {
                (DeviceKey::Mac(mac), DeviceKey::Ip(ip))
            };
            s.observe(&said(a, 10));
            s.observe(&said(a, 20));
            s.observe(&said(b, 5));
            let devices = s.devices();
            let d = devices.iter().find(|d| d.macs == [mac]).unwrap();
            let attrs: Vec<_> = d.attributes.iter().filter(|x| x.key == "mdns_service").collect();
            assert_eq!(attrs.len(), 1);
            assert_eq!(attrs[0].count, 3);
            assert_eq!(attrs[0].first_seen, Timestamp::from_secs(5));
            assert_eq!(attrs[0].last_seen, Timestamp::from_secs(20));
        }
    }
}
