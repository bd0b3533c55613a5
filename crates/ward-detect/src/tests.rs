use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use ward_core::{
    DeviceId, DeviceKey, Endpoint, Evidence, FlowEndReason, FlowRecord, IpProto, Observation,
    ObservationKind, Timestamp, Vlans,
};

use crate::{Baseline, DetectConfig, Detector, DeviceView, Indicators, IntelHit, NoIndicators, Suppression};

struct Lists {
    ips: HashMap<IpAddr, IntelHit>,
    domains: HashMap<String, IntelHit>,
}

impl Indicators for Lists {
    fn ip(&self, ip: IpAddr) -> Option<IntelHit> {
        self.ips.get(&ip).cloned()
    }
    fn domain(&self, name: &str) -> Option<IntelHit> {
        let mut n = name;
        loop {
            if let Some(h) = self.domains.get(n) {
                return Some(h.clone());
            }
            n = n.split_once('.')?.1;
        }
    }
}

fn hit(feed: &str, id: &str, confidence: u8) -> IntelHit {
    IntelHit { feed: feed.into(), indicator: id.into(), confidence }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

const T0: u64 = 1_750_000_000;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_secs(T0 + secs)
}

#[allow(clippy::too_many_arguments)]
fn flow(
    at: u64,
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    proto: u8,
    answered: bool,
    app: Option<&'static str>,
    bytes: u64,
) -> Observation {
    let r = FlowRecord {
        uid: at,
        start: t(at),
        end: t(at + 1),
        vlans: Vlans::default(),
        proto: IpProto(proto),
        initiator: Endpoint { ip: ip(src), port: sport, mac: None },
        responder: Endpoint { ip: ip(dst), port: dport, mac: None },
        packets: [3, if answered { 3 } else { 0 }],
        bytes: [bytes / 2, if answered { bytes / 2 } else { 0 }],
        tcp_flags: [0x02 | 0x10, if answered { 0x12 } else { 0 }],
        app: app.map(Cow::Borrowed),
        end_reason: FlowEndReason::Fin,
    };
    Observation { ts: t(at + 1), device: DeviceKey::Ip(ip(src)), kind: ObservationKind::FlowEnd(Box::new(r)) }
}

fn name(at: u64, device: &str, key: &'static str, value: &str) -> Observation {
    Observation {
        ts: t(at),
        device: DeviceKey::Ip(ip(device)),
        kind: ObservationKind::Attribute {
            key: Cow::Borrowed(key),
            value: value.into(),
            evidence: Evidence { source: Cow::Borrowed("test"), confidence: 50 },
        },
    }
}

fn devices() -> Vec<DeviceView> {
    vec![
        DeviceView {
            id: DeviceId(1),
            ips: vec![ip("10.10.1.5")],
            first_seen: t(0),
            clinical: true,
            label: "pump #1".into(),
        },
        DeviceView {
            id: DeviceId(2),
            ips: vec![ip("10.70.0.9")],
            first_seen: t(0),
            clinical: false,
            label: "pc #2".into(),
        },
        DeviceView {
            id: DeviceId(3),
            ips: vec![ip("10.40.0.10")],
            first_seen: t(0),
            clinical: false,
            label: "hl7 #3".into(),
        },
    ]
}

#[test]
fn listed_addresses_and_names_become_alerts_with_their_conversation() {
    let intel = Lists {
        ips: [(ip("203.0.113.66"), hit("ipsum", "203.0.113.66", 90))].into(),
        domains: [("evil.example".to_owned(), hit("stix", "indicator--1", 60))].into(),
    };
    let mut d = Detector::new(DetectConfig::default(), std::sync::Arc::new(intel));
    for o in [
        flow(10, "10.70.0.9", 40000, "203.0.113.66", 443, 6, true, Some("tls"), 5000),
        flow(20, "10.70.0.9", 40001, "203.0.113.66", 443, 6, false, None, 100),
        name(30, "10.70.0.9", "dns_query", "C2.Evil.Example."),
        flow(30, "10.70.0.9", 5353, "10.0.0.2", 53, 17, true, Some("dns"), 200),
        name(40, "10.10.1.5", "tls_sni", "x.evil.example"),
        flow(40, "10.10.1.5", 41000, "198.51.100.7", 443, 6, true, Some("tls"), 4000),
        flow(50, "10.70.0.9", 40002, "93.184.216.34", 443, 6, true, Some("tls"), 4000),
    ] {
        d.observe(&o);
    }
    let out = d.finish(&devices(), Vec::new(), &[], t(0));
    assert_eq!(out.intel_matches, 4);
    type Row = (Option<i64>, String, u64, String, Option<u16>);
    let got: Vec<Row> = out
        .alerts
        .iter()
        .map(|a| {
            (
                a.device.map(|d| d.0),
                a.evidence.clone(),
                a.count,
                format!("{:?}", a.severity),
                a.flow.map(|f| f.src_port),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(2), "flow.responder 203.0.113.66".into(), 2, "High".into(), Some(40000)),
            (Some(2), "dns.query c2.evil.example".into(), 1, "Medium".into(), Some(5353)),
            // A medical device's match is one level more urgent.
            (Some(1), "tls.client_hello.sni x.evil.example".into(), 1, "High".into(), Some(41000)),
        ]
    );
    let first = &out.alerts[0];
    assert_eq!(first.source.as_deref(), Some("ipsum"));
    assert_eq!(first.indicator.as_deref(), Some("203.0.113.66"));
    assert_eq!(first.confidence, Some(90));
    assert_eq!(first.last_seen, t(20));
    // Behaviour raises nothing while devices learn, and says they learn.
    assert!(out.alerts.iter().all(|a| a.kind == "intel_match"));
    assert_eq!(out.learning.len(), 2);
}

/// The same hospital day twice: learned the first time, judged the second.
fn day(offset: u64, extra: bool) -> Vec<Observation> {
    let mut v = Vec::new();
    for h in 0..24u64 {
        let at = offset + h * 3600;
        v.push(flow(at, "10.10.1.5", 40000, "10.40.0.10", 2575, 6, true, Some("hl7"), 20_000));
        v.push(flow(at + 10, "10.70.0.9", 40001, "93.184.216.34", 443, 6, true, Some("tls"), 50_000));
        v.push(flow(at + 20, "10.70.0.9", 40002, "10.0.0.2", 53, 17, true, Some("dns"), 300));
    }
    if extra {
        let at = offset + 5 * 3600;
        // A new internet peer for the PC; the pump talks to the internet; the pump sends
        // HL7 to a new place; the PC offers a new service; a scan; an unusual hour.
        v.push(flow(at, "10.70.0.9", 40100, "185.199.108.153", 443, 6, true, Some("tls"), 1000));
        v.push(flow(at + 5, "10.10.1.5", 40101, "45.33.32.156", 80, 6, true, Some("http"), 1000));
        v.push(flow(at + 10, "10.10.1.5", 40102, "10.40.0.99", 2575, 6, true, Some("hl7"), 1000));
        v.push(flow(at + 15, "10.30.0.4", 40103, "10.70.0.9", 3389, 6, true, None, 1000));
        for i in 0..30u64 {
            v.push(flow(at + 20 + i, "10.70.0.9", 50000, &format!("10.10.2.{i}"), 445, 6, false, None, 60));
        }
        v.push(flow(at + 100, "10.70.0.9", 40104, "10.40.0.10", 8443, 6, true, None, 500_000_000));
    }
    v
}

fn run(obs: &[Observation], stored: Vec<Baseline>, learning_secs: u64) -> crate::DetectOutcome {
    let cfg = DetectConfig { learning_secs, ..DetectConfig::default() };
    let mut d = Detector::new(cfg, std::sync::Arc::new(NoIndicators));
    for o in obs {
        d.observe(o);
    }
    let mut devs = devices();
    devs.push(DeviceView {
        id: DeviceId(4),
        ips: vec![ip("10.30.0.4")],
        first_seen: t(0),
        clinical: false,
        label: "lab #4".into(),
    });
    d.finish(&devs, stored, &[], t(0))
}

fn merge(stored: Vec<Baseline>, changed: Vec<Baseline>) -> Vec<Baseline> {
    let mut m: HashMap<DeviceId, Baseline> = stored.into_iter().map(|b| (b.device, b)).collect();
    for b in changed {
        m.insert(b.device, b);
    }
    m.into_values().collect()
}

#[test]
fn nothing_while_learning_then_exactly_the_anomalies() {
    let learn = 2 * 86_400;
    // Day one, with the unusual things in it: all learned, nothing raised.
    let first = run(&day(0, true), Vec::new(), learn);
    assert!(first.alerts.is_empty(), "{:#?}", first.alerts);
    assert_eq!(first.learning.len(), 4);
    // Day three, the same traffic as day one minus the unusual things: nothing.
    let stored = merge(Vec::new(), first.baselines.clone());
    let quiet = run(&day(2 * 86_400, false), stored.clone(), learn);
    assert!(quiet.alerts.is_empty(), "{:#?}", quiet.alerts);
    assert_eq!(quiet.baselined, 3);

    // Learned from a normal day only, a day with the unusual things raises exactly them.
    let normal = run(&day(0, false), Vec::new(), learn);
    let stored = merge(Vec::new(), normal.baselines);
    let out = run(&day(2 * 86_400, true), stored.clone(), learn);
    let mut got: Vec<(String, i64, String)> = out
        .alerts
        .iter()
        .map(|a| {
            (a.kind.clone(), a.device.map_or(0, |d| d.0), a.peer.map(|p| p.to_string()).unwrap_or_default())
        })
        .collect();
    got.sort();
    let want: Vec<(String, i64, String)> = [
        ("medical_device_internet", 1, "45.33.32.156"),
        ("new_clinical_destination", 1, "10.40.0.99"),
        ("new_external_peer", 1, "45.33.32.156"),
        ("new_external_peer", 2, "185.199.108.153"),
        ("new_port", 1, "45.33.32.156"),
        ("new_port", 2, "10.30.0.4"),
        ("new_port", 2, "10.40.0.10"),
        ("new_port", 3, "10.70.0.9"),
        // The lab device did nothing while it learned: everything it does is new.
        ("new_port", 4, "10.70.0.9"),
        ("scan", 2, ""),
        ("unusual_volume", 2, ""),
        ("unusual_volume", 3, ""),
    ]
    .iter()
    .map(|(k, d, p)| ((*k).to_owned(), *d, (*p).to_owned()))
    .collect();
    assert_eq!(got, want, "{:#?}", out.alerts);
    // Medical devices' anomalies are more urgent.
    let pump_dest = out.alerts.iter().find(|a| a.kind == "new_clinical_destination").expect("raised");
    assert_eq!(pump_dest.severity, ward_core::Severity::Critical);
    // Raised once: the same day again raises only what is not learned from alerting (the
    // medical device still talks to the internet, the volume is still unusual, the scan).
    let again = run(&day(3 * 86_400, true), merge(stored, out.baselines), learn);
    let kinds: Vec<&str> = again.alerts.iter().map(|a| a.kind.as_str()).collect();
    assert!(!kinds.contains(&"new_external_peer") && !kinds.contains(&"new_port"), "{kinds:?}");
    assert!(kinds.contains(&"medical_device_internet") && kinds.contains(&"scan"), "{kinds:?}");

    // A suppression with an owner and an expiry keeps an alert back, and is counted.
    let s = Suppression {
        id: 1,
        kind: "scan".into(),
        device: Some(DeviceId(2)),
        peer: None,
        indicator: None,
        owner: "soc".into(),
        reason: "vulnerability scanner".into(),
        created: t(0),
        expires: t(10 * 86_400),
    };
    let cfg = DetectConfig { learning_secs: learn, ..DetectConfig::default() };
    let mut d = Detector::new(cfg, std::sync::Arc::new(NoIndicators));
    for o in day(2 * 86_400, true) {
        d.observe(&o);
    }
    let normal = run(&day(0, false), Vec::new(), learn);
    let mut devs = devices();
    devs.push(DeviceView {
        id: DeviceId(4),
        ips: vec![ip("10.30.0.4")],
        first_seen: t(0),
        clinical: false,
        label: "lab #4".into(),
    });
    let out = d.finish(&devs, normal.baselines, std::slice::from_ref(&s), t(86_400));
    assert_eq!(out.suppressed, 1);
    // Expired, it keeps nothing back.
    let mut d = Detector::new(
        DetectConfig { learning_secs: learn, ..DetectConfig::default() },
        std::sync::Arc::new(NoIndicators),
    );
    for o in day(2 * 86_400, true) {
        d.observe(&o);
    }
    let normal = run(&day(0, false), Vec::new(), learn);
    let out_late = d.finish(&devs, normal.baselines, &[s], t(11 * 86_400));
    assert_eq!(out_late.suppressed, 0);
    assert_eq!(out.suppressed, 1);
    assert!(out.alerts.iter().all(|a| a.kind != "scan"));
}
