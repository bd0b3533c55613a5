//! Conversions between `ward-core` records and SQLite values. Stored text is read back
//! without panicking: a value this build cannot parse is a [`StoreError::Database`] naming it.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use ward_core::{
    Alert, Classification, Derived, Device, DeviceId, DeviceKey, EventKind, Fact, Finding, InventoryEvent,
    IpRange, Lifecycle, Mac, Override, Service, Severity, Timestamp,
};

use crate::{DeviceRecord, Import, Result, StoreError};

/// Nanoseconds as SQLite's signed 64-bit integer. `u64` nanoseconds past 2262 wrap, and come
/// back unchanged through [`ts`]; only their order in SQL would be wrong, centuries from now.
pub(super) fn nanos(t: Timestamp) -> i64 {
    t.as_nanos() as i64
}

/// The inverse of [`nanos`].
pub(super) fn ts(v: i64) -> Timestamp {
    Timestamp::from_nanos(v as u64)
}

/// A counter as SQLite's integer, saturating (no counter reaches 2^63).
pub(super) fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored counter back; a negative one (never written by Ward) reads as 0.
pub(super) fn uncount(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn confidence(v: i64) -> u8 {
    u8::try_from(v.clamp(0, 100)).unwrap_or(0)
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("stored {what} {value:?} is not readable by this build"))
}

/// An address as stored.
pub(super) fn parse_ip(s: &str) -> Result<IpAddr> {
    s.parse().map_err(|_| corrupt("address", s))
}

/// A key as stored: `mac:..` or `ip:..` (its `Display`).
pub(super) fn parse_key(s: &str) -> Result<DeviceKey> {
    if let Some(m) = s.strip_prefix("mac:") {
        return m.parse::<Mac>().map(DeviceKey::Mac).map_err(|_| corrupt("key", s));
    }
    if let Some(ip) = s.strip_prefix("ip:") {
        return ip.parse::<IpAddr>().map(DeviceKey::Ip).map_err(|_| corrupt("key", s));
    }
    Err(corrupt("key", s))
}

/// The first current address as 16 bytes, IPv4 mapped into IPv6, so that addresses sort
/// numerically and v4 before v6.
pub(super) fn ip_sort_key(ips: &[IpAddr]) -> Option<Vec<u8>> {
    ips.first().map(|ip| match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    })
}

/// Joins with spaces: the form of the `keys`, `macs` and `ips` columns.
pub(super) fn join<T: std::fmt::Display>(items: &[T]) -> String {
    let mut s = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        use std::fmt::Write;
        let _ = write!(s, "{item}");
    }
    s
}

/// The devices columns written by an insert, in the order [`super::bind_device`] binds them.
pub(super) const DEVICE_COLUMNS: &str = "id, keys, macs, ips, ip_key, vlans, randomized_mac, \
    router, first_seen, last_seen, class, class_source, class_confidence, vendor, \
    vendor_source, vendor_confidence, model, model_source, model_confidence, firmware, \
    firmware_source, firmware_confidence, os, os_source, os_confidence, criticality, \
    criticality_source, criticality_confidence, description, state";

/// How many columns [`DEVICE_COLUMNS`] names.
pub(super) const DEVICE_COLUMN_COUNT: usize = 30;

/// A device row of the table aliased `d` as one JSON array, in [`DeviceJson`]'s order, for
/// `json_array(..)`: reads hand SQLite's JSON to serde in one value rather than fetching
/// rows one by one (the driver's per-row cost, not SQLite's, dominated large reads).
pub(super) const DEVICE_JSON: &str = "d.id, d.keys, d.macs, d.ips, json(d.vlans), \
    d.randomized_mac, d.router, d.first_seen, d.last_seen, d.class, d.class_source, \
    d.class_confidence, d.vendor, d.vendor_source, d.vendor_confidence, d.model, \
    d.model_source, d.model_confidence, d.firmware, d.firmware_source, d.firmware_confidence, \
    d.os, d.os_source, d.os_confidence, d.criticality, d.criticality_source, \
    d.criticality_confidence, d.description, d.state";

/// What hangs off a device `d`, as three JSON arrays after [`DEVICE_JSON`]. Their order is
/// restored in Rust ([`devices_from_json`]), which is cheaper than sorting in each aggregate
/// (and a scalar subquery's JSON keeps its JSON subtype, so no `json()` re-parse is needed).
pub(super) const ATTACHED_JSON: &str = "(SELECT json_group_array(json_array(key, value, \
    source, confidence, first_seen, last_seen)) FROM facts WHERE device_id = d.id), \
    (SELECT json_group_array(json_array(seq, ip, first_seen, last_seen)) \
    FROM ip_ranges WHERE device_id = d.id), \
    (SELECT json_group_array(json_array(seq, proto, port, app, flows, first_seen, last_seen)) \
    FROM services WHERE device_id = d.id)";

/// Nothing attached (a listing): three nulls in place of [`ATTACHED_JSON`].
pub(super) const NOTHING_ATTACHED: &str = "NULL, NULL, NULL";

/// A device as [`DEVICE_JSON`] and [`ATTACHED_JSON`] give it.
#[derive(Deserialize)]
pub(super) struct DeviceJson<'a> {
    id: i64,
    #[serde(borrow)]
    keys: Cow<'a, str>,
    #[serde(borrow)]
    macs: Cow<'a, str>,
    #[serde(borrow)]
    ips: Cow<'a, str>,
    vlans: Vec<u16>,
    randomized_mac: i64,
    router: i64,
    first_seen: i64,
    last_seen: i64,
    class: Option<String>,
    class_source: Option<String>,
    class_confidence: Option<i64>,
    vendor: Option<String>,
    vendor_source: Option<String>,
    vendor_confidence: Option<i64>,
    model: Option<String>,
    model_source: Option<String>,
    model_confidence: Option<i64>,
    firmware: Option<String>,
    firmware_source: Option<String>,
    firmware_confidence: Option<i64>,
    os: Option<String>,
    os_source: Option<String>,
    os_confidence: Option<i64>,
    criticality: Option<String>,
    criticality_source: Option<String>,
    criticality_confidence: Option<i64>,
    description: Option<String>,
    #[serde(borrow)]
    state: Cow<'a, str>,
    facts: Option<Vec<FactJson>>,
    #[serde(borrow)]
    ip_ranges: Option<Vec<RangeJson<'a>>>,
    services: Option<Vec<ServiceJson>>,
}

#[derive(Deserialize)]
struct FactJson {
    key: String,
    value: String,
    source: String,
    confidence: i64,
    first_seen: i64,
    last_seen: i64,
}

#[derive(Deserialize)]
struct RangeJson<'a> {
    seq: i64,
    #[serde(borrow)]
    ip: Cow<'a, str>,
    first_seen: i64,
    last_seen: i64,
}

#[derive(Deserialize)]
struct ServiceJson {
    seq: i64,
    proto: i64,
    port: i64,
    app: Option<String>,
    flows: i64,
    first_seen: i64,
    last_seen: i64,
}

fn derived(value: Option<String>, source: Option<String>, conf: Option<i64>) -> Option<Derived> {
    value.map(|value| Derived {
        value,
        source: source.unwrap_or_default(),
        confidence: confidence(conf.unwrap_or(0)),
    })
}

/// Devices from a JSON array of [`DeviceJson`], in its order; facts in (key, value) order,
/// address ranges and services in the order they were written.
pub(super) fn devices_from_json(text: &str) -> Result<Vec<DeviceRecord>> {
    let rows: Vec<DeviceJson<'_>> = serde_json::from_str(text)
        .map_err(|e| StoreError::Database(format!("stored devices are not readable: {e}")))?;
    rows.into_iter().map(DeviceJson::into_record).collect()
}

impl DeviceJson<'_> {
    fn into_record(self) -> Result<DeviceRecord> {
        let device = Device {
            id: DeviceId(self.id),
            keys: self.keys.split_whitespace().map(parse_key).collect::<Result<_>>()?,
            macs: self
                .macs
                .split_whitespace()
                .map(|m| m.parse::<Mac>().map_err(|_| corrupt("MAC", m)))
                .collect::<Result<_>>()?,
            ips: self.ips.split_whitespace().map(parse_ip).collect::<Result<_>>()?,
            vlans: self.vlans,
            randomized_mac: self.randomized_mac != 0,
            router: self.router != 0,
            first_seen: ts(self.first_seen),
            last_seen: ts(self.last_seen),
            classification: Classification {
                class: derived(self.class, self.class_source, self.class_confidence),
                vendor: derived(self.vendor, self.vendor_source, self.vendor_confidence),
                model: derived(self.model, self.model_source, self.model_confidence),
                firmware: derived(self.firmware, self.firmware_source, self.firmware_confidence),
                os: derived(self.os, self.os_source, self.os_confidence),
                criticality: derived(self.criticality, self.criticality_source, self.criticality_confidence),
            },
            description: self.description,
            state: self.state.parse::<Lifecycle>().map_err(|_| corrupt("state", &self.state))?,
        };
        let mut facts = self.facts.unwrap_or_default();
        facts.sort_unstable_by(|a, b| (&a.key, &a.value).cmp(&(&b.key, &b.value)));
        let mut ranges = self.ip_ranges.unwrap_or_default();
        ranges.sort_unstable_by_key(|r| r.seq);
        let mut services = self.services.unwrap_or_default();
        services.sort_unstable_by_key(|s| s.seq);
        let facts = facts
            .into_iter()
            .map(|f| Fact {
                key: f.key,
                value: f.value,
                source: f.source,
                confidence: confidence(f.confidence),
                first_seen: ts(f.first_seen),
                last_seen: ts(f.last_seen),
            })
            .collect();
        let ip_ranges = ranges
            .into_iter()
            .map(|r| {
                Ok(IpRange { ip: parse_ip(&r.ip)?, first_seen: ts(r.first_seen), last_seen: ts(r.last_seen) })
            })
            .collect::<Result<_>>()?;
        let services = services
            .into_iter()
            .map(|s| {
                Ok(Service {
                    proto: u8::try_from(s.proto).map_err(|_| corrupt("protocol", &s.proto.to_string()))?,
                    port: u16::try_from(s.port).map_err(|_| corrupt("port", &s.port.to_string()))?,
                    app: s.app,
                    flows: uncount(s.flows),
                    first_seen: ts(s.first_seen),
                    last_seen: ts(s.last_seen),
                })
            })
            .collect::<Result<_>>()?;
        Ok(DeviceRecord { device, facts, ip_ranges, services })
    }
}

/// An override from `device_id, key, value, set_by, set_at`.
pub(super) fn override_(row: &SqliteRow) -> Result<Override> {
    Ok(Override {
        device: DeviceId(row.try_get(0)?),
        key: row.try_get(1)?,
        value: row.try_get(2)?,
        set_by: row.try_get(3)?,
        set_at: ts(row.try_get(4)?),
    })
}

/// An event from `ts, device_id, kind, old, new, evidence`.
pub(super) fn event(row: &SqliteRow) -> Result<InventoryEvent> {
    let kind: &str = row.try_get(2)?;
    Ok(InventoryEvent {
        ts: ts(row.try_get(0)?),
        device: DeviceId(row.try_get(1)?),
        kind: kind.parse::<EventKind>().map_err(|_| corrupt("event kind", kind))?,
        old: row.try_get(3)?,
        new: row.try_get(4)?,
        evidence: row.try_get(5)?,
    })
}

/// An import from `fingerprint, source, first_packet, last_packet, packets, written_at`.
pub(super) fn import(row: &SqliteRow) -> Result<Import> {
    Ok(Import {
        fingerprint: row.try_get(0)?,
        source: row.try_get(1)?,
        first_packet: row.try_get::<Option<i64>, _>(2)?.map(ts),
        last_packet: row.try_get::<Option<i64>, _>(3)?.map(ts),
        packets: uncount(row.try_get(4)?),
        written_at: ts(row.try_get(5)?),
    })
}

fn severity(s: &str) -> Result<Severity> {
    s.parse::<Severity>().map_err(|_| corrupt("severity", s))
}

/// An alert from `id, ts, severity, kind, device_id, peer, evidence, message, state,
/// last_seen, count, flow, source, indicator, confidence, key`.
pub(super) fn alert(row: &SqliteRow) -> Result<Alert> {
    let flow: Option<String> = row.try_get(11)?;
    Ok(Alert {
        id: row.try_get(0)?,
        ts: ts(row.try_get(1)?),
        severity: severity(row.try_get(2)?)?,
        kind: row.try_get(3)?,
        device: row.try_get::<Option<i64>, _>(4)?.map(DeviceId),
        peer: row.try_get::<Option<&str>, _>(5)?.map(parse_ip).transpose()?,
        evidence: row.try_get(6)?,
        message: row.try_get(7)?,
        state: row.try_get(8)?,
        last_seen: ts(row.try_get(9)?),
        count: uncount(row.try_get(10)?),
        flow: flow.map(|f| serde_json::from_str(&f).map_err(|_| corrupt("alert flow", &f))).transpose()?,
        source: row.try_get(12)?,
        indicator: row.try_get(13)?,
        confidence: row.try_get::<Option<i64>, _>(14)?.and_then(|c| u8::try_from(c).ok()),
        key: row.try_get(15)?,
    })
}

/// A finding from `device_id, kind, reference, severity, detail, evidence, first_seen,
/// last_seen`.
pub(super) fn finding(row: &SqliteRow) -> Result<Finding> {
    Ok(Finding {
        device: DeviceId(row.try_get(0)?),
        kind: row.try_get(1)?,
        reference: row.try_get(2)?,
        severity: severity(row.try_get(3)?)?,
        detail: row.try_get(4)?,
        evidence: row.try_get(5)?,
        first_seen: ts(row.try_get(6)?),
        last_seen: ts(row.try_get(7)?),
    })
}

pub(super) fn vuln_head(row: &SqliteRow) -> Result<crate::VulnDocumentHead> {
    Ok(crate::VulnDocumentHead {
        kind: row.try_get(0)?,
        id: row.try_get(1)?,
        version: row.try_get(2)?,
        released: row.try_get(3)?,
        sha256: row.try_get(4)?,
    })
}
