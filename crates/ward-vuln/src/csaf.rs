//! CSAF 2.0 documents (OASIS CSAF 2.0; CISA's ICS Medical Advisories are published in it),
//! read into an [`Advisory`].
//!
//! Only what matching and reporting use is modelled; other fields are ignored, so that a
//! document with extensions still reads. The product tree is walked branch by branch:
//! `vendor`, then `product_family`/`product_name` (joined into the product's name), then
//! `product_version` or `product_version_range` (the versions). Products given only as
//! `full_product_names` or through `relationships` are read with their name and
//! `product_identification_helper`.

use std::collections::HashMap;

use serde::Deserialize;

use crate::advisory::{Advisory, Product, Remediation, Source, Vulnerability};
use crate::cpe::Cpe;
use crate::version::VersionRange;
use crate::{ParseError, short};

/// Deepest branch nesting followed (the schema sets no limit; real trees have 3 or 4).
const MAX_DEPTH: usize = 32;
/// Most products read from one document.
const MAX_PRODUCTS: usize = 100_000;

#[derive(Deserialize)]
struct Doc {
    document: Meta,
    #[serde(default)]
    product_tree: Option<Tree>,
    #[serde(default)]
    vulnerabilities: Vec<Vuln>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    category: String,
    csaf_version: String,
    #[serde(default)]
    title: String,
    tracking: Tracking,
}

#[derive(Deserialize)]
struct Tracking {
    id: String,
    version: String,
    #[serde(default)]
    current_release_date: String,
}

#[derive(Deserialize, Default)]
struct Tree {
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    full_product_names: Vec<FullName>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    product_groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(default)]
    category: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    product: Option<FullName>,
}

#[derive(Deserialize)]
struct FullName {
    #[serde(default)]
    name: String,
    product_id: String,
    #[serde(default)]
    product_identification_helper: Option<Helper>,
}

#[derive(Deserialize, Default)]
struct Helper {
    #[serde(default)]
    cpe: Option<String>,
    #[serde(default)]
    model_numbers: Vec<String>,
    #[serde(default)]
    skus: Vec<String>,
}

#[derive(Deserialize)]
struct Relationship {
    #[serde(default)]
    product_reference: String,
    #[serde(default)]
    relates_to_product_reference: String,
    full_product_name: FullName,
}

#[derive(Deserialize)]
struct Group {
    group_id: String,
    #[serde(default)]
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Vuln {
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    product_status: Status,
    #[serde(default)]
    scores: Vec<Score>,
    #[serde(default)]
    remediations: Vec<Remed>,
    #[serde(default)]
    notes: Vec<Note>,
}

#[derive(Deserialize, Default)]
struct Status {
    #[serde(default)]
    known_affected: Vec<String>,
    #[serde(default)]
    first_affected: Vec<String>,
    #[serde(default)]
    last_affected: Vec<String>,
    #[serde(default)]
    known_not_affected: Vec<String>,
    #[serde(default)]
    fixed: Vec<String>,
    #[serde(default)]
    first_fixed: Vec<String>,
    #[serde(default)]
    under_investigation: Vec<String>,
}

#[derive(Deserialize)]
struct Score {
    #[serde(default)]
    products: Vec<String>,
    #[serde(default)]
    cvss_v3: Option<Cvss>,
    // CSAF 2.1's; tolerated in 2.0 documents that carry it early.
    #[serde(default)]
    cvss_v4: Option<Cvss>,
}

#[derive(Deserialize)]
struct Cvss {
    #[serde(rename = "baseScore")]
    base_score: f32,
}

#[derive(Deserialize)]
struct Remed {
    #[serde(default)]
    category: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Note {
    #[serde(default)]
    category: String,
    #[serde(default)]
    text: String,
}

/// Reads a CSAF 2.0 document.
pub fn parse(bytes: &[u8]) -> Result<Advisory, ParseError> {
    let doc: Doc = serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    if doc.document.csaf_version != "2.0" && doc.document.csaf_version != "2.1" {
        return Err(ParseError::Unsupported(format!(
            "CSAF version {:?}",
            short(&doc.document.csaf_version, 16)
        )));
    }
    if doc.document.tracking.id.trim().is_empty() {
        return Err(ParseError::Invalid("document.tracking.id is empty".into()));
    }
    let mut products = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let tree = doc.product_tree.unwrap_or_default();
    for b in &tree.branches {
        walk(b, &mut Path::default(), 0, &mut products, &mut index)?;
    }
    for f in &tree.full_product_names {
        add(&mut products, &mut index, "", f.name.as_str(), VersionRange::All, f)?;
    }
    for r in &tree.relationships {
        // A component installed on a platform: the product is the component's, with the
        // versions it had; matching sees the component.
        let base = index.get(&r.product_reference).map(|&i| products[i].clone());
        let f = &r.full_product_name;
        match base {
            Some(mut p) => {
                p.product_id = f.product_id.clone();
                p.full_name = f.name.clone();
                if let Some(i) = index.get(&f.product_id) {
                    products[*i] = p;
                } else {
                    index.insert(f.product_id.clone(), products.len());
                    products.push(p);
                }
            }
            None => {
                let _ = &r.relates_to_product_reference;
                add(&mut products, &mut index, "", f.name.as_str(), VersionRange::All, f)?;
            }
        }
    }
    let groups: HashMap<&str, &[String]> =
        tree.product_groups.iter().map(|g| (g.group_id.as_str(), g.product_ids.as_slice())).collect();
    let ids = |list: &[String]| -> Vec<usize> {
        let mut out: Vec<usize> = list.iter().filter_map(|id| index.get(id).copied()).collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let mut vulnerabilities = Vec::new();
    for (n, v) in doc.vulnerabilities.iter().enumerate() {
        let s = &v.product_status;
        let affected = ids(&[s.known_affected.as_slice(), &s.first_affected, &s.last_affected].concat());
        let mut cvss_v3 = None;
        let mut cvss_v4 = None;
        for score in &v.scores {
            let _ = &score.products;
            if let Some(c) = &score.cvss_v3 {
                cvss_v3 = max_score(cvss_v3, c.base_score);
            }
            if let Some(c) = &score.cvss_v4 {
                cvss_v4 = max_score(cvss_v4, c.base_score);
            }
        }
        let remediations = v
            .remediations
            .iter()
            .map(|r| {
                let mut listed = r.product_ids.clone();
                for g in &r.group_ids {
                    listed.extend(groups.get(g.as_str()).copied().unwrap_or_default().iter().cloned());
                }
                Remediation {
                    category: r.category.clone(),
                    details: short(&r.details, 1000),
                    url: r.url.clone(),
                    products: ids(&listed),
                }
            })
            .collect();
        let title = v
            .title
            .clone()
            .or_else(|| v.notes.iter().find(|n| n.category == "summary").map(|n| n.text.clone()))
            .unwrap_or_default();
        vulnerabilities.push(Vulnerability {
            cve: v.cve.clone().unwrap_or_else(|| format!("{}#{}", doc.document.tracking.id, n + 1)),
            title: short(title.lines().next().unwrap_or(""), 200),
            cvss_v3,
            cvss_v4,
            affected,
            under_investigation: ids(&s.under_investigation),
            not_affected: ids(&s.known_not_affected),
            fixed: ids(&[s.fixed.as_slice(), &s.first_fixed].concat()),
            remediations,
            configurations: Vec::new(),
        });
    }
    let _ = &doc.document.category;
    Ok(Advisory {
        source: Source::Csaf,
        id: doc.document.tracking.id.trim().to_owned(),
        version: doc.document.tracking.version,
        released: doc.document.tracking.current_release_date,
        title: short(&doc.document.title, 300),
        products,
        vulnerabilities,
    })
}

fn max_score(old: Option<f32>, new: f32) -> Option<f32> {
    if !new.is_finite() || !(0.0..=10.0).contains(&new) {
        return old;
    }
    Some(old.map_or(new, |o| o.max(new)))
}

/// The names gathered on the way down the tree.
#[derive(Default, Clone)]
struct Path {
    vendor: String,
    names: Vec<String>,
    version: Option<String>,
}

fn walk(
    b: &Branch,
    path: &mut Path,
    depth: usize,
    products: &mut Vec<Product>,
    index: &mut HashMap<String, usize>,
) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::Invalid(format!("product tree deeper than {MAX_DEPTH} branches")));
    }
    let saved = path.clone();
    match b.category.as_str() {
        "vendor" => path.vendor = b.name.clone(),
        "product_version" | "product_version_range" => path.version = Some(b.name.clone()),
        // product_family, product_name, service_pack, architecture, language, ...: part of
        // what the product is called. CISA puts model variants here too.
        "architecture" | "language" | "legacy" | "patch_level" | "host_name" => {}
        _ => path.names.push(b.name.clone()),
    }
    if let Some(f) = &b.product {
        let versions = match &path.version {
            Some(v) => VersionRange::parse(v),
            None => VersionRange::All,
        };
        let name = path.names.join(" ");
        let vendor = path.vendor.clone();
        add(products, index, &vendor, &name, versions, f)?;
    }
    for child in &b.branches {
        walk(child, path, depth + 1, products, index)?;
    }
    *path = saved;
    Ok(())
}

fn add(
    products: &mut Vec<Product>,
    index: &mut HashMap<String, usize>,
    vendor: &str,
    name: &str,
    versions: VersionRange,
    f: &FullName,
) -> Result<(), ParseError> {
    if products.len() >= MAX_PRODUCTS {
        return Err(ParseError::Invalid(format!("more than {MAX_PRODUCTS} products")));
    }
    let helper = f.product_identification_helper.as_ref();
    let cpe = helper.and_then(|h| h.cpe.as_deref()).and_then(|c| Cpe::parse(c).ok());
    let mut model_numbers: Vec<String> = helper.map(|h| h.model_numbers.clone()).unwrap_or_default();
    model_numbers.extend(helper.map(|h| h.skus.clone()).unwrap_or_default());
    let vendor = if vendor.is_empty() {
        cpe.as_ref().map(|c| c.vendor.clone()).unwrap_or_default()
    } else {
        vendor.to_owned()
    };
    let name = if name.is_empty() { f.name.clone() } else { name.to_owned() };
    let p = Product {
        product_id: f.product_id.clone(),
        vendor,
        name,
        full_name: f.name.clone(),
        versions,
        model_numbers,
        cpe,
    };
    match index.get(&f.product_id) {
        // The same id twice: the first stands (the schema requires unique ids).
        Some(_) => {}
        None => {
            index.insert(f.product_id.clone(), products.len());
            products.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
      "document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "T",
        "tracking": {"id": "X-1", "version": "2", "current_release_date": "2024-01-01T00:00:00Z"}},
      "product_tree": {"branches": [{"category": "vendor", "name": "Phillips", "branches": [
        {"category": "product_family", "name": "IntelliVue", "branches": [
          {"category": "product_name", "name": "MX800", "branches": [
            {"category": "product_version_range", "name": "vers:generic/<J.10",
             "product": {"name": "MX800 < J.10", "product_id": "P1"}},
            {"category": "product_version", "name": "J.10",
             "product": {"name": "MX800 J.10", "product_id": "P2",
               "product_identification_helper": {"model_numbers": ["866064"]}}}]}]}]}],
        "product_groups": [{"group_id": "G", "product_ids": ["P1", "P2"]}]},
      "vulnerabilities": [{"cve": "CVE-2024-0001",
        "product_status": {"known_affected": ["P1"], "fixed": ["P2"], "known_not_affected": ["NOPE"]},
        "scores": [{"products": ["P1"], "cvss_v3": {"baseScore": 8.1, "version": "3.1", "vectorString": "x"}}],
        "remediations": [{"category": "vendor_fix", "details": "Update to J.10", "group_ids": ["G"]}]}]
    }"#;

    #[test]
    fn reads_products_statuses_and_remediations() {
        let a = parse(DOC.as_bytes()).expect("parses");
        assert_eq!((a.id.as_str(), a.version.as_str()), ("X-1", "2"));
        assert_eq!(a.products.len(), 2);
        assert_eq!(a.products[0].name, "IntelliVue MX800");
        assert_eq!(a.products[0].vendor, "Phillips");
        assert_eq!(a.products[1].model_numbers, vec!["866064"]);
        let v = &a.vulnerabilities[0];
        assert_eq!((v.affected.as_slice(), v.fixed.as_slice()), (&[0usize][..], &[1usize][..]));
        assert!(v.not_affected.is_empty(), "an unknown product id is dropped");
        assert_eq!(v.cvss_v3, Some(8.1));
        assert_eq!(v.remediations[0].products, vec![0, 1]);
    }

    #[test]
    fn refuses_what_is_not_csaf() {
        assert!(matches!(parse(b"{}"), Err(ParseError::Json(_))));
        let v15 = DOC.replace("\"2.0\"", "\"1.5\"");
        assert!(matches!(parse(v15.as_bytes()), Err(ParseError::Unsupported(_))));
        assert!(parse(b"\xff").is_err());
    }
}
