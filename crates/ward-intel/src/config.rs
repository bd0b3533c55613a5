//! Which feeds to read and how: [`FeedConfig`], from a TOML `[[feed]]` list or from a bare
//! path or URL (`--intel`).
//!
//! ```toml
//! [[feed]]
//! name = "ipsum-3"
//! source = "https://raw.githubusercontent.com/stamparm/ipsum/master/levels/3.txt"
//! format = "ip"            # auto (default), ip, csv, domain, stix, taxii
//! refresh = "1h"           # s, m, h, d; default 1h
//! confidence = 70          # for indicators that carry none; default 50
//!
//! [[feed]]
//! name = "partner-taxii"
//! source = "https://taxii.example.org/taxii2/"
//! format = "taxii"
//! collection = "indicators"   # id or title; default: every readable collection
//! auth = { basic = { user = "ward", password_env = "PARTNER_TAXII_PASSWORD" } }
//! ```

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// How a feed is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Decided from the content (and from a TAXII discovery answer for URLs).
    Auto,
    /// Addresses, networks and ranges one a line, with comments and optional score columns.
    Ip,
    /// Comma-, semicolon- or tab-separated values; the indicator in one column.
    Csv,
    /// Domain names one a line, or hosts-file lines (`0.0.0.0 name`).
    Domain,
    /// A STIX 2.1 bundle.
    Stix,
    /// A TAXII 2.1 server (discovery or API root URL) or collection.
    Taxii,
}

impl Format {
    /// The name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Ip => "ip",
            Format::Csv => "csv",
            Format::Domain => "domain",
            Format::Stix => "stix",
            Format::Taxii => "taxii",
        }
    }
}

/// Which CSV column holds the indicator.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Column {
    /// By position, from 0.
    Index(usize),
    /// By the header's name (case-insensitive).
    Name(String),
}

impl Default for Column {
    fn default() -> Column {
        Column::Index(0)
    }
}

/// Credentials for a feed. Secrets are best given by the name of an environment variable
/// (`*_env`), so that the configuration file holds none.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Auth {
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        user: String,
        /// The password itself.
        #[serde(default)]
        password: Option<String>,
        /// The environment variable holding the password.
        #[serde(default)]
        password_env: Option<String>,
    },
    /// An API key sent in a header.
    Header {
        /// The header's name (`X-API-Key`, `Authorization`).
        name: String,
        /// The value itself.
        #[serde(default)]
        value: Option<String>,
        /// The environment variable holding the value.
        #[serde(default)]
        value_env: Option<String>,
    },
}

impl Auth {
    /// The header name and value to send.
    pub fn header(&self) -> Result<(String, String), ConfigError> {
        use base64::Engine;
        let secret = |inline: &Option<String>, env: &Option<String>| -> Result<String, ConfigError> {
            if let Some(var) = env {
                return std::env::var(var).map_err(|_| ConfigError::Secret(var.clone()));
            }
            inline
                .clone()
                .ok_or_else(|| ConfigError::Invalid("auth needs a secret or the name of its variable".into()))
        };
        match self {
            Auth::Basic { user, password, password_env } => {
                let pw = secret(password, password_env)?;
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
                Ok(("Authorization".to_owned(), format!("Basic {token}")))
            }
            Auth::Header { name, value, value_env } => Ok((name.clone(), secret(value, value_env)?)),
        }
    }
}

/// One feed: where it is, how it is written, how often to read it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedConfig {
    /// The name hits carry (unique among feeds).
    pub name: String,
    /// A file path, or an `http://` or `https://` URL.
    pub source: String,
    /// How it is written.
    pub format: Format,
    /// How often it is read again.
    pub refresh: Duration,
    /// Credentials for a URL.
    pub auth: Option<Auth>,
    /// Confidence (0-100) of indicators that carry none.
    pub confidence: u8,
    /// The CSV column holding the indicator.
    pub csv_column: Column,
    /// Lines whose score column (ipsum's count of lists) is below this are skipped.
    pub min_score: Option<u32>,
    /// TAXII: the collection to read (id or title); every readable one when absent.
    pub collection: Option<String>,
}

/// Default time between two reads of a feed.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(3600);

/// Default confidence of indicators that carry none.
pub const DEFAULT_CONFIDENCE: u8 = 50;

impl FeedConfig {
    /// A feed with the defaults for a path or URL (`--intel`): the format is decided from
    /// the content, the name is the file name (or the URL's last part).
    pub fn from_source(source: &str) -> FeedConfig {
        let trimmed = source.trim_end_matches('/');
        let base = trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed);
        let name = if base.is_empty() { source.to_owned() } else { base.to_owned() };
        FeedConfig {
            name,
            source: source.to_owned(),
            format: Format::Auto,
            refresh: DEFAULT_REFRESH,
            auth: None,
            confidence: DEFAULT_CONFIDENCE,
            csv_column: Column::default(),
            min_score: None,
            collection: None,
        }
    }

    /// Whether the source is fetched over HTTP.
    pub fn is_url(&self) -> bool {
        let s = self.source.to_ascii_lowercase();
        s.starts_with("http://") || s.starts_with("https://")
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The TOML is malformed or names unknown fields.
    #[error("{path}: {message}")]
    Toml {
        /// The file.
        path: String,
        /// What the parser said (with line and column).
        message: String,
    },
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// An environment variable named for a secret is not set.
    #[error("the environment variable {0} (named for a feed's secret) is not set")]
    Secret(String),
}

#[derive(Deserialize)]
struct FileToml {
    #[serde(default)]
    feed: Vec<FeedToml>,
    /// Other sections of a Ward configuration are read by their own owners.
    #[serde(flatten)]
    _rest: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedToml {
    name: String,
    source: String,
    #[serde(default = "auto")]
    format: Format,
    #[serde(default)]
    refresh: Option<String>,
    #[serde(default)]
    auth: Option<Auth>,
    #[serde(default)]
    confidence: Option<u8>,
    #[serde(default)]
    csv_column: Option<Column>,
    #[serde(default)]
    min_score: Option<u32>,
    #[serde(default)]
    collection: Option<String>,
}

fn auto() -> Format {
    Format::Auto
}

/// A duration written `90s`, `15m`, `1h`, `2d` (or bare seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// The feeds of a configuration's `[[feed]]` list. Other top-level sections are left to
/// their owners; unknown fields inside a feed are errors.
pub fn parse_config(path: &str, text: &str) -> Result<Vec<FeedConfig>, ConfigError> {
    let file: FileToml = toml::from_str(text)
        .map_err(|e| ConfigError::Toml { path: path.to_owned(), message: e.to_string() })?;
    let mut out: Vec<FeedConfig> = Vec::new();
    for f in file.feed {
        let bad = |what: String| ConfigError::Invalid(format!("{path}: feed {:?}: {what}", f.name));
        if f.name.trim().is_empty() {
            return Err(ConfigError::Invalid(format!("{path}: a feed has an empty name")));
        }
        if out.iter().any(|o| o.name == f.name) {
            return Err(bad("the name is used twice".into()));
        }
        let refresh = match &f.refresh {
            None => DEFAULT_REFRESH,
            Some(r) => parse_duration(r)
                .ok_or_else(|| bad(format!("refresh {r:?} is not a duration (90s, 15m, 1h, 1d)")))?,
        };
        let confidence = f.confidence.unwrap_or(DEFAULT_CONFIDENCE);
        if confidence > 100 {
            return Err(bad("confidence is 0 to 100".into()));
        }
        let cfg = FeedConfig {
            name: f.name.clone(),
            source: f.source.clone(),
            format: f.format,
            refresh,
            auth: f.auth.clone(),
            confidence,
            csv_column: f.csv_column.clone().unwrap_or_default(),
            min_score: f.min_score,
            collection: f.collection.clone(),
        };
        if cfg.format == Format::Taxii && !cfg.is_url() {
            return Err(bad("a TAXII feed needs an http(s) URL".into()));
        }
        out.push(cfg);
    }
    Ok(out)
}

/// The feeds of a configuration file.
pub fn load_config(path: &Path) -> Result<Vec<FeedConfig>, ConfigError> {
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|error| ConfigError::Io { path: name.clone(), error })?;
    parse_config(&name, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_feeds() {
        let text = r#"
            [[feed]]
            name = "ipsum"
            source = "/var/lib/ipsum/3.txt"
            format = "ip"
            refresh = "15m"
            confidence = 70
            min_score = 3

            [[feed]]
            name = "partner"
            source = "https://taxii.example.org/taxii2/"
            format = "taxii"
            collection = "indicators"
            auth = { basic = { user = "ward", password = "pw" } }

            [[feed]]
            name = "abuse"
            source = "https://example.org/list.csv"
            csv_column = "ip_address"
            auth = { header = { name = "X-API-Key", value = "k" } }
        "#;
        let feeds = parse_config("ward.toml", text).unwrap();
        assert_eq!(feeds.len(), 3);
        assert_eq!(feeds[0].refresh, Duration::from_secs(900));
        assert_eq!(feeds[0].min_score, Some(3));
        assert_eq!(feeds[1].format, Format::Taxii);
        assert_eq!(feeds[1].auth.as_ref().unwrap().header().unwrap().1, "Basic d2FyZDpwdw==");
        assert_eq!(feeds[2].csv_column, Column::Name("ip_address".into()));
        assert_eq!(feeds[2].auth.as_ref().unwrap().header().unwrap(), ("X-API-Key".into(), "k".into()));
        assert_eq!(feeds[2].format, Format::Auto);
    }

    #[test]
    fn refuses_bad_configs() {
        let cases = [
            "[[feed]]\nname = \"a\"\nsource = \"x\"\nformt = \"ip\"\n",
            "[[feed]]\nname = \"a\"\nsource = \"x\"\nrefresh = \"soon\"\n",
            "[[feed]]\nname = \"a\"\nsource = \"x\"\n[[feed]]\nname = \"a\"\nsource = \"y\"\n",
            "[[feed]]\nname = \"a\"\nsource = \"x\"\nconfidence = 101\n",
            "[[feed]]\nname = \"a\"\nsource = \"x\"\nformat = \"taxii\"\n",
            "[[feed]]\nname = \"a\"\nsource = \"x\"\nformat = \"xml\"\n",
            "[[feed]\n",
        ];
        for c in cases {
            assert!(parse_config("w.toml", c).is_err(), "{c}");
        }
        // Other sections belong to others.
        assert!(parse_config("w.toml", "[policy]\nfile = \"p.toml\"\n").unwrap().is_empty());
        let env = Auth::Basic {
            user: "u".into(),
            password: None,
            password_env: Some("WARD_TEST_UNSET_VAR".into()),
        };
        assert!(matches!(env.header(), Err(ConfigError::Secret(_))));
    }

    #[test]
    fn names_from_sources() {
        assert_eq!(FeedConfig::from_source("/data/ipsum/level3.txt").name, "level3.txt");
        assert_eq!(FeedConfig::from_source("https://h/taxii2/").name, "taxii2");
        assert!(FeedConfig::from_source("HTTPS://h/x").is_url());
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("0"), None);
    }
}
