//! The `ward` command: argument parsing, wiring and output. The work is done by the library
//! crates; this file only connects them.

mod alerts;
mod intel;
mod inventory;
mod policy;
mod report;
mod vuln;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ward_capture::{CaptureReader, CaptureSet, ReaderOptions};
use ward_dissect::Registry;
use ward_engine::{Engine, EngineConfig};
use ward_inventory::InventoryConfig;
use ward_inventory::classify::Rules;
use ward_sensor::{FileReport, Sensor, SensorConfig, Summary};
use ward_store::Blocking;

/// What `ward analyze` did to the inventory.
#[derive(serde::Serialize)]
pub(crate) struct InventoryLine {
    /// The database.
    pub(crate) db: String,
    /// Devices in the inventory after the run.
    pub(crate) devices: usize,
    /// Devices written (new or changed).
    pub(crate) devices_written: usize,
    /// Communication-map entries added.
    pub(crate) edges_written: usize,
    /// Conversations left off the map because an end is no device (it never sent a packet).
    pub(crate) edges_unplaced: u64,
    /// The same captures had been read before: counts were not added again.
    pub(crate) already_imported: bool,
    /// Observations the engine took.
    pub(crate) observations: u64,
    /// Seconds spent placing, classifying and writing.
    pub(crate) finish_secs: f64,
    /// What changed.
    pub(crate) events: Vec<ward_core::InventoryEvent>,
}

/// The built-in rules plus the operator's.
fn load_rules(paths: &[PathBuf]) -> Result<Rules> {
    let mut rules = Rules::builtin();
    if !paths.is_empty() {
        rules.extend(Rules::load(paths).context("--rules")?).context("--rules")?;
    }
    Ok(rules)
}

#[derive(Parser)]
#[command(name = "ward", version, about = "Passive inventory and protection of medical and IoT devices")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read capture files (pcap, pcapng; gzip or zstd compressed), add what they show to the
    /// inventory, and report it.
    Analyze(AnalyzeArgs),
    /// The inventory: list, show, peers, events, export, and overrides (`set`).
    #[command(subcommand)]
    Inventory(inventory::InventoryCommand),
    /// Segmentation policy: check, simulate, suggest, compile, apply, counters.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Alerts: list, acknowledge, close, suppress.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Vulnerabilities: import advisories (CSAF, NVD, KEV, EPSS) and report findings and
    /// risk per device or per advisory.
    #[command(subcommand)]
    Vuln(vuln::VulnCommand),
    /// Threat-intelligence feeds: update (read them now), lookup (which feed lists a value).
    #[command(subcommand)]
    Intel(intel::IntelCommand),
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Capture files, read together in time order.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Print one JSON object instead of the readable summary.
    #[arg(long)]
    json: bool,
    /// Bytes of each direction of a TCP connection handed to dissectors (default 1 MiB).
    #[arg(long, value_name = "BYTES")]
    stream_depth: Option<u64>,
    /// Dissectors to run, comma-separated, or `none` (default: all).
    #[arg(long, value_name = "LIST")]
    dissectors: Option<String>,
    /// Never draw a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Copy files in with read(2) instead of mapping them. Use it for captures that another
    /// process may truncate while Ward reads them (a mapped file that shrinks crashes Ward).
    #[arg(long)]
    no_mmap: bool,
    /// The inventory database (SQLite), created on first use.
    #[arg(long, value_name = "PATH", default_value = "ward.db")]
    db: PathBuf,
    /// Read and report only: no inventory is read or written.
    #[arg(long, conflicts_with = "db")]
    no_store: bool,
    /// Classification rule files or folders of them, added to the built-in rules.
    #[arg(long, value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Days without a sighting after which a device is stale.
    #[arg(long, value_name = "DAYS", default_value_t = 7.0)]
    stale_after: f64,
    /// Days each device learns its normal behaviour (from its first sighting) before
    /// anomalies are raised.
    #[arg(long, value_name = "DAYS", default_value_t = 7.0)]
    learning_days: f64,
    /// A threat-intelligence feed (file or URL; docs/intel.md) whose indicators are matched
    /// against every flow and name. Repeatable.
    #[arg(long = "intel", value_name = "FEED")]
    intel: Vec<String>,
    /// A configuration file whose `[[feed]]` list names feeds.
    #[arg(long, value_name = "FILE")]
    intel_config: Option<PathBuf>,
    /// A file whose `[[export]]` list names where alerts go (syslog, CEF, JSON lines,
    /// webhooks; docs/exports.md). The run waits up to 10 s for them to be delivered.
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
}

/// Alike alerts within an hour are one.
const ALERT_WINDOW_SECS: u64 = 3600;

/// Sets the flag when dropped.
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Inventory(cmd) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            inventory::run(cmd, &mut out)
                .and_then(|()| out.flush().map_err(Into::into))
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Alerts(cmd) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            alerts::run(cmd, &mut out)
                .and_then(|()| out.flush().map_err(Into::into))
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Policy(cmd) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            policy::run(cmd, &mut out)
                .and_then(|clean| out.flush().map(|()| clean).map_err(Into::into))
                .map(|clean| if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Vuln(cmd) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            vuln::run(cmd, &mut out)
                .and_then(|ok| out.flush().map(|()| ok).map_err(Into::into))
                .map(|ok| if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Intel(cmd) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            intel::run(cmd, &mut out)
                .and_then(|ok| out.flush().map(|()| ok).map_err(Into::into))
                .map(|ok| if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ward: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn analyze(args: AnalyzeArgs) -> Result<ExitCode> {
    let registry = match args.dissectors.as_deref() {
        None => Registry::builtin(),
        Some("none") => Registry::empty(),
        Some(list) => {
            let names: Vec<&str> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            Registry::builtin().only(&names).map_err(anyhow::Error::msg).context("--dissectors")?
        }
    };
    let mut cfg = SensorConfig::default();
    if let Some(n) = args.threads {
        anyhow::ensure!(n >= 1, "--threads must be at least 1");
        cfg.threads = n;
    }
    if let Some(depth) = args.stream_depth {
        cfg.reassembly.depth = depth;
    }
    // A file that cannot be opened is reported like one that breaks halfway: the others are
    // still read, and the exit status says something went wrong.
    let mut readers = Vec::new();
    let mut unopened = Vec::new();
    let opts = ReaderOptions { mmap: !args.no_mmap, ..ReaderOptions::default() };
    for path in &args.files {
        match CaptureReader::open_with(path, opts) {
            Ok(r) => readers.push(r),
            Err(e) => unopened.push(FileReport {
                path: path.clone(),
                compression: "unknown",
                packets: 0,
                error: Some(e.to_string()),
            }),
        }
    }
    anyhow::ensure!(
        args.stale_after.is_finite() && args.stale_after > 0.0,
        "--stale-after must be a positive number of days"
    );
    let rules = load_rules(&args.rules)?;
    let exporter = match &args.export {
        None => None,
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let file =
                ward_export::ExportFile::parse(&text).with_context(|| format!("{}", path.display()))?;
            Some(ward_export::Exporter::from_config(&file.export).context("--export")?)
        }
    };
    let store = if args.no_store {
        None
    } else {
        Some(
            Blocking::open_sqlite(&args.db)
                .with_context(|| format!("opening the inventory {}", args.db.display()))?,
        )
    };
    anyhow::ensure!(
        args.learning_days.is_finite() && args.learning_days >= 0.0,
        "--learning-days must be zero or a positive number of days"
    );
    let engine_cfg = EngineConfig {
        inventory: InventoryConfig {
            stale_after_secs: (args.stale_after * 86_400.0) as u64,
            ..InventoryConfig::default()
        },
        detect: Some(ward_engine::Detection {
            config: ward_detect::DetectConfig {
                learning_secs: (args.learning_days * 86_400.0) as u64,
                ..ward_detect::DetectConfig::default()
            },
            indicators: intel::for_run(&args.intel, args.intel_config.clone())
                .context("the intel feeds")?
                .unwrap_or_else(|| std::sync::Arc::new(ward_detect::NoIndicators)),
            alert_window_secs: ALERT_WINDOW_SECS,
        }),
    };
    let mut engine = Engine::open(store, rules, engine_cfg).context("reading the inventory")?;
    // Digest of what is read, taken before reading: the same captures read again must not
    // add their counts twice.
    let opened: Vec<&std::path::Path> =
        args.files.iter().filter(|p| !unopened.iter().any(|u| &u.path == *p)).map(PathBuf::as_path).collect();
    let fingerprint = if args.no_store || opened.is_empty() {
        String::new()
    } else {
        ward_capture::fingerprint_set(&opened).context("reading the captures")?
    };
    let total: u64 = readers.iter().filter_map(|r| r.file_len()).sum();
    let progress: Vec<_> = readers.iter().map(|r| r.progress()).collect();
    let mut set = CaptureSet::new(readers);
    let sensor = Sensor::new(cfg, registry);
    let show_progress = !args.no_progress && std::io::stderr().is_terminal() && total > 32 << 20;
    let done = std::sync::atomic::AtomicBool::new(false);
    let report = std::thread::scope(|s| {
        if show_progress {
            let done = &done;
            let progress = &progress;
            s.spawn(move || {
                let bar = indicatif::ProgressBar::new(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                while !done.load(Ordering::Relaxed) {
                    bar.set_position(progress.iter().map(|p| p.load(Ordering::Relaxed)).sum());
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            });
        }
        // Stop the progress bar however the run ends, panics included, or the scope would wait
        // for it forever.
        let _stop = StopOnDrop(&done);
        sensor.run(&mut set, |batch| engine.observe(&batch))
    });
    let read_failed = !unopened.is_empty() || report.files.iter().any(|f| f.error.is_some());
    // A capture that broke halfway is reported, but not recorded as read: reading it again
    // once repaired must count it.
    let run = ward_store::Import {
        fingerprint: if read_failed { String::new() } else { fingerprint },
        source: args.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
        first_packet: report.counters.first_packet,
        last_packet: report.counters.last_packet,
        packets: report.counters.packets,
        written_at: ward_core::Timestamp::ZERO, // set by the engine when it writes the run
    };
    let outcome = engine.finish(run).context("writing the inventory")?;
    let mut summary = Summary::new(engine.sightings(), &report, outcome.devices);
    summary.files.extend(unopened);
    let failed = summary.files.iter().any(|f| f.error.is_some());
    let inventory = (!args.no_store).then(|| InventoryLine {
        db: args.db.display().to_string(),
        devices: outcome.inventory_devices,
        devices_written: outcome.devices_written,
        edges_written: outcome.edges_written,
        edges_unplaced: outcome.edges_unplaced,
        already_imported: outcome.already_imported,
        observations: outcome.observations,
        finish_secs: outcome.finish_secs,
        events: outcome.events,
    });
    let detection = outcome.detection;
    if let Some(exporter) = exporter {
        for a in detection.iter().flat_map(|d| &d.alerts) {
            exporter.send(a);
        }
        for st in exporter.shutdown(Duration::from_secs(10)) {
            if st.failed > 0 || st.dropped > 0 || st.queued > 0 {
                eprintln!(
                    "ward: export {}: {} sent, {} failed, {} dropped, {} not delivered{}",
                    st.name,
                    st.sent,
                    st.failed,
                    st.dropped,
                    st.queued,
                    st.last_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
                );
            }
        }
    }
    // Standard output is line-buffered; a summary of many devices is written in one go.
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if args.json {
        // Streamed: building the whole document as a JSON value first cost a third of a
        // second and a hundred megabytes on a large capture.
        #[derive(serde::Serialize)]
        struct Output<'a> {
            #[serde(flatten)]
            summary: &'a Summary,
            #[serde(skip_serializing_if = "Option::is_none")]
            inventory: Option<&'a InventoryLine>,
            alerts: &'a [ward_core::Alert],
            #[serde(skip_serializing_if = "Option::is_none")]
            detection: Option<&'a ward_detect::DetectOutcome>,
        }
        let alerts = detection.as_ref().map(|d| d.alerts.as_slice()).unwrap_or_default();
        serde_json::to_writer(
            &mut stdout,
            &Output {
                summary: &summary,
                inventory: inventory.as_ref(),
                alerts,
                detection: detection.as_ref(),
            },
        )
        .context("writing JSON")?;
        writeln!(stdout)?;
    } else {
        report::write_text(&mut stdout, &summary)?;
        if let Some(inv) = &inventory {
            report::write_inventory(&mut stdout, inv)?;
        }
        if let Some(d) = &detection {
            report::write_detection(&mut stdout, d)?;
        }
    }
    stdout.flush()?;
    for f in summary.files.iter().filter(|f| f.error.is_some()) {
        eprintln!("ward: {}", f.error.as_deref().unwrap_or_default());
    }
    // The process ends here: freeing the summary's many small allocations one by one would
    // only cost time (a tenth of a second on a big capture).
    std::mem::forget(summary);
    std::mem::forget(engine);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
