//! The nftables compiler: one table that Ward owns, in `nft -f` syntax.
//!
//! ```text
//! forward (hook) ─ established/related: accept
//!                ─ device denylists, then allowlists (concatenated interval sets): drop
//!                ─ ip saddr vmap @src_zone ──► from_<zone> ─ ip daddr vmap @dst_from_<zone> ──► <zone>__<zone> (rules)
//!                │                                       └ defaults: vmap @dst_default ──► deny_in_<zone>
//!                └ (source in no segment) ──► from_outside ...
//! ```
//!
//! A packet meets at most two interval-map lookups to find its zone pair, whatever the
//! number of segments and devices, then the rules of that one pair. Every drop is counted and,
//! where the policy says so, logged with a prefix naming the pair; in monitor mode a drop
//! becomes a logged accept.

use std::fmt::Write as _;

use crate::addr::IpSet;
use crate::policy::{Action, Proto, Traffic};
use crate::resolve::{OUTSIDE, Resolved, Zone};

/// How to compile.
#[derive(Clone, Debug)]
pub struct NftOptions {
    /// The table's name (family `inet`).
    pub table: String,
    /// Log and accept instead of dropping.
    pub monitor: bool,
    /// The chain's hook: `forward` for a router between segments.
    pub hook: String,
    /// The hook priority.
    pub priority: i32,
    /// Interfaces for a flowtable: conversations the policy allowed, once established, are
    /// forwarded by the kernel's flow offload and skip the forward hook (empty: none).
    pub flowtable: Vec<String>,
}

impl Default for NftOptions {
    fn default() -> NftOptions {
        NftOptions {
            table: "ward".into(),
            monitor: false,
            hook: "forward".into(),
            priority: 0,
            flowtable: Vec::new(),
        }
    }
}

/// The comment that marks a table as Ward's: `apply` refuses to replace a table without it.
pub const OWNER_MARK: &str = "managed by ward";

/// The set of addresses blocked by threat intelligence (`_v4`, `_v6`).
pub const BLOCK_SET: &str = "intel_block";

/// The set of quarantined devices' addresses (`_v4`, `_v6`).
pub const QUARANTINE_SET: &str = "quarantine";

struct Out {
    text: String,
    sets: String,
    named: usize,
    /// Named sets by content: the same addresses in several chains are one set.
    by_content: std::collections::HashMap<String, String>,
}

impl Out {
    /// `ip saddr` / `ip6 daddr` matches for a set restricted to one family, inline or named.
    fn addr_match(&mut self, field: &str, family: Family, set: &IpSet) -> String {
        let elems = match family {
            Family::V4 => set.nft_v4(),
            Family::V6 => set.nft_v6(),
        };
        let key = match family {
            Family::V4 => "ip",
            Family::V6 => "ip6",
        };
        // One address, network or range needs no set; several go in a named set shared by
        // every rule that names the same addresses. Anonymous sets are what made large
        // rulesets slow to load (each is a set of its own in the kernel).
        if let [one] = elems.as_slice() {
            return format!("{key} {field} {one} ");
        }
        let name = self.named_set(&format!("addr_{}_", family.suffix()), family.addr_type(), true, &elems);
        format!("{key} {field} @{name} ")
    }

    /// A named set of `elements`, shared by content: its name.
    fn named_set(&mut self, prefix: &str, ty: &str, interval: bool, elements: &[String]) -> String {
        let content = format!("{ty}|{}", elements.join(", "));
        if let Some(name) = self.by_content.get(&content) {
            return name.clone();
        }
        self.named += 1;
        let name = format!("{prefix}{}", self.named);
        self.by_content.insert(content, name.clone());
        let _ = writeln!(
            self.sets,
            "\tset {name} {{\n\t\ttype {ty};\n{}\t\telements = {{ {} }}\n\t}}",
            if interval { "\t\tflags interval;\n" } else { "" },
            elements.join(", ")
        );
        name
    }

    /// The match for a rule's traffic, with port lists in shared named sets.
    fn traffic_match(&mut self, t: &Traffic) -> String {
        let ports = |o: &mut Out| {
            let p: Vec<String> = t
                .ports
                .iter()
                .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
                .collect();
            match p.as_slice() {
                [one] => format!("th dport {one} "),
                _ => format!("th dport @{} ", o.named_set("ports_", "inet_service", true, &p)),
            }
        };
        match (t.proto, t.ports.is_empty()) {
            (Proto::Any, true) => String::new(),
            (Proto::Any, false) => {
                let l4 = self.named_set("l4_", "inet_proto", false, &["tcp".into(), "udp".into()]);
                format!("meta l4proto @{l4} {}", ports(self))
            }
            (Proto::Tcp, true) => "meta l4proto tcp ".into(),
            (Proto::Udp, true) => "meta l4proto udp ".into(),
            (Proto::Tcp, false) => format!("meta l4proto tcp {}", ports(self)),
            (Proto::Udp, false) => format!("meta l4proto udp {}", ports(self)),
            (Proto::Icmp, _) => {
                let l4 = self.named_set("l4_", "inet_proto", false, &["icmp".into(), "ipv6-icmp".into()]);
                format!("meta l4proto @{l4} ")
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn suffix(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }
    fn addr_type(self) -> &'static str {
        match self {
            Family::V4 => "ipv4_addr",
            Family::V6 => "ipv6_addr",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Family::V4 => "ip",
            Family::V6 => "ip6",
        }
    }
    fn of(self, s: &IpSet) -> Vec<String> {
        match self {
            Family::V4 => s.nft_v4(),
            Family::V6 => s.nft_v6(),
        }
    }
}

const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

fn quote(s: &str) -> String {
    // Names are checked when the policy is read; comments may hold anything a person wrote.
    s.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').take(120).collect()
}

/// A rule's traffic with one entry per protocol, so that a packet meets one port set per rule.
fn merged(traffic: &[Traffic]) -> Vec<Traffic> {
    let mut out: Vec<Traffic> = Vec::new();
    for t in traffic {
        match out.iter_mut().find(|o| o.proto == t.proto) {
            Some(o) if o.ports.is_empty() || t.ports.is_empty() => o.ports.clear(),
            Some(o) => {
                o.ports.extend(&t.ports);
                o.ports.sort_unstable();
                let mut m: Vec<(u16, u16)> = Vec::new();
                for &(a, b) in &o.ports {
                    match m.last_mut() {
                        Some(l) if a <= l.1.saturating_add(1) => l.1 = l.1.max(b),
                        _ => m.push((a, b)),
                    }
                }
                o.ports = m;
            }
            None => out.push(t.clone()),
        }
    }
    out
}

impl Resolved<'_> {
    fn chain_zone(&self, z: Zone) -> &str {
        self.zone_name(z)
    }

    /// The verdict statement for a drop (or its monitor form), with the log prefix.
    fn drop_stmt(opts: &NftOptions, log: bool, prefix: &str) -> String {
        let prefix: String = prefix.chars().take(100).collect();
        match (opts.monitor, log) {
            (false, true) => format!("counter log prefix \"ward drop {prefix}: \" drop"),
            (false, false) => "counter drop".into(),
            (true, _) => format!("counter log prefix \"ward would drop {prefix}: \" accept"),
        }
    }

    /// The statement that ends a pair's chain (or stands for a pair without rules).
    fn default_verdict(&self, from: Zone, to: Zone) -> String {
        let (action, posture, _) = self.default_action(from, to);
        match (action, posture) {
            (Action::Allow, _) => "counter accept".into(),
            (_, "intra") => format!("goto deny_intra_{}", self.chain_zone(from)),
            (_, "outbound") => format!("goto deny_out_{}", self.chain_zone(from)),
            _ => format!("goto deny_in_{}", self.chain_zone(to)),
        }
    }

    /// The whole table as an `nft -f` file. Loading it replaces the table atomically: the
    /// file creates the table, deletes it, and defines it again, in one transaction.
    pub fn compile_nft(&self, opts: &NftOptions) -> String {
        let p = self.policy;
        let t = &opts.table;
        let mut o =
            Out { text: String::new(), sets: String::new(), named: 0, by_content: Default::default() };
        let zones: Vec<Zone> = (0..p.segments.len()).chain([OUTSIDE]).collect();

        // Zone lookups.
        for f in FAMILIES {
            let elems: Vec<String> = p
                .segments
                .iter()
                .flat_map(|s| f.of(&s.nets).into_iter().map(move |e| format!("{e} : jump from_{}", s.name)))
                .collect();
            let _ = writeln!(
                o.sets,
                "\tmap src_zone_{} {{\n\t\ttype {} : verdict;\n\t\tflags interval;\n{}\t}}",
                f.suffix(),
                f.addr_type(),
                elements(&elems)
            );
            let _ = writeln!(
                o.sets,
                "\tset segmented_{} {{\n\t\ttype {};\n\t\tflags interval;\n{}\t}}",
                f.suffix(),
                f.addr_type(),
                elements(&f.of(&self.segmented))
            );
            let defaults: Vec<String> = p
                .segments
                .iter()
                .enumerate()
                .flat_map(|(i, s)| f.of(&s.nets).into_iter().map(move |e| (e, i)))
                .map(|(e, i)| format!("{e} : {}", self.default_for_dst(i)))
                .collect();
            let _ = writeln!(
                o.sets,
                "\tmap dst_default_{} {{\n\t\ttype {} : verdict;\n\t\tflags interval;\n{}\t}}",
                f.suffix(),
                f.addr_type(),
                elements(&defaults)
            );
        }

        // Blocking by threat intelligence and quarantine (W7's `ward intel apply` fills
        // them, each element with a timeout, so that blocks lapse when nobody renews them).
        for f in FAMILIES {
            let (s, ty) = (f.suffix(), f.addr_type());
            let _ = writeln!(
                o.sets,
                "\tset {BLOCK_SET}_{s} {{\n\t\ttype {ty};\n\t\tflags interval, timeout;\n\t}}"
            );
            let _ = writeln!(
                o.sets,
                "\tset {QUARANTINE_SET}_{s} {{\n\t\ttype {ty};\n\t\tflags interval, timeout;\n\t}}"
            );
        }

        // Device lists. A device's address paired with one peer address goes in a hash set
        // (`dev_allow_v4`); with a network or range in an interval set (`..._net_v4`): nft
        // builds interval concatenations slowly (a 50,000-pair interval set took 28 s to load;
        // most entries are single servers or neighbours).
        for f in FAMILIES {
            let (mut deny, mut deny_net, mut allow, mut allow_net, mut listed) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for l in &self.lists {
                let entry = &p.devices[l.index];
                for ip in singles(f, &l.ips) {
                    for peer in f.of(&entry.deny) {
                        let e = format!("{ip} . {peer}");
                        if is_single(&peer) { deny.push(e) } else { deny_net.push(e) }
                    }
                    if entry.has_allowlist {
                        listed.push(ip.clone());
                        for peer in f.of(&entry.allow) {
                            let e = format!("{ip} . {peer}");
                            if is_single(&peer) { allow.push(e) } else { allow_net.push(e) }
                        }
                    }
                }
            }
            let s = f.suffix();
            let ty = f.addr_type();
            for (name, list) in [("dev_deny", &deny), ("dev_allow", &allow)] {
                let _ =
                    writeln!(o.sets, "\tset {name}_{s} {{\n\t\ttype {ty} . {ty};\n{}\t}}", elements(list));
            }
            for (name, list) in [("dev_deny_net", &deny_net), ("dev_allow_net", &allow_net)] {
                let _ = writeln!(
                    o.sets,
                    "\tset {name}_{s} {{\n\t\ttype {ty} . {ty};\n\t\tflags interval;\n{}\t}}",
                    elements(list)
                );
            }
            let _ =
                writeln!(o.sets, "\tset dev_allowlisted_{s} {{\n\t\ttype {ty};\n{}\t}}", elements(&listed));
        }

        // The base chain.
        let _ = writeln!(
            o.text,
            "\tchain forward {{\n\t\ttype filter hook {} priority {}; policy accept;",
            opts.hook, opts.priority
        );
        // Established and related packets pass first: a packet of a live conversation meets
        // one rule. Blocks apply to new conversations (measured: eight set lookups before the
        // state match cost a tenth of forwarding throughput).
        if !opts.flowtable.is_empty() && opts.hook == "forward" {
            // Only conversations already established (so already allowed) are offloaded.
            let devices: Vec<String> = opts.flowtable.iter().map(|d| format!("\"{}\"", quote(d))).collect();
            let _ = writeln!(
                o.sets,
                "\tflowtable fastpath {{\n\t\thook ingress priority filter;\n\t\tdevices = {{ {} }};\n\t}}",
                devices.join(", ")
            );
            let _ =
                writeln!(o.text, "\t\tmeta l4proto {{ tcp, udp }} ct state established flow add @fastpath");
        }
        let _ = writeln!(o.text, "\t\tct state established,related counter accept");
        for f in FAMILIES {
            let (k, s) = (f.key(), f.suffix());
            for (set, what) in [(BLOCK_SET, "intel blocklist"), (QUARANTINE_SET, "quarantine")] {
                for dir in ["daddr", "saddr"] {
                    let _ = writeln!(
                        o.text,
                        "\t\t{k} {dir} @{set}_{s} {} comment \"{what}\"",
                        Self::drop_stmt(opts, true, what)
                    );
                }
            }
        }
        let list_drop = |what: &str| Self::drop_stmt(opts, p.log, what);
        for f in FAMILIES {
            let (k, s) = (f.key(), f.suffix());
            for set in ["dev_deny", "dev_deny_net"] {
                for (a, b) in [("saddr", "daddr"), ("daddr", "saddr")] {
                    let _ = writeln!(
                        o.text,
                        "\t\t{k} {a} . {k} {b} @{set}_{s} {} comment \"device denylist\"",
                        list_drop("denylist")
                    );
                }
            }
        }
        for f in FAMILIES {
            let (k, s) = (f.key(), f.suffix());
            // Both sets must miss: a peer on either is allowed.
            for (a, b) in [("daddr", "saddr"), ("saddr", "daddr")] {
                let _ = writeln!(
                    o.text,
                    "\t\t{k} {a} @dev_allowlisted_{s} {k} {a} . {k} {b} != @dev_allow_{s} {k} {a} . {k} {b} != @dev_allow_net_{s} {} comment \"device allowlist\"",
                    list_drop("not allowlisted")
                );
            }
        }
        for &i in &self.global_denies {
            let rule = &p.rules[i];
            let verdict = Self::drop_stmt(opts, rule.log, &format!("rule {}", quote(&rule.name)));
            let traffic: Vec<String> = if rule.traffic.is_empty() {
                vec![String::new()]
            } else {
                merged(&rule.traffic).iter().map(|t| o.traffic_match(t)).collect()
            };
            for t in traffic {
                let _ = writeln!(o.text, "\t\t{t}{verdict} comment \"rule {}\"", quote(&rule.name));
            }
        }
        for f in FAMILIES {
            let _ = writeln!(o.text, "\t\t{} saddr vmap @src_zone_{}", f.key(), f.suffix());
        }
        let _ = writeln!(o.text, "\t\tgoto from_outside\n\t}}");

        // One chain per source zone: find the destination zone's pair chain, or the default.
        for &zs in &zones {
            let name = self.chain_zone(zs).to_owned();
            let mut body = String::new();
            for f in FAMILIES {
                let elems: Vec<String> = zones
                    .iter()
                    .filter(|&&zd| zd != OUTSIDE && (zd == zs || self.pairs.contains_key(&(zs, zd))))
                    .flat_map(|&zd| {
                        let target = if self.pairs.contains_key(&(zs, zd)) {
                            format!("goto {}__{}", name, self.chain_zone(zd))
                        } else {
                            self.default_verdict(zs, zd)
                        };
                        let target = target.replace("counter ", "");
                        f.of(self.zone_set(zd)).into_iter().map(move |e| format!("{e} : {target}"))
                    })
                    .collect();
                if !elems.is_empty() {
                    let _ = writeln!(
                        o.sets,
                        "\tmap dst_from_{name}_{} {{\n\t\ttype {} : verdict;\n\t\tflags interval;\n{}\t}}",
                        f.suffix(),
                        f.addr_type(),
                        elements(&elems)
                    );
                    let _ = writeln!(body, "\t\t{} daddr vmap @dst_from_{name}_{}", f.key(), f.suffix());
                }
            }
            // The destination is in no segment.
            let to_outside = if self.pairs.contains_key(&(zs, OUTSIDE)) {
                format!("goto {name}__outside")
            } else {
                self.default_verdict(zs, OUTSIDE)
            };
            let outbound = if zs == OUTSIDE { p.outside_outbound } else { p.segments[zs].outbound };
            let deny_out = format!("goto deny_out_{name}");
            if outbound != Action::Deny || to_outside != deny_out {
                for f in FAMILIES {
                    let _ = writeln!(body, "\t\t{} daddr != @segmented_{} {to_outside}", f.key(), f.suffix());
                }
            }
            // A segment without rules for this pair: the source's outbound posture, then the
            // destination's inbound one.
            if outbound == Action::Deny {
                let _ = writeln!(body, "\t\tgoto deny_out_{name}");
            } else {
                for f in FAMILIES {
                    let _ = writeln!(body, "\t\t{} daddr vmap @dst_default_{}", f.key(), f.suffix());
                }
            }
            let _ = writeln!(o.text, "\tchain from_{name} {{\n{body}\t}}");
        }

        // One chain per zone pair that has rules: denies, allows, then the pair's default.
        let mut pairs: Vec<(&(Zone, Zone), &Vec<usize>)> = self.pairs.iter().collect();
        pairs.sort_by_key(|((a, b), _)| (a.wrapping_add(1), b.wrapping_add(1)));
        for (&(zs, zd), rules) in pairs {
            let (src_zone, dst_zone) = (self.zone_set(zs).clone(), self.zone_set(zd).clone());
            let mut body = String::new();
            for &i in rules {
                let (rule, rr) = (&p.rules[i], &self.rules[i]);
                let src = rr.src.intersection(&src_zone);
                let dst = rr.dst.intersection(&dst_zone);
                let verdict = match rule.action {
                    Action::Allow => "counter accept".to_owned(),
                    Action::Deny => Self::drop_stmt(
                        opts,
                        rule.log,
                        &format!("{}>{} rule {}", self.zone_name(zs), self.zone_name(zd), quote(&rule.name)),
                    ),
                };
                let traffic: Vec<String> = if rule.traffic.is_empty() {
                    vec![String::new()]
                } else {
                    merged(&rule.traffic).iter().map(|t| o.traffic_match(t)).collect()
                };
                let whole_src = src == src_zone;
                let whole_dst = dst == dst_zone;
                let comment = format!("comment \"rule {}\"", quote(&rule.name));
                if whole_src && whole_dst {
                    for t in &traffic {
                        let _ = writeln!(body, "\t\t{t}{verdict} {comment}");
                    }
                    continue;
                }
                for f in FAMILIES {
                    let (sf, df) = (f.of(&src), f.of(&dst));
                    if (!whole_src && sf.is_empty()) || (!whole_dst && df.is_empty()) {
                        continue;
                    }
                    let s = if whole_src { String::new() } else { o.addr_match("saddr", f, &src) };
                    let d = if whole_dst { String::new() } else { o.addr_match("daddr", f, &dst) };
                    for t in &traffic {
                        let _ = writeln!(body, "\t\t{s}{d}{t}{verdict} {comment}");
                    }
                }
            }
            let _ = writeln!(body, "\t\t{}", self.default_verdict(zs, zd));
            let _ = writeln!(o.text, "\tchain {}__{} {{\n{body}\t}}", self.zone_name(zs), self.zone_name(zd));
        }

        // Where the defaults drop, one chain each so that the log names the zone.
        for &z in &zones {
            let name = self.chain_zone(z);
            let log = if z == OUTSIDE { p.log } else { p.segments[z].log };
            let (inb, outb, intra) = if z == OUTSIDE {
                (p.outside_inbound, p.outside_outbound, Action::Allow)
            } else {
                let s = &p.segments[z];
                (s.inbound, s.outbound, s.intra)
            };
            if inb == Action::Deny {
                let _ = writeln!(
                    o.text,
                    "\tchain deny_in_{name} {{\n\t\t{}\n\t}}",
                    Self::drop_stmt(opts, log, &format!("*>{name} inbound"))
                );
            }
            if outb == Action::Deny {
                let _ = writeln!(
                    o.text,
                    "\tchain deny_out_{name} {{\n\t\t{}\n\t}}",
                    Self::drop_stmt(opts, log, &format!("{name}>* outbound"))
                );
            }
            if intra == Action::Deny {
                let _ = writeln!(
                    o.text,
                    "\tchain deny_intra_{name} {{\n\t\t{}\n\t}}",
                    Self::drop_stmt(opts, log, &format!("{name}>{name} intra"))
                );
            }
        }

        format!(
            "# Generated by ward policy compile from {} (policy {:?}){}. Do not edit: the table is replaced whole.\n\
             table inet {t} {{}}\n\
             delete table inet {t}\n\
             table inet {t} {{\n\tcomment \"{OWNER_MARK}: policy {}\"\n{}{}}}\n",
            quote(&p.file),
            quote(&p.name),
            if opts.monitor { ", monitor mode" } else { "" },
            quote(&p.name),
            o.sets,
            o.text
        )
    }

    /// For a destination segment, what happens when the source's own defaults let it out.
    fn default_for_dst(&self, dst: Zone) -> String {
        let s = &self.policy.segments[dst];
        if s.inbound == Action::Deny { format!("goto deny_in_{}", s.name) } else { "accept".into() }
    }
}

/// An element that is one address (not a network or a range).
fn is_single(e: &str) -> bool {
    !e.contains('/') && !e.contains('-')
}

/// A device's addresses one by one, for hash sets (a device has a few; a range of them is
/// cut at 256).
fn singles(f: Family, s: &IpSet) -> Vec<String> {
    let mut out = Vec::new();
    match f {
        Family::V4 => {
            for (a, b) in s.v4() {
                let (a, b) = (u32::from(a), u32::from(b));
                out.extend(
                    (a..=b.min(a.saturating_add(255))).map(|x| std::net::Ipv4Addr::from(x).to_string()),
                );
            }
        }
        Family::V6 => {
            for (a, b) in s.v6() {
                let (a, b) = (u128::from(a), u128::from(b));
                out.extend(
                    (a..=b.min(a.saturating_add(255))).map(|x| std::net::Ipv6Addr::from(x).to_string()),
                );
            }
        }
    }
    out
}

fn elements(elems: &[String]) -> String {
    if elems.is_empty() {
        return String::new();
    }
    let mut out = String::from("\t\telements = {\n");
    for (i, e) in elems.iter().enumerate() {
        out.push_str("\t\t\t");
        out.push_str(e);
        out.push_str(if i + 1 < elems.len() { ",\n" } else { "\n" });
    }
    out.push_str("\t\t}\n");
    out
}
