//! Where alerts go: one sink per `[[export]]` table, each driven by its own thread
//! ([`crate::Exporter`]). A sink delivers one alert at a time and says whether it was taken,
//! is worth retrying, or was refused for good.

pub(crate) mod file;
pub(crate) mod syslog;
pub(crate) mod tls;
pub(crate) mod webhook;

use std::time::Duration;

use ward_core::Alert;

/// What came of one delivery.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The receiver has it (or, over UDP, it left).
    Sent,
    /// Not now: the receiver is away or busy. `after` is its own wish (`Retry-After`).
    Retry { after: Option<Duration>, error: String },
    /// Refused for good; retrying would not help.
    Failed(String),
}

/// A place alerts are delivered to.
pub(crate) trait Sink: Send {
    /// Delivers one alert.
    fn deliver(&mut self, alert: &Alert) -> Outcome;

    /// The queue ran empty: a moment for work that batches (a file's sync).
    fn idle(&mut self) -> Result<(), String> {
        Ok(())
    }
}
