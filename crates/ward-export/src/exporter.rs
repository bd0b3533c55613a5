//! The exporter: one thread and one bounded queue per sink.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use ward_core::Alert;

use crate::ExportError;
use crate::config::{ExportConfig, ExportKind, RetryConfig, Transport, split_address};
use crate::format::syslog::{Body, Header};
use crate::queue::{Counters, Queue};
use crate::sink::file::FileSink;
use crate::sink::syslog::{SyslogSink, Tls};
use crate::sink::tls::{native_roots, read_ca_file};
use crate::sink::webhook::WebhookSink;
use crate::sink::{Outcome, Sink};

/// How long a shutdown waits, past its deadline, for stopped threads to notice.
const STOP_GRACE: Duration = Duration::from_millis(100);

/// A sink's counters, as [`Exporter::stats`] reads them (fixed names, for `/metrics`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SinkStats {
    /// The sink's name (`name`, or kind and position).
    pub name: String,
    /// Its kind (`syslog`, `cef`, `jsonl`, `webhook`).
    pub kind: &'static str,
    /// Alerts delivered.
    pub sent: u64,
    /// Deliveries tried again after a failure.
    pub retried: u64,
    /// Alerts given up: refused for good, or out of attempts.
    pub failed: u64,
    /// Alerts dropped unsent: the oldest past the queue's bound, and whatever was left when
    /// a shutdown's deadline came.
    pub dropped: u64,
    /// Alerts waiting now.
    pub queued: u64,
    /// The last error met, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

struct Handle {
    name: String,
    kind: ExportKind,
    queue: Arc<Queue>,
    thread: Option<JoinHandle<()>>,
}

/// Sends alerts to every configured sink without making the caller wait.
///
/// ```no_run
/// use ward_export::{ExportFile, Exporter};
/// # fn main() -> Result<(), ward_export::ExportError> {
/// let config = ExportFile::parse(r#"
///     [[export]]
///     kind = "cef"
///     address = "siem.example:514"
///     transport = "tcp"
/// "#)?;
/// let exporter = Exporter::from_config(&config.export)?;
/// # let alert: ward_core::Alert = todo!();
/// exporter.send(&alert);
/// let stats = exporter.shutdown(std::time::Duration::from_secs(5));
/// # Ok(()) }
/// ```
pub struct Exporter {
    sinks: Vec<Handle>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").field("sinks", &self.stats()).finish()
    }
}

fn build_sink(c: &ExportConfig, name: &str) -> Result<Box<dyn Sink>, ExportError> {
    let config_err = |message: String| ExportError::Config { sink: name.to_owned(), message };
    Ok(match c.kind {
        ExportKind::Syslog | ExportKind::Cef => {
            let transport = c.transport.unwrap_or_default();
            let (host, port) =
                split_address(c.address.as_deref().unwrap_or_default(), transport.default_port())
                    .map_err(config_err)?;
            let facility = match &c.facility {
                Some(f) => f.code().map_err(config_err)?,
                None => 16,
            };
            let mut header = Header::local(facility);
            if let Some(h) = &c.hostname {
                header.hostname = h.clone();
            }
            let tls = if transport == Transport::Tls {
                let roots = match &c.ca_file {
                    Some(path) => read_ca_file(path)?,
                    None => native_roots(),
                };
                let server_name = c.server_name.clone().unwrap_or_else(|| host.clone());
                Some(Tls::new(roots, &server_name).map_err(config_err)?)
            } else {
                None
            };
            let body = if c.kind == ExportKind::Cef { Body::Cef } else { Body::StructuredData };
            Box::new(SyslogSink::new(host, port, transport, tls, header, body, c.timeout()))
        }
        ExportKind::Jsonl => {
            let path = c.path.as_deref().ok_or_else(|| config_err("needs `path`".into()))?;
            Box::new(FileSink::new(path, c.fsync.unwrap_or_default(), c.max_bytes, c.keep)?)
        }
        ExportKind::Webhook => {
            let roots = match &c.ca_file {
                Some(path) => read_ca_file(path)?,
                None => native_roots(),
            };
            let headers = c.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            Box::new(WebhookSink::new(
                c.url.clone().unwrap_or_default(),
                headers,
                c.bearer_token.as_deref(),
                c.hmac_secret.as_deref(),
                &roots,
                c.timeout(),
            ))
        }
    })
}

/// A small generator for back-off jitter (no need for a random crate: spreading retries
/// apart needs no secrecy).
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Jitter(t | 1)
    }

    /// Uniform in `[0, n]`.
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.saturating_add(1)
    }
}

/// The wait before retry number `attempt` (from 1): `initial_ms` doubled each time up to
/// `max_ms`, then a random point in its upper half, so that sinks and Wards that failed
/// together do not retry together.
fn backoff(retry: &RetryConfig, attempt: u32, jitter: &mut Jitter) -> Duration {
    let doubled = retry.initial_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(40));
    let full = doubled.min(retry.max_ms);
    Duration::from_millis(full / 2 + jitter.below(full - full / 2))
}

fn run(queue: Arc<Queue>, mut sink: Box<dyn Sink>, retry: RetryConfig) {
    let counters: &Counters = &queue.counters;
    let mut jitter = Jitter::new();
    loop {
        if queue.len() == 0
            && let Err(e) = sink.idle()
        {
            counters.error(e);
        }
        let Some(alert) = queue.pop() else { break };
        let mut attempt = 0u32;
        loop {
            if queue.stopped() {
                Counters::add(&counters.dropped, 1);
                return;
            }
            match sink.deliver(&alert) {
                Outcome::Sent => {
                    Counters::add(&counters.sent, 1);
                    break;
                }
                Outcome::Failed(e) => {
                    counters.error(e);
                    Counters::add(&counters.failed, 1);
                    break;
                }
                Outcome::Retry { after, error } => {
                    counters.error(error);
                    attempt = attempt.saturating_add(1);
                    if retry.max_attempts > 0 && attempt >= retry.max_attempts {
                        Counters::add(&counters.failed, 1);
                        break;
                    }
                    Counters::add(&counters.retried, 1);
                    let wait = match after {
                        Some(a) => a.min(Duration::from_millis(retry.max_ms)),
                        None => backoff(&retry, attempt, &mut jitter),
                    };
                    if !queue.sleep(wait) {
                        Counters::add(&counters.dropped, 1);
                        return;
                    }
                }
            }
        }
    }
    let _ = sink.idle();
}

impl Exporter {
    /// Checks every table, opens files and reads CA files (errors name the sink), then
    /// starts one thread per sink. Receivers are not contacted yet: one that is down now
    /// is retried once alerts come.
    pub fn from_config(configs: &[ExportConfig]) -> Result<Exporter, ExportError> {
        let mut built = Vec::with_capacity(configs.len());
        for (i, c) in configs.iter().enumerate() {
            c.check(i)?;
            let name = c.display_name(i);
            if built.iter().any(|(n, _, _): &(String, _, _)| *n == name) {
                return Err(ExportError::Config { sink: name, message: "two sinks have this name".into() });
            }
            let sink = build_sink(c, &name)?;
            built.push((name, c, sink));
        }
        let mut sinks = Vec::with_capacity(built.len());
        for (name, c, sink) in built {
            let queue = Arc::new(Queue::new(c.queue_bound()));
            let q = Arc::clone(&queue);
            let retry = c.retry;
            let thread = std::thread::Builder::new()
                .name(format!("export-{name}"))
                .spawn(move || run(q, sink, retry))
                .map_err(|e| ExportError::Config {
                    sink: name.clone(),
                    message: format!("no thread: {e}"),
                })?;
            sinks.push(Handle { name, kind: c.kind, queue, thread: Some(thread) });
        }
        Ok(Exporter { sinks })
    }

    /// Queues the alert for every sink and returns at once. A full queue drops its oldest
    /// alert (counted); after [`Exporter::shutdown`] began nothing more is taken.
    pub fn send(&self, alert: &Alert) {
        if self.sinks.is_empty() {
            return;
        }
        let alert = Arc::new(alert.clone());
        for s in &self.sinks {
            s.queue.push(Arc::clone(&alert));
        }
    }

    /// Every sink's counters, in configuration order.
    pub fn stats(&self) -> Vec<SinkStats> {
        self.sinks
            .iter()
            .map(|s| {
                let c = &s.queue.counters;
                SinkStats {
                    name: s.name.clone(),
                    kind: s.kind.as_str(),
                    sent: c.sent.load(Ordering::Relaxed),
                    retried: c.retried.load(Ordering::Relaxed),
                    failed: c.failed.load(Ordering::Relaxed),
                    dropped: c.dropped.load(Ordering::Relaxed),
                    queued: s.queue.len() as u64,
                    last_error: c.last_error.lock().ok().and_then(|e| e.clone()),
                }
            })
            .collect()
    }

    /// Stops taking alerts, lets every sink deliver what it holds for up to `deadline`,
    /// then stops them: what is still queued is counted as dropped, and a sink's thread
    /// still inside a network call is left to end on its timeout. Returns the final counters.
    pub fn shutdown(mut self, deadline: Duration) -> Vec<SinkStats> {
        self.finish(deadline);
        self.stats()
    }

    fn finish(&mut self, deadline: Duration) {
        let now = Instant::now();
        let until = now.checked_add(deadline).unwrap_or(now + Duration::from_secs(86_400 * 365));
        for s in &self.sinks {
            s.queue.close();
        }
        while Instant::now() < until
            && self.sinks.iter().any(|s| s.thread.as_ref().is_some_and(|t| !t.is_finished()))
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        for s in &self.sinks {
            s.queue.stop();
        }
        // A stopped thread wakes at once from its wait or back-off and counts the alert it
        // held; one inside a network call ends on that call's timeout, unwaited for.
        let grace = Instant::now() + STOP_GRACE;
        while Instant::now() < grace
            && self.sinks.iter().any(|s| s.thread.as_ref().is_some_and(|t| !t.is_finished()))
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        for s in &mut self.sinks {
            if let Some(t) = s.thread.take()
                && t.is_finished()
            {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Exporter {
    /// Dropped without [`Exporter::shutdown`]: sinks stop at once, what waits is dropped.
    fn drop(&mut self) {
        if self.sinks.iter().any(|s| s.thread.is_some()) {
            self.finish(Duration::ZERO);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exporter_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Exporter>();
    }

    #[test]
    fn backoff_doubles_within_bounds() {
        let retry = RetryConfig { initial_ms: 100, max_ms: 1000, max_attempts: 0 };
        let mut j = Jitter::new();
        for _ in 0..200 {
            let b1 = backoff(&retry, 1, &mut j).as_millis();
            assert!((50..=100).contains(&b1), "{b1}");
            let b3 = backoff(&retry, 3, &mut j).as_millis();
            assert!((200..=400).contains(&b3), "{b3}");
            let b30 = backoff(&retry, 30, &mut j).as_millis();
            assert!((500..=1000).contains(&b30), "{b30}");
        }
    }
}
