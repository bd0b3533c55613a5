//! The store for synchronous callers (the engine, the command line): a [`Store`] with its own
//! current-thread tokio runtime, every method a blocking call. SQLite's work happens on the
//! driver's worker threads, so one runtime thread is enough to wait on it.

use std::future::Future;
use std::path::Path;

use ward_core::{Alert, CommEdge, Device, DeviceId, Finding, InventoryEvent, Override, Suppression};

use crate::{
    AlertQuery, ChangeSet, DeviceQuery, DeviceRecord, DeviceRef, EventQuery, Import, Peer, Result, Snapshot,
    SqliteStore, Store, StoreError, StoredBaseline, VulnAssessment, VulnDocument, VulnDocumentHead,
    VulnStateRow,
};

/// A [`Store`] behind blocking calls.
///
/// ```no_run
/// # fn demo() -> ward_store::Result<()> {
/// let store = ward_store::Blocking::open_sqlite(std::path::Path::new("ward.db"))?;
/// let devices = store.list(&ward_store::DeviceQuery::default())?;
/// # let _ = devices;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Blocking<S = SqliteStore> {
    // Declared before the runtime: dropped first, while the runtime that drives its
    // connections still exists.
    store: S,
    rt: tokio::runtime::Runtime,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| StoreError::Database(format!("cannot start the store's runtime: {e}")))
}

impl Blocking<SqliteStore> {
    /// Opens (or creates) the SQLite store at `path`; see [`SqliteStore::open`].
    pub fn open_sqlite(path: &Path) -> Result<Blocking<SqliteStore>> {
        Blocking::open_with(|| SqliteStore::open(path))
    }

    /// A SQLite store in memory, for tests.
    pub fn open_sqlite_in_memory() -> Result<Blocking<SqliteStore>> {
        Blocking::open_with(SqliteStore::open_in_memory)
    }

    /// Closes the connections, checkpointing the write-ahead log.
    pub fn close(self) {
        self.rt.block_on(self.store.close());
    }

    /// `PRAGMA integrity_check`'s verdict (`"ok"` when sound).
    pub fn integrity_check(&self) -> Result<String> {
        self.rt.block_on(self.store.integrity_check())
    }

    /// The highest device id ever given; see [`SqliteStore::max_device_id`].
    pub fn max_device_id(&self) -> Result<i64> {
        self.rt.block_on(self.store.max_device_id())
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        self.rt.block_on(self.store.schema_version())
    }
}

impl<S: Store> Blocking<S> {
    /// Starts a runtime and opens a store on it with `open`.
    pub fn open_with<F, Fut>(open: F) -> Result<Blocking<S>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<S>>,
    {
        let rt = runtime()?;
        let store = rt.block_on(open())?;
        Ok(Blocking { store, rt })
    }

    /// The store itself, for async callers sharing this runtime through [`Self::block_on`].
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Runs a future on the store's runtime.
    pub fn block_on<T>(&self, f: impl Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// See [`Store::snapshot`].
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.rt.block_on(self.store.snapshot())
    }

    /// See [`Store::import`].
    pub fn import(&self, fingerprint: &str) -> Result<Option<Import>> {
        self.rt.block_on(self.store.import(fingerprint))
    }

    /// See [`Store::apply`].
    pub fn apply(&self, changes: &ChangeSet) -> Result<()> {
        self.rt.block_on(self.store.apply(changes))
    }

    /// See [`Store::list`].
    pub fn list(&self, query: &DeviceQuery) -> Result<Vec<Device>> {
        self.rt.block_on(self.store.list(query))
    }

    /// See [`Store::count`].
    pub fn count(&self, query: &DeviceQuery) -> Result<u64> {
        self.rt.block_on(self.store.count(query))
    }

    /// See [`Store::resolve`].
    pub fn resolve(&self, device: DeviceRef) -> Result<Option<DeviceId>> {
        self.rt.block_on(self.store.resolve(device))
    }

    /// See [`Store::device`].
    pub fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>> {
        self.rt.block_on(self.store.device(id))
    }

    /// See [`Store::peers`].
    pub fn peers(&self, id: DeviceId) -> Result<Vec<Peer>> {
        self.rt.block_on(self.store.peers(id))
    }

    /// See [`Store::events`].
    pub fn events(&self, query: &EventQuery) -> Result<Vec<InventoryEvent>> {
        self.rt.block_on(self.store.events(query))
    }

    /// See [`Store::overrides`].
    pub fn overrides(&self) -> Result<Vec<Override>> {
        self.rt.block_on(self.store.overrides())
    }

    /// See [`Store::set_override`].
    pub fn set_override(&self, o: &Override) -> Result<()> {
        self.rt.block_on(self.store.set_override(o))
    }

    /// See [`Store::clear_override`].
    pub fn clear_override(&self, device: DeviceId, key: &str) -> Result<bool> {
        self.rt.block_on(self.store.clear_override(device, key))
    }

    /// See [`Store::add_alerts`].
    pub fn add_alerts(&self, alerts: &[Alert]) -> Result<Vec<i64>> {
        self.rt.block_on(self.store.add_alerts(alerts))
    }

    /// See [`Store::alerts`].
    pub fn alerts(&self, limit: u64) -> Result<Vec<Alert>> {
        self.rt.block_on(self.store.alerts(limit))
    }

    /// See [`Store::upsert_findings`].
    pub fn upsert_findings(&self, findings: &[Finding]) -> Result<()> {
        self.rt.block_on(self.store.upsert_findings(findings))
    }

    /// See [`Store::findings`].
    pub fn findings(&self, device: Option<DeviceId>) -> Result<Vec<Finding>> {
        self.rt.block_on(self.store.findings(device))
    }

    /// See [`Store::replace_findings`].
    pub fn replace_findings(&self, kind: &str, findings: &[Finding]) -> Result<()> {
        self.block_on(self.store.replace_findings(kind, findings))
    }

    /// See [`Store::edges`].
    pub fn edges(&self) -> Result<Vec<CommEdge>> {
        self.block_on(self.store.edges())
    }

    /// See [`Store::alert_query`].
    pub fn alert_query(&self, q: &AlertQuery) -> Result<Vec<Alert>> {
        self.block_on(self.store.alert_query(q))
    }

    /// See [`Store::set_alert_state`].
    pub fn set_alert_state(&self, id: i64, state: &str) -> Result<bool> {
        self.block_on(self.store.set_alert_state(id, state))
    }

    /// See [`Store::baselines`].
    pub fn baselines(&self) -> Result<Vec<StoredBaseline>> {
        self.block_on(self.store.baselines())
    }

    /// See [`Store::add_suppression`].
    pub fn add_suppression(&self, s: &Suppression) -> Result<i64> {
        self.block_on(self.store.add_suppression(s))
    }

    /// See [`Store::suppressions`].
    pub fn suppressions(&self) -> Result<Vec<Suppression>> {
        self.block_on(self.store.suppressions())
    }

    /// See [`Store::remove_suppression`].
    pub fn remove_suppression(&self, id: i64) -> Result<bool> {
        self.block_on(self.store.remove_suppression(id))
    }

    /// See [`Store::comm_pairs`].
    pub fn comm_pairs(&self) -> Result<Vec<(DeviceId, DeviceId)>> {
        self.rt.block_on(self.store.comm_pairs())
    }

    /// See [`Store::facts_by_key`].
    pub fn facts_by_key(&self, keys: &[&str]) -> Result<Vec<(DeviceId, String, String)>> {
        self.rt.block_on(self.store.facts_by_key(keys))
    }

    /// See [`Store::vuln_document_heads`].
    pub fn vuln_document_heads(&self) -> Result<Vec<VulnDocumentHead>> {
        self.rt.block_on(self.store.vuln_document_heads())
    }

    /// See [`Store::vuln_documents`].
    pub fn vuln_documents(&self) -> Result<Vec<VulnDocument>> {
        self.rt.block_on(self.store.vuln_documents())
    }

    /// See [`Store::put_vuln_documents`].
    pub fn put_vuln_documents(&self, docs: &[VulnDocument]) -> Result<()> {
        self.rt.block_on(self.store.put_vuln_documents(docs))
    }

    /// See [`Store::vuln_state`].
    pub fn vuln_state(&self) -> Result<Vec<VulnStateRow>> {
        self.rt.block_on(self.store.vuln_state())
    }

    /// See [`Store::record_vuln_assessment`].
    pub fn record_vuln_assessment(&self, a: &VulnAssessment) -> Result<i64> {
        self.rt.block_on(self.store.record_vuln_assessment(a))
    }
}
