//! Alert keys, severities and suppression rules.

use std::net::IpAddr;

use ward_core::{DeviceId, Severity};

pub use ward_core::Suppression;

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

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{Alert, Timestamp};

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
