//! Conversions between `ward-core` records and SQLite values. Stored text is read back
//! without panicking: a value this build cannot parse is a [`StoreError::Database`] naming it.

use std::net::IpAddr;

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use ward_core::{
    Alert, Derived, Device, DeviceId, DeviceKey, EventKind, Fact, Finding, InventoryEvent, IpRange,
    Lifecycle, Mac, Override, Service, Severity, Timestamp,
};

use crate::{Import, Result, StoreError};

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

/// The devices columns, in the order [`device`] reads them.
pub(super) const DEVICE_COLUMNS: &str = "id, keys, macs, ips, ip_key, vlans, randomized_mac, \
    router, first_seen, last_seen, class, class_source, class_confidence, vendor, \
    vendor_source, vendor_confidence, model, model_source, model_confidence, firmware, \
    firmware_source, firmware_confidence, os, os_source, os_confidence, criticality, \
    criticality_source, criticality_confidence, description, state";

/// How many columns [`DEVICE_COLUMNS`] names.
pub(super) const DEVICE_COLUMN_COUNT: usize = 30;

fn derived(row: &SqliteRow, at: usize) -> Result<Option<Derived>> {
    let value: Option<String> = row.try_get(at)?;
    Ok(match value {
        None => None,
        Some(value) => Some(Derived {
            value,
            source: row.try_get::<Option<String>, _>(at + 1)?.unwrap_or_default(),
            confidence: confidence(row.try_get::<Option<i64>, _>(at + 2)?.unwrap_or(0)),
        }),
    })
}

/// A device from a row selected with [`DEVICE_COLUMNS`].
pub(super) fn device(row: &SqliteRow) -> Result<Device> {
    let keys: &str = row.try_get(1)?;
    let macs: &str = row.try_get(2)?;
    let ips: &str = row.try_get(3)?;
    let vlans: &str = row.try_get(5)?;
    let state: &str = row.try_get(29)?;
    Ok(Device {
        id: DeviceId(row.try_get(0)?),
        keys: keys.split_whitespace().map(parse_key).collect::<Result<_>>()?,
        macs: macs
            .split_whitespace()
            .map(|m| m.parse::<Mac>().map_err(|_| corrupt("MAC", m)))
            .collect::<Result<_>>()?,
        ips: ips.split_whitespace().map(parse_ip).collect::<Result<_>>()?,
        vlans: serde_json::from_str(vlans).map_err(|_| corrupt("VLAN list", vlans))?,
        randomized_mac: row.try_get(6)?,
        router: row.try_get(7)?,
        first_seen: ts(row.try_get(8)?),
        last_seen: ts(row.try_get(9)?),
        class: derived(row, 10)?,
        vendor: derived(row, 13)?,
        model: derived(row, 16)?,
        firmware: derived(row, 19)?,
        os: derived(row, 22)?,
        criticality: derived(row, 25)?,
        description: row.try_get(28)?,
        state: state.parse::<Lifecycle>().map_err(|_| corrupt("state", state))?,
    })
}

/// A fact from `key, value, source, confidence, first_seen, last_seen` at `at..`.
pub(super) fn fact(row: &SqliteRow, at: usize) -> Result<Fact> {
    Ok(Fact {
        key: row.try_get(at)?,
        value: row.try_get(at + 1)?,
        source: row.try_get(at + 2)?,
        confidence: confidence(row.try_get(at + 3)?),
        first_seen: ts(row.try_get(at + 4)?),
        last_seen: ts(row.try_get(at + 5)?),
    })
}

/// An address range from `ip, first_seen, last_seen` at `at..`.
pub(super) fn ip_range(row: &SqliteRow, at: usize) -> Result<IpRange> {
    Ok(IpRange {
        ip: parse_ip(row.try_get(at)?)?,
        first_seen: ts(row.try_get(at + 1)?),
        last_seen: ts(row.try_get(at + 2)?),
    })
}

/// A service from `proto, port, app, flows, first_seen, last_seen` at `at..`.
pub(super) fn service(row: &SqliteRow, at: usize) -> Result<Service> {
    let proto: i64 = row.try_get(at)?;
    let port: i64 = row.try_get(at + 1)?;
    Ok(Service {
        proto: u8::try_from(proto).map_err(|_| corrupt("protocol", &proto.to_string()))?,
        port: u16::try_from(port).map_err(|_| corrupt("port", &port.to_string()))?,
        app: row.try_get(at + 2)?,
        flows: uncount(row.try_get(at + 3)?),
        first_seen: ts(row.try_get(at + 4)?),
        last_seen: ts(row.try_get(at + 5)?),
    })
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

/// An alert from `id, ts, severity, kind, device_id, peer, evidence, message, state`.
pub(super) fn alert(row: &SqliteRow) -> Result<Alert> {
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
