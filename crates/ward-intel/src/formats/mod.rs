//! Feed formats: bytes in, indicators and counts out. Pure functions: no I/O, no panics, no
//! fatal error for a bad line (it is counted); a document that cannot be read at all (a
//! STIX bundle that is not JSON) is one unreadable entry and no indicators, and the caller
//! keeps its last good set.

pub mod csv;
pub mod domains;
pub mod list;
pub mod stix;
pub mod taxii;

use ipnet::IpNet;
use serde::Serialize;
use ward_core::Timestamp;

use crate::config::{Column, Format};
use crate::domain::{self, NameError};
use crate::net;

/// What an indicator names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IndicatorValue {
    /// An address or network.
    Net(IpNet),
    /// A domain and every name under it (normalised).
    Domain(String),
    /// A URL (normalised: scheme and host in lower case, no fragment).
    Url(String),
}

/// One indicator of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// What it names.
    pub value: IndicatorValue,
    /// The feed's own id (a STIX indicator's id); `None` when the value is its own id.
    pub id: Option<String>,
    /// 0-100.
    pub confidence: u8,
}

/// How to read a feed.
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// Confidence of indicators that carry none.
    pub confidence: u8,
    /// The CSV column of the indicator.
    pub csv_column: Column,
    /// Lines whose score column is below this are skipped.
    pub min_score: Option<u32>,
    /// Validity (STIX `valid_from`, `valid_until`) is judged at this time.
    pub now: Timestamp,
}

impl Default for ParseOptions {
    fn default() -> ParseOptions {
        ParseOptions {
            confidence: crate::config::DEFAULT_CONFIDENCE,
            csv_column: Column::default(),
            min_score: None,
            now: Timestamp::now(),
        }
    }
}

/// Warnings kept per feed; the counts say how many there were.
pub const MAX_WARNINGS: usize = 20;

/// What reading a feed found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ParseStats {
    /// Entries read (lines, CSV records, STIX objects).
    pub entries: u64,
    /// Indicators taken.
    pub indicators: u64,
    /// Private or reserved networks and local or single-label names: refused.
    pub refused: u64,
    /// Entries that could not be read (not an address, a name or a URL; bad JSON).
    pub unreadable: u64,
    /// STIX indicators or comparisons that cannot be expressed as an address, name or URL
    /// (file hashes, `AND`, `MATCHES`, other pattern languages).
    pub unsupported: u64,
    /// STIX indicators revoked, expired, or not valid yet.
    pub inactive: u64,
    /// Lines whose score is below `min_score`.
    pub below_min_score: u64,
    /// Indicators beyond [`crate::MAX_INDICATORS`].
    pub over_cap: u64,
    /// The first few refusals and unreadable entries, for the operator.
    pub warnings: Vec<String>,
}

impl ParseStats {
    pub(crate) fn warn(&mut self, text: impl FnOnce() -> String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(crate::short(&text(), 200));
        }
    }
}

/// A feed read.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// The indicators, in the feed's order.
    pub indicators: Vec<Indicator>,
    /// Counts.
    pub stats: ParseStats,
    /// The earliest time after `now` at which an indicator becomes valid or expires: the
    /// set must be built again then.
    pub next_change: Option<Timestamp>,
    /// The format it was read as.
    pub format: Option<Format>,
}

impl Parsed {
    /// Adds an indicator, unless the feed is already at its cap.
    pub(crate) fn push(&mut self, value: IndicatorValue, id: Option<String>, confidence: u8) {
        if self.indicators.len() >= crate::MAX_INDICATORS {
            self.stats.over_cap += 1;
            return;
        }
        self.stats.indicators += 1;
        self.indicators.push(Indicator { value, id, confidence: confidence.min(100) });
    }

    /// Adds an address or network after the reserved-range check; `where_` names the entry
    /// in a warning.
    pub(crate) fn push_net(
        &mut self,
        net: IpNet,
        id: Option<String>,
        confidence: u8,
        where_: &dyn Fn() -> String,
    ) {
        if let Some(why) = net::refusal(&net) {
            self.stats.refused += 1;
            self.stats.warn(|| format!("{}: {} is {why}: refused", where_(), net::network_text(&net)));
            return;
        }
        self.push(IndicatorValue::Net(net), id, confidence);
    }

    /// Adds a name after normalising it; counts a refusal or an unreadable name.
    pub(crate) fn push_name(
        &mut self,
        name: &str,
        id: Option<String>,
        confidence: u8,
        where_: &dyn Fn() -> String,
    ) {
        match domain::normalize(name) {
            Ok(n) => self.push(IndicatorValue::Domain(n), id, confidence),
            Err(NameError::Refused(why)) => {
                self.stats.refused += 1;
                self.stats.warn(|| format!("{}: {name:?}: {why}: refused", where_()));
            }
            Err(NameError::Invalid) => {
                self.stats.unreadable += 1;
                self.stats
                    .warn(|| format!("{}: {:?} is not a domain name", where_(), crate::short(name, 80)));
            }
        }
    }

    /// Adds whatever a text is: an address or network, a URL (and its host), or a name.
    pub(crate) fn push_any(
        &mut self,
        text: &str,
        id: Option<String>,
        confidence: u8,
        where_: &dyn Fn() -> String,
    ) {
        let text = text.trim();
        if let Some(nets) = net::parse_networks(text) {
            for n in nets {
                self.push_net(n, id.clone(), confidence, where_);
            }
        } else if text.contains("://") {
            self.push_url(text, id, confidence, where_);
        } else {
            self.push_name(text, id, confidence, where_);
        }
    }

    /// Adds a URL and its host (a name, or an address).
    pub(crate) fn push_url(
        &mut self,
        url: &str,
        id: Option<String>,
        confidence: u8,
        where_: &dyn Fn() -> String,
    ) {
        let (Some(norm), Some(host)) = (domain::normalize_url(url), domain::url_host(url)) else {
            self.stats.unreadable += 1;
            self.stats.warn(|| format!("{}: {:?} is not a URL", where_(), crate::short(url, 80)));
            return;
        };
        if let Some(ip) = net::parse_addr(host) {
            let n = IpNet::from(ip);
            if let Some(why) = net::refusal(&n) {
                self.stats.refused += 1;
                self.stats.warn(|| format!("{}: {url:?} is on an address that is {why}: refused", where_()));
                return;
            }
            self.push(IndicatorValue::Net(n), id.clone(), confidence);
        } else {
            match domain::normalize(host) {
                Ok(h) => self.push(IndicatorValue::Domain(h), id.clone(), confidence),
                Err(NameError::Refused(why)) => {
                    self.stats.refused += 1;
                    self.stats.warn(|| format!("{}: {url:?}: its host is {why}: refused", where_()));
                    return;
                }
                Err(NameError::Invalid) => {
                    self.stats.unreadable += 1;
                    self.stats.warn(|| format!("{}: {url:?} has no readable host", where_()));
                    return;
                }
            }
        }
        self.push(IndicatorValue::Url(norm), id, confidence);
    }

    pub(crate) fn unreadable(&mut self, text: impl FnOnce() -> String) {
        self.stats.unreadable += 1;
        self.stats.warn(text);
    }
}

/// Reads a feed written in `format` (`Auto` sniffs it; `Taxii` reads an envelope or a
/// bundle of objects, as a TAXII server answers).
pub fn parse(format: Format, bytes: &[u8], opts: &ParseOptions) -> Parsed {
    let format = if format == Format::Auto { sniff(bytes) } else { format };
    let mut out = match format {
        Format::Ip | Format::Auto => list::parse(bytes, opts),
        Format::Csv => csv::parse(bytes, opts),
        Format::Domain => domains::parse(bytes, opts),
        Format::Stix | Format::Taxii => stix::parse_document(bytes, opts),
    };
    out.format = Some(format);
    out
}

/// The format a feed's bytes look like: JSON is STIX (a bundle or a TAXII envelope); text
/// whose first entries are addresses is an IP list, names a domain list, and lines with
/// several comma-, semicolon- or tab-separated fields (not a hosts file's or ipsum's score)
/// CSV.
pub fn sniff(bytes: &[u8]) -> Format {
    let head = &bytes[..bytes.len().min(64 << 10)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return Format::Stix;
    }
    let (mut ips, mut names, mut csv) = (0, 0, 0);
    for line in t
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .take(50)
    {
        if line.contains(',') || line.split('\t').count() > 2 || line.contains(';') {
            csv += 1;
            continue;
        }
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        let second = fields.next();
        match (net::parse_networks(first).is_some(), second) {
            (true, Some(s)) if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') => names += 1, // hosts file
            (true, _) => ips += 1,
            (false, _) => names += 1,
        }
    }
    if csv > ips && csv > names {
        Format::Csv
    } else if names > ips {
        Format::Domain
    } else {
        Format::Ip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(sniff(b"# c\n1.2.3.4\n5.6.7.0/24\n"), Format::Ip);
        assert_eq!(sniff(b"77.90.185.20\t10\n"), Format::Ip);
        assert_eq!(sniff(b"0.0.0.0 evil.example\n0.0.0.0 bad.example\n"), Format::Domain);
        assert_eq!(sniff(b"evil.example\nbad.example\n"), Format::Domain);
        assert_eq!(sniff(b"id,ip,first_seen\n1,8.8.8.8,2024\n"), Format::Csv);
        assert_eq!(sniff(b"\n  {\"type\": \"bundle\"}"), Format::Stix);
    }

    #[test]
    fn takes_anything_a_csv_or_stix_names() {
        let mut p = Parsed::default();
        let w = || "x".to_owned();
        p.push_any("8.8.8.0/24", None, 50, &w);
        p.push_any("http://Evil.Example/x", None, 50, &w);
        p.push_any("http://10.1.1.1/x", None, 50, &w);
        p.push_any("evil.example", None, 50, &w);
        p.push_any("not a name", None, 50, &w);
        assert_eq!(p.stats.indicators, 4);
        assert_eq!(p.stats.refused, 1);
        assert_eq!(p.stats.unreadable, 1);
        assert_eq!(p.indicators[2].value, IndicatorValue::Url("http://evil.example/x".into()));
    }
}
