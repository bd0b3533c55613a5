//! `[[export]]` tables: what a site writes, checked before anything starts.
//!
//! ```toml
//! [[export]]
//! kind = "syslog"              # syslog | cef | jsonl | webhook
//! address = "siem.example:6514"
//! transport = "tls"            # udp (default) | tcp | tls
//! ca_file = "/etc/ward/siem-ca.pem"
//! facility = "local4"
//! queue = 10000
//! retry = { initial_ms = 500, max_ms = 60000, max_attempts = 0 }
//! ```
//!
//! Unknown fields are refused with their line and column, and so are fields that do not
//! apply to the sink's kind (a `url` on a syslog sink is a mistake, not a no-op).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::ExportError;

/// Queue bound when a sink does not give one.
pub const DEFAULT_QUEUE: usize = 10_000;
/// Largest queue bound accepted.
pub const MAX_QUEUE: usize = 10_000_000;
/// Longest timeout or retry wait accepted, in milliseconds (an hour).
pub const MAX_WAIT_MS: u64 = 3_600_000;
/// Network timeout (connect, write, HTTP request) when a sink does not give one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A file holding `[[export]]` tables and nothing else (Ward's main config embeds the same
/// tables; this is for reading them on their own and for tests).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExportFile {
    /// The sinks, in order.
    #[serde(default)]
    pub export: Vec<ExportConfig>,
}

impl ExportFile {
    /// Reads TOML text; errors name the line and column.
    pub fn parse(text: &str) -> Result<ExportFile, ExportError> {
        let file: ExportFile = toml::from_str(text).map_err(|e| ExportError::Toml(e.to_string()))?;
        for (i, c) in file.export.iter().enumerate() {
            c.check(i)?;
        }
        Ok(file)
    }
}

/// What a sink writes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExportKind {
    /// Syslog RFC 5424 with Ward's structured data.
    Syslog,
    /// CEF carried in RFC 5424 syslog.
    Cef,
    /// JSON lines appended to a file.
    Jsonl,
    /// HTTP POST of JSON.
    Webhook,
}

impl ExportKind {
    /// Its name in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Syslog => "syslog",
            ExportKind::Cef => "cef",
            ExportKind::Jsonl => "jsonl",
            ExportKind::Webhook => "webhook",
        }
    }
}

/// How syslog travels.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// One datagram per message (RFC 5426). Fire and forget: a receiver that is down loses
    /// what is sent meanwhile, and nothing can tell.
    #[default]
    Udp,
    /// TCP with octet-counting framing (RFC 6587).
    Tcp,
    /// TLS over TCP, octet-counting (RFC 5425).
    Tls,
}

impl Transport {
    /// The port used when the address names none.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 514,
            Transport::Tls => 6514,
        }
    }
}

/// When the JSON lines file is synced to disk.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// After every alert, before it counts as sent.
    Always,
    /// Whenever the queue runs empty (a burst costs one sync).
    #[default]
    Idle,
    /// Never: the operating system writes back when it likes.
    Never,
}

/// A facility by name (`local4`, `auth`, ...) or number (0-23).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Facility {
    /// Its number.
    Number(i64),
    /// Its name.
    Name(String),
}

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
];

impl Facility {
    /// Its number, 0-23.
    pub fn code(&self) -> Result<u8, String> {
        match self {
            Facility::Number(n) => {
                u8::try_from(*n).ok().filter(|n| *n <= 23).ok_or_else(|| format!("facility {n} is not 0-23"))
            }
            Facility::Name(name) => FACILITIES
                .iter()
                .position(|f| f.eq_ignore_ascii_case(name))
                .map(|p| p as u8)
                .ok_or_else(|| format!("unknown facility {name:?} (one of {})", FACILITIES.join(", "))),
        }
    }
}

/// Retries of an alert a receiver did not take.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// First wait, in milliseconds; each retry doubles it.
    #[serde(default = "default_initial_ms")]
    pub initial_ms: u64,
    /// Longest wait, in milliseconds (also the most a `Retry-After` is honoured for).
    #[serde(default = "default_max_ms")]
    pub max_ms: u64,
    /// Attempts before an alert counts as failed; 0 keeps trying (the queue fills behind
    /// it and drops its oldest), which is what "nothing lost while the receiver is down"
    /// needs.
    #[serde(default)]
    pub max_attempts: u32,
}

fn default_initial_ms() -> u64 {
    500
}
fn default_max_ms() -> u64 {
    60_000
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig { initial_ms: default_initial_ms(), max_ms: default_max_ms(), max_attempts: 0 }
    }
}

/// One `[[export]]` table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// What it writes.
    pub kind: ExportKind,
    /// Its name in counters and errors (default: kind and position, `syslog#1`).
    #[serde(default)]
    pub name: Option<String>,
    /// syslog, cef: `host[:port]` or `[v6]:port` of the receiver.
    #[serde(default)]
    pub address: Option<String>,
    /// syslog, cef: udp, tcp or tls.
    #[serde(default)]
    pub transport: Option<Transport>,
    /// syslog, cef over tls; webhook over https: PEM certificates to trust instead of the
    /// system's store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// syslog, cef over tls: the name the receiver's certificate must carry (default: the
    /// address's host).
    #[serde(default)]
    pub server_name: Option<String>,
    /// syslog, cef: facility name or number (default `local0`).
    #[serde(default)]
    pub facility: Option<Facility>,
    /// syslog, cef: HOSTNAME to send (default: this machine's).
    #[serde(default)]
    pub hostname: Option<String>,
    /// jsonl: the file appended to.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// jsonl: when to sync (always, idle, never; default idle).
    #[serde(default)]
    pub fsync: Option<Fsync>,
    /// jsonl: rotate when the file would grow past this many bytes.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// jsonl: rotated files kept (`path.1` newest ... `path.N`; default 5).
    #[serde(default)]
    pub keep: Option<u32>,
    /// webhook: the `http://` or `https://` URL posted to.
    #[serde(default)]
    pub url: Option<String>,
    /// webhook: extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// webhook: sent as `Authorization: Bearer ...`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// webhook: key of the `X-Ward-Signature: sha256=<hex HMAC-SHA256 of the body>` header.
    #[serde(default)]
    pub hmac_secret: Option<String>,
    /// Alerts waiting at most (default 10,000); beyond, the oldest are dropped and counted.
    #[serde(default)]
    pub queue: Option<usize>,
    /// Network timeout in milliseconds (default 5,000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
}

impl ExportConfig {
    /// A sink of this kind with nothing else set (for building one in code).
    pub fn new(kind: ExportKind) -> ExportConfig {
        ExportConfig {
            kind,
            name: None,
            address: None,
            transport: None,
            ca_file: None,
            server_name: None,
            facility: None,
            hostname: None,
            path: None,
            fsync: None,
            max_bytes: None,
            keep: None,
            url: None,
            headers: BTreeMap::new(),
            bearer_token: None,
            hmac_secret: None,
            queue: None,
            timeout_ms: None,
            retry: RetryConfig::default(),
        }
    }

    /// Its name: the configured one or kind and position (`webhook#2`, counting from 1).
    pub fn display_name(&self, index: usize) -> String {
        self.name.clone().unwrap_or_else(|| format!("{}#{}", self.kind.as_str(), index + 1))
    }

    /// The queue bound.
    pub fn queue_bound(&self) -> usize {
        self.queue.unwrap_or(DEFAULT_QUEUE)
    }

    /// The network timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout_ms.map(Duration::from_millis).unwrap_or(DEFAULT_TIMEOUT)
    }

    /// Checks that the fields fit the kind and each other (not that files exist or
    /// receivers answer). `index` is the table's position, for its default name.
    pub fn check(&self, index: usize) -> Result<(), ExportError> {
        let name = self.display_name(index);
        let err = |message: String| ExportError::Config { sink: name.clone(), message };
        let syslog = matches!(self.kind, ExportKind::Syslog | ExportKind::Cef);
        let mut stray = Vec::new();
        let mut field = |set: bool, field: &'static str, applies: bool| {
            if set && !applies {
                stray.push(field);
            }
        };
        let webhook = self.kind == ExportKind::Webhook;
        let jsonl = self.kind == ExportKind::Jsonl;
        field(self.address.is_some(), "address", syslog);
        field(self.transport.is_some(), "transport", syslog);
        field(self.ca_file.is_some(), "ca_file", syslog || webhook);
        field(self.server_name.is_some(), "server_name", syslog);
        field(self.facility.is_some(), "facility", syslog);
        field(self.hostname.is_some(), "hostname", syslog);
        field(self.path.is_some(), "path", jsonl);
        field(self.fsync.is_some(), "fsync", jsonl);
        field(self.max_bytes.is_some(), "max_bytes", jsonl);
        field(self.keep.is_some(), "keep", jsonl);
        field(self.url.is_some(), "url", webhook);
        field(!self.headers.is_empty(), "headers", webhook);
        field(self.bearer_token.is_some(), "bearer_token", webhook);
        field(self.hmac_secret.is_some(), "hmac_secret", webhook);
        if !stray.is_empty() {
            return Err(err(format!(
                "{} not used by kind {:?}",
                stray.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
                self.kind.as_str()
            )));
        }
        let need = |set: bool, field: &str| {
            if set { Ok(()) } else { Err(err(format!("kind {:?} needs `{field}`", self.kind.as_str()))) }
        };
        match self.kind {
            ExportKind::Syslog | ExportKind::Cef => {
                need(self.address.is_some(), "address")?;
                let transport = self.transport.unwrap_or_default();
                split_address(self.address.as_deref().unwrap_or_default(), transport.default_port())
                    .map_err(err)?;
                if let Some(f) = &self.facility {
                    f.code().map_err(err)?;
                }
                if transport != Transport::Tls && (self.ca_file.is_some() || self.server_name.is_some()) {
                    return Err(err("`ca_file` and `server_name` need transport \"tls\"".into()));
                }
            }
            ExportKind::Jsonl => {
                need(self.path.is_some(), "path")?;
                if self.max_bytes == Some(0) {
                    return Err(err("`max_bytes` must be more than 0".into()));
                }
                if self.keep.is_some() && self.max_bytes.is_none() {
                    return Err(err("`keep` needs `max_bytes` (rotation)".into()));
                }
            }
            ExportKind::Webhook => {
                need(self.url.is_some(), "url")?;
                let url = self.url.as_deref().unwrap_or_default();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(err(format!("url {url:?} is not http:// or https://")));
                }
                if self.ca_file.is_some() && !url.starts_with("https://") {
                    return Err(err("`ca_file` needs an https:// url".into()));
                }
                for (k, v) in &self.headers {
                    ureq::http::HeaderName::from_bytes(k.as_bytes())
                        .map_err(|_| err(format!("header name {k:?} is not valid")))?;
                    ureq::http::HeaderValue::from_str(v)
                        .map_err(|_| err(format!("header {k:?} has a value that is not valid")))?;
                }
                if let Some(t) = &self.bearer_token {
                    ureq::http::HeaderValue::from_str(t)
                        .map_err(|_| err("`bearer_token` is not a valid header value".into()))?;
                }
            }
        }
        let queue = self.queue_bound();
        if queue == 0 || queue > MAX_QUEUE {
            return Err(err(format!("queue {queue} is not 1-{MAX_QUEUE}")));
        }
        if let Some(t) = self.timeout_ms
            && !(1..=MAX_WAIT_MS).contains(&t)
        {
            return Err(err(format!("`timeout_ms` {t} is not 1-{MAX_WAIT_MS}")));
        }
        let r = &self.retry;
        if r.initial_ms == 0 || r.max_ms < r.initial_ms || r.max_ms > MAX_WAIT_MS {
            return Err(err(format!(
                "retry needs 0 < initial_ms <= max_ms <= {MAX_WAIT_MS} (got {} and {})",
                r.initial_ms, r.max_ms
            )));
        }
        Ok(())
    }
}

/// `host[:port]`, `[v6]:port` or a bare IPv6 address into host and port.
pub(crate) fn split_address(address: &str, default_port: u16) -> Result<(String, u16), String> {
    let bad = || format!("address {address:?} is not host[:port]");
    if address.is_empty() {
        return Err(bad());
    }
    if let Some(rest) = address.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or_else(bad)?;
        let port = match tail {
            "" => default_port,
            t => t.strip_prefix(':').and_then(|p| p.parse().ok()).ok_or_else(bad)?,
        };
        return Ok((host.to_owned(), port));
    }
    if address.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok((address.to_owned(), default_port));
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Ok((host.to_owned(), port.parse().map_err(|_| bad())?)),
        Some(_) => Err(bad()),
        None => Ok((address.to_owned(), default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind() {
        let f = ExportFile::parse(
            r#"
            [[export]]
            kind = "syslog"
            address = "127.0.0.1:5514"
            transport = "tcp"
            facility = "local4"

            [[export]]
            kind = "cef"
            name = "arcsight"
            address = "siem.example"
            transport = "tls"
            ca_file = "/etc/ward/ca.pem"
            facility = 13

            [[export]]
            kind = "jsonl"
            path = "/var/log/ward/alerts.jsonl"
            max_bytes = 1000000
            keep = 3
            fsync = "always"

            [[export]]
            kind = "webhook"
            url = "https://soc.example/hook"
            headers = { "X-Site" = "north" }
            hmac_secret = "s3cret"
            queue = 100
            retry = { initial_ms = 100, max_ms = 2000, max_attempts = 5 }
            "#,
        )
        .expect("valid");
        assert_eq!(f.export.len(), 4);
        assert_eq!(f.export[0].facility.as_ref().map(|f| f.code()), Some(Ok(20)));
        assert_eq!(f.export[1].display_name(1), "arcsight");
        assert_eq!(f.export[2].display_name(2), "jsonl#3");
        assert_eq!(f.export[3].retry.max_attempts, 5);
        assert_eq!(f.export[3].queue_bound(), 100);
    }

    fn error(text: &str) -> String {
        ExportFile::parse(text).expect_err("must be refused").to_string()
    }

    #[test]
    fn clear_errors() {
        let e = error("[[export]]\nkind = \"syslog\"\naddress = \"a:1\"\nadress = \"x\"\n");
        assert!(e.contains("adress") && e.contains("line 4"), "{e}");
        let e = error("[[export]]\nkind = \"smtp\"\n");
        assert!(e.contains("smtp") && e.contains("line 2"), "{e}");
        let e = error("[[export]]\nkind = \"syslog\"\n");
        assert!(e.contains("syslog#1") && e.contains("needs `address`"), "{e}");
        let e = error("[[export]]\nkind = \"syslog\"\naddress = \"h:1\"\nurl = \"http://x\"\n");
        assert!(e.contains("`url` not used by kind \"syslog\""), "{e}");
        let e = error("[[export]]\nkind = \"syslog\"\naddress = \"h:99999\"\n");
        assert!(e.contains("not host[:port]"), "{e}");
        let e = error("[[export]]\nkind = \"cef\"\naddress = \"h\"\nfacility = \"locall\"\n");
        assert!(e.contains("unknown facility \"locall\""), "{e}");
        let e = error("[[export]]\nkind = \"webhook\"\nurl = \"ftp://x\"\n");
        assert!(e.contains("not http:// or https://"), "{e}");
        let e = error("[[export]]\nkind = \"jsonl\"\npath = \"x\"\nqueue = 0\n");
        assert!(e.contains("queue 0"), "{e}");
        let e =
            error("[[export]]\nkind = \"jsonl\"\npath = \"x\"\nretry = { initial_ms = 10, max_ms = 5 }\n");
        assert!(e.contains("initial_ms <= max_ms"), "{e}");
        let e = error("[[export]]\nkind = \"jsonl\"\npath = \"x\"\ntimeout_ms = 0\n");
        assert!(e.contains("`timeout_ms` 0 is not"), "{e}");
        let e =
            error("[[export]]\nkind = \"webhook\"\nurl = \"http://x\"\nheaders = { \"Bad Name\" = \"v\" }\n");
        assert!(e.contains("header name"), "{e}");
        let e = error("[[export]]\nkind = \"syslog\"\naddress = \"h:1\"\nca_file = \"ca.pem\"\n");
        assert!(e.contains("need transport \"tls\""), "{e}");
    }

    #[test]
    fn addresses() {
        assert_eq!(split_address("h", 514), Ok(("h".into(), 514)));
        assert_eq!(split_address("h:6514", 514), Ok(("h".into(), 6514)));
        assert_eq!(split_address("[::1]:99", 514), Ok(("::1".into(), 99)));
        assert_eq!(split_address("::1", 514), Ok(("::1".into(), 514)));
        assert!(split_address(":1", 514).is_err());
        assert!(split_address("[::1", 514).is_err());
        assert!(split_address("", 514).is_err());
    }
}
