//! Threat intelligence for Ward: feeds of indicators (addresses, networks, domains, URLs) read
//! from plain lists, CSV, hosts-style domain lists, STIX 2.1 bundles and TAXII 2.1
//! collections; the indicator sets built from them; and the refresher that keeps them fresh.
//!
//! Parsing is pure (`formats`): bytes in, indicators and counts out, never a panic and never
//! a fatal error for one bad line. Private and reserved addresses, and names that would
//! match half the world (a bare TLD, `localhost`), are refused and counted. The sets
//! (`set`) answer lookups without locks: [`Intel`] holds every feed's indicators in one
//! immutable [`Snapshot`] that a refresh swaps whole (`arc-swap`), so a reader never waits.
//! I/O lives in `fetch` (HTTP, TAXII) and `refresh` (schedules, conditional requests, the
//! on-disk cache); this crate never matches flows or raises alerts (that is `ward-detect`).
//!
//! ```
//! use ward_intel::{Intel, FeedConfig, Format, ParseOptions, FeedSet, formats};
//!
//! let opts = ParseOptions::default();
//! let parsed = formats::parse(Format::Ip, b"# a list\n203.0.113.9\n198.51.100.0/24\n45.9.20.0/24\t7\n", &opts);
//! // 203.0.113.0/24 and 198.51.100.0/24 are documentation ranges: refused.
//! assert_eq!(parsed.stats.indicators, 1);
//! assert_eq!(parsed.stats.refused, 2);
//! let intel = Intel::new();
//! intel.set_feed(FeedSet::build("example", parsed));
//! let hit = intel.lookup_ip("45.9.20.77".parse().unwrap()).unwrap();
//! assert_eq!((&*hit.feed, hit.indicator.as_str()), ("example", "45.9.20.0/24"));
//! # let _ = FeedConfig::from_source("x.txt");
//! ```

pub mod config;
pub mod domain;
pub mod fetch;
pub mod formats;
pub mod intel;
pub mod net;
pub mod refresh;
pub mod set;
pub mod synth;

pub use config::{Auth, Column, FeedConfig, Format};
pub use formats::{Indicator, IndicatorValue, ParseOptions, ParseStats, Parsed};
pub use intel::{Hit, HitRef, IndicatorKind, Intel, Snapshot};
pub use set::FeedSet;

/// Most indicators taken from one feed; the rest are counted as `over_cap`.
pub const MAX_INDICATORS: usize = 20_000_000;

/// Most bytes read from one feed (a file or a download).
pub const MAX_FEED_BYTES: u64 = 1 << 30;

/// `s` cut to at most `max` bytes at a character boundary, for messages.
pub(crate) fn short(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
