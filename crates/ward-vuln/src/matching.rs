//! Devices against advisories.
//!
//! A device is known by what classification resolved: vendor, model and firmware. An
//! advisory's product is known by vendor, name and versions (CSAF's product tree, or an NVD
//! CPE). Matching goes in three steps:
//!
//! 1. **Vendor**: both sides reduced to vendor ids ([`crate::vendor`]); only products of the
//!    device's vendors are looked at (an index by vendor id).
//! 2. **Product**: the device's model and the product's name are cut into words, without the
//!    vendor's words and words that name no product (`model`, `firmware`, `version`, ...).
//!    They match when one's words are all among the other's (`8015` in `Alaris PC Unit
//!    Model 8015`; `IntelliVue` in `IntelliVue MX800`), or when they share every word that
//!    holds a digit and at least one other word (`Alaris 8015 PC Unit` and NVD's
//!    `alaris_8015_pcu`), or when the model is one of the product's model numbers. The result
//!    is remembered per (vendor, model): a hospital has many devices of few models.
//! 3. **Version**: the device's firmware against the product's range: in it, not in it, or
//!    unknown (no firmware known, or a range Ward cannot read). NVD configurations combine
//!    their CPE matches with AND/OR in three-valued logic.
//!
//! Per device and CVE, every source's verdict is merged into one [`VulnFinding`]: a VEX
//! statement that the device's product and version is `known_not_affected` or `fixed`
//! suppresses it; otherwise "affected" wins over "unknown version". A device that matches a
//! product whose version cannot be compared is reported as unknown, never dropped.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::advisory::{Advisory, Configuration, Product, Source};
use crate::exploited::{Epss, Kev};
use crate::vendor::{vendor_ids, words};
use crate::version::{Constraint, InRange, Version, VersionRange};

/// Words that say what kind of thing a name is, not which product.
const GENERIC: &[&str] = &[
    "model",
    "models",
    "version",
    "versions",
    "firmware",
    "software",
    "hardware",
    "all",
    "and",
    "or",
    "the",
    "of",
    "for",
    "with",
    "series",
    "family",
    "product",
    "products",
    "device",
    "devices",
    "v",
    "fw",
    "sw",
    "prior",
    "to",
    "earlier",
    "later",
    "below",
    "including",
    "includes",
    "running",
    "on",
    "in",
    "x",
];

/// What Ward knows of a device for matching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceProfile {
    /// The device's id in the inventory.
    pub id: i64,
    /// Its vendor, if classified.
    pub vendor: Option<String>,
    /// Its model, if classified.
    pub model: Option<String>,
    /// Its firmware or software version, if known.
    pub firmware: Option<String>,
}

/// Whether a finding is certain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The device's product is named and Ward cannot tell whether its version is affected
    /// (no firmware known, or the advisory's versions cannot be compared).
    UnknownVersion,
    /// The device's product and version are affected.
    Affected,
}

impl Standing {
    /// Its name in reports and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Affected => "affected",
            Standing::UnknownVersion => "unknown_version",
        }
    }
}

/// One vulnerability of one device, merged over every source that names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VulnFinding {
    /// The device.
    pub device: i64,
    /// The CVE.
    pub cve: String,
    /// Affected, or version unknown.
    pub standing: Standing,
    /// Why unknown, or which version and range made it affected.
    pub reason: String,
    /// The advisories that name it (`ICSMA-20-317-01`, `NVD:CVE-2020-25165`).
    pub advisories: Vec<String>,
    /// The product as the advisory names it.
    pub product: String,
    /// The device's firmware.
    pub firmware: Option<String>,
    /// A short title.
    pub title: String,
    /// CVSS v3.x base score (the highest any source gives).
    pub cvss_v3: Option<f32>,
    /// CVSS v4.0 base score.
    pub cvss_v4: Option<f32>,
    /// In CISA's Known Exploited Vulnerabilities catalogue.
    pub kev: bool,
    /// EPSS probability of exploitation in 30 days.
    pub epss: Option<f32>,
    /// The version that fixes it, when an advisory names one.
    pub fixed_version: Option<String>,
    /// The device's firmware is below the fixed version: updating fixes it.
    pub patch_available: bool,
    /// What the vendor says to do.
    pub remediation: Option<String>,
}

impl VulnFinding {
    /// The base score the report ranks by: v4.0 when given, else v3.x.
    pub fn base_score(&self) -> Option<f32> {
        self.cvss_v4.or(self.cvss_v3)
    }
}

/// Words of a product or model name that identify it.
fn name_words(name: &str, vendor_words: &[String]) -> Vec<String> {
    let mut w: Vec<String> = words(name)
        .into_iter()
        .filter(|w| !GENERIC.contains(&w.as_str()) && !vendor_words.contains(w))
        .collect();
    w.sort();
    w.dedup();
    w
}

fn subset(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.binary_search(x).is_ok())
}

/// Whether a device model's words and a product name's words name the same product.
fn same_product(model: &[String], product: &[String]) -> bool {
    if model.is_empty() || product.is_empty() {
        return false;
    }
    if subset(model, product) || subset(product, model) {
        return true;
    }
    let ids = |w: &[String]| -> Vec<String> {
        w.iter().filter(|x| x.bytes().any(|b| b.is_ascii_digit())).cloned().collect()
    };
    let (im, ip) = (ids(model), ids(product));
    !im.is_empty() && im == ip && model.iter().any(|x| !im.contains(x) && product.binary_search(x).is_ok())
}

/// A product prepared for matching.
#[derive(Debug)]
struct Entry {
    advisory: u32,
    product: u32,
    words: Vec<String>,
    model_numbers: Vec<String>,
}

/// Advisories, KEV and EPSS, indexed for matching.
#[derive(Debug, Default)]
pub struct Catalog {
    advisories: Vec<Advisory>,
    kev: Kev,
    epss: Epss,
    by_vendor: HashMap<String, Vec<Entry>>,
}

/// How many of what a catalogue holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CatalogCounts {
    /// CSAF advisories.
    pub csaf: usize,
    /// NVD CVE records.
    pub nvd: usize,
    /// Products named.
    pub products: usize,
    /// Distinct CVEs.
    pub cves: usize,
    /// KEV entries.
    pub kev: usize,
    /// EPSS scores.
    pub epss: usize,
}

impl Catalog {
    /// Indexes advisories (the latest revision of each), KEV and EPSS.
    pub fn new(advisories: Vec<Advisory>, kev: Kev, epss: Epss) -> Catalog {
        let mut by_vendor: HashMap<String, Vec<Entry>> = HashMap::new();
        for (ai, a) in advisories.iter().enumerate() {
            for (pi, p) in a.products.iter().enumerate() {
                let vendors = vendor_ids(&p.vendor);
                let vwords: Vec<String> =
                    vendors.iter().flat_map(|v| words(v)).chain(words(&p.vendor)).collect();
                let mut name_w = name_words(&p.name, &vwords);
                if name_w.is_empty() {
                    name_w = name_words(&p.full_name, &vwords);
                }
                for v in vendors {
                    by_vendor.entry(v).or_default().push(Entry {
                        advisory: ai as u32,
                        product: pi as u32,
                        words: name_w.clone(),
                        model_numbers: p.model_numbers.iter().map(|m| words(m).join(" ")).collect(),
                    });
                }
            }
        }
        Catalog { advisories, kev, epss, by_vendor }
    }

    /// The advisories.
    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    /// The KEV catalogue.
    pub fn kev(&self) -> &Kev {
        &self.kev
    }

    /// How many of what it holds.
    pub fn counts(&self) -> CatalogCounts {
        let mut cves: Vec<&str> =
            self.advisories.iter().flat_map(|a| a.vulnerabilities.iter().map(|v| v.cve.as_str())).collect();
        cves.sort_unstable();
        cves.dedup();
        CatalogCounts {
            csaf: self.advisories.iter().filter(|a| a.source == Source::Csaf).count(),
            nvd: self.advisories.iter().filter(|a| a.source == Source::Nvd).count(),
            products: self.advisories.iter().map(|a| a.products.len()).sum(),
            cves: cves.len(),
            kev: self.kev.entries.len(),
            epss: self.epss.scores.len(),
        }
    }

    /// Products whose vendor and name match a device's (step 1 and 2), as (advisory,
    /// product) indexes.
    fn candidates(&self, vendor: &str, model: &str) -> Vec<(u32, u32)> {
        let vendors = vendor_ids(vendor);
        let vwords: Vec<String> = vendors.iter().flat_map(|v| words(v)).chain(words(vendor)).collect();
        let model_words = name_words(model, &vwords);
        let model_joined = words(model).join(" ");
        let mut out = Vec::new();
        for v in &vendors {
            for e in self.by_vendor.get(v).map(Vec::as_slice).unwrap_or_default() {
                if same_product(&model_words, &e.words) || e.model_numbers.contains(&model_joined) {
                    out.push((e.advisory, e.product));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Matches many devices, remembering the product step per (vendor, model).
    pub fn match_devices(&self, devices: &[DeviceProfile]) -> Matches {
        let mut memo: HashMap<(&str, &str), Vec<(u32, u32)>> = HashMap::new();
        let mut findings = Vec::new();
        let mut suppressed = 0;
        for d in devices {
            let (Some(vendor), Some(model)) = (d.vendor.as_deref(), d.model.as_deref()) else { continue };
            let cands = memo.entry((vendor, model)).or_insert_with(|| self.candidates(vendor, model));
            if cands.is_empty() {
                continue;
            }
            let (mut f, s) = self.evaluate(d, cands);
            suppressed += s;
            findings.append(&mut f);
        }
        Matches { findings, suppressed }
    }

    /// Steps 3 and the merge for one device.
    fn evaluate(&self, d: &DeviceProfile, cands: &[(u32, u32)]) -> (Vec<VulnFinding>, usize) {
        let firmware = d.firmware.as_deref().and_then(Version::parse);
        let mut per_cve: BTreeMap<&str, Acc> = BTreeMap::new();
        let mut i = 0;
        while i < cands.len() {
            let ai = cands[i].0;
            let mut j = i;
            while j < cands.len() && cands[j].0 == ai {
                j += 1;
            }
            let matched: Vec<usize> = cands[i..j].iter().map(|c| c.1 as usize).collect();
            i = j;
            let a = &self.advisories[ai as usize];
            let label = match a.source {
                Source::Csaf => a.id.clone(),
                Source::Nvd => format!("NVD:{}", a.id),
            };
            for v in &a.vulnerabilities {
                let acc = per_cve.entry(v.cve.as_str()).or_default();
                let standing_of = |p: usize| a.products[p].versions.contains(firmware.as_ref());
                // VEX: the device's product and version is said to be not affected or fixed.
                if v.not_affected
                    .iter()
                    .chain(&v.fixed)
                    .any(|p| matched.contains(p) && standing_of(*p) == InRange::Yes)
                {
                    acc.suppressed = true;
                }
                let (verdict, product, fixed) = if a.source == Source::Nvd && !v.configurations.is_empty() {
                    nvd_verdict(a, &v.configurations, &matched, firmware.as_ref())
                } else {
                    let mut best = (InRange::No, None, None);
                    for &p in v.affected.iter().chain(&v.under_investigation) {
                        if !matched.contains(&p) {
                            continue;
                        }
                        let mut s = standing_of(p);
                        if v.under_investigation.contains(&p) && s == InRange::Yes {
                            s = InRange::Unknown;
                        }
                        if rank(s) > rank(best.0) || best.1.is_none() && s != InRange::No {
                            best = (
                                s,
                                Some(p),
                                a.products[p].versions.fixed_in().map(|v| v.as_str().to_owned()),
                            );
                        }
                    }
                    // A fixed product of the same name gives the fixed version.
                    if let Some(p) = best.1 {
                        let name = &a.products[p].name;
                        for &f in &v.fixed {
                            if a.products[f].name == *name
                                && let Some(fv) = lowest_version(&a.products[f].versions)
                            {
                                best.2 = Some(fv);
                            }
                        }
                    }
                    best
                };
                let Some(p) = product else { continue };
                if verdict == InRange::No {
                    continue;
                }
                let standing =
                    if verdict == InRange::Yes { Standing::Affected } else { Standing::UnknownVersion };
                let prod = &a.products[p];
                let reason = match (standing, &prod.versions, firmware.as_ref()) {
                    (Standing::Affected, r, Some(fw)) => format!("{} is in {}", fw, describe(r)),
                    (Standing::Affected, r, None) => format!("every version is affected ({})", describe(r)),
                    (_, VersionRange::Unreadable(t), _) => {
                        format!("the advisory's versions cannot be compared: {t:?}")
                    }
                    (_, _, None) => {
                        // Every range the advisory gives this product, so a person can
                        // check the device by hand.
                        let mut ranges: Vec<String> = v
                            .affected
                            .iter()
                            .filter(|q| matched.contains(q) && a.products[**q].name == prod.name)
                            .map(|q| describe(&a.products[*q].versions))
                            .collect();
                        ranges.dedup();
                        format!("firmware unknown; affected: {}", ranges.join(" | "))
                    }
                    (_, _, Some(_)) => "the product is under investigation".to_owned(),
                };
                acc.add(standing, reason, label.clone(), (prod, p), v, fixed, a.source);
            }
        }
        let mut suppressed = 0;
        let mut out = Vec::new();
        for (cve, acc) in per_cve {
            let Some(standing) = acc.standing else { continue };
            if acc.suppressed {
                suppressed += 1;
                continue;
            }
            let fixed_version = acc.fixed;
            let patch_available = standing == Standing::Affected
                && match (&firmware, fixed_version.as_deref().and_then(Version::parse)) {
                    (Some(fw), Some(fix)) => *fw < fix,
                    _ => false,
                };
            out.push(VulnFinding {
                device: d.id,
                cve: cve.to_owned(),
                standing,
                reason: acc.reason,
                advisories: acc.advisories,
                product: acc.product,
                firmware: d.firmware.clone(),
                title: acc.title,
                cvss_v3: acc.cvss_v3,
                cvss_v4: acc.cvss_v4,
                kev: self.kev.entries.contains_key(cve),
                epss: self.epss.scores.get(cve).map(|s| s.0),
                fixed_version,
                patch_available,
                remediation: acc.remediation,
            });
        }
        (out, suppressed)
    }
}

/// What matching found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Matches {
    /// Findings, by device then CVE.
    pub findings: Vec<VulnFinding>,
    /// Device-CVE pairs suppressed by a VEX statement.
    pub suppressed: usize,
}

fn rank(s: InRange) -> u8 {
    match s {
        InRange::No => 0,
        InRange::Unknown => 1,
        InRange::Yes => 2,
    }
}

fn lowest_version(r: &VersionRange) -> Option<String> {
    let VersionRange::Set { any_of, .. } = r else { return None };
    any_of
        .iter()
        .filter_map(|c| match c {
            Constraint::Exact(v) | Constraint::Prefix(v) => Some(v),
            Constraint::Interval { lower: Some(b), .. } => Some(&b.version),
            Constraint::Interval { lower: None, .. } => None,
        })
        .min()
        .map(|v| v.as_str().to_owned())
}

fn describe(r: &VersionRange) -> String {
    match r {
        VersionRange::All => "all versions".into(),
        VersionRange::Unreadable(t) => t.clone(),
        VersionRange::Set { any_of, except } => {
            let mut parts: Vec<String> = any_of
                .iter()
                .map(|c| match c {
                    Constraint::Exact(v) => v.to_string(),
                    Constraint::Prefix(v) => format!("{v}.x"),
                    Constraint::Interval { lower, upper } => {
                        let lo = lower
                            .as_ref()
                            .map(|b| format!("{}{}", if b.inclusive { ">=" } else { ">" }, b.version));
                        let hi = upper
                            .as_ref()
                            .map(|b| format!("{}{}", if b.inclusive { "<=" } else { "<" }, b.version));
                        [lo, hi].into_iter().flatten().collect::<Vec<_>>().join(" ")
                    }
                })
                .collect();
            parts.extend(except.iter().map(|v| format!("!={v}")));
            parts.join(" | ")
        }
    }
}

/// NVD's configurations for one device: three-valued AND/OR over CPE matches. A match whose
/// product the device is not is "no"; a vulnerable match compares versions; a platform
/// match (not vulnerable) only needs the product.
fn nvd_verdict(
    a: &Advisory,
    configs: &[Configuration],
    matched: &[usize],
    firmware: Option<&Version>,
) -> (InRange, Option<usize>, Option<String>) {
    let mut best = (InRange::No, None, None);
    for c in configs {
        let mut vulnerable_product = None;
        let mut fixed = None;
        let nodes: Vec<InRange> = c
            .nodes
            .iter()
            .map(|n| {
                let each = n.matches.iter().map(|&(p, vulnerable)| {
                    if !matched.contains(&p) {
                        return InRange::No;
                    }
                    if !vulnerable {
                        return InRange::Yes;
                    }
                    let s = a.products[p].versions.contains(firmware);
                    if s != InRange::No && vulnerable_product.is_none() {
                        vulnerable_product = Some(p);
                        fixed = a.products[p].versions.fixed_in().map(|v| v.as_str().to_owned());
                    }
                    s
                });
                let v = if n.and { each.min_by_key(|s| rank(*s)) } else { each.max_by_key(|s| rank(*s)) };
                let v = v.unwrap_or(InRange::No);
                if n.negate {
                    match v {
                        InRange::Yes => InRange::No,
                        InRange::No => InRange::Yes,
                        InRange::Unknown => InRange::Unknown,
                    }
                } else {
                    v
                }
            })
            .collect();
        let v = if c.and {
            nodes.iter().copied().min_by_key(|s| rank(*s))
        } else {
            nodes.iter().copied().max_by_key(|s| rank(*s))
        };
        let v = v.unwrap_or(InRange::No);
        if vulnerable_product.is_some() && rank(v) > rank(best.0) {
            best = (v, vulnerable_product, fixed);
        }
    }
    best
}

/// One CVE for one device, being merged.
#[derive(Default)]
struct Acc {
    standing: Option<Standing>,
    suppressed: bool,
    reason: String,
    advisories: Vec<String>,
    product: String,
    title: String,
    cvss_v3: Option<f32>,
    cvss_v4: Option<f32>,
    fixed: Option<String>,
    remediation: Option<String>,
}

impl Acc {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        standing: Standing,
        reason: String,
        label: String,
        (product, index): (&Product, usize),
        v: &crate::advisory::Vulnerability,
        fixed: Option<String>,
        source: Source,
    ) {
        if self.standing.is_none_or(|s| standing > s) {
            self.standing = Some(standing);
            self.reason = reason;
        }
        if !self.advisories.contains(&label) {
            self.advisories.push(label);
            self.advisories.sort();
        }
        // The vendor's (CSAF) names and words first; NVD's where the vendor says nothing.
        if self.product.is_empty() || source == Source::Csaf {
            self.product =
                if product.full_name.is_empty() { product.name.clone() } else { product.full_name.clone() };
        }
        if self.title.is_empty() || (source == Source::Csaf && !v.title.is_empty()) {
            self.title = v.title.clone();
        }
        self.cvss_v3 = max(self.cvss_v3, v.cvss_v3);
        self.cvss_v4 = max(self.cvss_v4, v.cvss_v4);
        if self.fixed.is_none() {
            self.fixed = fixed;
        }
        if self.remediation.is_none() {
            let pick = |cat: &str| {
                v.remediations
                    .iter()
                    .find(|r| r.category == cat && (r.products.is_empty() || r.products.contains(&index)))
            };
            self.remediation = pick("vendor_fix")
                .or_else(|| pick("mitigation"))
                .or_else(|| pick("workaround"))
                .map(|r| match &r.url {
                    Some(u) => format!("{} ({u})", r.details),
                    None => r.details.clone(),
                });
        }
    }
}

fn max(a: Option<f32>, b: Option<f32>) -> Option<f32> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        name_words(s, &[])
    }

    #[test]
    fn product_names() {
        assert!(same_product(&w("8015"), &w("Alaris PC Unit Model 8015")));
        assert!(same_product(&w("Alaris 8015 PC Unit"), &w("alaris 8015 pcu firmware")));
        assert!(!same_product(&w("Alaris 8015 PC Unit"), &w("Alaris Systems Manager")));
        assert!(same_product(&w("IntelliVue MX800"), &w("IntelliVue")));
        assert!(!same_product(&w("IntelliVue MX800"), &w("IntelliVue MX450")));
        assert!(!same_product(&w(""), &w("IntelliVue")));
    }
}

#[cfg(test)]
mod vex_tests {
    use super::*;

    const AFFECTED: &str = r#"{"document": {"csaf_version": "2.0", "tracking": {"id": "A-1", "version": "1"}},
      "product_tree": {"branches": [{"category": "vendor", "name": "BD", "branches": [
        {"category": "product_name", "name": "Alaris Systems Manager", "branches": [
          {"category": "product_version_range", "name": "<= 4.33", "product": {"name": "SM", "product_id": "P"}}]}]}]},
      "vulnerabilities": [{"cve": "CVE-1", "product_status": {"known_affected": ["P"]}}]}"#;
    const VEX: &str = r#"{"document": {"csaf_version": "2.0", "tracking": {"id": "V-1", "version": "1"}},
      "product_tree": {"branches": [{"category": "vendor", "name": "Becton, Dickinson and Company (BD)", "branches": [
        {"category": "product_name", "name": "Alaris Systems Manager", "branches": [
          {"category": "product_version", "name": "4.33", "product": {"name": "SM 4.33", "product_id": "S"}}]}]}]},
      "vulnerabilities": [{"cve": "CVE-1", "product_status": {"known_not_affected": ["S"]}}]}"#;

    fn device(fw: &str) -> DeviceProfile {
        DeviceProfile {
            id: 1,
            vendor: Some("BD".into()),
            model: Some("Alaris Systems Manager".into()),
            firmware: Some(fw.into()),
        }
    }

    #[test]
    fn a_vex_statement_suppresses_another_sources_finding() {
        let a = crate::csaf::parse(AFFECTED.as_bytes()).expect("a");
        let v = crate::csaf::parse(VEX.as_bytes()).expect("v");
        let c = Catalog::new(vec![a, v], Kev::default(), Epss::default());
        let m = c.match_devices(&[device("4.33"), DeviceProfile { id: 2, ..device("4.20") }]);
        assert_eq!(m.suppressed, 1, "{m:?}");
        assert_eq!(m.findings.len(), 1);
        assert_eq!(m.findings[0].device, 2);
    }
}
