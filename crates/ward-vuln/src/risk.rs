//! A device's risk score, 0 to 100, from three things: how exploitable its vulnerabilities
//! are, how exposed Ward saw it to be, and how much patient care depends on it.
//!
//! - **Exploitability** `E` (0..1). Each finding counts `s × (0.5 + 0.5 × L)`, with `s` its
//!   base score / 10 (CVSS v4.0, else v3.x; 5.0 when no source scores it) and `L` the
//!   likelihood of exploitation: 1 when it is in CISA's KEV catalogue (exploited, not just
//!   exploitable), else its EPSS probability (0 when unknown). A finding whose version is
//!   unknown counts half. Findings combine as independent chances:
//!   `E = 1 − Π(1 − finding)`, so a second serious flaw raises E, and E never passes 1.
//! - **Exposure** `X` (0..1), from what Ward observed, combined the same way:
//!   internet peers 0.6 (something with a global address talks to it), peers in other
//!   segments 0.3, cleartext patient data 0.3, weak or default credentials seen 0.4, policy
//!   violations 0.2. Internet reach weighs most because it removes the attacker's first
//!   step; weak credentials next because they are an attack of their own.
//! - **Criticality** `C`: critical (therapy, monitoring) 1.0, high 0.8, medium 0.6, low
//!   0.4, unclassified 0.6.
//!
//! `risk = 100 × C × (0.5 E + 0.3 X + 0.2 E X)`, rounded. Exploitability carries most
//! weight; exposure alone (weak credentials on the internet, no known CVE) still scores;
//! and the product term rewards the combination that matters: a known exploited flaw on a
//! reachable device. A critical device with a KEV flaw of CVSS 10 reachable from the
//! internet with default credentials, cleartext patient data and a policy violation scores 95; a low-criticality device with nothing
//! found and nothing observed scores 0.

use serde::Serialize;
use ward_core::Criticality;

use crate::matching::{Standing, VulnFinding};

/// What Ward observed that exposes a device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Exposure {
    /// Peers with global unicast addresses that talked to it.
    pub internet_peers: u32,
    /// Peers in other segments that talked to it.
    pub other_segment_peers: u32,
    /// It sent or received patient data in cleartext.
    pub cleartext_phi: bool,
    /// Weak or default credentials were seen for it.
    pub weak_credentials: bool,
    /// Policy violations recorded against it.
    pub policy_violations: u32,
}

/// A device's risk with its parts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Risk {
    /// 0 to 100.
    pub score: u8,
    /// Exploitability, 0 to 1.
    pub exploitability: f32,
    /// Exposure, 0 to 1.
    pub exposure: f32,
    /// The criticality weight, 0.4 to 1.
    pub criticality: f32,
}

/// The weight of a criticality.
pub fn criticality_weight(c: Option<Criticality>) -> f32 {
    match c {
        Some(Criticality::Critical) => 1.0,
        Some(Criticality::High) => 0.8,
        Some(Criticality::Medium) | None => 0.6,
        Some(Criticality::Low) => 0.4,
    }
}

/// Exploitability of a device's findings.
pub fn exploitability<'a>(findings: impl IntoIterator<Item = &'a VulnFinding>) -> f32 {
    let mut none = 1.0f32;
    for f in findings {
        let s = f.base_score().map_or(0.5, |s| (s / 10.0).clamp(0.0, 1.0));
        let l = if f.kev { 1.0 } else { f.epss.unwrap_or(0.0).clamp(0.0, 1.0) };
        let mut x = s * (0.5 + 0.5 * l);
        if f.standing == Standing::UnknownVersion {
            x *= 0.5;
        }
        none *= 1.0 - x;
    }
    1.0 - none
}

/// Exposure from observations.
pub fn exposure(e: &Exposure) -> f32 {
    let parts = [
        (e.internet_peers > 0, 0.6f32),
        (e.other_segment_peers > 0, 0.3),
        (e.cleartext_phi, 0.3),
        (e.weak_credentials, 0.4),
        (e.policy_violations > 0, 0.2),
    ];
    1.0 - parts.iter().filter(|p| p.0).fold(1.0, |acc, p| acc * (1.0 - p.1))
}

/// The risk of a device.
pub fn risk<'a>(
    findings: impl IntoIterator<Item = &'a VulnFinding>,
    e: &Exposure,
    c: Option<Criticality>,
) -> Risk {
    let ex = exploitability(findings);
    let x = exposure(e);
    let cw = criticality_weight(c);
    let score = (100.0 * cw * (0.5 * ex + 0.3 * x + 0.2 * ex * x)).round().clamp(0.0, 100.0) as u8;
    Risk { score, exploitability: ex, exposure: x, criticality: cw }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(score: f32, kev: bool, standing: Standing) -> VulnFinding {
        VulnFinding {
            device: 1,
            cve: "CVE-1".into(),
            standing,
            reason: String::new(),
            advisories: vec![],
            product: String::new(),
            firmware: None,
            title: String::new(),
            cvss_v3: Some(score),
            cvss_v4: None,
            kev,
            epss: None,
            fixed_version: None,
            patch_available: false,
            remediation: None,
        }
    }

    #[test]
    fn bounds_and_order() {
        let worst = Exposure {
            internet_peers: 1,
            other_segment_peers: 1,
            cleartext_phi: true,
            weak_credentials: true,
            policy_violations: 1,
        };
        let kev10 = finding(10.0, true, Standing::Affected);
        let r = risk([&kev10], &worst, Some(Criticality::Critical));
        assert!(r.score >= 95, "{r:?}");
        assert_eq!(risk([], &Exposure::default(), Some(Criticality::Low)).score, 0);
        // KEV weighs more than the same score unexploited; unknown version less than affected.
        let plain = finding(9.8, false, Standing::Affected);
        let kev = finding(9.8, true, Standing::Affected);
        let unknown = finding(9.8, false, Standing::UnknownVersion);
        let e = Exposure::default();
        let c = Some(Criticality::High);
        assert!(risk([&kev], &e, c).score > risk([&plain], &e, c).score);
        assert!(risk([&plain], &e, c).score > risk([&unknown], &e, c).score);
        // Two flaws weigh more than one; criticality scales.
        assert!(risk([&plain, &plain], &e, c).score > risk([&plain], &e, c).score);
        assert!(
            risk([&plain], &e, Some(Criticality::Critical)).score
                > risk([&plain], &e, Some(Criticality::Low)).score
        );
        assert!(risk([&plain], &worst, c).score > risk([&plain], &e, c).score);
    }
}
