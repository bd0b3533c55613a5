//! The SQLite store against real database files in temporary directories: what goes in comes
//! back, writes are all-or-nothing (even under SIGKILL), and bad files are refused.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ward_core::{
    Alert, CommEdge, DeviceId, DeviceKey, EventKind, Fact, Finding, InventoryEvent, Lifecycle, Override,
    Severity, Timestamp,
};
use ward_store::{
    Blocking, ChangeSet, DeviceQuery, DeviceRecord, DeviceRef, EventQuery, SqliteStore, Store, StoreError,
    synthetic,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn temp() -> Result<(tempfile::TempDir, PathBuf), std::io::Error> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ward.db");
    Ok((dir, path))
}

/// The records as the store gives them back: facts in (key, value) order.
fn normalised(mut records: Vec<DeviceRecord>) -> Vec<DeviceRecord> {
    for r in &mut records {
        r.facts.sort_by(|a, b| (&a.key, &a.value).cmp(&(&b.key, &b.value)));
    }
    records.sort_by_key(|r| r.device.id);
    records
}

fn devices_only(c: &ChangeSet) -> ChangeSet {
    ChangeSet { devices: c.devices.clone(), ..ChangeSet::default() }
}

fn at(secs: u64) -> Timestamp {
    Timestamp::from_secs(1_767_225_600 + secs)
}

fn edge(from: i64, to: i64, port: u16, hour: i64, bytes: u64) -> CommEdge {
    CommEdge {
        initiator: DeviceId(from),
        responder: DeviceId(to),
        proto: 6,
        port,
        app: "dicom".into(),
        hour,
        flows: 1,
        packets: 10,
        bytes,
    }
}

fn set(store: &Blocking, device: i64, key: &str, value: &str) -> Result<(), StoreError> {
    store.set_override(&Override {
        device: DeviceId(device),
        key: key.into(),
        value: value.into(),
        set_by: "biomed".into(),
        set_at: at(86_400 * 300),
    })
}

#[test]
fn change_set_round_trips_through_snapshot() -> TestResult {
    let (_dir, path) = temp()?;
    let store = Blocking::open_sqlite(&path)?;
    // More devices than one chunk of a snapshot's reads.
    let changes = synthetic::change_set(1, 4_500, 3, 7);
    store.apply(&changes)?;
    let snap = store.snapshot()?;
    assert_eq!(snap.devices, normalised(changes.devices.clone()));
    assert_eq!(snap.max_device_id, 4_500);
    assert!(snap.overrides.is_empty());
    // One device alone gives the same record.
    let one = store.device(DeviceId(42))?.ok_or("device 42 missing")?;
    assert_eq!(Some(&one), snap.devices.iter().find(|r| r.device.id == DeviceId(42)));
    assert_eq!(store.device(DeviceId(4_501))?, None);
    // The import is recorded with the rest.
    let import = changes.import.as_ref().ok_or("no import")?;
    assert_eq!(store.import(&import.fingerprint)?.as_ref(), Some(import));
    assert_eq!(store.import("unknown")?, None);
    let events = store.events(&EventQuery::default())?;
    assert_eq!(events.len(), 4_500);
    assert!(events.windows(2).all(|w| w[0].ts >= w[1].ts), "events newest first");
    Ok(())
}

#[test]
fn applying_the_same_devices_twice_changes_nothing() -> TestResult {
    let (_dir, path) = temp()?;
    let store = Blocking::open_sqlite(&path)?;
    let changes = devices_only(&synthetic::change_set(1, 80, 0, 3));
    store.apply(&changes)?;
    let once = store.snapshot()?;
    store.apply(&changes)?;
    assert_eq!(store.snapshot()?, once);
    // A device written with fewer facts loses the others: records replace, not add.
    let mut smaller = changes.devices[5].clone();
    smaller.facts.truncate(2);
    smaller.services.clear();
    store.apply(&ChangeSet { devices: vec![smaller.clone()], ..ChangeSet::default() })?;
    let got = store.device(smaller.device.id)?.ok_or("device missing")?;
    assert_eq!(got, normalised(vec![smaller]).remove(0));
    Ok(())
}

#[test]
fn edges_add_up() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    store.apply(&devices_only(&synthetic::change_set(1, 3, 0, 1)))?;
    let edges = vec![edge(1, 2, 104, 100, 1_000), edge(1, 2, 104, 101, 500), edge(3, 1, 443, 100, 7)];
    store.apply(&ChangeSet { edges: edges.clone(), ..ChangeSet::default() })?;
    store.apply(&ChangeSet { edges, ..ChangeSet::default() })?;
    let peers = store.peers(DeviceId(1))?;
    assert_eq!(peers.len(), 2);
    let p = &peers[0];
    assert_eq!((p.peer, p.initiated, p.port), (DeviceId(2), true, 104));
    assert_eq!((p.flows, p.packets, p.bytes), (4, 40, 3_000));
    assert_eq!((p.first_hour, p.last_hour), (100, 101));
    let q = &peers[1];
    assert_eq!((q.peer, q.initiated, q.port, q.flows, q.bytes), (DeviceId(3), false, 443, 2, 14));
    let two = store.peers(DeviceId(2))?;
    assert_eq!(two.len(), 1);
    assert!(!two[0].initiated);
    Ok(())
}

#[test]
fn a_merge_moves_what_hangs_off_the_device() -> TestResult {
    let (_dir, path) = temp()?;
    let store = Blocking::open_sqlite(&path)?;
    let base = synthetic::change_set(1, 3, 0, 5);
    store.apply(&ChangeSet {
        devices: base.devices.clone(),
        edges: vec![edge(2, 3, 104, 10, 100), edge(1, 3, 104, 10, 50), edge(3, 2, 443, 11, 9)],
        events: base.events.clone(),
        ..ChangeSet::default()
    })?;
    set(&store, 1, "location", "ICU bed 1")?;
    set(&store, 2, "location", "ICU bed 2")?;
    set(&store, 2, "owner", "biomed")?;
    let key_of_2 = base.devices[1].device.keys[0];

    // 2 turns out to be 1.
    let mut into = base.devices[0].clone();
    into.device.keys.extend(base.devices[1].device.keys.iter().copied());
    store.apply(&ChangeSet {
        devices: vec![into],
        merged: vec![(DeviceId(2), DeviceId(1))],
        edges: vec![edge(2, 3, 104, 10, 1)],
        events: vec![InventoryEvent {
            ts: at(1),
            device: DeviceId(1),
            kind: EventKind::Merged,
            old: Some("2".into()),
            new: Some("1".into()),
            evidence: "arp".into(),
        }],
        ..ChangeSet::default()
    })?;

    assert_eq!(store.resolve(DeviceRef::Id(DeviceId(2)))?, None);
    assert_eq!(store.resolve(DeviceRef::Key(key_of_2))?, Some(DeviceId(1)));
    assert_eq!(store.count(&DeviceQuery::default())?, 2);
    // 2's and 1's conversations with 3 are one row now, summed (the late edge named 2).
    let peers = store.peers(DeviceId(1))?;
    let to3 = peers.iter().find(|p| p.peer == DeviceId(3) && p.initiated).ok_or("no 1->3")?;
    assert_eq!((to3.flows, to3.bytes), (3, 151));
    assert!(peers.iter().any(|p| p.peer == DeviceId(3) && !p.initiated && p.port == 443));
    assert!(store.peers(DeviceId(2))?.is_empty());
    // 2's events are 1's; 1's own override stayed, 2's other one came over.
    let events = store.events(&EventQuery { device: Some(DeviceId(1)), ..EventQuery::default() })?;
    assert_eq!(events.iter().filter(|e| e.kind == EventKind::NewDevice).count(), 2);
    let overrides: Vec<(i64, String, String)> =
        store.overrides()?.into_iter().map(|o| (o.device.0, o.key, o.value)).collect();
    assert_eq!(
        overrides,
        vec![(1, "location".into(), "ICU bed 1".into()), (1, "owner".into(), "biomed".into())]
    );
    // Ids are never reused: the highest stays 3 though 3 is not the highest left.
    assert_eq!(store.snapshot()?.max_device_id, 3);
    Ok(())
}

#[test]
fn an_override_sets_the_field_and_is_left_alone_by_apply() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    let changes = devices_only(&synthetic::change_set(1, 4, 0, 9));
    store.apply(&changes)?;
    let before = store.device(DeviceId(2))?.ok_or("missing")?.device;

    set(&store, 2, "class", "ventilator")?;
    set(&store, 2, "state", "retired")?;
    set(&store, 2, "location", "OR 3")?;
    let d = store.device(DeviceId(2))?.ok_or("missing")?.device;
    let class = d.classification.class.ok_or("no class")?;
    assert_eq!(
        (class.value.as_str(), class.source.as_str(), class.confidence),
        ("ventilator", "override", 100)
    );
    assert_eq!(d.state, Lifecycle::Retired);
    let events = store.events(&EventQuery {
        device: Some(DeviceId(2)),
        kind: Some(EventKind::Override),
        limit: None,
    })?;
    assert_eq!(events.len(), 3);
    let class_event = events.iter().find(|e| e.new.as_deref() == Some("ventilator")).ok_or("no event")?;
    assert_eq!(class_event.old, before.classification.class.map(|c| c.value));
    assert_eq!(class_event.evidence, "override by biomed");
    let limited = store.events(&EventQuery { limit: Some(2), ..EventQuery::default() })?;
    assert_eq!(limited.len(), 2);

    // The engine writes the device again: the overrides table is untouched.
    let overrides = store.overrides()?;
    store.apply(&changes)?;
    assert_eq!(store.overrides()?, overrides);
    assert_eq!(overrides.len(), 3);

    // Refused: a state or criticality that does not exist, a device that does not.
    assert!(matches!(set(&store, 2, "state", "asleep"), Err(StoreError::Invalid(_))));
    assert!(matches!(set(&store, 2, "criticality", "very"), Err(StoreError::Invalid(_))));
    assert!(matches!(set(&store, 99, "class", "printer"), Err(StoreError::Invalid(_))));
    assert_eq!(store.overrides()?.len(), 3);

    assert!(store.clear_override(DeviceId(2), "location")?);
    assert!(!store.clear_override(DeviceId(2), "location")?);
    assert_eq!(store.overrides()?.len(), 2);
    Ok(())
}

#[test]
fn list_filters_sorts_and_pages() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    let changes = synthetic::change_set(1, 400, 1, 11);
    store.apply(&changes)?;
    let all: Vec<_> = changes.devices.iter().map(|r| &r.device).collect();
    let value = |d: &Option<ward_core::Derived>| d.as_ref().map(|d| d.value.clone());
    let ids = |list: &[ward_core::Device]| list.iter().map(|d| d.id.0).collect::<Vec<_>>();

    let everything = store.list(&DeviceQuery::default())?;
    assert_eq!(ids(&everything), (1..=400).collect::<Vec<_>>());
    assert_eq!(everything[9], changes.devices[9].device);

    let q = DeviceQuery {
        class: Some("infusion_pump".into()),
        sort: Some("-last_seen".into()),
        ..DeviceQuery::default()
    };
    let pumps = store.list(&q)?;
    let expected =
        all.iter().filter(|d| value(&d.classification.class).as_deref() == Some("infusion_pump")).count();
    assert!(expected > 0);
    assert_eq!(pumps.len(), expected);
    assert_eq!(store.count(&q)?, expected as u64);
    assert!(pumps.windows(2).all(|w| w[0].last_seen >= w[1].last_seen));

    let q =
        DeviceQuery { vendor: Some("PHILIPS".into()), sort: Some("model".into()), ..DeviceQuery::default() };
    let philips = store.list(&q)?;
    let expected = all
        .iter()
        .filter(|d| value(&d.classification.vendor).is_some_and(|v| v.to_lowercase().contains("philips")))
        .count();
    assert!(expected > 0);
    assert_eq!(philips.len(), expected);
    assert!(
        philips.windows(2).all(|w| value(&w[0].classification.model) <= value(&w[1].classification.model))
    );

    let q = DeviceQuery {
        criticality: Some("critical".into()),
        state: Some(Lifecycle::Active),
        ..DeviceQuery::default()
    };
    let expected = all
        .iter()
        .filter(|d| {
            value(&d.classification.criticality).as_deref() == Some("critical")
                && d.state == Lifecycle::Active
        })
        .count();
    assert_eq!(store.list(&q)?.len(), expected);
    assert_eq!(store.count(&q)?, expected as u64);

    let vlan = all[0].vlans[0];
    let expected = all.iter().filter(|d| d.vlans.contains(&vlan)).count();
    assert_eq!(store.count(&DeviceQuery { vlan: Some(vlan), ..DeviceQuery::default() })?, expected as u64);
    assert_eq!(store.count(&DeviceQuery { vlan: Some(4000), ..DeviceQuery::default() })?, 0);

    // Free text: an address, a MAC in capitals, a word of the description.
    let target = all[123];
    let by_ip =
        store.list(&DeviceQuery { text: Some(target.ips[0].to_string()), ..DeviceQuery::default() })?;
    assert!(by_ip.iter().any(|d| d.id == target.id));
    let mac = target.macs[0].to_string().to_uppercase();
    let by_mac = store.list(&DeviceQuery { text: Some(mac), ..DeviceQuery::default() })?;
    assert_eq!(ids(&by_mac), vec![target.id.0]);

    // A needle's wildcards are plain characters.
    for needle in ["%", "infusion%pump", "inf_sion", "\\"] {
        assert_eq!(store.count(&DeviceQuery { text: Some(needle.into()), ..DeviceQuery::default() })?, 0);
    }

    // Sorts: by address numerically, by criticality most critical first, descending ids.
    let by_ip = store.list(&DeviceQuery { sort: Some("ip".into()), ..DeviceQuery::default() })?;
    let keys: Vec<IpAddr> = by_ip.iter().map(|d| d.ips[0]).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let rank = |d: &ward_core::Device| {
        value(&d.classification.criticality).and_then(|c| c.parse::<ward_core::Criticality>().ok())
    };
    let by_crit = store.list(&DeviceQuery { sort: Some("criticality".into()), ..DeviceQuery::default() })?;
    assert!(by_crit.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])));
    let desc =
        store.list(&DeviceQuery { sort: Some("-id".into()), limit: Some(3), ..DeviceQuery::default() })?;
    assert_eq!(ids(&desc), vec![400, 399, 398]);
    for key in ["class", "vendor", "firmware", "first_seen", "mac", "-mac", "-vendor"] {
        let list = store.list(&DeviceQuery { sort: Some(key.into()), ..DeviceQuery::default() })?;
        assert_eq!(list.len(), 400, "sort {key}");
    }

    // Pages are slices of the whole.
    let q = DeviceQuery { sort: Some("-last_seen".into()), ..DeviceQuery::default() };
    let whole = store.list(&q)?;
    let page = store.list(&DeviceQuery { limit: Some(25), offset: Some(50), ..q.clone() })?;
    assert_eq!(page, whole[50..75]);
    assert_eq!(store.count(&DeviceQuery { limit: Some(1), ..q })?, 400);
    Ok(())
}

#[test]
fn an_unknown_sort_is_refused() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    for sort in ["bogus", "id; DROP TABLE devices", "-", "class desc", "keys"] {
        let q = DeviceQuery { sort: Some(sort.into()), ..DeviceQuery::default() };
        assert!(matches!(store.list(&q), Err(StoreError::Invalid(_))), "{sort:?} accepted");
    }
    assert_eq!(store.count(&DeviceQuery::default())?, 0);
    Ok(())
}

#[test]
fn resolve_names_devices_by_number_mac_and_address() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    let changes = devices_only(&synthetic::change_set(1, 5, 0, 2));
    store.apply(&changes)?;
    let d = &changes.devices[3];
    for key in &d.device.keys {
        assert_eq!(store.resolve(DeviceRef::Key(*key))?, Some(DeviceId(4)));
        let parsed: DeviceRef = key.to_string().parse()?;
        assert_eq!(store.resolve(parsed)?, Some(DeviceId(4)));
    }
    assert_eq!(store.resolve("4".parse()?)?, Some(DeviceId(4)));
    assert_eq!(store.resolve("77".parse()?)?, None);
    // An old address is no key any more, but its last user is found through the history.
    let old = d.ip_ranges[0].ip;
    assert!(!d.device.keys.contains(&DeviceKey::Ip(old)));
    assert_eq!(store.resolve(DeviceRef::Key(DeviceKey::Ip(old)))?, Some(DeviceId(4)));
    assert_eq!(store.resolve("ip:192.0.2.1".parse()?)?, None);

    // A key claimed by another device moves to it.
    let mut thief = changes.devices[0].clone();
    thief.device.keys.push(d.device.keys[0]);
    store.apply(&ChangeSet { devices: vec![thief], ..ChangeSet::default() })?;
    assert_eq!(store.resolve(DeviceRef::Key(d.device.keys[0]))?, Some(DeviceId(1)));
    Ok(())
}

#[test]
fn alerts_and_findings() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    store.apply(&devices_only(&synthetic::change_set(1, 2, 0, 2)))?;
    let alert = |ts: u64, message: &str| Alert {
        id: 0,
        ts: at(ts),
        severity: Severity::High,
        kind: "intel_match".into(),
        device: Some(DeviceId(1)),
        peer: Some("203.0.113.9".parse().expect("literal address")),
        evidence: "dns.query".into(),
        message: message.into(),
        state: "open".into(),
        last_seen: at(ts + 5),
        count: 3,
        flow: Some(ward_core::FlowRef {
            src: "10.1.2.3".parse().expect("literal address"),
            src_port: 40000,
            dst: "203.0.113.9".parse().expect("literal address"),
            dst_port: 443,
            proto: 6,
            vlan: Some(110),
        }),
        source: Some("ipsum".into()),
        indicator: Some("203.0.113.9".into()),
        confidence: Some(80),
        key: "intel_match|1|203.0.113.9".into(),
    };
    let ids = store.add_alerts(&[alert(10, "first"), alert(20, "second")])?;
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    let got = store.alerts(10)?;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].message, "second");
    assert_eq!(got[0].id, ids[1]);
    assert_eq!(store.alerts(1)?.len(), 1);

    let finding = |severity, first, last, detail: &str| Finding {
        device: DeviceId(2),
        kind: "vulnerability".into(),
        reference: "CVE-2024-0001".into(),
        severity,
        detail: detail.into(),
        evidence: "snmp.sysDescr".into(),
        first_seen: at(first),
        last_seen: at(last),
    };
    store.upsert_findings(&[finding(Severity::Medium, 100, 200, "old")])?;
    store.upsert_findings(&[finding(Severity::Critical, 300, 400, "new")])?;
    let got = store.findings(Some(DeviceId(2)))?;
    assert_eq!(got, vec![finding(Severity::Critical, 100, 400, "new")]);
    assert!(store.findings(Some(DeviceId(1)))?.is_empty());
    assert_eq!(store.findings(None)?.len(), 1);

    // Replacing one kind: what still holds keeps its first sighting, what no longer holds
    // goes, other kinds stay.
    let policy = |device, reference: &str, first, last| Finding {
        device: DeviceId(device),
        kind: "policy".into(),
        reference: reference.into(),
        severity: Severity::Medium,
        detail: "denied".into(),
        evidence: "rule r".into(),
        first_seen: at(first),
        last_seen: at(last),
    };
    store.replace_findings("policy", &[policy(1, "flow:a", 10, 20), policy(2, "flow:b", 10, 20)])?;
    store.replace_findings("policy", &[policy(1, "flow:a", 30, 40)])?;
    let got = store.findings(None)?;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], policy(1, "flow:a", 10, 40));
    assert_eq!(got[1].kind, "vulnerability");
    assert!(store.replace_findings("policy", &[finding(Severity::Low, 1, 2, "x")]).is_err());
    Ok(())
}

#[test]
fn alerts_fold_by_key_within_the_window_and_change_state() -> TestResult {
    let store = Blocking::open_sqlite_in_memory()?;
    store.apply(&devices_only(&synthetic::change_set(1, 2, 0, 2)))?;
    let alert = |ts: u64, severity| Alert {
        id: 0,
        ts: at(ts),
        last_seen: at(ts),
        count: 1,
        severity,
        kind: "new_external_peer".into(),
        device: Some(DeviceId(1)),
        peer: Some("45.33.32.156".parse().expect("literal address")),
        flow: None,
        source: Some("baseline".into()),
        indicator: None,
        confidence: None,
        evidence: "flow".into(),
        message: "new peer".into(),
        state: "open".into(),
        key: "new_external_peer|1|45.33.32.156|".into(),
    };
    let with =
        |alerts: Vec<Alert>| ward_store::ChangeSet { alerts, alert_window_secs: 3600, ..Default::default() };
    store.apply(&with(vec![alert(100, Severity::Medium)]))?;
    // Within the window: folded, more urgent wins.
    store.apply(&with(vec![alert(1000, Severity::High)]))?;
    let got = store.alert_query(&ward_store::AlertQuery::default())?;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].count, got[0].severity, got[0].ts, got[0].last_seen),
        (2, Severity::High, at(100), at(1000))
    );
    // After the window: a new alert.
    store.apply(&with(vec![alert(100_000, Severity::Low)]))?;
    assert_eq!(store.alert_query(&ward_store::AlertQuery::default())?.len(), 2);
    // A closed alert is not folded into.
    let id = store.alert_query(&ward_store::AlertQuery::default())?[0].id;
    assert!(store.set_alert_state(id, "closed")?);
    assert!(store.set_alert_state(id, "bogus").is_err());
    store.apply(&with(vec![alert(100_100, Severity::Low)]))?;
    let open =
        store.alert_query(&ward_store::AlertQuery { state: Some("open".into()), ..Default::default() })?;
    assert_eq!(open.len(), 2);

    // Baselines and suppressions.
    let b = ward_store::StoredBaseline { device: DeviceId(2), learning_until: at(500), data: "{}".into() };
    store.apply(&ward_store::ChangeSet { baselines: vec![b.clone()], ..Default::default() })?;
    assert_eq!(store.baselines()?, vec![b]);
    let sup = ward_core::Suppression {
        id: 0,
        kind: "scan".into(),
        device: Some(DeviceId(1)),
        peer: Some("10.0.0.0/8".into()),
        indicator: None,
        owner: "soc".into(),
        reason: "scanner".into(),
        created: at(0),
        expires: at(10),
    };
    let sid = store.add_suppression(&sup)?;
    assert_eq!(store.suppressions()?, vec![ward_core::Suppression { id: sid, ..sup.clone() }]);
    assert!(store.add_suppression(&ward_core::Suppression { owner: String::new(), ..sup }).is_err());
    assert!(store.remove_suppression(sid)?);
    assert!(!store.remove_suppression(sid)?);
    Ok(())
}

#[test]
fn a_failed_change_set_writes_nothing() -> TestResult {
    let (_dir, path) = temp()?;
    let store = Blocking::open_sqlite(&path)?;
    let first = synthetic::change_set(1, 10, 2, 4);
    store.apply(&first)?;
    let before = store.snapshot()?;
    let events_before = store.events(&EventQuery::default())?;

    // The last device carries a duplicated fact: the primary key refuses it after
    // everything before it was written in the transaction.
    let mut bad = synthetic::change_set(11, 50, 2, 4);
    let last = bad.devices.last_mut().ok_or("empty")?;
    let dup: Fact = last.facts[0].clone();
    last.facts.push(dup);
    assert!(matches!(store.apply(&bad), Err(StoreError::Database(_))));
    assert_eq!(store.snapshot()?, before);
    assert_eq!(store.events(&EventQuery::default())?, events_before);
    assert_eq!(store.import(&bad.import.as_ref().ok_or("no import")?.fingerprint)?, None);

    // An edge to a device the store never had: refused at the end, all of it undone.
    let mut dangling = synthetic::change_set(11, 50, 2, 4);
    dangling.edges.push(edge(11, 9_999, 104, 1, 1));
    assert!(store.apply(&dangling).is_err());
    assert_eq!(store.snapshot()?, before);
    Ok(())
}

#[test]
fn a_dropped_apply_writes_nothing() -> TestResult {
    let (_dir, path) = temp()?;
    let store = Blocking::open_sqlite(&path)?;
    let big = synthetic::change_set(1, 20_000, 2, 4);
    let outcome = store
        .block_on(async { tokio::time::timeout(Duration::from_millis(30), store.store().apply(&big)).await });
    assert!(outcome.is_err(), "the apply finished before it could be dropped");
    assert_eq!(store.count(&DeviceQuery::default())?, 0);
    assert_eq!(store.snapshot()?.max_device_id, 0);
    // The connection is usable afterwards.
    store.apply(&synthetic::change_set(1, 5, 0, 4))?;
    assert_eq!(store.count(&DeviceQuery::default())?, 5);
    Ok(())
}

#[test]
fn data_survives_a_reopen_in_wal_mode() -> TestResult {
    let (_dir, path) = temp()?;
    let store = Blocking::open_sqlite(&path)?;
    assert_eq!(store.block_on(store.store().journal_mode())?, "wal");
    let changes = synthetic::change_set(1, 30, 2, 8);
    store.apply(&changes)?;
    set(&store, 3, "model", "Alaris 8015")?;
    let snap = store.snapshot()?;
    store.close();

    let again = Blocking::open_sqlite(&path)?;
    assert_eq!(again.snapshot()?, snap);
    assert_eq!(again.schema_version()?, 4);
    assert_eq!(again.integrity_check()?, "ok");
    drop(again);
    // Dropped without close: still readable.
    let third = Blocking::open_sqlite(&path)?;
    assert_eq!(third.snapshot()?, snap);
    Ok(())
}

fn refused(path: &Path) -> Result<String, Box<dyn std::error::Error>> {
    match Blocking::open_sqlite(path) {
        Err(StoreError::Schema(m)) => Ok(m),
        Err(e) => Err(format!("wrong error for {}: {e:?}", path.display()).into()),
        Ok(_) => Err(format!("{} was accepted", path.display()).into()),
    }
}

#[test]
fn files_that_are_not_wards_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not the devices you are looking for\n".repeat(20))?;
    assert!(refused(&text)?.contains("not a SQLite database"));
    // Unchanged by the attempt.
    assert!(std::fs::read_to_string(&text)?.starts_with("these are not"));

    let short = dir.path().join("short.db");
    std::fs::write(&short, b"SQLite format 3\0")?;
    refused(&short)?;

    // A real store, copied cut in half.
    let good = dir.path().join("good.db");
    let store = Blocking::open_sqlite(&good)?;
    store.apply(&synthetic::change_set(1, 500, 2, 1))?;
    store.close();
    let bytes = std::fs::read(&good)?;
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2])?;
    assert!(refused(&cut)?.contains("cut short"));

    // Another program's SQLite database.
    let other = dir.path().join("other.db");
    Blocking::open_with(|| async {
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new().filename(&other).create_if_missing(true),
        )
        .await
        .map_err(StoreError::from)?;
        sqlx::query("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)")
            .execute(&pool)
            .await
            .map_err(StoreError::from)?;
        pool.close().await;
        Ok(NoStore)
    })?;
    assert!(refused(&other)?.contains("not Ward's"));

    // A store from a newer Ward.
    let newer = dir.path().join("newer.db");
    let store = Blocking::open_sqlite(&newer)?;
    store.block_on(async {
        let pool = sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&newer))
            .await?;
        sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)").execute(&pool).await?;
        pool.close().await;
        Ok::<_, sqlx::Error>(())
    })?;
    store.close();
    assert!(refused(&newer)?.contains("newer Ward"));
    Ok(())
}

/// A stand-in store for [`Blocking::open_with`] when only its runtime is wanted.
struct NoStore;

impl Store for NoStore {
    async fn snapshot(&self) -> ward_store::Result<ward_store::Snapshot> {
        Err(StoreError::Invalid("no store".into()))
    }
    async fn import(&self, _: &str) -> ward_store::Result<Option<ward_store::Import>> {
        Ok(None)
    }
    async fn apply(&self, _: &ChangeSet) -> ward_store::Result<()> {
        Ok(())
    }
    async fn list(&self, _: &DeviceQuery) -> ward_store::Result<Vec<ward_core::Device>> {
        Ok(Vec::new())
    }
    async fn count(&self, _: &DeviceQuery) -> ward_store::Result<u64> {
        Ok(0)
    }
    async fn resolve(&self, _: DeviceRef) -> ward_store::Result<Option<DeviceId>> {
        Ok(None)
    }
    async fn device(&self, _: DeviceId) -> ward_store::Result<Option<DeviceRecord>> {
        Ok(None)
    }
    async fn peers(&self, _: DeviceId) -> ward_store::Result<Vec<ward_store::Peer>> {
        Ok(Vec::new())
    }
    async fn events(&self, _: &EventQuery) -> ward_store::Result<Vec<InventoryEvent>> {
        Ok(Vec::new())
    }
    async fn overrides(&self) -> ward_store::Result<Vec<Override>> {
        Ok(Vec::new())
    }
    async fn set_override(&self, _: &Override) -> ward_store::Result<()> {
        Ok(())
    }
    async fn clear_override(&self, _: DeviceId, _: &str) -> ward_store::Result<bool> {
        Ok(false)
    }
    async fn add_alerts(&self, _: &[Alert]) -> ward_store::Result<Vec<i64>> {
        Ok(Vec::new())
    }
    async fn alerts(&self, _: u64) -> ward_store::Result<Vec<Alert>> {
        Ok(Vec::new())
    }
    async fn upsert_findings(&self, _: &[Finding]) -> ward_store::Result<()> {
        Ok(())
    }
    async fn findings(&self, _: Option<DeviceId>) -> ward_store::Result<Vec<Finding>> {
        Ok(Vec::new())
    }
    async fn replace_findings(&self, _: &str, _: &[Finding]) -> ward_store::Result<()> {
        Ok(())
    }
    async fn edges(&self) -> ward_store::Result<Vec<ward_core::CommEdge>> {
        Ok(Vec::new())
    }
    async fn alert_query(&self, _: &ward_store::AlertQuery) -> ward_store::Result<Vec<Alert>> {
        Ok(Vec::new())
    }
    async fn set_alert_state(&self, _: i64, _: &str) -> ward_store::Result<bool> {
        Ok(false)
    }
    async fn baselines(&self) -> ward_store::Result<Vec<ward_store::StoredBaseline>> {
        Ok(Vec::new())
    }
    async fn add_suppression(&self, _: &ward_core::Suppression) -> ward_store::Result<i64> {
        Ok(0)
    }
    async fn suppressions(&self) -> ward_store::Result<Vec<ward_core::Suppression>> {
        Ok(Vec::new())
    }
    async fn remove_suppression(&self, _: i64) -> ward_store::Result<bool> {
        Ok(false)
    }
    async fn comm_pairs(&self) -> ward_store::Result<Vec<(DeviceId, DeviceId)>> {
        Ok(Vec::new())
    }
    async fn facts_by_key(&self, _: &[&str]) -> ward_store::Result<Vec<(DeviceId, String, String)>> {
        Ok(Vec::new())
    }
    async fn vuln_document_heads(&self) -> ward_store::Result<Vec<ward_store::VulnDocumentHead>> {
        Ok(Vec::new())
    }
    async fn vuln_documents(&self) -> ward_store::Result<Vec<ward_store::VulnDocument>> {
        Ok(Vec::new())
    }
    async fn put_vuln_documents(&self, _: &[ward_store::VulnDocument]) -> ward_store::Result<()> {
        Ok(())
    }
    async fn vuln_state(&self) -> ward_store::Result<Vec<ward_store::VulnStateRow>> {
        Ok(Vec::new())
    }
    async fn record_vuln_assessment(&self, _: &ward_store::VulnAssessment) -> ward_store::Result<i64> {
        Ok(0)
    }
}

const CRASH_DB: &str = "WARD_STORE_CRASH_DB";
const BASE_DEVICES: usize = 100;
const HUGE_DEVICES: usize = 40_000;

/// The child of [`a_kill_mid_write_leaves_all_or_nothing`]: does nothing unless started by it.
#[test]
fn crash_child() -> TestResult {
    let Ok(path) = std::env::var(CRASH_DB) else { return Ok(()) };
    let path = PathBuf::from(path);
    let store = Blocking::open_sqlite(&path)?;
    store.apply(&synthetic::change_set(1, BASE_DEVICES, 2, 1))?;
    let huge = synthetic::change_set(BASE_DEVICES as i64 + 1, HUGE_DEVICES, 3, 1);
    std::fs::write(path.with_extension("started"), b"")?;
    store.apply(&huge)?;
    std::fs::write(path.with_extension("done"), b"")?;
    Ok(())
}

/// Runs the child and kills it `kill_after` its big write started (never, if `None`);
/// returns how long the write had run and whether it had finished.
fn run_child(
    path: &Path,
    kill_after: Option<Duration>,
) -> Result<(Duration, bool), Box<dyn std::error::Error>> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CRASH_DB, path)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let started = path.with_extension("started");
    let done = path.with_extension("done");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !started.exists() {
        if Instant::now() > deadline || child.try_wait()?.is_some() {
            let _ = child.kill();
            return Err("the child never started its big write".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let t0 = Instant::now();
    match kill_after {
        Some(after) => {
            while t0.elapsed() < after && !done.exists() {
                std::thread::sleep(Duration::from_millis(1));
            }
            child.kill()?; // SIGKILL: no destructor, no rollback, no checkpoint
            child.wait()?;
        }
        None => {
            if !child.wait()?.success() {
                return Err("the child failed".into());
            }
        }
    }
    Ok((t0.elapsed(), done.exists()))
}

#[test]
fn a_kill_mid_write_leaves_all_or_nothing() -> TestResult {
    // How long the big write takes here, then kills spread over it, the last ones in its
    // commit (the log's pages are written then, and while the page cache spills).
    let (_dir, path) = temp()?;
    let (whole, finished) = run_child(&path, None)?;
    assert!(finished);
    for fraction in [0.6, 0.9, 0.97] {
        let (_dir, path) = temp()?;
        let (ran, finished) = run_child(&path, Some(whole.mul_f64(fraction)))?;
        let wal = std::fs::metadata(path.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
        eprintln!("killed after {ran:?} of ~{whole:?}: finished {finished}, write-ahead log {wal} bytes");

        let store = Blocking::open_sqlite(&path)?;
        assert_eq!(store.integrity_check()?, "ok");
        let devices = store.count(&DeviceQuery::default())?;
        let snap = store.snapshot()?;
        let facts: usize = snap.devices.iter().map(|r| r.facts.len()).sum();
        let huge = format!("synthetic-1-{}-{HUGE_DEVICES}", BASE_DEVICES + 1);
        let complete = store.import(&huge)?.is_some();
        let expected = if complete { BASE_DEVICES + HUGE_DEVICES } else { BASE_DEVICES };
        // A write that finished is whole; one killed may have committed or not, but never
        // in part.
        assert!(complete || !finished);
        assert_eq!(devices as usize, expected);
        assert_eq!(facts, expected * 15);
        assert_eq!(snap.max_device_id as usize, expected);
        let ids: BTreeSet<i64> = snap.devices.iter().map(|r| r.device.id.0).collect();
        assert_eq!(ids.len(), expected);
        assert!(store.import(&format!("synthetic-1-1-{BASE_DEVICES}"))?.is_some());
    }
    Ok(())
}

#[test]
fn the_async_store_works_on_its_own_runtime() -> TestResult {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    rt.block_on(async {
        let store = SqliteStore::open_in_memory().await?;
        store.apply(&synthetic::change_set(1, 3, 1, 1)).await?;
        assert_eq!(store.count(&DeviceQuery::default()).await?, 3);
        store.close().await;
        Ok::<_, StoreError>(())
    })?;
    Ok(())
}
