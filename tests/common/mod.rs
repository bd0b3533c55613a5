//! What the integration tests share: the outside captures (or a "skipped" line when they are
//! absent), Ward's JSON summary of a capture read into devices, a checker that gathers every
//! disagreement of a run before failing, and lookups in a summary for the network tests.
#![allow(dead_code, unused_macros, clippy::unwrap_used, clippy::print_stderr)] // each test uses part of it

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The outside captures (`../shared/data/pcaps`), or, when they are absent, returns from the
/// test after saying it skipped.
macro_rules! data_or_skip {
    () => {
        match ward_fuzz::outside::shared_data() {
            Some(d) => d.join("pcaps"),
            None => {
                eprintln!("skipped: ../shared/data not present (set WARD_SHARED_DATA)");
                return;
            }
        }
    };
}

/// One device of Ward's summary: the MACs and IPs that name it, its attributes with how many
/// times each was seen, and its credentials.
pub(crate) struct Device {
    pub(crate) ids: BTreeSet<String>,
    pub(crate) attrs: Vec<(String, String, u64)>,
    pub(crate) credentials: Vec<Value>,
}

/// Ward's summary of one capture (`ward analyze --json`).
pub(crate) struct Analysis {
    pub(crate) devices: Vec<Device>,
    pub(crate) json: Value,
    /// The JSON as printed, to search for what must never be printed.
    pub(crate) text: String,
    /// Whether Ward read the file to its end (exit status 0).
    pub(crate) read_whole: bool,
}

impl Analysis {
    pub(crate) fn of(path: &Path) -> Analysis {
        let out = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(["analyze", "--json", "--no-store"])
            .arg(path)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", path.display(), String::from_utf8_lossy(&out.stderr)));
        let devices = json["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| Device {
                ids: ["macs", "ips"]
                    .iter()
                    .flat_map(|k| d[*k].as_array().into_iter().flatten())
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect(),
                attrs: d["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        (
                            a["key"].as_str().unwrap().to_owned(),
                            a["value"].as_str().unwrap().to_owned(),
                            a["count"].as_u64().unwrap(),
                        )
                    })
                    .collect(),
                credentials: d["credentials"].as_array().cloned().unwrap_or_default(),
            })
            .collect();
        Analysis { devices, json, text, read_whole: out.status.success() }
    }

    /// Whether the device named `id` (any device for `None`) has `key` with a value `ok` takes.
    pub(crate) fn has_by(&self, id: Option<&str>, key: &str, ok: impl Fn(&str) -> bool) -> bool {
        self.devices
            .iter()
            .filter(|d| id.is_none_or(|id| d.ids.contains(id)))
            .any(|d| d.attrs.iter().any(|(k, v, _)| k == key && ok(v)))
    }

    /// Whether the device named `id` (any device for `None`) has `key` = `value`.
    pub(crate) fn has(&self, id: Option<&str>, key: &str, value: &str) -> bool {
        self.has_by(id, key, |v| v == value)
    }

    /// The credential findings of `protocol`, on any device.
    pub(crate) fn credentials(&self, protocol: &str) -> Vec<&Value> {
        self.devices.iter().flat_map(|d| &d.credentials).filter(|c| c["protocol"] == protocol).collect()
    }

    /// Flows the summary gives to `protocol`.
    pub(crate) fn flows(&self, protocol: &str) -> u64 {
        self.json["applications"][protocol].as_u64().unwrap_or(0)
    }

    /// Flows of `protocol` given up as malformed.
    pub(crate) fn malformed(&self, protocol: &str) -> u64 {
        self.json["counters"]["dissect"]["malformed"][protocol].as_u64().unwrap_or(0)
    }

    /// (device id, value) of every attribute `key`, counted, the device named by the first
    /// of its ids that `ids` holds.
    pub(crate) fn counted(&self, key: &str, ids: &BTreeSet<String>) -> BTreeMap<(String, String), u64> {
        let mut out = BTreeMap::new();
        for d in &self.devices {
            let Some(id) = d.ids.iter().find(|i| ids.contains(*i)) else { continue };
            for (k, v, n) in &d.attrs {
                if k == key {
                    *out.entry((id.clone(), v.clone())).or_default() += n;
                }
            }
        }
        out
    }
}

/// Collects failures so that one run reports all of them.
#[derive(Default)]
pub(crate) struct Check {
    pub(crate) checked: usize,
    pub(crate) failures: Vec<String>,
}

impl Check {
    /// One expectation: `ok`, or `what` went wrong.
    pub(crate) fn that(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.failures.push(what());
        }
    }

    /// The device `id` of `file`'s summary (any device for `None`) has `key` = `value`.
    pub(crate) fn expect(&mut self, a: &Analysis, file: &Path, id: Option<&str>, key: &str, value: &str) {
        self.expect_by(a, file, id, key, value, |v| v == value);
    }

    /// Like [`Check::expect`], with a test on the value instead of equality.
    pub(crate) fn expect_by(
        &mut self,
        a: &Analysis,
        file: &Path,
        id: Option<&str>,
        key: &str,
        shown: &str,
        ok: impl Fn(&str) -> bool,
    ) {
        self.that(a.has_by(id, key, ok), || {
            let name = file.file_name().unwrap().to_string_lossy();
            format!("{name}: {key} ~ {shown:?} on {}", id.unwrap_or("any device"))
        });
    }

    /// Fails with every disagreement, or when fewer than `at_least` values were checked.
    pub(crate) fn done(self, what: &str, at_least: usize) {
        eprintln!("{what}: {} values checked, {} disagree", self.checked, self.failures.len());
        assert!(self.failures.is_empty(), "{what} disagrees:\n{}", self.failures.join("\n"));
        assert!(self.checked >= at_least, "{what}: only {} values checked", self.checked);
    }
}

/// (initiator IP, responder IP) of the flows an `ndpiReader` output (`*.ndpi.out`) gives to
/// `proto` (the name nDPI prints, `HL7`, `MQTT`, ...).
pub(crate) fn ndpi_flows(out: &Path, proto: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(out).unwrap();
    text.lines()
        .filter(|l| l.contains(&format!("/{proto}]")) && l.contains("[proto: "))
        .filter_map(|l| {
            let mut w = l.split_whitespace().skip(2);
            let a = w.next()?;
            let b = w.nth(1)?;
            let ip = |ep: &str| ep.rsplit_once(':').map(|(ip, _)| ip.trim_matches(['[', ']']).to_owned());
            Some((ip(a)?, ip(b)?))
        })
        .collect()
}

/// Whether the tests run as root (network namespaces need it).
pub(crate) fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The device of a JSON summary whose MACs include `mac`.
pub(crate) fn device<'a>(summary: &'a Value, mac: &str) -> &'a Value {
    summary["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["macs"].as_array().unwrap().iter().any(|m| m == mac))
        .unwrap_or_else(|| panic!("no device with MAC {mac}"))
}

/// The values of a device's attribute `key`.
pub(crate) fn values<'a>(dev: &'a Value, key: &str) -> Vec<&'a str> {
    dev["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["key"] == key)
        .filter_map(|a| a["value"].as_str())
        .collect()
}

/// `key` = `value` among the device's attributes.
pub(crate) fn has(dev: &Value, key: &str, value: &str) -> bool {
    values(dev, key).contains(&value)
}

pub(crate) fn assert_has(dev: &Value, key: &str, value: &str) {
    assert!(has(dev, key, value), "{} lacks {key} = {value:?}; it has {:#}", dev["key"], dev["attributes"]);
}

/// Whether the device has this credential finding.
pub(crate) fn credential(
    dev: &Value,
    protocol: &str,
    account: &str,
    weakness: &str,
    accepted: Option<bool>,
) -> bool {
    dev["credentials"].as_array().into_iter().flatten().any(|c| {
        c["protocol"] == protocol
            && c["account"] == account
            && c["weakness"] == weakness
            && c.get("accepted").and_then(Value::as_bool) == accepted
    })
}

/// Asserts a device's class, and its vendor or that it has none, each with evidence naming
/// a protocol field that starts with `class_from` (`dhcp.`, `dicom.`, `lldp.`).
#[allow(dead_code)]
pub(crate) fn assert_identity(dev: &Value, class: &str, class_from: &str, vendor: Option<&str>) {
    let c = &dev["class"];
    assert_eq!(c["value"], class, "class of {}: {dev:#}", dev["key"]);
    let source = c["source"].as_str().unwrap_or_default();
    assert!(
        source.starts_with("rule:") && source.split(' ').skip(1).any(|f| f.starts_with(class_from)),
        "class of {} from {source:?}, not from a {class_from} field",
        dev["key"]
    );
    assert!(dev["criticality"]["value"].is_string(), "criticality of {}", dev["key"]);
    match vendor {
        Some(v) => {
            assert_eq!(dev["vendor"]["value"], v, "vendor of {}: {:#}", dev["key"], dev["vendor"]);
            let from = dev["vendor"]["source"].as_str().unwrap_or_default();
            assert!(from.split(' ').count() >= 2, "vendor of {} without its field: {from:?}", dev["key"]);
        }
        // Nothing on the wire names the maker: none is guessed.
        None => assert!(dev.get("vendor").is_none(), "vendor of {} guessed: {:#}", dev["key"], dev["vendor"]),
    }
}
