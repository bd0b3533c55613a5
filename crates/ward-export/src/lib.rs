//! How alerts leave Ward: syslog RFC 5424 and CEF over UDP, TCP or TLS, JSON lines to a
//! file, and webhooks.
//!
//! An [`Exporter`] is built from `[[export]]` tables ([`ExportConfig`]); each sink runs on
//! its own thread behind a bounded queue, so [`Exporter::send`] never waits on a receiver.
//! While a receiver is down its alerts wait, in order, and go when it is back; past the
//! queue's bound the oldest are dropped and counted. Every sink counts what it sent,
//! retried, failed and dropped ([`Exporter::stats`]). The formats ([`mod@format`]) are pure
//! functions and escape every text field, since an alert repeats what feeds and packets
//! said.
//!
//! This crate only carries alerts: it does not raise, fold or store them (`ward-detect`
//! and the engine do), and it must not block the caller.
//!
//! ```
//! use ward_export::{ExportConfig, ExportKind, Exporter};
//! # let dir = tempfile::tempdir().unwrap();
//! let mut jsonl = ExportConfig::new(ExportKind::Jsonl);
//! jsonl.path = Some(dir.path().join("alerts.jsonl"));
//! let exporter = Exporter::from_config(&[jsonl]).unwrap();
//! // exporter.send(&alert) for each alert, then:
//! let stats = exporter.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!(stats[0].name, "jsonl#1");
//! ```

pub mod config;
mod exporter;
pub mod format;
mod queue;
mod sink;

use std::path::PathBuf;

pub use config::{ExportConfig, ExportFile, ExportKind, Fsync, RetryConfig, Transport};
pub use exporter::{Exporter, SinkStats};
pub use sink::webhook::{SIGNATURE_HEADER, retry_after, signature};

/// Why exports could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The TOML could not be read (the message names the line and column).
    #[error("export configuration: {0}")]
    Toml(String),
    /// A table is inconsistent.
    #[error("export {sink}: {message}")]
    Config {
        /// The sink's name.
        sink: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be opened.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A CA file could not be read.
    #[error("CA file {}: {message}", path.display())]
    Tls {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}
