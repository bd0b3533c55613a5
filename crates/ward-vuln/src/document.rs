//! One file or download, recognised by its content and read: a CSAF document, NVD CVE
//! records, the KEV catalogue (JSON or CSV), EPSS scores, or a CSAF provider's metadata.
//!
//! What is kept in the store is the document's own bytes (per CVE for NVD lists), with the
//! id and revision that decide whether it replaces what is stored ([`Revision`]).

use std::cmp::Ordering;

use sha2::{Digest, Sha256};

use crate::advisory::Advisory;
use crate::exploited::{Epss, Kev};
use crate::version::Version;
use crate::{ParseError, csaf, nvd};

/// Largest document read (the KEV catalogue is about 1.5 MB; EPSS's CSV about 10 MB).
pub const MAX_DOCUMENT: usize = 64 * 1024 * 1024;

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A CSAF 2.0 advisory.
    Csaf,
    /// One NVD CVE record.
    Nvd,
    /// The KEV catalogue.
    Kev,
    /// EPSS scores.
    Epss,
}

impl Kind {
    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Csaf => "csaf",
            Kind::Nvd => "nvd",
            Kind::Kev => "kev",
            Kind::Epss => "epss",
        }
    }

    /// From its name in the store.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "csaf" => Kind::Csaf,
            "nvd" => Kind::Nvd,
            "kev" => Kind::Kev,
            "epss" => Kind::Epss,
            _ => return None,
        })
    }
}

/// A document read and ready to store: its identity, revision and bytes.
#[derive(Clone, Debug)]
pub struct Revision {
    /// What it is.
    pub kind: Kind,
    /// Its id (`ICSMA-20-317-01`, `CVE-2020-25165`; `kev` and `epss` for the catalogues,
    /// of which one is kept).
    pub id: String,
    /// Its revision (`tracking.version`, `lastModified`, `catalogVersion`).
    pub version: String,
    /// When it was released (RFC 3339 text, or empty).
    pub released: String,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// The bytes as stored.
    pub body: Vec<u8>,
}

impl Revision {
    fn new(kind: Kind, id: String, version: String, released: String, body: Vec<u8>) -> Revision {
        let sha256 = hex(&Sha256::digest(&body));
        Revision { kind, id, version, released, sha256, body }
    }

    /// Whether this revision should replace `stored` (same kind and id): a later release
    /// date or version does; an earlier one does not; the same revision of an advisory does
    /// when its bytes differ (a republished correction). The same catalogue version of KEV
    /// or EPSS does not: its JSON and CSV forms hold the same entries in other bytes.
    pub fn replaces(&self, stored_version: &str, stored_released: &str, stored_sha256: &str) -> bool {
        match later(&self.released, &self.version, stored_released, stored_version) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => matches!(self.kind, Kind::Csaf | Kind::Nvd) && self.sha256 != stored_sha256,
        }
    }

    /// Whether it is the same revision as the stored one.
    pub fn same_revision(&self, stored_version: &str, stored_released: &str) -> bool {
        later(&self.released, &self.version, stored_released, stored_version) == Ordering::Equal
    }
}

/// Orders two revisions: by release date when both have one, then by version.
pub fn later(released_a: &str, version_a: &str, released_b: &str, version_b: &str) -> Ordering {
    if !released_a.is_empty() && !released_b.is_empty() {
        match released_a.cmp(released_b) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    match (Version::parse(version_a), Version::parse(version_b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => version_a.cmp(version_b),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A document as read.
#[derive(Debug)]
pub enum Document {
    /// Advisories (one CSAF document, or NVD records) with their stored forms.
    Advisories(Vec<(Advisory, Revision)>),
    /// The KEV catalogue.
    Kev(Kev, Revision),
    /// EPSS scores.
    Epss(Epss, Revision),
    /// A CSAF provider's `provider-metadata.json`: where its documents are (fetched, not
    /// stored).
    ProviderMetadata(crate::fetch::ProviderMetadata),
}

/// Recognises a document by its content and reads it. `name` is only for messages.
pub fn read(bytes: &[u8]) -> Result<Document, ParseError> {
    if bytes.len() > MAX_DOCUMENT {
        return Err(ParseError::Invalid(format!("larger than {} MiB", MAX_DOCUMENT >> 20)));
    }
    let trimmed = trim_start(bytes);
    if trimmed.first() == Some(&b'{') {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
        if value.get("document").and_then(|d| d.get("csaf_version")).is_some() {
            let a = csaf::parse(bytes)?;
            let rev = Revision::new(
                Kind::Csaf,
                a.id.clone(),
                a.version.clone(),
                a.released.clone(),
                bytes.to_vec(),
            );
            return Ok(Document::Advisories(vec![(a, rev)]));
        }
        if value.get("catalogVersion").is_some()
            || value.get("vulnerabilities").and_then(|v| v.get(0)).and_then(|v| v.get("cveID")).is_some()
        {
            let k = Kev::parse_json(bytes)?;
            let rev =
                Revision::new(Kind::Kev, "kev".into(), k.version.clone(), String::new(), bytes.to_vec());
            return Ok(Document::Kev(k, rev));
        }
        if value.get("canonical_url").is_some() && value.get("metadata_version").is_some() {
            return crate::fetch::ProviderMetadata::from_value(value).map(Document::ProviderMetadata);
        }
        let is_nvd = value.get("vulnerabilities").and_then(|v| v.get(0)).and_then(|v| v.get("cve")).is_some()
            || value.get("cve").is_some()
            || value.get("id").and_then(|i| i.as_str()).is_some_and(|i| i.starts_with("CVE-"));
        if is_nvd {
            return nvd_records(&value);
        }
        return Err(ParseError::Unsupported(
            "JSON that is neither CSAF, NVD CVE 2.0, KEV nor CSAF provider metadata".into(),
        ));
    }
    let head = String::from_utf8_lossy(&trimmed[..trimmed.len().min(4096)]).to_lowercase();
    if head.starts_with("cveid,") {
        let k = Kev::parse_csv(bytes)?;
        let rev = Revision::new(Kind::Kev, "kev".into(), k.version.clone(), String::new(), bytes.to_vec());
        return Ok(Document::Kev(k, rev));
    }
    if head.starts_with("#model_version") || head.starts_with("cve,epss") {
        let e = Epss::parse_csv(bytes)?;
        let released = e.version.split("score_date:").nth(1).unwrap_or("").trim().to_owned();
        let rev = Revision::new(Kind::Epss, "epss".into(), e.version.clone(), released, bytes.to_vec());
        return Ok(Document::Epss(e, rev));
    }
    Err(ParseError::Unsupported("not JSON, a KEV CSV or an EPSS CSV".into()))
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// NVD records, each stored on its own so that a later record of one CVE replaces it.
fn nvd_records(value: &serde_json::Value) -> Result<Document, ParseError> {
    let items: Vec<&serde_json::Value> = match value.get("vulnerabilities").and_then(|v| v.as_array()) {
        Some(list) => list.iter().filter_map(|i| i.get("cve")).collect(),
        None => vec![value.get("cve").unwrap_or(value)],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let body = serde_json::to_vec(item).map_err(|e| ParseError::Json(e.to_string()))?;
        for a in nvd::parse(&body)? {
            let rev =
                Revision::new(Kind::Nvd, a.id.clone(), a.version.clone(), a.released.clone(), body.clone());
            out.push((a, rev));
        }
    }
    Ok(Document::Advisories(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_order_by_date_then_version() {
        assert_eq!(later("2024-01-02", "1", "2024-01-01", "2"), Ordering::Greater);
        assert_eq!(later("", "10", "", "9"), Ordering::Greater);
        let r = Revision::new(Kind::Csaf, "A".into(), "2".into(), "2024-01-01".into(), b"x".to_vec());
        assert!(r.replaces("1", "2023-01-01", "h"));
        assert!(!r.replaces("3", "2025-01-01", "h"));
        assert!(r.replaces("2", "2024-01-01", "other"));
        assert!(!r.replaces("2", "2024-01-01", &r.sha256.clone()));
        let kev = Revision::new(Kind::Kev, "kev".into(), "2025.08.25".into(), String::new(), b"csv".to_vec());
        assert!(!kev.replaces("2025.08.25", "", "json"), "the other form of the same catalogue");
        assert!(kev.replaces("2025.08.24", "", "json"));
    }

    #[test]
    fn recognises_kinds() {
        assert!(matches!(read(b"cveID,x\nCVE-1,y\n"), Ok(Document::Kev(..))));
        assert!(matches!(read(b"cve,epss,percentile\nCVE-1,0.1,0.2\n"), Ok(Document::Epss(..))));
        assert!(matches!(read(b"{\"a\": 1}"), Err(ParseError::Unsupported(_))));
        assert!(matches!(read(b"<html>"), Err(ParseError::Unsupported(_))));
        assert!(matches!(read(b"{\"a\": "), Err(ParseError::Json(_))));
    }
}
