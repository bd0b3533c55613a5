//! How an alert is written: syslog RFC 5424 with Ward's structured data, CEF, JSON.
//!
//! Pure functions from an [`Alert`](ward_core::Alert) to bytes; the sinks carry them. Every
//! text field of an alert is untrusted (a feed names an indicator, a packet names a host) and
//! is escaped for the format it lands in, after being cut to [`MAX_FIELD`] bytes.

pub mod cef;
pub mod json;
pub mod syslog;

use ward_core::{Severity, Timestamp};

/// Longest text field written, in bytes (cut on a character boundary): a feed or a packet
/// cannot make one message large enough to be refused or split by a receiver.
pub const MAX_FIELD: usize = 2048;

/// `s` cut to at most [`MAX_FIELD`] bytes on a character boundary.
pub(crate) fn capped(s: &str) -> &str {
    if s.len() <= MAX_FIELD {
        return s;
    }
    let mut end = MAX_FIELD;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The time a report of the alert stands for: its latest occurrence (an alert folded with
/// later alike ones is reported again as of the last one).
pub(crate) fn report_time(ts: Timestamp, last_seen: Timestamp) -> Timestamp {
    ts.max(last_seen)
}

/// RFC 3339 in UTC with exactly six fractional digits (RFC 5424 allows at most six).
pub fn rfc3339_micros(t: Timestamp) -> String {
    let whole = Timestamp::from_secs(t.as_secs()).to_string();
    let micros = (t.as_nanos() % 1_000_000_000) / 1_000;
    // `whole` has no fraction and ends in 'Z'.
    format!("{}.{micros:06}Z", whole.trim_end_matches('Z'))
}

/// Milliseconds since the epoch (CEF's `rt`, `start`, `end`).
pub(crate) fn epoch_millis(t: Timestamp) -> u64 {
    t.as_nanos() / 1_000_000
}

/// The name of an IP protocol number where it has a common one (CEF's `proto`).
pub(crate) fn proto_name(proto: u8) -> Option<&'static str> {
    match proto {
        1 => Some("ICMP"),
        6 => Some("TCP"),
        17 => Some("UDP"),
        58 => Some("IPv6-ICMP"),
        132 => Some("SCTP"),
        _ => None,
    }
}

/// Syslog severity (RFC 5424 table 2) of an alert's severity.
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2, // crit
        Severity::High => 3,     // err
        Severity::Medium => 4,   // warning
        Severity::Low => 5,      // notice
        Severity::Info => 6,     // informational
    }
}

/// CEF severity, 0-10, of an alert's severity.
pub fn cef_severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
        Severity::Critical => 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_are_six_digits_and_truncated() {
        let t = Timestamp::from_nanos(1_764_512_367_123_456_789);
        assert_eq!(rfc3339_micros(t), "2025-11-30T14:19:27.123456Z");
        assert_eq!(rfc3339_micros(Timestamp::from_secs(0)), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn caps_on_char_boundary() {
        let s = "é".repeat(MAX_FIELD);
        let c = capped(&s);
        assert!(c.len() <= MAX_FIELD && c.len() >= MAX_FIELD - 1);
        assert!(c.chars().all(|ch| ch == 'é'));
        assert_eq!(capped("short"), "short");
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use ward_core::{Alert, DeviceId, FlowRef, Severity, Timestamp};

    /// An alert with every field set and delimiters in its texts.
    pub(crate) fn alert() -> Alert {
        Alert {
            id: 7,
            ts: Timestamp::from_nanos(1_764_512_360_000_000_000),
            last_seen: Timestamp::from_nanos(1_764_512_367_500_000_000),
            count: 3,
            severity: Severity::High,
            kind: "intel_match".into(),
            device: Some(DeviceId(12)),
            peer: Some("203.0.113.9".parse().expect("address")),
            flow: Some(FlowRef {
                src: "10.1.2.3".parse().expect("address"),
                src_port: 51000,
                dst: "203.0.113.9".parse().expect("address"),
                dst_port: 443,
                proto: 6,
                vlan: Some(20),
            }),
            source: Some("ipsum|level3".into()),
            indicator: Some(r#"evil"host]\x"#.into()),
            confidence: Some(80),
            evidence: "tls.sni=a=b".into(),
            message: "Connection to a listed address".into(),
            state: "open".into(),
            key: "intel_match:12:203.0.113.9".into(),
        }
    }
}
