//! Alert keys, severities and suppression rules.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use ward_core::{Alert, DeviceId, Severity, Timestamp};

/// The key that makes two alerts the same one: the kind, the device, the other end, and what
/// the kind adds (the indicator, the service).
pub fn alert_key(kind: &str, device: Option<DeviceId>, peer: Option<IpAddr>, extra: &str) -> String {
    format!(
        "{kind}|{}|{}|{extra}",
        device.map(|d| d.0.to_string()).unwrap_or_default(),
        peer.map(|p| p.to_string()).unwrap_or_default()
    )
}

/// One level more urgent (for alerts about medical devices).
pub fn raise(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: &str, device: i64, peer: &str) -> Alert {
        Alert {
            id: 0,
            ts: Timestamp::from_secs(100),
            last_seen: Timestamp::from_secs(100),
            count: 1,
            severity: Severity::High,
            kind: kind.into(),
            device: Some(DeviceId(device)),
            peer: peer.parse().ok(),
            flow: None,
            source: None,
            indicator: Some("ind-1".into()),
            confidence: None,
            evidence: String::new(),
            message: String::new(),
            state: "open".into(),
            key: String::new(),
        }
    }

    #[test]
    fn a_suppression_covers_what_it_names_until_it_expires() {
        let s = Suppression {
            id: 1,
            kind: "new_external_peer".into(),
            device: Some(DeviceId(4)),
            peer: Some("203.0.113.0/24".into()),
            indicator: None,
            owner: "soc".into(),
            reason: "vendor cloud".into(),
            created: Timestamp::from_secs(0),
            expires: Timestamp::from_secs(1000),
        };
        assert!(s.validate().is_ok());
        assert!(s.covers(&alert("new_external_peer", 4, "203.0.113.9"), Timestamp::from_secs(500)));
        assert!(!s.covers(&alert("new_external_peer", 4, "203.0.113.9"), Timestamp::from_secs(1000)));
        assert!(!s.covers(&alert("new_external_peer", 5, "203.0.113.9"), Timestamp::from_secs(500)));
        assert!(!s.covers(&alert("new_external_peer", 4, "198.51.100.1"), Timestamp::from_secs(500)));
        assert!(!s.covers(&alert("scan", 4, "203.0.113.9"), Timestamp::from_secs(500)));
        let bad = Suppression { peer: Some("203.0.113.0/40".into()), ..s.clone() };
        assert!(bad.validate().is_err());
        let late = Suppression { expires: Timestamp::from_secs(0), ..s };
        assert!(late.validate().is_err());
    }
}
