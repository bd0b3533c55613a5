//! What Ward's MQTT, Modbus/TCP and BACnet/IP dissectors read from real captures agrees with
//! what other tools decode from them: Suricata's expected EVE fields for its ~45 MQTT tests
//! (malformed ones included), nDPI's flow lists (its MQTT, Modbus and BACnet flows must be
//! Ward's too), and Wireshark (tshark) for Modbus unit ids, function codes and exceptions and
//! for BACnet I-Am device instances and vendors.
//!
//! Each check runs `ward analyze --json` on a capture. The captures live outside the
//! repository: the tests say they skipped when the data (or tshark) is missing.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::{Analysis, Check, ndpi_flows};

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The capture a Suricata-verify test reads: the one in its folder, or the one its
/// `test.yaml` names with `pcap:`.
fn suricata_capture(test: &Path, yaml: &str) -> Option<PathBuf> {
    if let Some(p) = yaml.lines().find_map(|l| l.strip_prefix("pcap:")) {
        return Some(test.join(p.trim()));
    }
    ward_fuzz::outside::capture_files(test).into_iter().next()
}

/// The `key: value` expectations of a `test.yaml`'s filters that expect at least one event
/// (a `count: 0` filter says what must not be logged).
fn expectations(yaml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut count_zero = false;
    for line in yaml.lines() {
        let t = line.trim().trim_start_matches("- ");
        if t.starts_with("filter:") {
            count_zero = false;
        } else if let Some(c) = t.strip_prefix("count:") {
            count_zero = c.trim() == "0";
        } else if let Some((k, v)) = t.split_once(": ")
            && !count_zero
            && (k.starts_with("mqtt.") || k.starts_with("anomaly.") || k == "event_type")
        {
            out.push((k.to_owned(), v.trim().trim_matches('"').to_owned()));
        }
    }
    out
}

/// The values a `test.yaml` expects for `key`.
fn get<'a>(exp: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    exp.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn version_name(v: &str) -> &str {
    match v {
        "3" => "3.1",
        "4" => "3.1.1",
        _ => v,
    }
}

/// Suricata's expected MQTT fields against Ward's attributes, for every test whose capture
/// is present. Mapped: `connect.client_id` (`mqtt_client_id`), `connect.protocol_version`
/// (`mqtt_version`), `connect.flags.username`/`password` (an MQTT credential), `connect.username`
/// (the credential's account kind: Ward keeps no user name), `connack.return_code` (whether
/// the credential was accepted), `publish.topic`, `subscribe.topics` and `unsubscribe.topics`
/// (`mqtt_topic`), and MQTT anomaly events (below).
///
/// Not mapped, on purpose: `publish.message` and the will message (payloads are never read:
/// they may carry vital signs), `connect.password` (judged, never kept), and fields Ward does
/// not report: QoS, retain and dup flags, message ids, MQTT 5 properties and reason codes
/// other than CONNACK's, SUBACK's granted QoS, Suricata's own size limits
/// (`publish.truncated`, `skipped_length`), and rule, alert and frame checks.
///
/// Anomalies: framing violations (`invalid_qos_level`, `unassigned_msg_type`,
/// `malformed_traffic`) must be counted as malformed MQTT flows. State violations
/// (`missing_connect`, `unintroduced_message`) are decoded like any connection whose start
/// was not captured, except a flow of bare PINGREQ/PINGRESP (`mqtt-ping`): two bytes each
/// way are too little to call a flow MQTT, so it stays unrecognised.
#[test]
fn mqtt_agrees_with_suricata() {
    let pcaps = data_or_skip!();
    let dir = pcaps.join("suricata_verify");
    let mut check = Check::default();
    let mut tests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| name(p).starts_with("mqtt"))
        .collect();
    tests.sort();
    let mut read = 0;
    for test in &tests {
        let Ok(yaml) = std::fs::read_to_string(test.join("test.yaml")) else { continue };
        let Some(capture) = suricata_capture(test, &yaml).filter(|c| c.is_file()) else { continue };
        read += 1;
        let a = Analysis::of(&capture);
        assert!(a.read_whole, "{}: not read to its end", capture.display());
        let t = name(test);
        let exp = expectations(&yaml);
        for id in get(&exp, "mqtt.connect.client_id").filter(|v| !v.is_empty()) {
            check.that(a.has(None, "mqtt_client_id", id), || format!("{t}: mqtt_client_id {id:?}"));
        }
        for v in get(&exp, "mqtt.connect.protocol_version") {
            let want = version_name(v);
            check.that(a.has(None, "mqtt_version", want), || format!("{t}: mqtt_version {want:?}"));
        }
        let creds = a.credentials("mqtt");
        let login = get(&exp, "mqtt.connect.flags.username")
            .chain(get(&exp, "mqtt.connect.flags.password"))
            .any(|v| v == "true");
        if login {
            check.that(!creds.is_empty(), || format!("{t}: an MQTT credential"));
        }
        for user in get(&exp, "mqtt.connect.username") {
            let kind = serde_json::to_value(ward_core::AccountKind::of(user)).unwrap();
            check.that(creds.iter().any(|c| c["account"] == kind), || {
                format!("{t}: credential account {kind}")
            });
        }
        if login {
            for rc in get(&exp, "mqtt.connack.return_code") {
                let accepted = Value::Bool(rc == "0");
                check.that(creds.iter().any(|c| c["accepted"] == accepted), || {
                    format!("{t}: credential accepted = {accepted} (CONNACK {rc})")
                });
            }
        }
        let mut topics: Vec<String> = get(&exp, "mqtt.publish.topic").map(str::to_owned).collect();
        for list in get(&exp, "mqtt.subscribe.topics") {
            // [ {topic: topicX, qos: 0}, {topic: topicY, qos: 0}]
            topics.extend(
                list.split("topic:")
                    .skip(1)
                    .filter_map(|s| s.split([',', '}']).next())
                    .map(|s| s.trim().to_owned()),
            );
        }
        for list in get(&exp, "mqtt.unsubscribe.topics") {
            topics.extend(list.trim_matches(['[', ']']).split(',').map(|s| s.trim().to_owned()));
        }
        // Suricata cuts long values in its own logs ("[truncated N additional bytes]").
        for topic in topics.iter().filter(|t| !t.is_empty() && !t.contains("[truncated")) {
            check.that(a.has(None, "mqtt_topic", topic), || format!("{t}: mqtt_topic {topic:?}"));
        }
        for event in get(&exp, "anomaly.event") {
            match event {
                "invalid_qos_level" | "unassigned_msg_type" | "malformed_traffic" => {
                    check.that(a.malformed("mqtt") >= 1, || format!("{t}: {event} counted as malformed"));
                }
                _ if t == "mqtt-ping" => {
                    check.that(a.flows("mqtt") == 0, || format!("{t}: bare pings are not MQTT"))
                }
                _ => check.that(a.flows("mqtt") >= 1, || format!("{t}: {event} flow decoded")),
            }
        }
    }
    eprintln!("{} MQTT tests, {read} with a capture", tests.len());
    assert!(read >= 35, "only {read} Suricata MQTT captures read");
    check.done("MQTT against Suricata", 150);
}

/// Every MQTT, Modbus and BACnet flow nDPI finds in its captures is Ward's too: the summary
/// gives the protocol at least as many flows, and for MQTT and Modbus one of the two
/// endpoints carries what Ward read (BACnet's nDPI flows include lone ReadProperty requests
/// from Internet scanners, which say nothing about a device).
#[test]
fn iot_flows_agree_with_ndpi() {
    let pcaps = data_or_skip!();
    let dir = pcaps.join("ndpi");
    let mut check = Check::default();
    let cases = [
        ("mqtt.pcap", "MQTT", "mqtt"),
        ("coap_mqtt.pcap", "MQTT", "mqtt"),
        ("modbus.pcap", "Modbus", "modbus"),
        ("bacnet.pcap", "BACnet", "bacnet"),
    ];
    for (file, ndpi_name, ours) in cases {
        let capture = dir.join(file);
        let out = dir.join(format!("{file}.ndpi.out"));
        if !capture.is_file() || !out.is_file() {
            eprintln!("skipped: {file} not present");
            continue;
        }
        let flows = ndpi_flows(&out, ndpi_name);
        assert!(!flows.is_empty(), "{file}: nDPI lists no {ndpi_name} flow");
        let a = Analysis::of(&capture);
        assert!(a.read_whole, "{}: not read to its end", capture.display());
        check.that(a.flows(ours) >= flows.len() as u64, || {
            format!("{file}: {} {ours} flows, nDPI has {}", a.flows(ours), flows.len())
        });
        check.that(a.malformed(ours) == 0, || format!("{file}: malformed {ours} flows"));
        if ours == "bacnet" {
            continue;
        }
        for (x, y) in flows {
            let described = [&x, &y].iter().any(|ip| {
                a.has_by(Some(ip), "role", |v| v.to_ascii_lowercase().starts_with(ours))
                    || a.has_by(Some(ip), &format!("{ours}_topic"), |_| true)
            });
            check.that(described, || format!("{file}: nothing of {ours} on {x} or {y}"));
        }
    }
    check.done("IoT flows against nDPI", 8);
}

fn tshark() -> Option<&'static str> {
    let ok = Command::new("/usr/bin/tshark").arg("-v").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: tshark not installed");
    }
    ok.then_some("/usr/bin/tshark")
}

/// Tab-separated tshark fields of every packet `filter` keeps.
fn tshark_fields(capture: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("/usr/bin/tshark");
    cmd.arg("-r").arg(capture).args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect()
}

/// Modbus queries as Wireshark decodes them (its info column says "Query" or "Response"):
/// the server (the query's destination) carries
/// the unit id and the function code; every exception a server answered with is visible.
/// Frames Ward refuses by design are left out of tshark's list; Suricata's capture was edited
/// to hold them: a protocol id other than 0, a length over 254, and a flow that the server
/// opens to send nothing but exceptions one byte longer than the specification's two (MBAP
/// length 4), which Ward's probe does not take for Modbus.
#[test]
fn modbus_agrees_with_tshark() {
    let pcaps = data_or_skip!();
    if tshark().is_none() {
        return;
    }
    let mut check = Check::default();
    for capture in [pcaps.join("suricata_verify/modbus/modbus.pcap"), pcaps.join("ndpi/modbus.pcap")] {
        if !capture.is_file() {
            continue;
        }
        let a = Analysis::of(&capture);
        assert!(a.read_whole, "{}: not read to its end", capture.display());
        let file = name(&capture);
        let rows = tshark_fields(
            &capture,
            "mbtcp.prot_id == 0 && mbtcp.len <= 254 && !(modbus.exception_code && mbtcp.len != 3)",
            &[
                "ip.src",
                "ip.dst",
                "mbtcp.unit_id",
                "modbus.func_code",
                "modbus.exception_code",
                "_ws.col.Info",
            ],
        );
        // One row per distinct fact: the transaction ids in the info column are dropped.
        let rows: BTreeSet<Vec<String>> = rows
            .into_iter()
            .map(|mut r| {
                if let Some(info) = r.get_mut(5) {
                    *info = info.trim_start().split(':').next().unwrap_or_default().to_owned();
                }
                r
            })
            .collect();
        for r in &rows {
            let [src, dst, unit, function, exception, info] = r.as_slice() else { continue };
            if info.trim_start().starts_with("Query") {
                // A query: its destination is the server.
                check.that(a.has(Some(dst), "modbus_unit", unit), || format!("{file}: unit {unit} on {dst}"));
                let prefix = format!("{function} ");
                check.that(
                    a.has_by(Some(dst), "modbus_function", |v| v.starts_with(&prefix) || v == function),
                    || format!("{file}: function {function} on {dst}"),
                );
                check.that(a.has(Some(dst), "role", "Modbus server"), || {
                    format!("{file}: Modbus server {dst}")
                });
            } else if !exception.is_empty() {
                let want = format!(": {exception} ");
                check.that(a.has_by(Some(src), "modbus_exception", |v| v.contains(&want)), || {
                    format!("{file}: exception {exception} from {src}")
                });
            }
        }
    }
    check.done("Modbus against tshark", 20);
}

/// BACnet I-Am announcements as Wireshark decodes them: the sender carries the device
/// instance and the vendor, named as tshark names it (Ward's table shortens some names and
/// lists the common vendors only: an id it lacks reads "vendor N"). Every BACnet capture
/// (nDPI's, and automayt's ReadPropertyMultiple answers of schedule objects, whose point
/// names are not device identity) is read without a malformed flow.
#[test]
fn bacnet_agrees_with_tshark() {
    let pcaps = data_or_skip!();
    if tshark().is_none() {
        return;
    }
    let mut check = Check::default();
    let mut captures = vec![pcaps.join("ndpi/bacnet.pcap")];
    captures.extend(
        ward_fuzz::outside::capture_files(&pcaps.join("ics_pcap_automayt"))
            .into_iter()
            .filter(|p| name(p).to_ascii_lowercase().starts_with("bacnet")),
    );
    for capture in captures.iter().filter(|c| c.is_file()) {
        let a = Analysis::of(capture);
        let file = name(capture);
        check.that(a.flows("bacnet") >= 1 && a.malformed("bacnet") == 0, || {
            format!("{file}: BACnet read cleanly")
        });
        // Vendor names as tshark shows them: "Vendor ID: NAME (N)".
        let text = Command::new("/usr/bin/tshark").arg("-r").arg(capture).arg("-V").output().unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        let names: BTreeSet<(String, String)> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Vendor ID: "))
            .filter_map(|l| {
                l.rsplit_once(" (").map(|(n, id)| (id.trim_end_matches(')').to_owned(), n.to_owned()))
            })
            .collect();
        let rows = tshark_fields(
            capture,
            "bacapp.unconfirmed_service == 0",
            &["ip.src", "bacapp.instance_number", "bacapp.vendor_identifier"],
        );
        for r in rows.into_iter().collect::<BTreeSet<_>>() {
            let [src, instance, vendor] = r.as_slice() else { continue };
            check.that(a.has(Some(src), "bacnet_device_instance", instance), || {
                format!("{file}: instance {instance} on {src}")
            });
            let tshark_name =
                names.iter().find(|(id, _)| id == vendor).map(|(_, n)| n.as_str()).unwrap_or("");
            check.that(
                a.has_by(Some(src), "bacnet_vendor", |v| {
                    v == format!("vendor {vendor}") || (!tshark_name.is_empty() && tshark_name.contains(v))
                }),
                || format!("{file}: vendor {vendor} ({tshark_name}) on {src}"),
            );
        }
    }
    check.done("BACnet against tshark", 6);
}
