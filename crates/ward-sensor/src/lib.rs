//! Ward's sensor: the packet pipeline from captures to observations.
//!
//! This crate owns the worker threads and the way packets reach them: the reader shards
//! packets by a symmetric hash of their addresses, so that each worker owns whole flows and
//! every fragment of a datagram, without locks; workers decode, track flows, reassemble and
//! dissect, and hand observations on in batches through bounded channels. It must not reach
//! back up the pipe (no store, no engine) and must not grow without limit: every queue and
//! table is bounded, and [`Counters`] shows every cap that was hit.
//!
//! ```no_run
//! use ward_capture::{CaptureReader, CaptureSet};
//! use ward_dissect::Registry;
//! use ward_sensor::{Sensor, SensorConfig, Sightings, Summary};
//!
//! let files = vec![CaptureReader::open("ward-sample.pcap")?];
//! let sensor = Sensor::new(SensorConfig::default(), Registry::builtin());
//! let mut sightings = Sightings::new();
//! let report = sensor.run(&mut CaptureSet::new(files), |batch| {
//!     batch.iter().for_each(|o| sightings.observe(o));
//! });
//! let summary = Summary::new(&sightings, &report, sightings.devices());
//! println!("{} packets, {} flows, {} devices", summary.packets, summary.flows, summary.devices.len());
//! # Ok::<(), ward_capture::CaptureError>(())
//! ```

mod counters;
mod pipeline;
mod summary;
mod worker;

pub use counters::{Counters, ProtocolCounts};
pub use pipeline::{FileReport, MAX_THREADS, Report, Sensor};
pub use summary::Summary;
use ward_flow::defrag::DefragLimits;
use ward_flow::reassembly::ReassemblyLimits;
use ward_flow::table::FlowConfig;
pub use ward_inventory::sightings::{
    CleartextSummary, DeviceSummary, ROUTER_MIN_ADDRESSES, ServiceCount, Sightings,
};

/// How a sensor runs.
#[derive(Clone, Debug)]
pub struct SensorConfig {
    /// Worker threads (at least 1). With one, everything runs on the caller's thread.
    pub threads: usize,
    /// Flow table timeouts and size, per worker.
    pub flow: FlowConfig,
    /// Fragment reassembly caps, per worker.
    pub defrag: DefragLimits,
    /// Stream reassembly depth and per-stream cap.
    pub reassembly: ReassemblyLimits,
    /// Out-of-order stream bytes all workers may hold together.
    pub reassembly_budget: usize,
    /// Batches queued per worker before the reader waits.
    pub queue_depth: usize,
    /// With several threads, the caller's thread reads and shards for all, and may also work
    /// on its own share of the flows: this many percent of the share each other worker gets.
    /// 0, the default, keeps it to reading (it measured best on two cores: the reading is
    /// the bottleneck already).
    pub reader_share: u8,
}

impl Default for SensorConfig {
    fn default() -> SensorConfig {
        SensorConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            flow: FlowConfig::default(),
            defrag: DefragLimits::default(),
            reassembly: ReassemblyLimits::default(),
            reassembly_budget: 64 << 20,
            queue_depth: 32,
            reader_share: 0,
        }
    }
}
