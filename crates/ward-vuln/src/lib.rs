//! Vulnerability and patch assessment: CSAF 2.0 advisories, NVD CVE records, CISA's Known
//! Exploited Vulnerabilities and EPSS scores, matched against the inventory's devices by
//! vendor, model and firmware, with a risk score per device.
//!
//! It owns the formats ([`csaf`], [`nvd`], [`exploited`], recognised by [`document`]), the
//! comparison of firmware versions and advisory ranges ([`version`]), vendor names
//! ([`vendor`]), CPE names ([`cpe`]), matching ([`matching`]), the risk score ([`risk`]) and
//! what changed between two assessments ([`assess`]). It does no I/O beyond the bytes it is
//! handed, except [`fetch`], which downloads from CSAF providers. It never sees patient
//! data: devices come to it as vendor, model and firmware.
//!
//! ```
//! use ward_vuln::{document, matching::{Catalog, DeviceProfile}};
//! let nvd = br#"{"id": "CVE-2020-25165", "lastModified": "2024-11-21",
//!   "configurations": [{"nodes": [{"operator": "OR", "cpeMatch": [{"vulnerable": true,
//!   "criteria": "cpe:2.3:o:bd:alaris_8015_pcu_firmware:*:*:*:*:*:*:*:*",
//!   "versionEndIncluding": "9.33.1"}]}]}]}"#;
//! let document::Document::Advisories(list) = document::read(nvd)? else { unreachable!() };
//! let catalog = Catalog::new(list.into_iter().map(|(a, _)| a).collect(), Default::default(), Default::default());
//! let pump = DeviceProfile { id: 1, vendor: Some("BD".into()), model: Some("Alaris 8015 PC Unit".into()), firmware: Some("9.19".into()) };
//! let found = catalog.match_devices(&[pump]);
//! assert_eq!(found.findings[0].cve, "CVE-2020-25165");
//! # Ok::<(), ward_vuln::ParseError>(())
//! ```

pub mod advisory;
pub mod assess;
pub mod cpe;
pub mod csaf;
pub mod document;
pub mod exploited;
pub mod fetch;
pub mod matching;
pub mod nvd;
pub mod risk;
pub mod vendor;
pub mod version;

/// Why a document could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not valid JSON, or JSON of the wrong shape for its kind.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A kind or version Ward does not read.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Read, but breaks a rule of its format or a limit.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// At most `max` bytes of `s`, cut at a character boundary, with `…` when cut.
pub fn short(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Reads stored documents (kind and bytes) into a catalogue: the advisories, KEV and EPSS.
/// A document that no longer reads is returned with its error and left out.
pub fn catalog<'a>(
    stored: impl IntoIterator<Item = (document::Kind, &'a str, &'a [u8])>,
) -> (matching::Catalog, Vec<(String, ParseError)>) {
    let mut advisories = Vec::new();
    let mut kev = exploited::Kev::default();
    let mut epss = exploited::Epss::default();
    let mut errors = Vec::new();
    for (kind, id, body) in stored {
        let read = match kind {
            document::Kind::Csaf => csaf::parse(body).map(|a| advisories.push(a)),
            document::Kind::Nvd => nvd::parse(body).map(|list| advisories.extend(list)),
            document::Kind::Kev => document::read(body).and_then(|d| match d {
                document::Document::Kev(k, _) => {
                    kev = k;
                    Ok(())
                }
                _ => Err(ParseError::Invalid("stored as KEV, reads as something else".into())),
            }),
            document::Kind::Epss => exploited::Epss::parse_csv(body).map(|e| epss = e),
        };
        if let Err(e) = read {
            errors.push((id.to_owned(), e));
        }
    }
    (matching::Catalog::new(advisories, kev, epss), errors)
}
