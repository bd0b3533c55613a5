//! What a run saw, in the shape `ward analyze` prints: the files, totals, protocols, caps,
//! and the devices (from `ward-inventory`'s reading of the run, placed in the inventory by
//! the engine when there is one).

use std::collections::BTreeMap;

use serde::Serialize;
use ward_core::Timestamp;
use ward_inventory::sightings::{DeviceSummary, RunTotals, ServiceCount, Sightings};

use crate::counters::{Counters, ProtocolCounts};
use crate::pipeline::{FileReport, Report};

/// Everything `ward analyze` reports about a run.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Each capture file and how reading it went.
    pub files: Vec<FileReport>,
    /// Packets read.
    pub packets: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// Conversations.
    pub flows: u64,
    /// TCP connection attempts that got no answer or were refused.
    pub failed_connections: u64,
    /// Earliest packet.
    pub first_packet: Option<Timestamp>,
    /// Latest packet.
    pub last_packet: Option<Timestamp>,
    /// Packets by protocol.
    pub protocols: ProtocolCounts,
    /// Flows by application protocol (`unknown` where no dissector recognised them).
    pub applications: BTreeMap<String, u64>,
    /// The services that answered most flows.
    pub top_services: Vec<ServiceCount>,
    /// Devices seen.
    pub devices: Vec<DeviceSummary>,
    /// Devices beyond the tracking cap.
    pub devices_not_tracked: u64,
    /// ARP claims beyond the addresses listed per MAC.
    pub arp_claims_not_listed: u64,
    /// Attributes and credential findings beyond those listed per device.
    pub attributes_not_listed: u64,
    /// Communication-map entries beyond the cap of one run.
    pub edges_not_listed: u64,
    /// Caps that were hit, with counts.
    pub caps_hit: BTreeMap<String, u64>,
    /// All counters.
    pub counters: Counters,
    /// Worker threads.
    pub threads: usize,
    /// Packets each worker processed.
    pub worker_packets: Vec<u64>,
    /// Wall-clock seconds.
    pub elapsed_secs: f64,
}

impl Summary {
    /// Assembles the whole summary of a run from its report, what the run's observations
    /// showed, and its devices (as [`Sightings::devices`] gives them, or as the engine placed
    /// them in the inventory).
    pub fn new(sightings: &Sightings, report: &Report, devices: Vec<DeviceSummary>) -> Summary {
        let t: RunTotals = sightings.totals();
        let c = &report.counters;
        Summary {
            files: report.files.clone(),
            packets: c.packets,
            bytes: c.bytes,
            flows: t.flows,
            failed_connections: t.failed_connections,
            first_packet: c.first_packet,
            last_packet: c.last_packet,
            protocols: c.protocols,
            applications: t.applications,
            top_services: t.top_services,
            devices,
            devices_not_tracked: t.devices_not_tracked,
            arp_claims_not_listed: t.arp_claims_not_listed,
            attributes_not_listed: t.attributes_not_listed,
            edges_not_listed: t.edges_not_listed,
            caps_hit: c.caps_hit().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            counters: c.clone(),
            threads: report.threads,
            worker_packets: report.worker_packets.clone(),
            elapsed_secs: report.elapsed.as_secs_f64(),
        }
    }
}
