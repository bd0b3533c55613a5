//! The detector: observations in, alerts and updated baselines out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use ward_core::{Alert, DeviceId, FlowRecord, FlowRef, Observation, ObservationKind, Severity, Timestamp};

use crate::activity::{Activity, IpActivity, MAX_CLINICAL, MAX_PEERS, MAX_SERVICES, flow_ref, is_global};
use crate::alerts::{Suppression, alert_key, raise};
use crate::baseline::Baseline;

/// A match of an indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntelHit {
    /// The feed that lists it.
    pub feed: String,
    /// The indicator's id in its feed (a STIX id, or the listed value).
    pub indicator: String,
    /// 0-100.
    pub confidence: u8,
}

/// Where indicators are looked up: the intel feeds' sets, or a test's.
pub trait Indicators: Send + Sync {
    /// The indicator listing an address, if any.
    fn ip(&self, ip: IpAddr) -> Option<IntelHit>;
    /// The indicator listing a name or one of its parent domains, if any.
    fn domain(&self, name: &str) -> Option<IntelHit>;
}

/// No indicators at all.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoIndicators;

impl Indicators for NoIndicators {
    fn ip(&self, _: IpAddr) -> Option<IntelHit> {
        None
    }
    fn domain(&self, _: &str) -> Option<IntelHit> {
        None
    }
}

/// How the detector judges behaviour.
#[derive(Clone, Debug, Serialize)]
pub struct DetectConfig {
    /// How long a device learns from its first sighting, in seconds (default 7 days).
    pub learning_secs: u64,
    /// A source with failed or unanswered attempts to this many hosts within the window scans.
    pub scan_hosts: usize,
    /// ... or to this many ports of one host.
    pub scan_ports: usize,
    /// The scan window, in seconds.
    pub scan_window_secs: u64,
    /// An hour with more than this many times the busiest learned hour is unusual...
    pub volume_factor: u64,
    /// ... and more than this many bytes.
    pub volume_floor: u64,
}

impl Default for DetectConfig {
    fn default() -> DetectConfig {
        DetectConfig {
            learning_secs: 7 * 86_400,
            scan_hosts: 20,
            scan_ports: 20,
            scan_window_secs: 60,
            volume_factor: 4,
            volume_floor: 16 << 20,
        }
    }
}

/// What the detector needs to know of a device the run placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceView {
    /// Its number.
    pub id: DeviceId,
    /// Its addresses in this run.
    pub ips: Vec<IpAddr>,
    /// Its first sighting ever (learning starts there).
    pub first_seen: Timestamp,
    /// Its class is clinical.
    pub clinical: bool,
    /// A few words for alert messages.
    pub label: String,
}

/// What a run raised and learned.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DetectOutcome {
    /// Alerts, folded by key within the run, minus the suppressed.
    pub alerts: Vec<Alert>,
    /// Baselines new or changed.
    #[serde(skip)]
    pub baselines: Vec<Baseline>,
    /// Devices still learning at the end of the run, with the time they stop.
    pub learning: Vec<(DeviceId, Timestamp)>,
    /// Devices past learning.
    pub baselined: usize,
    /// Alerts a suppression rule kept back.
    pub suppressed: u64,
    /// Indicator matches (before folding).
    pub intel_matches: u64,
    /// Behaviour entries left out at a cap.
    pub not_kept: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum NameKind {
    Dns,
    Sni,
    HttpHost,
}

impl NameKind {
    fn field(self) -> &'static str {
        match self {
            NameKind::Dns => "dns.query",
            NameKind::Sni => "tls.client_hello.sni",
            NameKind::HttpHost => "http.host",
        }
    }
}

#[derive(Clone, Debug)]
struct PendingName {
    ts: Timestamp,
    name: String,
    hit: IntelHit,
}

/// An intel match, before devices have numbers.
#[derive(Clone, Debug)]
struct IntelMatch {
    ts: Timestamp,
    /// The internal end (the device concerned), when known.
    own: Option<IpAddr>,
    /// The listed end or name's server.
    peer: Option<IpAddr>,
    flow: Option<FlowRef>,
    hit: IntelHit,
    field: &'static str,
    value: String,
    answered: Option<bool>,
}

/// Pending names per address and kind beyond this are matched without waiting for a flow.
const MAX_PENDING: usize = 64;

/// Watches one run.
pub struct Detector {
    cfg: DetectConfig,
    intel: Arc<dyn Indicators>,
    activity: Activity,
    pending: HashMap<(IpAddr, NameKind), Vec<PendingName>>,
    matches: Vec<IntelMatch>,
    last_ts: Timestamp,
}

impl Detector {
    /// A detector with these settings, looking indicators up in `intel`.
    pub fn new(cfg: DetectConfig, intel: Arc<dyn Indicators>) -> Detector {
        Detector {
            cfg,
            intel,
            activity: Activity::default(),
            pending: HashMap::new(),
            matches: Vec::new(),
            last_ts: Timestamp::ZERO,
        }
    }

    /// Takes one observation.
    pub fn observe(&mut self, o: &Observation) {
        self.last_ts = self.last_ts.max(o.ts);
        match &o.kind {
            ObservationKind::FlowEnd(r) => self.flow(r),
            ObservationKind::Attribute { key, value, .. } => {
                let kind = match key.as_ref() {
                    "dns_query" => NameKind::Dns,
                    "tls_sni" => NameKind::Sni,
                    "http_host" => NameKind::HttpHost,
                    _ => return,
                };
                let ward_core::DeviceKey::Ip(ip) = o.device else { return };
                let name = value.trim_end_matches('.').to_ascii_lowercase();
                if let Some(hit) = self.intel.domain(&name) {
                    let list = self.pending.entry((ip, kind)).or_default();
                    if list.len() < MAX_PENDING {
                        list.push(PendingName { ts: o.ts, name, hit });
                    } else {
                        self.unresolved(ip, kind, PendingName { ts: o.ts, name, hit });
                    }
                }
            }
            _ => {}
        }
    }

    fn unresolved(&mut self, ip: IpAddr, kind: NameKind, p: PendingName) {
        let (own, peer) = if kind == NameKind::HttpHost { (None, Some(ip)) } else { (Some(ip), None) };
        self.matches.push(IntelMatch {
            ts: p.ts,
            own,
            peer,
            flow: None,
            hit: p.hit,
            field: kind.field(),
            value: p.name,
            answered: None,
        });
    }

    fn flow(&mut self, r: &FlowRecord) {
        self.activity.flow(r);
        let f = flow_ref(r);
        let answered = r.packets[1] > 0;
        for (listed, other) in [(r.responder.ip, r.initiator.ip), (r.initiator.ip, r.responder.ip)] {
            if let Some(hit) = self.intel.ip(listed) {
                self.matches.push(IntelMatch {
                    ts: r.start,
                    own: Some(other),
                    peer: Some(listed),
                    flow: Some(f),
                    hit,
                    field: if listed == r.responder.ip { "flow.responder" } else { "flow.initiator" },
                    value: listed.to_string(),
                    answered: Some(answered),
                });
            }
        }
        if self.pending.is_empty() {
            return;
        }
        let app = r.app.as_deref().unwrap_or("");
        let within = |ts: Timestamp| r.start <= ts && ts <= r.end.add_nanos(1_000_000_000);
        let candidates = [
            (r.initiator.ip, NameKind::Dns, app == "dns" || r.responder.port == 53),
            (r.initiator.ip, NameKind::Sni, app == "tls"),
            (r.responder.ip, NameKind::HttpHost, app == "http"),
        ];
        for (ip, kind, fits) in candidates {
            if !fits {
                continue;
            }
            let Some(list) = self.pending.get_mut(&(ip, kind)) else { continue };
            let (mine, rest): (Vec<PendingName>, Vec<PendingName>) =
                list.drain(..).partition(|p| within(p.ts));
            *list = rest;
            if list.is_empty() {
                self.pending.remove(&(ip, kind));
            }
            for p in mine {
                let (own, peer) = (Some(r.initiator.ip), Some(r.responder.ip));
                self.matches.push(IntelMatch {
                    ts: p.ts,
                    own,
                    peer,
                    flow: Some(f),
                    hit: p.hit,
                    field: kind.field(),
                    value: p.name,
                    answered: Some(answered),
                });
            }
        }
    }

    /// Ends the run: matches become alerts, behaviour is learned or judged against the
    /// stored baselines, alike alerts are folded and suppressed ones left out.
    /// `now` is the wall clock, for the suppressions in force.
    pub fn finish(
        mut self,
        devices: &[DeviceView],
        stored: Vec<Baseline>,
        suppressions: &[Suppression],
        now: Timestamp,
    ) -> DetectOutcome {
        let pending: Vec<((IpAddr, NameKind), Vec<PendingName>)> = self.pending.drain().collect();
        for ((ip, kind), list) in pending {
            for p in list {
                self.unresolved(ip, kind, p);
            }
        }
        let by_ip: HashMap<IpAddr, &DeviceView> =
            devices.iter().flat_map(|d| d.ips.iter().map(move |ip| (*ip, d))).collect();
        let mut out = DetectOutcome { not_kept: self.activity.not_kept, ..DetectOutcome::default() };
        let mut alerts: Vec<Alert> = Vec::new();

        // Intel matches.
        out.intel_matches = self.matches.len() as u64;
        for m in std::mem::take(&mut self.matches) {
            let dev = m.own.filter(|ip| !is_global(*ip)).and_then(|ip| by_ip.get(&ip).copied());
            let mut severity = match m.hit.confidence {
                80.. => Severity::High,
                50..=79 => Severity::Medium,
                _ => Severity::Low,
            };
            if dev.is_some_and(|d| d.clinical) {
                severity = raise(severity);
            }
            let who = dev
                .map(|d| d.label.clone())
                .or(m.own.map(|ip| ip.to_string()))
                .unwrap_or_else(|| "a device".into());
            let answered = match m.answered {
                Some(true) => " (the conversation was answered)",
                Some(false) => " (no answer)",
                None => "",
            };
            alerts.push(Alert {
                id: 0,
                ts: m.ts,
                last_seen: m.ts,
                count: 1,
                severity,
                kind: "intel_match".into(),
                device: dev.map(|d| d.id),
                peer: m.peer,
                flow: m.flow,
                source: Some(m.hit.feed.clone()),
                indicator: Some(m.hit.indicator.clone()),
                confidence: Some(m.hit.confidence),
                evidence: format!("{} {}", m.field, m.value),
                message: format!(
                    "{who}: {} {} is listed by {} ({}, confidence {}){answered}",
                    if m.field.starts_with("flow.") { "address" } else { "name" },
                    m.value,
                    m.hit.feed,
                    m.hit.indicator,
                    m.hit.confidence
                ),
                state: "open".into(),
                key: alert_key("intel_match", dev.map(|d| d.id), m.peer, &m.hit.indicator),
            });
        }

        // Behaviour, per device (a device's addresses together).
        let mut per_device: BTreeMap<DeviceId, (&DeviceView, IpActivity)> = BTreeMap::new();
        for (ip, act) in std::mem::take(&mut self.activity.by_ip) {
            let Some(dev) = by_ip.get(&ip) else { continue };
            let e = per_device.entry(dev.id).or_insert_with(|| (*dev, IpActivity::default()));
            merge(&mut e.1, act);
        }
        let mut stored: HashMap<DeviceId, Baseline> = stored.into_iter().map(|b| (b.device, b)).collect();
        let last = self.last_ts;
        for (id, (dev, act)) in per_device {
            let mut b = stored.remove(&id).unwrap_or_else(|| {
                Baseline::new(id, dev.first_seen.min(first_activity(&act)), self.cfg.learning_secs)
            });
            let before = b.clone();
            self.judge(dev, &act, &mut b, &mut alerts);
            if b.learning_at(last) {
                out.learning.push((id, b.learning_until));
            } else {
                out.baselined += 1;
            }
            if b != before {
                out.baselines.push(b);
            }
        }

        // Fold alike alerts, leave out the suppressed.
        alerts.sort_by(|a, b| (&a.key, a.ts).cmp(&(&b.key, b.ts)));
        let mut folded: Vec<Alert> = Vec::new();
        for a in alerts {
            if suppressions.iter().any(|s| s.covers(&a, now)) {
                out.suppressed += 1;
                continue;
            }
            match folded.last_mut() {
                Some(f) if f.key == a.key => {
                    f.count += a.count;
                    f.last_seen = f.last_seen.max(a.last_seen);
                    f.severity = f.severity.max(a.severity);
                }
                _ => folded.push(a),
            }
        }
        folded.sort_by(|a, b| (a.ts, &a.key).cmp(&(b.ts, &b.key)));
        out.alerts = folded;
        out.learning.sort_unstable();
        out
    }

    /// Learns what happened before the device's window ended; raises what is new after it.
    fn judge(&self, dev: &DeviceView, act: &IpActivity, b: &mut Baseline, alerts: &mut Vec<Alert>) {
        let until = b.learning_until;
        let who = &dev.label;
        let mut raise_alert = |kind: &str,
                               severity: Severity,
                               seen: &crate::activity::Seen,
                               peer: Option<IpAddr>,
                               extra: &str,
                               evidence: String,
                               message: String| {
            let severity = if dev.clinical { raise(severity) } else { severity };
            alerts.push(Alert {
                id: 0,
                ts: seen.first,
                last_seen: seen.first,
                count: 1,
                severity,
                kind: kind.into(),
                device: Some(dev.id),
                peer,
                flow: Some(seen.flow),
                source: Some("baseline".into()),
                indicator: None,
                confidence: None,
                evidence,
                message,
                state: "open".into(),
                key: alert_key(kind, Some(dev.id), peer, extra),
            });
        };
        // In time order, so that what a run both learns and then sees again is learned once.
        let mut peers: Vec<(&IpAddr, &crate::activity::Seen)> = act.external_peers.iter().collect();
        peers.sort_by_key(|(ip, s)| (s.first, **ip));
        for (ip, s) in peers {
            if dev.clinical && s.first >= until {
                raise_alert(
                    "medical_device_internet",
                    Severity::High,
                    s,
                    Some(*ip),
                    "",
                    "flow to or from a global address".into(),
                    format!("{who}, a medical device, talked with {ip} on the internet"),
                );
            }
            if b.external_peers.contains(ip) {
                continue;
            }
            if s.first >= until {
                raise_alert(
                    "new_external_peer",
                    Severity::Medium,
                    s,
                    Some(*ip),
                    "",
                    "flow with an internet address not in the baseline".into(),
                    format!("{who} talked with {ip}, an internet address it never used while learning"),
                );
            }
            if b.external_peers.len() < MAX_PEERS {
                b.external_peers.insert(*ip);
            }
        }
        for (side, map, learned) in [
            ("client", &act.client_services, &mut b.client_services),
            ("server", &act.server_services, &mut b.server_services),
        ] {
            let mut items: Vec<(&(u8, u16), &crate::activity::Seen)> = map.iter().collect();
            items.sort_by_key(|(k, s)| (s.first, **k));
            for (&(proto, port), s) in items {
                if learned.contains(&(proto, port)) {
                    continue;
                }
                if s.first >= until {
                    let service = service_name(proto, port);
                    let (what, severity) = if side == "server" {
                        (
                            format!("{who} answered on {service}, a service it never offered while learning"),
                            Severity::Medium,
                        )
                    } else {
                        (format!("{who} used {service}, which it never used while learning"), Severity::Low)
                    };
                    raise_alert(
                        "new_port",
                        severity,
                        s,
                        Some(if side == "server" { s.flow.src } else { s.flow.dst }),
                        &format!("{side}:{service}"),
                        format!("{side} side of {service}"),
                        what,
                    );
                }
                if learned.len() < MAX_SERVICES {
                    learned.insert((proto, port));
                }
            }
        }
        let mut clinical: Vec<(&(String, IpAddr), &crate::activity::Seen)> = act.clinical.iter().collect();
        clinical.sort_by_key(|(k, s)| (s.first, (*k).clone()));
        for ((app, ip), s) in clinical {
            let key = (app.clone(), *ip);
            if b.clinical.contains(&key) {
                continue;
            }
            if s.first >= until {
                raise_alert(
                    "new_clinical_destination",
                    Severity::High,
                    s,
                    Some(*ip),
                    app,
                    format!("{app} association or message"),
                    format!(
                        "{who} sent {} to {ip}, a destination it never used while learning",
                        app.to_uppercase()
                    ),
                );
            }
            if b.clinical.len() < MAX_CLINICAL {
                b.clinical.insert(key);
            }
        }
        for (&hour, &bytes) in &act.hourly {
            if b.last_hour.is_some_and(|h| hour <= h) {
                continue;
            }
            let start = Timestamp::from_secs(u64::try_from(hour).unwrap_or(0).saturating_mul(3600));
            if start < until {
                b.volume.add(bytes);
                b.last_hour = Some(hour);
                continue;
            }
            let limit = b.volume.max.saturating_mul(self.cfg.volume_factor).max(self.cfg.volume_floor);
            if b.volume.hours > 0 && bytes > limit {
                // The hour's own flow is not one conversation: the device's address stands in.
                let ip = dev.ips.first().copied().unwrap_or(IpAddr::from([0, 0, 0, 0]));
                let a_seen = crate::activity::Seen {
                    first: start,
                    flow: FlowRef { src: ip, src_port: 0, dst: ip, dst_port: 0, proto: 0, vlan: None },
                };
                raise_alert(
                    "unusual_volume",
                    Severity::Medium,
                    &a_seen,
                    None,
                    &hour.to_string(),
                    format!(
                        "{bytes} bytes in the hour from {start}; the busiest learned hour had {}",
                        b.volume.max
                    ),
                    format!(
                        "{who} moved {} in one hour, more than {}x its busiest learned hour ({})",
                        human(bytes),
                        self.cfg.volume_factor,
                        human(b.volume.max)
                    ),
                );
            }
            // Judged hours are not learned: a baseline keeps what was normal.
            b.last_hour = Some(hour);
        }
        self.scans(dev, act, until, &mut raise_alert);
    }

    fn scans(
        &self,
        dev: &DeviceView,
        act: &IpActivity,
        until: Timestamp,
        raise_alert: &mut impl FnMut(&str, Severity, &crate::activity::Seen, Option<IpAddr>, &str, String, String),
    ) {
        let mut attempts: Vec<&(Timestamp, IpAddr, u16, FlowRef)> =
            act.attempts.iter().filter(|a| a.0 >= until).collect();
        attempts.sort_by_key(|a| (a.0, a.1, a.2));
        let window = self.cfg.scan_window_secs.saturating_mul(1_000_000_000);
        let mut start = 0;
        let mut reported_hosts = false;
        let mut reported_ports: BTreeSet<IpAddr> = BTreeSet::new();
        for end in 0..attempts.len() {
            while attempts[end].0.nanos_since(attempts[start].0) > window {
                start += 1;
            }
            let slice = &attempts[start..=end];
            if !reported_hosts {
                let hosts: BTreeSet<IpAddr> = slice.iter().map(|a| a.1).collect();
                if hosts.len() >= self.cfg.scan_hosts {
                    reported_hosts = true;
                    let first = slice[0];
                    raise_alert(
                        "scan",
                        Severity::High,
                        &crate::activity::Seen { first: first.0, flow: first.3 },
                        None,
                        "hosts",
                        format!(
                            "{} hosts tried without answer within {} s",
                            hosts.len(),
                            self.cfg.scan_window_secs
                        ),
                        format!(
                            "{} tried {} hosts within {} s without an answer: a scan",
                            dev.label,
                            hosts.len(),
                            self.cfg.scan_window_secs
                        ),
                    );
                }
            }
            let target = attempts[end].1;
            if !reported_ports.contains(&target) {
                let ports: BTreeSet<u16> = slice.iter().filter(|a| a.1 == target).map(|a| a.2).collect();
                if ports.len() >= self.cfg.scan_ports {
                    reported_ports.insert(target);
                    let first = slice.iter().find(|a| a.1 == target).copied().unwrap_or(attempts[end]);
                    raise_alert(
                        "scan",
                        Severity::High,
                        &crate::activity::Seen { first: first.0, flow: first.3 },
                        Some(target),
                        "ports",
                        format!(
                            "{} ports of {target} tried without answer within {} s",
                            ports.len(),
                            self.cfg.scan_window_secs
                        ),
                        format!(
                            "{} tried {} ports of {target} within {} s without an answer: a port scan",
                            dev.label,
                            ports.len(),
                            self.cfg.scan_window_secs
                        ),
                    );
                }
            }
        }
    }
}

fn first_activity(a: &IpActivity) -> Timestamp {
    let hours = a.hourly.keys().next().map(|h| Timestamp::from_secs(u64::try_from(*h).unwrap_or(0) * 3600));
    a.external_peers
        .values()
        .chain(a.client_services.values())
        .chain(a.server_services.values())
        .map(|s| s.first)
        .chain(hours)
        .min()
        .unwrap_or(Timestamp::ZERO)
}

fn merge(into: &mut IpActivity, from: IpActivity) {
    fn fold<K: std::hash::Hash + Eq>(
        a: &mut HashMap<K, crate::activity::Seen>,
        b: HashMap<K, crate::activity::Seen>,
    ) {
        for (k, s) in b {
            match a.get_mut(&k) {
                Some(x) if s.first < x.first => *x = s,
                Some(_) => {}
                None => {
                    a.insert(k, s);
                }
            }
        }
    }
    fold(&mut into.external_peers, from.external_peers);
    fold(&mut into.client_services, from.client_services);
    fold(&mut into.server_services, from.server_services);
    fold(&mut into.clinical, from.clinical);
    for (h, v) in from.hourly {
        *into.hourly.entry(h).or_default() += v;
    }
    into.attempts.extend(from.attempts);
}

fn service_name(proto: u8, port: u16) -> String {
    ward_core::IpProto(proto).service(port)
}

fn human(bytes: u64) -> String {
    match bytes {
        0..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.2} GB", bytes as f64 / 1e9),
    }
}
