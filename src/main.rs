//! The `ward` command: argument parsing, wiring and output. The work is done by the library
//! crates; this file only connects them.

mod report;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ward_capture::{CaptureReader, CaptureSet, ReaderOptions};
use ward_dissect::Registry;
use ward_sensor::{FileReport, Sensor, SensorConfig, Sightings};

#[derive(Parser)]
#[command(name = "ward", version, about = "Passive inventory and protection of medical and IoT devices")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read capture files (pcap, pcapng; gzip or zstd compressed) and report what they show.
    Analyze(AnalyzeArgs),
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
}

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
    let total: u64 = readers.iter().filter_map(|r| r.file_len()).sum();
    let progress: Vec<_> = readers.iter().map(|r| r.progress()).collect();
    let mut set = CaptureSet::new(readers);
    let sensor = Sensor::new(cfg, registry);
    let mut sightings = Sightings::new();
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
        sensor.run(&mut set, |batch| batch.iter().for_each(|o| sightings.observe(o)))
    });
    let mut summary = sightings.summary(&report);
    summary.files.extend(unopened);
    let failed = summary.files.iter().any(|f| f.error.is_some());
    // Standard output is line-buffered; a summary of many devices is written in one go.
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if args.json {
        serde_json::to_writer(&mut stdout, &summary).context("writing JSON")?;
        writeln!(stdout)?;
    } else {
        report::write_text(&mut stdout, &summary)?;
    }
    stdout.flush()?;
    for f in summary.files.iter().filter(|f| f.error.is_some()) {
        eprintln!("ward: {}", f.error.as_deref().unwrap_or_default());
    }
    // The process ends here: freeing the summary's many small allocations one by one would
    // only cost time (a tenth of a second on a big capture).
    std::mem::forget(summary);
    std::mem::forget(sightings);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
