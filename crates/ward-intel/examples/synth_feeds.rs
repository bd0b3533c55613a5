//! Writes the synthetic feeds the whole-process benchmark loads (`scripts/bench-intel`):
//! `ips.txt` (750,000 ipsum-style lines) and `names.txt` (250,000 names, half as hosts-file
//! lines), one million indicators in all, the same bytes on every machine.
//!
//!   cargo run --release -p ward-intel --example synth_feeds -- DIR [IPS NAMES]
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "bench-data/intel".into()));
    let ips: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(750_000);
    let names: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(250_000);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("ips.txt"), ward_intel::synth::ip_list(1, ips))?;
    std::fs::write(dir.join("names.txt"), ward_intel::synth::domain_list(2, names))?;
    println!(
        "wrote {} ({ips} lines) and {} ({names} lines)",
        dir.join("ips.txt").display(),
        dir.join("names.txt").display()
    );
    Ok(())
}
