//! Writes the synthetic hospital policy and an inventory holding its devices, to time the
//! command line on a large policy (`scripts/bench-policy-compile` does):
//! `cargo run --release -p ward-policy --example synthetic_policy -- 10000 200 50000 policy.toml ward.db`.
#![allow(clippy::print_stderr)]

use std::path::PathBuf;

use ward_core::{Classification, Derived, Device, DeviceId, DeviceKey, DeviceRecord, Lifecycle, Timestamp};
use ward_store::{Blocking, ChangeSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [devices, segments, allow, policy, db] = args.as_slice() else {
        return Err(
            "usage: synthetic <devices> <segments> <allowlist entries> <policy.toml> <db path>".into()
        );
    };
    let (text, infos) = ward_policy::synthetic::policy(devices.parse()?, segments.parse()?, allow.parse()?);
    std::fs::write(policy, &text)?;
    let db = PathBuf::from(db);
    if db.exists() {
        return Err(
            format!("{} exists: the inventory must hold the policy's devices only", db.display()).into()
        );
    }
    let store = Blocking::open_sqlite(&db)?;
    let seen = Timestamp::from_secs(1_767_225_600);
    let derived = |v: &Option<String>, source: &str| {
        v.as_ref().map(|value| Derived { value: value.clone(), source: source.into(), confidence: 90 })
    };
    let records = infos
        .iter()
        .map(|d| DeviceRecord {
            device: Device {
                id: DeviceId(d.id),
                keys: d
                    .macs
                    .iter()
                    .map(|m| DeviceKey::Mac(*m))
                    .chain(d.ips.iter().map(|i| DeviceKey::Ip(*i)))
                    .collect(),
                macs: d.macs.clone(),
                ips: d.ips.clone(),
                vlans: d.vlans.clone(),
                randomized_mac: false,
                router: false,
                first_seen: seen,
                last_seen: seen,
                classification: Classification {
                    class: derived(&d.class, "synthetic"),
                    vendor: derived(&d.vendor, "synthetic"),
                    ..Classification::default()
                },
                description: None,
                state: Lifecycle::Active,
            },
            facts: Vec::new(),
            ip_ranges: Vec::new(),
            services: Vec::new(),
        })
        .collect();
    store.apply(&ChangeSet { devices: records, ..ChangeSet::default() })?;
    store.close();
    eprintln!("wrote {policy} ({} bytes) and {} ({} devices)", text.len(), db.display(), infos.len());
    Ok(())
}
