//! The schema's versions: numbered SQL files embedded in the binary, applied in order in one
//! transaction and recorded in `schema_version`. A database from a newer Ward, or a SQLite
//! file that is not Ward's, is refused rather than guessed at.

use std::io::Read;
use std::path::Path;

use sqlx::sqlite::SqliteConnection;
use sqlx::{Row, SqlitePool};

use crate::{Result, StoreError};

/// Marks the file as Ward's (`PRAGMA application_id`): "WARD" in ASCII.
pub(super) const APPLICATION_ID: i64 = 0x5741_5244;

/// Every schema version, oldest first; version `i + 1` is `MIGRATIONS[i]`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_alerts.sql"),
    include_str!("../../migrations/sqlite/0003_detect.sql"),
    include_str!("../../migrations/sqlite/0004_vuln.sql"),
];

/// The schema this build writes.
pub(super) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Looks at a file's header before SQLite does, so that a text file or a database cut short
/// gets a clear error instead of a late "malformed" from some query.
pub(super) fn check_header(path: &Path) -> Result<()> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Database(format!("{}: {e}", path.display()))),
    };
    let len = file.metadata().map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))?.len();
    if len == 0 {
        // SQLite makes an empty file into a new database.
        return Ok(());
    }
    let mut header = [0u8; 100];
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(StoreError::Database(format!("{}: {e}", path.display()))),
        }
    }
    if got < header.len() || &header[..16] != b"SQLite format 3\0" {
        return Err(StoreError::Schema(format!("{} is not a SQLite database", path.display())));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    // The page count is only meaningful when "version-valid-for" matches the change counter.
    // With a write-ahead log present the main file may lag it (a checkpoint cut short), and
    // SQLite repairs that from the log: only judge a file that has no log to replay.
    let wal = path
        .with_file_name(format!("{}-wal", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    if change_counter == valid_for && wal_len == 0 && pages.saturating_mul(page_size) > len {
        return Err(StoreError::Schema(format!(
            "{} is cut short: its header says {} bytes, the file has {len} (a truncated copy?)",
            path.display(),
            pages.saturating_mul(page_size)
        )));
    }
    Ok(())
}

/// The schema version of the database on `conn`: 0 for a new (empty) database; an error for
/// one that is not Ward's or is newer than this build.
async fn version(conn: &mut SqliteConnection, what: &str) -> Result<i64> {
    let app_id: i64 = sqlx::query_scalar("PRAGMA application_id").fetch_one(&mut *conn).await?;
    let tables: Vec<String> =
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()?;
    let version = if app_id == APPLICATION_ID && tables.iter().any(|t| t == "schema_version") {
        sqlx::query_scalar::<_, Option<i64>>("SELECT max(version) FROM schema_version")
            .fetch_one(&mut *conn)
            .await?
            .unwrap_or(0)
    } else if app_id == 0 && tables.is_empty() {
        0
    } else {
        return Err(StoreError::Schema(format!(
            "{what} is a SQLite database but not Ward's (application id {app_id:#x}, tables: {})",
            tables.join(", ")
        )));
    };
    if version > LATEST {
        return Err(StoreError::Schema(format!(
            "{what} has schema version {version}, written by a newer Ward (this one knows up \
             to {LATEST}): upgrade Ward to open it"
        )));
    }
    Ok(version)
}

/// Brings the database to [`LATEST`], in one transaction; refuses a database that is not
/// Ward's or is newer than this build.
pub(super) async fn migrate(pool: &SqlitePool, what: &str) -> Result<()> {
    // A look first, without the write lock: a store already current (the usual case, and a
    // command-line read while the engine writes) opens without waiting for the writer.
    if version(&mut *pool.acquire().await?, what).await? == LATEST {
        return Ok(());
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Again under the lock: another process may have migrated meanwhile.
    let version = version(&mut tx, what).await?;
    let now = i64::try_from(ward_core::Timestamp::now().as_nanos()).unwrap_or(i64::MAX);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")
            .bind(i as i64 + 1)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    if version < LATEST {
        // A pragma's value cannot be bound; the number is ours, not input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PRAGMA application_id = {APPLICATION_ID}")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
