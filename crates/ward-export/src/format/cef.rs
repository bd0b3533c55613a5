//! ArcSight's Common Event Format, version 0:
//!
//! ```text
//! CEF:0|Ward|Ward|0.1.0|intel_match|Connection to a listed address|8|rt=... src=10.1.2.3 ...
//! ```
//!
//! In the header, `\` and `|` are escaped with a backslash; in extension values `\` and `=`
//! are, and line breaks are written `\n` and `\r` (the CEF specification's rules). The
//! specification has no line breaks in header fields; they are written the same way there
//! rather than breaking the line. Extension keys are Ward's own and need no escaping. The
//! field mapping is in `docs/exports.md`.

use std::fmt::Write as _;

use ward_core::Alert;

use super::{capped, cef_severity, epoch_millis, proto_name, report_time};

/// CEF's Device Vendor and Device Product.
pub const VENDOR: &str = "Ward";

/// Appends `s` as a CEF header field: `\` and `|` escaped, CR and LF written `\r`, `\n`.
pub fn escape_header(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Appends `s` as a CEF extension value: `\` and `=` escaped, CR and LF written `\r`, `\n`.
pub fn escape_extension(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The alert as one CEF line (no line break at the end).
pub fn format(alert: &Alert) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("CEF:0|");
    out.push_str(VENDOR);
    out.push('|');
    out.push_str(VENDOR);
    out.push('|');
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push('|');
    escape_header(capped(&alert.kind), &mut out);
    out.push('|');
    escape_header(capped(&alert.message), &mut out);
    let _ = write!(out, "|{}|", cef_severity(alert.severity));

    let mut first = true;
    let mut ext = |key: &str, value: &str| {
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(key);
        out.push('=');
        escape_extension(capped(value), &mut out);
    };
    let last = report_time(alert.ts, alert.last_seen);
    ext("rt", &epoch_millis(last).to_string());
    ext("start", &epoch_millis(alert.ts).to_string());
    ext("end", &epoch_millis(last).to_string());
    ext("cnt", &alert.count.to_string());
    ext("externalId", &alert.id.to_string());
    ext("cat", &alert.kind);
    if let Some(f) = &alert.flow {
        ext("src", &f.src.to_string());
        ext("spt", &f.src_port.to_string());
        ext("dst", &f.dst.to_string());
        ext("dpt", &f.dst_port.to_string());
        match proto_name(f.proto) {
            Some(name) => ext("proto", name),
            None => ext("proto", &f.proto.to_string()),
        }
        if let Some(v) = f.vlan {
            ext("cn3", &v.to_string());
            ext("cn3Label", "vlan");
        }
    }
    if let Some(s) = &alert.source {
        ext("cs1", s);
        ext("cs1Label", "feed");
    }
    if let Some(i) = &alert.indicator {
        ext("cs2", i);
        ext("cs2Label", "indicator");
    }
    if let Some(c) = alert.confidence {
        ext("cn1", &c.to_string());
        ext("cn1Label", "confidence");
    }
    if let Some(d) = alert.device {
        ext("cn2", &d.0.to_string());
        ext("cn2Label", "device");
    }
    ext("cs3", &alert.evidence);
    ext("cs3Label", "evidence");
    if let Some(p) = alert.peer {
        ext("cs4", &p.to_string());
        ext("cs4Label", "peer");
    }
    ext("cs5", &alert.state);
    ext("cs5Label", "state");
    ext("cs6", &alert.key);
    ext("cs6Label", "key");
    ext("msg", &alert.message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests_support::alert;

    #[test]
    fn line_layout() {
        let line = format(&alert());
        let head = concat!(
            "CEF:0|Ward|Ward|",
            env!("CARGO_PKG_VERSION"),
            "|intel_match|Connection to a listed address|8|"
        );
        assert!(line.starts_with(head), "{line}");
        assert!(
            line.contains(" src=10.1.2.3 spt=51000 dst=203.0.113.9 dpt=443 proto=TCP cn3=20 cn3Label=vlan "),
            "{line}"
        );
        assert!(
            line.contains(r#" cs1=ipsum|level3 cs1Label=feed cs2=evil"host]\\x cs2Label=indicator "#),
            "{line}"
        );
        assert!(line.contains(r" cs3=tls.sni\=a\=b "), "{line}");
        assert!(line.contains("|8|rt=1764512367500 start=1764512360000 "), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn header_escapes_pipes_and_breaks() {
        let mut a = alert();
        a.kind = "a|b".into();
        a.message = "line1\nline2 \\ end".into();
        let line = format(&a);
        assert!(line.contains(r"|a\|b|line1\nline2 \\ end|8|"), "{line}");
        assert!(line.contains(r"msg=line1\nline2 \\ end"), "{line}");
    }
}
