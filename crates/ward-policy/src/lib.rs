//! Ward's segmentation policy.
//!
//! One TOML file says which segments exist (networks, VLANs, default postures), which
//! devices belong where, which conversations between segments, classes, devices, networks and
//! the internet are allowed or denied, and which peers each device may or may never talk
//! with. This crate reads it ([`Policy`]), makes it concrete against an inventory
//! ([`Resolved`]), decides conversations the way the firewall will ([`Resolved::decide`]),
//! checks an observed network against it ([`check`]), suggests one from observed traffic
//! ([`suggest`]) and compiles it to nftables ([`nft`]). It does no I/O beyond reading the
//! file it is handed; applying a ruleset is `ward-enforce`'s.
//!
//! The format is documented in `docs/policy.md`, with a complete hospital example in
//! `examples/policy/hospital.toml`.

pub mod addr;
pub mod check;
mod file;
pub mod nft;
mod policy;
mod resolve;
pub mod services;
pub mod suggest;
pub mod synthetic;

pub use addr::IpSet;
pub use policy::{
    Action, Context, DeviceLists, DeviceSel, LoadError, Placement, Policy, PolicyError, Proto, Rule, Segment,
    Selector, Traffic,
};
pub use resolve::{
    Decision, DeviceInfo, OUTSIDE, Reason, Resolved, ResolvedLists, ResolvedRule, Warning, Zone,
};

#[cfg(test)]
mod tests;
