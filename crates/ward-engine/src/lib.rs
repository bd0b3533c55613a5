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

use std::time::Instant;

use ward_core::{InventoryEvent, Observation, Timestamp};
use ward_inventory::classify::Rules;
use ward_inventory::sightings::{DeviceSummary, Sightings};
use ward_inventory::{Inventory, InventoryConfig};
use ward_store::{Blocking, ChangeSet, Import, Store, StoreError};

/// What can go wrong in the engine: only the store can fail.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Settings of the engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineConfig {
    /// Settings of the inventory (stale period, address ranges).
    pub inventory: InventoryConfig,
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
}

/// Observations in, inventory and store out.
pub struct Engine<S: Store> {
    store: Option<Blocking<S>>,
    rules: Rules,
    inventory: Inventory,
    sightings: Sightings,
    observations: u64,
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
        Ok(Engine { store, rules, inventory, sightings: Sightings::new(), observations: 0 })
    }

    /// Takes a batch of observations into account.
    pub fn observe(&mut self, batch: &[Observation]) {
        self.observations += batch.len() as u64;
        for o in batch {
            self.sightings.observe(o);
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
        let set = ChangeSet {
            devices: changes.devices,
            merged: changes.merged,
            edges: changes.edges,
            events: changes.events,
            import,
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
        })
    }
}
