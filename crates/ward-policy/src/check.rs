//! An observed network against its policy: devices outside their segments or on the wrong
//! VLAN, devices that do not belong in an exclusive segment, and conversations the policy
//! denies (by a rule, a default posture, a device's allowlist or denylist), each with its
//! evidence.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Serialize;
use ward_core::{Severity, Timestamp};

use crate::policy::{Action, DeviceSel, Placement};
use crate::resolve::{DeviceInfo, OUTSIDE, Reason, Resolved, Warning, Zone};

/// One observed conversation (or several alike), as the communication map or a capture gives
/// them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conversation {
    /// Who opened it.
    pub src: IpAddr,
    /// Its source port, when known (a capture knows it; the stored map does not keep it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Who answered (or was asked).
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Destination port (0 without ports).
    pub port: u16,
    /// Application detected, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// First seen.
    pub first: Timestamp,
    /// Last seen.
    pub last: Timestamp,
    /// How many conversations this stands for.
    pub flows: u64,
    /// Whether the other end answered.
    pub answered: bool,
}

/// What kind of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// A device that belongs in some segments is in none of them.
    Misplaced,
    /// A device is on a VLAN its segment does not have.
    WrongVlan,
    /// A device is in an exclusive segment it does not belong in.
    ForeignDevice,
    /// A conversation the rules or defaults deny.
    DeniedFlow,
    /// A conversation with a peer not on a device's allowlist.
    NotAllowlisted,
    /// A conversation with a peer on a device's denylist.
    DenylistedPeer,
}

impl ViolationKind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::Misplaced => "misplaced",
            ViolationKind::WrongVlan => "wrong_vlan",
            ViolationKind::ForeignDevice => "foreign_device",
            ViolationKind::DeniedFlow => "denied_flow",
            ViolationKind::NotAllowlisted => "not_allowlisted",
            ViolationKind::DenylistedPeer => "denylisted_peer",
        }
    }
}

/// One thing the network does that the policy says it must not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// What kind.
    pub kind: ViolationKind,
    /// How urgent.
    pub severity: Severity,
    /// The device concerned (for conversations: the one whose list was broken, else the one
    /// that opened it), when the inventory knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<i64>,
    /// The device in a few words.
    pub label: String,
    /// For people.
    pub message: String,
    /// The rule, list or posture that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The conversation, for conversation violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<Conversation>,
    /// A stable key: one violation per device and key (used to keep findings current).
    pub key: String,
}

/// The outcome of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Violations, by kind then device.
    pub violations: Vec<Violation>,
    /// Warnings about the policy itself.
    pub warnings: Vec<Warning>,
    /// Devices checked.
    pub devices: usize,
    /// Conversations checked.
    pub conversations: usize,
    /// Conversations the policy allows.
    pub allowed: usize,
}

fn matches_device(sel: &DeviceSel, d: &DeviceInfo) -> bool {
    match sel {
        DeviceSel::Id(id) => *id == d.id,
        DeviceSel::Mac(m) => d.macs.contains(m),
        DeviceSel::Ip(ip) => d.ips.contains(ip),
    }
}

/// Whether a placement names this device.
pub fn placement_matches(p: &Placement, d: &DeviceInfo) -> bool {
    d.class.as_ref().is_some_and(|c| p.classes.contains(c))
        || d.vendor.as_ref().is_some_and(|v| {
            let v = v.to_lowercase();
            p.vendors.iter().any(|x| v.contains(x.as_str()))
        })
        || p.devices.iter().any(|s| matches_device(s, d))
}

impl Resolved<'_> {
    /// Checks devices and conversations against the policy.
    pub fn check(&self, devices: &[DeviceInfo], conversations: &[Conversation]) -> CheckReport {
        let p = self.policy;
        let mut out = Vec::new();
        for d in devices {
            if d.ips.is_empty() {
                continue;
            }
            let zones: Vec<Zone> = {
                let mut z: Vec<Zone> = d.ips.iter().map(|ip| self.zone_of(*ip)).collect();
                z.sort_unstable();
                z.dedup();
                z
            };
            let placed: Vec<&Placement> = p.placements.iter().filter(|pl| placement_matches(pl, d)).collect();
            let expected: Vec<usize> = {
                let mut e: Vec<usize> = placed.iter().flat_map(|pl| pl.segments.iter().copied()).collect();
                e.sort_unstable();
                e.dedup();
                e
            };
            let severity = if d.clinical { Severity::High } else { Severity::Medium };
            if !expected.is_empty() && !zones.iter().any(|z| expected.contains(z)) {
                let want: Vec<&str> = expected.iter().map(|&i| p.segments[i].name.as_str()).collect();
                let have: Vec<String> =
                    d.ips.iter().map(|ip| format!("{ip} in {}", self.zone_name(self.zone_of(*ip)))).collect();
                let lines: Vec<String> = placed.iter().map(|pl| pl.line.to_string()).collect();
                out.push(Violation {
                    kind: ViolationKind::Misplaced,
                    severity,
                    device: Some(d.id),
                    label: d.label.clone(),
                    message: format!(
                        "belongs in {} (placement on line {}) but is at {}",
                        want.join(" or "),
                        lines.join(", "),
                        have.join(", ")
                    ),
                    reason: None,
                    flow: None,
                    key: "placement".into(),
                });
            }
            for &z in &zones {
                if z == OUTSIDE {
                    continue;
                }
                let seg = &p.segments[z];
                if !seg.vlans.is_empty() {
                    let wrong: Vec<u16> =
                        d.vlans.iter().copied().filter(|v| !seg.vlans.contains(v)).collect();
                    if !wrong.is_empty() {
                        out.push(Violation {
                            kind: ViolationKind::WrongVlan,
                            severity,
                            device: Some(d.id),
                            label: d.label.clone(),
                            message: format!(
                                "seen on VLAN {} but segment {} (line {}) is VLAN {}",
                                join(&wrong),
                                seg.name,
                                seg.line,
                                join(&seg.vlans)
                            ),
                            reason: None,
                            flow: None,
                            key: format!("vlan:{}", seg.name),
                        });
                    }
                }
                let exclusive: Vec<&Placement> =
                    p.placements.iter().filter(|pl| pl.exclusive && pl.segments.contains(&z)).collect();
                if !exclusive.is_empty() && !placed.iter().any(|pl| pl.segments.contains(&z)) {
                    out.push(Violation {
                        kind: ViolationKind::ForeignDevice,
                        severity: Severity::Medium,
                        device: Some(d.id),
                        label: d.label.clone(),
                        message: format!(
                            "is in segment {}, which admits only the devices placed there (line {})",
                            seg.name, exclusive[0].line
                        ),
                        reason: None,
                        flow: None,
                        key: format!("foreign:{}", seg.name),
                    });
                }
            }
        }

        let by_ip: HashMap<IpAddr, &DeviceInfo> =
            devices.iter().flat_map(|d| d.ips.iter().map(move |ip| (*ip, d))).collect();
        let mut allowed = 0;
        // Conversations alike (same ends, protocol, port and decision) are one violation.
        let mut flows: BTreeMap<(IpAddr, IpAddr, u8, u16), (Conversation, Reason)> = BTreeMap::new();
        for c in conversations {
            let dec = self.decide(c.src, c.dst, c.proto, c.port);
            if dec.action == Action::Allow {
                allowed += 1;
                continue;
            }
            match flows.get_mut(&(c.src, c.dst, c.proto, c.port)) {
                Some((agg, _)) => {
                    agg.first = agg.first.min(c.first);
                    agg.last = agg.last.max(c.last);
                    agg.flows += c.flows;
                    agg.answered |= c.answered;
                    if agg.app.is_none() {
                        agg.app.clone_from(&c.app);
                    }
                    if agg.src_port != c.src_port {
                        agg.src_port = None;
                    }
                }
                None => {
                    flows.insert((c.src, c.dst, c.proto, c.port), (c.clone(), dec.reason));
                }
            }
        }
        for ((src, dst, proto, port), (conv, reason)) in flows {
            let (kind, device, severity) = match &reason {
                Reason::Denylist { .. } => {
                    (ViolationKind::DenylistedPeer, listed_device(self, src, dst, true), Severity::High)
                }
                Reason::NotAllowlisted { .. } => {
                    (ViolationKind::NotAllowlisted, listed_device(self, src, dst, false), Severity::Medium)
                }
                _ => (ViolationKind::DeniedFlow, src, Severity::Medium),
            };
            let d = by_ip.get(&device).or_else(|| by_ip.get(&src)).copied();
            let service = crate::check::service_name(proto, port);
            let app = conv.app.as_deref().map(|a| format!(" ({a})")).unwrap_or_default();
            out.push(Violation {
                kind,
                severity,
                device: d.map(|d| d.id),
                label: d.map(|d| d.label.clone()).unwrap_or_else(|| src.to_string()),
                message: format!(
                    "{src} > {dst} {service}{app}: {} conversation{}{}, denied by {reason}",
                    conv.flows,
                    if conv.flows == 1 { "" } else { "s" },
                    if conv.answered { "" } else { " (unanswered)" },
                ),
                key: format!("flow:{src}>{dst}:{service}"),
                reason: Some(reason),
                flow: Some(conv),
            });
        }
        out.sort_by(|a, b| (a.kind, a.device, &a.key).cmp(&(b.kind, b.device, &b.key)));
        CheckReport {
            violations: out,
            warnings: self.warnings.clone(),
            devices: devices.len(),
            conversations: conversations.len(),
            allowed,
        }
    }
}

/// Which end's list decided (the other end is its peer).
fn listed_device(r: &Resolved<'_>, src: IpAddr, dst: IpAddr, deny: bool) -> IpAddr {
    let has = |own: IpAddr, peer: IpAddr| {
        r.lists.iter().any(|l| {
            let e = &r.policy.devices[l.index];
            l.ips.contains(own)
                && if deny { e.deny.contains(peer) } else { e.has_allowlist && !e.allow.contains(peer) }
        })
    };
    if deny {
        if has(src, dst) { src } else { dst }
    } else if has(dst, src) {
        dst
    } else {
        src
    }
}

fn join(v: &[u16]) -> String {
    v.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
}

/// `tcp/104`, `udp/53`, `icmp`: [`ward_core::IpProto::service`].
pub fn service_name(proto: u8, port: u16) -> String {
    ward_core::IpProto(proto).service(port)
}
