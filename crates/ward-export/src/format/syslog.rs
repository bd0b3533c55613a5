//! Syslog messages as RFC 5424 has them:
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME ward PROCID MSGID [ward@32473 id="7" ts="..." ...] message
//! ```
//!
//! PRI is the configured facility times 8 plus the alert's severity
//! ([`super::syslog_severity`]); TIMESTAMP is the alert's latest occurrence in
//! UTC with microseconds; MSGID is the alert's kind. The structured-data element
//! `ward@32473` carries the alert's fields ([`SD_ID`]; 32473 is the enterprise number RFC 5612
//! reserves for documentation, until Ward has its own). In parameter values `"`, `\` and `]`
//! are escaped with a backslash, as section 6.3.3 requires; header fields are cut to their
//! lengths and anything outside printable ASCII becomes `_`, so nothing a packet says can
//! move a field. The MSG is the alert's message, preceded by a UTF-8 BOM when it is not plain
//! ASCII (section 6.4).
//!
//! CEF travels in the MSG of the same header with no structured data ([`Body::Cef`]), and
//! without a BOM, so that the MSG starts with `CEF:` as CEF receivers expect.

use std::fmt::Write as _;

use ward_core::Alert;

use super::{capped, report_time, rfc3339_micros, syslog_severity};

/// The structured-data id of Ward's element.
pub const SD_ID: &str = "ward@32473";

/// RFC 5424's APP-NAME for Ward.
pub const APP_NAME: &str = "ward";

/// What the sender says about itself in every message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Facility, 0-23 (16-23 are local0-local7).
    pub facility: u8,
    /// HOSTNAME: printable ASCII, at most 255 characters (`-` when unknown).
    pub hostname: String,
    /// PROCID: the process id.
    pub procid: String,
}

impl Header {
    /// A header for this machine and process with the given facility.
    pub fn local(facility: u8) -> Header {
        Header { facility, hostname: local_hostname(), procid: std::process::id().to_string() }
    }
}

/// This machine's host name as the kernel has it, or `-`.
pub fn local_hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    header_field(name.trim(), 255)
}

/// What follows the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Ward's structured data, then the message.
    StructuredData,
    /// No structured data (`-`), then the alert as a CEF line.
    Cef,
}

/// A header field (HOSTNAME, APP-NAME, PROCID, MSGID): printable ASCII only (anything else
/// becomes `_`), at most `max` characters, `-` (the NILVALUE) when empty.
pub fn header_field(s: &str, max: usize) -> String {
    let out: String = s.chars().take(max).map(|c| if ('!'..='~').contains(&c) { c } else { '_' }).collect();
    if out.is_empty() { "-".to_owned() } else { out }
}

/// Appends `s` as an SD-PARAM value (without the quotes): `"`, `\` and `]` escaped with a
/// backslash, everything else as it is.
pub fn escape_sd_value(s: &str, out: &mut String) {
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The alert as one RFC 5424 message (no framing: the transport adds it).
pub fn format(alert: &Alert, header: &Header, body: Body) -> String {
    let mut out = String::with_capacity(512);
    let pri = u16::from(header.facility.min(23)) * 8 + u16::from(syslog_severity(alert.severity));
    let _ = write!(
        out,
        "<{pri}>1 {} {} {APP_NAME} {} {} ",
        rfc3339_micros(report_time(alert.ts, alert.last_seen)),
        header_field(&header.hostname, 255),
        header_field(&header.procid, 128),
        header_field(&alert.kind, 32),
    );
    match body {
        Body::StructuredData => {
            structured_data(alert, &mut out);
            msg(capped(&alert.message), true, &mut out);
        }
        Body::Cef => {
            out.push('-');
            // No BOM: CEF receivers look for `CEF:` at the start of the MSG, and RFC 5424's
            // MSG-ANY (octets without a BOM) allows it.
            msg(&super::cef::format(alert), false, &mut out);
        }
    }
    out
}

fn msg(text: &str, bom: bool, out: &mut String) {
    if text.is_empty() {
        return;
    }
    out.push(' ');
    if bom && !text.is_ascii() {
        out.push('\u{feff}');
    }
    out.push_str(text);
}

/// The `[ward@32473 ...]` element: every field the alert has, in a fixed order.
fn structured_data(alert: &Alert, out: &mut String) {
    out.push('[');
    out.push_str(SD_ID);
    let mut param = |name: &str, value: &str| {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_sd_value(capped(value), out);
        out.push('"');
    };
    param("id", &alert.id.to_string());
    param("ts", &alert.ts.to_string());
    param("last_seen", &alert.last_seen.to_string());
    param("count", &alert.count.to_string());
    param("severity", alert.severity.as_str());
    param("kind", &alert.kind);
    if let Some(d) = alert.device {
        param("device", &d.0.to_string());
    }
    if let Some(p) = alert.peer {
        param("peer", &p.to_string());
    }
    if let Some(f) = &alert.flow {
        param("src", &f.src.to_string());
        param("spt", &f.src_port.to_string());
        param("dst", &f.dst.to_string());
        param("dpt", &f.dst_port.to_string());
        param("proto", &f.proto.to_string());
        if let Some(v) = f.vlan {
            param("vlan", &v.to_string());
        }
    }
    if let Some(s) = &alert.source {
        param("source", s);
    }
    if let Some(i) = &alert.indicator {
        param("indicator", i);
    }
    if let Some(c) = alert.confidence {
        param("confidence", &c.to_string());
    }
    param("evidence", &alert.evidence);
    param("state", &alert.state);
    param("key", &alert.key);
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests_support::alert;

    #[test]
    fn message_layout() {
        let a = alert();
        let h = Header { facility: 16, hostname: "sensor-1".into(), procid: "42".into() };
        let m = format(&a, &h, Body::StructuredData);
        // local0 (16) * 8 + err (3) for a high alert.
        assert!(
            m.starts_with(
                "<131>1 2025-11-30T14:19:27.500000Z sensor-1 ward 42 intel_match [ward@32473 id=\"7\" "
            ),
            "{m}"
        );
        assert!(m.contains(r#" indicator="evil\"host\]\\x""#), "{m}");
        assert!(m.ends_with("] Connection to a listed address"), "{m}");
    }

    #[test]
    fn header_fields_cannot_be_moved() {
        assert_eq!(header_field("a b\nc", 32), "a_b_c");
        assert_eq!(header_field("", 32), "-");
        assert_eq!(header_field(&"x".repeat(40), 32).len(), 32);
        let mut a = alert();
        a.kind = "new peer\n<13>1 forged".into();
        let h = Header { facility: 1, hostname: "host name".into(), procid: "1".into() };
        let m = format(&a, &h, Body::StructuredData);
        // Six header fields, then the structured data, whatever the kind said.
        let fields: Vec<&str> = m.splitn(7, ' ').collect();
        assert_eq!(fields[2..6], ["host_name", "ward", "1", "new_peer_<13>1_forged"], "{m}");
        assert!(fields[6].starts_with("[ward@32473 "), "{m}");
    }

    #[test]
    fn non_ascii_message_gets_a_bom_but_cef_does_not() {
        let mut a = alert();
        a.message = "Gerät spricht mit dem Internet".into();
        let m = format(&a, &Header::local(1), Body::StructuredData);
        assert!(m.contains("] \u{feff}Gerät"), "{m}");
        let m = format(&a, &Header::local(1), Body::Cef);
        assert!(m.contains(" intel_match - CEF:0|"), "{m}");
    }
}
