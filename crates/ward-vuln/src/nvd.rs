//! NVD CVE records in the CVE JSON 2.0 API form, read into [`Advisory`]s (one per CVE).
//!
//! Accepted: one CVE object (`{"id": "CVE-...", "configurations": ...}`), one API item
//! (`{"cve": {...}}`) or an API response or feed file (`{"vulnerabilities": [{"cve": ...}]}`).
//! The configurations' CPE matches become products whose versions come from the match's
//! `versionStart*`/`versionEnd*` or the CPE's own version.

use serde::Deserialize;

use crate::advisory::{Advisory, Configuration, Node, Product, Source, Vulnerability};
use crate::cpe::Cpe;
use crate::version::VersionRange;
use crate::{ParseError, short};

/// Most CVE records read from one file.
const MAX_RECORDS: usize = 1_000_000;

#[derive(Deserialize)]
struct Feed {
    vulnerabilities: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    cve: Cve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cve {
    id: String,
    #[serde(default)]
    last_modified: String,
    #[serde(default)]
    vuln_status: String,
    #[serde(default)]
    descriptions: Vec<Description>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    configurations: Vec<Config>,
}

#[derive(Deserialize)]
struct Description {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    #[serde(default)]
    cvss_metric_v40: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v31: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v30: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    #[serde(default, rename = "type")]
    kind: String,
    cvss_data: CvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    base_score: f32,
}

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    nodes: Vec<NodeJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeJson {
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    cpe_match: Vec<CpeMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CpeMatch {
    vulnerable: bool,
    criteria: String,
    #[serde(default)]
    version_start_including: Option<String>,
    #[serde(default)]
    version_start_excluding: Option<String>,
    #[serde(default)]
    version_end_including: Option<String>,
    #[serde(default)]
    version_end_excluding: Option<String>,
}

/// Reads NVD CVE JSON 2.0 (one record, an item, or a list).
pub fn parse(bytes: &[u8]) -> Result<Vec<Advisory>, ParseError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    let records: Vec<Cve> = if value.get("vulnerabilities").is_some() {
        let feed: Feed = serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
        feed.vulnerabilities.into_iter().map(|i| i.cve).collect()
    } else if value.get("cve").is_some() {
        let item: Item = serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
        vec![item.cve]
    } else {
        vec![serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?]
    };
    if records.len() > MAX_RECORDS {
        return Err(ParseError::Invalid(format!("more than {MAX_RECORDS} CVE records")));
    }
    records.into_iter().map(advisory).collect()
}

fn metric(list: &[Metric]) -> Option<f32> {
    // NVD's own ("Primary") score first, else the first given.
    list.iter()
        .find(|m| m.kind == "Primary")
        .or_else(|| list.first())
        .map(|m| m.cvss_data.base_score)
        .filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
}

fn advisory(cve: Cve) -> Result<Advisory, ParseError> {
    if !cve.id.starts_with("CVE-") {
        return Err(ParseError::Invalid(format!("{:?} is not a CVE id", short(&cve.id, 40))));
    }
    let mut products = Vec::new();
    let mut configurations = Vec::new();
    for c in &cve.configurations {
        let mut nodes = Vec::new();
        for n in &c.nodes {
            let mut matches = Vec::new();
            for m in &n.cpe_match {
                let cpe = Cpe::parse(&m.criteria).map_err(|e| ParseError::Invalid(e.to_string()))?;
                let versions = range(m, &cpe);
                products.push(Product {
                    product_id: String::new(),
                    vendor: cpe.vendor.clone(),
                    name: cpe.product.replace('_', " "),
                    full_name: m.criteria.clone(),
                    versions,
                    model_numbers: Vec::new(),
                    cpe: Some(cpe),
                });
                matches.push((products.len() - 1, m.vulnerable));
            }
            nodes.push(Node { and: is_and(n.operator.as_deref()), negate: n.negate, matches });
        }
        configurations.push(Configuration { and: is_and(c.operator.as_deref()), nodes });
    }
    let affected = configurations
        .iter()
        .flat_map(|c| &c.nodes)
        .flat_map(|n| &n.matches)
        .filter(|m| m.1)
        .map(|m| m.0)
        .collect();
    let description = cve
        .descriptions
        .iter()
        .find(|d| d.lang == "en")
        .or_else(|| cve.descriptions.first())
        .map(|d| d.value.as_str())
        .unwrap_or("");
    let cvss_v3 = metric(&cve.metrics.cvss_metric_v31).or_else(|| metric(&cve.metrics.cvss_metric_v30));
    let cvss_v4 = metric(&cve.metrics.cvss_metric_v40);
    let rejected = cve.vuln_status == "Rejected";
    Ok(Advisory {
        source: Source::Nvd,
        id: cve.id.clone(),
        version: cve.last_modified.clone(),
        released: cve.last_modified.clone(),
        title: short(description, 300),
        products,
        vulnerabilities: vec![Vulnerability {
            cve: cve.id,
            title: short(description, 200),
            cvss_v3,
            cvss_v4,
            // A rejected CVE names no vulnerable products.
            affected: if rejected { Vec::new() } else { affected },
            configurations: if rejected { Vec::new() } else { configurations },
            ..Vulnerability::default()
        }],
    })
}

fn is_and(op: Option<&str>) -> bool {
    op.is_some_and(|o| o.eq_ignore_ascii_case("and"))
}

fn range(m: &CpeMatch, cpe: &Cpe) -> VersionRange {
    let mut parts = Vec::new();
    if let Some(v) = &m.version_start_including {
        parts.push(format!(">={v}"));
    }
    if let Some(v) = &m.version_start_excluding {
        parts.push(format!(">{v}"));
    }
    if let Some(v) = &m.version_end_including {
        parts.push(format!("<={v}"));
    }
    if let Some(v) = &m.version_end_excluding {
        parts.push(format!("<{v}"));
    }
    if parts.is_empty() {
        return match &cpe.version {
            None => VersionRange::All,
            Some(v) => VersionRange::parse(&format!("vers:generic/{v}")),
        };
    }
    VersionRange::parse(&format!("vers:generic/{}", parts.join("|")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::{InRange, Version};

    const ONE: &str = r#"{"id": "CVE-2020-25165", "lastModified": "2024-11-21T05:17:31.443",
      "descriptions": [{"lang": "en", "value": "BD Alaris PC Unit"}],
      "metrics": {"cvssMetricV31": [{"type": "Primary", "cvssData": {"baseScore": 7.5}}]},
      "configurations": [{"operator": "AND", "nodes": [
        {"operator": "OR", "cpeMatch": [{"vulnerable": true, "criteria": "cpe:2.3:o:bd:alaris_8015_pcu_firmware:*:*:*:*:*:*:*:*", "versionEndIncluding": "9.33.1"}]},
        {"operator": "OR", "cpeMatch": [{"vulnerable": false, "criteria": "cpe:2.3:h:bd:alaris_8015_pcu:-:*:*:*:*:*:*:*"}]}]}]}"#;

    #[test]
    fn reads_configurations() {
        let a = parse(ONE.as_bytes()).expect("parses");
        assert_eq!(a.len(), 1);
        let v = &a[0].vulnerabilities[0];
        assert_eq!(v.cvss_v3, Some(7.5));
        assert_eq!(v.affected, vec![0]);
        assert!(v.configurations[0].and);
        let p = &a[0].products[0];
        assert_eq!(p.versions.contains(Version::parse("9.33.1").as_ref()), InRange::Yes);
        assert_eq!(p.versions.contains(Version::parse("9.33.2").as_ref()), InRange::No);
        let wrapped = format!(r#"{{"vulnerabilities": [{{"cve": {ONE}}}]}}"#);
        assert_eq!(parse(wrapped.as_bytes()).expect("parses").len(), 1);
        assert!(parse(br#"{"id": "X"}"#).is_err());
    }
}
