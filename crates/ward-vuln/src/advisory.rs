//! What Ward keeps of an advisory, whichever format it came in: the products it names (with
//! the versions concerned) and, per CVE, which products are affected, not affected or fixed,
//! scores and remediations. CSAF documents and NVD CVE records are both read into this.

use crate::cpe::Cpe;
use crate::version::VersionRange;

/// Where an advisory came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A CSAF 2.0 document (CISA ICSMA, a vendor's provider).
    Csaf,
    /// An NVD CVE record (JSON 2.0).
    Nvd,
}

impl Source {
    /// Its name in the store and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Csaf => "csaf",
            Source::Nvd => "nvd",
        }
    }
}

/// One advisory.
#[derive(Clone, Debug)]
pub struct Advisory {
    /// Its format.
    pub source: Source,
    /// Its id (`ICSMA-20-317-01`, `CVE-2020-25165`).
    pub id: String,
    /// Its revision as the document says it (`tracking.version`, NVD's `lastModified`).
    pub version: String,
    /// When this revision was released (RFC 3339 text; compared as text, which orders
    /// the ISO form correctly).
    pub released: String,
    /// Its title.
    pub title: String,
    /// Products it names, referred to by index from [`Vulnerability`].
    pub products: Vec<Product>,
    /// What it says per CVE.
    pub vulnerabilities: Vec<Vulnerability>,
}

/// A product with the versions one entry of an advisory names.
#[derive(Clone, Debug)]
pub struct Product {
    /// The document's id for it (`CSAFPID-0001`); empty for NVD.
    pub product_id: String,
    /// The vendor as written.
    pub vendor: String,
    /// The product family and name (the branches between vendor and version, joined).
    pub name: String,
    /// The full name the document gives (`Alaris PC Unit Model 8015: Versions 9.33.1 and
    /// earlier`).
    pub full_name: String,
    /// The versions.
    pub versions: VersionRange,
    /// Model numbers from `product_identification_helper`.
    pub model_numbers: Vec<String>,
    /// A CPE from `product_identification_helper`, or NVD's.
    pub cpe: Option<Cpe>,
}

/// A remediation for some products.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Remediation {
    /// `vendor_fix`, `mitigation`, `workaround`, `none_available`, `no_fix_planned`.
    pub category: String,
    /// What to do.
    pub details: String,
    /// Where to read more.
    pub url: Option<String>,
    /// The products it is for (indexes into [`Advisory::products`]).
    #[serde(skip)]
    pub products: Vec<usize>,
}

/// What an advisory says about one CVE.
#[derive(Clone, Debug, Default)]
pub struct Vulnerability {
    /// The CVE id, or the advisory's own id for a vulnerability without one.
    pub cve: String,
    /// Its title or summary (short).
    pub title: String,
    /// CVSS v3.x base score.
    pub cvss_v3: Option<f32>,
    /// CVSS v4.0 base score.
    pub cvss_v4: Option<f32>,
    /// Products affected (`known_affected`, `first_affected`, `last_affected`).
    pub affected: Vec<usize>,
    /// Products under investigation: reported as "unknown" when a device matches.
    pub under_investigation: Vec<usize>,
    /// Products not affected (VEX `known_not_affected`): suppresses a finding.
    pub not_affected: Vec<usize>,
    /// Products fixed (`fixed`, `first_fixed`): suppresses a finding, and names the fixed
    /// version of the same product.
    pub fixed: Vec<usize>,
    /// Remediations.
    pub remediations: Vec<Remediation>,
    /// NVD's applicability statements.
    pub configurations: Vec<Configuration>,
}

/// An NVD configuration: its nodes joined by `operator`.
#[derive(Clone, Debug)]
pub struct Configuration {
    /// Whether every node must match (`AND`) or one (`OR`).
    pub and: bool,
    /// The nodes.
    pub nodes: Vec<Node>,
}

/// An NVD configuration node: CPE matches joined by `operator`, perhaps negated.
#[derive(Clone, Debug)]
pub struct Node {
    /// `AND` rather than `OR`.
    pub and: bool,
    /// Negated.
    pub negate: bool,
    /// The CPE matches (each a product of [`Advisory::products`], by index) and whether
    /// that product is the vulnerable one or only the platform it runs on.
    pub matches: Vec<(usize, bool)>,
}
