//! A least-privilege policy from observed traffic: segments (the given policy's, or one per
//! VLAN or /24 seen), placement of each class where it was seen, and one allow rule per
//! (source class, destination, service) that was answered, with counts, as a file a person
//! reads, edits and then enforces. Checked against the traffic it came from, it denies
//! nothing that was answered.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::addr::not_internet;
use crate::check::{Conversation, service_name};
use crate::policy::Policy;
use crate::resolve::DeviceInfo;

/// Destinations of one group with at most this many devices are named one by one; more are
/// named by class.
const MAX_NAMED_DESTINATIONS: usize = 4;

/// The end of a suggested rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum End {
    Class(String),
    Internet,
    Addr(IpAddr),
}

impl End {
    fn selector(&self) -> String {
        match self {
            End::Class(c) => format!("class:{c}"),
            End::Internet => "internet".into(),
            End::Addr(ip) => ip.to_string(),
        }
    }
}

/// A segment drawn from the addresses seen.
#[derive(Default)]
struct Draft {
    cidrs: Vec<String>,
    vlans: BTreeSet<u16>,
    classes: BTreeMap<String, usize>,
}

/// A group's destinations: conversations and the first application seen, per address.
type Destinations = BTreeMap<IpAddr, (u64, Option<String>)>;

/// Source end, destination class, protocol, port.
type GroupKey = (End, Option<String>, u8, u16);

#[derive(Default)]
struct Tally {
    flows: u64,
    src_devices: BTreeSet<IpAddr>,
    dst_devices: BTreeSet<IpAddr>,
    apps: BTreeSet<String>,
    first: Option<ward_core::Timestamp>,
    last: Option<ward_core::Timestamp>,
}

fn v4_24(ip: IpAddr) -> Option<(String, String)> {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            Some((format!("net_{}_{}_{}", o[0], o[1], o[2]), format!("{}.{}.{}.0/24", o[0], o[1], o[2])))
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            Some((
                format!("net6_{:x}_{:x}_{:x}_{:x}", s[0], s[1], s[2], s[3]),
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]),
            ))
        }
    }
}

/// Writes a suggested policy. `base` gives the segments to use; without it they are drawn
/// from the addresses seen.
pub fn suggest(base: Option<&Policy>, devices: &[DeviceInfo], conversations: &[Conversation]) -> String {
    let private = not_internet();
    let by_ip: HashMap<IpAddr, &DeviceInfo> =
        devices.iter().flat_map(|d| d.ips.iter().map(move |ip| (*ip, d))).collect();

    // Segments.
    // Segments drawn from what was seen: one per VLAN where a /24 (or IPv6 /64) sits on one
    // VLAN only, else one per /24. Link-local addresses are no segment's.
    let mut nets: BTreeMap<String, Draft> = BTreeMap::new();
    if base.is_none() {
        for d in devices {
            for ip in
                d.ips.iter().filter(|ip| private.contains(**ip) && !is_special(**ip) && !is_link_local(**ip))
            {
                if let Some((name, cidr)) = v4_24(*ip) {
                    let e =
                        nets.entry(name).or_insert_with(|| Draft { cidrs: vec![cidr], ..Draft::default() });
                    e.vlans.extend(d.vlans.iter().copied());
                    *e.classes
                        .entry(d.class.clone().unwrap_or_else(|| "unclassified".into()))
                        .or_default() += 1;
                }
            }
        }
    }
    let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();
    let mut net_segment: HashMap<String, String> = HashMap::new();
    for (name, d) in nets {
        let seg = match d.vlans.iter().next() {
            Some(v) if d.vlans.len() == 1 => format!("vlan_{v}"),
            _ => name.clone(),
        };
        let e = drafts.entry(seg.clone()).or_default();
        e.cidrs.extend(d.cidrs);
        e.vlans.extend(d.vlans);
        for (c, n) in d.classes {
            *e.classes.entry(c).or_default() += n;
        }
        net_segment.insert(name, seg);
    }
    let zone_of = |ip: IpAddr| -> Option<String> {
        match base {
            Some(p) => p.segments.iter().find(|s| s.nets.contains(ip)).map(|s| s.name.clone()),
            None => v4_24(ip).and_then(|(n, _)| net_segment.get(&n).cloned()),
        }
    };

    // Rules: group answered conversations by (source end, destination end, protocol, port).
    let src_end = |ip: IpAddr| -> End {
        // A class where the device has one; else the address itself (least privilege: a
        // whole segment would let every device in it do what one unclassified device did).
        match by_ip.get(&ip).and_then(|d| d.class.clone()) {
            Some(c) => End::Class(c),
            None if !private.contains(ip) => End::Internet,
            None => End::Addr(ip),
        }
    };
    let mut groups: BTreeMap<GroupKey, Destinations> = BTreeMap::new();
    let mut tallies: HashMap<GroupKey, Tally> = HashMap::new();
    for c in conversations.iter().filter(|c| c.answered && !is_special(c.dst) && !is_special(c.src)) {
        let src = src_end(c.src);
        let dst_class = by_ip.get(&c.dst).and_then(|d| d.class.clone());
        let key = (src, dst_class, c.proto, c.port);
        let e = groups.entry(key.clone()).or_default().entry(c.dst).or_insert((0, None));
        e.0 += c.flows;
        if e.1.is_none() {
            e.1.clone_from(&c.app);
        }
        let t = tallies.entry(key).or_default();
        t.flows += c.flows;
        t.src_devices.insert(c.src);
        t.dst_devices.insert(c.dst);
        t.apps.extend(c.app.clone());
        t.first = Some(t.first.map_or(c.first, |f| f.min(c.first)));
        t.last = Some(t.last.map_or(c.last, |l| l.max(c.last)));
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Suggested by `ward policy suggest` from {} devices and {} observed conversations.\n\
         # Every rule below allows what was seen answered, and no more; the segments deny the rest.\n\
         # Read it, rename the segments, widen or narrow rules, then run `ward policy simulate`\n\
         # and `ward policy check` before `ward policy compile` and `apply`.\n",
        devices.len(),
        conversations.len()
    );
    let _ = writeln!(out, "[policy]\nname = \"suggested\"\nlog = true\n");
    let _ = writeln!(out, "[outside]\ninbound = \"allow\"\noutbound = \"deny\"\n");
    match base {
        Some(p) => {
            for s in &p.segments {
                let _ = writeln!(out, "[[segment]]\nname = \"{}\"", s.name);
                if let Some(d) = &s.description {
                    let _ = writeln!(out, "description = {}", toml_str(d));
                }
                let nets: Vec<String> =
                    s.nets.nft_v4().into_iter().chain(s.nets.nft_v6()).map(|n| toml_str(&n)).collect();
                let _ = writeln!(out, "cidrs = [{}]", nets.join(", "));
                if !s.vlans.is_empty() {
                    let v: Vec<String> = s.vlans.iter().map(u16::to_string).collect();
                    let _ = writeln!(out, "vlans = [{}]", v.join(", "));
                }
                let _ = writeln!(out, "inbound = \"deny\"\noutbound = \"deny\"\nintra = \"allow\"\n");
            }
        }
        None => {
            for (name, d) in &drafts {
                let mut c: Vec<(&String, &usize)> = d.classes.iter().collect();
                c.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let summary: Vec<String> = c.iter().take(6).map(|(k, v)| format!("{k} {v}")).collect();
                let _ = writeln!(out, "# {}", summary.join(", "));
                let cidrs: Vec<String> = d.cidrs.iter().map(|c| toml_str(c)).collect();
                let _ = writeln!(out, "[[segment]]\nname = \"{name}\"\ncidrs = [{}]", cidrs.join(", "));
                // Only a segment drawn from one VLAN names it: a /24 seen on several VLANs
                // would claim a VLAN another segment owns.
                if let (Some(v), true) = (d.vlans.iter().next(), name.starts_with("vlan_")) {
                    let _ = writeln!(out, "vlans = [{v}]");
                }
                let _ = writeln!(out, "inbound = \"deny\"\noutbound = \"deny\"\nintra = \"allow\"\n");
            }
        }
    }

    // Placement: each class where it was seen.
    let mut placement: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for d in devices {
        let Some(class) = &d.class else { continue };
        for ip in &d.ips {
            if let Some(z) = zone_of(*ip) {
                *placement.entry(class.clone()).or_default().entry(z).or_default() += 1;
            }
        }
    }
    for (class, segs) in &placement {
        let names: Vec<String> = segs.keys().map(|s| toml_str(s)).collect();
        let counts: Vec<String> = segs.iter().map(|(s, n)| format!("{n} in {s}")).collect();
        let _ = writeln!(out, "# {class}: {}", counts.join(", "));
        let _ = writeln!(out, "[[placement]]\nsegments = [{}]\nclasses = [\"{class}\"]\n", names.join(", "));
    }

    // Rules by the segment most of their sources are in, then as grouped.
    let home = |key: &GroupKey| -> String {
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for ip in &tallies[key].src_devices {
            *count.entry(zone_of(*ip).unwrap_or_else(|| "outside".into())).or_default() += 1;
        }
        count.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(z, _)| z).unwrap_or_default()
    };
    let mut ordered: Vec<(String, &GroupKey, &Destinations)> =
        groups.iter().map(|(k, d)| (home(k), k, d)).collect();
    ordered.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut section = None;
    for (zone, key, dsts) in ordered {
        if section.as_ref() != Some(&zone) {
            let _ = writeln!(out, "# ---- conversations from {zone} ----\n");
            section = Some(zone);
        }
        let (src, dst_class, proto, port) = key;
        let t = &tallies[key];
        let internet_dsts: Vec<&IpAddr> = dsts.keys().filter(|ip| !private.contains(**ip)).collect();
        let mut ends: Vec<End> = Vec::new();
        if dsts.len() <= MAX_NAMED_DESTINATIONS || dst_class.is_none() {
            if internet_dsts.len() > MAX_NAMED_DESTINATIONS {
                ends.push(End::Internet);
                ends.extend(dsts.keys().filter(|ip| private.contains(**ip)).map(|ip| End::Addr(*ip)));
            } else {
                ends.extend(dsts.keys().map(|ip| End::Addr(*ip)));
            }
        } else if let Some(c) = dst_class {
            ends.push(End::Class(c.clone()));
        }
        let service = service_name(*proto, *port);
        let base_name = format!(
            "{}-to-{}-{}",
            slug(&src.selector()),
            slug(&dst_class.clone().unwrap_or_else(|| "hosts".into())),
            slug(&service)
        );
        let n = names.entry(base_name.clone()).or_default();
        *n += 1;
        let name = if *n == 1 { base_name } else { format!("{base_name}-{n}") };
        let apps: Vec<&str> = t.apps.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "# {} conversations from {} device{} to {} device{}{}; first {}, last {}",
            t.flows,
            t.src_devices.len(),
            if t.src_devices.len() == 1 { "" } else { "s" },
            t.dst_devices.len(),
            if t.dst_devices.len() == 1 { "" } else { "s" },
            if apps.is_empty() { String::new() } else { format!(" ({})", apps.join(", ")) },
            t.first.map(|x| x.to_string()).unwrap_or_default(),
            t.last.map(|x| x.to_string()).unwrap_or_default(),
        );
        let to: Vec<String> = ends.iter().map(|e| toml_str(&e.selector())).collect();
        let _ = writeln!(
            out,
            "[[rule]]\nname = {}\nfrom = {}\nto = [{}]",
            toml_str(&name),
            toml_str(&src.selector()),
            to.join(", ")
        );
        match proto {
            6 => {
                let _ = writeln!(out, "proto = \"tcp\"\nports = [{port}]");
            }
            17 => {
                let _ = writeln!(out, "proto = \"udp\"\nports = [{port}]");
            }
            1 | 58 => {
                let _ = writeln!(out, "proto = \"icmp\"");
            }
            _ => {
                let _ = writeln!(
                    out,
                    "# protocol {proto}: a rule cannot name it; this rule allows every protocol"
                );
            }
        }
        let _ = writeln!(out, "action = \"allow\"\n");
    }
    out
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => a.is_unicast_link_local(),
    }
}

/// Broadcast, multicast and unspecified addresses are no device's peer.
fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_broadcast() || a.is_multicast() || a.is_unspecified() || a.octets()[3] == 255,
        IpAddr::V6(a) => a.is_multicast() || a.is_unspecified(),
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(40).collect()
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
