//! Vendor names as advisories, NVD's CPEs and Ward's classification rules write them, reduced
//! to one id per manufacturer.
//!
//! The same maker is spelt many ways (`Philips`, `Phillips`, `Koninklijke Philips N.V.`),
//! and advisories keep the name a product was sold under after the maker was bought
//! (`CareFusion` and `Bard` are BD; `Hillrom` and `Welch Allyn` are Baxter; `St. Jude
//! Medical` is Abbott; `Smiths Medical` is ICU Medical). A device and an advisory match on
//! vendor when they share an id. A name that the table does not know is its own id (its
//! words, lowercased, without legal suffixes), so an unknown vendor still matches itself.

/// Canonical ids and the names (normalised: lowercase words) that mean them. Acquisitions
/// map the bought company to its owner, since devices and advisories use both.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "philips",
        &[
            "philips",
            "phillips",
            "koninklijke philips",
            "philips healthcare",
            "philips medical systems",
            "philips respironics",
            "respironics",
            "capsule technologies",
            "capsule",
            "qualcomm life",
        ],
    ),
    (
        "bd",
        &[
            "bd",
            "becton dickinson",
            "becton dickinson and company",
            "becton dickinson and company bd",
            "becton dickinson bd",
            "carefusion",
            "bard",
            "c r bard",
            "bd alaris",
            "alaris",
            "pyxis",
            "bd pyxis",
        ],
    ),
    (
        "ge",
        &[
            "ge",
            "ge healthcare",
            "general electric",
            "general electric ge",
            "ge medical systems",
            "gehc",
            "datex ohmeda",
        ],
    ),
    (
        "baxter",
        &[
            "baxter",
            "baxter international",
            "baxter healthcare",
            "hillrom",
            "hill rom",
            "welch allyn",
            "eli",
            "mortara",
        ],
    ),
    ("abbott", &["abbott", "abbott laboratories", "st jude medical", "st jude", "saint jude medical"]),
    ("icu medical", &["icu medical", "smiths medical", "smiths group"]),
    ("medtronic", &["medtronic", "covidien", "medtronic minimed", "minimed"]),
    ("b braun", &["b braun", "b braun medical", "b braun melsungen", "braun"]),
    ("draeger", &["draeger", "drager", "draegerwerk", "dragerwerk"]),
    ("siemens", &["siemens", "siemens healthineers", "siemens healthcare", "siemens medical solutions"]),
    ("fujifilm", &["fujifilm", "fuji", "fujifilm sonosite", "fujifilm medical systems"]),
    ("natus", &["natus", "natus medical", "natus medical natus"]),
    ("roche", &["roche", "roche diagnostics", "hoffmann la roche"]),
    ("zoll", &["zoll", "zoll medical"]),
    ("vyaire", &["vyaire", "vyaire medical"]),
    ("spacelabs", &["spacelabs", "spacelabs healthcare", "osi systems"]),
    ("change healthcare", &["change healthcare", "mckesson"]),
    ("bmc medical", &["bmc medical", "bmc", "3b medical"]),
    ("hamilton medical", &["hamilton medical", "hamilton"]),
    ("fresenius kabi", &["fresenius kabi", "fresenius"]),
    ("johnson johnson", &["johnson johnson", "j j", "animas"]),
    ("contec", &["contec", "contec health", "contec medical"]),
    ("sooil", &["sooil", "sooil developments"]),
    ("innokas", &["innokas", "innokas yhtyma"]),
    ("swisslog", &["swisslog", "swisslog healthcare"]),
    ("beaconmedaes", &["beaconmedaes", "beacon medaes"]),
    ("orthanc", &["orthanc", "osimis"]),
    ("offis", &["offis", "dcmtk"]),
];

/// Words that say what kind of company a name is, not which.
const LEGAL: &[&str] = &[
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "ag",
    "oy",
    "llc",
    "plc",
    "sa",
    "nv",
    "bv",
    "kg",
    "kgaa",
    "se",
    "the",
    "group",
];

/// Lowercase words of a name: letters folded to ASCII where simple, everything else a
/// separator, legal suffixes dropped.
pub fn words(name: &str) -> Vec<String> {
    let mut folded = String::with_capacity(name.len());
    for c in name.chars().take(256) {
        let c = match c {
            'ä' | 'Ä' | 'à' | 'á' | 'â' | 'å' | 'Ã' | 'ã' => 'a',
            'ö' | 'Ö' | 'ó' | 'ò' | 'ô' | 'ø' => 'o',
            'ü' | 'Ü' | 'ú' | 'ù' | 'û' => 'u',
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            folded.push(c.to_ascii_lowercase());
        } else {
            folded.push(' ');
        }
    }
    folded.split_whitespace().filter(|w| !LEGAL.contains(w)).map(str::to_owned).collect()
}

fn lookup(key: &str) -> Option<&'static str> {
    ALIASES.iter().find(|(_, names)| names.contains(&key)).map(|(id, _)| *id)
}

/// The vendor ids a name stands for: usually one; several for a name that lists makers
/// (`Hillrom and ELI, Baxter International Inc.`, `Silex Technology and GE Healthcare`).
pub fn vendor_ids(name: &str) -> Vec<String> {
    if let Some(id) = known(name) {
        return vec![id.to_owned()];
    }
    // A list of makers, cut on commas, `and`, `&` and `/`.
    let normalised = name.replace(" and ", ",").replace(['&', '/'], ",");
    let mut ids: Vec<String> = Vec::new();
    for part in normalised.split(',') {
        let w = words(part);
        if w.is_empty() {
            continue;
        }
        let id = known(part).map_or_else(|| w.join(" "), str::to_owned);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The table's id for a maker's name: the whole name, else the longest leading run of its
/// words the table knows (`BD Alaris Systems` is BD).
fn known(name: &str) -> Option<&'static str> {
    let w = words(name);
    (1..=w.len()).rev().find_map(|n| lookup(&w[..n].join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_and_acquisitions_meet() {
        assert_eq!(vendor_ids("Phillips"), vec!["philips"]);
        assert_eq!(vendor_ids("Philips"), vec!["philips"]);
        assert_eq!(vendor_ids("Becton, Dickinson and Company (BD)"), vec!["bd"]);
        assert_eq!(vendor_ids("CareFusion"), vec!["bd"]);
        assert_eq!(vendor_ids("BD Alaris"), vec!["bd"]);
        assert_eq!(vendor_ids("General Electric (GE)"), vec!["ge"]);
        assert_eq!(vendor_ids("GE HealthCare"), vec!["ge"]);
        assert_eq!(vendor_ids("Dräger"), vec!["draeger"]);
        assert_eq!(vendor_ids("Draeger"), vec!["draeger"]);
        assert_eq!(vendor_ids("St. Jude Medical"), vec!["abbott"]);
        assert_eq!(vendor_ids("Medtronic "), vec!["medtronic"]);
        assert_eq!(vendor_ids("B. Braun Melsungen AG"), vec!["b braun"]);
        assert_eq!(vendor_ids("Hillrom and ELI, Baxter International Inc."), vec!["baxter"]);
        assert_eq!(vendor_ids("Silex Technology and GE Healthcare"), vec!["silex technology", "ge"]);
        assert_eq!(vendor_ids("Unknown Maker GmbH"), vec!["unknown maker"]);
        assert!(vendor_ids(" ,. ").is_empty());
    }
}
