//! Ward's detection stage: what in the traffic needs a person.
//!
//! - **Threat intelligence** ([`Indicators`]): every flow's two ends, and every name a device
//!   looked up (DNS), asked a TLS server for (SNI) or an HTTP server for (Host), against the
//!   indicator sets the intel feeds keep. A name is tied to the conversation that carried it
//!   when the flow record arrives, so the alert has its five-tuple.
//! - **Behaviour** ([`Baseline`]): per device, over a learning window from its first
//!   sighting, the external peers, the services it uses and offers, its clinical
//!   destinations (DICOM, HL7) and its traffic per hour. While a device learns nothing
//!   behavioural is raised; after, a new external peer, a new service, scanning, unusual
//!   volume, DICOM or HL7 to a new destination, and a medical device talking to the internet
//!   are.
//! - **Alerts** ([`alerts`]): severities, keys that fold alike alerts, suppression rules with
//!   an owner and an expiry.
//!
//! Pure logic over observations: the engine feeds it, hands it the stored baselines and the
//! run's device placement, and writes what it returns.

mod activity;
pub mod alerts;
mod baseline;
mod detector;

#[cfg(test)]
mod tests;

pub use activity::{Activity, flow_ref, is_global};
pub use alerts::{Suppression, alert_key};
pub use baseline::{Baseline, HourStats};
pub use detector::{DetectConfig, DetectOutcome, Detector, DeviceView, Indicators, IntelHit, NoIndicators};
