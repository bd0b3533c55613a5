//! The readable summary of `ward analyze`.

use std::io::{self, Write};

use ward_core::{AccountKind, Weakness};
use ward_inventory::sightings::service_name;
use ward_sensor::{DeviceSummary, Summary};

/// Devices listed in the readable summary; `--json` has them all.
const MAX_DEVICE_ROWS: usize = 40;
/// Attributes that say most about what a device is, in the order the identity column shows
/// them.
const TELLING: [&str; 12] = [
    "model",
    "manufacturer",
    "hostname",
    "vendor_class",
    "snmp_sys_descr",
    "sys_descr",
    "server",
    "firmware",
    "software_version",
    "mdns_instance",
    "user_agent",
    "netbios_name",
];
/// Width of the identity column.
const IDENTITY_WIDTH: usize = 72;

/// The most telling attributes of a device, shortened to fit a row.
fn identity(d: &DeviceSummary) -> String {
    let mut parts: Vec<String> = d.description.iter().cloned().collect();
    for key in TELLING {
        if let Some(a) = d.attributes.iter().filter(|a| a.key == key).max_by_key(|a| (a.confidence, a.count))
        {
            parts.push(format!("{key} {}", a.value));
        }
        if parts.len() == 3 {
            break;
        }
    }
    fit(&parts.join("; "), IDENTITY_WIDTH)
}

fn account(a: AccountKind) -> &'static str {
    match a {
        AccountKind::Admin => "admin account",
        AccountKind::Root => "root account",
        AccountKind::Service => "service account",
        AccountKind::Generic => "generic account",
        AccountKind::Anonymous => "anonymous",
        AccountKind::None => "no user name",
        AccountKind::Named => "named account",
    }
}

/// `text`, cut to `width` characters with an ellipsis.
pub(crate) fn fit(text: &str, width: usize) -> String {
    if text.chars().count() > width {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        text.to_owned()
    }
}

pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn list<T: ToString>(items: &[T], max: usize) -> String {
    let mut s: Vec<String> = items.iter().take(max).map(T::to_string).collect();
    if items.len() > max {
        s.push(format!("+{}", items.len() - max));
    }
    if s.is_empty() { "-".to_owned() } else { s.join(",") }
}

pub(crate) fn write_text(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    writeln!(
        w,
        "ward analyze: {} file(s), {} packets, {} bytes in {:.2} s on {} thread(s)",
        s.files.len(),
        thousands(s.packets),
        thousands(s.bytes),
        s.elapsed_secs,
        s.threads
    )?;
    writeln!(w)?;
    writeln!(w, "Files")?;
    for f in &s.files {
        let status = f.error.as_deref().map_or("ok".to_owned(), |e| format!("ERROR: {e}"));
        writeln!(
            w,
            "  {}  ({}, {} packets)  {status}",
            f.path.display(),
            f.compression,
            thousands(f.packets)
        )?;
    }
    writeln!(w)?;
    match (s.first_packet, s.last_packet) {
        (Some(a), Some(b)) => {
            let secs = b.nanos_since(a) as f64 / 1e9;
            writeln!(w, "Traffic  {a} .. {b}  ({secs:.1} s)")?;
        }
        _ => writeln!(w, "Traffic")?,
    }
    writeln!(
        w,
        "  flows {} ({} failed connection attempts)",
        thousands(s.flows),
        thousands(s.failed_connections)
    )?;
    let p = &s.protocols;
    writeln!(
        w,
        "  IPv4 {}  IPv6 {}  ARP {}  other L2 {}  LLC {}  undecoded {}",
        thousands(p.ipv4),
        thousands(p.ipv6),
        thousands(p.arp),
        thousands(p.other_ether),
        thousands(p.llc),
        thousands(p.undecoded)
    )?;
    writeln!(
        w,
        "  TCP {}  UDP {}  ICMP {}  other IP {}  fragments {}",
        thousands(p.tcp),
        thousands(p.udp),
        thousands(p.icmp),
        thousands(p.other_ip),
        thousands(p.ip_fragments)
    )?;
    let apps: Vec<String> = s.applications.iter().map(|(k, v)| format!("{k} {}", thousands(*v))).collect();
    writeln!(w, "  applications (flows): {}", if apps.is_empty() { "-".into() } else { apps.join(", ") })?;
    let top: Vec<String> =
        s.top_services.iter().take(10).map(|t| format!("{} {}", t.service, thousands(t.flows))).collect();
    writeln!(
        w,
        "  top services (flows answered): {}",
        if top.is_empty() { "-".into() } else { top.join(", ") }
    )?;
    writeln!(w)?;
    writeln!(w, "Devices ({})", s.devices.len())?;
    writeln!(
        w,
        "  {:>5} {:<24} {:<22} {:<20} {:<30} {:<8} {:>7} {:>8}  {:<22} identity",
        "id", "device", "class", "vendor", "IPs", "VLANs", "opened", "answered", "services"
    )?;
    // The devices that say most about themselves first; the rest in key order.
    let mut rows: Vec<&DeviceSummary> = s.devices.iter().collect();
    let telling =
        |d: &DeviceSummary| TELLING.iter().filter(|k| d.attributes.iter().any(|a| a.key == **k)).count();
    rows.sort_by_cached_key(|d| {
        std::cmp::Reverse((d.description.is_some(), telling(d), d.attributes.len().min(8)))
    });
    for d in rows.into_iter().take(MAX_DEVICE_ROWS) {
        let mut key = d.key.clone();
        if d.router {
            key.push_str(" (router)");
        }
        let services: Vec<String> = d.services.iter().map(|x| service_name(x.proto, x.port)).collect();
        writeln!(
            w,
            "  {:>5} {:<24} {:<22} {:<20} {:<30} {:<8} {:>7} {:>8}  {:<22} {}",
            d.id.map_or_else(|| "-".to_owned(), |i| i.to_string()),
            key,
            fit(d.classification.class.as_ref().map_or("-", |c| c.value.as_str()), 22),
            fit(d.classification.vendor.as_ref().map_or("-", |c| c.value.as_str()), 20),
            list(&d.ips, 2),
            list(&d.vlans, 3),
            thousands(d.flows_initiated),
            thousands(d.flows_answered),
            list(&services, 3),
            identity(d)
        )?;
    }
    if s.devices.len() > MAX_DEVICE_ROWS {
        writeln!(w, "  ... and {} more (all of them with --json)", s.devices.len() - MAX_DEVICE_ROWS)?;
    }
    writeln!(w)?;
    // Logins seen in cleartext: the judgement only, never the user name or the secret.
    let weak: Vec<&DeviceSummary> = s.devices.iter().filter(|d| !d.credentials.is_empty()).collect();
    writeln!(w, "Cleartext and default logins ({} device(s))", weak.len())?;
    for d in weak.iter().take(MAX_DEVICE_ROWS) {
        let creds: Vec<String> = d
            .credentials
            .iter()
            .map(|c| {
                let weakness = match c.weakness {
                    Weakness::Default => "DEFAULT",
                    Weakness::Cleartext => "cleartext",
                };
                let verdict = match c.accepted {
                    Some(true) => "accepted",
                    Some(false) => "refused",
                    None => "answer not seen",
                };
                format!("{} {} {weakness} {verdict} x{}", c.protocol, account(c.account), thousands(c.count))
            })
            .collect();
        writeln!(w, "  {:<24} {:<20} {}", d.key, list(&d.ips, 1), creds.join("; "))?;
    }
    if weak.len() > MAX_DEVICE_ROWS {
        writeln!(w, "  ... and {} more (all of them with --json)", weak.len() - MAX_DEVICE_ROWS)?;
    }
    writeln!(w)?;
    // Clinical protocols in cleartext: whether patient data went by, never the data.
    let clear: Vec<&DeviceSummary> = s.devices.iter().filter(|d| !d.cleartext.is_empty()).collect();
    writeln!(w, "Clinical and device protocols in cleartext ({} device(s))", clear.len())?;
    for d in clear.iter().take(MAX_DEVICE_ROWS) {
        let what: Vec<String> = d
            .cleartext
            .iter()
            .map(|c| {
                let phi = if c.phi { "WITH patient data" } else { "no patient data" };
                format!("{} {phi} x{}", c.protocol, thousands(c.count))
            })
            .collect();
        writeln!(w, "  {:<24} {:<20} {}", d.key, list(&d.ips, 1), what.join("; "))?;
    }
    if clear.len() > MAX_DEVICE_ROWS {
        writeln!(w, "  ... and {} more (all of them with --json)", clear.len() - MAX_DEVICE_ROWS)?;
    }
    writeln!(w)?;
    let anomalies: Vec<String> =
        s.counters.decode_errors.iter().map(|(k, v)| format!("{k} {}", thousands(*v))).collect();
    writeln!(
        w,
        "Decode anomalies: {}",
        if anomalies.is_empty() { "none".into() } else { anomalies.join(", ") }
    )?;
    let caps: Vec<String> = s.caps_hit.iter().map(|(k, v)| format!("{k} {}", thousands(*v))).collect();
    writeln!(w, "Caps hit: {}", if caps.is_empty() { "none".into() } else { caps.join(", ") })?;
    Ok(())
}

/// What the run did to the inventory, and its events.
pub(crate) fn write_inventory(w: &mut impl Write, inv: &crate::InventoryLine) -> io::Result<()> {
    writeln!(w)?;
    let again =
        if inv.already_imported { " (these captures were read before: counts not added again)" } else { "" };
    writeln!(
        w,
        "Inventory {}: {} device(s), {} written, {} communication-map entries added{again}",
        inv.db,
        thousands(inv.devices as u64),
        thousands(inv.devices_written as u64),
        thousands(inv.edges_written as u64)
    )?;
    let mut kinds: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for e in &inv.events {
        *kinds.entry(e.kind.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    writeln!(w, "  events: {}", if counts.is_empty() { "none".to_owned() } else { counts.join(", ") })?;
    for e in inv.events.iter().filter(|e| e.kind != ward_core::EventKind::NewDevice).take(20) {
        writeln!(w, "  {}", event_line(e, true))?;
    }
    Ok(())
}

/// Alerts raised by the run, and who is still learning.
pub(crate) fn write_detection(w: &mut impl Write, d: &ward_detect::DetectOutcome) -> io::Result<()> {
    writeln!(w)?;
    let until = d.learning.iter().map(|l| l.1).max();
    writeln!(
        w,
        "Detection: {} alert(s), {} suppressed; behaviour: {} device(s) learning{}, {} baselined",
        d.alerts.len(),
        d.suppressed,
        d.learning.len(),
        until.map(|u| format!(" (the last until {u})")).unwrap_or_default(),
        d.baselined
    )?;
    for a in d.alerts.iter().take(50) {
        writeln!(w, "  {}", alert_line(a))?;
    }
    if d.alerts.len() > 50 {
        writeln!(w, "  ... {} more (ward alerts list)", d.alerts.len() - 50)?;
    }
    Ok(())
}

/// One alert on one line: time, severity, kind, count, device, message.
pub(crate) fn alert_line(a: &ward_core::Alert) -> String {
    let flow = a
        .flow
        .map(|f| format!(" [{}:{} > {}:{} proto {}]", f.src, f.src_port, f.dst, f.dst_port, f.proto))
        .unwrap_or_default();
    format!("{} {:<8} {:<24} x{:<4} {}{flow}", a.ts, a.severity.as_str(), a.kind, a.count, a.message)
}

/// One event on one line: time, (device,) kind, old -> new, and its evidence.
pub(crate) fn event_line(e: &ward_core::InventoryEvent, with_device: bool) -> String {
    let device = if with_device { format!("device {:<6} ", e.device) } else { String::new() };
    format!(
        "{}  {device}{:<16} {} -> {}  [{}]",
        e.ts,
        e.kind.as_str(),
        e.old.as_deref().unwrap_or("-"),
        e.new.as_deref().unwrap_or("-"),
        e.evidence
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
