//! The inventory: one record per real device, each fact with the evidence behind it.
//!
//! Pure logic, no I/O beyond the rule files it is handed: identity merge (`identity`),
//! classification rules (`classify`), IEEE vendor registries (`oui`).

pub mod classify;
mod identity;
pub mod oui;
pub mod sightings;

pub use identity::{Changes, Inventory, InventoryConfig};
