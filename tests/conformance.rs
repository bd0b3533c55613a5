//! What Ward's dissectors extract from real captures agrees with the decodes other tools ship
//! beside them: tcpdump's `-v` output for DHCP, DHCPv6 and MUD; Wireshark (tshark) for LLDP and
//! CDP, where tcpdump's test suite ships no decode; Suricata's expected EVE fields for DHCP and
//! SNMP; nDPI's flow lines for the DHCP fingerprints, user agents and server names of its phone
//! and IoT captures and for JA3; FoxIO's expected JA4 for every TLS ClientHello.
//!
//! Each check runs `ward analyze --json` on a capture and looks the expected attribute up on
//! the device the other tool names (by MAC or IP), or on any device where the tool names none.
//! The captures live outside the repository: the tests say they skipped when the data (or
//! tshark, for LLDP and CDP) is missing.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{Analysis, Check};

fn quoted(s: &str) -> Option<&str> {
    let start = s.find('"')? + 1;
    let end = s.rfind('"')?;
    (end > start).then(|| &s[start..end])
}

#[test]
fn dhcp_agrees_with_tcpdump() {
    let pcaps = data_or_skip!();
    let dir = pcaps.join("tcpdump_tests");
    let mut check = Check::default();
    for out in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
        let name = out.file_name().unwrap().to_string_lossy().into_owned();
        let Some(capture) = name.strip_suffix(".tcpdump.out") else { continue };
        if !(capture.starts_with("dhcp") || capture.starts_with("bootp")) || !dir.join(capture).exists() {
            continue;
        }
        let capture = dir.join(capture);
        let a = Analysis::of(&capture);
        let text = std::fs::read_to_string(&out).unwrap();
        // DHCPv4: options of client requests, on the client's MAC.
        let mut client: Option<String> = None;
        let mut codes: Option<Vec<String>> = None;
        let finish = |codes: &mut Option<Vec<String>>, client: &Option<String>, check: &mut Check| {
            if let Some(c) = codes.take().filter(|c| !c.is_empty()) {
                check.expect(&a, &capture, client.as_deref(), "dhcp_fingerprint", &c.join(","));
            }
        };
        for line in text.lines() {
            let t = line.trim();
            if let Some(i) = line.find("Request from ") {
                finish(&mut codes, &client, &mut check);
                client = line[i + 13..].split(',').next().map(str::to_owned);
                continue;
            }
            if line.contains("BOOTP/DHCP, Reply") {
                finish(&mut codes, &client, &mut check);
                client = None;
                continue;
            }
            if let Some(list) = codes.as_mut().filter(|_| line.starts_with("\t      ")) {
                list.extend(
                    t.split("), ")
                        .filter_map(|p| p.rsplit('(').next())
                        .map(|c| c.trim_end_matches(')').to_owned()),
                );
                continue;
            }
            finish(&mut codes, &client, &mut check);
            if client.is_none() {
                continue;
            }
            let id = client.as_deref();
            if t.starts_with("Hostname (12)") {
                check.expect(&a, &capture, id, "hostname", quoted(t).unwrap());
            } else if t.starts_with("Vendor-Class (60)") {
                check.expect(&a, &capture, id, "vendor_class", quoted(t).unwrap());
            } else if t.starts_with("MUD-URL (161)") {
                check.expect(&a, &capture, id, "mud_url", quoted(t).unwrap());
            } else if t.starts_with("Parameter-Request (55)") {
                codes = Some(Vec::new());
            }
        }
        finish(&mut codes, &client, &mut check);
        // DHCPv6: the vendor class and MUD URL of clients.
        for line in text.lines().filter(|l| l.contains("dhcp6")) {
            // Ward writes the enterprise number before the data: "40712:dhcpcd-6.11.5:...".
            if let Some(i) = line.find("(vendor-class enterprise ") {
                let rest = &line[i + 25..];
                let enterprise = rest.split(' ').next().unwrap();
                if let Some(d) = rest.find(" data ") {
                    let value = rest[d + 6..].split("))").next().unwrap();
                    check.expect(&a, &capture, None, "vendor_class", &format!("{enterprise}:{value}"));
                }
            }
            if let Some(i) = line.find("(MUD-URL ") {
                check.expect(&a, &capture, None, "mud_url", line[i + 9..].split(')').next().unwrap());
            }
        }
    }
    check.done("DHCP against tcpdump", 20);
}

/// tshark's fields of every LLDP and CDP frame: (source MAC, field, value).
fn tshark_fields(capture: &Path, fields: &[&str]) -> Option<Vec<(String, String, String)>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-r"]).arg(capture).args([
        "-Y",
        "lldp or cdp",
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=f",
    ]);
    cmd.args(["-e", "eth.src"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().ok().filter(|o| o.status.success())?;
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        for (f, v) in fields.iter().zip(&cols[1..]) {
            if !v.is_empty() {
                rows.push((cols[0].to_owned(), (*f).to_owned(), v.to_string()));
            }
        }
    }
    Some(rows)
}

#[test]
fn lldp_and_cdp_agree_with_wireshark() {
    let pcaps = data_or_skip!();
    if Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("skipped: tshark is not installed (scripts/test installs it when run as root)");
        return;
    }
    // Wireshark's field, Ward's attribute.
    let map = [
        ("lldp.tlv.system.name", "hostname"),
        ("lldp.tlv.system.desc", "sys_descr"),
        ("lldp.port.desc", "lldp_port_description"),
        ("lldp.media.hardware", "hardware_revision"),
        ("lldp.media.firmware", "firmware"),
        ("lldp.media.software", "software_version"),
        ("lldp.media.sn", "serial_number"),
        ("lldp.media.manufacturer", "manufacturer"),
        ("lldp.media.model", "model"),
        ("lldp.iana.mudurl", "mud_url"),
        ("lldp.ieee.802_1.vlan.name", "vlan_name"),
        ("cdp.deviceid", "hostname"),
        ("cdp.platform", "model"),
        ("cdp.portid", "cdp_port_id"),
    ];
    let fields: Vec<&str> = map.iter().map(|m| m.0).collect();
    let mut check = Check::default();
    let dir = pcaps.join("tcpdump_tests");
    for name in [
        "LLDP_and_CDP.pcap",
        "lldp_mudurl.pcap",
        "3560_CDP.pcap",
        "lldp-app-priority.pcap",
        "lldp_8021_linkagg.pcap",
    ] {
        let capture = dir.join(name);
        let Some(rows) = tshark_fields(&capture, &fields) else { continue };
        let a = Analysis::of(&capture);
        // A frame from the all-zero MAC names no device.
        for (mac, field, value) in rows.into_iter().filter(|r| r.0 != "00:00:00:00:00:00") {
            let key = map.iter().find(|m| m.0 == field).unwrap().1;
            // Ward keeps the first line of multi-line descriptions as Wireshark shows it,
            // control characters removed.
            let value: String =
                value.replace("\\n", " ").replace("\\r", "").chars().filter(|c| !c.is_control()).collect();
            let found = a.devices.iter().filter(|d| d.ids.contains(&mac)).any(|d| {
                d.attrs.iter().any(|(k, v, _)| {
                    k == key && (v == &value || v.split_whitespace().eq(value.split_whitespace()))
                })
            });
            check.checked += 1;
            if !found {
                check.failures.push(format!("{name}: {key} = {value:?} on {mac}"));
            }
        }
    }
    check.done("LLDP and CDP against tshark", 20);
}

#[test]
fn dhcp_and_snmp_agree_with_suricata() {
    let pcaps = data_or_skip!();
    let dir = pcaps.join("suricata_verify");
    let mut check = Check::default();
    for test in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
        let name = test.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("dhcp") || name.starts_with("output-eve-dhcp")) {
            continue;
        }
        let Some(capture) = std::fs::read_dir(&test)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        else {
            continue;
        };
        let a = Analysis::of(&capture);
        let yaml = std::fs::read_to_string(test.join("test.yaml")).unwrap();
        let mut mac: Option<String> = None;
        for line in yaml.lines().map(str::trim) {
            if line.starts_with("- filter:") {
                mac = None;
            }
            let Some((k, v)) = line.split_once(": ") else { continue };
            let v = v.trim_matches('"').replace("\\u0000", "");
            match k {
                "dhcp.client_mac" => mac = Some(v),
                "dhcp.hostname" => check.expect(&a, &capture, mac.as_deref(), "hostname", &v),
                "dhcp.vendor_class_identifier" => {
                    check.expect(&a, &capture, mac.as_deref(), "vendor_class", &v)
                }
                _ => {}
            }
        }
    }
    check.done("DHCP against Suricata", 3);

    // SNMP: every version Suricata logs is seen, every community is judged, none is shown.
    let v2 = Analysis::of(&dir.join("snmp-v2c-get/SNMPv2c_get_requests.pcap"));
    assert!(v2.devices.iter().any(|d| d.attrs.iter().any(|(k, v, _)| k == "snmp_version" && v == "2c")));
    let creds: Vec<&Value> = v2.devices.iter().flat_map(|d| &d.credentials).collect();
    assert!(
        !creds.is_empty() && creds.iter().all(|c| c["protocol"] == "snmp" && c["weakness"] == "cleartext"),
        "{creds:?}"
    );
    assert!(!v2.text.contains("R0_C@cti"), "the community string reached the output");
    let v3 = Analysis::of(&dir.join("snmp-v3-unauth/snmp-v3-get-bulk-unauth.pcap"));
    assert!(v3.devices.iter().flat_map(|d| &d.credentials).any(|c| c["protocol"] == "snmpv3"));
    assert!(
        v3.devices.iter().any(|d| d.attrs.iter().any(|(k, v, _)| k == "snmp_enterprise" && v == "8072")),
        "net-snmp's engine"
    );
}

#[test]
fn phones_and_iot_agree_with_ndpi() {
    let pcaps = data_or_skip!();
    let dir = pcaps.join("ndpi");
    let mut check = Check::default();
    let fields = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("[{name}: "))? + name.len() + 3;
        Some(line[start..].split(']').next()?.to_owned())
    };
    for out in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
        let name = out.file_name().unwrap().to_string_lossy().into_owned();
        let Some(capture) = name.strip_suffix(".ndpi.out") else { continue };
        let capture = dir.join(capture);
        let text = std::fs::read_to_string(&out).unwrap();
        let flows: Vec<&str> = text.lines().filter(|l| l.contains("[proto: ")).collect();
        if flows.is_empty() {
            continue;
        }
        let a = Analysis::of(&capture);
        for line in flows {
            let mut words = line.split_whitespace();
            let transport = words.nth(1).unwrap_or_default();
            let client =
                words.next().and_then(|ep| ep.rsplit_once(':')).map(|(ip, _)| ip.trim_matches(['[', ']']));
            let proto = fields(line, "proto").unwrap_or_default();
            if let Some(fp) = fields(line, "DHCP Fingerprint") {
                check.expect(&a, &capture, None, "dhcp_fingerprint", &fp);
            }
            if let Some(class) = fields(line, "DHCP Class Ident") {
                check.expect(&a, &capture, None, "vendor_class", &class);
            }
            // User agents of HTTP and SSDP (nDPI also shows ones of vendor protocols and of
            // QUIC, which Ward does not read). nDPI's line cuts a value at its first ']'.
            if let Some(ua) =
                fields(line, "User-Agent").filter(|_| proto.contains("HTTP") || proto.contains("SSDP"))
            {
                check.expect_by(&a, &capture, client, "user_agent", &ua, |v| v.starts_with(&ua));
            }
            if let Some(host) = fields(line, "Hostname/SNI") {
                if proto.contains("/TLS") && transport == "TCP" {
                    check.expect(&a, &capture, client, "tls_sni", &host);
                } else if proto.contains("/DHCP") {
                    // nDPI lower-cases DHCP host names.
                    check.expect_by(&a, &capture, None, "hostname", &host, |v| v.eq_ignore_ascii_case(&host));
                }
            }
            if let Some(ja3) = fields(line, "JA3C").filter(|_| transport == "TCP") {
                check.expect(&a, &capture, client, "ja3", &ja3);
            }
        }
    }
    check.done("phone and IoT identities against nDPI", 40);
}

#[test]
fn ja4_equals_foxio_for_every_client_hello() {
    let pcaps = data_or_skip!();
    let dir = pcaps.join("foxio_ja4");
    let mut total = 0;
    let mut failures = Vec::new();
    for json in std::fs::read_dir(dir.join("expected_json")).unwrap().flatten().map(|e| e.path()) {
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        // (client, JA4) for every ClientHello of every stream: JA4.1, JA4.2 for a retry, ...
        let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
        for stream in expected.as_array().unwrap() {
            for (k, v) in stream.as_object().unwrap() {
                if k.starts_with("JA4.") {
                    *want
                        .entry((stream["src"].as_str().unwrap().to_owned(), v.as_str().unwrap().to_owned()))
                        .or_default() += 1;
                }
            }
        }
        if want.is_empty() {
            continue;
        }
        let capture = dir.join("pcap").join(json.file_stem().unwrap());
        let clients: BTreeSet<String> = want.keys().map(|k| k.0.clone()).collect();
        let got = Analysis::of(&capture).counted("ja4", &clients);
        total += want.values().sum::<u64>();
        if got != want {
            failures.push(format!("{}: expected {want:?}, got {got:?}", capture.display()));
        }
    }
    eprintln!("JA4: {total} ClientHellos checked against FoxIO, {} files disagree", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total >= 160, "only {total} ClientHellos");
}

#[test]
fn ntp_agrees_with_tcpdump() {
    let pcaps = data_or_skip!();
    let dir = pcaps.join("tcpdump_tests");
    let mut check = Check::default();
    for name in ["ntp.pcap", "ntp-time.pcap", "ntp-time-ef.pcap", "ntp-control.pcap", "ntp-mode7.pcap"] {
        let capture = dir.join(name);
        let Ok(text) = std::fs::read_to_string(dir.join(format!("{name}.tcpdump.out"))) else { continue };
        let a = Analysis::of(&capture);
        // "IP 192.168.100.2.58054 > 192.168.100.1.123: NTPv4, Client, length 72"
        for line in text.lines() {
            let Some(i) = line.find(": NTPv") else { continue };
            let Some(src) = line[..i]
                .split(" IP ")
                .nth(1)
                .and_then(|s| s.split(" > ").next())
                .and_then(|s| s.rsplit_once('.'))
                .map(|s| s.0)
            else {
                continue;
            };
            let mut parts = line[i + 6..].split(", ");
            let version = parts.next().unwrap();
            let mode = match parts.next().unwrap_or_default() {
                "Client" => "client",
                "Server" => "server",
                "Broadcast" => "broadcast",
                "Control" => "control",
                "Reserved" => "private",
                "Symmetric Active" => "symmetric active",
                "Symmetric Passive" => "symmetric passive",
                _ => continue,
            };
            check.expect(&a, &capture, Some(src), "ntp_version", version);
            check.expect(&a, &capture, Some(src), "ntp_mode", mode);
        }
    }
    check.done("NTP against tcpdump", 20);
}
