//! Keeping feeds fresh: each feed is read again on its own schedule, with a conditional
//! request (ETag, Last-Modified) for URLs and the file's modification time and length for
//! paths; TAXII collections are polled for what was added since the last poll. A read that
//! fails, or a feed that yields no indicator where it had some, keeps the last good set.
//! What was fetched is cached in the state directory, so that a restart without network
//! still has every feed.
//!
//! The refresher is driven by its owner: [`Refresher::refresh_due`] when
//! [`Refresher::next_due`] comes (or [`Refresher::run`] on a thread of its own). It never
//! blocks a reader: new sets are swapped into the shared [`Intel`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_core::Timestamp;

use crate::config::{ConfigError, FeedConfig, Format};
use crate::fetch::{Client, Fetched, Validators};
use crate::formats::{self, ParseOptions, ParseStats, Parsed, stix, taxii};
use crate::{FeedSet, Intel};

/// What one refresh of a feed did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Read and swapped in.
    Changed,
    /// The source says nothing changed; the set stays.
    NotModified,
    /// Read from the cache in the state directory (at start).
    Cached,
    /// The read failed; the last good set (if any) stays.
    Failed(String),
}

/// One feed's refresh, for the operator.
#[derive(Clone, Debug, Serialize)]
pub struct FeedReport {
    /// The feed.
    pub name: String,
    /// Where it is.
    pub source: String,
    /// The format it was read as.
    pub format: Option<&'static str>,
    /// What happened.
    pub outcome: Outcome,
    /// Indicators in the feed's current set.
    pub indicators: u64,
    /// The counts of the current set's reading.
    pub stats: ParseStats,
    /// TAXII: objects received in this poll, and pages read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxii: Option<TaxiiReport>,
}

/// What a TAXII poll brought.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TaxiiReport {
    /// Collections polled.
    pub collections: usize,
    /// Pages read.
    pub pages: usize,
    /// Objects received.
    pub new_objects: usize,
    /// Objects held over every poll.
    pub objects: usize,
}

/// What was last read of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

/// The cache's description of a downloaded feed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheMeta {
    source: String,
    #[serde(default)]
    format: Option<Format>,
    #[serde(default)]
    validators: Validators,
    /// A file feed: its modification time (ns since the epoch) and length when last read,
    /// so that a later process can say it did not change.
    #[serde(default)]
    file: Option<(u128, u64)>,
}

impl FileStamp {
    fn key(self) -> Option<(u128, u64)> {
        let t = self.modified?.duration_since(SystemTime::UNIX_EPOCH).ok()?;
        Some((t.as_nanos(), self.len))
    }
}

/// A TAXII feed's objects over every poll, per collection (cached as one JSON file).
#[derive(Debug, Default, Serialize, Deserialize)]
struct TaxiiState {
    source: String,
    #[serde(default)]
    collections: BTreeMap<String, CollectionState>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CollectionState {
    #[serde(default)]
    added_after: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
}

struct FeedState {
    cfg: FeedConfig,
    due: Instant,
    /// The format the source turned out to be (a URL of format `auto` can be TAXII).
    format: Format,
    validators: Validators,
    file: Option<FileStamp>,
    /// The last good body, kept when the set must be built again at a later time.
    body: Option<Arc<Vec<u8>>>,
    taxii: Option<TaxiiState>,
    next_change: Option<Timestamp>,
    current: Option<(u64, ParseStats)>,
}

/// Refreshes feeds into an [`Intel`].
pub struct Refresher {
    feeds: Vec<FeedState>,
    intel: Arc<Intel>,
    client: Client,
    cache_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("feeds", &self.feeds.len())
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

/// The state directory Ward keeps fetched feeds in: `$XDG_STATE_HOME/ward/intel`, else
/// `~/.local/state/ward/intel`, else `/var/lib/ward/intel`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Path::new(&dir).join("ward/intel");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty() && h != "/") {
        Some(h) => Path::new(&h).join(".local/state/ward/intel"),
        None => PathBuf::from("/var/lib/ward/intel"),
    }
}

/// A file name for a feed's cache: its name made safe, and a hash of it so that two
/// names made alike do not share a file.
fn cache_stem(name: &str) -> String {
    let safe: String = name
        .chars()
        .take(48)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{safe}-{:08x}", h as u32)
}

/// Writes a file whole or not at all.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let mut out = Vec::new();
    f.take(crate::MAX_FEED_BYTES + 1).read_to_end(&mut out)?;
    if out.len() as u64 > crate::MAX_FEED_BYTES {
        return Err(std::io::Error::other(format!("larger than {} bytes", crate::MAX_FEED_BYTES)));
    }
    Ok(out)
}

impl Refresher {
    /// A refresher for these feeds, swapping sets into `intel`, caching downloads in
    /// `cache_dir` (none: nothing is cached). Feed names must be unique.
    pub fn new(
        feeds: Vec<FeedConfig>,
        intel: Arc<Intel>,
        cache_dir: Option<PathBuf>,
    ) -> Result<Refresher, ConfigError> {
        let mut states: Vec<FeedState> = Vec::new();
        let now = Instant::now();
        for cfg in feeds {
            if states.iter().any(|s| s.cfg.name == cfg.name) {
                return Err(ConfigError::Invalid(format!("two feeds are named {:?}", cfg.name)));
            }
            if cfg.format == Format::Taxii && !cfg.is_url() {
                return Err(ConfigError::Invalid(format!(
                    "feed {:?}: a TAXII feed needs an http(s) URL",
                    cfg.name
                )));
            }
            states.push(FeedState {
                format: cfg.format,
                cfg,
                due: now,
                validators: Validators::default(),
                file: None,
                body: None,
                taxii: None,
                next_change: None,
                current: None,
            });
        }
        Ok(Refresher { feeds: states, intel, client: Client::default(), cache_dir })
    }

    /// Uses this client (tests give one with a short timeout).
    pub fn with_client(mut self, client: Client) -> Refresher {
        self.client = client;
        self
    }

    /// The sets being refreshed.
    pub fn intel(&self) -> &Arc<Intel> {
        &self.intel
    }

    fn opts(cfg: &FeedConfig) -> ParseOptions {
        ParseOptions {
            confidence: cfg.confidence.min(100),
            csv_column: cfg.csv_column.clone(),
            min_score: cfg.min_score,
            now: Timestamp::now(),
        }
    }

    fn report(st: &FeedState, outcome: Outcome, taxii: Option<TaxiiReport>) -> FeedReport {
        let (indicators, stats) = st.current.clone().unwrap_or_default();
        FeedReport {
            name: st.cfg.name.clone(),
            source: st.cfg.source.clone(),
            format: (st.format != Format::Auto || st.current.is_some()).then(|| st.format.name()),
            outcome,
            indicators,
            stats,
            taxii,
        }
    }

    /// Swaps a parse in, unless it yields nothing where the feed had indicators (a broken
    /// download must not empty a set). Returns the outcome.
    fn install(intel: &Intel, st: &mut FeedState, parsed: Parsed) -> Outcome {
        let had = st.current.as_ref().map_or(0, |c| c.0);
        if parsed.stats.indicators == 0
            && (had > 0 || parsed.stats.unreadable > 0 && parsed.stats.entries <= 1)
        {
            let why = parsed.stats.warnings.first().cloned().unwrap_or_else(|| "no indicator in it".into());
            return Outcome::Failed(format!("unreadable ({why}); the last good set is kept"));
        }
        if let Some(f) = parsed.format
            && st.format == Format::Auto
        {
            st.format = f;
        }
        st.next_change = parsed.next_change;
        st.current = Some((parsed.stats.indicators, parsed.stats.clone()));
        intel.set_feed(FeedSet::build(&st.cfg.name, parsed));
        Outcome::Changed
    }

    /// Reads every cached download into the sets, without the network (at start).
    pub fn load_cached(&mut self) -> Vec<FeedReport> {
        let Some(dir) = self.cache_dir.clone() else { return Vec::new() };
        let mut out = Vec::new();
        for st in &mut self.feeds {
            let stem = dir.join(cache_stem(&st.cfg.name));
            let opts = Self::opts(&st.cfg);
            if !st.cfg.is_url() {
                // A file is read where it is; the cache only remembers its stamp.
                let meta: Option<CacheMeta> = std::fs::read(stem.with_extension("meta.json"))
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok());
                let Some(meta) = meta.filter(|m| m.source == st.cfg.source) else { continue };
                let Ok(fm) = std::fs::metadata(&st.cfg.source) else { continue };
                let stamp = FileStamp { modified: fm.modified().ok(), len: fm.len() };
                if meta.file.is_none() || stamp.key() != meta.file {
                    continue;
                }
                let Ok(body) = read_capped(Path::new(&st.cfg.source)) else { continue };
                let parsed = formats::parse(st.format, &body, &opts);
                let keep = parsed.next_change.is_some();
                let outcome = match Self::install(&self.intel, st, parsed) {
                    Outcome::Changed => {
                        st.file = Some(stamp);
                        st.body = keep.then(|| Arc::new(body));
                        Outcome::Cached
                    }
                    o => o,
                };
                out.push(Self::report(st, outcome, None));
                continue;
            }
            // TAXII.
            if let Ok(bytes) = std::fs::read(stem.with_extension("taxii.json"))
                && let Ok(state) = serde_json::from_slice::<TaxiiState>(&bytes)
                && state.source == st.cfg.source
            {
                let objects: Vec<Value> =
                    state.collections.values().flat_map(|c| c.objects.iter().cloned()).collect();
                let mut parsed = stix::parse_objects(objects, &opts);
                parsed.format = Some(Format::Taxii);
                st.format = Format::Taxii;
                st.taxii = Some(state);
                let outcome = match Self::install(&self.intel, st, parsed) {
                    Outcome::Changed => Outcome::Cached,
                    o => o,
                };
                out.push(Self::report(st, outcome, None));
                continue;
            }
            let meta: Option<CacheMeta> = std::fs::read(stem.with_extension("meta.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let Some(meta) = meta.filter(|m| m.source == st.cfg.source) else { continue };
            let Ok(body) = read_capped(&stem.with_extension("feed")) else { continue };
            let format = meta.format.filter(|_| st.cfg.format == Format::Auto).unwrap_or(st.cfg.format);
            let parsed = formats::parse(format, &body, &opts);
            let keep = parsed.next_change.is_some();
            let outcome = match Self::install(&self.intel, st, parsed) {
                Outcome::Changed => {
                    st.validators = meta.validators;
                    if keep {
                        st.body = Some(Arc::new(body));
                    }
                    Outcome::Cached
                }
                o => o,
            };
            out.push(Self::report(st, outcome, None));
        }
        out
    }

    /// Reads the feeds that have no set yet (neither cached nor read).
    pub fn refresh_missing(&mut self) -> Vec<FeedReport> {
        let todo: Vec<usize> = (0..self.feeds.len()).filter(|&i| self.feeds[i].current.is_none()).collect();
        todo.into_iter().map(|i| self.refresh_one(i)).collect()
    }

    /// Reads the feeds that have no set yet and are files: no network.
    pub fn refresh_missing_files(&mut self) -> Vec<FeedReport> {
        let todo: Vec<usize> = (0..self.feeds.len())
            .filter(|&i| self.feeds[i].current.is_none() && !self.feeds[i].cfg.is_url())
            .collect();
        todo.into_iter().map(|i| self.refresh_one(i)).collect()
    }

    /// Reads every feed now.
    pub fn refresh_all(&mut self) -> Vec<FeedReport> {
        (0..self.feeds.len()).map(|i| self.refresh_one(i)).collect()
    }

    /// Reads the feeds whose time has come (their refresh interval, or a STIX indicator
    /// becoming valid or expiring).
    pub fn refresh_due(&mut self, now: Instant) -> Vec<FeedReport> {
        let wall = Timestamp::now();
        let mut out = Vec::new();
        for i in 0..self.feeds.len() {
            let st = &mut self.feeds[i];
            if st.next_change.is_some_and(|t| t <= wall) {
                // Validity changed: build again from what we hold, then fetch as scheduled.
                st.next_change = None;
                st.file = None;
                if let Some(body) = st.body.clone() {
                    let parsed = formats::parse(st.format, &body, &Self::opts(&st.cfg));
                    let outcome = Self::install(&self.intel, st, parsed);
                    out.push(Self::report(st, outcome, None));
                } else if let Some(t) = &st.taxii {
                    let objects: Vec<Value> =
                        t.collections.values().flat_map(|c| c.objects.iter().cloned()).collect();
                    let mut parsed = stix::parse_objects(objects, &Self::opts(&st.cfg));
                    parsed.format = Some(Format::Taxii);
                    let outcome = Self::install(&self.intel, st, parsed);
                    out.push(Self::report(st, outcome, None));
                }
            }
            if self.feeds[i].due <= now {
                out.push(self.refresh_one(i));
            }
        }
        out
    }

    /// When the next feed is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.feeds.iter().map(|f| f.due).min()
    }

    /// Refreshes until `stop` is set, calling `on_report` for every refresh. Sleeps in
    /// steps of at most a second so that `stop` is noticed.
    pub fn run(&mut self, stop: &AtomicBool, mut on_report: impl FnMut(&FeedReport)) {
        while !stop.load(Ordering::Relaxed) {
            for r in self.refresh_due(Instant::now()) {
                on_report(&r);
            }
            let wait = self
                .next_due()
                .map_or(Duration::from_secs(1), |d| d.saturating_duration_since(Instant::now()));
            std::thread::sleep(wait.min(Duration::from_secs(1)));
        }
    }

    fn refresh_one(&mut self, i: usize) -> FeedReport {
        let st = &mut self.feeds[i];
        st.due = Instant::now() + st.cfg.refresh;
        if !st.cfg.is_url() {
            return Self::refresh_file(&self.intel, self.cache_dir.as_deref(), st);
        }
        let auth = match st.cfg.auth.as_ref().map(|a| a.header()).transpose() {
            Ok(a) => a,
            Err(e) => return Self::report(st, Outcome::Failed(e.to_string()), None),
        };
        if st.format == Format::Taxii {
            return Self::refresh_taxii(
                &self.intel,
                &self.client,
                self.cache_dir.as_deref(),
                st,
                auth.as_ref(),
            );
        }
        let since = if st.current.is_some() { st.validators.clone() } else { Validators::default() };
        match self.client.get_if_changed(&st.cfg.source, auth.as_ref(), &since) {
            Err(e) => Self::report(st, Outcome::Failed(e.to_string()), None),
            Ok(Fetched::NotModified) => Self::report(st, Outcome::NotModified, None),
            Ok(Fetched::Body(body, validators)) => {
                if st.format == Format::Auto && taxii::is_discovery(&body) {
                    st.format = Format::Taxii;
                    return Self::refresh_taxii(
                        &self.intel,
                        &self.client,
                        self.cache_dir.as_deref(),
                        st,
                        auth.as_ref(),
                    );
                }
                let parsed = formats::parse(st.format, &body, &Self::opts(&st.cfg));
                let keep = parsed.next_change.is_some();
                let format = parsed.format;
                let outcome = Self::install(&self.intel, st, parsed);
                if outcome == Outcome::Changed {
                    st.validators = validators.clone();
                    if let Some(dir) = &self.cache_dir {
                        let stem = dir.join(cache_stem(&st.cfg.name));
                        let meta =
                            CacheMeta { source: st.cfg.source.clone(), format, validators, file: None };
                        let written = std::fs::create_dir_all(dir)
                            .and_then(|()| write_atomic(&stem.with_extension("feed"), &body))
                            .and_then(|()| {
                                write_atomic(
                                    &stem.with_extension("meta.json"),
                                    &serde_json::to_vec(&meta).unwrap_or_default(),
                                )
                            });
                        if let Err(e) = written
                            && let Some(c) = st.current.as_mut()
                        {
                            c.1.warn(|| format!("the cache {} cannot be written: {e}", dir.display()));
                        }
                    }
                    st.body = keep.then(|| Arc::new(body));
                }
                Self::report(st, outcome, None)
            }
        }
    }

    fn refresh_file(intel: &Intel, cache_dir: Option<&Path>, st: &mut FeedState) -> FeedReport {
        let path = PathBuf::from(&st.cfg.source);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => return Self::report(st, Outcome::Failed(format!("{}: {e}", path.display())), None),
        };
        let stamp = FileStamp { modified: meta.modified().ok(), len: meta.len() };
        if st.current.is_some() && st.file == Some(stamp) {
            return Self::report(st, Outcome::NotModified, None);
        }
        let body = match read_capped(&path) {
            Ok(b) => b,
            Err(e) => return Self::report(st, Outcome::Failed(format!("{}: {e}", path.display())), None),
        };
        let parsed = formats::parse(st.format, &body, &Self::opts(&st.cfg));
        let keep = parsed.next_change.is_some();
        let format = parsed.format;
        let outcome = Self::install(intel, st, parsed);
        if outcome == Outcome::Changed {
            st.file = Some(stamp);
            st.body = keep.then(|| Arc::new(body));
            if let Some(dir) = cache_dir {
                let meta = CacheMeta {
                    source: st.cfg.source.clone(),
                    format,
                    validators: Validators::default(),
                    file: stamp.key(),
                };
                let stem = dir.join(cache_stem(&st.cfg.name));
                let written = std::fs::create_dir_all(dir).and_then(|()| {
                    write_atomic(
                        &stem.with_extension("meta.json"),
                        &serde_json::to_vec(&meta).unwrap_or_default(),
                    )
                });
                if let Err(e) = written
                    && let Some(c) = st.current.as_mut()
                {
                    c.1.warn(|| format!("the cache {} cannot be written: {e}", dir.display()));
                }
            }
        }
        Self::report(st, outcome, None)
    }

    fn refresh_taxii(
        intel: &Intel,
        client: &Client,
        cache_dir: Option<&Path>,
        st: &mut FeedState,
        auth: Option<&(String, String)>,
    ) -> FeedReport {
        let mut state = st
            .taxii
            .take()
            .unwrap_or_else(|| TaxiiState { source: st.cfg.source.clone(), ..TaxiiState::default() });
        let mut report = TaxiiReport::default();
        let result = (|| {
            let root = client.taxii_api_root(&st.cfg.source, auth)?;
            let collections = client.taxii_collections(&root, auth, st.cfg.collection.as_deref())?;
            let mut polls = Vec::new();
            for c in &collections {
                let after = state.collections.get(&c.id).and_then(|s| s.added_after.clone());
                polls.push(client.taxii_objects(&root, c, auth, after.as_deref())?);
            }
            Ok::<_, crate::fetch::FetchError>(polls)
        })();
        let polls = match result {
            Ok(p) => p,
            Err(e) => {
                st.taxii = Some(state);
                return Self::report(st, Outcome::Failed(e.to_string()), None);
            }
        };
        let mut changed = false;
        for p in polls {
            report.collections += 1;
            report.pages += p.pages;
            report.new_objects += p.objects.len();
            let c = state.collections.entry(p.collection.id.clone()).or_default();
            if !p.objects.is_empty() {
                changed = true;
                c.objects.extend(p.objects);
                // Only the latest version of each object is worth keeping.
                c.objects = latest_versions(std::mem::take(&mut c.objects));
            }
            if p.added_last.is_some() {
                c.added_after = p.added_last;
            }
        }
        report.objects = state.collections.values().map(|c| c.objects.len()).sum();
        let outcome = if changed || st.current.is_none() {
            let objects: Vec<Value> =
                state.collections.values().flat_map(|c| c.objects.iter().cloned()).collect();
            let mut parsed = stix::parse_objects(objects, &Self::opts(&st.cfg));
            parsed.format = Some(Format::Taxii);
            let outcome = Self::install(intel, st, parsed);
            if let Some(dir) = cache_dir {
                let stem = dir.join(cache_stem(&st.cfg.name));
                let written = std::fs::create_dir_all(dir).and_then(|()| {
                    write_atomic(
                        &stem.with_extension("taxii.json"),
                        &serde_json::to_vec(&state).unwrap_or_default(),
                    )
                });
                if let Err(e) = written
                    && let Some(c) = st.current.as_mut()
                {
                    c.1.warn(|| format!("the cache {} cannot be written: {e}", dir.display()));
                }
            }
            outcome
        } else {
            Outcome::NotModified
        };
        st.taxii = Some(state);
        Self::report(st, outcome, Some(report))
    }
}

/// The latest version (by `modified`) of each object id, in first-seen order.
fn latest_versions(objects: Vec<Value>) -> Vec<Value> {
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out: Vec<Value> = Vec::new();
    let modified =
        |v: &Value| v.get("modified").and_then(Value::as_str).and_then(|s| s.parse::<Timestamp>().ok());
    for o in objects {
        let Some(id) = o.get("id").and_then(Value::as_str).map(str::to_owned) else { continue };
        match at.get(&id) {
            Some(&i) => {
                if modified(&o) >= modified(&out[i]) {
                    out[i] = o;
                }
            }
            None => {
                at.insert(id, out.len());
                out.push(o);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_refresh_by_stamp_and_keep_the_last_good_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        std::fs::write(&path, "45.9.20.1\n45.9.20.2\n").unwrap();
        let intel = Arc::new(Intel::new());
        let mut r =
            Refresher::new(vec![FeedConfig::from_source(path.to_str().unwrap())], intel.clone(), None)
                .unwrap();
        let rep = r.refresh_all();
        assert_eq!(
            (rep[0].outcome.clone(), rep[0].indicators, rep[0].format),
            (Outcome::Changed, 2, Some("ip"))
        );
        assert_eq!(r.refresh_all()[0].outcome, Outcome::NotModified);
        // A broken rewrite keeps the set.
        std::fs::write(&path, "{{{{ this is not a list\n").unwrap();
        let rep = r.refresh_all();
        assert!(matches!(rep[0].outcome, Outcome::Failed(_)), "{:?}", rep[0].outcome);
        assert!(intel.lookup_ip("45.9.20.2".parse().unwrap()).is_some());
        // A vanished file too.
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(r.refresh_all()[0].outcome, Outcome::Failed(_)));
        assert!(intel.lookup_ip("45.9.20.2".parse().unwrap()).is_some());
        // A good rewrite replaces it.
        std::fs::write(&path, "45.9.20.3\n").unwrap();
        assert_eq!(r.refresh_all()[0].outcome, Outcome::Changed);
        assert!(intel.lookup_ip("45.9.20.2".parse().unwrap()).is_none());
        assert!(r.next_due().is_some());
        assert!(r.refresh_due(Instant::now()).is_empty());
    }

    #[test]
    fn a_later_process_knows_an_unchanged_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("names.txt");
        std::fs::write(&path, "evil.example\n").unwrap();
        let cache = dir.path().join("state");
        let feeds = vec![FeedConfig::from_source(path.to_str().unwrap())];
        let mut first = Refresher::new(feeds.clone(), Arc::new(Intel::new()), Some(cache.clone())).unwrap();
        assert!(first.load_cached().is_empty());
        assert_eq!(first.refresh_all()[0].outcome, Outcome::Changed);
        let intel = Arc::new(Intel::new());
        let mut second = Refresher::new(feeds, intel.clone(), Some(cache)).unwrap();
        assert_eq!(second.load_cached()[0].outcome, Outcome::Cached);
        assert!(intel.lookup_domain("a.evil.example").is_some());
        assert_eq!(second.refresh_all()[0].outcome, Outcome::NotModified);
        assert!(second.refresh_missing().is_empty());
    }

    #[test]
    fn versions_and_names() {
        let v = latest_versions(vec![
            serde_json::json!({"id": "a", "modified": "2020-01-01T00:00:00Z", "n": 1}),
            serde_json::json!({"id": "b"}),
            serde_json::json!({"id": "a", "modified": "2021-01-01T00:00:00Z", "n": 2}),
            serde_json::json!({"id": "a", "modified": "2019-01-01T00:00:00Z", "n": 3}),
        ]);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0]["n"], 2);
        assert_ne!(cache_stem("a/b"), cache_stem("a_b"));
    }
}
