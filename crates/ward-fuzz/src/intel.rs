//! The threat-intelligence parsers: IP lists, CSV, domain lists, STIX bundles and patterns,
//! TAXII answers, the feed configuration. Each checks what the parser promises: the counts
//! agree with the indicators, nothing refused gets in, values are normalised, and every
//! indicator read is found again in the set built from it.

use std::sync::Arc;

use ward_intel::config::{Column, parse_config};
use ward_intel::formats::{self, ParseOptions, stix, taxii};
use ward_intel::{FeedSet, IndicatorValue, Parsed, Snapshot, domain, net};

fn check(p: &Parsed) {
    assert_eq!(p.stats.indicators as usize, p.indicators.len(), "the count is the indicators");
    assert!(p.stats.warnings.len() <= formats::MAX_WARNINGS);
    for i in &p.indicators {
        assert!(i.confidence <= 100);
        match &i.value {
            IndicatorValue::Net(n) => assert!(net::refusal(n).is_none(), "{n} was refused yet taken"),
            IndicatorValue::Domain(d) => assert_eq!(domain::normalize(d).as_deref(), Ok(d.as_str())),
            IndicatorValue::Url(u) => assert_eq!(domain::normalize_url(u).as_deref(), Some(u.as_str())),
        }
    }
    let snap = Snapshot::build(vec![Arc::new(FeedSet::build("fuzz", p.clone()))]);
    assert_eq!(snap.indicators(), p.indicators.len());
    for i in p.indicators.iter().take(256) {
        match &i.value {
            IndicatorValue::Net(n) => {
                assert!(snap.match_ip(n.network()).is_some(), "{n}");
                assert!(snap.match_ip(n.broadcast()).is_some(), "{n}");
            }
            IndicatorValue::Domain(d) => {
                assert!(snap.match_domain(d).is_some(), "{d}");
                assert!(snap.match_domain(&format!("x.{d}")).is_some() || d.len() > 250, "{d}");
            }
            IndicatorValue::Url(u) => assert!(!snap.lookup_url_all(u).is_empty(), "{u}"),
        }
    }
}

fn opts(pick: u8) -> ParseOptions {
    ParseOptions {
        confidence: pick % 101,
        csv_column: match pick % 4 {
            0 => Column::Name("ip".into()),
            n => Column::Index(usize::from(n - 1)),
        },
        min_score: (pick & 0x80 != 0).then_some(u32::from(pick % 8)),
        now: ward_core::Timestamp::from_secs(1_764_460_800),
    }
}

/// Plain address lists; the first byte picks the options.
pub fn intel_ip_list(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    check(&formats::list::parse(rest, &opts(pick)));
}

/// CSV feeds; the first byte picks the column and options.
pub fn intel_csv(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    check(&formats::csv::parse(rest, &opts(pick)));
}

/// Domain and hosts lists.
pub fn intel_domain_list(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    check(&formats::domains::parse(rest, &opts(pick)));
    // Sniffing then reading, as a feed of format `auto` is.
    check(&formats::parse(ward_intel::Format::Auto, rest, &opts(pick)));
}

/// STIX bundles, and the input as one pattern.
pub fn intel_stix(data: &[u8]) {
    check(&stix::parse_document(data, &opts(0)));
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = stix::parse_pattern(&text) {
        assert!(p.comparisons.len() + p.unsupported as usize <= text.len(), "more comparisons than bytes");
    }
}

/// TAXII answers: an envelope (whose objects are then read), discovery, collections.
pub fn intel_taxii(data: &[u8]) {
    if let Ok(env) = taxii::parse_envelope(data) {
        assert!(!env.more || env.next.is_some(), "more pages need a next token");
        check(&stix::parse_objects(env.objects, &opts(1)));
    }
    if let Ok(d) = taxii::parse_discovery(data) {
        assert!(!d.api_roots.is_empty() || d.default.is_some());
    }
    let _ = taxii::parse_collections(data);
    let _ = taxii::is_discovery(data);
}

/// The `[[feed]]` configuration.
pub fn intel_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match parse_config("fuzz.toml", &text) {
        Ok(feeds) => {
            for (i, f) in feeds.iter().enumerate() {
                assert!(f.confidence <= 100 && !f.refresh.is_zero());
                assert!(!feeds[..i].iter().any(|g| g.name == f.name), "names are unique");
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.toml") || e.to_string().contains("variable"), "{e}"),
    }
}
