//! `ward-gen`: writes Ward's benchmark and sample captures.
//!
//! The capture is a deterministic function of the seed and the profile: a hospital of about
//! 2,200 devices on five VLANs (infusion pumps, patient monitors, imaging modalities, lab
//! analysers, workstations, phones, printers, fridge sensors, cameras, badge readers, servers)
//! talking DNS, TLS, HTTP, HL7 over MLLP, DICOM, MQTT, DHCP, mDNS, NTP, ICMP and ARP, with
//! failed connection attempts and occasional retransmissions. Patient data in it is synthetic.
//!
//! ```text
//! cargo run --release -p ward-gen -- --profile bench --out bench-data/hospital-bench.pcap
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
enum Profile {
    /// About 2.5 million packets in 80,000 flows (92,000 conversations: DHCP and ARP exchanges share flows or have none), mean frame near 680 bytes (1.7 GB).
    Bench,
    /// A small capture (under 1 MB) for the README and tests.
    Sample,
}

#[derive(Parser)]
#[command(about = "Writes a deterministic hospital-like capture for Ward's benchmarks and samples")]
struct Args {
    /// Output pcap file.
    #[arg(long)]
    out: PathBuf,
    /// Seed; the same seed and profile always give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Size profile.
    #[arg(long, value_enum, default_value_t = Profile::Bench)]
    profile: Profile,
    /// Conversations (default: from the profile).
    #[arg(long)]
    flows: Option<usize>,
    /// Seconds over which conversations start (default: from the profile).
    #[arg(long)]
    duration: Option<u64>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let profile = match args.profile {
        Profile::Bench => ward_gen::Profile::Bench,
        Profile::Sample => ward_gen::Profile::Sample,
    };
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file =
        std::fs::File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let (flows, packets, bytes) =
        ward_gen::write_capture(file, profile, args.seed, args.flows, args.duration)?;
    eprintln!(
        "ward-gen: {} packets, {flows} conversations, {bytes} bytes of frames, mean frame {:.0} bytes -> {}",
        packets,
        bytes as f64 / packets.max(1) as f64,
        args.out.display()
    );
    Ok(())
}
