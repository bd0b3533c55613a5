//! End to end: real software on a network of namespaces announces who it is, tcpdump captures
//! it, and `ward analyze --json` shows each device with what its software announced. The
//! network and its peers are in `tests/e2e/identity-net.sh` (dnsmasq with dhclient and busybox
//! udhcpc, lldpd with LLDP-MED and CDP, python-zeroconf, an SSDP announcer, curl against
//! `openssl s_server`, snmpd with snmpget, FTP logins against pyftpdlib).
//!
//! Needs root (namespaces) and those programs; `scripts/test` installs them when it runs as
//! root. Without them the test says what it skipped.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{assert_has, assert_identity, credential, device, is_root};

const TOOLS: [&str; 10] =
    ["ip", "tcpdump", "dnsmasq", "dhclient", "busybox", "lldpd", "snmpd", "snmpget", "curl", "openssl"];

fn missing() -> Vec<String> {
    let mut out: Vec<String> = TOOLS
        .iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|t| (*t).to_owned())
        .collect();
    for module in ["zeroconf", "pyftpdlib"] {
        let ok = Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            out.push(format!("python3 module {module}"));
        }
    }
    out
}

#[test]
fn devices_show_what_their_software_announced() {
    if !is_root() {
        eprintln!("skipped: the end-to-end network needs root for network namespaces");
        return;
    }
    let missing = missing();
    if !missing.is_empty() {
        eprintln!(
            "skipped: the end-to-end network needs {} (scripts/test installs them as root)",
            missing.join(", ")
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/identity-net.sh");
    let run = Command::new("bash").arg(&script).arg(dir.path()).output().unwrap();
    assert!(run.status.success(), "the network script failed: {}", String::from_utf8_lossy(&run.stderr));
    let capture = dir.path().join("capture.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["analyze", "--json", "--db"])
        .arg(dir.path().join("ward.db"))
        .arg(&capture)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let summary: Value = serde_json::from_str(&text).unwrap();
    let logs = |h: &str| std::fs::read_to_string(dir.path().join(format!("{h}.log"))).unwrap_or_default();

    // What each device is, and who made it, from the fields that said so.
    assert_identity(device(&summary, "00:09:fb:77:00:11"), "infusion_pump", "lldp.med.", Some("BD"));
    assert_identity(
        device(&summary, "00:09:fb:77:00:12"),
        "patient_monitor",
        "dhcp.option60",
        Some("Philips"),
    );
    assert_identity(device(&summary, "00:1b:54:77:00:02"), "switch", "lldp.capabilities", Some("Cisco"));
    assert_eq!(device(&summary, "00:1b:54:77:00:02")["vendor"]["source"], "rule:oui-cisco oui.ma-l");
    assert_eq!(device(&summary, "00:09:fb:77:00:11")["firmware"]["value"], "FW-9.33.1");

    // The infusion pump: dhclient's vendor class and host name, lldpd's LLDP-MED inventory
    // and its CDP.
    let pump = device(&summary, "00:09:fb:77:00:11");
    assert_has(pump, "vendor_class", "BD.Alaris.PC.8015");
    assert_has(pump, "hostname", "alaris-pc-17");
    assert_has(pump, "model", "Alaris PC 8015");
    assert_has(pump, "manufacturer", "BD");
    assert_has(pump, "firmware", "FW-9.33.1");
    assert_has(pump, "hardware_revision", "HW-3.1");
    assert_has(pump, "software_version", "SW-9.33");
    assert_has(pump, "serial_number", "SN-4711-0815");
    assert_has(pump, "lldp_med_device_class", "endpoint class I");
    assert_has(pump, "sys_descr", "Alaris PC unit 8015, BD");
    assert_has(pump, "software_version", "Alaris PC unit 8015, BD");
    assert_has(pump, "cdp_port_id", "eth0");

    // The patient monitor: udhcpc's vendor class and host name, its mDNS service and TXT
    // keys, its SSDP announcements.
    let monitor = device(&summary, "00:09:fb:77:00:12");
    assert_has(monitor, "vendor_class", "Philips IntelliVue MX450");
    assert_has(monitor, "hostname", "intellivue-mx450-7");
    assert_has(monitor, "mdns_service", "_http._tcp");
    assert_has(monitor, "mdns_instance", "IntelliVue MX450 bed 7");
    assert_has(monitor, "mdns_service_port", "_http._tcp 80");
    assert_has(monitor, "model", "MX450");
    assert_has(monitor, "manufacturer", "Philips");
    assert_has(monitor, "server", "Linux/5.10 UPnP/1.0 IntelliVue-MX450/M.03.01");
    assert_has(monitor, "upnp_uuid", "6a0c5e2e-77aa-4b1e-9c1d-00095b770012");
    assert_has(monitor, "upnp_type", "urn:schemas-upnp-org:device:PatientMonitor:1");

    // The gateway: DHCP server, TLS certificate, SNMP agent, FTP server; the logins it saw.
    let gw = device(&summary, "02:77:00:00:00:01");
    assert_has(gw, "service", "dhcp-server");
    assert_has(gw, "tls_cert_subject", "O=Ward E2E, CN=pump-gw.biomed.local");
    assert_has(gw, "tls_cert_self_signed", "true");
    assert_has(gw, "tls_version", "TLS 1.2");
    assert_has(gw, "snmp_sys_descr", "Ward E2E infusion gateway, firmware 4.2.1");
    assert_has(gw, "snmp_sys_name", "pump-gw-1");
    assert_has(gw, "snmp_sys_object_id", "1.3.6.1.4.1.8072.3.2.10");
    assert_has(gw, "server", "Ward E2E lab archive FTP ready");
    assert!(
        credential(gw, "ftp", "admin", "default", Some(true)),
        "admin/admin accepted: {:#}",
        gw["credentials"]
    );
    assert!(
        credential(gw, "ftp", "service", "cleartext", Some(true)),
        "biomed's login: {:#}",
        gw["credentials"]
    );
    assert!(
        credential(gw, "ftp", "service", "cleartext", Some(false)),
        "the refused guess: {:#}",
        gw["credentials"]
    );
    assert!(credential(gw, "snmp", "none", "default", Some(true)), "public: {:#}", gw["credentials"]);
    assert!(
        credential(gw, "snmp", "none", "cleartext", Some(true)),
        "the site community: {:#}",
        gw["credentials"]
    );

    // The workstation: what its TLS client and SSDP search say.
    let ws = device(&summary, "02:77:00:00:00:13");
    assert_has(ws, "tls_sni", "pump-gw.biomed.local");
    assert_has(ws, "user_agent", "WardE2E-Workstation/1.0 UPnP/1.1");
    assert!(
        ws["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "ja4" && a["value"].as_str().unwrap().starts_with("t12d"))
    );

    // No secret that crossed the wire reaches the output, JSON or readable.
    let readable = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["analyze", "--no-store"])
        .arg(&capture)
        .output()
        .unwrap();
    let readable = String::from_utf8_lossy(&readable.stdout);
    // Nor the inventory: the database and its write-ahead log, byte for byte.
    let mut stored = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(dir.path().join(format!("ward.db{suffix}"))) {
            stored.extend(b);
        }
    }
    assert!(stored.len() > 4096, "the inventory was not written");
    let stored = String::from_utf8_lossy(&stored);
    for secret in ["Pump$ecret-77", "s3cr3t-comm", "wrong-guess"] {
        assert!(!text.contains(secret) && !readable.contains(secret), "{secret} reached the output");
        assert!(!stored.contains(secret), "{secret} reached the inventory");
    }
    eprintln!("end to end: 4 devices checked; peers' logs:\n{}{}", logs("pump"), logs("ws"));
}
