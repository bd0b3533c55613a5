//! `ward vuln`: importing advisories and catalogues into the store, and assessing the
//! inventory against them. Reading, matching and scoring are `ward-vuln`'s; this file only
//! gathers inputs from files, URLs and the store, and prints.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use ward_core::{Criticality, Device, DeviceId, Finding, Lifecycle, Severity, Timestamp};
use ward_store::{
    Blocking, DeviceQuery, DeviceRef, VulnAssessment, VulnDocument, VulnDocumentHead, VulnStateRow,
};
use ward_vuln::assess::{self, Change, Recorded};
use ward_vuln::document::{self, Document, Revision};
use ward_vuln::fetch::Client;
use ward_vuln::matching::{CatalogCounts, DeviceProfile, Standing, VulnFinding};
use ward_vuln::risk::{self, Exposure, Risk};

use crate::report::fit;

#[derive(clap::Subcommand)]
pub(crate) enum VulnCommand {
    /// Import CSAF 2.0 advisories, NVD CVE JSON 2.0 records, the CISA KEV catalogue (JSON or
    /// CSV) and EPSS scores (CSV) from files, folders, document URLs or a CSAF provider's
    /// `provider-metadata.json` URL. A later revision of an advisory replaces the stored
    /// one; a document that cannot be read is reported and skipped (exit status 1).
    Import(ImportArgs),
    /// Match the inventory against the imported advisories and report findings and risk
    /// per device (or per advisory), with what changed since the previous report. Never
    /// creates a database (`import` does, so advisories can come before captures).
    Report(ReportArgs),
}

#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    /// Files, folders (read recursively: `*.json`, `*.csv`) and http(s) URLs.
    #[arg(required = true, value_name = "PATH|URL")]
    sources: Vec<String>,
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Import again at this interval (`90s`, `30m`, `6h`, `1d`) until stopped; after a round
    /// that changed documents, assess the inventory again. A source that fails keeps what
    /// was imported from it before.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    every: Option<Duration>,
    /// Seconds before an HTTP request gives up.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    /// The inventory database.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// Only this device (its number, MAC or address).
    #[arg(long, value_name = "REF")]
    device: Option<String>,
    /// Group by `device` (default) or by `advisory`.
    #[arg(long, value_name = "WHAT", default_value = "device", value_parser = ["device", "advisory"])]
    by: String,
    /// One JSON object.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header row: one row per finding (or per advisory with `--by advisory`).
    #[arg(long)]
    csv: bool,
    /// Do not record this assessment (the next report then compares with the one before).
    #[arg(long)]
    no_record: bool,
}

fn parse_interval(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not an interval like 90s, 30m, 6h, 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?}: the unit is s, m, h or d")),
    };
    if secs == 0 {
        return Err("the interval must be at least a second".into());
    }
    Ok(Duration::from_secs(secs))
}

pub(crate) fn run(cmd: VulnCommand, out: &mut impl Write) -> Result<bool> {
    match cmd {
        VulnCommand::Import(a) => import(a, out),
        VulnCommand::Report(a) => report(a, out).map(|()| true),
    }
}

fn open(db: &Path) -> Result<Blocking> {
    Blocking::open_sqlite(db).with_context(|| format!("opening the inventory {}", db.display()))
}

// ---------------------------------------------------------------------------------------
// Import

/// What happened to one document.
#[derive(Serialize, Clone, Debug)]
struct Outcome {
    /// The file or URL.
    source: String,
    /// `new`, `updated`, `unchanged`, `older`, `skipped`.
    outcome: &'static str,
    /// `csaf`, `nvd`, `kev`, `epss`, when read.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    /// The document's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    /// Its revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// Why skipped, or the revision it replaced or that is kept.
    #[serde(skip_serializing_if = "String::is_empty")]
    detail: String,
}

impl Outcome {
    fn skipped(source: &str, detail: String) -> Outcome {
        Outcome { source: source.to_owned(), outcome: "skipped", kind: None, id: None, version: None, detail }
    }
}

/// Every file under `dir` whose name ends in `.json` or `.csv`, sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json") || x.eq_ignore_ascii_case("csv"))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// The documents a source names, each with its bytes or why they could not be had.
fn gather(source: &str, client: &Client) -> Vec<(String, std::result::Result<Vec<u8>, String>)> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let body = match client.get(source) {
            Ok(b) => b,
            Err(e) => return vec![(source.to_owned(), Err(e.to_string()))],
        };
        // A provider's metadata leads to its documents; anything else is a document.
        if let Ok(Document::ProviderMetadata(meta)) = document::read(&body) {
            let (urls, errors) = client.provider_documents(&meta, source);
            let mut out: Vec<_> =
                errors.into_iter().map(|e| (source.to_owned(), Err(e.to_string()))).collect();
            if urls.is_empty() && out.is_empty() {
                out.push((source.to_owned(), Err("the provider lists no documents".into())));
            }
            out.extend(urls.into_iter().map(|u| {
                let r = client.get(&u).map_err(|e| e.to_string());
                (u, r)
            }));
            return out;
        }
        return vec![(source.to_owned(), Ok(body))];
    }
    let path = Path::new(source);
    if path.is_dir() {
        let mut files = Vec::new();
        if let Err(e) = walk(path, &mut files) {
            return vec![(source.to_owned(), Err(format!("cannot read the folder: {e}")))];
        }
        if files.is_empty() {
            return vec![(source.to_owned(), Err("the folder holds no .json or .csv file".into()))];
        }
        return files
            .into_iter()
            .map(|p| {
                let r = read_file(&p);
                (p.display().to_string(), r)
            })
            .collect();
    }
    vec![(source.to_owned(), read_file(path))]
}

fn read_file(p: &Path) -> std::result::Result<Vec<u8>, String> {
    let len = std::fs::metadata(p).map_err(|e| e.to_string())?.len();
    if len > document::MAX_DOCUMENT as u64 {
        return Err(format!("larger than {} MiB", document::MAX_DOCUMENT >> 20));
    }
    std::fs::read(p).map_err(|e| e.to_string())
}

/// Reads every source and decides, per document, whether it goes into the store.
fn import_round(sources: &[String], store: &Blocking, client: &Client) -> Result<Vec<Outcome>> {
    let mut heads: HashMap<(String, String), VulnDocumentHead> = store
        .vuln_document_heads()
        .context("reading the stored advisories")?
        .into_iter()
        .map(|h| ((h.kind.clone(), h.id.clone()), h))
        .collect();
    let mut outcomes = Vec::new();
    let mut pending: BTreeMap<(String, String), VulnDocument> = BTreeMap::new();
    let now = Timestamp::now();
    for source in sources {
        for (name, bytes) in gather(source, client) {
            let bytes = match bytes {
                Ok(b) => b,
                Err(e) => {
                    outcomes.push(Outcome::skipped(&name, e));
                    continue;
                }
            };
            let revisions: Vec<Revision> = match document::read(&bytes) {
                Ok(Document::Advisories(list)) => list.into_iter().map(|(_, r)| r).collect(),
                Ok(Document::Kev(_, r) | Document::Epss(_, r)) => vec![r],
                Ok(Document::ProviderMetadata(_)) => {
                    outcomes.push(Outcome::skipped(
                        &name,
                        "provider metadata: give its URL to fetch its documents".into(),
                    ));
                    continue;
                }
                Err(e) => {
                    outcomes.push(Outcome::skipped(&name, e.to_string()));
                    continue;
                }
            };
            if revisions.is_empty() {
                outcomes.push(Outcome::skipped(&name, "holds no record".into()));
            }
            for r in revisions {
                let key = (r.kind.as_str().to_owned(), r.id.clone());
                let (outcome, detail) = match heads.get(&key) {
                    None => ("new", String::new()),
                    Some(h) if r.replaces(&h.version, &h.released, &h.sha256) => {
                        ("updated", format!("replaces revision {}", h.version))
                    }
                    Some(h) if h.sha256 == r.sha256 => ("unchanged", String::new()),
                    Some(h) if r.same_revision(&h.version, &h.released) => {
                        ("unchanged", "the same revision is stored (other bytes)".to_owned())
                    }
                    Some(h) => ("older", format!("revision {} is stored and kept", h.version)),
                };
                if matches!(outcome, "new" | "updated") {
                    let head = VulnDocumentHead {
                        kind: key.0.clone(),
                        id: r.id.clone(),
                        version: r.version.clone(),
                        released: r.released.clone(),
                        sha256: r.sha256.clone(),
                    };
                    heads.insert(key.clone(), head.clone());
                    pending.insert(
                        key,
                        VulnDocument { head, source: name.clone(), body: r.body, imported_at: now },
                    );
                }
                outcomes.push(Outcome {
                    source: name.clone(),
                    outcome,
                    kind: Some(r.kind.as_str()),
                    id: Some(r.id),
                    version: Some(r.version),
                    detail,
                });
            }
        }
    }
    let docs: Vec<VulnDocument> = pending.into_values().collect();
    store.put_vuln_documents(&docs).context("writing the advisories")?;
    Ok(outcomes)
}

#[derive(Serialize)]
struct ImportSummary<'a> {
    db: String,
    documents: &'a [Outcome],
    counts: BTreeMap<&'static str, usize>,
    stored: CatalogCounts,
}

fn import(a: ImportArgs, out: &mut impl Write) -> Result<bool> {
    let store = open(&a.db)?;
    let client = Client::new(Duration::from_secs(a.timeout.max(1)));
    loop {
        let outcomes = import_round(&a.sources, &store, &client)?;
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for o in &outcomes {
            *counts.entry(o.outcome).or_default() += 1;
        }
        let (catalog, _) = load_catalog(&store)?;
        let stored = catalog.counts();
        if a.json {
            let s = ImportSummary {
                db: a.db.display().to_string(),
                documents: &outcomes,
                counts: counts.clone(),
                stored,
            };
            serde_json::to_writer(&mut *out, &s)?;
            writeln!(out)?;
        } else {
            write_import(out, &outcomes, &counts, &stored)?;
        }
        out.flush()?;
        let skipped = counts.get("skipped").copied().unwrap_or(0);
        let Some(every) = a.every else { return Ok(skipped == 0) };
        let changed = counts.get("new").copied().unwrap_or(0) + counts.get("updated").copied().unwrap_or(0);
        if changed > 0 {
            let r = assess(&store, true)?;
            if a.json {
                let line = serde_json::json!({
                    "assessment": r.assessment,
                    "findings": r.findings.len(),
                    "devices_with_findings": r.devices_with_findings(),
                    "changes": r.changes,
                });
                serde_json::to_writer(&mut *out, &line)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "assessment {}: {} findings on {} devices, {} changes since the previous one",
                    r.assessment.unwrap_or(0),
                    r.findings.len(),
                    r.devices_with_findings(),
                    r.changes.len()
                )?;
            }
            out.flush()?;
        }
        std::thread::sleep(every);
    }
}

fn write_import(
    out: &mut impl Write,
    outcomes: &[Outcome],
    counts: &BTreeMap<&'static str, usize>,
    stored: &CatalogCounts,
) -> Result<()> {
    writeln!(out, "{:<10} {:<5} {:<22} {:<10} {:<44} DETAIL", "OUTCOME", "KIND", "ID", "VERSION", "SOURCE")?;
    for o in outcomes {
        let source =
            Path::new(&o.source).file_name().map_or(o.source.clone(), |n| n.to_string_lossy().into_owned());
        writeln!(
            out,
            "{:<10} {:<5} {:<22} {:<10} {:<44} {}",
            o.outcome,
            o.kind.unwrap_or("-"),
            fit(o.id.as_deref().unwrap_or("-"), 22),
            fit(o.version.as_deref().unwrap_or("-"), 10),
            fit(&source, 44),
            o.detail
        )?;
    }
    let line: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    writeln!(out, "\n{} document(s): {}", outcomes.len(), line.join(", "))?;
    writeln!(
        out,
        "stored: {} CSAF advisories, {} NVD records, {} products, {} CVEs, KEV {} entries, EPSS {} scores",
        stored.csaf, stored.nvd, stored.products, stored.cves, stored.kev, stored.epss
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Assessment

fn load_catalog(store: &Blocking) -> Result<(ward_vuln::matching::Catalog, String)> {
    let docs = store.vuln_documents().context("reading the stored advisories")?;
    let mut digest: Vec<&str> = docs.iter().map(|d| d.head.sha256.as_str()).collect();
    digest.sort_unstable();
    let catalog_id = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        digest.hash(&mut h);
        format!("{}:{:016x}", docs.len(), h.finish())
    };
    let (catalog, errors) = ward_vuln::catalog(docs.iter().filter_map(|d| {
        document::Kind::parse(&d.head.kind).map(|k| (k, d.head.id.as_str(), d.body.as_slice()))
    }));
    for (id, e) in errors {
        eprintln!("ward: stored document {id} no longer reads, left out: {e}");
    }
    Ok((catalog, catalog_id))
}

/// Whether an address is on the internet: not private, loopback, link-local, shared
/// (100.64/10), documentation, multicast or unspecified.
fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // Global unicast is 2000::/3, less documentation (2001:db8::/32).
            (s[0] & 0xe000) == 0x2000 && !(s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// The /24 (IPv4) or /64 (IPv6) an address is in: Ward's stand-in for a segment until the
/// policy's segments exist.
fn subnet(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (true, u128::from(u32::from(v4) >> 8)),
        IpAddr::V6(v6) => (false, u128::from(v6) >> 64),
    }
}

/// Exposure per device from the communication map, facts and policy findings.
fn exposures(store: &Blocking, devices: &[Device]) -> Result<HashMap<DeviceId, Exposure>> {
    let ips: HashMap<DeviceId, &[IpAddr]> = devices.iter().map(|d| (d.id, d.ips.as_slice())).collect();
    let mut out: HashMap<DeviceId, Exposure> = HashMap::new();
    let mut seen: HashSet<(DeviceId, DeviceId)> = HashSet::new();
    for (a, b) in store.comm_pairs().context("reading the communication map")? {
        for (me, peer) in [(a, b), (b, a)] {
            if !seen.insert((me, peer)) {
                continue;
            }
            let (Some(mine), Some(theirs)) = (ips.get(&me), ips.get(&peer)) else { continue };
            let e = out.entry(me).or_default();
            if theirs.iter().any(|ip| is_global(*ip)) {
                e.internet_peers += 1;
            } else if !mine.is_empty()
                && !theirs.is_empty()
                && !theirs.iter().any(|t| mine.iter().any(|m| subnet(*m) == subnet(*t)))
            {
                e.other_segment_peers += 1;
            }
        }
    }
    for (device, key, value) in store.facts_by_key(&["cleartext", "credential"]).context("reading facts")? {
        let e = out.entry(device).or_default();
        match key.as_str() {
            "cleartext" if value.contains("patient data") => e.cleartext_phi = true,
            "credential" => e.weak_credentials = true,
            _ => {}
        }
    }
    for f in store.findings(None).context("reading findings")? {
        if f.kind == "policy" {
            out.entry(f.device).or_default().policy_violations += 1;
        }
    }
    Ok(out)
}

/// One device in a report.
#[derive(Serialize)]
struct DeviceReport {
    id: i64,
    ips: Vec<IpAddr>,
    class: Option<String>,
    vendor: Option<String>,
    model: Option<String>,
    firmware: Option<String>,
    criticality: Option<String>,
    risk: Risk,
    exposure: Exposure,
    findings: Vec<VulnFinding>,
}

/// An assessment's result.
struct Assessed {
    assessment: Option<i64>,
    devices: Vec<DeviceReport>,
    findings: Vec<VulnFinding>,
    suppressed: usize,
    changes: Vec<Change>,
    catalog: CatalogCounts,
    assessed: usize,
}

impl Assessed {
    fn devices_with_findings(&self) -> usize {
        self.devices.iter().filter(|d| !d.findings.is_empty()).count()
    }
}

fn severity(f: &VulnFinding) -> Severity {
    let s = f.base_score().unwrap_or(5.0);
    let mut sev = if s >= 9.0 {
        Severity::Critical
    } else if s >= 7.0 {
        Severity::High
    } else if s >= 4.0 {
        Severity::Medium
    } else {
        Severity::Low
    };
    if f.kev && sev < Severity::High {
        sev = Severity::High;
    }
    sev
}

fn detail(f: &VulnFinding) -> String {
    let mut s = format!("{}: {} ({})", f.standing.as_str(), f.product, f.reason);
    if let Some(v) = &f.fixed_version {
        s.push_str(&format!("; fixed in {v}"));
    }
    if f.patch_available {
        s.push_str("; patch available");
    }
    if f.kev {
        s.push_str("; known exploited (CISA KEV)");
    }
    s
}

fn assess(store: &Blocking, record: bool) -> Result<Assessed> {
    let (catalog, catalog_id) = load_catalog(store)?;
    let devices: Vec<Device> = store
        .list(&DeviceQuery::default())
        .context("reading the inventory")?
        .into_iter()
        .filter(|d| d.state != Lifecycle::Retired)
        .collect();
    let value = |d: &Option<ward_core::Derived>| d.as_ref().map(|d| d.value.clone());
    let profiles: Vec<DeviceProfile> = devices
        .iter()
        .map(|d| DeviceProfile {
            id: d.id.0,
            vendor: value(&d.classification.vendor),
            model: value(&d.classification.model),
            firmware: value(&d.classification.firmware),
        })
        .collect();
    let matches = catalog.match_devices(&profiles);
    let exposure = exposures(store, &devices)?;
    let mut by_device: HashMap<i64, Vec<VulnFinding>> = HashMap::new();
    for f in &matches.findings {
        by_device.entry(f.device).or_default().push(f.clone());
    }
    let mut reports: Vec<DeviceReport> = devices
        .iter()
        .map(|d| {
            let findings = by_device.remove(&d.id.0).unwrap_or_default();
            let e = exposure.get(&d.id).cloned().unwrap_or_default();
            let crit =
                d.classification.criticality.as_ref().and_then(|c| c.value.parse::<Criticality>().ok());
            DeviceReport {
                id: d.id.0,
                ips: d.ips.clone(),
                class: value(&d.classification.class),
                vendor: value(&d.classification.vendor),
                model: value(&d.classification.model),
                firmware: value(&d.classification.firmware),
                criticality: crit.map(|c| c.as_str().to_owned()),
                risk: risk::risk(&findings, &e, crit),
                exposure: e,
                findings,
            }
        })
        .collect();
    reports.sort_by(|a, b| b.risk.score.cmp(&a.risk.score).then(a.id.cmp(&b.id)));
    let before: Vec<Recorded> = store
        .vuln_state()
        .context("reading the previous assessment")?
        .into_iter()
        .map(|r| Recorded { device: r.device.0, cve: r.cve, standing: r.standing, firmware: r.firmware })
        .collect();
    let now_rec: Vec<Recorded> = matches.findings.iter().map(Recorded::of).collect();
    let changes = assess::changes(&before, &now_rec);
    let mut id = None;
    if record {
        let ts = Timestamp::now();
        let a = VulnAssessment {
            ts,
            catalog: catalog_id,
            devices: devices.len() as u64,
            changes: serde_json::to_string(&changes)?,
            state: now_rec
                .iter()
                .map(|r| VulnStateRow {
                    device: DeviceId(r.device),
                    cve: r.cve.clone(),
                    standing: r.standing.clone(),
                    firmware: r.firmware.clone(),
                })
                .collect(),
            findings: matches
                .findings
                .iter()
                .map(|f| Finding {
                    device: DeviceId(f.device),
                    kind: "vuln".into(),
                    reference: f.cve.clone(),
                    severity: severity(f),
                    detail: detail(f),
                    evidence: f.advisories.join(" "),
                    first_seen: ts,
                    last_seen: ts,
                })
                .collect(),
        };
        id = Some(store.record_vuln_assessment(&a).context("recording the assessment")?);
    }
    Ok(Assessed {
        assessment: id,
        assessed: devices.len(),
        devices: reports,
        findings: matches.findings,
        suppressed: matches.suppressed,
        changes,
        catalog: catalog.counts(),
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn score(s: Option<f32>) -> String {
    s.map_or("-".into(), |s| format!("{s:.1}"))
}

fn report(a: ReportArgs, out: &mut impl Write) -> Result<()> {
    if !a.db.exists() {
        bail!(
            "no inventory at {}: `ward analyze --db {} CAPTURE` makes one, `ward vuln import --db {} ...` adds advisories",
            a.db.display(),
            a.db.display(),
            a.db.display()
        );
    }
    let store = open(&a.db)?;
    let only = match &a.device {
        None => None,
        Some(r) => {
            let r: DeviceRef = r.parse().map_err(anyhow::Error::msg)?;
            match store.resolve(r)? {
                Some(id) => Some(id.0),
                None => bail!("no device {}", a.device.as_deref().unwrap_or_default()),
            }
        }
    };
    if store.vuln_document_heads()?.is_empty() {
        eprintln!("ward: no advisories imported yet: run `ward vuln import` first");
    }
    let mut r = assess(&store, !a.no_record)?;
    if let Some(id) = only {
        r.devices.retain(|d| d.id == id);
        r.findings.retain(|f| f.device == id);
        r.changes.retain(|c| match c {
            Change::New { device, .. }
            | Change::Resolved { device, .. }
            | Change::Standing { device, .. }
            | Change::Firmware { device, .. } => *device == id,
        });
    } else {
        // The report lists devices with something to say.
        r.devices.retain(|d| !d.findings.is_empty() || d.risk.score > 0);
    }
    if a.by == "advisory" {
        return by_advisory(&r, &a, out);
    }
    if a.json {
        #[derive(Serialize)]
        struct Out<'a> {
            assessment: Option<i64>,
            devices_assessed: usize,
            catalog: &'a CatalogCounts,
            suppressed_by_vex: usize,
            devices: &'a [DeviceReport],
            changes: &'a [Change],
        }
        serde_json::to_writer(
            &mut *out,
            &Out {
                assessment: r.assessment,
                devices_assessed: r.assessed,
                catalog: &r.catalog,
                suppressed_by_vex: r.suppressed,
                devices: &r.devices,
                changes: &r.changes,
            },
        )?;
        writeln!(out)?;
        return Ok(());
    }
    if a.csv {
        writeln!(
            out,
            "device,ips,vendor,model,firmware,criticality,risk,cve,standing,cvss_v3,cvss_v4,kev,epss,fixed_version,patch_available,advisories,product,reason,remediation"
        )?;
        for d in &r.devices {
            for f in &d.findings {
                let row = [
                    d.id.to_string(),
                    d.ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
                    d.vendor.clone().unwrap_or_default(),
                    d.model.clone().unwrap_or_default(),
                    d.firmware.clone().unwrap_or_default(),
                    d.criticality.clone().unwrap_or_default(),
                    d.risk.score.to_string(),
                    f.cve.clone(),
                    f.standing.as_str().to_owned(),
                    f.cvss_v3.map(|s| s.to_string()).unwrap_or_default(),
                    f.cvss_v4.map(|s| s.to_string()).unwrap_or_default(),
                    f.kev.to_string(),
                    f.epss.map(|s| s.to_string()).unwrap_or_default(),
                    f.fixed_version.clone().unwrap_or_default(),
                    f.patch_available.to_string(),
                    f.advisories.join(" "),
                    f.product.clone(),
                    f.reason.clone(),
                    f.remediation.clone().unwrap_or_default(),
                ];
                let row: Vec<String> = row.iter().map(|s| csv_field(s)).collect();
                writeln!(out, "{}", row.join(","))?;
            }
        }
        return Ok(());
    }
    writeln!(
        out,
        "ward vuln report: {} devices against {} CSAF advisories, {} NVD records, KEV {} entries{}",
        r.assessed,
        r.catalog.csaf,
        r.catalog.nvd,
        r.catalog.kev,
        r.assessment.map_or(String::from(" (not recorded)"), |id| format!(" (assessment {id})"))
    )?;
    let affected = r.findings.iter().filter(|f| f.standing == Standing::Affected).count();
    writeln!(
        out,
        "{} findings on {} devices: {} affected, {} version unknown; {} suppressed by VEX statements\n",
        r.findings.len(),
        r.devices_with_findings(),
        affected,
        r.findings.len() - affected,
        r.suppressed
    )?;
    writeln!(
        out,
        "{:>4} {:>6}  {:<15} {:<40} {:<8} {:>5} {:>3} {:>5}",
        "RISK", "DEVICE", "ADDRESS", "VENDOR MODEL FIRMWARE", "CRIT", "CVES", "KEV", "PATCH"
    )?;
    for d in &r.devices {
        let name = format!(
            "{} {} {}",
            d.vendor.as_deref().unwrap_or("?"),
            d.model.as_deref().unwrap_or("?"),
            d.firmware.as_deref().unwrap_or("(firmware unknown)")
        );
        writeln!(
            out,
            "{:>4} {:>6}  {:<15} {:<40} {:<8} {:>5} {:>3} {:>5}",
            d.risk.score,
            d.id,
            d.ips.first().map(ToString::to_string).unwrap_or_else(|| "-".into()),
            fit(&name, 40),
            d.criticality.as_deref().unwrap_or("-"),
            d.findings.len(),
            d.findings.iter().filter(|f| f.kev).count(),
            d.findings.iter().filter(|f| f.patch_available).count()
        )?;
        for f in &d.findings {
            writeln!(
                out,
                "            {:<16} {:<15} cvss {:>4}{} {}{}{}  [{}]",
                f.cve,
                f.standing.as_str(),
                score(f.base_score()),
                if f.kev { " KEV" } else { "" },
                fit(&f.reason, 60),
                f.fixed_version.as_ref().map_or(String::new(), |v| format!("; fixed in {v}")),
                if f.patch_available { " (patch available)" } else { "" },
                f.advisories.join(" ")
            )?;
        }
        if !d.findings.is_empty() || d.risk.exposure > 0.0 {
            let e = &d.exposure;
            let mut parts = Vec::new();
            if e.internet_peers > 0 {
                parts.push(format!("{} internet peers", e.internet_peers));
            }
            if e.other_segment_peers > 0 {
                parts.push(format!("{} peers in other subnets", e.other_segment_peers));
            }
            if e.cleartext_phi {
                parts.push("cleartext patient data".into());
            }
            if e.weak_credentials {
                parts.push("weak credentials".into());
            }
            if e.policy_violations > 0 {
                parts.push(format!("{} policy violations", e.policy_violations));
            }
            if !parts.is_empty() {
                writeln!(out, "            exposure: {}", parts.join(", "))?;
            }
        }
    }
    write_changes(out, &r.changes)?;
    Ok(())
}

fn write_changes(out: &mut impl Write, changes: &[Change]) -> Result<()> {
    if changes.is_empty() {
        writeln!(out, "\nNo change since the previous assessment.")?;
        return Ok(());
    }
    writeln!(out, "\nSince the previous assessment:")?;
    for c in changes {
        match c {
            Change::New { device, cve, standing } => {
                writeln!(out, "  new       device {device}  {cve} ({standing})")?
            }
            Change::Resolved { device, cve } => writeln!(out, "  resolved  device {device}  {cve}")?,
            Change::Standing { device, cve, from, to } => {
                writeln!(out, "  changed   device {device}  {cve}: {from} -> {to}")?
            }
            Change::Firmware { device, from, to } => writeln!(
                out,
                "  firmware  device {device}  {} -> {}",
                from.as_deref().unwrap_or("unknown"),
                to.as_deref().unwrap_or("unknown")
            )?,
        }
    }
    Ok(())
}

/// One advisory in a report.
#[derive(Serialize)]
struct AdvisoryReport {
    advisory: String,
    cves: Vec<String>,
    devices_affected: Vec<i64>,
    devices_unknown_version: Vec<i64>,
    kev: bool,
    max_score: Option<f32>,
    patch_available: usize,
}

fn by_advisory(r: &Assessed, a: &ReportArgs, out: &mut impl Write) -> Result<()> {
    let mut map: BTreeMap<&str, AdvisoryReport> = BTreeMap::new();
    for f in &r.findings {
        for adv in &f.advisories {
            let e = map.entry(adv).or_insert_with(|| AdvisoryReport {
                advisory: adv.clone(),
                cves: Vec::new(),
                devices_affected: Vec::new(),
                devices_unknown_version: Vec::new(),
                kev: false,
                max_score: None,
                patch_available: 0,
            });
            if !e.cves.contains(&f.cve) {
                e.cves.push(f.cve.clone());
            }
            let list = if f.standing == Standing::Affected {
                &mut e.devices_affected
            } else {
                &mut e.devices_unknown_version
            };
            if !list.contains(&f.device) {
                list.push(f.device);
            }
            e.kev |= f.kev;
            e.max_score = match (e.max_score, f.base_score()) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
            e.patch_available += usize::from(f.patch_available);
        }
    }
    let mut rows: Vec<AdvisoryReport> = map.into_values().collect();
    rows.sort_by(|x, y| {
        (y.devices_affected.len() + y.devices_unknown_version.len())
            .cmp(&(x.devices_affected.len() + x.devices_unknown_version.len()))
            .then(x.advisory.cmp(&y.advisory))
    });
    if a.json {
        serde_json::to_writer(
            &mut *out,
            &serde_json::json!({ "assessment": r.assessment, "advisories": rows, "changes": r.changes }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    if a.csv {
        writeln!(
            out,
            "advisory,cves,devices_affected,devices_unknown_version,kev,max_score,patch_available"
        )?;
        for x in &rows {
            writeln!(
                out,
                "{},{},{},{},{},{},{}",
                csv_field(&x.advisory),
                csv_field(&x.cves.join(" ")),
                x.devices_affected.len(),
                x.devices_unknown_version.len(),
                x.kev,
                x.max_score.map(|s| s.to_string()).unwrap_or_default(),
                x.patch_available
            )?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{:<22} {:>8} {:>8} {:>5} {:>3} {:>5}  CVES",
        "ADVISORY", "AFFECTED", "UNKNOWN", "CVSS", "KEV", "PATCH"
    )?;
    for x in &rows {
        writeln!(
            out,
            "{:<22} {:>8} {:>8} {:>5} {:>3} {:>5}  {}",
            fit(&x.advisory, 22),
            x.devices_affected.len(),
            x.devices_unknown_version.len(),
            score(x.max_score),
            if x.kev { "yes" } else { "" },
            x.patch_available,
            crate::report::list(&x.cves, 6)
        )?;
    }
    write_changes(out, &r.changes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_intervals() {
        let g = |s: &str| is_global(s.parse().expect("ip"));
        assert!(g("8.8.8.8") && g("2a00:1450::1"));
        assert!(
            !g("10.1.2.3") && !g("192.168.1.1") && !g("100.64.0.1") && !g("fe80::1") && !g("2001:db8::1")
        );
        assert_eq!(parse_interval("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_interval("90"), Ok(Duration::from_secs(90)));
        assert!(parse_interval("0s").is_err() && parse_interval("5w").is_err());
    }
}
