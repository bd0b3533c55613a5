//! Ward's persistence: devices with their facts and evidence, IP history, services, the
//! communication map, events, overrides, alerts and findings, behind one trait ([`Store`]),
//! with SQLite (WAL, migrations) as the embedded default.
//!
//! The store holds no logic of the inventory: `ward-engine` computes what changed and hands
//! it over as a [`ChangeSet`], which is written in one transaction. It must never receive
//! patient data: everything it keeps comes from `ward-core` records, which carry none.
//!
//! - [`SqliteStore`] ([`sqlite`]): the embedded backend, async like the trait.
//! - [`Blocking`]: the same with its own small runtime, for the engine and the command line.
//! - [`synthetic`]: a deterministic made-up inventory for benchmarks and tests.
//!
//! ```no_run
//! # fn demo() -> ward_store::Result<()> {
//! use ward_store::{Blocking, DeviceQuery};
//! let store = Blocking::open_sqlite(std::path::Path::new("ward.db"))?;
//! let query = DeviceQuery { sort: Some("-last_seen".into()), limit: Some(20), ..Default::default() };
//! for device in store.list(&query)? {
//!     println!("{} {:?}", device.id, device.classification.class.map(|c| c.value));
//! }
//! # Ok(())
//! # }
//! ```

mod blocking;
pub mod sqlite;
pub mod synthetic;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use ward_core::{
    Alert, CommEdge, Device, DeviceId, DeviceKey, EventKind, Finding, InventoryEvent, Lifecycle, Override,
    Suppression, Timestamp,
};

pub use blocking::Blocking;
pub use sqlite::SqliteStore;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(String),
    /// The database file is not Ward's, or is from a newer Ward.
    #[error("{0}")]
    Schema(String),
    /// A request the store cannot answer (an unknown sort key, a bad filter).
    #[error("{0}")]
    Invalid(String),
}

/// A shorthand.
pub type Result<T> = std::result::Result<T, StoreError>;

pub use ward_core::DeviceRecord;

/// Everything the engine needs to carry on from where the last run left off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every device.
    pub devices: Vec<DeviceRecord>,
    /// Every override.
    pub overrides: Vec<Override>,
    /// The highest device id ever given (ids are never reused, even after a merge).
    pub max_device_id: i64,
}

/// A set of captures (or a live session) written into the store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// A digest naming the captures' contents; empty for what cannot be read twice (live).
    pub fingerprint: String,
    /// What was read (file names, or the interface).
    pub source: String,
    /// Earliest packet.
    pub first_packet: Option<Timestamp>,
    /// Latest packet.
    pub last_packet: Option<Timestamp>,
    /// Packets read.
    pub packets: u64,
    /// When it was written (wall time).
    pub written_at: Timestamp,
}

/// What one flush of the engine changes, written in one transaction: either all of it is in
/// the store afterwards or none of it is (a crash in the middle leaves the store as before).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// Devices new or changed: each replaces the stored device, its facts, IP ranges and
    /// services as a whole.
    pub devices: Vec<DeviceRecord>,
    /// Records that turned out to be one device: `(from, into)`. `from` disappears; its
    /// communication map, events and overrides move to `into` (an override `into` has for
    /// the same key stays).
    pub merged: Vec<(DeviceId, DeviceId)>,
    /// Communication map: added to what the store holds for the same (initiator, responder,
    /// proto, port, app, hour).
    pub edges: Vec<CommEdge>,
    /// Events, appended.
    pub events: Vec<InventoryEvent>,
    /// The import this change completes, if any: recorded in the same transaction.
    pub import: Option<Import>,
    /// Alerts raised: each folds into a stored alert with the same key that is not closed
    /// and was last seen within `alert_window_secs` of it (count and last sighting grow),
    /// or is added.
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// How far back an alert folds into an alike one, in seconds.
    #[serde(default)]
    pub alert_window_secs: u64,
    /// Baselines new or changed, each replacing the device's.
    #[serde(default)]
    pub baselines: Vec<StoredBaseline>,
}

/// A device's behaviour baseline as the store keeps it: the detector's record as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBaseline {
    /// The device.
    pub device: DeviceId,
    /// When its learning ends.
    pub learning_until: Timestamp,
    /// The detector's record.
    pub data: String,
}

/// Which alerts to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertQuery {
    /// Only this state (`open`, `acknowledged`, `closed`).
    pub state: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only about this device.
    pub device: Option<DeviceId>,
    /// At most this many, newest first (default 1000).
    pub limit: Option<u64>,
}

/// Which devices to list, and in which order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceQuery {
    /// Only this class.
    pub class: Option<String>,
    /// Only vendors containing this (case-insensitive).
    pub vendor: Option<String>,
    /// Only this criticality.
    pub criticality: Option<String>,
    /// Only this state.
    pub state: Option<Lifecycle>,
    /// Only devices on this VLAN.
    pub vlan: Option<u16>,
    /// Only devices whose MAC, address, class, vendor, model or description contains this.
    pub text: Option<String>,
    /// `id`, `class`, `vendor`, `model`, `firmware`, `criticality`, `first_seen`, `last_seen`,
    /// `ip`, `mac`; a leading `-` sorts descending. Default `id`.
    pub sort: Option<String>,
    /// At most this many (default: all).
    pub limit: Option<u64>,
    /// Skip this many first.
    pub offset: Option<u64>,
}

/// A peer of a device, aggregated over the communication map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    /// The other device.
    pub peer: DeviceId,
    /// Whether the device opened the conversations (`true`) or answered them.
    pub initiated: bool,
    /// IP protocol number.
    pub proto: u8,
    /// The responder's port.
    pub port: u16,
    /// The application, when detected (`""` when not).
    pub app: String,
    /// Conversations.
    pub flows: u64,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// The first hour (seconds since the epoch / 3600).
    pub first_hour: i64,
    /// The last hour.
    pub last_hour: i64,
}

/// Which events to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    /// Only this device's.
    pub device: Option<DeviceId>,
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// At most this many, newest first.
    pub limit: Option<u64>,
}

/// How a device may be named on the command line: its number, a MAC, an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceRef {
    /// Its number.
    Id(DeviceId),
    /// One of its keys.
    Key(DeviceKey),
}

impl std::str::FromStr for DeviceRef {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<DeviceRef, String> {
        let s = s.trim();
        let s = s.strip_prefix("mac:").or_else(|| s.strip_prefix("ip:")).unwrap_or(s);
        if let Ok(n) = s.parse::<i64>() {
            return Ok(DeviceRef::Id(DeviceId(n)));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(DeviceRef::Key(DeviceKey::Ip(ip)));
        }
        if let Ok(mac) = s.parse() {
            return Ok(DeviceRef::Key(DeviceKey::Mac(mac)));
        }
        Err(format!("{s:?} is not a device number, a MAC or an IP address"))
    }
}

/// A stored vulnerability document's identity and revision (no body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnDocumentHead {
    /// `csaf`, `nvd`, `kev`, `epss`.
    pub kind: String,
    /// Its id (`ICSMA-20-317-01`, `CVE-2020-25165`, `kev`).
    pub id: String,
    /// Its revision as the document says it.
    pub version: String,
    /// Its release time as the document says it, or empty.
    pub released: String,
    /// SHA-256 of the body, hex.
    pub sha256: String,
}

/// A vulnerability document as stored: an advisory, an NVD record, a catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnDocument {
    /// What and which revision.
    pub head: VulnDocumentHead,
    /// Where it was read from (a file or a URL).
    pub source: String,
    /// The document's bytes.
    pub body: Vec<u8>,
    /// When it was imported (wall time).
    pub imported_at: Timestamp,
}

/// One finding of an assessment, kept to tell what changed at the next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnStateRow {
    /// The device.
    pub device: DeviceId,
    /// The CVE.
    pub cve: String,
    /// `affected` or `unknown_version`.
    pub standing: String,
    /// The device's firmware then.
    pub firmware: Option<String>,
}

/// An assessment to record: its summary, its findings as state for the next one, and the
/// devices' `vuln` findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnAssessment {
    /// When (wall time).
    pub ts: Timestamp,
    /// A digest of the documents matched against.
    pub catalog: String,
    /// Devices assessed.
    pub devices: u64,
    /// What changed since the previous assessment (JSON).
    pub changes: String,
    /// Every finding, replacing the previous state.
    pub state: Vec<VulnStateRow>,
    /// Findings of kind `vuln`: these replace the stored ones of that kind (those no longer
    /// found are removed; the first sighting of those still found is kept).
    pub findings: Vec<Finding>,
}

/// Persistence behind one interface. Methods are async: the engine and the command line call
/// them through a small runtime, the server (later) from its own.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Everything the engine carries on from.
    async fn snapshot(&self) -> Result<Snapshot>;
    /// The import with this fingerprint, if it was written completely.
    async fn import(&self, fingerprint: &str) -> Result<Option<Import>>;
    /// Writes a change set in one transaction.
    async fn apply(&self, changes: &ChangeSet) -> Result<()>;
    /// Devices matching a query, with their resolved fields (facts etc. left empty).
    async fn list(&self, query: &DeviceQuery) -> Result<Vec<Device>>;
    /// How many devices match a query (ignoring its limit and offset).
    async fn count(&self, query: &DeviceQuery) -> Result<u64>;
    /// The device a reference names.
    async fn resolve(&self, device: DeviceRef) -> Result<Option<DeviceId>>;
    /// One device with everything attached.
    async fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>>;
    /// Its peers over the communication map, most traffic first.
    async fn peers(&self, id: DeviceId) -> Result<Vec<Peer>>;
    /// Events, newest first.
    async fn events(&self, query: &EventQuery) -> Result<Vec<InventoryEvent>>;
    /// Every override.
    async fn overrides(&self) -> Result<Vec<Override>>;
    /// Sets (or replaces) an override and records an `Override` event, in one transaction.
    async fn set_override(&self, o: &Override) -> Result<()>;
    /// Removes an override; whether there was one.
    async fn clear_override(&self, device: DeviceId, key: &str) -> Result<bool>;
    /// Appends alerts; their ids as stored.
    async fn add_alerts(&self, alerts: &[Alert]) -> Result<Vec<i64>>;
    /// Alerts, newest first, at most `limit`.
    async fn alerts(&self, limit: u64) -> Result<Vec<Alert>>;
    /// Inserts findings, or refreshes those already held for the same (device, kind,
    /// reference): severity, detail and evidence replaced, first seen kept, last seen widened.
    async fn upsert_findings(&self, findings: &[Finding]) -> Result<()>;
    /// Findings of one device, or of all.
    async fn findings(&self, device: Option<DeviceId>) -> Result<Vec<Finding>>;
    /// Makes `findings` the findings of `kind`, in one transaction: those held for the same
    /// (device, kind, reference) keep their first sighting, the others of that kind are
    /// removed (a violation that no longer holds, a vulnerability patched).
    async fn replace_findings(&self, kind: &str, findings: &[Finding]) -> Result<()>;
    /// The whole communication map, oldest hour first.
    async fn edges(&self) -> Result<Vec<CommEdge>>;
    /// Alerts matching a query, newest first.
    async fn alert_query(&self, query: &AlertQuery) -> Result<Vec<Alert>>;
    /// Sets an alert's state (`open`, `acknowledged`, `closed`); whether it exists.
    async fn set_alert_state(&self, id: i64, state: &str) -> Result<bool>;
    /// Every baseline.
    async fn baselines(&self) -> Result<Vec<StoredBaseline>>;
    /// Adds a suppression rule; its id.
    async fn add_suppression(&self, s: &Suppression) -> Result<i64>;
    /// Every suppression rule, expired ones too (newest first).
    async fn suppressions(&self) -> Result<Vec<Suppression>>;
    /// Removes a suppression rule; whether there was one.
    async fn remove_suppression(&self, id: i64) -> Result<bool>;
    /// Every pair of devices that talked, as (initiator, responder), each pair once.
    async fn comm_pairs(&self) -> Result<Vec<(DeviceId, DeviceId)>>;
    /// Facts with one of these keys, of every device, as (device, key, value).
    async fn facts_by_key(&self, keys: &[&str]) -> Result<Vec<(DeviceId, String, String)>>;
    /// The stored vulnerability documents' identities and revisions.
    async fn vuln_document_heads(&self) -> Result<Vec<VulnDocumentHead>>;
    /// Every stored vulnerability document, by kind and id.
    async fn vuln_documents(&self) -> Result<Vec<VulnDocument>>;
    /// Stores documents, each replacing the stored one of the same kind and id, in one
    /// transaction.
    async fn put_vuln_documents(&self, docs: &[VulnDocument]) -> Result<()>;
    /// The latest assessment's findings.
    async fn vuln_state(&self) -> Result<Vec<VulnStateRow>>;
    /// Records an assessment in one transaction (see [`VulnAssessment`]); its id.
    async fn record_vuln_assessment(&self, a: &VulnAssessment) -> Result<i64>;
}
