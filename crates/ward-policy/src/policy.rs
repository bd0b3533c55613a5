//! The validated policy: every name checked, every network read, every port in range. Built
//! from the TOML file by [`Policy::parse`]; errors name the file, line and column.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use serde::Serialize;
use toml::Spanned;
use ward_core::Mac;

use crate::addr::IpSet;
use crate::file::{OneOrMany, PolicyFile, PortFile};

use crate::services::service;

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Let it pass.
    Allow,
    /// Drop it.
    Deny,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
        })
    }
}

/// The protocol a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// Any protocol (with ports: TCP and UDP).
    Any,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP and ICMPv6.
    Icmp,
}

impl Proto {
    /// Whether a packet of IP protocol `p` is matched.
    pub fn matches(self, p: u8) -> bool {
        match self {
            Proto::Any => true,
            Proto::Tcp => p == 6,
            Proto::Udp => p == 17,
            Proto::Icmp => p == 1 || p == 58,
        }
    }

    /// Its name in a policy file.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Any => "any",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// Traffic a rule matches: a protocol and destination ports (none = every port).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Traffic {
    /// The protocol.
    pub proto: Proto,
    /// Destination port ranges, inclusive; empty for all.
    pub ports: Vec<(u16, u16)>,
}

impl Traffic {
    /// Whether a conversation with IP protocol `proto` to `port` is matched.
    pub fn matches(&self, proto: u8, port: u16) -> bool {
        if self.ports.is_empty() {
            return self.proto.matches(proto);
        }
        // Ports only exist for TCP and UDP: "any" with ports means those two.
        let proto_ok = match self.proto {
            Proto::Any => proto == 6 || proto == 17,
            p => p.matches(proto),
        };
        proto_ok && self.ports.iter().any(|&(a, b)| a <= port && port <= b)
    }

    /// Whether some conversation is matched by both.
    pub fn overlaps(&self, other: &Traffic) -> bool {
        let protos = [1u8, 6, 17, 58, 132];
        protos.iter().any(|&p| {
            let ports_a: Vec<(u16, u16)> =
                if self.ports.is_empty() { vec![(0, u16::MAX)] } else { self.ports.clone() };
            let ports_b: Vec<(u16, u16)> =
                if other.ports.is_empty() { vec![(0, u16::MAX)] } else { other.ports.clone() };
            ports_a.iter().any(|&(a0, a1)| {
                ports_b.iter().any(|&(b0, b1)| {
                    let lo = a0.max(b0);
                    lo <= a1.min(b1) && self.matches(p, lo) && other.matches(p, lo)
                })
            })
        })
    }
}

impl fmt::Display for Traffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proto.name())?;
        if !self.ports.is_empty() {
            let ports: Vec<String> = self
                .ports
                .iter()
                .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
                .collect();
            write!(f, "/{}", ports.join(","))?;
        }
        Ok(())
    }
}

/// How a policy names a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceSel {
    /// Its number in the inventory.
    Id(i64),
    /// One of its MACs.
    Mac(Mac),
    /// One of its addresses.
    Ip(IpAddr),
}

impl DeviceSel {
    fn parse(s: &str) -> Option<DeviceSel> {
        let s = s.trim();
        let s = s.strip_prefix("mac:").or_else(|| s.strip_prefix("ip:")).unwrap_or(s);
        if let Ok(n) = s.parse::<i64>() {
            return Some(DeviceSel::Id(n));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Some(DeviceSel::Ip(ip));
        }
        s.parse::<Mac>().ok().map(DeviceSel::Mac)
    }
}

impl fmt::Display for DeviceSel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSel::Id(n) => write!(f, "{n}"),
            DeviceSel::Mac(m) => write!(f, "mac:{m}"),
            DeviceSel::Ip(ip) => write!(f, "ip:{ip}"),
        }
    }
}

/// One end of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Selector {
    /// Every address.
    Any,
    /// Global unicast addresses outside every segment.
    Internet,
    /// A segment (by its index in [`Policy::segments`]).
    Segment(usize),
    /// Devices of a class.
    Class(String),
    /// Devices whose vendor contains this (case-insensitive).
    Vendor(String),
    /// One device.
    Device(DeviceSel),
    /// Addresses and networks.
    Net(IpSet),
}

impl Selector {
    /// How it reads in a policy file (segments by name).
    pub fn describe(&self, policy: &Policy) -> String {
        match self {
            Selector::Any => "any".into(),
            Selector::Internet => "internet".into(),
            Selector::Segment(i) => format!("segment:{}", policy.segments[*i].name),
            Selector::Class(c) => format!("class:{c}"),
            Selector::Vendor(v) => format!("vendor:{v}"),
            Selector::Device(d) => format!("device:{d}"),
            Selector::Net(n) => n.to_string(),
        }
    }
}

/// A segment: networks and VLANs, and what passes by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Its name (`[a-z][a-z0-9_]*`).
    pub name: String,
    /// For people.
    pub description: Option<String>,
    /// Its addresses.
    pub nets: IpSet,
    /// Its VLANs (empty: not checked).
    pub vlans: Vec<u16>,
    /// Traffic into it that no rule allows.
    pub inbound: Action,
    /// Traffic out of it that no rule allows.
    pub outbound: Action,
    /// Traffic within it.
    pub intra: Action,
    /// Log what its defaults deny.
    pub log: bool,
    /// Line in the policy file.
    pub line: usize,
}

/// Which devices belong in which segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The segments (indices).
    pub segments: Vec<usize>,
    /// Devices of these classes.
    pub classes: Vec<String>,
    /// Devices whose vendor contains one of these (case-insensitive).
    pub vendors: Vec<String>,
    /// These devices.
    pub devices: Vec<DeviceSel>,
    /// Only the devices placed here may be in these segments.
    pub exclusive: bool,
    /// For people.
    pub comment: Option<String>,
    /// Line in the policy file.
    pub line: usize,
}

/// A communication rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Its name, unique in the policy.
    pub name: String,
    /// Where conversations start.
    pub from: Vec<Selector>,
    /// Where they go.
    pub to: Vec<Selector>,
    /// What traffic (empty: all).
    pub traffic: Vec<Traffic>,
    /// Allow or deny.
    pub action: Action,
    /// Log matches.
    pub log: bool,
    /// For people.
    pub comment: Option<String>,
    /// Line in the policy file.
    pub line: usize,
}

/// A device's own lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceLists {
    /// The device.
    pub device: DeviceSel,
    /// When not empty: the only peers it may talk with (either direction).
    pub allow: IpSet,
    /// Whether an allowlist was given (an empty one allows nobody).
    pub has_allowlist: bool,
    /// Peers it may never talk with.
    pub deny: IpSet,
    /// For people.
    pub comment: Option<String>,
    /// Line in the policy file.
    pub line: usize,
}

/// A whole policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// For people.
    pub description: Option<String>,
    /// The file it came from.
    pub file: String,
    /// Segments in file order.
    pub segments: Vec<Segment>,
    /// Addresses in no segment: traffic to them from a segment that no rule allows.
    pub outside_inbound: Action,
    /// Traffic from them into a segment that no rule allows (the segment's own `inbound`
    /// applies as well).
    pub outside_outbound: Action,
    /// Placement of devices in segments.
    pub placements: Vec<Placement>,
    /// Communication rules.
    pub rules: Vec<Rule>,
    /// Per-device allow and deny lists.
    pub devices: Vec<DeviceLists>,
    /// Log denials by device lists and by the outside posture.
    pub log: bool,
}

/// One thing wrong with a policy file, where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyError {
    /// The file.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Everything wrong with a policy file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError(pub Vec<PolicyError>);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// What the policy may refer to that it does not define itself.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Device classes that exist (empty: any name is accepted).
    pub classes: Vec<String>,
}

/// Largest policy file read (a policy of ten thousand devices is a few megabytes).
pub(crate) const MAX_FILE_BYTES: u64 = 64 << 20;

struct Errors<'a> {
    file: &'a str,
    lines: Lines<'a>,
    list: Vec<PolicyError>,
}

impl Errors<'_> {
    fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.lines.line_col(span.start);
        self.list.push(PolicyError { file: self.file.to_owned(), line, column, message: message.into() });
    }
}

/// Where each line of a text starts, so that a byte offset's line and column cost a binary
/// search rather than a scan from the top (a policy of 10,000 devices asks 10,000 times).
pub(crate) struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Lines<'a> {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { text, starts }
    }

    /// Line and column (from 1) of a byte offset; an offset past the end, or inside a
    /// character, counts as the end.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text;
        let offset = if offset <= text.len() && text.is_char_boundary(offset) { offset } else { text.len() };
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, text[start..offset].chars().count() + 1)
    }
}

/// Line and column (from 1) of a byte offset.
#[cfg(test)]
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
    (line, column)
}

fn action(errs: &mut Errors<'_>, v: &Option<Spanned<String>>, default: Action, what: &str) -> Action {
    match v {
        None => default,
        Some(s) => match s.get_ref().as_str() {
            "allow" => Action::Allow,
            "deny" => Action::Deny,
            other => {
                errs.at(s.span(), format!("{what} is {other:?}: it must be \"allow\" or \"deny\""));
                default
            }
        },
    }
}

fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && s.len() <= 24
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && s != "outside"
        && s != "internet"
        && s != "any"
}

impl Policy {
    /// Reads a policy file.
    pub fn load(path: &Path, ctx: &Context) -> Result<Policy, LoadError> {
        let file = path.display().to_string();
        let one = |message: String| {
            LoadError(vec![PolicyError { file: file.clone(), line: 0, column: 0, message }])
        };
        let meta = std::fs::metadata(path).map_err(|e| one(format!("cannot read it: {e}")))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(one(format!("it is {} bytes; a policy may be at most {MAX_FILE_BYTES}", meta.len())));
        }
        let bytes = std::fs::read(path).map_err(|e| one(format!("cannot read it: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| one(format!("it is not UTF-8 text: {e}")))?;
        Policy::parse(&text, &file, ctx)
    }

    /// Reads a policy from its text; `file` names it in errors.
    pub fn parse(text: &str, file: &str, ctx: &Context) -> Result<Policy, LoadError> {
        let mut errs = Errors { file, lines: Lines::new(text), list: Vec::new() };
        let raw: PolicyFile = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                errs.at(span, e.message().to_owned());
                return Err(LoadError(errs.list));
            }
        };
        let log_default = raw.policy.log.unwrap_or(true);
        let mut segments: Vec<Segment> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut vlan_owner: HashMap<u16, usize> = HashMap::new();
        for s in &raw.segment {
            let line = errs.lines.line_col(s.span().start).0;
            let s = s.get_ref();
            let name = s.name.get_ref().clone();
            if !valid_name(&name) {
                errs.at(
                    s.name.span(),
                    format!(
                        "segment name {name:?}: use lower-case letters, digits and single underscores, \
                         at most 24 characters, starting with a letter (outside, internet and any are reserved)"
                    ),
                );
            }
            if by_name.contains_key(&name) {
                errs.at(s.name.span(), format!("segment {name:?} is defined twice"));
            }
            let mut nets = IpSet::empty();
            for c in &s.cidrs {
                match IpSet::parse(c.get_ref()) {
                    Ok(n) => {
                        for (j, other) in segments.iter().enumerate() {
                            if other.nets.intersects(&n) {
                                errs.at(
                                    c.span(),
                                    format!(
                                        "{} overlaps segment {:?} ({}): an address must belong to one segment",
                                        c.get_ref(),
                                        segments[j].name,
                                        other.nets.intersection(&n)
                                    ),
                                );
                            }
                        }
                        if nets.intersects(&n) {
                            errs.at(c.span(), format!("{} is listed twice in this segment", c.get_ref()));
                        }
                        nets.extend(&n);
                    }
                    Err(e) => errs.at(c.span(), e.to_string()),
                }
            }
            if s.cidrs.is_empty() {
                errs.at(s.name.span(), format!("segment {name:?} has no cidrs"));
            }
            let mut vlans = Vec::new();
            for v in &s.vlans {
                match u16::try_from(*v.get_ref()) {
                    Ok(id) if (1..=4094).contains(&id) => {
                        if let Some(&o) = vlan_owner.get(&id) {
                            errs.at(
                                v.span(),
                                format!("VLAN {id} already belongs to segment {:?}", segments[o].name),
                            );
                        }
                        vlan_owner.insert(id, segments.len());
                        vlans.push(id);
                    }
                    _ => errs.at(v.span(), format!("VLAN {} is not between 1 and 4094", v.get_ref())),
                }
            }
            let seg = Segment {
                name: name.clone(),
                description: s.description.clone(),
                nets,
                vlans,
                inbound: action(&mut errs, &s.inbound, Action::Deny, "inbound"),
                outbound: action(&mut errs, &s.outbound, Action::Allow, "outbound"),
                intra: action(&mut errs, &s.intra, Action::Allow, "intra"),
                log: s.log.unwrap_or(log_default),
                line,
            };
            by_name.entry(name).or_insert(segments.len());
            segments.push(seg);
        }
        let outside_inbound = action(&mut errs, &raw.outside.inbound, Action::Allow, "outside.inbound");
        let outside_outbound = action(&mut errs, &raw.outside.outbound, Action::Allow, "outside.outbound");

        let segment_ref = |errs: &mut Errors<'_>, s: &Spanned<String>| -> Option<usize> {
            let found = by_name.get(s.get_ref().as_str()).copied();
            if found.is_none() {
                let mut names: Vec<&str> = by_name.keys().map(String::as_str).collect();
                names.sort_unstable();
                errs.at(
                    s.span(),
                    format!("unknown segment {:?} (segments: {})", s.get_ref(), names.join(", ")),
                );
            }
            found
        };
        let class_ok = |errs: &mut Errors<'_>, s: &Spanned<String>| {
            if !ctx.classes.is_empty() && !ctx.classes.iter().any(|c| c == s.get_ref()) {
                errs.at(s.span(), format!("unknown device class {:?} (see docs/taxonomy.md)", s.get_ref()));
            }
        };
        let device_ref = |errs: &mut Errors<'_>, s: &Spanned<String>| -> Option<DeviceSel> {
            let d = DeviceSel::parse(s.get_ref());
            if d.is_none() {
                errs.at(
                    s.span(),
                    format!("{:?} is not a device number, a MAC or an IP address", s.get_ref()),
                );
            }
            d
        };

        let mut placements = Vec::new();
        for p in &raw.placement {
            let line = errs.lines.line_col(p.span().start).0;
            let p = p.get_ref();
            let mut segs = Vec::new();
            for s in p.segment.iter().chain(&p.segments) {
                segs.extend(segment_ref(&mut errs, s));
            }
            if p.segment.is_none() && p.segments.is_empty() {
                errs.list.push(PolicyError {
                    file: file.to_owned(),
                    line,
                    column: 1,
                    message: "a placement needs `segment` or `segments`".into(),
                });
            }
            for c in &p.classes {
                class_ok(&mut errs, c);
            }
            let devices: Vec<DeviceSel> = p.devices.iter().filter_map(|d| device_ref(&mut errs, d)).collect();
            if p.classes.is_empty() && p.vendors.is_empty() && devices.is_empty() && !p.exclusive {
                errs.list.push(PolicyError {
                    file: file.to_owned(),
                    line,
                    column: 1,
                    message: "a placement needs classes, vendors or devices (or `exclusive = true` for a segment that admits none)".into(),
                });
            }
            placements.push(Placement {
                segments: segs,
                classes: p.classes.iter().map(|c| c.get_ref().clone()).collect(),
                vendors: p.vendors.iter().map(|v| v.get_ref().to_lowercase()).collect(),
                devices,
                exclusive: p.exclusive,
                comment: p.comment.clone(),
                line,
            });
        }

        let mut rules = Vec::new();
        let mut rule_names: HashMap<String, usize> = HashMap::new();
        for r in raw.rule {
            let line = errs.lines.line_col(r.span().start).0;
            let r = r.into_inner();
            let name = r.name.get_ref().clone();
            if name.trim().is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control() || c == '"') {
                errs.at(
                    r.name.span(),
                    "a rule name is 1-64 characters, without quotes or control characters",
                );
            }
            if let Some(prev) = rule_names.insert(name.clone(), line) {
                errs.at(r.name.span(), format!("rule {name:?} is already defined on line {prev}"));
            }
            let mut ends = |v: Spanned<OneOrMany>| -> Vec<Selector> {
                crate::file::strings(v)
                    .iter()
                    .filter_map(|s| {
                        let t = s.get_ref().trim();
                        if t == "any" {
                            Some(Selector::Any)
                        } else if t == "internet" {
                            Some(Selector::Internet)
                        } else if let Some(n) = t.strip_prefix("segment:") {
                            segment_ref(&mut errs, &Spanned::new(s.span(), n.to_owned())).map(Selector::Segment)
                        } else if let Some(c) = t.strip_prefix("class:") {
                            class_ok(&mut errs, &Spanned::new(s.span(), c.to_owned()));
                            Some(Selector::Class(c.to_owned()))
                        } else if let Some(v) = t.strip_prefix("vendor:") {
                            Some(Selector::Vendor(v.to_lowercase()))
                        } else if let Some(d) = t.strip_prefix("device:") {
                            device_ref(&mut errs, &Spanned::new(s.span(), d.to_owned())).map(Selector::Device)
                        } else {
                            match IpSet::parse(t.strip_prefix("cidr:").unwrap_or(t)) {
                                Ok(n) => Some(Selector::Net(n)),
                                Err(_) => {
                                    errs.at(
                                        s.span(),
                                        format!(
                                            "{t:?}: a rule's end is any, internet, segment:NAME, class:CLASS, \
                                             vendor:NAME, device:ID|MAC|IP, or an address or network"
                                        ),
                                    );
                                    None
                                }
                            }
                        }
                    })
                    .collect()
            };
            let from = ends(r.from);
            let to = ends(r.to);
            let proto = match r.proto.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
                None | Some(("any", _)) => Proto::Any,
                Some(("tcp", _)) => Proto::Tcp,
                Some(("udp", _)) => Proto::Udp,
                Some(("icmp", _)) => Proto::Icmp,
                Some((other, span)) => {
                    errs.at(span, format!("proto {other:?}: use tcp, udp, icmp or any"));
                    Proto::Any
                }
            };
            let mut ports = Vec::new();
            for p in &r.ports {
                let span = p.span();
                let parsed = match p.get_ref() {
                    PortFile::Number(n) => u16::try_from(*n).ok().map(|p| (p, p)),
                    PortFile::Text(t) => match t.split_once('-') {
                        Some((a, b)) => a.trim().parse::<u16>().ok().zip(b.trim().parse::<u16>().ok()),
                        None => t.trim().parse::<u16>().ok().map(|p| (p, p)),
                    },
                };
                match parsed {
                    Some((a, b)) if a <= b => ports.push((a, b)),
                    _ => errs.at(span, "a port is a number from 0 to 65535 or a range \"from-to\""),
                }
            }
            if !ports.is_empty() && proto == Proto::Icmp {
                errs.at(r.name.span(), "ICMP has no ports");
            }
            let mut traffic = Vec::new();
            if !ports.is_empty() || (r.services.is_empty() && proto != Proto::Any) {
                traffic.push(Traffic { proto, ports: merge_ports(ports) });
            }
            for s in &r.services {
                match service(s.get_ref()) {
                    Some((p, ports)) => {
                        if proto != Proto::Any && proto != p {
                            errs.at(
                                s.span(),
                                format!(
                                    "service {:?} is {}, the rule says {}",
                                    s.get_ref(),
                                    p.name(),
                                    proto.name()
                                ),
                            );
                        }
                        traffic.push(Traffic { proto: p, ports: ports.to_vec() });
                    }
                    None => errs.at(
                        s.span(),
                        format!(
                            "unknown service {:?} (known: {})",
                            s.get_ref(),
                            crate::services::SERVICES.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }
            }
            let action = match r.action.get_ref().as_str() {
                "allow" => Action::Allow,
                "deny" => Action::Deny,
                other => {
                    errs.at(r.action.span(), format!("action {other:?}: use allow or deny"));
                    Action::Deny
                }
            };
            rules.push(Rule {
                name,
                from,
                to,
                traffic,
                action,
                log: r.log.unwrap_or(action == Action::Deny),
                comment: r.comment,
                line,
            });
        }

        let mut devices: Vec<DeviceLists> = Vec::new();
        let mut listed: HashMap<DeviceSel, usize> = HashMap::new();
        for d in &raw.device {
            let line = errs.lines.line_col(d.span().start).0;
            let d = d.get_ref();
            let Some(sel) = device_ref(&mut errs, &d.device) else { continue };
            if let Some(prev) = listed.get(&sel) {
                errs.at(d.device.span(), format!("device {sel} already has lists on line {prev}"));
            }
            listed.entry(sel).or_insert(line);
            let mut nets = |list: &[Spanned<String>]| {
                let mut set = IpSet::empty();
                for n in list {
                    match IpSet::parse(n.get_ref()) {
                        Ok(n) => set.extend(&n),
                        Err(e) => errs.at(n.span(), e.to_string()),
                    }
                }
                set
            };
            let allow = nets(&d.allow);
            let deny = nets(&d.deny);
            if allow.intersects(&deny) {
                errs.at(
                    d.device.span(),
                    format!("{} is both allowed and denied for this device", allow.intersection(&deny)),
                );
            }
            if d.allow.is_empty() && d.deny.is_empty() {
                errs.at(d.device.span(), "a device entry needs `allow` or `deny`");
            }
            devices.push(DeviceLists {
                device: sel,
                allow,
                has_allowlist: !d.allow.is_empty(),
                deny,
                comment: d.comment.clone(),
                line,
            });
        }

        if !errs.list.is_empty() {
            errs.list.sort_by_key(|e| (e.line, e.column));
            return Err(LoadError(errs.list));
        }
        Ok(Policy {
            name: raw.policy.name.unwrap_or_else(|| "ward".to_owned()),
            description: raw.policy.description,
            file: file.to_owned(),
            segments,
            outside_inbound,
            outside_outbound,
            placements,
            rules,
            devices,
            log: log_default,
        })
    }

    /// The segment with this name.
    pub fn segment(&self, name: &str) -> Option<usize> {
        self.segments.iter().position(|s| s.name == name)
    }
}

fn merge_ports(mut p: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    p.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (a, b) in p {
        match out.last_mut() {
            Some(l) if a <= l.1.saturating_add(1) => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}
