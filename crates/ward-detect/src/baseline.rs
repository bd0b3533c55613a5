//! A device's learned behaviour.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use ward_core::{DeviceId, Timestamp};

/// Traffic per hour, summarised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HourStats {
    /// Hours learned.
    pub hours: u64,
    /// The busiest hour's bytes.
    pub max: u64,
    /// Bytes over all hours learned.
    pub total: u64,
}

impl HourStats {
    /// Learns one hour.
    pub fn add(&mut self, bytes: u64) {
        self.hours += 1;
        self.max = self.max.max(bytes);
        self.total = self.total.saturating_add(bytes);
    }

    /// The mean hour.
    pub fn mean(&self) -> u64 {
        self.total.checked_div(self.hours).unwrap_or(0)
    }
}

/// What a device does normally, learned over its window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The device.
    pub device: DeviceId,
    /// When it started learning (its first sighting).
    pub learning_since: Timestamp,
    /// When learning ends; anomalies are raised for what happens from then on.
    pub learning_until: Timestamp,
    /// Internet addresses it talked with.
    pub external_peers: BTreeSet<IpAddr>,
    /// Services it used (protocol, port).
    pub client_services: BTreeSet<(u8, u16)>,
    /// Services it offered.
    pub server_services: BTreeSet<(u8, u16)>,
    /// Where it sent DICOM and HL7 (application, address).
    pub clinical: BTreeSet<(String, IpAddr)>,
    /// Its traffic per hour.
    pub volume: HourStats,
    /// The last hour counted into `volume` (an hour is learned once, even if read twice).
    pub last_hour: Option<i64>,
}

impl Baseline {
    /// A new baseline learning from `since` for `secs`.
    pub fn new(device: DeviceId, since: Timestamp, secs: u64) -> Baseline {
        Baseline {
            device,
            learning_since: since,
            learning_until: since.add_nanos(secs.saturating_mul(1_000_000_000)),
            external_peers: BTreeSet::new(),
            client_services: BTreeSet::new(),
            server_services: BTreeSet::new(),
            clinical: BTreeSet::new(),
            volume: HourStats::default(),
            last_hour: None,
        }
    }

    /// Whether it is still learning at `t`.
    pub fn learning_at(&self, t: Timestamp) -> bool {
        t < self.learning_until
    }
}
