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
