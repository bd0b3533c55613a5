//! Ward's shared vocabulary: the records every stage of the pipeline speaks.
//!
//! This crate owns plain data types and their formatting: [`Mac`], [`Timestamp`], [`DeviceKey`],
//! [`Observation`], [`FlowRecord`], and the inventory's records ([`Device`], [`Fact`],
//! [`InventoryEvent`], ...). It must not do I/O, hold state or depend on any other Ward
//! crate; everything else in Ward depends on it.
//!
//! ```
//! use ward_core::{DeviceKey, Evidence, Mac, Observation, ObservationKind, Timestamp};
//!
//! let mac: Mac = "00:1b:63:84:45:e6".parse().unwrap();
//! let seen = Observation {
//!     ts: Timestamp::from_secs(1_700_000_000),
//!     device: DeviceKey::Mac(mac),
//!     kind: ObservationKind::Seen {
//!         ip: Some("10.1.2.3".parse().unwrap()),
//!         vlan: None,
//!         evidence: Evidence::new("arp.sender", 90),
//!     },
//! };
//! assert_eq!(seen.device.to_string(), "mac:00:1b:63:84:45:e6");
//! ```

mod flow;
mod inventory;
mod mac;
mod observation;
mod time;

pub use flow::{Direction, Endpoint, FlowEndReason, FlowRecord, IpProto, Vlans};
pub use inventory::{
    Alert, Classification, CommEdge, Criticality, Derived, Device, DeviceId, DeviceRecord, EventKind, Fact,
    Finding, FlowRef, InventoryEvent, IpRange, Lifecycle, Override, Service, Severity, Suppression,
};
pub use mac::{Mac, MacParseError};
pub use observation::{AccountKind, DeviceKey, Evidence, Observation, ObservationKind, Weakness};
pub use time::{Timestamp, TimestampParseError};
