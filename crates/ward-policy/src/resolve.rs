//! A policy made concrete against an inventory: every rule's ends as address sets, every
//! device list tied to the device's addresses, zone pairs with the rules that concern them.
//! Both the evaluator ([`Resolved::decide`]) and the nftables compiler read this one form, so
//! a simulation says what the firewall will do.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;
use ward_core::Mac;

use crate::addr::{IpSet, not_internet};
use crate::policy::{Action, DeviceSel, Policy, Selector, Traffic};

/// What the policy needs to know of one device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Its number in the inventory.
    pub id: i64,
    /// Its current addresses.
    pub ips: Vec<IpAddr>,
    /// Its MACs.
    pub macs: Vec<Mac>,
    /// VLANs it was seen on.
    pub vlans: Vec<u16>,
    /// Its class (`infusion_pump`).
    pub class: Option<String>,
    /// Its vendor.
    pub vendor: Option<String>,
    /// A few words for people (class, vendor, model).
    pub label: String,
    /// Its class is clinical (it diagnoses, treats or watches patients): a violation by it
    /// matters more.
    pub clinical: bool,
}

/// A zone: a segment (its index) or [`OUTSIDE`].
pub type Zone = usize;

/// The zone of addresses in no segment.
pub const OUTSIDE: Zone = usize::MAX;

/// A rule with its ends as addresses.
#[derive(Clone, Debug)]
pub struct ResolvedRule {
    /// Index in [`Policy::rules`].
    pub index: usize,
    /// Where conversations may start.
    pub src: IpSet,
    /// Where they may go.
    pub dst: IpSet,
    /// Selectors that named nothing in the inventory (reported, never an error).
    pub unresolved: Vec<String>,
}

/// A device list with the device's addresses.
#[derive(Clone, Debug)]
pub struct ResolvedLists {
    /// Index in [`Policy::devices`].
    pub index: usize,
    /// The device's addresses.
    pub ips: IpSet,
}

/// The policy against an inventory.
#[derive(Debug)]
pub struct Resolved<'p> {
    /// The policy.
    pub policy: &'p Policy,
    /// Rules in policy order.
    pub rules: Vec<ResolvedRule>,
    /// Device lists whose device is known.
    pub lists: Vec<ResolvedLists>,
    /// Addresses in some segment.
    pub segmented: IpSet,
    /// Addresses in no segment.
    pub outside: IpSet,
    /// Global addresses in no segment (what `internet` means).
    pub internet: IpSet,
    /// For each zone pair with rules: the rules that can match there, denies first.
    pub pairs: HashMap<(Zone, Zone), Vec<usize>>,
    /// Deny rules from anywhere to anywhere (`no-telnet`): checked once for every
    /// conversation, before the zone pairs, rather than repeated in every pair.
    pub global_denies: Vec<usize>,
    /// Warnings found while resolving: names that matched nothing, rules that contradict
    /// or repeat others.
    pub warnings: Vec<Warning>,
    list_by_ip: HashMap<IpAddr, Vec<usize>>,
    zone_index: Vec<(IpSet, Zone)>,
    zone_lookup: ZoneLookup,
}

/// Segments' ranges sorted by address, so that an address finds its zone by binary search
/// (a policy read from a file never has overlapping segments; one built by hand might, and
/// then the first segment in order wins, by a scan).
#[derive(Debug, Default)]
struct ZoneLookup {
    v4: Vec<(u32, u32, Zone)>,
    v6: Vec<(u128, u128, Zone)>,
    overlapping: bool,
}

impl ZoneLookup {
    fn new(policy: &Policy) -> ZoneLookup {
        let mut z = ZoneLookup::default();
        for (i, s) in policy.segments.iter().enumerate() {
            z.v4.extend(s.nets.v4().map(|(a, b)| (u32::from(a), u32::from(b), i)));
            z.v6.extend(s.nets.v6().map(|(a, b)| (u128::from(a), u128::from(b), i)));
        }
        z.v4.sort_unstable();
        z.v6.sort_unstable();
        z.overlapping =
            z.v4.windows(2).any(|w| w[1].0 <= w[0].1) || z.v6.windows(2).any(|w| w[1].0 <= w[0].1);
        z
    }

    fn find<T: Copy + Ord>(ranges: &[(T, T, Zone)], x: T) -> Option<Zone> {
        let i = ranges.partition_point(|&(_, hi, _)| hi < x);
        ranges.get(i).filter(|&&(lo, _, _)| lo <= x).map(|&(_, _, z)| z)
    }
}

/// Something in a policy that is allowed but probably not meant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Line in the policy file (0 for the policy as a whole).
    pub line: usize,
    /// What.
    pub message: String,
}

/// Why a conversation is allowed or denied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Reason {
    /// A device's denylist holds the peer.
    Denylist {
        /// The device (as the policy names it).
        device: String,
        /// Line of its entry.
        line: usize,
    },
    /// A device has an allowlist that does not hold the peer.
    NotAllowlisted {
        /// The device.
        device: String,
        /// Line of its entry.
        line: usize,
    },
    /// A communication rule.
    Rule {
        /// Its name.
        rule: String,
        /// Its line.
        line: usize,
    },
    /// The default posture of the zones.
    Default {
        /// Source zone.
        from: String,
        /// Destination zone.
        to: String,
        /// Which posture decided: `intra`, `outbound`, `inbound` or `open`.
        posture: &'static str,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Denylist { device, line } => write!(f, "denylist of device {device} (line {line})"),
            Reason::NotAllowlisted { device, line } => {
                write!(f, "not on the allowlist of device {device} (line {line})")
            }
            Reason::Rule { rule, line } => write!(f, "rule {rule:?} (line {line})"),
            Reason::Default { from, to, posture } => write!(f, "default {posture} posture, {from} > {to}"),
        }
    }
}

/// The policy's answer for one conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Allow or deny.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// Whether the firewall logs it.
    pub log: bool,
}

impl Policy {
    /// The policy against an inventory.
    pub fn resolve<'p>(&'p self, devices: &[DeviceInfo]) -> Resolved<'p> {
        let mut warnings = Vec::new();
        let mut segmented = IpSet::empty();
        for s in &self.segments {
            segmented.extend(&s.nets);
        }
        let outside = IpSet::all().difference(&segmented);
        let internet = outside.difference(&not_internet());
        let by_id: HashMap<i64, &DeviceInfo> = devices.iter().map(|d| (d.id, d)).collect();
        let by_mac: HashMap<Mac, &DeviceInfo> =
            devices.iter().flat_map(|d| d.macs.iter().map(move |m| (*m, d))).collect();
        let device_ips = |sel: &DeviceSel| -> Option<IpSet> {
            match sel {
                DeviceSel::Ip(ip) => Some(IpSet::single(*ip)),
                DeviceSel::Id(id) => by_id.get(id).map(|d| IpSet::from_ips(d.ips.iter().copied())),
                DeviceSel::Mac(m) => by_mac.get(m).map(|d| IpSet::from_ips(d.ips.iter().copied())),
            }
        };
        let selector = |sel: &Selector, unresolved: &mut Vec<String>| -> IpSet {
            let set = match sel {
                Selector::Any => IpSet::all(),
                Selector::Internet => internet.clone(),
                Selector::Segment(i) => self.segments[*i].nets.clone(),
                Selector::Net(n) => n.clone(),
                Selector::Class(c) => IpSet::from_ips(
                    devices
                        .iter()
                        .filter(|d| d.class.as_deref() == Some(c))
                        .flat_map(|d| d.ips.iter().copied()),
                ),
                Selector::Vendor(v) => IpSet::from_ips(
                    devices
                        .iter()
                        .filter(|d| d.vendor.as_ref().is_some_and(|x| x.to_lowercase().contains(v.as_str())))
                        .flat_map(|d| d.ips.iter().copied()),
                ),
                Selector::Device(d) => device_ips(d).unwrap_or_default(),
            };
            if set.is_empty() {
                unresolved.push(sel.describe(self));
            }
            set
        };
        let mut rules = Vec::with_capacity(self.rules.len());
        for (index, r) in self.rules.iter().enumerate() {
            let mut unresolved = Vec::new();
            let mut src = IpSet::empty();
            for s in &r.from {
                src.extend(&selector(s, &mut unresolved));
            }
            let mut dst = IpSet::empty();
            for s in &r.to {
                dst.extend(&selector(s, &mut unresolved));
            }
            // A selector that names nothing today is normal (no ventilator yet); a rule that
            // can match nothing is worth a word.
            if src.is_empty() || dst.is_empty() {
                warnings.push(Warning {
                    line: r.line,
                    message: format!(
                        "rule {:?} matches nothing: {} name no device or address",
                        r.name,
                        unresolved.join(", ")
                    ),
                });
            }
            rules.push(ResolvedRule { index, src, dst, unresolved });
        }
        let mut lists = Vec::new();
        let mut list_by_ip: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        for (index, l) in self.devices.iter().enumerate() {
            match device_ips(&l.device) {
                Some(ips) if !ips.is_empty() => {
                    let n = lists.len();
                    for ip in set_ips(&ips) {
                        list_by_ip.entry(ip).or_default().push(n);
                    }
                    lists.push(ResolvedLists { index, ips });
                }
                _ => warnings.push(Warning {
                    line: l.line,
                    message: format!(
                        "device {} is not in the inventory (or has no address): its lists apply to nothing",
                        l.device
                    ),
                }),
            }
        }
        let mut zone_index: Vec<(IpSet, Zone)> =
            self.segments.iter().enumerate().map(|(i, s)| (s.nets.clone(), i)).collect();
        zone_index.push((outside.clone(), OUTSIDE));
        let mut resolved = Resolved {
            policy: self,
            rules,
            lists,
            segmented,
            outside,
            internet,
            pairs: HashMap::new(),
            global_denies: Vec::new(),
            warnings,
            list_by_ip,
            zone_index,
            zone_lookup: ZoneLookup::new(self),
        };
        resolved.global_denies = resolved
            .rules
            .iter()
            .filter(|r| self.rules[r.index].action == Action::Deny && r.src.is_all() && r.dst.is_all())
            .map(|r| r.index)
            .collect();
        resolved.pairs = resolved.zone_pairs();
        resolved.lint();
        resolved
    }
}

/// The single addresses of a device's set (devices have a handful).
fn set_ips(s: &IpSet) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for (a, b) in s.v4() {
        let (a, b) = (u32::from(a), u32::from(b));
        for x in a..=b.min(a.saturating_add(255)) {
            out.push(IpAddr::from(std::net::Ipv4Addr::from(x)));
        }
    }
    for (a, b) in s.v6() {
        let (a, b) = (u128::from(a), u128::from(b));
        for x in a..=b.min(a.saturating_add(255)) {
            out.push(IpAddr::from(std::net::Ipv6Addr::from(x)));
        }
    }
    out
}

impl Resolved<'_> {
    /// The zones, segments in order then [`OUTSIDE`], with their addresses.
    pub fn zones(&self) -> impl Iterator<Item = (Zone, &IpSet)> {
        self.zone_index.iter().map(|(s, z)| (*z, s))
    }

    /// The addresses of a zone.
    pub fn zone_set(&self, z: Zone) -> &IpSet {
        if z == OUTSIDE { &self.outside } else { &self.policy.segments[z].nets }
    }

    /// A zone's name.
    pub fn zone_name(&self, z: Zone) -> &str {
        if z == OUTSIDE { "outside" } else { &self.policy.segments[z].name }
    }

    /// The zone of an address.
    pub fn zone_of(&self, ip: IpAddr) -> Zone {
        let z = &self.zone_lookup;
        if z.overlapping {
            return self.policy.segments.iter().position(|s| s.nets.contains(ip)).unwrap_or(OUTSIDE);
        }
        match ip {
            IpAddr::V4(a) => ZoneLookup::find(&z.v4, u32::from(a)),
            IpAddr::V6(a) => ZoneLookup::find(&z.v6, u128::from(a)),
        }
        .unwrap_or(OUTSIDE)
    }

    fn zone_pairs(&self) -> HashMap<(Zone, Zone), Vec<usize>> {
        let mut pairs: HashMap<(Zone, Zone), Vec<usize>> = HashMap::new();
        let zones: Vec<(Zone, IpSet)> = self.zones().map(|(z, s)| (z, s.clone())).collect();
        for r in self.rules.iter().filter(|r| !self.global_denies.contains(&r.index)) {
            for (zs, ss) in &zones {
                if !r.src.intersects(ss) {
                    continue;
                }
                for (zd, sd) in &zones {
                    if r.dst.intersects(sd) {
                        pairs.entry((*zs, *zd)).or_default().push(r.index);
                    }
                }
            }
        }
        for list in pairs.values_mut() {
            // Denies first, each group in file order: a deny wins over any allow.
            list.sort_by_key(|&i| (self.policy.rules[i].action == Action::Allow, i));
        }
        pairs
    }

    /// The default posture between two zones, and which posture decided it.
    pub fn default_action(&self, from: Zone, to: Zone) -> (Action, &'static str, bool) {
        let p = self.policy;
        if from == to {
            return if from == OUTSIDE {
                (Action::Allow, "open", false)
            } else {
                let s = &p.segments[from];
                (s.intra, "intra", s.log)
            };
        }
        let (out, out_log) = if from == OUTSIDE {
            (p.outside_outbound, p.log)
        } else {
            (p.segments[from].outbound, p.segments[from].log)
        };
        if out == Action::Deny {
            return (Action::Deny, "outbound", out_log);
        }
        let (inb, in_log) = if to == OUTSIDE {
            (p.outside_inbound, p.log)
        } else {
            (p.segments[to].inbound, p.segments[to].log)
        };
        if inb == Action::Deny {
            return (Action::Deny, "inbound", in_log);
        }
        (Action::Allow, "open", false)
    }

    /// What the policy says of a new conversation from `src` to `dst` with IP protocol
    /// `proto` to port `port` (0 without ports). The order is the firewall's: device
    /// denylists, device allowlists, the zone pair's rules (denies first), the default.
    pub fn decide(&self, src: IpAddr, dst: IpAddr, proto: u8, port: u16) -> Decision {
        let p = self.policy;
        let lists = |ip: IpAddr| self.list_by_ip.get(&ip).map(Vec::as_slice).unwrap_or_default();
        for (own, peer) in [(src, dst), (dst, src)] {
            for &l in lists(own) {
                let entry = &p.devices[self.lists[l].index];
                if entry.deny.contains(peer) {
                    return Decision {
                        action: Action::Deny,
                        reason: Reason::Denylist { device: entry.device.to_string(), line: entry.line },
                        log: p.log,
                    };
                }
            }
        }
        for (own, peer) in [(dst, src), (src, dst)] {
            for &l in lists(own) {
                let entry = &p.devices[self.lists[l].index];
                if entry.has_allowlist && !entry.allow.contains(peer) {
                    return Decision {
                        action: Action::Deny,
                        reason: Reason::NotAllowlisted { device: entry.device.to_string(), line: entry.line },
                        log: p.log,
                    };
                }
            }
        }
        for &i in &self.global_denies {
            let r = &p.rules[i];
            if traffic_matches(&r.traffic, proto, port) {
                return Decision {
                    action: r.action,
                    reason: Reason::Rule { rule: r.name.clone(), line: r.line },
                    log: r.log,
                };
            }
        }
        let (zs, zd) = (self.zone_of(src), self.zone_of(dst));
        if let Some(rules) = self.pairs.get(&(zs, zd)) {
            for &i in rules {
                let (r, rr) = (&p.rules[i], &self.rules[i]);
                if rr.src.contains(src) && rr.dst.contains(dst) && traffic_matches(&r.traffic, proto, port) {
                    return Decision {
                        action: r.action,
                        reason: Reason::Rule { rule: r.name.clone(), line: r.line },
                        log: r.log,
                    };
                }
            }
        }
        let (action, posture, log) = self.default_action(zs, zd);
        Decision {
            action,
            reason: Reason::Default {
                from: self.zone_name(zs).to_owned(),
                to: self.zone_name(zd).to_owned(),
                posture,
            },
            log: log && action == Action::Deny,
        }
    }

    /// Contradictions and repetitions between rules.
    fn lint(&mut self) {
        let p = self.policy;
        let n = self.rules.len();
        // Pairwise, but only among rules that share a zone pair: a policy of thousands of
        // rules spread over many segments stays fast.
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        let lists: Vec<Vec<usize>> = if self.pairs.is_empty() {
            vec![self.global_denies.clone()]
        } else {
            self.pairs.values().map(|l| self.global_denies.iter().chain(l).copied().collect()).collect()
        };
        for list in &lists {
            for (x, &i) in list.iter().enumerate() {
                for &j in &list[x + 1..] {
                    let (a, b) = (i.min(j), i.max(j));
                    if a >= n || !seen.insert((a, b)) {
                        continue;
                    }
                    let (ra, rb) = (&p.rules[a], &p.rules[b]);
                    let (xa, xb) = (&self.rules[a], &self.rules[b]);
                    let traffic = traffic_overlap(&ra.traffic, &rb.traffic);
                    if !traffic || !xa.src.intersects(&xb.src) || !xa.dst.intersects(&xb.dst) {
                        continue;
                    }
                    if ra.action != rb.action {
                        let (deny, allow) = if ra.action == Action::Deny { (ra, rb) } else { (rb, ra) };
                        found.push(Warning {
                            line: allow.line,
                            message: format!(
                                "rule {:?} (allow) and rule {:?} (deny, line {}) overlap; the deny wins where both match",
                                allow.name, deny.name, deny.line
                            ),
                        });
                    } else {
                        // The later of two alike rules that the other covers adds nothing
                        // (checked both ways: either may be the wider).
                        let covered = [(a, b), (b, a)].into_iter().find(|&(wide, narrow)| {
                            let (w, n) = (&self.rules[wide], &self.rules[narrow]);
                            n.src.is_subset(&w.src)
                                && n.dst.is_subset(&w.dst)
                                && traffic_covers(&p.rules[wide].traffic, &p.rules[narrow].traffic)
                        });
                        if let Some((wide, narrow)) = covered {
                            let (w, n) = (&p.rules[wide], &p.rules[narrow]);
                            found.push(Warning {
                                line: n.line,
                                message: format!(
                                    "rule {:?} adds nothing: rule {:?} (line {}) already matches all it matches",
                                    n.name, w.name, w.line
                                ),
                            });
                        }
                    }
                }
            }
        }
        found.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
        found.dedup();
        self.warnings.extend(found);
        self.warnings.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
    }
}

fn traffic_matches(t: &[Traffic], proto: u8, port: u16) -> bool {
    t.is_empty() || t.iter().any(|t| t.matches(proto, port))
}

fn traffic_overlap(a: &[Traffic], b: &[Traffic]) -> bool {
    if a.is_empty() || b.is_empty() {
        return true;
    }
    a.iter().any(|x| b.iter().any(|y| x.overlaps(y)))
}

/// Whether everything `b` matches, `a` matches.
fn traffic_covers(a: &[Traffic], b: &[Traffic]) -> bool {
    if a.is_empty() {
        return true;
    }
    if b.is_empty() {
        return false;
    }
    b.iter().all(|y| {
        let ports: Vec<(u16, u16)> = if y.ports.is_empty() { vec![(0, u16::MAX)] } else { y.ports.clone() };
        [1u8, 6, 17, 58]
            .iter()
            .filter(|&&p| y.proto.matches(p) && (y.ports.is_empty() || p == 6 || p == 17))
            .all(|&p| {
                ports.iter().all(|&(lo, hi)| {
                    a.iter().any(|x| {
                        (x.ports.is_empty() && x.proto.matches(p))
                            || x.ports.iter().any(|&(a0, a1)| a0 <= lo && hi <= a1) && x.matches(p, lo)
                    })
                })
            })
    })
}
