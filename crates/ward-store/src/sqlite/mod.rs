//! The embedded backend: one SQLite file in WAL mode, written by one connection (the engine
//! is the single writer) and read by a small pool of read-only connections, which WAL lets
//! run beside a write.
//!
//! Bulk writes go as multi-row `INSERT`s in chunks under SQLite's limit of bound variables,
//! each chunk's statement prepared once and reused from the connection's statement cache, so
//! that a flush of tens of thousands of devices takes well under a second. Sets of device ids
//! go to SQLite as one JSON array (`json_each`) rather than as thousands of parameters.
//!
//! ```no_run
//! # async fn demo() -> ward_store::Result<()> {
//! use ward_store::{DeviceQuery, SqliteStore, Store};
//! let store = SqliteStore::open(std::path::Path::new("ward.db")).await?;
//! let pumps = store
//!     .list(&DeviceQuery { class: Some("infusion_pump".into()), ..DeviceQuery::default() })
//!     .await?;
//! # let _ = pumps;
//! # Ok(())
//! # }
//! ```

mod migrate;
mod rows;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Arguments, AssertSqlSafe, Row, Sqlite};
use ward_core::{
    Alert, CommEdge, Criticality, Device, DeviceId, EventKind, Finding, InventoryEvent, Lifecycle, Override,
    Suppression,
};

use crate::{
    AlertQuery, ChangeSet, DeviceQuery, DeviceRecord, DeviceRef, EventQuery, Import, Peer, Result, Snapshot,
    Store, StoreError, StoredBaseline, VulnAssessment, VulnDocument, VulnDocumentHead, VulnStateRow,
};
use rows::{count, nanos, uncount};

/// SQLite's limit on bound variables in one statement.
const MAX_VARIABLES: usize = 32_766;

/// Rows per multi-row `INSERT`: as many as the variable limit allows, but no more than this,
/// past which a longer statement stops paying for itself.
const MAX_CHUNK_ROWS: usize = 500;

/// Devices per query of a snapshot (each a JSON text of about a megabyte).
const SNAPSHOT_CHUNK: i64 = 500;

/// Reads map the file rather than copying its pages into each connection's cache: the
/// connections share the operating system's cache, and a large listing or a snapshot does
/// not pay a system call per page (1 GiB: the inventory's whole file, at the sizes Ward
/// targets).
const MMAP_SIZE: &str = "1073741824";

/// Read-only connections beside the writer.
const READERS: u32 = 4;

/// How long a statement waits for another process's lock (the CLI setting an override while
/// the engine writes) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(db) = &e {
            // SQLITE_NOTADB and SQLITE_CORRUPT (with their extended codes): the file is not
            // (or no longer) a database SQLite can read.
            if let Some(code) = db.code().and_then(|c| c.parse::<i32>().ok()) {
                match code & 0xff {
                    26 => return StoreError::Schema(format!("not a SQLite database: {db}")),
                    11 => return StoreError::Schema(format!("the database is damaged: {db}")),
                    _ => {}
                }
            }
        }
        StoreError::Database(e.to_string())
    }
}

/// Ward's store in a SQLite file. Cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// The one connection that writes.
    writer: SqlitePool,
    /// Read-only connections (the writer itself for an in-memory database).
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file on first run and bringing its schema up
    /// to date. A file that is not a SQLite database, is cut short, is another program's, or
    /// comes from a newer Ward is refused with [`StoreError::Schema`].
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let what = path.display().to_string();
        migrate::check_header(path)?;
        let base = SqliteConnectOptions::new().filename(path).foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        let writer_options = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            // A larger page cache for the writer: a flush touches many index pages.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", MMAP_SIZE)
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(writer_options)
            .await
            .map_err(|e| with_path(&what, e.into()))?;
        migrate::migrate(&writer, &what).await.map_err(|e| with_path(&what, e))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(base.read_only(true).pragma("mmap_size", MMAP_SIZE).pragma("temp_store", "memory"))
            .await
            .map_err(|e| with_path(&what, e.into()))?;
        Ok(SqliteStore { writer, reader })
    }

    /// A store in memory, gone when dropped: for tests. One connection reads and writes (an
    /// in-memory database lives in its connection), and it is never closed for idling.
    pub async fn open_in_memory() -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new().in_memory(true).foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        migrate::migrate(&pool, ":memory:").await?;
        Ok(SqliteStore { writer: pool.clone(), reader: pool })
    }

    /// Closes every connection, waiting for them (the last one to close checkpoints the
    /// write-ahead log into the database file).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// The schema version of the open database.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT max(version) FROM schema_version").fetch_one(&self.reader).await?)
    }

    /// The highest device id ever given, without reading the inventory.
    pub async fn max_device_id(&self) -> Result<i64> {
        let stored: i64 = sqlx::query_scalar(
            "SELECT max((SELECT value FROM meta WHERE key = 'max_device_id'),
                        (SELECT coalesce(max(id), 0) FROM devices))",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(stored)
    }

    /// Runs `PRAGMA integrity_check` and returns its verdict (`"ok"` when sound).
    pub async fn integrity_check(&self) -> Result<String> {
        let rows = sqlx::query("PRAGMA integrity_check").fetch_all(&self.writer).await?;
        let lines: Vec<String> =
            rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<std::result::Result<_, _>>()?;
        Ok(lines.join("\n"))
    }

    /// The database's journal mode (`wal` for a file).
    pub async fn journal_mode(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&self.writer).await?)
    }
}

fn with_path(what: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Schema(m) if !m.contains(what) => StoreError::Schema(format!("{what}: {m}")),
        StoreError::Database(m) => StoreError::Database(format!("{what}: {m}")),
        e => e,
    }
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

/// `head VALUES (?,..),(?,..) tail` for `rows` rows of `columns` values.
fn values_sql(head: &str, columns: usize, rows: usize, tail: &str) -> String {
    let mut s = String::with_capacity(head.len() + tail.len() + 8 + rows * (columns * 2 + 2));
    s.push_str(head);
    s.push_str(" VALUES ");
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..columns {
            if c > 0 {
                s.push(',');
            }
            s.push('?');
        }
        s.push(')');
    }
    s.push(' ');
    s.push_str(tail);
    s
}

/// The values of one multi-row statement.
type Args = SqliteArguments;

/// What binding a value can fail with (an encoding error, which Ward's types never give).
type BindResult = std::result::Result<(), sqlx::error::BoxDynError>;

/// Inserts `items` with multi-row statements `head VALUES (..),.. tail`, adding each item's
/// `columns` values with `bind`.
///
/// The values of the next chunk are bound while SQLite (on the driver's worker thread)
/// executes the current one, so that the two threads' work overlaps.
async fn insert_rows<'a, T>(
    conn: &mut SqliteConnection,
    head: &str,
    tail: &str,
    columns: usize,
    items: &'a [T],
    bind: impl Fn(&mut Args, &'a T) -> BindResult,
) -> Result<()> {
    let per_chunk = (MAX_VARIABLES / columns).clamp(1, MAX_CHUNK_ROWS);
    let full_sql = values_sql(head, columns, per_chunk.min(items.len()), tail);
    let build = |chunk: &'a [T]| -> Result<(String, Args)> {
        // Every full chunk has the same text, so the statement is prepared once and then
        // taken from the connection's cache.
        let sql = if chunk.len() == per_chunk || chunk.len() == items.len() {
            full_sql.clone()
        } else {
            values_sql(head, columns, chunk.len(), tail)
        };
        // Sized once: grown value by value, the buffer's reallocations cost more than the
        // binding itself.
        let mut args = Args::default();
        args.reserve(chunk.len() * columns, 0);
        for item in chunk {
            bind(&mut args, item).map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
        Ok((sql, args))
    };
    let mut chunks = items.chunks(per_chunk);
    let mut next = chunks.next().map(build).transpose()?;
    while let Some((sql, args)) = next.take() {
        let execute = sqlx::query_with(AssertSqlSafe(sql), args).execute(&mut *conn);
        // `join` polls the statement first (handing it to the worker), then binds the next
        // chunk here while the worker runs it.
        let following = chunks.next();
        let (done, built) =
            futures_util::future::join(execute, async { following.map(build).transpose() }).await;
        done?;
        next = built?;
    }
    Ok(())
}

/// Text for the driver, which holds each bound text in an `Arc`: made from a `&str` that
/// costs one allocation here (two through `&str`'s own encoding).
fn text(s: &str) -> Arc<str> {
    Arc::from(s)
}

/// Shares one allocation between the equal strings of a write: fact keys and sources,
/// classes, vendors and states repeat over thousands of rows, and a shared text costs a
/// reference count instead of an allocation (and a free on the driver's thread).
#[derive(Default)]
struct Texts<'a>(Mutex<HashMap<&'a str, Arc<str>>>);

impl<'a> Texts<'a> {
    fn get(&self, s: &'a str) -> Arc<str> {
        let mut map = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(s).or_insert_with(|| text(s)).clone()
    }
}

/// The resolved fields a person can override, as their devices column.
fn resolved_column(key: &str) -> Option<&'static str> {
    Some(match key {
        "class" => "class",
        "vendor" => "vendor",
        "model" => "model",
        "firmware" => "firmware",
        "os" => "os",
        "criticality" => "criticality",
        _ => return None,
    })
}

fn bind_device<'a>(a: &mut Args, d: &'a Device, texts: &Texts<'a>) -> BindResult {
    a.add(d.id.0)?;
    a.add(rows::join(&d.keys))?;
    a.add(rows::join(&d.macs))?;
    a.add(rows::join(&d.ips))?;
    a.add(rows::ip_sort_key(&d.ips))?;
    a.add(serde_json::to_string(&d.vlans)?)?;
    a.add(d.randomized_mac)?;
    a.add(d.router)?;
    a.add(nanos(d.first_seen))?;
    a.add(nanos(d.last_seen))?;
    for (_, field) in d.classification.iter() {
        match field {
            Some(f) => {
                a.add(texts.get(&f.value))?;
                a.add(texts.get(&f.source))?;
                a.add(i64::from(f.confidence))?;
            }
            None => {
                a.add(None::<i64>)?;
                a.add(None::<i64>)?;
                a.add(None::<i64>)?;
            }
        }
    }
    a.add(d.description.as_deref().map(text))?;
    a.add(texts.get(d.state.as_str()))
}

/// Follows merges to the device a record ended up in (chains `a -> b -> c` give `c`).
fn merged_into(map: &HashMap<i64, i64>, mut id: i64) -> i64 {
    // A cycle would be the engine's bug; the bound keeps it from hanging the store.
    for _ in 0..=map.len() {
        match map.get(&id) {
            Some(&next) if next != id => id = next,
            _ => break,
        }
    }
    id
}

async fn write_changes(conn: &mut SqliteConnection, c: &ChangeSet) -> Result<()> {
    let mut max_id = 0i64;
    let texts = Texts::default();

    // Devices: the row replaced (an upsert, so that nothing hanging off it is cascaded
    // away), then everything attached to it deleted and written anew.
    if !c.devices.is_empty() {
        let assignments: Vec<String> = rows::DEVICE_COLUMNS
            .split(',')
            .map(str::trim)
            .filter(|c| *c != "id")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let head = format!("INSERT INTO devices ({})", rows::DEVICE_COLUMNS);
        let tail = format!("ON CONFLICT (id) DO UPDATE SET {}", assignments.join(", "));
        insert_rows(conn, &head, &tail, rows::DEVICE_COLUMN_COUNT, &c.devices, |a, r| {
            bind_device(a, &r.device, &texts)
        })
        .await?;

        let ids: Vec<i64> = c.devices.iter().map(|r| r.device.id.0).collect();
        max_id = ids.iter().copied().max().unwrap_or(0);
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Invalid(e.to_string()))?;
        for sql in [
            "DELETE FROM device_keys WHERE device_id IN (SELECT value FROM json_each(?))",
            "DELETE FROM facts WHERE device_id IN (SELECT value FROM json_each(?))",
            "DELETE FROM ip_ranges WHERE device_id IN (SELECT value FROM json_each(?))",
            "DELETE FROM services WHERE device_id IN (SELECT value FROM json_each(?))",
        ] {
            sqlx::query(sql).bind(&ids).execute(&mut *conn).await?;
        }

        let keys: Vec<(i64, String)> = c
            .devices
            .iter()
            .flat_map(|r| r.device.keys.iter().map(|k| (r.device.id.0, k.to_string())))
            .collect();
        // A key another device held moves to this one.
        insert_rows(
            conn,
            "INSERT INTO device_keys (key, device_id)",
            "ON CONFLICT (key) DO UPDATE SET device_id = excluded.device_id",
            2,
            &keys,
            |a, (id, key)| {
                a.add(text(key))?;
                a.add(*id)
            },
        )
        .await?;

        let facts: Vec<(i64, &ward_core::Fact)> =
            c.devices.iter().flat_map(|r| r.facts.iter().map(|f| (r.device.id.0, f))).collect();
        insert_rows(
            conn,
            "INSERT INTO facts (device_id, key, value, source, confidence, first_seen, last_seen)",
            "",
            7,
            &facts,
            |a, (id, f)| {
                a.add(*id)?;
                a.add(f.key.as_str())?;
                a.add(texts.get(&f.value))?;
                a.add(texts.get(&f.source))?;
                a.add(i64::from(f.confidence))?;
                a.add(nanos(f.first_seen))?;
                a.add(nanos(f.last_seen))
            },
        )
        .await?;

        let ranges: Vec<(i64, i64, &ward_core::IpRange)> = c
            .devices
            .iter()
            .flat_map(|r| r.ip_ranges.iter().zip(0..).map(|(x, seq)| (r.device.id.0, seq, x)))
            .collect();
        insert_rows(
            conn,
            "INSERT INTO ip_ranges (device_id, seq, ip, first_seen, last_seen)",
            "",
            5,
            &ranges,
            |a, (id, seq, x)| {
                a.add(*id)?;
                a.add(*seq)?;
                a.add(text(&x.ip.to_string()))?;
                a.add(nanos(x.first_seen))?;
                a.add(nanos(x.last_seen))
            },
        )
        .await?;

        let services: Vec<(i64, i64, &ward_core::Service)> = c
            .devices
            .iter()
            .flat_map(|r| r.services.iter().zip(0..).map(|(s, seq)| (r.device.id.0, seq, s)))
            .collect();
        insert_rows(
            conn,
            "INSERT INTO services (device_id, seq, proto, port, app, flows, first_seen, last_seen)",
            "",
            8,
            &services,
            |a, (id, seq, s)| {
                a.add(*id)?;
                a.add(*seq)?;
                a.add(i64::from(s.proto))?;
                a.add(i64::from(s.port))?;
                a.add(s.app.as_deref().map(|app| texts.get(app)))?;
                a.add(count(s.flows))?;
                a.add(nanos(s.first_seen))?;
                a.add(nanos(s.last_seen))
            },
        )
        .await?;
    }

    // Merges: what hangs off `from` moves to `into`, then `from` goes (its facts, ranges and
    // services with it: the engine wrote `into` with them merged).
    let mut merges = HashMap::new();
    for (from, into) in &c.merged {
        let (from, into) = (from.0, into.0);
        max_id = max_id.max(from).max(into);
        if from == into {
            continue;
        }
        merges.insert(from, into);
        // Communication rows, summed where `into` already has the same row.
        sqlx::query(
            "INSERT INTO comm (initiator, responder, proto, port, app, hour, flows, packets, bytes)
             SELECT CASE WHEN initiator = ?1 THEN ?2 ELSE initiator END,
                    CASE WHEN responder = ?1 THEN ?2 ELSE responder END,
                    proto, port, app, hour, flows, packets, bytes
             FROM comm WHERE initiator = ?1 OR responder = ?1
             ORDER BY 1
             ON CONFLICT DO UPDATE SET flows = flows + excluded.flows,
                 packets = packets + excluded.packets, bytes = bytes + excluded.bytes",
        )
        .bind(from)
        .bind(into)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM comm WHERE initiator = ?1 OR responder = ?1")
            .bind(from)
            .execute(&mut *conn)
            .await?;
        for sql in [
            "UPDATE events SET device_id = ?2 WHERE device_id = ?1",
            "UPDATE alerts SET device_id = ?2 WHERE device_id = ?1",
            "UPDATE device_keys SET device_id = ?2 WHERE device_id = ?1",
            // `into`'s own override (or finding) for the same key stays.
            "INSERT INTO overrides (device_id, key, value, set_by, set_at)
             SELECT ?2, key, value, set_by, set_at FROM overrides WHERE device_id = ?1
             ORDER BY key ON CONFLICT DO NOTHING",
            "INSERT INTO findings (device_id, kind, reference, severity, detail, evidence,
                                   first_seen, last_seen)
             SELECT ?2, kind, reference, severity, detail, evidence, first_seen, last_seen
             FROM findings WHERE device_id = ?1 ORDER BY kind ON CONFLICT DO NOTHING",
            "DELETE FROM devices WHERE id = ?1",
        ] {
            sqlx::query(sql).bind(from).bind(into).execute(&mut *conn).await?;
        }
    }

    // Edges, through the merges above in case the engine named a device merged away.
    insert_rows(
        conn,
        "INSERT INTO comm (initiator, responder, proto, port, app, hour, flows, packets, bytes)",
        "ON CONFLICT DO UPDATE SET flows = flows + excluded.flows, \
         packets = packets + excluded.packets, bytes = bytes + excluded.bytes",
        9,
        &c.edges,
        |a, e| {
            a.add(merged_into(&merges, e.initiator.0))?;
            a.add(merged_into(&merges, e.responder.0))?;
            a.add(i64::from(e.proto))?;
            a.add(i64::from(e.port))?;
            a.add(texts.get(&e.app))?;
            a.add(e.hour)?;
            a.add(count(e.flows))?;
            a.add(count(e.packets))?;
            a.add(count(e.bytes))
        },
    )
    .await?;

    insert_rows(
        conn,
        "INSERT INTO events (ts, device_id, kind, old, new, evidence)",
        "",
        6,
        &c.events,
        |a, e| {
            a.add(nanos(e.ts))?;
            a.add(e.device.0)?;
            a.add(texts.get(e.kind.as_str()))?;
            a.add(e.old.as_deref().map(text))?;
            a.add(e.new.as_deref().map(text))?;
            a.add(texts.get(&e.evidence))
        },
    )
    .await?;

    if let Some(i) = &c.import {
        sqlx::query(
            "INSERT INTO imports (fingerprint, source, first_packet, last_packet, packets,
                                  written_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (fingerprint) DO UPDATE SET source = excluded.source,
                 first_packet = excluded.first_packet, last_packet = excluded.last_packet,
                 packets = excluded.packets, written_at = excluded.written_at",
        )
        .bind(&i.fingerprint)
        .bind(&i.source)
        .bind(i.first_packet.map(nanos))
        .bind(i.last_packet.map(nanos))
        .bind(count(i.packets))
        .bind(nanos(i.written_at))
        .execute(&mut *conn)
        .await?;
    }

    for b in &c.baselines {
        sqlx::query(
            "INSERT INTO baselines (device_id, learning_until, data) VALUES (?, ?, ?)
             ON CONFLICT (device_id) DO UPDATE SET learning_until = excluded.learning_until,
                 data = excluded.data",
        )
        .bind(merged_into(&merges, b.device.0))
        .bind(nanos(b.learning_until))
        .bind(&b.data)
        .execute(&mut *conn)
        .await?;
    }

    // Alerts fold into an alike one (same key, not closed, seen recently) or are added.
    let window = i64::try_from(c.alert_window_secs.saturating_mul(1_000_000_000)).unwrap_or(i64::MAX);
    for a in &c.alerts {
        let device = a.device.map(|d| merged_into(&merges, d.0));
        let folded = sqlx::query(
            "UPDATE alerts SET count = count + ?2, last_seen = max(last_seen, ?3),
                 ts = min(ts, ?4),
                 severity = CASE WHEN ?5 > (CASE severity WHEN 'info' THEN 0 WHEN 'low' THEN 1
                     WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END) THEN ?6 ELSE severity END
             WHERE id = (SELECT id FROM alerts WHERE key = ?1 AND state != 'closed'
                         AND last_seen >= ?4 - ?7 ORDER BY last_seen DESC LIMIT 1)",
        )
        .bind(&a.key)
        .bind(count(a.count.max(1)))
        .bind(nanos(a.last_seen.max(a.ts)))
        .bind(nanos(a.ts))
        .bind(severity_rank(a.severity))
        .bind(a.severity.as_str())
        .bind(window)
        .execute(&mut *conn)
        .await?;
        if folded.rows_affected() > 0 && !a.key.is_empty() {
            continue;
        }
        insert_alert(conn, a, device).await?;
    }

    if max_id > 0 {
        sqlx::query("UPDATE meta SET value = max(value, ?) WHERE key = 'max_device_id'")
            .bind(max_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn severity_rank(s: ward_core::Severity) -> i64 {
    match s {
        ward_core::Severity::Info => 0,
        ward_core::Severity::Low => 1,
        ward_core::Severity::Medium => 2,
        ward_core::Severity::High => 3,
        ward_core::Severity::Critical => 4,
    }
}

/// Inserts findings, or refreshes those held for the same (device, kind, reference): first
/// sighting kept, last widened.
async fn upsert_finding_rows(conn: &mut SqliteConnection, findings: &[Finding]) -> Result<()> {
    insert_rows(
        conn,
        "INSERT INTO findings (device_id, kind, reference, severity, detail, evidence,
                                   first_seen, last_seen)",
        "ON CONFLICT (device_id, kind, reference) DO UPDATE SET
                 severity = excluded.severity, detail = excluded.detail,
                 evidence = excluded.evidence,
                 first_seen = min(first_seen, excluded.first_seen),
                 last_seen = max(last_seen, excluded.last_seen)",
        8,
        findings,
        |a, f| {
            a.add(f.device.0)?;
            a.add(f.kind.as_str())?;
            a.add(f.reference.as_str())?;
            a.add(f.severity.as_str())?;
            a.add(f.detail.as_str())?;
            a.add(f.evidence.as_str())?;
            a.add(nanos(f.first_seen))?;
            a.add(nanos(f.last_seen))
        },
    )
    .await
}

async fn insert_alert(conn: &mut SqliteConnection, a: &Alert, device: Option<i64>) -> Result<i64> {
    let done = sqlx::query(
        "INSERT INTO alerts (ts, severity, kind, device_id, peer, evidence, message, state,
                             last_seen, count, flow, source, indicator, confidence, key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(nanos(a.ts))
    .bind(a.severity.as_str())
    .bind(&a.kind)
    .bind(device)
    .bind(a.peer.map(|p| p.to_string()))
    .bind(&a.evidence)
    .bind(&a.message)
    .bind(&a.state)
    .bind(nanos(a.last_seen.max(a.ts)))
    .bind(count(a.count.max(1)))
    .bind(
        a.flow
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?,
    )
    .bind(&a.source)
    .bind(&a.indicator)
    .bind(a.confidence.map(i64::from))
    .bind(&a.key)
    .execute(&mut *conn)
    .await?;
    Ok(done.last_insert_rowid())
}

const ALERT_COLUMNS: &str = "id, ts, severity, kind, device_id, peer, evidence, message, state,
    last_seen, count, flow, source, indicator, confidence, key";

/// `%needle%` for LIKE, with the needle's own `%`, `_` and `\` escaped.
fn like_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A value bound into a query built from a [`DeviceQuery`].
enum Bound {
    Text(String),
    Int(i64),
}

/// The `WHERE` clause of a device query and its values. Only fixed SQL is written into the
/// text; everything from the query is bound.
fn device_filter(q: &DeviceQuery) -> (String, Vec<Bound>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    if let Some(class) = &q.class {
        clauses.push("class = ?");
        binds.push(Bound::Text(class.clone()));
    }
    if let Some(vendor) = q.vendor.as_deref().filter(|v| !v.is_empty()) {
        clauses.push("vendor LIKE ? ESCAPE '\\'");
        binds.push(Bound::Text(like_pattern(vendor)));
    }
    // Criticality and state have a handful of values: with a class given, its index is the
    // narrower one, and a unary `+` keeps SQLite from choosing theirs (which made a class and
    // state query scan every active device).
    let broad = q.class.is_some();
    if let Some(criticality) = &q.criticality {
        clauses.push(if broad { "+criticality = ?" } else { "criticality = ?" });
        binds.push(Bound::Text(criticality.clone()));
    }
    if let Some(state) = q.state {
        clauses.push(if broad { "+state = ?" } else { "state = ?" });
        binds.push(Bound::Text(state.as_str().into()));
    }
    if let Some(vlan) = q.vlan {
        clauses.push("EXISTS (SELECT 1 FROM json_each(devices.vlans) WHERE value = ?)");
        binds.push(Bound::Int(i64::from(vlan)));
    }
    if let Some(text) = q.text.as_deref().filter(|t| !t.is_empty()) {
        // LIKE folds ASCII case as it compares, without building lowered copies of every
        // row's text; the needle's wildcards are escaped so that it matches literally.
        clauses.push(
            "(macs LIKE ? ESCAPE '\\' OR ips LIKE ? ESCAPE '\\' OR class LIKE ? ESCAPE '\\' \
             OR vendor LIKE ? ESCAPE '\\' OR model LIKE ? ESCAPE '\\' \
             OR description LIKE ? ESCAPE '\\')",
        );
        let pattern = like_pattern(text);
        for _ in 0..6 {
            binds.push(Bound::Text(pattern.clone()));
        }
    }
    let sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    (sql, binds)
}

/// `ORDER BY` for a sort key of [`DeviceQuery::sort`]: only these fixed expressions ever
/// reach the SQL. Missing values sort last both ways.
fn device_order(sort: Option<&str>) -> Result<String> {
    let sort = sort.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("id");
    let (descending, name) = match sort.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, sort.strip_prefix('+').unwrap_or(sort)),
    };
    let expr = match name {
        "id" => "id",
        "class" => "class",
        "vendor" => "vendor",
        "model" => "model",
        "firmware" => "firmware",
        // By how much care depends on it: critical first ascending, as `Criticality` orders.
        "criticality" => {
            "CASE criticality WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
             WHEN 'medium' THEN 2 WHEN 'low' THEN 3 END"
        }
        "first_seen" => "first_seen",
        "last_seen" => "last_seen",
        "ip" => "ip_key",
        "mac" => "nullif(macs, '')",
        other => {
            return Err(StoreError::Invalid(format!(
                "unknown sort key {other:?} (id, class, vendor, model, firmware, criticality, \
                 first_seen, last_seen, ip, mac; a leading - sorts descending)"
            )));
        }
    };
    let dir = if descending { "DESC" } else { "ASC" };
    // Ties go by id in the same direction, and columns that are never null get no "nulls
    // last" term: both keep an index on the column usable for the order (and a query with a
    // limit from sorting the whole table).
    Ok(match name {
        "id" => format!(" ORDER BY id {dir}"),
        "first_seen" | "last_seen" => format!(" ORDER BY {expr} {dir}, id {dir}"),
        _ => format!(" ORDER BY ({expr}) IS NULL, {expr} {dir}, id {dir}"),
    })
}

fn bind_all<'q>(mut q: Query<'q>, binds: Vec<Bound>) -> Query<'q> {
    for b in binds {
        q = match b {
            Bound::Text(s) => q.bind(s),
            Bound::Int(i) => q.bind(i),
        };
    }
    q
}

impl Store for SqliteStore {
    async fn snapshot(&self) -> Result<Snapshot> {
        // One read transaction, so that every chunk and the overrides agree.
        let mut tx = self.reader.begin().await?;
        let sql = format!(
            "SELECT json_group_array(json_array({}, {})), max(d.id)
             FROM (SELECT * FROM devices WHERE id > ? ORDER BY id LIMIT ?) AS d",
            rows::DEVICE_JSON,
            rows::ATTACHED_JSON
        );
        let mut devices = Vec::new();
        let mut after = i64::MIN;
        loop {
            let row = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(after)
                .bind(SNAPSHOT_CHUNK)
                .fetch_one(&mut *tx)
                .await?;
            let Some(last) = row.try_get::<Option<i64>, _>(1)? else { break };
            let mut chunk = rows::devices_from_json(row.try_get(0)?)?;
            chunk.sort_unstable_by_key(|r| r.device.id);
            devices.extend(chunk);
            after = last;
        }
        let overrides = sqlx::query(
            "SELECT device_id, key, value, set_by, set_at FROM overrides ORDER BY device_id, key",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rows::override_)
        .collect::<Result<_>>()?;
        let stored_max: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'max_device_id'")
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        tx.rollback().await?;
        let max_device_id = stored_max.max(devices.last().map(|r| r.device.id.0).unwrap_or(0));
        Ok(Snapshot { devices, overrides, max_device_id })
    }

    async fn import(&self, fingerprint: &str) -> Result<Option<Import>> {
        sqlx::query(
            "SELECT fingerprint, source, first_packet, last_packet, packets, written_at
             FROM imports WHERE fingerprint = ?",
        )
        .bind(fingerprint)
        .fetch_optional(&self.reader)
        .await?
        .as_ref()
        .map(rows::import)
        .transpose()
    }

    async fn apply(&self, changes: &ChangeSet) -> Result<()> {
        // IMMEDIATE takes the write lock at once: another process's write in between could
        // otherwise make the upgrade fail with SQLITE_BUSY instead of waiting.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // On an error (or if this future is dropped) the transaction is rolled back.
        write_changes(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list(&self, query: &DeviceQuery) -> Result<Vec<Device>> {
        let order = device_order(query.sort.as_deref())?;
        let (filter, binds) = device_filter(query);
        // The page is chosen and ordered in the subquery, on ids and sort keys only (narrow
        // rows to sort); CROSS JOIN keeps it the outer loop, so the aggregate receives the
        // rows in its order (a subquery with a LIMIT is never flattened into the aggregate).
        // An ORDER BY inside the aggregate would sort the finished JSON texts a second time.
        let sql = format!(
            "SELECT json_group_array(json_array({}, {}))
             FROM (SELECT id FROM devices{filter}{order} LIMIT ? OFFSET ?) AS p
             CROSS JOIN devices AS d ON d.id = p.id",
            rows::DEVICE_JSON,
            rows::NOTHING_ATTACHED
        );
        let limit = query.limit.map(count).unwrap_or(-1);
        let offset = query.offset.map(count).unwrap_or(0);
        let row = bind_all(sqlx::query(AssertSqlSafe(sql)), binds)
            .bind(limit)
            .bind(offset)
            .fetch_one(&self.reader)
            .await?;
        Ok(rows::devices_from_json(row.try_get(0)?)?.into_iter().map(|r| r.device).collect())
    }

    async fn count(&self, query: &DeviceQuery) -> Result<u64> {
        let (filter, binds) = device_filter(query);
        let sql = format!("SELECT count(*) FROM devices{filter}");
        let row = bind_all(sqlx::query(AssertSqlSafe(sql)), binds).fetch_one(&self.reader).await?;
        Ok(uncount(row.try_get(0)?))
    }

    async fn resolve(&self, device: DeviceRef) -> Result<Option<DeviceId>> {
        let found: Option<i64> = match device {
            DeviceRef::Id(id) => {
                sqlx::query_scalar("SELECT id FROM devices WHERE id = ?")
                    .bind(id.0)
                    .fetch_optional(&self.reader)
                    .await?
            }
            DeviceRef::Key(key) => {
                let held = sqlx::query_scalar("SELECT device_id FROM device_keys WHERE key = ?")
                    .bind(key.to_string())
                    .fetch_optional(&self.reader)
                    .await?;
                match (held, key) {
                    (Some(id), _) => Some(id),
                    // An address no device is keyed by: whoever used it last.
                    (None, ward_core::DeviceKey::Ip(ip)) => {
                        sqlx::query_scalar(
                            "SELECT device_id FROM ip_ranges WHERE ip = ?
                             ORDER BY last_seen DESC LIMIT 1",
                        )
                        .bind(ip.to_string())
                        .fetch_optional(&self.reader)
                        .await?
                    }
                    (None, _) => None,
                }
            }
        };
        Ok(found.map(DeviceId))
    }

    async fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>> {
        let sql = format!(
            "SELECT json_group_array(json_array({}, {})) FROM devices AS d WHERE d.id = ?",
            rows::DEVICE_JSON,
            rows::ATTACHED_JSON
        );
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id.0).fetch_one(&self.reader).await?;
        Ok(rows::devices_from_json(row.try_get(0)?)?.pop())
    }

    async fn peers(&self, id: DeviceId) -> Result<Vec<Peer>> {
        let rows = sqlx::query(
            "SELECT responder, 1, proto, port, app, sum(flows), sum(packets), sum(bytes),
                    min(hour), max(hour)
             FROM comm WHERE initiator = ?1 GROUP BY responder, proto, port, app
             UNION ALL
             SELECT initiator, 0, proto, port, app, sum(flows), sum(packets), sum(bytes),
                    min(hour), max(hour)
             FROM comm WHERE responder = ?1 GROUP BY initiator, proto, port, app
             ORDER BY 8 DESC, 1, 2 DESC, 3, 4, 5",
        )
        .bind(id.0)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let proto: i64 = r.try_get(2)?;
                let port: i64 = r.try_get(3)?;
                Ok(Peer {
                    peer: DeviceId(r.try_get(0)?),
                    initiated: r.try_get::<i64, _>(1)? != 0,
                    proto: u8::try_from(proto).unwrap_or(0),
                    port: u16::try_from(port).unwrap_or(0),
                    app: r.try_get(4)?,
                    flows: uncount(r.try_get(5)?),
                    packets: uncount(r.try_get(6)?),
                    bytes: uncount(r.try_get(7)?),
                    first_hour: r.try_get(8)?,
                    last_hour: r.try_get(9)?,
                })
            })
            .collect()
    }

    async fn events(&self, query: &EventQuery) -> Result<Vec<InventoryEvent>> {
        let rows = sqlx::query(
            "SELECT ts, device_id, kind, old, new, evidence FROM events
             WHERE (?1 IS NULL OR device_id = ?1) AND (?2 IS NULL OR kind = ?2)
             ORDER BY ts DESC, id DESC LIMIT ?3",
        )
        .bind(query.device.map(|d| d.0))
        .bind(query.kind.map(EventKind::as_str))
        .bind(query.limit.map(count).unwrap_or(-1))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(rows::event).collect()
    }

    async fn overrides(&self) -> Result<Vec<Override>> {
        sqlx::query("SELECT device_id, key, value, set_by, set_at FROM overrides ORDER BY device_id, key")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::override_)
            .collect()
    }

    async fn set_override(&self, o: &Override) -> Result<()> {
        let column = resolved_column(&o.key);
        if o.key == "state" {
            Lifecycle::from_str(&o.value).map_err(StoreError::Invalid)?;
        }
        if o.key == "criticality" {
            Criticality::from_str(&o.value).map_err(StoreError::Invalid)?;
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let Some(row) = sqlx::query(
            "SELECT class, vendor, model, firmware, os, criticality, state FROM devices
             WHERE id = ?",
        )
        .bind(o.device.0)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Err(StoreError::Invalid(format!("no device {}", o.device.0)));
        };
        let previous_override: Option<String> =
            sqlx::query_scalar("SELECT value FROM overrides WHERE device_id = ? AND key = ?")
                .bind(o.device.0)
                .bind(&o.key)
                .fetch_optional(&mut *tx)
                .await?;
        let old: Option<String> = match (column, o.key.as_str()) {
            (Some(c), _) => row.try_get(c)?,
            (None, "state") => Some(row.try_get("state")?),
            (None, _) => previous_override,
        };
        sqlx::query(
            "INSERT INTO overrides (device_id, key, value, set_by, set_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (device_id, key) DO UPDATE SET value = excluded.value,
                 set_by = excluded.set_by, set_at = excluded.set_at",
        )
        .bind(o.device.0)
        .bind(&o.key)
        .bind(&o.value)
        .bind(&o.set_by)
        .bind(nanos(o.set_at))
        .execute(&mut *tx)
        .await?;
        if let Some(c) = column {
            // `c` comes from the fixed list in `resolved_column`, never from the caller.
            let sql = format!(
                "UPDATE devices SET {c} = ?, {c}_source = 'override', {c}_confidence = 100 \
                 WHERE id = ?"
            );
            sqlx::query(AssertSqlSafe(sql)).bind(&o.value).bind(o.device.0).execute(&mut *tx).await?;
        } else if o.key == "state" {
            sqlx::query("UPDATE devices SET state = ? WHERE id = ?")
                .bind(&o.value)
                .bind(o.device.0)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO events (ts, device_id, kind, old, new, evidence)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(nanos(o.set_at))
        .bind(o.device.0)
        .bind(EventKind::Override.as_str())
        .bind(old)
        .bind(&o.value)
        .bind(format!("override by {}", o.set_by))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes the override only: the device's resolved field keeps the overridden value
    /// until the engine resolves the device again (its next run), from facts alone.
    async fn clear_override(&self, device: DeviceId, key: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM overrides WHERE device_id = ? AND key = ?")
            .bind(device.0)
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_alerts(&self, alerts: &[Alert]) -> Result<Vec<i64>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut ids = Vec::with_capacity(alerts.len());
        for a in alerts {
            ids.push(insert_alert(&mut tx, a, a.device.map(|d| d.0)).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn alerts(&self, limit: u64) -> Result<Vec<Alert>> {
        sqlx::query(
            "SELECT id, ts, severity, kind, device_id, peer, evidence, message, state,
                    last_seen, count, flow, source, indicator, confidence, key
             FROM alerts ORDER BY ts DESC, id DESC LIMIT ?",
        )
        .bind(count(limit))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(rows::alert)
        .collect()
    }

    async fn upsert_findings(&self, findings: &[Finding]) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        upsert_finding_rows(&mut tx, findings).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn findings(&self, device: Option<DeviceId>) -> Result<Vec<Finding>> {
        sqlx::query(
            "SELECT device_id, kind, reference, severity, detail, evidence, first_seen, last_seen
             FROM findings WHERE ?1 IS NULL OR device_id = ?1
             ORDER BY device_id, kind, reference",
        )
        .bind(device.map(|d| d.0))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(rows::finding)
        .collect()
    }

    async fn replace_findings(&self, kind: &str, findings: &[Finding]) -> Result<()> {
        if let Some(f) = findings.iter().find(|f| f.kind != kind) {
            return Err(StoreError::Invalid(format!(
                "a finding of kind {:?} among those of kind {kind:?}",
                f.kind
            )));
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // Keep the ones that still hold (their first sighting matters), drop the rest.
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS keep_findings (device_id INTEGER, reference TEXT)")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM keep_findings").execute(&mut *tx).await?;
        insert_rows(&mut tx, "INSERT INTO keep_findings (device_id, reference)", "", 2, findings, |a, f| {
            a.add(f.device.0)?;
            a.add(f.reference.as_str())
        })
        .await?;
        sqlx::query(
            "DELETE FROM findings WHERE kind = ?1 AND NOT EXISTS (SELECT 1 FROM keep_findings k
                 WHERE k.device_id = findings.device_id AND k.reference = findings.reference)",
        )
        .bind(kind)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM keep_findings").execute(&mut *tx).await?;
        upsert_finding_rows(&mut tx, findings).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn edges(&self) -> Result<Vec<CommEdge>> {
        let rows = sqlx::query(
            "SELECT initiator, responder, proto, port, app, hour, flows, packets, bytes FROM comm
             ORDER BY hour, initiator, responder, proto, port, app",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let proto: i64 = r.try_get(2)?;
                let port: i64 = r.try_get(3)?;
                Ok(CommEdge {
                    initiator: DeviceId(r.try_get(0)?),
                    responder: DeviceId(r.try_get(1)?),
                    proto: u8::try_from(proto).unwrap_or(0),
                    port: u16::try_from(port).unwrap_or(0),
                    app: r.try_get(4)?,
                    hour: r.try_get(5)?,
                    flows: uncount(r.try_get(6)?),
                    packets: uncount(r.try_get(7)?),
                    bytes: uncount(r.try_get(8)?),
                })
            })
            .collect()
    }

    async fn alert_query(&self, q: &AlertQuery) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR device_id = ?3)
             ORDER BY last_seen DESC, id DESC LIMIT ?4"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&q.state)
            .bind(&q.kind)
            .bind(q.device.map(|d| d.0))
            .bind(count(q.limit.unwrap_or(1000)))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::alert)
            .collect()
    }

    async fn set_alert_state(&self, id: i64, state: &str) -> Result<bool> {
        if !matches!(state, "open" | "acknowledged" | "closed") {
            return Err(StoreError::Invalid(format!("alert state {state:?}: open, acknowledged or closed")));
        }
        let done = sqlx::query("UPDATE alerts SET state = ? WHERE id = ?")
            .bind(state)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn baselines(&self) -> Result<Vec<StoredBaseline>> {
        sqlx::query("SELECT device_id, learning_until, data FROM baselines ORDER BY device_id")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| {
                Ok(StoredBaseline {
                    device: DeviceId(r.try_get(0)?),
                    learning_until: rows::ts(r.try_get(1)?),
                    data: r.try_get(2)?,
                })
            })
            .collect()
    }

    async fn add_suppression(&self, s: &Suppression) -> Result<i64> {
        s.validate().map_err(StoreError::Invalid)?;
        let done = sqlx::query(
            "INSERT INTO suppressions (kind, device_id, peer, indicator, owner, reason, created, expires)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.kind)
        .bind(s.device.map(|d| d.0))
        .bind(&s.peer)
        .bind(&s.indicator)
        .bind(&s.owner)
        .bind(&s.reason)
        .bind(nanos(s.created))
        .bind(nanos(s.expires))
        .execute(&self.writer)
        .await?;
        Ok(done.last_insert_rowid())
    }

    async fn suppressions(&self) -> Result<Vec<Suppression>> {
        sqlx::query(
            "SELECT id, kind, device_id, peer, indicator, owner, reason, created, expires
             FROM suppressions ORDER BY id DESC",
        )
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| {
            Ok(Suppression {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                device: r.try_get::<Option<i64>, _>(2)?.map(DeviceId),
                peer: r.try_get(3)?,
                indicator: r.try_get(4)?,
                owner: r.try_get(5)?,
                reason: r.try_get(6)?,
                created: rows::ts(r.try_get(7)?),
                expires: rows::ts(r.try_get(8)?),
            })
        })
        .collect()
    }

    async fn remove_suppression(&self, id: i64) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM suppressions WHERE id = ?").bind(id).execute(&self.writer).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn comm_pairs(&self) -> Result<Vec<(DeviceId, DeviceId)>> {
        sqlx::query("SELECT DISTINCT initiator, responder FROM comm")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| Ok((DeviceId(r.try_get(0)?), DeviceId(r.try_get(1)?))))
            .collect()
    }

    async fn facts_by_key(&self, keys: &[&str]) -> Result<Vec<(DeviceId, String, String)>> {
        let keys = serde_json::to_string(keys).map_err(|e| StoreError::Invalid(e.to_string()))?;
        sqlx::query(
            "SELECT device_id, key, value FROM facts
             WHERE key IN (SELECT value FROM json_each(?1)) ORDER BY device_id, key, value",
        )
        .bind(keys)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| Ok((DeviceId(r.try_get(0)?), r.try_get(1)?, r.try_get(2)?)))
        .collect()
    }

    async fn vuln_document_heads(&self) -> Result<Vec<VulnDocumentHead>> {
        sqlx::query("SELECT kind, id, version, released, sha256 FROM vuln_documents ORDER BY kind, id")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::vuln_head)
            .collect()
    }

    async fn vuln_documents(&self) -> Result<Vec<VulnDocument>> {
        sqlx::query(
            "SELECT kind, id, version, released, sha256, source, body, imported_at
             FROM vuln_documents ORDER BY kind, id",
        )
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| {
            Ok(VulnDocument {
                head: rows::vuln_head(r)?,
                source: r.try_get(5)?,
                body: r.try_get(6)?,
                imported_at: rows::ts(r.try_get(7)?),
            })
        })
        .collect()
    }

    async fn put_vuln_documents(&self, docs: &[VulnDocument]) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        for d in docs {
            sqlx::query(
                "INSERT OR REPLACE INTO vuln_documents
                     (kind, id, version, released, sha256, source, body, imported_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&d.head.kind)
            .bind(&d.head.id)
            .bind(&d.head.version)
            .bind(&d.head.released)
            .bind(&d.head.sha256)
            .bind(&d.source)
            .bind(d.body.as_slice())
            .bind(nanos(d.imported_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn vuln_state(&self) -> Result<Vec<VulnStateRow>> {
        sqlx::query("SELECT device_id, cve, standing, firmware FROM vuln_state ORDER BY device_id, cve")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| {
                Ok(VulnStateRow {
                    device: DeviceId(r.try_get(0)?),
                    cve: r.try_get(1)?,
                    standing: r.try_get(2)?,
                    firmware: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn record_vuln_assessment(&self, a: &VulnAssessment) -> Result<i64> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO vuln_assessments (ts, catalog, devices, findings, changes)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(nanos(a.ts))
        .bind(&a.catalog)
        .bind(count(a.devices))
        .bind(count(a.state.len() as u64))
        .bind(&a.changes)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM vuln_state").execute(&mut *tx).await?;
        insert_rows(
            &mut tx,
            "INSERT INTO vuln_state (device_id, cve, standing, firmware)",
            "",
            4,
            &a.state,
            |q, r| {
                q.add(r.device.0)?;
                q.add(r.cve.as_str())?;
                q.add(r.standing.as_str())?;
                q.add(r.firmware.as_deref())
            },
        )
        .await?;
        // Findings of kind `vuln` no longer found go; the others are refreshed, keeping
        // their first sighting. Only devices still in the inventory get one.
        let keep: Vec<(i64, &str)> = a.findings.iter().map(|f| (f.device.0, f.reference.as_str())).collect();
        let keep = serde_json::to_string(&keep).map_err(|e| StoreError::Invalid(e.to_string()))?;
        sqlx::query(
            "DELETE FROM findings WHERE kind = 'vuln' AND (device_id, reference) NOT IN
                 (SELECT value ->> 0, value ->> 1 FROM json_each(?1))",
        )
        .bind(keep)
        .execute(&mut *tx)
        .await?;
        let present: Vec<&Finding> = a.findings.iter().collect();
        insert_rows(
            &mut tx,
            "INSERT INTO findings (device_id, kind, reference, severity, detail, evidence,
                                   first_seen, last_seen)
             SELECT * FROM (",
            ") WHERE column1 IN (SELECT id FROM devices) ON CONFLICT (device_id, kind, reference) DO UPDATE SET
                 severity = excluded.severity, detail = excluded.detail, evidence = excluded.evidence,
                 last_seen = max(last_seen, excluded.last_seen)",
            8,
            &present,
            |q, f| {
                q.add(f.device.0)?;
                q.add(f.kind.as_str())?;
                q.add(f.reference.as_str())?;
                q.add(f.severity.as_str())?;
                q.add(f.detail.as_str())?;
                q.add(f.evidence.as_str())?;
                q.add(nanos(f.first_seen))?;
                q.add(nanos(f.last_seen))
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
