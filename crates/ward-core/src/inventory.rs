//! The inventory's records: what Ward knows about a device once observations are merged,
//! and what the store keeps of it. `ward-inventory` computes them, `ward-store` keeps them,
//! `ward-engine` moves them from one to the other.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{DeviceKey, Mac, Timestamp};

/// A device's number in the inventory: stable across runs, never reused.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub i64);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a device is in its life in the inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Seen within the stale period.
    #[default]
    Active,
    /// Not seen for longer than the stale period.
    Stale,
    /// Taken out of service by a person; it stays retired until a person says otherwise.
    Retired,
}

impl Lifecycle {
    /// Its name in the store, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Active => "active",
            Lifecycle::Stale => "stale",
            Lifecycle::Retired => "retired",
        }
    }
}

impl FromStr for Lifecycle {
    type Err = String;
    fn from_str(s: &str) -> Result<Lifecycle, String> {
        match s {
            "active" => Ok(Lifecycle::Active),
            "stale" => Ok(Lifecycle::Stale),
            "retired" => Ok(Lifecycle::Retired),
            _ => Err(format!("unknown state {s:?} (active, stale or retired)")),
        }
    }
}

/// How much patient care depends on a device: what an outage or a compromise would touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// Delivers or sustains therapy, or watches a patient (pump, ventilator, monitor).
    Critical,
    /// Diagnosis and clinical systems (imaging, lab, PACS, HL7 engine, EHR).
    High,
    /// Hospital operations (nurse call, building automation, cold chain, printers, phones).
    Medium,
    /// Everything else.
    Low,
}

impl Criticality {
    /// Its name in the store, rules, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Critical => "critical",
            Criticality::High => "high",
            Criticality::Medium => "medium",
            Criticality::Low => "low",
        }
    }
}

impl FromStr for Criticality {
    type Err = String;
    fn from_str(s: &str) -> Result<Criticality, String> {
        match s {
            "critical" => Ok(Criticality::Critical),
            "high" => Ok(Criticality::High),
            "medium" => Ok(Criticality::Medium),
            "low" => Ok(Criticality::Low),
            _ => Err(format!("unknown criticality {s:?} (critical, high, medium or low)")),
        }
    }
}

/// One fact about a device with the evidence behind it: an attribute a protocol field said
/// (`source` = `dhcp.option60`), or one a classification rule derived (`source` =
/// `rule:<id> dhcp.option60`), or one a person set (`source` = `override`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fact {
    /// `hostname`, `vendor_class`, `class`, `vendor`, ...
    pub key: String,
    /// Its value.
    pub value: String,
    /// The protocol field (or rule, or `override`) that said it.
    pub source: String,
    /// 0-100; overrides are 100 and win whatever their confidence.
    pub confidence: u8,
    /// First time it was said.
    pub first_seen: Timestamp,
    /// Last time it was said.
    pub last_seen: Timestamp,
}

/// One of a device's addresses over a span of time (DHCP renumbering shows as a new range).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IpRange {
    /// The address.
    pub ip: IpAddr,
    /// First time the device used it in this range.
    pub first_seen: Timestamp,
    /// Last time.
    pub last_seen: Timestamp,
}

/// A service a device offers: a port that answered, and the application heard on it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Service {
    /// IP protocol number (6 TCP, 17 UDP).
    pub proto: u8,
    /// The port that answered.
    pub port: u16,
    /// The application detected there (`dicom`, `hl7`, `http`), when one was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app: Option<String>,
    /// Conversations it answered.
    pub flows: u64,
    /// First answer.
    pub first_seen: Timestamp,
    /// Last answer.
    pub last_seen: Timestamp,
}

/// Traffic between two devices on one service within one hour: the communication map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommEdge {
    /// The device that opened the conversations.
    pub initiator: DeviceId,
    /// The device that answered.
    pub responder: DeviceId,
    /// IP protocol number.
    pub proto: u8,
    /// The responder's port (0 without ports).
    pub port: u16,
    /// The application, when detected (`""` when not).
    pub app: String,
    /// The hour: seconds since the epoch divided by 3600.
    pub hour: i64,
    /// Conversations.
    pub flows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// IP bytes both ways.
    pub bytes: u64,
}

/// What changed about a device, with the evidence that made it change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A device never seen before.
    NewDevice,
    /// Its class changed.
    ClassChanged,
    /// Its vendor changed.
    VendorChanged,
    /// Its model changed.
    ModelChanged,
    /// Its firmware changed (an update, or a downgrade).
    FirmwareChanged,
    /// It took a new address.
    IpChanged,
    /// It has not been seen for the stale period.
    Stale,
    /// It was seen again after being stale.
    Returned,
    /// Two records turned out to be one device (an address joined to its MAC).
    Merged,
    /// A person changed a fact or its state.
    Override,
}

impl EventKind {
    /// Its name in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NewDevice => "new_device",
            EventKind::ClassChanged => "class_changed",
            EventKind::VendorChanged => "vendor_changed",
            EventKind::ModelChanged => "model_changed",
            EventKind::FirmwareChanged => "firmware_changed",
            EventKind::IpChanged => "ip_changed",
            EventKind::Stale => "stale",
            EventKind::Returned => "returned",
            EventKind::Merged => "merged",
            EventKind::Override => "override",
        }
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<EventKind, String> {
        const ALL: [EventKind; 10] = [
            EventKind::NewDevice,
            EventKind::ClassChanged,
            EventKind::VendorChanged,
            EventKind::ModelChanged,
            EventKind::FirmwareChanged,
            EventKind::IpChanged,
            EventKind::Stale,
            EventKind::Returned,
            EventKind::Merged,
            EventKind::Override,
        ];
        ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown event kind {s:?}"))
    }
}

/// A change to a device worth telling someone about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEvent {
    /// When (capture time for what traffic showed, wall time for what a person did).
    pub ts: Timestamp,
    /// The device.
    pub device: DeviceId,
    /// What happened.
    pub kind: EventKind,
    /// The value before, when there was one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub old: Option<String>,
    /// The value after.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub new: Option<String>,
    /// The protocol field, rule or person behind it.
    pub evidence: String,
}

/// A fact a person set for a device: it wins over every rule and every later observation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The device.
    pub device: DeviceId,
    /// `class`, `vendor`, `model`, `firmware`, `criticality`, `name`, `owner`, `location`, ...
    pub key: String,
    /// The value that wins.
    pub value: String,
    /// Who set it.
    pub set_by: String,
    /// When (wall time).
    pub set_at: Timestamp,
}

/// A derived field of a device (class, vendor, ...): the winning value and its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Derived {
    /// The value.
    pub value: String,
    /// The protocol field, rule or `override` behind it.
    pub source: String,
    /// 0-100.
    pub confidence: u8,
}

/// What a device is, each field with the evidence that won: its class (`infusion_pump`,
/// `ct_modality`, ... see docs/taxonomy.md), maker, model, firmware or software version,
/// operating system, and how much patient care depends on it. The inventory resolves it; the
/// store keeps it beside the device; a run's summary shows it for each device seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Classification {
    /// Its class.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub class: Option<Derived>,
    /// Its manufacturer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vendor: Option<Derived>,
    /// Its model.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model: Option<Derived>,
    /// Its firmware or software version.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub firmware: Option<Derived>,
    /// Its operating system.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub os: Option<Derived>,
    /// How much patient care depends on it (`critical`, `high`, `medium`, `low`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub criticality: Option<Derived>,
}

impl Classification {
    /// The fields, by the names facts, rules, overrides and the store give them.
    pub const FIELDS: [&'static str; 6] = ["class", "vendor", "model", "firmware", "os", "criticality"];

    /// A field by name (`None` for a name that is not one of [`Classification::FIELDS`]).
    pub fn get(&self, field: &str) -> Option<&Derived> {
        match field {
            "class" => self.class.as_ref(),
            "vendor" => self.vendor.as_ref(),
            "model" => self.model.as_ref(),
            "firmware" => self.firmware.as_ref(),
            "os" => self.os.as_ref(),
            "criticality" => self.criticality.as_ref(),
            _ => None,
        }
    }

    /// A field by name, to set.
    pub fn get_mut(&mut self, field: &str) -> Option<&mut Option<Derived>> {
        match field {
            "class" => Some(&mut self.class),
            "vendor" => Some(&mut self.vendor),
            "model" => Some(&mut self.model),
            "firmware" => Some(&mut self.firmware),
            "os" => Some(&mut self.os),
            "criticality" => Some(&mut self.criticality),
            _ => None,
        }
    }

    /// Every field with its name, in [`Classification::FIELDS`] order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&Derived>)> {
        Self::FIELDS.into_iter().map(|f| (f, self.get(f)))
    }
}

/// One device of the inventory, with its derived fields resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Device {
    /// Its stable number.
    pub id: DeviceId,
    /// The keys observations name it by: its MAC (where layer 2 is visible) and/or its
    /// addresses (behind routers).
    pub keys: Vec<DeviceKey>,
    /// Its MAC addresses.
    pub macs: Vec<Mac>,
    /// The addresses it used most recently (its full history is in its [`IpRange`]s).
    pub ips: Vec<IpAddr>,
    /// VLANs it was seen on.
    pub vlans: Vec<u16>,
    /// Its MAC is locally administered (often randomised): not a stable identity, so it is
    /// not merged with anything on the MAC alone.
    pub randomized_mac: bool,
    /// It forwards for many addresses (a router, firewall or NAT).
    pub router: bool,
    /// First sighting.
    pub first_seen: Timestamp,
    /// Last sighting.
    pub last_seen: Timestamp,
    /// What it is: class, vendor, model, firmware, OS and criticality, with their evidence.
    #[serde(flatten)]
    pub classification: Classification,
    /// What it is in a few words, from its protocols' roles ("CT modality, AE CT01, DCMTK").
    pub description: Option<String>,
    /// Active, stale or retired.
    pub state: Lifecycle,
}

/// One device with everything the inventory keeps about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// The device and its resolved fields.
    pub device: Device,
    /// Every fact with its evidence: observed, and derived by rules (overrides are apart).
    pub facts: Vec<Fact>,
    /// Its address history.
    pub ip_ranges: Vec<IpRange>,
    /// What it offers.
    pub services: Vec<Service>,
}

/// How urgent an alert or a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth a look.
    Low,
    /// Act this week.
    Medium,
    /// Act today.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// Its name in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Severity, String> {
        match s {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!("unknown severity {s:?}")),
        }
    }
}

/// Something that happened on the network and needs a person (a threat-intel match, a policy
/// violation, an anomaly). Alerts alike (the same `key`) within a window are one alert whose
/// `count` and `last_seen` grow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Its number (0 until stored).
    pub id: i64,
    /// When it first happened.
    pub ts: Timestamp,
    /// When it last happened.
    #[serde(default)]
    pub last_seen: Timestamp,
    /// How many times it happened (alike occurrences folded in).
    #[serde(default = "one")]
    pub count: u64,
    /// How urgent.
    pub severity: Severity,
    /// What kind (`intel_match`, `policy_violation`, `new_peer`, ...).
    pub kind: String,
    /// The device concerned.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub device: Option<DeviceId>,
    /// The other end, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<IpAddr>,
    /// The conversation that showed it, when traffic did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<FlowRef>,
    /// Who raised it: a feed's name, or a detector (`baseline`, `policy`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
    /// The indicator matched (its id, or the value itself), for intel matches.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub indicator: Option<String>,
    /// 0-100, the feed's or the detector's confidence.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidence: Option<u8>,
    /// What showed it (protocol field, feed, rule).
    pub evidence: String,
    /// For people.
    pub message: String,
    /// `open`, `acknowledged`, `closed`.
    pub state: String,
    /// What makes two alerts the same one (kind, device, peer, indicator...): alike alerts
    /// are folded together.
    #[serde(default)]
    pub key: String,
}

fn one() -> u64 {
    1
}

/// The five-tuple and VLAN of the conversation behind an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlowRef {
    /// The side that opened it.
    pub src: IpAddr,
    /// Its port (0 without ports).
    pub src_port: u16,
    /// The side that answered.
    pub dst: IpAddr,
    /// Its port (0 without ports).
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// The access VLAN, when tagged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vlan: Option<u16>,
}

/// A rule that keeps matching alerts from being raised, until it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Its number (0 until stored).
    pub id: i64,
    /// Alert kind it applies to (`*` for every kind).
    pub kind: String,
    /// Only alerts about this device.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub device: Option<DeviceId>,
    /// Only alerts whose other end is in this network (`203.0.113.0/24`, or one address).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<String>,
    /// Only alerts on this indicator.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub indicator: Option<String>,
    /// Who asked for it.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// When it was made.
    pub created: Timestamp,
    /// When it stops applying.
    pub expires: Timestamp,
}

/// Whether `ip` is in `net` (`a.b.c.d/len`, an IPv6 prefix, or one address).
fn in_net(ip: IpAddr, net: &str) -> bool {
    let (addr, len) = match net.split_once('/') {
        Some((a, l)) => (a, l.parse::<u32>().ok()),
        None => (net, None),
    };
    match (ip, addr.parse::<IpAddr>()) {
        (IpAddr::V4(x), Ok(IpAddr::V4(n))) => {
            let len = len.unwrap_or(32).min(32);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(x) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(x), Ok(IpAddr::V6(n))) => {
            let len = len.unwrap_or(128).min(128);
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(x) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl Suppression {
    /// Whether it is in force at `now` and covers `alert`.
    pub fn covers(&self, alert: &Alert, now: Timestamp) -> bool {
        now < self.expires
            && (self.kind == "*" || self.kind == alert.kind)
            && self.device.is_none_or(|d| alert.device == Some(d))
            && self.peer.as_deref().is_none_or(|net| alert.peer.is_some_and(|p| in_net(p, net)))
            && self.indicator.as_deref().is_none_or(|i| alert.indicator.as_deref() == Some(i))
    }

    /// Checks what a person typed: a kind, a network that reads, an owner, an expiry later
    /// than its creation.
    pub fn validate(&self) -> Result<(), String> {
        if self.kind.trim().is_empty() {
            return Err("a suppression needs a kind (or * for all)".into());
        }
        if self.owner.trim().is_empty() {
            return Err("a suppression needs an owner".into());
        }
        if self.expires <= self.created {
            return Err("a suppression must expire after it is made".into());
        }
        if let Some(net) = &self.peer {
            let (addr, len) = match net.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (net.as_str(), None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| format!("{net:?} is not an address or network"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if let Some(l) = len
                && l.parse::<u32>().map_or(true, |l| l > max)
            {
                return Err(format!("{net:?} has a bad prefix length"));
            }
        }
        Ok(())
    }
}

/// A standing weakness of a device (a vulnerability, a default credential, cleartext patient
/// data), kept current rather than raised once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The device.
    pub device: DeviceId,
    /// What kind (`vulnerability`, `default_credential`, `cleartext_phi`, ...).
    pub kind: String,
    /// What it refers to (a CVE, a protocol), unique per device and kind.
    pub reference: String,
    /// How urgent.
    pub severity: Severity,
    /// For people.
    pub detail: String,
    /// What showed it.
    pub evidence: String,
    /// First time it held.
    pub first_seen: Timestamp,
    /// Last time it held.
    pub last_seen: Timestamp,
}
