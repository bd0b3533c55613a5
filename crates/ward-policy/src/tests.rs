use std::net::IpAddr;

use crate::check::{Conversation, ViolationKind};
use crate::nft::NftOptions;
use crate::{Action, Context, DeviceInfo, Policy, Reason};

fn ctx() -> Context {
    Context { classes: ward_inventory::classify::taxonomy().iter().map(|c| c.id.to_owned()).collect() }
}

fn parse(text: &str) -> Policy {
    match Policy::parse(text, "test.toml", &ctx()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn errors(text: &str) -> String {
    match Policy::parse(text, "bad.toml", &ctx()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn dev(id: i64, addr: &str, class: &str) -> DeviceInfo {
    DeviceInfo {
        id,
        ips: vec![ip(addr)],
        class: (!class.is_empty()).then(|| class.to_owned()),
        label: format!("{class} {addr}"),
        clinical: matches!(class, "infusion_pump" | "patient_monitor" | "ct_modality"),
        ..DeviceInfo::default()
    }
}

const HOSPITAL: &str = include_str!("../../../examples/policy/hospital.toml");

fn hospital_devices() -> Vec<DeviceInfo> {
    vec![
        dev(1, "10.10.5.21", "infusion_pump"),
        dev(2, "10.10.6.40", "patient_monitor"),
        dev(3, "10.20.1.10", "ct_modality"),
        dev(4, "10.40.0.30", "pacs"),
        dev(5, "10.40.0.31", "modality_worklist"),
        dev(6, "10.40.0.10", "hl7_interface_engine"),
        dev(7, "10.40.0.20", "server"),
        dev(8, "10.70.3.3", "workstation"),
        dev(9, "10.40.0.40", "ehr_server"),
        dev(10, "172.16.4.4", "phone"),
        dev(11, "10.50.0.7", "workstation"),
        // An infusion pump on the office network: misplaced.
        dev(12, "10.70.9.9", "infusion_pump"),
        // A smart speaker in the clinical segment: foreign there.
        dev(13, "10.10.7.7", "smart_speaker"),
    ]
}

#[test]
fn the_hospital_example_reads_and_resolves_without_warnings() {
    let p = parse(HOSPITAL);
    assert_eq!(p.segments.len(), 10);
    let devices = hospital_devices();
    let r = p.resolve(&devices);
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
}

#[test]
fn the_hospital_example_decides_like_a_hospital_expects() {
    let p = parse(HOSPITAL);
    let devices = hospital_devices();
    let r = p.resolve(&devices);
    let d = |s: &str, t: &str, proto: u8, port: u16| r.decide(ip(s), ip(t), proto, port);
    let rule = |dec: crate::Decision| match dec.reason {
        Reason::Rule { rule, .. } => format!("{} {rule}", dec.action),
        other => format!("{} {other}", dec.action),
    };
    // A monitor's HL7 to the integration engine passes; to the EHR it does not.
    assert_eq!(rule(d("10.10.6.40", "10.40.0.10", 6, 2575)), "allow monitors-hl7-to-engine");
    assert_eq!(d("10.10.6.40", "10.40.0.40", 6, 2575).action, Action::Deny);
    // The pump reaches its server on HTTPS only.
    assert_eq!(rule(d("10.10.5.21", "10.40.0.20", 6, 443)), "allow pumps-to-pump-server");
    assert_eq!(d("10.10.5.21", "10.40.0.20", 6, 80).action, Action::Deny);
    // Telnet is denied even where another rule would allow everything else.
    assert_eq!(rule(d("10.50.0.7", "10.10.5.21", 6, 23)), "deny no-telnet");
    assert_eq!(rule(d("10.50.0.7", "10.10.5.21", 6, 22)), "allow biomed-service-access");
    // The CT talks to PACS; its allowlist refuses the EHR even though nothing else would.
    assert_eq!(rule(d("10.20.1.10", "10.40.0.30", 6, 104)), "allow modalities-to-pacs");
    let denied = d("10.70.3.3", "10.20.1.10", 6, 443);
    assert_eq!(denied.action, Action::Deny);
    assert!(matches!(denied.reason, Reason::NotAllowlisted { .. }), "{denied:?}");
    // The pump server's denylist holds guest Wi-Fi.
    assert!(matches!(d("172.16.4.4", "10.40.0.20", 6, 443).reason, Reason::Denylist { .. }));
    // Guests reach the internet on the web only; clinical devices never.
    assert_eq!(rule(d("172.16.4.4", "93.184.216.34", 6, 443)), "allow guest-internet");
    assert_eq!(d("172.16.4.4", "93.184.216.34", 6, 25).action, Action::Deny);
    assert_eq!(rule(d("10.10.5.21", "93.184.216.34", 6, 443)), "deny clinical-never-internet");
    // Defaults: corporate may go out (to the internet), nothing comes in from outside.
    assert_eq!(d("10.70.3.3", "93.184.216.34", 6, 443).action, Action::Allow);
    let inbound = d("93.184.216.34", "10.70.3.3", 6, 443);
    assert_eq!(inbound.action, Action::Deny);
    assert!(matches!(inbound.reason, Reason::Default { posture: "outbound", .. }), "{inbound:?}");
    // Within the clinical segment devices talk; guests do not see each other.
    assert_eq!(d("10.10.5.21", "10.10.6.40", 17, 5000).action, Action::Allow);
    assert_eq!(d("172.16.4.4", "172.16.4.5", 6, 80).action, Action::Deny);
}

#[test]
fn check_reports_misplaced_foreign_and_denied_with_evidence() {
    let p = parse(HOSPITAL);
    let devices = hospital_devices();
    let r = p.resolve(&devices);
    let conv = |s: &str, t: &str, port: u16| Conversation {
        src: ip(s),
        src_port: Some(40000),
        dst: ip(t),
        proto: 6,
        port,
        app: None,
        first: ward_core::Timestamp::from_secs(1_700_000_000),
        last: ward_core::Timestamp::from_secs(1_700_000_100),
        flows: 2,
        answered: true,
    };
    let report = r.check(
        &devices,
        &[
            conv("10.10.6.40", "10.40.0.10", 2575),
            conv("10.70.3.3", "10.20.1.10", 443),
            conv("10.10.5.21", "10.10.6.40", 23),
        ],
    );
    let kinds: Vec<(ViolationKind, Option<i64>)> =
        report.violations.iter().map(|v| (v.kind, v.device)).collect();
    assert_eq!(
        kinds,
        [
            (ViolationKind::Misplaced, Some(12)),
            (ViolationKind::ForeignDevice, Some(13)),
            (ViolationKind::DeniedFlow, Some(1)),
            (ViolationKind::NotAllowlisted, Some(3)),
        ]
    );
    assert_eq!(report.allowed, 1);
    let telnet = &report.violations[2];
    assert!(telnet.message.contains("10.10.5.21 > 10.10.6.40 tcp/23"), "{}", telnet.message);
    assert!(telnet.message.contains("no-telnet"), "{}", telnet.message);
    assert_eq!(telnet.flow.as_ref().map(|f| f.flows), Some(2));
    assert!(report.violations[0].message.contains("belongs in clinical"), "{}", report.violations[0].message);
}

#[test]
fn mistakes_in_a_policy_are_reported_with_their_line() {
    let seg = "[[segment]]\nname = \"a\"\ncidrs = [\"10.0.0.0/16\"]\n";
    let e = errors(&format!(
        "{seg}[[rule]]\nname = \"r\"\nfrom = \"segment:b\"\nto = \"any\"\naction = \"allow\"\n"
    ));
    assert!(e.starts_with("bad.toml:6:8: unknown segment \"b\" (segments: a)"), "{e}");
    let e = errors(&format!("{seg}[[segment]]\nname = \"b\"\ncidrs = [\"10.0.5.0/24\"]\n"));
    assert!(e.contains("bad.toml:6:10: 10.0.5.0/24 overlaps segment \"a\""), "{e}");
    let e = errors(&format!(
        "{seg}[[rule]]\nname = \"r\"\nfrom = \"any\"\nto = \"any\"\nports = [70000]\naction = \"allow\"\n"
    ));
    assert!(e.contains("bad.toml:8:10: a port is a number"), "{e}");
    let e = errors(&format!("{seg}colour = \"blue\"\n"));
    assert!(e.contains("bad.toml:4:1: unknown field `colour`"), "{e}");
    let e = errors("[[segment]]\nname = \"a\"\ncidrs = [\"10.0.0.1/16\"]\n");
    assert!(e.contains("bad.toml:3:10: \"10.0.0.1/16\" is not an address"), "{e}");
    let e = errors(&format!("{seg}[[placement]]\nsegment = \"a\"\nclasses = [\"toaster\"]\n"));
    assert!(e.contains("bad.toml:6:12: unknown device class \"toaster\""), "{e}");
    let e = errors("[[segment]]\nname = \"a\"\ncidrs = [\"10.0.0.0/16\"]\ninbound = \"drop\"\n");
    assert!(e.contains("bad.toml:4:11: inbound is \"drop\""), "{e}");
    let e = errors("[[segment]\nname = \"a\"\n");
    assert!(e.starts_with("bad.toml:1:"), "{e}");
    // Several mistakes are all reported, in file order.
    let e = errors("[[segment]]\nname = \"Bad Name\"\ncidrs = [\"x\"]\nvlans = [5000]\n");
    assert_eq!(e.lines().count(), 3, "{e}");
}

#[test]
fn contradictions_and_repetitions_are_warned_about() {
    let p = parse(
        "[[segment]]\nname = \"a\"\ncidrs = [\"10.1.0.0/16\"]\n\
         [[segment]]\nname = \"b\"\ncidrs = [\"10.2.0.0/16\"]\n\
         [[rule]]\nname = \"web\"\nfrom = \"segment:a\"\nto = \"segment:b\"\nservices = [\"https\"]\naction = \"allow\"\n\
         [[rule]]\nname = \"web-again\"\nfrom = \"10.1.2.0/24\"\nto = \"segment:b\"\nproto = \"tcp\"\nports = [443]\naction = \"allow\"\n\
         [[rule]]\nname = \"no-10-1-2\"\nfrom = \"10.1.2.0/24\"\nto = \"10.2.0.5\"\naction = \"deny\"\n",
    );
    let r = p.resolve(&[]);
    let w: Vec<String> = r.warnings.iter().map(|w| format!("{}: {}", w.line, w.message)).collect();
    assert_eq!(
        w,
        [
            "7: rule \"web\" (allow) and rule \"no-10-1-2\" (deny, line 20) overlap; the deny wins where both match",
            "13: rule \"web-again\" (allow) and rule \"no-10-1-2\" (deny, line 20) overlap; the deny wins where both match",
            "13: rule \"web-again\" adds nothing: rule \"web\" (line 7) already matches all it matches",
        ]
    );
}

#[test]
fn the_compiled_hospital_ruleset_is_stable() {
    let p = parse(HOSPITAL);
    let devices = hospital_devices();
    let r = p.resolve(&devices);
    insta::assert_snapshot!("hospital", r.compile_nft(&NftOptions::default()));
    insta::assert_snapshot!(
        "hospital_monitor",
        r.compile_nft(&NftOptions { monitor: true, ..NftOptions::default() })
    );
}

#[test]
fn a_suggested_policy_allows_what_was_seen_and_nothing_else() {
    let devices = hospital_devices();
    let mut convs = Vec::new();
    let mut add = |s: &str, t: &str, proto: u8, port: u16| {
        convs.push(Conversation {
            src: ip(s),
            src_port: None,
            dst: ip(t),
            proto,
            port,
            app: None,
            first: ward_core::Timestamp::from_secs(1_700_000_000),
            last: ward_core::Timestamp::from_secs(1_700_003_600),
            flows: 3,
            answered: true,
        })
    };
    add("10.10.6.40", "10.40.0.10", 6, 2575);
    add("10.10.5.21", "10.40.0.20", 6, 443);
    add("10.20.1.10", "10.40.0.30", 6, 104);
    add("10.70.3.3", "93.184.216.34", 6, 443);
    add("10.70.3.3", "10.40.0.40", 6, 443);
    add("10.10.5.21", "10.10.6.40", 17, 5000);
    let text = crate::suggest::suggest(None, &devices, &convs);
    let p = parse(&text);
    let r = p.resolve(&devices);
    let report = r.check(&devices, &convs);
    let flows: Vec<&str> =
        report.violations.iter().filter(|v| v.flow.is_some()).map(|v| v.message.as_str()).collect();
    assert!(flows.is_empty(), "{flows:#?}\n{text}");
    // Least privilege: another port, or another pair, is denied.
    assert_eq!(r.decide(ip("10.10.5.21"), ip("10.40.0.20"), 6, 80).action, Action::Deny);
    assert_eq!(r.decide(ip("10.10.6.40"), ip("10.40.0.20"), 6, 443).action, Action::Deny);
    assert_eq!(r.decide(ip("10.10.5.21"), ip("93.184.216.34"), 6, 443).action, Action::Deny);
    // And it says what it saw.
    assert!(text.contains("# 3 conversations from 1 device to 1 device"), "{text}");
    // With the hospital's segments, the suggestion keeps them.
    let base = parse(HOSPITAL);
    let text = crate::suggest::suggest(Some(&base), &devices, &convs);
    let p = parse(&text);
    assert_eq!(p.segments.len(), base.segments.len());
    assert!(p.resolve(&devices).check(&devices, &convs).violations.iter().all(|v| v.flow.is_none()));
}

/// The evaluator as the policy reads, with no index: lists by scanning every entry, zones by
/// scanning segments, rules by scanning all of them (denies first). `decide` must agree.
fn naive_decide(
    r: &crate::Resolved<'_>,
    devices: &[DeviceInfo],
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    port: u16,
) -> crate::Decision {
    use crate::{Decision, DeviceSel, OUTSIDE};
    let p = r.policy;
    let ips_of = |sel: &DeviceSel| -> Vec<IpAddr> {
        match sel {
            DeviceSel::Ip(ip) => vec![*ip],
            DeviceSel::Id(id) => {
                devices.iter().find(|d| d.id == *id).map(|d| d.ips.clone()).unwrap_or_default()
            }
            DeviceSel::Mac(m) => {
                devices.iter().find(|d| d.macs.contains(m)).map(|d| d.ips.clone()).unwrap_or_default()
            }
        }
    };
    for (own, peer) in [(src, dst), (dst, src)] {
        for e in &p.devices {
            if ips_of(&e.device).contains(&own) && e.deny.contains(peer) {
                return Decision {
                    action: Action::Deny,
                    reason: Reason::Denylist { device: e.device.to_string(), line: e.line },
                    log: p.log,
                };
            }
        }
    }
    for (own, peer) in [(dst, src), (src, dst)] {
        for e in &p.devices {
            if ips_of(&e.device).contains(&own) && e.has_allowlist && !e.allow.contains(peer) {
                return Decision {
                    action: Action::Deny,
                    reason: Reason::NotAllowlisted { device: e.device.to_string(), line: e.line },
                    log: p.log,
                };
            }
        }
    }
    let matching = |i: usize| {
        let (rule, rr) = (&p.rules[i], &r.rules[i]);
        rr.src.contains(src)
            && rr.dst.contains(dst)
            && (rule.traffic.is_empty() || rule.traffic.iter().any(|t| t.matches(proto, port)))
    };
    let global: Vec<usize> = (0..p.rules.len())
        .filter(|&i| p.rules[i].action == Action::Deny && r.rules[i].src.is_all() && r.rules[i].dst.is_all())
        .collect();
    let others = (0..p.rules.len()).filter(|i| !global.contains(i));
    let mut ordered: Vec<usize> = global.clone();
    let mut rest: Vec<usize> = others.collect();
    rest.sort_by_key(|&i| (p.rules[i].action == Action::Allow, i));
    ordered.extend(rest);
    if let Some(i) = ordered.into_iter().find(|&i| matching(i)) {
        let rule = &p.rules[i];
        return Decision {
            action: rule.action,
            reason: Reason::Rule { rule: rule.name.clone(), line: rule.line },
            log: rule.log,
        };
    }
    let zone = |ip: IpAddr| p.segments.iter().position(|s| s.nets.contains(ip)).unwrap_or(OUTSIDE);
    let (zs, zd) = (zone(src), zone(dst));
    let (action, posture, log) = r.default_action(zs, zd);
    Decision {
        action,
        reason: Reason::Default { from: r.zone_name(zs).to_owned(), to: r.zone_name(zd).to_owned(), posture },
        log: log && action == Action::Deny,
    }
}

#[test]
fn decide_agrees_with_the_naive_reading_on_the_synthetic_policy() {
    let (text, devices) = crate::synthetic::policy(600, 30, 3_000);
    let p = parse(&text);
    let r = p.resolve(&devices);
    let outside = [ip("93.184.216.34"), ip("203.0.113.7"), ip("2001:4860::8888"), ip("10.200.0.1")];
    let mut kinds = std::collections::BTreeMap::new();
    for i in 0..1_500usize {
        let a = &devices[(i * 7919) % devices.len()];
        let b = &devices[(i * 104_729 + 3) % devices.len()];
        let src = a.ips[i % a.ips.len()];
        // Every third conversation goes to a peer on the source's allowlist (often an address
        // that is no device, so that only rules and defaults decide).
        let listed = p.devices[(i * 7919) % devices.len()].allow.v4().nth(i % 3).map(|(x, _)| IpAddr::V4(x));
        let dst = match (i % 7, i % 3, listed) {
            (6, _, _) => outside[i % outside.len()],
            (_, 0, Some(x)) => x,
            _ => b.ips[(i / 2) % b.ips.len()],
        };
        let (src, dst) = if i % 11 == 10 { (dst, src) } else { (src, dst) };
        let (proto, port) = [(6u8, 443u16), (6, 2575), (17, 53), (6, 104), (6, 23), (1, 0), (6, 6661)][i % 7];
        let got = r.decide(src, dst, proto, port);
        assert_eq!(got, naive_decide(&r, &devices, src, dst, proto, port), "{src} > {dst} {proto}/{port}");
        let kind = match &got.reason {
            Reason::Denylist { .. } => "denylist",
            Reason::NotAllowlisted { .. } => "allowlist",
            Reason::Rule { .. } => "rule",
            Reason::Default { .. } => "default",
        };
        *kinds.entry((kind, got.action.to_string())).or_insert(0) += 1;
    }
    // Every kind of answer occurs, so the comparison says something.
    assert!(kinds.len() >= 5, "{kinds:?}");
}

mod random_policies {
    use super::*;
    use proptest::prelude::*;

    /// A policy of up to six segments (IPv4 /16s, some with an IPv6 /64), rules between
    /// segments, classes, devices, networks, the internet and anything, and device lists.
    fn policy_text() -> impl Strategy<Value = (String, Vec<DeviceInfo>)> {
        let seg = (any::<bool>(), 0usize..3, 0usize..3, 0usize..3);
        let end = (0usize..7, 0usize..8);
        let rule = (end.clone(), end, 0usize..5, any::<bool>());
        let list = (
            0usize..12,
            proptest::collection::vec(0usize..20, 0..4),
            proptest::collection::vec(0usize..20, 0..2),
        );
        (
            proptest::collection::vec(seg, 1..6),
            proptest::collection::vec(rule, 0..12),
            proptest::collection::vec(list, 0..5),
            any::<bool>(),
        )
            .prop_map(|(segs, rules, lists, outside_open)| {
                let postures = ["allow", "deny", "deny"];
                let classes = ["infusion_pump", "pacs", "workstation"];
                let mut t = format!(
                    "[outside]\ninbound = \"{}\"\noutbound = \"{}\"\n",
                    if outside_open { "allow" } else { "deny" },
                    postures[segs.len() % 3]
                );
                for (i, (v6, a, b, c)) in segs.iter().enumerate() {
                    let extra = if *v6 { format!(", \"fd00:{i}::/64\"") } else { String::new() };
                    t += &format!(
                        "[[segment]]\nname = \"s{i}\"\ncidrs = [\"10.{i}.0.0/16\"{extra}]\ninbound = \"{}\"\noutbound = \"{}\"\nintra = \"{}\"\n",
                        postures[*a], postures[*b], postures[*c]
                    );
                }
                // Devices: two per segment and two outside, one of each with IPv6.
                let mut devices = Vec::new();
                for i in 0..segs.len() + 1 {
                    for k in 0..2 {
                        let id = devices.len() as i64 + 1;
                        let mut ips = vec![if i < segs.len() {
                            ip(&format!("10.{i}.0.{}", 10 + k))
                        } else {
                            ip(&format!("192.0.2.{}", 10 + k))
                        }];
                        if k == 1 && i < segs.len() && segs[i].0 {
                            ips.push(ip(&format!("fd00:{i}::{}", 10 + k)));
                        }
                        devices.push(DeviceInfo {
                            id,
                            ips,
                            macs: vec![ward_core::Mac([2, 0, 0, 0, 0, id as u8])],
                            class: Some(classes[(i + k) % 3].to_owned()),
                            ..DeviceInfo::default()
                        });
                    }
                }
                let n = devices.len();
                let end_text = |(kind, x): (usize, usize)| -> String {
                    match kind {
                        0 => "any".into(),
                        1 => "internet".into(),
                        2 => format!("segment:s{}", x % segs.len()),
                        3 => format!("class:{}", classes[x % 3]),
                        4 => format!("device:{}", x % n + 1),
                        5 => format!("10.{}.0.0/24", x % (segs.len() + 1)),
                        _ => format!("10.{}.0.{}", x % segs.len(), 10 + x % 2),
                    }
                };
                let traffic = ["", "proto = \"tcp\"\nports = [443]\n", "proto = \"udp\"\n", "services = [\"ssh\", \"dns\"]\n", "proto = \"icmp\"\n"];
                for (i, (from, to, tr, allow)) in rules.into_iter().enumerate() {
                    t += &format!(
                        "[[rule]]\nname = \"r{i}\"\nfrom = \"{}\"\nto = \"{}\"\n{}action = \"{}\"\n",
                        end_text(from),
                        end_text(to),
                        traffic[tr],
                        if allow { "allow" } else { "deny" }
                    );
                }
                let peer = |x: usize| -> String {
                    let d = &devices[x % n];
                    if x >= n { format!("{}/24", d.ips[0]).replace(".10/24", ".0/24").replace(".11/24", ".0/24") } else { d.ips[d.ips.len() - 1].to_string() }
                };
                let mut seen = std::collections::HashSet::new();
                for (d, allow, deny) in lists {
                    let dev = &devices[d % n];
                    let sel = match d % 3 {
                        0 => dev.id.to_string(),
                        1 => format!("ip:{}", dev.ips[0]),
                        _ => format!("mac:{}", dev.macs[0]),
                    };
                    // One entry per device, and no peer both allowed and denied.
                    if !seen.insert(dev.id) {
                        continue;
                    }
                    let allow: Vec<String> = allow.iter().map(|&x| peer(x)).collect();
                    let deny: Vec<String> = deny.iter().map(|&x| peer(x)).filter(|x| !allow.iter().any(|a| IpSet::parse(a).expect("a").intersects(&IpSet::parse(x).expect("d")))).collect();
                    if allow.is_empty() && deny.is_empty() {
                        continue;
                    }
                    let q = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
                    t += &format!("[[device]]\ndevice = \"{sel}\"\n");
                    if !allow.is_empty() || d % 2 == 0 {
                        t += &format!("allow = [{}]\n", q(&allow));
                    }
                    if !deny.is_empty() {
                        t += &format!("deny = [{}]\n", q(&deny));
                    }
                }
                (t, devices)
            })
    }

    use crate::IpSet;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn decide_agrees_with_the_naive_reading((text, devices) in policy_text(), picks in proptest::collection::vec((0usize..64, 0usize..64, 0usize..6), 20)) {
            let p = match Policy::parse(&text, "random.toml", &Context::default()) {
                Ok(p) => p,
                Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
            };
            let r = p.resolve(&devices);
            let mut addrs: Vec<IpAddr> = devices.iter().flat_map(|d| d.ips.clone()).collect();
            addrs.extend([ip("93.184.216.34"), ip("10.0.0.99"), ip("2001:4860::1")]);
            for (a, b, t) in picks {
                let (src, dst) = (addrs[a % addrs.len()], addrs[b % addrs.len()]);
                let (proto, port) = [(6u8, 443u16), (6, 22), (17, 53), (1, 0), (6, 80), (17, 5000)][t];
                prop_assert_eq!(r.decide(src, dst, proto, port), naive_decide(&r, &devices, src, dst, proto, port), "{} > {} {}/{}\n{}", src, dst, proto, port, text);
            }
        }

        #[test]
        fn lines_and_columns_agree_with_a_scan(text in "[a-z\u{e9}\n=\\[\\] ]{0,80}", offset in 0usize..90) {
            let lines = crate::policy::Lines::new(&text);
            prop_assert_eq!(lines.line_col(offset), crate::policy::line_col(&text, offset));
        }
    }
}
