//! Tests of the rule loader, the builtin rules against devices Ward's own captures and
//! end-to-end tests show, and the classifier's guarantees (evidence, determinism, no panics).

use std::collections::HashSet;

use proptest::prelude::*;
use ward_core::{Fact, Timestamp};

use super::*;

fn fact(key: &str, value: &str, source: &str, confidence: u8) -> Fact {
    Fact {
        key: key.into(),
        value: value.into(),
        source: source.into(),
        confidence,
        first_seen: Timestamp::from_secs(100),
        last_seen: Timestamp::from_secs(200),
    }
}

/// The best derived value of a key, as `classify` orders them.
fn best<'a>(derived: &'a [Fact], key: &str) -> Option<&'a Fact> {
    derived.iter().find(|f| f.key == key)
}

fn best_value(derived: &[Fact], key: &str) -> Option<String> {
    best(derived, key).map(|f| f.value.clone())
}

fn rules_from(text: &str) -> Result<Rules, RuleError> {
    Rules::from_toml("test.toml", text)
}

#[test]
fn builtin_rules_load() {
    for (name, text) in BUILTIN {
        let rules = Rules::from_toml(name, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!rules.is_empty(), "{name} has no rules");
    }
    let rules = Rules::builtin();
    assert!(rules.len() >= 80, "only {} rules", rules.len());
    assert_eq!(
        rules.len(),
        BUILTIN.iter().map(|(n, t)| Rules::from_toml(n, t).map_or(0, |r| r.len())).sum::<usize>()
    );
}

#[test]
fn builtin_rule_files_are_the_rules_directory() {
    // Every file in rules/ is built in, so no rule file is forgotten.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("rules/{n}"))
        .collect();
    on_disk.sort();
    let mut built: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    built.sort();
    assert_eq!(on_disk, built);
    // And loading the directory gives the same rules.
    let loaded = Rules::load(&[dir]).unwrap();
    assert_eq!(loaded.len(), Rules::builtin().len());
}

#[test]
fn taxonomy_has_the_classes_rules_name() {
    let classes = taxonomy();
    assert!(classes.len() >= 30);
    let ids: HashSet<&str> = classes.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), classes.len(), "duplicate class id");
    for c in classes {
        assert!(c.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{}", c.id);
    }
    let rules = Rules::builtin();
    let mut used = HashSet::new();
    for r in rules.rules() {
        if let Some(c) = r.class {
            assert!(ids.contains(c), "rule {} names unknown class {c}", r.id);
            used.insert(c);
        }
        assert!(r.description.len() > 20, "rule {} does not say what it matches", r.id);
    }
    // Every class can be reached by some rule.
    for c in classes {
        assert!(used.contains(c.id), "no rule sets class {}", c.id);
    }
    for cat in [Category::Clinical, Category::Infrastructure, Category::It, Category::ConsumerIot] {
        assert!(classes.iter().any(|c| c.category == cat));
    }
}

#[test]
fn docs_describe_every_class() {
    let doc = include_str!("../../../../docs/taxonomy.md");
    for c in taxonomy() {
        let row = doc.lines().find(|l| l.starts_with(&format!("| `{}` |", c.id)));
        let row = row.unwrap_or_else(|| panic!("docs/taxonomy.md has no row for {}", c.id));
        assert!(row.contains(c.category.as_str()), "{}: category", c.id);
        assert!(row.contains(c.criticality.as_str()), "{}: criticality", c.id);
    }
}

#[test]
fn rule_files_refuse_unknown_fields() {
    let e = rules_from(
        r#"
[[rule]]
id = "typo"
description = "a rule with a misspelt operator"
confidence = 50
match = [{ key = "hostname", regexp = "x" }]
set = { class = "printer" }
"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("test.toml") && e.contains("typo") && e.contains("regexp"), "{e}");

    let e = rules_from("[[rules]]\nid = \"x\"\n").unwrap_err().to_string();
    assert!(e.contains("test.toml") && e.contains("rules"), "{e}");

    let e = rules_from(
        r#"
[[rule]]
id = "extra"
description = "a rule with a field that does not exist"
confidence = 50
weight = 3
match = [{ key = "hostname", prefix = "x" }]
set = { class = "printer" }
"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("extra") && e.contains("weight"), "{e}");
}

fn one_rule(condition: &str, set: &str) -> String {
    format!(
        "[[rule]]\nid = \"r1\"\ndescription = \"a test rule for the loader\"\nconfidence = 70\nmatch = [{condition}]\nset = {set}\n"
    )
}

#[test]
fn bad_rules_are_errors_naming_the_rule() {
    let cases = [
        (one_rule(r#"{ key = "hostname", regex = "(unclosed" }"#, r#"{ class = "printer" }"#), "bad regex"),
        (one_rule(r#"{ key = "hostnme", equals = "x" }"#, r#"{ class = "printer" }"#), "unknown fact key"),
        (one_rule(r#"{ key = "hostname", equals = "x" }"#, r#"{ class = "toaster" }"#), "unknown class"),
        (
            one_rule(r#"{ key = "hostname", equals = "x" }"#, r#"{ criticality = "urgent" }"#),
            "unknown criticality",
        ),
        (one_rule(r#"{ key = "hostname", equals = "x" }"#, r#"{ model = "{1}" }"#), "no regex condition"),
        (one_rule(r#"{ key = "hostname", regex = "(a)" }"#, r#"{ model = "{2}" }"#), "group"),
        (
            one_rule(r#"{ key = "hostname", regex = "(?P<a>a)" }"#, r#"{ model = "{b}" }"#),
            "names no capture group",
        ),
        (one_rule(r#"{ key = "hostname", regex = "a" }"#, r#"{ model = "x {" }"#), "unclosed"),
        (
            one_rule(r#"{ key = "hostname", equals = "x", prefix = "y" }"#, r#"{ class = "printer" }"#),
            "more than one",
        ),
        (one_rule(r#"{ key = "hostname" }"#, r#"{ class = "printer" }"#), "needs one of"),
        (
            one_rule(r#"{ key = "hostname", equals = "x", not = true }"#, r#"{ class = "printer" }"#),
            "without `not`",
        ),
        (one_rule(r#"{ key = "hostname", equals = "x" }"#, "{}"), "sets nothing"),
        (one_rule(r#"{ key = "hostname", regex = "(.*)" }"#, r#"{ class = "{1}" }"#), "fixed class"),
        (one_rule(r#"{ key = "hostname", equals = "" }"#, r#"{ class = "printer" }"#), "non-empty"),
    ];
    for (text, want) in cases {
        let e = rules_from(&text).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, RuleError::Rule { ref rule, .. } if rule == "r1"), "{msg}");
        assert!(msg.contains("test.toml: rule r1:") && msg.contains(want), "{msg} (wanted {want:?})");
    }
    let zero = "[[rule]]\nid = \"r1\"\ndescription = \"confidence out of range\"\nconfidence = 0\nmatch = [{ key = \"hostname\", equals = \"x\" }]\nset = { class = \"printer\" }\n";
    assert!(rules_from(zero).unwrap_err().to_string().contains("1-100"));
    let no_id = "[[rule]]\ndescription = \"no id\"\nconfidence = 5\nmatch = []\nset = {}\n";
    assert!(rules_from(no_id).unwrap_err().to_string().contains("#1 (no id)"));
}

#[test]
fn duplicate_ids_are_errors() {
    let text = one_rule(r#"{ key = "hostname", equals = "x" }"#, r#"{ class = "printer" }"#);
    let twice = format!("{text}\n{text}");
    let e = rules_from(&twice).unwrap_err().to_string();
    assert!(e.contains("r1") && e.contains("already used"), "{e}");

    let mut rules = rules_from(&text).unwrap();
    let before = rules.len();
    let e = rules.extend(Rules::from_toml("other.toml", &text).unwrap()).unwrap_err().to_string();
    assert!(e.contains("other.toml") && e.contains("test.toml"), "{e}");
    assert_eq!(rules.len(), before);
}

#[test]
fn load_reads_files_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    let a = one_rule(r#"{ key = "hostname", prefix = "prn" }"#, r#"{ class = "printer" }"#);
    let b = a.replace("r1", "r2");
    std::fs::write(dir.path().join("a.toml"), &a).unwrap();
    std::fs::write(dir.path().join("b.toml"), &b).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a rule file").unwrap();
    let rules = Rules::load(&[dir.path()]).unwrap();
    assert_eq!(rules.rules().map(|r| r.id).collect::<Vec<_>>(), ["r1", "r2"]);
    let one = Rules::load(&[dir.path().join("b.toml")]).unwrap();
    assert_eq!(one.len(), 1);
    let e = Rules::load(&[dir.path().join("missing.toml")]).unwrap_err().to_string();
    assert!(e.contains("missing.toml") && e.contains("cannot read"), "{e}");
    std::fs::write(dir.path().join("c.toml"), "[[rule]\n").unwrap();
    let e = Rules::load(&[dir.path()]).unwrap_err().to_string();
    assert!(e.contains("c.toml"), "{e}");
}

#[test]
fn fingerprint_follows_the_rule_texts() {
    let a = one_rule(r#"{ key = "hostname", prefix = "prn" }"#, r#"{ class = "printer" }"#);
    let f1 = rules_from(&a).unwrap().fingerprint();
    assert_eq!(f1, rules_from(&a).unwrap().fingerprint());
    assert_eq!(f1.len(), 16);
    let b = a.replace("prn", "printer");
    assert_ne!(f1, rules_from(&b).unwrap().fingerprint());
    assert_ne!(f1, Rules::from_toml("elsewhere.toml", &a).unwrap().fingerprint());
    assert_ne!(Rules::builtin().fingerprint(), Rules::new().fingerprint());
    assert_eq!(Rules::builtin().fingerprint(), Rules::builtin().fingerprint());
}

#[test]
fn captures_fill_model_and_firmware() {
    let text = r#"
[[rule]]
id = "acme-pump"
description = "Acme pumps say their model and firmware in the LLDP description"
confidence = 90
match = [
  { key = "sys_descr", regex = 'acme (\w+) fw (?P<fw>[\d.]+)' },
  { key = "hostname", regex = '^(?P<ward>icu|er)-' },
]
set = { class = "infusion_pump", vendor = "Acme", model = "Acme {1}", firmware = "{fw} ({ward})" }
"#;
    let rules = rules_from(text).unwrap();
    let d = rules.classify(&[
        fact("sys_descr", "ACME PX7 FW 2.4.1 ready", "lldp.system_description", 80),
        fact("hostname", "icu-pump-3", "dhcp.option12", 70),
    ]);
    // The captured text keeps the device's own spelling.
    assert_eq!(best_value(&d, "model").as_deref(), Some("Acme PX7"));
    assert_eq!(best_value(&d, "firmware").as_deref(), Some("2.4.1 (icu)"));
    assert_eq!(best_value(&d, "criticality").as_deref(), Some("critical"));
    let m = best(&d, "model").unwrap();
    assert_eq!(m.source, "rule:acme-pump lldp.system_description dhcp.option12");
    assert_eq!(m.confidence, 70, "no surer than its least confident evidence");

    // An optional group that did not take part leaves nothing; an empty value is not set.
    let text = one_rule(r#"{ key = "hostname", regex = '^x(\d+)?' }"#, r#"{ model = "{1}", vendor = "X" }"#);
    let d = rules_from(&text).unwrap().classify(&[fact("hostname", "x-ray", "dhcp.option12", 80)]);
    assert_eq!(best_value(&d, "model"), None);
    assert_eq!(best_value(&d, "vendor").as_deref(), Some("X"));
}

#[test]
fn evidence_times_and_confidence() {
    let text = one_rule(
        r#"{ key = "vendor_class", prefix = "msft" }, { key = "hostname", regex = "^ws" }"#,
        r#"{ class = "workstation", criticality = "high" }"#,
    );
    let rules = rules_from(&text).unwrap();
    let mut a = fact("vendor_class", "MSFT 5.0", "dhcp.option60", 85);
    a.first_seen = Timestamp::from_secs(50);
    a.last_seen = Timestamp::from_secs(60);
    let mut b = fact("hostname", "WS-17", "dhcp.option12", 90);
    b.first_seen = Timestamp::from_secs(70);
    b.last_seen = Timestamp::from_secs(400);
    let d = rules.classify(&[a, b]);
    assert_eq!(d.len(), 2);
    for f in &d {
        assert_eq!(f.confidence, 70);
        assert_eq!(f.first_seen, Timestamp::from_secs(50));
        assert_eq!(f.last_seen, Timestamp::from_secs(400));
        assert_eq!(f.source, "rule:r1 dhcp.option60 dhcp.option12");
    }
    // The rule's own criticality wins over the class's default (workstation: low).
    assert_eq!(best_value(&d, "criticality").as_deref(), Some("high"));
    assert_eq!(d.iter().filter(|f| f.key == "criticality").count(), 1);
}

#[test]
fn the_most_confident_matching_fact_is_the_evidence() {
    let text = one_rule(r#"{ key = "hostname", prefix = "prn" }"#, r#"{ class = "printer" }"#);
    let rules = rules_from(&text).unwrap();
    let d = rules
        .classify(&[fact("hostname", "prn-1", "mdns.a", 60), fact("hostname", "PRN-1", "dhcp.option12", 80)]);
    assert_eq!(best(&d, "class").unwrap().source, "rule:r1 dhcp.option12");
    assert_eq!(best(&d, "class").unwrap().confidence, 70);
}

#[test]
fn negated_conditions_and_sources() {
    let text = r#"
[[rule]]
id = "not-a-phone"
description = "switch capability unless the device also says it is a phone"
confidence = 60
match = [
  { key = "capabilities", contains = "switch", source = ["cdp.", "lldp."] },
  { key = "capabilities", contains = "phone", not = true },
]
set = { class = "switch" }
"#;
    let rules = rules_from(text).unwrap();
    assert_eq!(
        best_value(&rules.classify(&[fact("capabilities", "Switch,IGMP", "cdp.capabilities", 80)]), "class")
            .as_deref(),
        Some("switch")
    );
    assert!(rules.classify(&[fact("capabilities", "switch,phone", "cdp.capabilities", 80)]).is_empty());
    assert!(rules.classify(&[fact("capabilities", "switch", "snmp.other", 80)]).is_empty());
}

#[test]
fn rule_output_is_not_rule_input() {
    let text = one_rule(r#"{ key = "vendor", equals = "acme" }"#, r#"{ class = "printer" }"#);
    let rules = rules_from(&text).unwrap();
    assert!(rules.classify(&[fact("vendor", "Acme", "rule:other lldp.med.manufacturer", 80)]).is_empty());
    assert!(!rules.classify(&[fact("vendor", "Acme", "bacnet.device.vendor_name", 80)]).is_empty());
}

/// The class, vendor and model the builtin rules give a device.
fn classify(facts: &[(&str, &str, &str, u8)]) -> (Option<String>, Option<String>, Option<String>, Vec<Fact>) {
    let facts: Vec<Fact> = facts.iter().map(|(k, v, s, c)| fact(k, v, s, *c)).collect();
    let d = Rules::builtin().classify(&facts);
    (best_value(&d, "class"), best_value(&d, "vendor"), best_value(&d, "model"), d)
}

/// Devices as Ward's dissectors describe them: from the end-to-end networks
/// (tests/e2e/identity-net.sh, clinical-net.sh), the sample capture (ward-gen) and real
/// products' announcements. (facts, class, vendor, model).
#[allow(clippy::type_complexity)]
const DEVICES: &[(&str, &[(&str, &str, &str, u8)], &str, Option<&str>, Option<&str>)] = &[
    (
        "Alaris pump by DHCP (identity-net: dhclient)",
        &[
            ("vendor_class", "BD.Alaris.PC.8015", "dhcp.option60", 85),
            ("hostname", "alaris-pc-17", "dhcp.option12", 80),
            ("dhcp_fingerprint", "1,28,2,3,15,6,12", "dhcp.option55", 80),
        ],
        "infusion_pump",
        Some("BD"),
        Some("Alaris 8015"),
    ),
    (
        "Alaris pump by lldpd (LLDP-MED inventory and CDP)",
        &[
            ("manufacturer", "BD", "lldp.med.manufacturer", 85),
            ("model", "Alaris PC 8015", "lldp.med.model", 85),
            ("sys_descr", "Alaris PC unit 8015, BD", "lldp.system_description", 70),
            ("capabilities", "station", "lldp.capabilities", 70),
            ("capabilities", "host", "cdp.capabilities", 70),
            ("model", "Linux", "cdp.platform", 60),
            ("lldp_med_device_class", "endpoint class I", "lldp.med.device_class", 85),
        ],
        "infusion_pump",
        Some("BD"),
        Some("Alaris 8015"),
    ),
    (
        "Pump of the sample: vendor class and OUI",
        &[
            ("vendor_class", "ICU Medical", "dhcp.option60", 85),
            ("hostname", "pump-140", "dhcp.option12", 80),
            ("oui_vendor", "B.Braun Melsungen AG", "oui.ma-l", 60),
        ],
        "infusion_pump",
        Some("ICU Medical"),
        None,
    ),
    (
        "B. Braun pump of the sample: user agent",
        &[("user_agent", "B.Braun/Space (pump-070)", "http.user_agent", 70)],
        "infusion_pump",
        Some("B. Braun"),
        Some("Space"),
    ),
    (
        "Pump of the sample: user agent",
        &[("user_agent", "ICUMedical/Plum-360 (pump-036)", "http.user_agent", 70)],
        "infusion_pump",
        Some("ICU Medical"),
        Some("Plum-360"),
    ),
    (
        "Pump gateway of the sample: IHE PCD-01 over HL7",
        &[
            ("role", "HL7 sender", "hl7.msh9", 80),
            ("hl7_application", "PUMPGW", "hl7.msh3", 80),
            ("hl7_message", "ORU^R01", "hl7.msh9", 80),
            ("hl7_profile", "IHE_PCD_001", "hl7.msh21", 80),
        ],
        "infusion_pump",
        None,
        None,
    ),
    (
        "IntelliVue by LLDP-MED",
        &[
            ("manufacturer", "Philips Medical Systems", "lldp.med.manufacturer", 85),
            ("model", "IntelliVue MX450", "lldp.med.model", 85),
            ("lldp_med_device_class", "endpoint class I", "lldp.med.device_class", 85),
        ],
        "patient_monitor",
        Some("Philips"),
        Some("IntelliVue MX450"),
    ),
    (
        "IntelliVue of identity-net: udhcpc, zeroconf, SSDP",
        &[
            ("vendor_class", "Philips IntelliVue MX450", "dhcp.option60", 85),
            ("hostname", "intellivue-mx450-7", "dhcp.option12", 80),
            ("server", "Linux/5.10 UPnP/1.0 IntelliVue-MX450/M.03.01", "ssdp.server", 70),
            ("upnp_type", "urn:schemas-upnp-org:device:PatientMonitor:1", "ssdp.nt", 70),
            ("model", "MX450", "mdns.txt.model", 70),
            ("manufacturer", "Philips", "mdns.txt.manufacturer", 70),
            ("mdns_service", "_http._tcp", "mdns.ptr", 70),
        ],
        "patient_monitor",
        Some("Philips"),
        Some("IntelliVue MX450"),
    ),
    (
        "Monitor gateway of clinical-net: PCD-01 from WARDMONGW",
        &[
            ("role", "HL7 sender", "hl7.msh9", 80),
            ("hl7_application", "WARDMONGW", "hl7.msh3", 80),
            ("hl7_message", "ORU^R01", "hl7.msh9", 80),
            ("hl7_profile", "IHE_PCD_001", "hl7.msh21", 80),
            ("device_id", "0009FB7800000022", "hl7.obx18", 80),
        ],
        "patient_monitor",
        None,
        None,
    ),
    (
        "Mindray monitor of the sample by LLDP-MED",
        &[
            ("manufacturer", "Mindray", "lldp.med.manufacturer", 85),
            ("model", "BeneVision N12", "lldp.med.model", 85),
            ("sys_descr", "Mindray BeneVision N12", "lldp.system_description", 70),
        ],
        "patient_monitor",
        Some("Mindray"),
        Some("BeneVision N12"),
    ),
    (
        "CT of clinical-net: DCMTK storescu and findscu",
        &[
            ("role", "CT modality", "dicom.dimse", 90),
            ("role", "DICOM worklist SCU", "dicom.dimse", 75),
            ("role", "DICOM client", "dicom.dimse", 40),
            ("stack", "DCMTK 3.6.7", "dicom.implementation_version", 80),
            ("ae_title", "CT01", "dicom.calling_ae", 80),
            ("modality", "CT", "dicom.dataset.modality", 80),
            ("manufacturer", "Ward E2E Medical", "dicom.dataset.manufacturer", 80),
            ("model", "Tomoscan W64", "dicom.dataset.model_name", 80),
        ],
        "ct_modality",
        // The maker and model the data set names, taken as said.
        Some("Ward E2E Medical"),
        Some("Tomoscan W64"),
    ),
    (
        "Ultrasound of clinical-net: pynetdicom",
        &[
            ("role", "Ultrasound modality", "dicom.dimse", 90),
            ("stack", "pynetdicom 3.0.4", "dicom.implementation_version", 80),
            ("modality", "US", "dicom.dataset.modality", 80),
        ],
        "us_modality",
        // No maker in a data set: the toolkit's, weakly.
        Some("pydicom project"),
        None,
    ),
    (
        "PACS of clinical-net: storescp and wlmscpfs",
        &[
            ("role", "PACS", "dicom.dimse", 90),
            ("role", "DICOM worklist SCP", "dicom.dimse", 80),
            ("role", "DICOM SCP", "dicom.dimse", 40),
            ("stack", "DCMTK 3.6.7", "dicom.implementation_version", 80),
            ("ae_title", "PACS01", "dicom.called_ae", 80),
        ],
        "pacs",
        // DCMTK's maker, from the toolkit it runs.
        Some("OFFIS"),
        None,
    ),
    (
        "Worklist server alone",
        &[("role", "DICOM worklist SCP", "dicom.dimse", 80)],
        "modality_worklist",
        None,
        None,
    ),
    (
        "A Siemens CT by its DICOM identity",
        &[
            ("modality", "CT", "dicom.dataset.modality", 80),
            ("manufacturer", "SIEMENS", "dicom.dataset.manufacturer", 80),
            ("model", "SOMATOM go.Up", "dicom.dataset.model_name", 80),
        ],
        "ct_modality",
        Some("Siemens Healthineers"),
        Some("SOMATOM go.Up"),
    ),
    (
        "HL7 engine of the sample",
        &[
            ("role", "HL7 receiver", "hl7.msh9", 80),
            ("hl7_application", "HL7ENGINE", "hl7.msh3", 80),
            ("hl7_message", "ACK^R01", "hl7.msh9", 80),
        ],
        "hl7_interface_engine",
        None,
        None,
    ),
    (
        "Mirth relaying both ways",
        &[
            ("role", "HL7 receiver", "hl7.msh9", 80),
            ("role", "HL7 sender", "hl7.msh9", 80),
            ("hl7_application", "MIRTH", "hl7.msh3", 80),
            ("hl7_message", "ADT^A01", "hl7.msh9", 80),
        ],
        "hl7_interface_engine",
        None,
        None,
    ),
    (
        "HIS of clinical-net: ADT and ORM from WARDHIS",
        &[
            ("role", "HL7 sender", "hl7.msh9", 80),
            ("hl7_application", "WARDHIS", "hl7.msh3", 80),
            ("hl7_message", "ADT^A01", "hl7.msh9", 80),
            ("hl7_message", "ORM^O01", "hl7.msh9", 80),
        ],
        "ehr_server",
        None,
        None,
    ),
    (
        "EMR of clinical-net: python-hl7 server acknowledging as WARDEMR",
        &[("role", "HL7 receiver", "hl7.msh9", 80), ("hl7_application", "WARDEMR", "hl7.msh3", 80)],
        "ehr_server",
        None,
        None,
    ),
    (
        "Epic sending results",
        &[("role", "HL7 sender", "hl7.msh9", 80), ("hl7_application", "EPIC", "hl7.msh3", 80)],
        "ehr_server",
        None,
        None,
    ),
    (
        "i-STAT Alinity of the sample is point of care, not a lab analyser",
        &[
            ("manufacturer", "Abbott", "lldp.med.manufacturer", 85),
            ("model", "i-STAT Alinity", "lldp.med.model", 85),
            ("hostname", "lab-008", "lldp.system_name", 80),
        ],
        "point_of_care_device",
        Some("Abbott"),
        Some("i-STAT Alinity"),
    ),
    (
        "Alinity ci analyser",
        &[
            ("model", "Alinity ci", "lldp.med.model", 85),
            ("manufacturer", "Abbott Diagnostics", "lldp.med.manufacturer", 85),
        ],
        "lab_analyser",
        Some("Abbott"),
        Some("Alinity ci"),
    ),
    (
        "Roche cobas by SNMP",
        &[("snmp_sys_descr", "Roche cobas 8000 modular analyzer", "snmp.sysDescr", 80)],
        "lab_analyser",
        Some("Roche"),
        Some("cobas 8000"),
    ),
    (
        "POCT1-A glucose meter",
        &[("role", "POCT1-A device", "poct1a.hel", 80), ("model", "StatStrip", "poct1a.dev.model_id", 80)],
        "point_of_care_device",
        Some("Nova Biomedical"),
        Some("StatStrip"),
    ),
    (
        "Pyxis cabinet by NetBIOS name",
        &[("netbios_name", "PYXIS-ICU3-01", "nbns.answer", 70)],
        "medication_cabinet",
        Some("BD"),
        None,
    ),
    ("mosquitto broker of clinical-net", &[("role", "MQTT broker", "mqtt", 80)], "mqtt_broker", None, None),
    (
        "Fridge sensor of the sample over MQTT",
        &[
            ("role", "MQTT client", "mqtt", 80),
            ("mqtt_client_id", "fridge-129", "mqtt.connect.client_id", 80),
            ("mqtt_topic", "hospital/fridge/fridge-129/temperature", "mqtt.publish.topic", 80),
            ("oui_vendor", "Espressif Inc.", "oui.ma-l", 60),
        ],
        "temperature_sensor",
        Some("Espressif"),
        None,
    ),
    (
        "Pump gateway of clinical-net over MQTT",
        &[
            ("role", "MQTT client", "mqtt", 80),
            ("mqtt_client_id", "infusion-gw-17", "mqtt.connect.client_id", 80),
            ("mqtt_topic", "ward/icu3/pump17/status", "mqtt.publish.topic", 80),
        ],
        "infusion_pump",
        None,
        None,
    ),
    (
        "Dashboard of clinical-net: subscribes to ward/# and receives the pump's topic",
        &[
            ("role", "MQTT client", "mqtt", 80),
            ("mqtt_client_id", "ward-dashboard", "mqtt.connect.client_id", 80),
            ("mqtt_topic", "ward/#", "mqtt.subscribe.topic", 80),
            ("mqtt_topic", "ward/icu3/pump17/status", "mqtt.publish.topic", 80),
            ("mqtt_topic", "ward/icu3/vent7/alarm", "mqtt.publish.topic", 80),
            ("mqtt_topic", "hospital/fridge/f-1/temperature", "mqtt.publish.topic", 80),
        ],
        "",
        None,
        None,
    ),
    (
        "Ventilator of clinical-net over MQTT",
        &[
            ("role", "MQTT client", "mqtt", 80),
            ("mqtt_client_id", "vent-7", "mqtt.connect.client_id", 80),
            ("mqtt_topic", "ward/icu3/vent7/alarm", "mqtt.publish.topic", 80),
        ],
        "ventilator",
        None,
        None,
    ),
    (
        "pymodbus server of clinical-net",
        &[
            ("role", "Modbus server", "modbus", 80),
            ("vendor", "Ward E2E Automation", "modbus.device_id.vendor_name", 90),
            ("model", "WPLC-220-HVAC", "modbus.device_id.model_name", 90),
        ],
        "plc",
        Some("Ward E2E Automation"),
        Some("WPLC-220-HVAC"),
    ),
    (
        "Schneider PLC by Modbus identification",
        &[
            ("role", "Modbus server", "modbus", 80),
            ("vendor", "Schneider Electric", "modbus.device_id.vendor_name", 90),
            ("model", "TM221CE16R", "modbus.device_id.model_name", 90),
        ],
        "plc",
        Some("Schneider Electric"),
        Some("TM221CE16R"),
    ),
    (
        "bacpypes3 device of clinical-net",
        &[
            ("role", "BACnet device", "bacnet", 80),
            ("vendor", "Ward E2E Controls", "bacnet.device.vendor_name", 90),
            ("model", "WBC-3100 AHU controller", "bacnet.device.model_name", 90),
        ],
        "building_automation",
        Some("Ward E2E Controls"),
        Some("WBC-3100 AHU controller"),
    ),
    (
        "Siemens PXC of the sample over BACnet",
        &[
            ("role", "BACnet device", "bacnet", 80),
            ("bacnet_vendor", "Siemens Schweiz AG (formerly Landis & Staefa)", "bacnet.i_am.vendor_id", 90),
            ("vendor", "Siemens", "bacnet.device.vendor_name", 90),
            ("model", "PXC5.E003", "bacnet.device.model_name", 90),
        ],
        "building_automation",
        Some("Siemens"),
        Some("PXC5.E003"),
    ),
    (
        "Cisco switch by CDP",
        &[
            ("capabilities", "switch,igmp", "cdp.capabilities", 80),
            ("model", "cisco WS-C2960X-48FPD-L", "cdp.platform", 80),
            ("hostname", "sw-icu-3", "cdp.device_id", 80),
        ],
        "switch",
        Some("Cisco"),
        Some("WS-C2960X-48FPD-L"),
    ),
    (
        "Layer 3 switch by LLDP",
        &[("capabilities", "bridge,router", "lldp.capabilities", 70)],
        "router",
        None,
        None,
    ),
    (
        "Printer of the sample by mDNS",
        &[
            ("mdns_service", "_ipp._tcp", "mdns.ptr", 70),
            ("model", "HP LaserJet M507", "mdns.txt.model", 70),
            ("hostname", "prn-031", "mdns.a", 70),
        ],
        "printer",
        Some("HP"),
        Some("LaserJet M507"),
    ),
    (
        "Zebra printer of the sample by LLDP-MED",
        &[("manufacturer", "Zebra", "lldp.med.manufacturer", 85), ("model", "ZD621", "lldp.med.model", 85)],
        "printer",
        Some("Zebra"),
        Some("ZD621"),
    ),
    (
        "Axis camera of the sample by SSDP",
        &[("server", "Linux/4.14 UPnP/1.0 Axis/P3265-LVE", "ssdp.server", 70)],
        "ip_camera",
        Some("Axis"),
        Some("P3265-LVE"),
    ),
    (
        "Hikvision camera of the sample by mDNS",
        &[("model", "DS-2CD2143", "mdns.txt.model", 70), ("mdns_service", "_http._tcp", "mdns.ptr", 70)],
        "ip_camera",
        Some("Hikvision"),
        Some("DS-2CD2143"),
    ),
    (
        "Polycom phone of the sample by DHCP",
        &[
            ("vendor_class", "Polycom-VVX450", "dhcp.option60", 85),
            ("hostname", "voip-014", "dhcp.option12", 80),
        ],
        "voip_phone",
        Some("Poly"),
        Some("VVX450"),
    ),
    (
        "Windows workstation by DHCP",
        &[
            ("vendor_class", "MSFT 5.0", "dhcp.option60", 85),
            ("dhcp_fingerprint", "1,3,6,15,31,33,43,44,46,47,119,121,249,252", "dhcp.option55", 80),
            ("hostname", "ws-122", "dhcp.option12", 80),
        ],
        "workstation",
        None,
        None,
    ),
    (
        "iPhone by DHCP and mDNS",
        &[
            ("dhcp_fingerprint", "1,121,3,6,15,108,114,119,252", "dhcp.option55", 80),
            ("hostname", "Johns-iPhone", "dhcp.option12", 80),
            ("mdns_service", "_companion-link._tcp", "mdns.ptr", 70),
        ],
        "phone",
        Some("Apple"),
        None,
    ),
    (
        "iPad of the sample by mDNS",
        &[
            ("mdns_service", "_companion-link._tcp", "mdns.ptr", 70),
            ("model", "iPad", "mdns.txt.model", 70),
            ("hostname", "phone-091", "mdns.a", 70),
        ],
        "tablet",
        Some("Apple"),
        Some("iPad"),
    ),
    (
        "Hue bridge by mDNS",
        &[
            ("mdns_service", "_hue._tcp", "mdns.ptr", 70),
            ("oui_vendor", "Philips Lighting BV", "oui.ma-l", 60),
        ],
        "smart_hub",
        Some("Signify"),
        Some("Hue Bridge"),
    ),
    (
        "Shelly plug by DHCP",
        &[("hostname", "shellyplug-s-C8C9A3", "dhcp.option12", 80)],
        "smart_plug",
        Some("Shelly"),
        Some("plug-s"),
    ),
    (
        "Sonos speaker by mDNS",
        &[("mdns_service", "_sonos._tcp", "mdns.ptr", 70)],
        "smart_speaker",
        Some("Sonos"),
        None,
    ),
    (
        "Android phone by DHCP",
        &[("vendor_class", "android-dhcp-13", "dhcp.option60", 85)],
        "phone",
        None,
        None,
    ),
    (
        "Only an OUI: a weak hint",
        &[("oui_vendor", "Becton, Dickinson and Company", "oui.ma-l", 60)],
        "infusion_pump",
        Some("BD"),
        None,
    ),
];

#[test]
fn builtin_rules_classify_known_devices() {
    let mut failures = Vec::new();
    for (name, facts, class, vendor, model) in DEVICES {
        let (c, v, m, derived) = classify(facts);
        // An empty class: the device must get none.
        let want_class = (!class.is_empty()).then_some(*class);
        if c.as_deref() != want_class
            || v.as_deref() != *vendor
            || (model.is_some() && m.as_deref() != *model)
        {
            failures.push(format!(
                "{name}: got class {c:?} vendor {v:?} model {m:?}, want {class} {vendor:?} {model:?}\n  {:#?}",
                derived.iter().map(|f| format!("{}={} ({}, {})", f.key, f.value, f.source, f.confidence)).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn criticality_follows_the_class() {
    let (_, _, _, d) = classify(&[("role", "CT modality", "dicom.dimse", 90)]);
    let c = best(&d, "criticality").unwrap();
    assert_eq!(c.value, "high");
    assert!(c.source.starts_with("rule:dicom-role-ct "));
    let (_, _, _, d) = classify(&[("vendor_class", "BD.Alaris.PC.8015", "dhcp.option60", 85)]);
    assert_eq!(best_value(&d, "criticality").as_deref(), Some("critical"));
}

#[test]
fn weak_evidence_stays_weak() {
    let (_, _, _, d) = classify(&[("oui_vendor", "Becton, Dickinson and Company", "oui.ma-l", 60)]);
    assert!(best(&d, "class").unwrap().confidence <= 35);
    assert!(best(&d, "vendor").unwrap().confidence <= 50);
    // A chip maker's OUI names no class.
    let (c, v, _, _) = classify(&[("oui_vendor", "Espressif Inc.", "oui.ma-l", 60)]);
    assert_eq!((c, v.as_deref()), (None, Some("Espressif")));
    // Nothing known, nothing derived.
    assert!(classify(&[("ntp_mode", "client", "ntp.mode", 80)]).3.is_empty());
}

#[test]
fn derived_facts_are_sorted_and_unique() {
    let (_, _, _, d) = classify(DEVICES[6].1);
    let order: Vec<usize> =
        d.iter().map(|f| DERIVED_KEYS.iter().position(|k| *k == f.key).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    for w in d.windows(2) {
        if w[0].key == w[1].key {
            assert!(w[0].confidence >= w[1].confidence);
        }
    }
    let pairs: HashSet<(&str, &str)> = d.iter().map(|f| (f.key.as_str(), f.value.as_str())).collect();
    assert_eq!(pairs.len(), d.len());
}

#[test]
fn classification_is_deterministic() {
    let rules = Rules::builtin();
    for (_, facts, ..) in DEVICES {
        let facts: Vec<Fact> = facts.iter().map(|(k, v, s, c)| fact(k, v, s, *c)).collect();
        let want = rules.classify(&facts);
        let mut reversed = facts.clone();
        reversed.reverse();
        assert_eq!(rules.classify(&reversed), want);
        let mut rotated = facts.clone();
        rotated.rotate_left(1);
        assert_eq!(rules.classify(&rotated), want);
        assert_eq!(Rules::builtin().classify(&facts), want);
    }
}

#[test]
fn classify_speed() {
    // 10,000 devices of the table above, in whatever profile the tests run; the release
    // figure is what `--release -- --ignored classify_speed_release` prints.
    let rules = Rules::builtin();
    let devices: Vec<Vec<Fact>> = DEVICES
        .iter()
        .map(|(_, facts, ..)| facts.iter().map(|(k, v, s, c)| fact(k, v, s, *c)).collect())
        .collect();
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for i in 0..10_000 {
        n += rules.classify(&devices[i % devices.len()]).len();
    }
    assert!(n > 0);
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

#[test]
#[ignore = "a measurement: run with --release"]
fn classify_speed_release() {
    let rules = Rules::builtin();
    let devices: Vec<Vec<Fact>> = DEVICES
        .iter()
        .map(|(_, facts, ..)| facts.iter().map(|(k, v, s, c)| fact(k, v, s, *c)).collect())
        .collect();
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for i in 0..100_000 {
        n += rules.classify(&devices[i % devices.len()]).len();
    }
    println!("100000 devices, {n} derived facts, {:?}", start.elapsed());
}

/// Every rule evaluated, without the index: what `classify` must equal.
fn classify_without_index(rules: &Rules, facts: &[Fact]) -> Vec<Fact> {
    let all = (0..rules.len() as u32).collect();
    rules.evaluate(&Device::new(facts), all)
}

#[test]
fn the_index_loses_no_rule() {
    let rules = Rules::builtin();
    for (_, facts, ..) in DEVICES {
        let facts: Vec<Fact> = facts.iter().map(|(k, v, s, c)| fact(k, v, s, *c)).collect();
        assert_eq!(rules.classify(&facts), classify_without_index(&rules, &facts));
    }
}

#[test]
fn non_ascii_values_match_with_unicode_rules() {
    // The regex set is asked about ASCII values only; these take the other path.
    let (_, v, _, _) = classify(&[("manufacturer", "DRÄGERWERK AG", "lldp.med.manufacturer", 85)]);
    assert_eq!(v.as_deref(), Some("Dräger"));
    let (c, v, m, _) = classify(&[("model", "Infinity Delta XL – ICU", "lldp.med.model", 85)]);
    assert_eq!(
        (c.as_deref(), v.as_deref(), m.as_deref()),
        (Some("patient_monitor"), Some("Dräger"), Some("Infinity Delta"))
    );
    let (c, ..) = classify(&[("hostname", "Zoë’s-iPhone", "dhcp.option12", 80)]);
    assert_eq!(c.as_deref(), Some("phone"));
}

fn any_fact() -> impl Strategy<Value = Fact> {
    let key = prop_oneof![
        proptest::sample::select(FACT_KEYS.to_vec()).prop_map(str::to_owned),
        proptest::sample::select(DERIVED_KEYS.to_vec()).prop_map(str::to_owned),
        "[a-z_]{0,12}",
    ];
    let value = prop_oneof![
        "\\PC{0,40}",
        proptest::sample::select(vec![
            "CT modality",
            "PACS",
            "MSFT 5.0",
            "BD.Alaris.PC.8015",
            "_hue._tcp",
            "IntelliVue MX450",
            "HL7 sender",
            "",
        ])
        .prop_map(str::to_owned),
    ];
    let source = prop_oneof![
        proptest::sample::select(vec![
            "dhcp.option60",
            "dicom.dimse",
            "mdns.ptr",
            "rule:x y",
            "oui.ma-l",
            ""
        ]),
        Just("lldp.med.model"),
    ];
    (key, value, source, any::<u8>(), any::<u64>(), any::<u64>()).prop_map(
        |(key, value, source, confidence, a, b)| Fact {
            key,
            value,
            source: source.to_owned(),
            confidence,
            first_seen: Timestamp::from_nanos(a.min(b)),
            last_seen: Timestamp::from_nanos(a.max(b)),
        },
    )
}

proptest! {
    #[test]
    fn classify_never_panics(facts in proptest::collection::vec(any_fact(), 0..24)) {
        let rules = Rules::builtin();
        let derived = rules.classify(&facts);
        for f in &derived {
            prop_assert!(DERIVED_KEYS.contains(&f.key.as_str()));
            prop_assert!(f.source.starts_with("rule:"));
            prop_assert!(!f.value.is_empty() && f.value.len() <= MAX_VALUE);
            prop_assert!(f.confidence <= 100);
            if f.key == "class" {
                prop_assert!(class_info(&f.value).is_some());
            }
            if f.key == "criticality" {
                prop_assert!(f.value.parse::<ward_core::Criticality>().is_ok());
            }
        }
        let mut reversed = facts.clone();
        reversed.reverse();
        prop_assert_eq!(rules.classify(&reversed), derived.clone());
        prop_assert_eq!(classify_without_index(&rules, &facts), derived);
    }

    #[test]
    fn rule_loader_never_panics(text in "\\PC{0,300}") {
        let _ = Rules::from_toml("fuzz.toml", &text);
    }

    #[test]
    fn rule_loader_never_panics_on_rule_shapes(
        key in "[a-z_]{1,12}",
        op in proptest::sample::select(vec!["equals", "contains", "prefix", "regex", "exists"]),
        pattern in "[a-z(){}\\[\\]\\\\.*?+|^$0-9]{0,12}",
        set in "[a-z{}0-9 ]{0,12}",
    ) {
        let text = format!(
            "[[rule]]\nid = \"p\"\ndescription = \"generated\"\nconfidence = 50\nmatch = [{{ key = {key:?}, {op} = {pattern:?} }}]\nset = {{ model = {set:?} }}\n"
        );
        if let Ok(rules) = Rules::from_toml("gen.toml", &text) {
            let _ = rules.classify(&[fact(&key, &pattern, "x.y", 50)]);
        }
    }
}
