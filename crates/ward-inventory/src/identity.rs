//! The inventory across runs: which stored device a run's device is, what it now knows about
//! it, and what changed.
//!
//! A run's reading ([`crate::sightings`]) binds addresses to MACs within the run. Here each of
//! its devices is placed in the inventory:
//! - a device with a MAC is the stored device with that MAC. A locally administered MAC (often
//!   randomised, so two devices may show the same one at different times) is not enough on
//!   its own: the stored device must also share a VLAN, or a host name or DHCP client id;
//!   otherwise the run's device is a new one and the MAC's key moves to it;
//! - an address the run bound to a MAC (ARP, DHCP, also through a relay) joins a stored
//!   device known only by that address to the MAC's device (a `merged` event);
//! - a device known only by address (behind a router) is the stored device with that address
//!   as a key: a device known by address alone, or a MAC device seen from the far side of a
//!   router.
//!
//! Facts merge by (key, value): first seen is the earliest, last seen the latest, and the
//! most confident source names it. Addresses keep their time ranges: a sighting within
//! [`InventoryConfig::ip_gap`] of a range widens it, anything else opens a new range, so
//! DHCP renumbering shows as one address's range ending and another's starting. Then every
//! device is classified by the rules, its fields resolved (an operator's override first,
//! then confidence, then recency), its lifecycle set, and each change becomes an event.
//!
//! Everything here is a pure function of the stored inventory and the run, independent of the
//! order observations arrived in, so a run written twice leaves the inventory as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use hashbrown::HashMap;
use ward_core::{
    Classification, CommEdge, Derived, Device, DeviceId, DeviceKey, DeviceRecord, EventKind, Fact,
    InventoryEvent, IpRange, Lifecycle, Mac, Override, Service, Timestamp,
};

use crate::classify::Rules;
use crate::oui;
use crate::sightings::{AddressEdge, DeviceSummary};

/// Facts kept per device and key; beyond, the one seen longest ago goes.
const MAX_VALUES_PER_KEY: usize = 32;
/// Address ranges kept per device; beyond, the oldest go.
const MAX_IP_RANGES: usize = 64;
/// Services kept per device.
const MAX_SERVICES: usize = 128;
/// The source prefix of facts derived by classification rules.
const RULE_SOURCE: &str = "rule:";
/// The fact naming the rule set (its fingerprint) that last classified a device.
const RULES_KEY: &str = "rules";

/// Settings of the inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InventoryConfig {
    /// A device not seen for this long (in capture time) is stale.
    pub stale_after_secs: u64,
    /// Sightings of one address this close together are one range of its use.
    pub ip_gap_secs: u64,
}

impl Default for InventoryConfig {
    fn default() -> InventoryConfig {
        InventoryConfig { stale_after_secs: 7 * 24 * 3600, ip_gap_secs: 3600 }
    }
}

/// What absorbing a run changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Devices new or changed, whole.
    pub devices: Vec<DeviceRecord>,
    /// Records found to be one device: (gone, kept).
    pub merged: Vec<(DeviceId, DeviceId)>,
    /// The run's communication map by device (empty when counts are not to be added).
    pub edges: Vec<CommEdge>,
    /// Edges dropped because an end had no device (an address that never answered or sent).
    pub edges_unplaced: u64,
    /// What happened, in device order.
    pub events: Vec<InventoryEvent>,
}

/// (initiator, responder, proto, port, application, hour).
type EdgeKey = (DeviceId, DeviceId, u8, u16, String, i64);

struct Slot {
    record: DeviceRecord,
    /// The record's hash when it was loaded (`None` for a device new in this run).
    loaded: Option<u64>,
    /// Resolved fields as loaded, for change events.
    before: Option<Device>,
    /// Merged into another device: no longer part of the inventory.
    gone: bool,
}

/// The whole inventory in memory: what the store held, plus the runs absorbed since.
pub struct Inventory {
    slots: Vec<Slot>,
    by_key: HashMap<DeviceKey, usize>,
    /// Every device that ever showed a locally administered MAC: such a MAC's key names
    /// only the latest, and the others must still be found.
    by_random_mac: HashMap<Mac, Vec<usize>>,
    overrides: HashMap<DeviceId, BTreeMap<String, Override>>,
    next_id: i64,
    config: InventoryConfig,
}

fn record_hash(r: &DeviceRecord) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    r.hash(&mut h);
    h.finish()
}

impl Inventory {
    /// An inventory holding `records` (as the store gave them), `overrides`, and ids above
    /// `max_device_id` for new devices.
    pub fn new(
        records: Vec<DeviceRecord>,
        overrides: Vec<Override>,
        max_device_id: i64,
        config: InventoryConfig,
    ) -> Inventory {
        let mut inv = Inventory {
            slots: Vec::with_capacity(records.len()),
            by_key: HashMap::with_capacity(records.len() * 2),
            by_random_mac: HashMap::new(),
            overrides: HashMap::new(),
            next_id: max_device_id.max(records.iter().map(|r| r.device.id.0).max().unwrap_or(0)) + 1,
            config,
        };
        // Keys are unique in the store; should two records claim one, the later-seen wins.
        let mut records = records;
        records.sort_by_key(|r| (r.device.last_seen, r.device.id));
        for record in records {
            let i = inv.slots.len();
            for k in &record.device.keys {
                inv.by_key.insert(*k, i);
            }
            for m in record.device.macs.iter().filter(|m| m.is_locally_administered()) {
                inv.by_random_mac.entry(*m).or_default().push(i);
            }
            inv.slots.push(Slot {
                loaded: Some(record_hash(&record)),
                before: Some(record.device.clone()),
                record,
                gone: false,
            });
        }
        for o in overrides {
            inv.overrides.entry(o.device).or_default().insert(o.key.clone(), o);
        }
        inv
    }

    /// Devices currently in the inventory.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| !s.gone).count()
    }

    /// Whether it holds no device.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every device, by id.
    pub fn records(&self) -> impl Iterator<Item = &DeviceRecord> {
        self.slots.iter().filter(|s| !s.gone).map(|s| &s.record)
    }

    /// Places a run's devices in the inventory, classifies every device, and says what
    /// changed. `now` is the latest time the run saw (for staleness); `add_counts` is false
    /// when the run was absorbed before (the same captures again): then flow counts and the
    /// communication map are not added a second time. Each of `run`'s devices gets its id and
    /// resolved fields.
    pub fn absorb<'a>(
        &mut self,
        run: &mut [DeviceSummary],
        edges: impl Iterator<Item = AddressEdge<'a>>,
        rules: &Rules,
        now: Option<Timestamp>,
        add_counts: bool,
    ) -> Changes {
        let mut changes = Changes::default();
        let mut placed: Vec<usize> = Vec::with_capacity(run.len());
        let mut created: BTreeSet<usize> = BTreeSet::new();
        for d in run.iter() {
            let (slot, joined, new) = self.place(d);
            if new {
                created.insert(slot);
            }
            for j in joined {
                self.merge_slot(j, slot, d, &mut changes);
            }
            self.absorb_device(slot, d, add_counts, &mut changes);
            placed.push(slot);
        }
        if add_counts {
            let mut by_ip: HashMap<IpAddr, DeviceId> = HashMap::new();
            for (d, &slot) in run.iter().zip(&placed) {
                for ip in &d.ips {
                    by_ip.insert(*ip, self.slots[slot].record.device.id);
                }
            }
            let mut map: BTreeMap<EdgeKey, (u64, u64, u64)> = BTreeMap::new();
            for e in edges {
                let (Some(a), Some(b)) = (by_ip.get(&e.initiator), by_ip.get(&e.responder)) else {
                    changes.edges_unplaced += 1;
                    continue;
                };
                let v =
                    map.entry((*a, *b, e.proto, e.port, e.app.unwrap_or("").to_owned(), e.hour)).or_default();
                v.0 += e.flows;
                v.1 += e.packets;
                v.2 += e.bytes;
            }
            changes.edges =
                map.into_iter()
                    .map(|((initiator, responder, proto, port, app, hour), (flows, packets, bytes))| {
                        CommEdge { initiator, responder, proto, port, app, hour, flows, packets, bytes }
                    })
                    .collect();
        }
        let now = self.slots.iter().filter(|s| !s.gone).map(|s| s.record.device.last_seen).max().max(now);
        let live: Vec<usize> = (0..self.slots.len()).filter(|&i| !self.slots[i].gone).collect();
        // A device is classified again when this run saw it, or when the rules changed since
        // it was last classified (its `rules` fact names the rule set). The others keep what
        // the rules derived: on a large inventory, classifying every device at every run would
        // cost seconds for nothing.
        let version = rules.fingerprint();
        let mut seen = vec![false; self.slots.len()];
        for &i in &placed {
            seen[i] = true;
        }
        let todo: Vec<usize> = live
            .iter()
            .copied()
            .filter(|&i| {
                seen[i]
                    || !self.slots[i].record.facts.iter().any(|f| f.key == RULES_KEY && f.value == version)
            })
            .collect();
        for &i in &todo {
            let facts = &mut self.slots[i].record.facts;
            // Rules see the observed facts; what they derived last time is derived again from
            // scratch, so a changed rule set takes effect everywhere. In one order always: a
            // rule reads the first fact that matches, so the facts of a device just seen and of
            // the same device read back from the store must line up.
            facts.retain(|f| !f.source.starts_with(RULE_SOURCE) && f.key != RULES_KEY);
            facts.sort_by(|a, b| (&a.key, &a.value, &a.source).cmp(&(&b.key, &b.value, &b.source)));
        }
        let mut derived: HashMap<usize, Vec<Fact>> =
            todo.iter().copied().zip(classify_all(&self.slots, &todo, rules)).collect();
        for &i in &live {
            let classified = derived.remove(&i).map(|d| (d, version.as_str()));
            self.resolve(i, classified, now, created.contains(&i), &mut changes);
        }
        for (d, &slot) in run.iter_mut().zip(&placed) {
            let dev = &self.slots[slot].record.device;
            d.id = Some(dev.id);
            d.classification = dev.classification.clone();
            d.state = Some(dev.state);
            d.ip_history = self.slots[slot].record.ip_ranges.clone();
        }
        for s in &mut self.slots {
            if s.gone {
                continue;
            }
            let h = record_hash(&s.record);
            if s.loaded != Some(h) {
                changes.devices.push(s.record.clone());
                s.loaded = Some(h);
            }
            s.before = Some(s.record.device.clone());
        }
        changes.devices.sort_by_key(|r| r.device.id);
        changes.events.sort_by_key(|e| (e.device, e.ts, e.kind));
        changes
    }

    /// The slot a run's device belongs to, the slots to merge into it, and whether it is new.
    fn place(&mut self, d: &DeviceSummary) -> (usize, Vec<usize>, bool) {
        let mac = d.macs.first().copied();
        let mut slot = None;
        if let Some(mac) = mac {
            if mac.is_locally_administered() {
                // The most recently seen device with this MAC that something else confirms.
                slot = self.by_random_mac.get(&mac).and_then(|c| {
                    c.iter()
                        .copied()
                        .filter(|&i| !self.slots[i].gone && corroborates(&self.slots[i].record, d))
                        .max_by_key(|&i| (self.slots[i].record.device.last_seen, std::cmp::Reverse(i)))
                });
            } else if let Some(&i) = self.by_key.get(&DeviceKey::Mac(mac))
                && !self.slots[i].gone
            {
                slot = Some(i);
            }
        }
        let mut joined = Vec::new();
        for ip in &d.ips {
            let Some(&i) = self.by_key.get(&DeviceKey::Ip(*ip)) else { continue };
            if self.slots[i].gone || Some(i) == slot {
                continue;
            }
            let stored_has_mac = !self.slots[i].record.device.macs.is_empty();
            match (mac, stored_has_mac) {
                // A MAC now owns an address known alone so far: the same device.
                (Some(_), false) => joined.push(i),
                // Seen by address from behind a router: the MAC device it is.
                (None, true) if slot.is_none() => slot = Some(i),
                (None, false) if slot.is_none() => slot = Some(i),
                // Another MAC had the address before: DHCP gave it away; the key moves.
                _ => {}
            }
        }
        match slot {
            Some(i) => (i, joined, false),
            None => {
                let id = DeviceId(self.next_id);
                self.next_id += 1;
                let t = d.first_seen.unwrap_or_default();
                let device = Device {
                    id,
                    keys: Vec::new(),
                    macs: Vec::new(),
                    ips: Vec::new(),
                    vlans: Vec::new(),
                    randomized_mac: false,
                    router: false,
                    first_seen: t,
                    last_seen: d.last_seen.unwrap_or(t),
                    classification: Classification::default(),
                    description: None,
                    state: Lifecycle::Active,
                };
                let record =
                    DeviceRecord { device, facts: Vec::new(), ip_ranges: Vec::new(), services: Vec::new() };
                self.slots.push(Slot { record, loaded: None, before: None, gone: false });
                let i = self.slots.len() - 1;
                // A new device's first joins are part of it, not merges of two known ones.
                (i, joined, true)
            }
        }
    }

    /// Moves everything of `from` into `into`.
    fn merge_slot(&mut self, from: usize, into: usize, d: &DeviceSummary, changes: &mut Changes) {
        if from == into || self.slots[from].gone {
            return;
        }
        self.slots[from].gone = true;
        let emptied = DeviceRecord {
            device: self.slots[from].record.device.clone(),
            facts: Vec::new(),
            ip_ranges: Vec::new(),
            services: Vec::new(),
        };
        let old = std::mem::replace(&mut self.slots[from].record, emptied);
        let from_id = old.device.id;
        let into_id = self.slots[into].record.device.id;
        for k in &old.device.keys {
            self.by_key.insert(*k, into);
        }
        let target = &mut self.slots[into].record;
        for k in old.device.keys {
            if !target.device.keys.contains(&k) {
                target.device.keys.push(k);
            }
        }
        target.device.first_seen = target.device.first_seen.min(old.device.first_seen);
        target.device.last_seen = target.device.last_seen.max(old.device.last_seen);
        for f in old.facts {
            upsert_fact(&mut target.facts, f);
        }
        for r in old.ip_ranges {
            add_range(&mut target.ip_ranges, r, self.config.ip_gap_secs);
        }
        for s in old.services {
            add_service(&mut target.services, s, true);
        }
        if let Some(mut o) = self.overrides.remove(&from_id) {
            let kept = self.overrides.entry(into_id).or_default();
            for (k, mut v) in std::mem::take(&mut o) {
                v.device = into_id;
                kept.entry(k).or_insert(v);
            }
        }
        let evidence = d.evidence.first().cloned().unwrap_or_else(|| "flow".to_owned());
        changes.merged.push((from_id, into_id));
        changes.events.push(InventoryEvent {
            ts: d.last_seen.unwrap_or_default(),
            device: into_id,
            kind: EventKind::Merged,
            old: Some(from_id.to_string()),
            new: Some(into_id.to_string()),
            evidence,
        });
    }

    /// Adds what the run saw of one device to its record.
    fn absorb_device(&mut self, slot: usize, d: &DeviceSummary, add_counts: bool, changes: &mut Changes) {
        let gap = self.config.ip_gap_secs;
        let latest_before = latest_ip(&self.slots[slot].record.ip_ranges);
        let had_ranges = !self.slots[slot].record.ip_ranges.is_empty();
        let mut keys: Vec<DeviceKey> = Vec::new();
        for mac in &d.macs {
            keys.push(DeviceKey::Mac(*mac));
        }
        // Addresses name a device as long as it holds them; a router's are only its own.
        for ip in &d.ips {
            keys.push(DeviceKey::Ip(*ip));
        }
        for k in &keys {
            if let Some(&other) = self.by_key.get(k)
                && other != slot
                && !self.slots[other].gone
            {
                self.slots[other].record.device.keys.retain(|x| x != k);
            }
            self.by_key.insert(*k, slot);
        }
        let r = &mut self.slots[slot].record;
        let dev = &mut r.device;
        for k in keys {
            if !dev.keys.contains(&k) {
                dev.keys.push(k);
            }
        }
        dev.keys.sort();
        for m in &d.macs {
            if !dev.macs.contains(m) {
                dev.macs.push(*m);
                if m.is_locally_administered() {
                    self.by_random_mac.entry(*m).or_default().push(slot);
                }
            }
        }
        dev.macs.sort();
        dev.randomized_mac = !dev.macs.is_empty() && dev.macs.iter().all(Mac::is_locally_administered);
        for v in &d.vlans {
            if !dev.vlans.contains(v) {
                dev.vlans.push(*v);
            }
        }
        dev.vlans.sort_unstable();
        dev.router |= d.router;
        if let Some(f) = d.first_seen {
            dev.first_seen = dev.first_seen.min(f);
        }
        if let Some(l) = d.last_seen {
            dev.last_seen = dev.last_seen.max(l);
        }
        if d.description.is_some() {
            dev.description.clone_from(&d.description);
        }
        for a in &d.attributes {
            upsert_fact(
                &mut r.facts,
                Fact {
                    key: a.key.clone(),
                    value: a.value.clone(),
                    source: a.source.clone(),
                    confidence: a.confidence,
                    first_seen: a.first_seen,
                    last_seen: a.last_seen,
                },
            );
        }
        let (first, last) = (d.first_seen.unwrap_or_default(), d.last_seen.unwrap_or_default());
        for mac in &d.macs {
            if let Some(m) = oui::lookup(*mac) {
                upsert_fact(
                    &mut r.facts,
                    Fact {
                        key: "oui_vendor".to_owned(),
                        value: m.vendor.to_string(),
                        source: m.registry.source().to_owned(),
                        confidence: 60,
                        first_seen: first,
                        last_seen: last,
                    },
                );
            }
        }
        if d.router {
            // What the run's reading saw: this MAC sends for many addresses it does not claim.
            upsert_fact(
                &mut r.facts,
                Fact {
                    key: "forwarding".to_owned(),
                    value: "many addresses".to_owned(),
                    source: "flow.forwarding".to_owned(),
                    confidence: 70,
                    first_seen: first,
                    last_seen: last,
                },
            );
        }
        for c in &d.cleartext {
            let value = if c.phi { format!("{} with patient data", c.protocol) } else { c.protocol.clone() };
            upsert_fact(
                &mut r.facts,
                Fact {
                    key: "cleartext".to_owned(),
                    value,
                    source: c.source.clone(),
                    confidence: 90,
                    first_seen: first,
                    last_seen: last,
                },
            );
        }
        for c in &d.credentials {
            let accepted = match c.accepted {
                Some(true) => ", accepted",
                Some(false) => ", refused",
                None => "",
            };
            let value =
                format!("{} {:?} login, {:?}{accepted}", c.protocol, c.account, c.weakness).to_lowercase();
            upsert_fact(
                &mut r.facts,
                Fact {
                    key: "credential".to_owned(),
                    value,
                    source: c.source.clone(),
                    confidence: 90,
                    first_seen: first,
                    last_seen: last,
                },
            );
        }
        for range in &d.ip_history {
            add_range(&mut r.ip_ranges, *range, gap);
        }
        for s in &d.services {
            add_service(&mut r.services, s.clone(), add_counts);
        }
        r.device.ips = current_ips(&r.ip_ranges, r.device.last_seen, gap);
        let latest_after = latest_ip(&r.ip_ranges);
        if had_ranges
            && latest_before.map(|x| x.0) != latest_after.map(|x| x.0)
            && let (Some(old), Some(new)) = (latest_before, latest_after)
        {
            let evidence = d
                .evidence
                .iter()
                .find(|e| e.starts_with("dhcp") || e.starts_with("arp"))
                .or(d.evidence.first())
                .cloned()
                .unwrap_or_else(|| "flow".to_owned());
            changes.events.push(InventoryEvent {
                ts: new.1,
                device: r.device.id,
                kind: EventKind::IpChanged,
                old: Some(old.0.to_string()),
                new: Some(new.0.to_string()),
                evidence,
            });
        }
    }

    /// Takes a device's classification, resolves its fields, sets its state, and records what
    /// changed.
    fn resolve(
        &mut self,
        i: usize,
        classified: Option<(Vec<Fact>, &str)>,
        now: Option<Timestamp>,
        created: bool,
        changes: &mut Changes,
    ) {
        let stale_after = self.config.stale_after_secs;
        let slot = &mut self.slots[i];
        let r = &mut slot.record;
        if let Some((derived, version)) = classified {
            for f in derived {
                upsert_fact(&mut r.facts, f);
            }
            r.facts.push(Fact {
                key: RULES_KEY.to_owned(),
                value: version.to_owned(),
                source: "inventory.rules".to_owned(),
                confidence: 100,
                first_seen: r.device.first_seen,
                last_seen: r.device.first_seen,
            });
        }
        r.facts.sort_by(|a, b| (&a.key, &a.value, &a.source).cmp(&(&b.key, &b.value, &b.source)));
        let overrides = self.overrides.get(&r.device.id);
        let dev = &mut r.device;
        for field in Classification::FIELDS {
            let value = match overrides.and_then(|o| o.get(field)) {
                Some(o) => {
                    Some(Derived { value: o.value.clone(), source: "override".to_owned(), confidence: 100 })
                }
                None => best(&r.facts, field),
            };
            if let Some(slot) = dev.classification.get_mut(field) {
                *slot = value;
            }
        }
        let was = dev.state;
        dev.state = if overrides.and_then(|o| o.get("state")).is_some_and(|o| o.value == "retired") {
            Lifecycle::Retired
        } else if now
            .is_some_and(|n| n.nanos_since(dev.last_seen) > stale_after.saturating_mul(1_000_000_000))
        {
            Lifecycle::Stale
        } else {
            Lifecycle::Active
        };
        let id = dev.id;
        if created {
            changes.events.push(InventoryEvent {
                ts: dev.first_seen,
                device: id,
                kind: EventKind::NewDevice,
                old: None,
                new: Some(identity_line(dev)),
                evidence: dev.keys.first().map_or_else(|| "flow".to_owned(), ToString::to_string),
            });
        } else if let Some(before) = &slot.before {
            for (field, kind) in [
                ("class", EventKind::ClassChanged),
                ("vendor", EventKind::VendorChanged),
                ("model", EventKind::ModelChanged),
                ("firmware", EventKind::FirmwareChanged),
            ] {
                let (old, new) = (before.classification.get(field), dev.classification.get(field));
                if old.map(|d| &d.value) != new.map(|d| &d.value) {
                    changes.events.push(InventoryEvent {
                        ts: dev.last_seen,
                        device: id,
                        kind,
                        old: old.map(|d| d.value.clone()),
                        new: new.map(|d| d.value.clone()),
                        evidence: new.or(old).map_or_else(String::new, |d| d.source.clone()),
                    });
                }
            }
            match (was, dev.state) {
                (Lifecycle::Active, Lifecycle::Stale) => changes.events.push(InventoryEvent {
                    ts: now.unwrap_or(dev.last_seen),
                    device: id,
                    kind: EventKind::Stale,
                    old: Some(format!("last seen {}", dev.last_seen)),
                    new: dev.classification.criticality.as_ref().map(|c| format!("criticality {}", c.value)),
                    evidence: format!("not seen for {} s", stale_after),
                }),
                (Lifecycle::Stale, Lifecycle::Active) => changes.events.push(InventoryEvent {
                    ts: dev.last_seen,
                    device: id,
                    kind: EventKind::Returned,
                    old: None,
                    new: None,
                    evidence: "seen again".to_owned(),
                }),
                _ => {}
            }
        }
    }
}

/// What the rules derive for each of `live`, in that order. (Spreading this over threads
/// did not help: most of its time is the regexes' lazy automata meeting names they have not
/// seen, and each thread builds its own.)
fn classify_all(slots: &[Slot], live: &[usize], rules: &Rules) -> Vec<Vec<Fact>> {
    live.iter()
        .map(|&i| {
            let r = &slots[i].record;
            let mut input = r.facts.clone();
            for s in &r.services {
                let value = match &s.app {
                    Some(app) => format!("{} {app}", crate::sightings::service_name(s.proto, s.port)),
                    None => crate::sightings::service_name(s.proto, s.port),
                };
                input.push(Fact {
                    key: "service".to_owned(),
                    value,
                    source: "flow.responder".to_owned(),
                    confidence: 70,
                    first_seen: s.first_seen,
                    last_seen: s.last_seen,
                });
            }
            rules.classify(&input)
        })
        .collect()
}

/// "infusion_pump, BD, Alaris 8015" or the MAC/address when nothing is known.
fn identity_line(d: &Device) -> String {
    let parts: Vec<&str> = ["class", "vendor", "model"]
        .into_iter()
        .filter_map(|f| d.classification.get(f))
        .map(|v| v.value.as_str())
        .collect();
    if parts.is_empty() {
        d.keys.first().map_or_else(String::new, ToString::to_string)
    } else {
        parts.join(", ")
    }
}

/// Whether a stored device with a locally administered MAC is the run's device: the MAC
/// alone does not say, so a VLAN, a host name or a DHCP client id must agree too.
fn corroborates(stored: &DeviceRecord, d: &DeviceSummary) -> bool {
    if stored.device.vlans.iter().any(|v| d.vlans.contains(v))
        || (stored.device.vlans.is_empty() && d.vlans.is_empty())
    {
        return true;
    }
    d.attributes
        .iter()
        .filter(|a| a.key == "hostname" || a.key == "client_id")
        .any(|a| stored.facts.iter().any(|f| f.key == a.key && f.value == a.value))
}

/// The winning value of a field among rule-derived facts: the most confident, then the most
/// recent, then the first source by name (so that the answer never depends on order).
fn best(facts: &[Fact], field: &str) -> Option<Derived> {
    facts
        .iter()
        .filter(|f| f.key == field && f.source.starts_with(RULE_SOURCE))
        .max_by(|a, b| {
            (a.confidence, a.last_seen)
                .cmp(&(b.confidence, b.last_seen))
                .then_with(|| b.source.cmp(&a.source))
                .then_with(|| b.value.cmp(&a.value))
        })
        .map(|f| Derived { value: f.value.clone(), source: f.source.clone(), confidence: f.confidence })
}

/// Adds a fact, merging it with the same (key, value) said the same way: what a protocol
/// said and what a rule derived stay apart even when they agree (a device's `model` field
/// and the `model` a rule read from its SNMP description), or the observed one would turn
/// into a rule's and be dropped with the rules' output at the next classification.
fn upsert_fact(facts: &mut Vec<Fact>, f: Fact) {
    let derived = f.source.starts_with(RULE_SOURCE);
    if let Some(x) = facts
        .iter_mut()
        .find(|x| x.key == f.key && x.value == f.value && x.source.starts_with(RULE_SOURCE) == derived)
    {
        x.first_seen = x.first_seen.min(f.first_seen);
        x.last_seen = x.last_seen.max(f.last_seen);
        if (f.confidence, std::cmp::Reverse(&f.source)) > (x.confidence, std::cmp::Reverse(&x.source)) {
            x.confidence = f.confidence;
            x.source = f.source;
        }
        return;
    }
    let same_key = facts.iter().filter(|x| x.key == f.key).count();
    if same_key >= MAX_VALUES_PER_KEY {
        // The value seen longest ago makes room, unless the new one is older still.
        let Some((i, oldest)) = facts
            .iter()
            .enumerate()
            .filter(|(_, x)| x.key == f.key)
            .min_by(|a, b| (a.1.last_seen, &a.1.value).cmp(&(b.1.last_seen, &b.1.value)))
        else {
            return;
        };
        if (oldest.last_seen, &oldest.value) > (f.last_seen, &f.value) {
            return;
        }
        facts.swap_remove(i);
    }
    facts.push(f);
}

/// Adds a sighting range of an address: it widens a range of the same address it overlaps or
/// nearly touches (within `gap` seconds), or opens a new one.
fn add_range(ranges: &mut Vec<IpRange>, r: IpRange, gap: u64) {
    let gap = gap.saturating_mul(1_000_000_000);
    let near = |x: &IpRange, r: &IpRange| {
        x.ip == r.ip
            && x.first_seen.as_nanos() <= r.last_seen.as_nanos().saturating_add(gap)
            && r.first_seen.as_nanos() <= x.last_seen.as_nanos().saturating_add(gap)
    };
    let mut merged = r;
    ranges.retain(|x| {
        if near(x, &merged) {
            merged.first_seen = merged.first_seen.min(x.first_seen);
            merged.last_seen = merged.last_seen.max(x.last_seen);
            false
        } else {
            true
        }
    });
    // Widening may now reach a range it did not before.
    while let Some(i) = ranges.iter().position(|x| near(x, &merged)) {
        let x = ranges.swap_remove(i);
        merged.first_seen = merged.first_seen.min(x.first_seen);
        merged.last_seen = merged.last_seen.max(x.last_seen);
    }
    ranges.push(merged);
    ranges.sort_by_key(|x| (x.first_seen, x.ip));
    if ranges.len() > MAX_IP_RANGES {
        let excess = ranges.len() - MAX_IP_RANGES;
        ranges.drain(..excess);
    }
}

fn add_service(services: &mut Vec<Service>, s: Service, add_counts: bool) {
    if let Some(x) = services.iter_mut().find(|x| x.proto == s.proto && x.port == s.port) {
        x.flows = if add_counts { x.flows + s.flows } else { x.flows.max(s.flows) };
        x.first_seen = x.first_seen.min(s.first_seen);
        x.last_seen = x.last_seen.max(s.last_seen);
        if let Some(app) = s.app
            && x.app.as_ref().is_none_or(|a| app < *a)
        {
            x.app = Some(app);
        }
        return;
    }
    if services.len() < MAX_SERVICES {
        services.push(s);
        services.sort_by_key(|x| (x.proto, x.port));
    }
}

/// The address the device used last, and when.
fn latest_ip(ranges: &[IpRange]) -> Option<(IpAddr, Timestamp)> {
    ranges.iter().max_by_key(|r| (r.last_seen, r.ip)).map(|r| (r.ip, r.last_seen))
}

/// The addresses in use at the device's last sighting.
fn current_ips(ranges: &[IpRange], last_seen: Timestamp, gap: u64) -> Vec<IpAddr> {
    let cutoff = last_seen.as_nanos().saturating_sub(gap.saturating_mul(1_000_000_000));
    let mut ips: Vec<IpAddr> =
        ranges.iter().filter(|r| r.last_seen.as_nanos() >= cutoff).map(|r| r.ip).collect();
    ips.sort();
    ips.dedup();
    ips
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sightings::AttributeSummary;

    const HOUR: u64 = 3600;

    fn t(secs: u64) -> Timestamp {
        Timestamp::from_secs(1_700_000_000 + secs)
    }

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn seen(m: Option<Mac>, addr: &str, from: u64, to: u64) -> DeviceSummary {
        let a = ip(addr);
        DeviceSummary {
            key: m.map_or_else(|| format!("ip:{a}"), |m| format!("mac:{m}")),
            macs: m.into_iter().collect(),
            ips: vec![a],
            first_seen: Some(t(from)),
            last_seen: Some(t(to)),
            evidence: vec![if m.is_some() { "dhcp.ack" } else { "flow" }.to_owned()],
            ip_history: vec![IpRange { ip: a, first_seen: t(from), last_seen: t(to) }],
            ..DeviceSummary::default()
        }
    }

    fn with_attr(mut d: DeviceSummary, key: &str, value: &str) -> DeviceSummary {
        d.attributes.push(AttributeSummary {
            key: key.to_owned(),
            value: value.to_owned(),
            source: "dhcp.option12".to_owned(),
            confidence: 80,
            first_seen: d.first_seen.unwrap_or_default(),
            last_seen: d.last_seen.unwrap_or_default(),
            count: 1,
        });
        d
    }

    fn absorb(inv: &mut Inventory, mut run: Vec<DeviceSummary>) -> (Changes, Vec<DeviceSummary>) {
        let now = run.iter().filter_map(|d| d.last_seen).max();
        let c = inv.absorb(&mut run, std::iter::empty(), &Rules::builtin(), now, true);
        (c, run)
    }

    /// The inventory as the store would hand it back after writing `inv`.
    fn reload(inv: &Inventory) -> Inventory {
        let records: Vec<DeviceRecord> = inv.records().cloned().collect();
        let overrides = inv.overrides.values().flat_map(|o| o.values().cloned()).collect();
        Inventory::new(records, overrides, inv.next_id - 1, inv.config)
    }

    #[test]
    fn a_new_device_is_an_event_and_the_same_run_again_changes_nothing() {
        let mut inv = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        let a = mac("00:1b:63:84:45:e6");
        let run = vec![with_attr(seen(Some(a), "10.1.0.5", 0, 60), "hostname", "pump-7")];
        let (c, placed) = absorb(&mut inv, run.clone());
        assert_eq!(c.devices.len(), 1);
        assert_eq!(placed[0].id, Some(DeviceId(1)));
        assert_eq!(c.events.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::NewDevice]);
        let d = &c.devices[0].device;
        assert_eq!(d.keys, [DeviceKey::Mac(a), DeviceKey::Ip(ip("10.1.0.5"))]);
        // Written, read back, and the same run once more: nothing to write, nothing to say.
        let mut again = reload(&inv);
        let (c2, placed2) = absorb(&mut again, run);
        assert!(c2.devices.is_empty() && c2.events.is_empty() && c2.merged.is_empty(), "{c2:?}");
        assert_eq!(placed2[0].id, Some(DeviceId(1)));
    }

    #[test]
    fn dhcp_renumbering_keeps_both_ranges_and_says_so() {
        let mut inv = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        let a = mac("00:1b:63:84:45:e6");
        absorb(&mut inv, vec![seen(Some(a), "10.1.0.5", 0, HOUR)]);
        let (c, _) = absorb(&mut inv, vec![seen(Some(a), "10.1.0.9", 5 * HOUR, 6 * HOUR)]);
        let r = &c.devices[0];
        assert_eq!(r.ip_ranges.len(), 2);
        assert_eq!(r.ip_ranges[0].ip, ip("10.1.0.5"));
        assert_eq!(r.ip_ranges[1].ip, ip("10.1.0.9"));
        assert_eq!(r.device.ips, [ip("10.1.0.9")], "the current address only");
        let e = c.events.iter().find(|e| e.kind == EventKind::IpChanged).unwrap();
        assert_eq!((e.old.as_deref(), e.new.as_deref()), (Some("10.1.0.5"), Some("10.1.0.9")));
        assert_eq!(e.evidence, "dhcp.ack");
        // The address's own sighting close to its range widens it instead of opening another.
        let (c, _) = absorb(&mut inv, vec![seen(Some(a), "10.1.0.9", 6 * HOUR + 60, 7 * HOUR)]);
        assert_eq!(c.devices[0].ip_ranges.len(), 2);
        assert!(c.events.is_empty(), "{:?}", c.events);
    }

    #[test]
    fn an_address_known_alone_joins_the_mac_that_claims_it() {
        let mut inv = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        let (_, first) =
            absorb(&mut inv, vec![with_attr(seen(None, "10.9.0.7", 0, 60), "hostname", "monitor-3")]);
        let ip_id = first[0].id.unwrap();
        let a = mac("00:09:fb:01:02:03");
        let (c, placed) = absorb(&mut inv, vec![seen(Some(a), "10.9.0.7", 100, 200)]);
        let mac_id = placed[0].id.unwrap();
        assert_ne!(ip_id, mac_id);
        assert_eq!(c.merged, [(ip_id, mac_id)]);
        assert_eq!(inv.len(), 1);
        let r = inv.records().next().unwrap();
        assert!(r.facts.iter().any(|f| f.key == "hostname" && f.value == "monitor-3"), "facts moved");
        assert!(r.device.keys.contains(&DeviceKey::Ip(ip("10.9.0.7"))));
        // Seen again from behind a router, by address only: the same device.
        let (_, placed) = absorb(&mut inv, vec![seen(None, "10.9.0.7", 300, 400)]);
        assert_eq!(placed[0].id, Some(mac_id));
        assert_eq!(inv.len(), 1);
    }

    #[test]
    fn a_randomised_mac_alone_does_not_make_two_devices_one() {
        let mut inv = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        let r = mac("da:a1:19:00:00:01");
        let mut phone = with_attr(seen(Some(r), "10.2.0.5", 0, 60), "hostname", "Galaxy-S21");
        phone.vlans = vec![20];
        let (_, a) = absorb(&mut inv, vec![phone.clone()]);
        assert!(inv.records().next().unwrap().device.randomized_mac);
        // Same MAC, another VLAN, another host name: another device.
        let mut other = with_attr(seen(Some(r), "10.3.0.5", 100, 160), "hostname", "iPad");
        other.vlans = vec![30];
        let (_, b) = absorb(&mut inv, vec![other]);
        assert_ne!(a[0].id, b[0].id);
        // Same MAC and host name on yet another VLAN: the phone again.
        let mut back = phone.clone();
        back.vlans = vec![40];
        back.ips = vec![ip("10.4.0.5")];
        let (_, c) = absorb(&mut inv, vec![back]);
        assert_eq!(c[0].id, a[0].id);
    }

    #[test]
    fn overrides_win_and_state_follows_time() {
        let a = mac("00:1b:63:84:45:e6");
        let mut inv = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        let (_, placed) = absorb(&mut inv, vec![seen(Some(a), "10.1.0.5", 0, 60)]);
        let id = placed[0].id.unwrap();
        let o = |key: &str, value: &str| Override {
            device: id,
            key: key.to_owned(),
            value: value.to_owned(),
            set_by: "biomed".to_owned(),
            set_at: t(0),
        };
        let records: Vec<DeviceRecord> = inv.records().cloned().collect();
        let mut inv = Inventory::new(
            records,
            vec![o("class", "ventilator"), o("vendor", "Hamilton Medical")],
            1,
            inv.config,
        );
        let (_, placed) = absorb(&mut inv, vec![seen(Some(a), "10.1.0.5", 100, 160)]);
        let class = placed[0].classification.class.as_ref().unwrap();
        assert_eq!(
            (class.value.as_str(), class.source.as_str(), class.confidence),
            ("ventilator", "override", 100)
        );
        assert_eq!(placed[0].classification.vendor.as_ref().unwrap().value, "Hamilton Medical");
        // Eight days later another device speaks; this one has gone quiet: stale, an event.
        let (c, _) = absorb(
            &mut inv,
            vec![seen(Some(mac("00:1b:63:00:00:01")), "10.1.0.6", 8 * 24 * HOUR, 8 * 24 * HOUR)],
        );
        let stale = c.events.iter().find(|e| e.device == id).unwrap();
        assert_eq!(stale.kind, EventKind::Stale);
        assert_eq!(inv.records().find(|r| r.device.id == id).unwrap().device.state, Lifecycle::Stale);
        // Back again.
        let (c, _) = absorb(&mut inv, vec![seen(Some(a), "10.1.0.5", 8 * 24 * HOUR + 5, 8 * 24 * HOUR + 9)]);
        assert!(c.events.iter().any(|e| e.device == id && e.kind == EventKind::Returned));
    }

    #[test]
    fn devices_a_run_did_not_see_are_classified_again_only_when_the_rules_change() {
        let mut inv = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        let pump = mac("00:1b:63:84:45:e6");
        let (_, placed) = absorb(
            &mut inv,
            vec![with_attr(seen(Some(pump), "10.1.0.5", 0, 60), "hostname", "alaris-pc-17")],
        );
        let id = placed[0].id.unwrap();
        let class = |inv: &Inventory| {
            inv.records()
                .find(|r| r.device.id == id)
                .and_then(|r| r.device.classification.class.as_ref())
                .map(|c| c.value.clone())
        };
        assert_eq!(class(&inv).as_deref(), Some("infusion_pump"));
        // Another device's run, the same rules: the pump keeps its class and is not rewritten.
        let other = seen(Some(mac("00:1b:63:00:00:01")), "10.1.0.6", 100, 160);
        let (c, _) = absorb(&mut inv, vec![other.clone()]);
        assert!(c.devices.iter().all(|r| r.device.id != id), "an unchanged device was rewritten");
        assert_eq!(class(&inv).as_deref(), Some("infusion_pump"));
        // Other rules (here: none): every device is classified again.
        let mut run = vec![other];
        let now = run[0].last_seen;
        let c = inv.absorb(&mut run, std::iter::empty(), &Rules::new(), now, true);
        assert_eq!(class(&inv), None);
        assert!(c.events.iter().any(|e| e.device == id && e.kind == EventKind::ClassChanged));
    }

    #[test]
    fn the_order_of_a_runs_devices_does_not_matter() {
        let run: Vec<DeviceSummary> = (0..20u8)
            .map(|i| {
                let m = Mac([0, 0x1b, 0x63, 0, 0, i]);
                with_attr(
                    seen(Some(m), &format!("10.0.0.{i}"), u64::from(i), 100),
                    "hostname",
                    &format!("h{i}"),
                )
            })
            .collect();
        let mut reversed = run.clone();
        reversed.reverse();
        let mut a = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        let mut b = Inventory::new(Vec::new(), Vec::new(), 0, InventoryConfig::default());
        absorb(&mut a, run);
        absorb(&mut b, reversed);
        let by_mac = |inv: &Inventory| {
            let mut v: Vec<(Vec<Mac>, Vec<IpRange>, Vec<Fact>)> = inv
                .records()
                .map(|r| (r.device.macs.clone(), r.ip_ranges.clone(), r.facts.clone()))
                .collect();
            v.sort_by(|x, y| x.0.cmp(&y.0));
            v
        };
        assert_eq!(by_mac(&a), by_mac(&b));
    }
}
