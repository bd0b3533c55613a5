//! What changed between two assessments: findings that appeared, that went away (a firmware
//! update, an advisory's correction, a VEX statement), that changed standing, and devices
//! whose firmware changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::matching::VulnFinding;

/// One finding as an assessment records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The device.
    pub device: i64,
    /// The CVE.
    pub cve: String,
    /// `affected` or `unknown_version`.
    pub standing: String,
    /// The device's firmware then.
    pub firmware: Option<String>,
}

impl Recorded {
    /// What an assessment records of a finding.
    pub fn of(f: &VulnFinding) -> Recorded {
        Recorded {
            device: f.device,
            cve: f.cve.clone(),
            standing: f.standing.as_str().to_owned(),
            firmware: f.firmware.clone(),
        }
    }
}

/// One change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A finding that the previous assessment did not have.
    New {
        /// The device.
        device: i64,
        /// The CVE.
        cve: String,
        /// Its standing.
        standing: String,
    },
    /// A finding that no longer holds.
    Resolved {
        /// The device.
        device: i64,
        /// The CVE.
        cve: String,
    },
    /// Affected became unknown, or the reverse.
    Standing {
        /// The device.
        device: i64,
        /// The CVE.
        cve: String,
        /// Before.
        from: String,
        /// Now.
        to: String,
    },
    /// The device's firmware is not what it was.
    Firmware {
        /// The device.
        device: i64,
        /// Before.
        from: Option<String>,
        /// Now.
        to: Option<String>,
    },
}

/// The changes from `before` to `now`, by device then CVE.
pub fn changes(before: &[Recorded], now: &[Recorded]) -> Vec<Change> {
    let index = |list: &[Recorded]| -> BTreeMap<(i64, String), Recorded> {
        list.iter().map(|r| ((r.device, r.cve.clone()), r.clone())).collect()
    };
    let (b, n) = (index(before), index(now));
    let mut out = Vec::new();
    let mut firmware: BTreeMap<i64, (Option<String>, Option<String>)> = BTreeMap::new();
    for (key, r) in &n {
        match b.get(key) {
            None => {
                out.push(Change::New { device: r.device, cve: r.cve.clone(), standing: r.standing.clone() })
            }
            Some(old) => {
                if old.standing != r.standing {
                    out.push(Change::Standing {
                        device: r.device,
                        cve: r.cve.clone(),
                        from: old.standing.clone(),
                        to: r.standing.clone(),
                    });
                }
                if old.firmware != r.firmware {
                    firmware.insert(r.device, (old.firmware.clone(), r.firmware.clone()));
                }
            }
        }
    }
    for (key, r) in &b {
        if !n.contains_key(key) {
            out.push(Change::Resolved { device: r.device, cve: r.cve.clone() });
        }
    }
    // A device whose findings all went away with a firmware update still shows the update.
    let now_fw: BTreeMap<i64, &Option<String>> = n.values().map(|r| (r.device, &r.firmware)).collect();
    for r in b.values() {
        if let Some(fw) = now_fw.get(&r.device)
            && **fw != r.firmware
        {
            firmware.entry(r.device).or_insert_with(|| (r.firmware.clone(), (*fw).clone()));
        }
    }
    out.extend(firmware.into_iter().map(|(device, (from, to))| Change::Firmware { device, from, to }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(device: i64, cve: &str, standing: &str, fw: &str) -> Recorded {
        Recorded { device, cve: cve.into(), standing: standing.into(), firmware: Some(fw.into()) }
    }

    #[test]
    fn new_resolved_and_changed() {
        let before = vec![r(1, "CVE-1", "affected", "1.0"), r(2, "CVE-2", "unknown_version", "2.0")];
        let now = vec![r(1, "CVE-3", "affected", "1.1"), r(2, "CVE-2", "affected", "2.0")];
        let c = changes(&before, &now);
        assert!(c.contains(&Change::New { device: 1, cve: "CVE-3".into(), standing: "affected".into() }));
        assert!(c.contains(&Change::Resolved { device: 1, cve: "CVE-1".into() }));
        assert!(c.contains(&Change::Standing {
            device: 2,
            cve: "CVE-2".into(),
            from: "unknown_version".into(),
            to: "affected".into()
        }));
        assert!(c.contains(&Change::Firmware {
            device: 1,
            from: Some("1.0".into()),
            to: Some("1.1".into())
        }));
        assert_eq!(c.len(), 4);
        assert!(changes(&now, &now).is_empty());
    }
}
