//! `ward intel`: threat-intelligence feeds read now (update) and asked about (lookup). The
//! intel crate reads, refreshes and matches; this file gathers the feeds from the command
//! line and the configuration, and prints.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use ward_intel::refresh::{FeedReport, Outcome, Refresher};
use ward_intel::{FeedConfig, Hit, Intel};

use crate::report::fit;

#[derive(clap::Subcommand)]
pub(crate) enum IntelCommand {
    /// Reads every feed now (conditional requests; a feed that fails keeps its last good
    /// set) and prints, per feed, its indicators, what was refused or unreadable, and
    /// whether it changed. Exits 1 when a feed failed.
    Update(UpdateArgs),
    /// Which feeds list an address, a domain (or a name under it) or a URL. Exits 1 when
    /// no value is listed.
    Lookup(LookupArgs),
    /// Blocks the feeds' addresses and networks (and quarantines devices) in Ward's nftables
    /// table: its timed sets are replaced whole, each element for --timeout, so blocks lapse
    /// when nobody renews them. Run it on a schedule shorter than the timeout.
    Apply(ApplyArgs),
}

#[derive(clap::Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    f: FeedArgs,
    /// Only indicators with at least this confidence (0-100).
    #[arg(long, default_value_t = 0)]
    min_confidence: u8,
    /// How long each block holds, in seconds.
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
    /// Addresses of devices to quarantine (repeatable).
    #[arg(long, value_name = "IP")]
    quarantine: Vec<std::net::IpAddr>,
    /// Ward's table (family inet), loaded by `ward policy apply`.
    #[arg(long, default_value = "ward")]
    table: String,
    /// Run nft inside this network namespace.
    #[arg(long, value_name = "NS")]
    netns: Option<String>,
}

#[derive(clap::Args)]
pub(crate) struct FeedArgs {
    /// A feed: a file path or an http(s) URL, format decided from its content. Repeatable.
    #[arg(long = "intel", value_name = "FEED")]
    intel: Vec<String>,
    /// A configuration file whose `[[feed]]` list names feeds (docs/intel.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where downloaded feeds are cached (default: ~/.local/state/ward/intel, or
    /// /var/lib/ward/intel).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    f: FeedArgs,
}

#[derive(clap::Args)]
pub(crate) struct LookupArgs {
    /// Addresses, domain names or URLs.
    #[arg(required = true, value_name = "VALUE")]
    values: Vec<String>,
    #[command(flatten)]
    f: FeedArgs,
    /// Only what is cached and local files: never the network.
    #[arg(long)]
    offline: bool,
}

pub(crate) fn run(cmd: IntelCommand, out: &mut impl Write) -> Result<bool> {
    match cmd {
        IntelCommand::Update(a) => update(a, out),
        IntelCommand::Lookup(a) => lookup(a, out),
        IntelCommand::Apply(a) => apply(a, out),
    }
}

fn apply(a: ApplyArgs, out: &mut impl Write) -> Result<bool> {
    anyhow::ensure!(a.timeout >= 1 && a.timeout <= 30 * 86_400, "--timeout is 1 s to 30 days");
    let mut r = refresher(&a.f)?;
    let cached = r.load_cached();
    let reports = r.refresh_all();
    warn(&cached);
    warn(&reports);
    let snap = r.intel().snapshot();
    // Feeds overlap (a network and an address in it, the same address twice): an interval
    // set refuses overlapping elements, so the addresses are merged into disjoint ranges.
    let nets = snap.feeds().iter().flat_map(|feed| {
        feed.indicators.iter().filter(|i| i.confidence >= a.min_confidence).filter_map(|i| match &i.value {
            ward_intel::IndicatorValue::Net(n) => ward_policy::IpSet::parse(&n.trunc().to_string()).ok(),
            _ => None,
        })
    });
    let blocked = ward_policy::IpSet::union_all(nets);
    let (v4, v6) = (blocked.nft_v4(), blocked.nft_v6());
    let nft = ward_enforce::Nft {
        netns: a.netns.clone(),
        ..ward_enforce::Nft::new(ward_enforce::default_state_dir())
    };
    let block = ward_policy::nft::BLOCK_SET;
    let quarantine = ward_policy::nft::QUARANTINE_SET;
    let q4: Vec<String> = a.quarantine.iter().filter(|ip| ip.is_ipv4()).map(|ip| ip.to_string()).collect();
    let q6: Vec<String> = a.quarantine.iter().filter(|ip| ip.is_ipv6()).map(|ip| ip.to_string()).collect();
    let n4 = nft.set_timed(&a.table, &format!("{block}_v4"), &v4, a.timeout)?;
    let n6 = nft.set_timed(&a.table, &format!("{block}_v6"), &v6, a.timeout)?;
    nft.set_timed(&a.table, &format!("{quarantine}_v4"), &q4, a.timeout)?;
    nft.set_timed(&a.table, &format!("{quarantine}_v6"), &q6, a.timeout)?;
    writeln!(
        out,
        "blocked {n4} IPv4 and {n6} IPv6 addresses or networks from {} feed(s), {} device(s) quarantined, each for {} s",
        snap.feeds().len(),
        a.quarantine.len(),
        a.timeout
    )?;
    Ok(reports.iter().all(|r| !matches!(r.outcome, Outcome::Failed(_))))
}

/// The feeds of the configuration, then those of `--intel`.
fn feeds(f: &FeedArgs) -> Result<Vec<FeedConfig>> {
    let mut feeds = match &f.config {
        Some(path) => ward_intel::config::load_config(path).context("--config")?,
        None => Vec::new(),
    };
    for source in &f.intel {
        let mut cfg = FeedConfig::from_source(source);
        // Two sources with one file name (two level3.txt) get distinct names.
        let base = cfg.name.clone();
        let mut n = 2;
        while feeds.iter().any(|o| o.name == cfg.name) {
            cfg.name = format!("{base}#{n}");
            n += 1;
        }
        feeds.push(cfg);
    }
    if feeds.is_empty() {
        bail!("no feed: name one with --intel PATH|URL or a [[feed]] list in --config FILE");
    }
    Ok(feeds)
}

/// The feeds a run of `ward analyze` names, read now (cached copies where a source cannot be
/// reached), as the detector's indicators; `None` without feeds.
pub(crate) fn for_run(
    intel: &[String],
    config: Option<PathBuf>,
) -> Result<Option<Arc<dyn ward_detect::Indicators>>> {
    if intel.is_empty() && config.is_none() {
        return Ok(None);
    }
    let args = FeedArgs { intel: intel.to_vec(), config, state_dir: None, json: false };
    let mut r = refresher(&args)?;
    let cached = r.load_cached();
    let reports = r.refresh_all();
    warn(&cached);
    warn(&reports);
    Ok(Some(Arc::new(Detecting(r.intel().clone()))))
}

/// The feeds' sets as the detector asks them.
struct Detecting(Arc<Intel>);

impl ward_detect::Indicators for Detecting {
    fn ip(&self, ip: std::net::IpAddr) -> Option<ward_detect::IntelHit> {
        self.0.lookup_ip(ip).map(hit)
    }
    fn domain(&self, name: &str) -> Option<ward_detect::IntelHit> {
        self.0.lookup_domain(name).map(hit)
    }
}

fn hit(h: Hit) -> ward_detect::IntelHit {
    ward_detect::IntelHit { feed: h.feed.to_string(), indicator: h.indicator, confidence: h.confidence }
}

fn refresher(f: &FeedArgs) -> Result<Refresher> {
    let dir = f.state_dir.clone().unwrap_or_else(ward_intel::refresh::default_cache_dir);
    Refresher::new(feeds(f)?, Arc::new(Intel::new()), Some(dir)).context("the feeds")
}

fn outcome_text(o: &Outcome) -> &'static str {
    match o {
        Outcome::Changed => "changed",
        Outcome::NotModified => "not modified",
        Outcome::Cached => "cached",
        Outcome::Failed(_) => "FAILED",
    }
}

/// Warnings and failures, on standard error.
fn warn(reports: &[FeedReport]) {
    for r in reports {
        if let Outcome::Failed(why) = &r.outcome {
            eprintln!("ward: feed {}: {why}", r.name);
        }
        for w in r.stats.warnings.iter().take(5) {
            eprintln!("ward: feed {}: {w}", r.name);
        }
        let more = r.stats.warnings.len().saturating_sub(5) as u64;
        let counted = r.stats.refused + r.stats.unreadable;
        if more > 0 || counted > r.stats.warnings.len() as u64 {
            eprintln!(
                "ward: feed {}: {} refused, {} unreadable in all",
                r.name, r.stats.refused, r.stats.unreadable
            );
        }
    }
}

fn update(a: UpdateArgs, out: &mut impl Write) -> Result<bool> {
    let mut r = refresher(&a.f)?;
    let cached = r.load_cached();
    let reports = r.refresh_all();
    // A feed that failed but was cached still has its set: say so.
    let failed = reports.iter().any(|r| matches!(r.outcome, Outcome::Failed(_)));
    if a.f.json {
        serde_json::to_writer_pretty(&mut *out, &reports)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<24} {:<6} {:<12} {:>10} {:>8} {:>10} {:>11} {:>8} {:>9}",
            "feed",
            "format",
            "result",
            "indicators",
            "refused",
            "unreadable",
            "unsupported",
            "inactive",
            "low score"
        )?;
        for rep in &reports {
            writeln!(
                out,
                "{:<24} {:<6} {:<12} {:>10} {:>8} {:>10} {:>11} {:>8} {:>9}",
                fit(&rep.name, 24),
                rep.format.unwrap_or("?"),
                outcome_text(&rep.outcome),
                rep.indicators,
                rep.stats.refused,
                rep.stats.unreadable,
                rep.stats.unsupported,
                rep.stats.inactive,
                rep.stats.below_min_score,
            )?;
            if let Some(t) = &rep.taxii {
                writeln!(
                    out,
                    "  taxii: {} collection(s), {} page(s), {} new object(s), {} held",
                    t.collections, t.pages, t.new_objects, t.objects
                )?;
            }
            if matches!(rep.outcome, Outcome::Failed(_)) && cached.iter().any(|c| c.name == rep.name) {
                writeln!(out, "  kept the cached set of {} indicators", rep.indicators)?;
            }
        }
        let snap = r.intel().snapshot();
        writeln!(out, "{} indicators in {} feeds", snap.indicators(), snap.feeds().len())?;
    }
    out.flush()?;
    warn(&reports);
    Ok(!failed)
}

#[derive(Serialize)]
struct Listing<'a> {
    value: &'a str,
    hits: Vec<Hit>,
}

fn lookup(a: LookupArgs, out: &mut impl Write) -> Result<bool> {
    let mut r = refresher(&a.f)?;
    let mut reports = r.load_cached();
    reports.extend(if a.offline { r.refresh_missing_files() } else { r.refresh_missing() });
    warn(&reports.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).cloned().collect::<Vec<_>>());
    let snap = r.intel().snapshot();
    if snap.feeds().is_empty() {
        bail!("no feed could be read");
    }
    let listings: Vec<Listing> =
        a.values.iter().map(|v| Listing { value: v, hits: snap.lookup_any(v) }).collect();
    let any = listings.iter().any(|l| !l.hits.is_empty());
    if a.f.json {
        serde_json::to_writer_pretty(&mut *out, &listings)?;
        writeln!(out)?;
    } else {
        for l in &listings {
            if l.hits.is_empty() {
                writeln!(out, "{}: not listed", l.value)?;
            }
            for h in &l.hits {
                write!(out, "{}: listed by {} as {} {}", l.value, h.feed, kind(h), h.value)?;
                if h.indicator != h.value {
                    write!(out, " (indicator {})", h.indicator)?;
                }
                writeln!(out, ", confidence {}", h.confidence)?;
            }
        }
    }
    Ok(any)
}

fn kind(h: &Hit) -> &'static str {
    match h.kind {
        ward_intel::IndicatorKind::Ip => "address",
        ward_intel::IndicatorKind::Domain => "domain",
        ward_intel::IndicatorKind::Url => "URL",
    }
}
