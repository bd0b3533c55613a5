//! Ward's capture generator: a deterministic hospital-like capture ([`write_capture`], which
//! the `ward-gen` binary and tests call), and the encoders other crates' tests use for
//! well-formed messages (`ber`, `dicom`).

pub mod ber;
pub mod dicom;
mod hospital;
mod payloads;
mod rng;
mod traffic;
mod wire;

use std::io::{BufWriter, Write};

use ward_capture::LinkType;
use ward_capture::write::{ByteOrder, PcapWriter};
use ward_core::Timestamp;

/// How big a capture to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// About 2.5 million packets in 80,000 flows, mean frame near 680 bytes (1.7 GB).
    Bench,
    /// A small capture (under 1 MB) for the README and tests.
    Sample,
}

/// Writes the capture of `profile` and `seed` (with `flows` conversations starting over
/// `duration` seconds, when given instead of the profile's) as pcap to `out`. The same
/// arguments always give the same bytes. Returns (conversations, packets, frame bytes).
pub fn write_capture(
    out: impl Write,
    profile: Profile,
    seed: u64,
    flows: Option<usize>,
    duration: Option<u64>,
) -> std::io::Result<(usize, u64, u64)> {
    let (default_flows, default_duration, scale) = match profile {
        Profile::Bench => {
            (92_000, 600, traffic::Scale { max_image: 520_000, max_download: 48_000, max_hl7: 14 })
        }
        Profile::Sample => (220, 90, traffic::Scale { max_image: 8_000, max_download: 3_000, max_hl7: 3 }),
    };
    let flows = flows.unwrap_or(default_flows);
    let duration = duration.unwrap_or(default_duration);
    // 2026-03-02T08:00:00Z, a Monday morning.
    let start = Timestamp::from_secs(1_772_438_400).as_nanos();
    let mut generator = traffic::Generator::new(seed, flows, start, duration * 1_000_000_000, scale);
    let mut w = PcapWriter::new(
        BufWriter::with_capacity(1 << 20, out),
        LinkType::ETHERNET,
        ByteOrder::Little,
        false,
    )?;
    let (mut packets, mut bytes) = (0u64, 0u64);
    while let Some((ts, frame)) = generator.next() {
        w.packet(Timestamp::from_nanos(ts), frame, frame.len() as u32)?;
        packets += 1;
        bytes += frame.len() as u64;
    }
    w.finish()?.flush()?;
    Ok((flows, packets, bytes))
}

/// The capture the benchmarks read: `$WARD_BENCH_CAPTURE`, else
/// `bench-data/hospital-bench.pcap` at the workspace root (`scripts/bench` makes it), else the
/// sample capture, with a note on standard error that the figures are then not the benchmark's.
pub fn bench_capture() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bench = std::env::var_os("WARD_BENCH_CAPTURE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("bench-data/hospital-bench.pcap"));
    if bench.exists() {
        bench
    } else {
        #[allow(clippy::print_stderr)] // benchmarks' own output; Ward itself never prints here
        {
            eprintln!("{} not found (scripts/bench makes it); using the sample capture", bench.display());
        }
        root.join("samples/ward-sample.pcap")
    }
}
