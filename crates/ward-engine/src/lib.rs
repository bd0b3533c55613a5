//! The engine: takes the sensor's observations, places them in the inventory, and writes the
//! store as its single writer.
//!
//! It owns no logic of its own: the run's reading and the inventory merge are
//! `ward-inventory`'s, the records `ward-core`'s, persistence `ward-store`'s. What it adds is
//! the order of things: load the inventory the store holds, take observations as they come,
//! and at the end place the run, classify, and write everything that changed in one
//! transaction, so that a crash at any moment leaves the store as it was before the run.
//!
//! ```no_run
//! use ward_engine::{Engine, EngineConfig};
//! use ward_inventory::classify::Rules;
//! use ward_store::Blocking;
//!
//! let store = Blocking::open_sqlite(std::path::Path::new("ward.db")).unwrap();
//! let mut engine = Engine::open(Some(store), Rules::builtin(), EngineConfig::default()).unwrap();
//! // engine.observe(&batch) for each batch of the sensor, then:
//! let outcome = engine.finish(ward_store::Import::default()).unwrap();
//! println!("{} devices written", outcome.devices_written);
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ward_core::{DeviceRecord, InventoryEvent, Observation, Suppression, Timestamp};
use ward_detect::{Baseline, DetectConfig, DetectOutcome, Detector, DeviceView, Indicators};
use ward_inventory::classify::Rules;
use ward_inventory::sightings::{DeviceSummary, Sightings};
use ward_inventory::{Inventory, InventoryConfig};
use ward_store::{Blocking, ChangeSet, Import, Store, StoreError, StoredBaseline};

/// What can go wrong in the engine: only the store can fail.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Settings of the engine.
#[derive(Clone, Default)]
pub struct EngineConfig {
    /// Settings of the inventory (stale period, address ranges).
    pub inventory: InventoryConfig,
    /// Detection (threat intelligence, behaviour), when wanted.
    pub detect: Option<Detection>,
}

/// What detection needs: its settings, the indicators to look up, and how far back an alert
/// folds into an alike one.
#[derive(Clone)]
pub struct Detection {
    /// Learning window, scan and volume thresholds.
    pub config: DetectConfig,
    /// The intel feeds' sets.
    pub indicators: Arc<dyn Indicators>,
    /// Alike alerts within this many seconds are one.
    pub alert_window_secs: u64,
}

/// What a finished run did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The run's devices, each with its place in the inventory (id, class, vendor, ...).
    pub devices: Vec<DeviceSummary>,
    /// What changed, as events.
    pub events: Vec<InventoryEvent>,
    /// Devices written (new or changed).
    pub devices_written: usize,
    /// Communication-map entries added.
    pub edges_written: usize,
    /// Edges dropped because an end had no device.
    pub edges_unplaced: u64,
    /// Devices in the inventory after the run.
    pub inventory_devices: usize,
    /// The same captures had been written before: counts were not added again.
    pub already_imported: bool,
    /// Observations taken.
    pub observations: u64,
    /// Seconds spent placing, classifying and writing (after the last observation).
    pub finish_secs: f64,
    /// What detection raised and learned, when it ran.
    pub detection: Option<DetectOutcome>,
    /// Stored baselines that could not be read (they start learning again).
    pub baselines_unreadable: usize,
}

/// Observations in, inventory and store out.
pub struct Engine<S: Store> {
    store: Option<Blocking<S>>,
    rules: Rules,
    inventory: Inventory,
    sightings: Sightings,
    observations: u64,
    detector: Option<Detector>,
    alert_window_secs: u64,
    baselines: Vec<Baseline>,
    baselines_unreadable: usize,
    suppressions: Vec<Suppression>,
}

impl<S: Store> Engine<S> {
    /// An engine carrying on from what `store` holds (or from nothing, without a store).
    pub fn open(store: Option<Blocking<S>>, rules: Rules, config: EngineConfig) -> Result<Engine<S>> {
        let inventory = match &store {
            Some(s) => {
                let snap = s.snapshot()?;
                Inventory::new(snap.devices, snap.overrides, snap.max_device_id, config.inventory)
            }
            None => Inventory::new(Vec::new(), Vec::new(), 0, config.inventory),
        };
        let (mut baselines, mut baselines_unreadable, mut suppressions) = (Vec::new(), 0, Vec::new());
        if let (Some(s), Some(_)) = (&store, &config.detect) {
            for b in s.baselines()? {
                match serde_json::from_str::<Baseline>(&b.data) {
                    Ok(x) if x.device == b.device => baselines.push(x),
                    _ => baselines_unreadable += 1,
                }
            }
            suppressions = s.suppressions()?;
        }
        let alert_window_secs = config.detect.as_ref().map_or(0, |d| d.alert_window_secs);
        let detector = config.detect.map(|d| Detector::new(d.config, d.indicators));
        Ok(Engine {
            store,
            rules,
            inventory,
            sightings: Sightings::new(),
            observations: 0,
            detector,
            alert_window_secs,
            baselines,
            baselines_unreadable,
            suppressions,
        })
    }

    /// Takes a batch of observations into account.
    pub fn observe(&mut self, batch: &[Observation]) {
        self.observations += batch.len() as u64;
        for o in batch {
            self.sightings.observe(o);
        }
        if let Some(d) = &mut self.detector {
            for o in batch {
                d.observe(o);
            }
        }
    }

    /// The run's reading so far (totals, devices by the run alone).
    pub fn sightings(&self) -> &Sightings {
        &self.sightings
    }

    /// Places the run in the inventory and writes what changed, in one transaction, with
    /// `run` (what was read; its time of writing is set here) unless its captures were
    /// written before.
    pub fn finish(&mut self, run: Import) -> Result<Outcome> {
        let start = Instant::now();
        let already = match (&self.store, run.fingerprint.is_empty()) {
            (Some(s), false) => s.import(&run.fingerprint)?.is_some(),
            _ => false,
        };
        let mut devices = self.sightings.devices();
        let changes = self.inventory.absorb(
            &mut devices,
            self.sightings.edges(),
            &self.rules,
            run.last_packet,
            !already,
        );
        let devices_written = changes.devices.len();
        let edges_written = changes.edges.len();
        let import =
            (!run.fingerprint.is_empty() && !already).then(|| Import { written_at: Timestamp::now(), ..run });
        // Detection sees the run's devices with their numbers. A run read before (the same
        // captures again) neither learns nor raises a second time.
        let detection = self.detector.take().map(|d| {
            let records: HashMap<i64, &DeviceRecord> =
                self.inventory.records().map(|r| (r.device.id.0, r)).collect();
            let views: Vec<DeviceView> = devices.iter().filter_map(|d| device_view(d, &records)).collect();
            d.finish(&views, std::mem::take(&mut self.baselines), &self.suppressions, Timestamp::now())
        });
        let (alerts, baselines) = match (&detection, already) {
            (Some(d), false) => (
                d.alerts.clone(),
                d.baselines
                    .iter()
                    .filter_map(|b| {
                        Some(StoredBaseline {
                            device: b.device,
                            learning_until: b.learning_until,
                            data: serde_json::to_string(b).ok()?,
                        })
                    })
                    .collect(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let set = ChangeSet {
            devices: changes.devices,
            merged: changes.merged,
            edges: changes.edges,
            events: changes.events,
            import,
            alerts,
            alert_window_secs: self.alert_window_secs,
            baselines,
        };
        if let Some(s) = &self.store {
            s.apply(&set)?;
        }
        Ok(Outcome {
            devices,
            events: set.events,
            devices_written,
            edges_written,
            edges_unplaced: changes.edges_unplaced,
            inventory_devices: self.inventory.len(),
            already_imported: already,
            observations: self.observations,
            finish_secs: start.elapsed().as_secs_f64(),
            detection,
            baselines_unreadable: self.baselines_unreadable,
        })
    }
}

/// The detector's view of one of the run's devices.
fn device_view(d: &DeviceSummary, records: &HashMap<i64, &DeviceRecord>) -> Option<DeviceView> {
    let id = d.id?;
    let class = d.classification.class.as_ref().map(|c| c.value.as_str());
    let clinical = class
        .and_then(ward_inventory::classify::class_info)
        .is_some_and(|c| c.category == ward_inventory::classify::Category::Clinical);
    let mut label = vec![format!("#{}", id.0)];
    label.extend(class.map(str::to_owned));
    label.extend(d.classification.vendor.as_ref().map(|v| v.value.clone()));
    label.extend(d.ips.first().map(|ip| ip.to_string()));
    let first_seen =
        records.get(&id.0).map(|r| r.device.first_seen).or(d.first_seen).unwrap_or(Timestamp::ZERO);
    Some(DeviceView { id, ips: d.ips.clone(), first_seen, clinical, label: label.join(" ") })
}
