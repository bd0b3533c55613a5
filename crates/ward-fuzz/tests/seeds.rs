//! Replays seeds through every fuzz target on stable Rust: tcpdump's crash reproducers (from
//! `../shared/data`, when present), the sample capture, and each packet of them as a frame.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use ward_capture::{CaptureReader, ReaderOptions};

fn seed_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("samples/ward-sample.pcap")];
    let shared = ward_fuzz::outside::shared_data().unwrap_or_else(|| root.join("../shared/data"));
    let malformed = shared.join("pcaps/tcpdump_tests/malformed");
    match std::fs::read_dir(&malformed) {
        Ok(dir) => files.extend(dir.flatten().map(|e| e.path())),
        Err(_) => eprintln!("skipped: {} not present; replaying the sample only", malformed.display()),
    }
    files.sort();
    files
}

/// Every capture under the outside data, and the sample.
fn dissector_captures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = vec![root.join("samples/ward-sample.pcap")];
    if let Some(shared) = ward_fuzz::outside::shared_data() {
        out.extend(ward_fuzz::outside::capture_files(&shared.join("pcaps")));
    }
    out
}

#[test]
fn every_target_survives_the_seeds() {
    let files = seed_files();
    let mut frames = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        ward_fuzz::capture_file(&bytes);
        // Cut copies too: damage at a few places.
        for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len().saturating_sub(5)] {
            ward_fuzz::capture_file(&bytes[..cut]);
        }
        let opts = ReaderOptions { mmap: false, ..ReaderOptions::default() };
        let mut r = CaptureReader::open_with(path, opts).unwrap();
        let _ = r.for_each_packet(|p, data| {
            frames += 1;
            let mut framed = vec![match p.link.0 {
                1 => 0u8,
                113 => 1,
                276 => 2,
                101 => 3,
                _ => 8,
            }];
            framed.extend_from_slice(data);
            ward_fuzz::decode_frame(&framed);
            if data.len() > 14 {
                ward_fuzz::arp(&data[14..]);
            }
            ward_fuzz::reassembly(data);
        });
        // The sensor target's own framing, fed the file's bytes.
        ward_fuzz::sensor(&bytes[..bytes.len().min(64 << 10)]);
    }
    // The dissector targets, on every flow of the outside captures their dissectors know,
    // whole and cut.
    let mut dissector_seeds = 0;
    for path in dissector_captures() {
        for (target, seed) in ward_fuzz::seeds::from_capture(&path) {
            let run = ward_fuzz::TARGETS.iter().find(|(n, _)| *n == target).unwrap().1;
            run(&seed);
            run(&seed[..seed.len() / 2]);
            dissector_seeds += 1;
        }
    }
    eprintln!("replayed {dissector_seeds} dissector seeds");
    eprintln!(
        "replayed {} files and {frames} frames through {} targets",
        files.len(),
        ward_fuzz::TARGETS.len()
    );
    assert!(frames > 3000);
}

#[test]
fn classification_rules_survive_the_builtin_files() {
    // The builtin rule files, whole, cut in four places (mostly refused: a cut must be an
    // error, never a panic), and with one byte changed in a few places. Compiling regexes is
    // slow in debug builds, so this is a smoke test; the fuzz target explores.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ward-inventory/rules");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty());
    let mut runs = 0;
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        ward_fuzz::classification_rules(&bytes);
        for cut in (0..bytes.len()).step_by(bytes.len() / 4 + 1).skip(1) {
            ward_fuzz::classification_rules(&bytes[..cut]);
            runs += 1;
        }
        for i in (0..bytes.len()).step_by(bytes.len() / 4 + 1).map(|i| i + 17) {
            let mut changed = bytes.clone();
            let Some(b) = changed.get_mut(i) else { continue };
            *b = b.wrapping_add(13);
            ward_fuzz::classification_rules(&changed);
            runs += 1;
        }
    }
    eprintln!("replayed {runs} rule files");
}

#[test]
fn vuln_documents_survive_the_shared_advisories() {
    // The real advisories, NVD records and KEV catalogue (when present) and the test VEX
    // fixture, through every mode of the target: whole, cut, and with a byte changed.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("tests/data/vuln/vex-bd-alaris-systems-manager.json")];
    let vuln = std::env::var_os("WARD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data"))
        .join("vuln");
    for sub in ["csaf_icsma", "nvd_cve_2_0"] {
        match std::fs::read_dir(vuln.join(sub)) {
            Ok(dir) => files.extend(dir.flatten().map(|e| e.path())),
            Err(_) => eprintln!("skipped: {} not present", vuln.join(sub).display()),
        }
    }
    files.sort();
    let mut runs = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for mode in 0u8..6 {
            let with = |b: &[u8]| [&[mode][..], b].concat();
            ward_fuzz::vuln_documents(&with(&bytes));
            ward_fuzz::vuln_documents(&with(&bytes[..bytes.len() / 2]));
            let mut changed = bytes.clone();
            if let Some(b) = changed.get_mut(bytes.len() / 3) {
                *b = b'"';
            }
            ward_fuzz::vuln_documents(&with(&changed));
            runs += 3;
        }
    }
    // The KEV catalogue's CSV form, cut to its first 64 KiB.
    if let Ok(csv) = std::fs::read(vuln.join("kev_known_exploited_vulnerabilities.csv")) {
        ward_fuzz::vuln_documents(&[&[3u8][..], &csv[..csv.len().min(64 << 10)]].concat());
        runs += 1;
    }
    // Version ranges as advisories write them, against firmware strings.
    for range in
        ["< 8.2.2", "<= 9.33", "vers:generic/>=4.01|<=4.34", "14.x", "prior to B.06.18", "< august 28"]
    {
        for version in ["9.19", "V2.1 SP3 Build 0456", "B.06.12", "", "14.1"] {
            ward_fuzz::vuln_documents(format!("\u{4}{range}\n{version}\n9.33.1").as_bytes());
            runs += 1;
        }
    }
    eprintln!("replayed {runs} vulnerability documents and ranges");
}

#[test]
fn policies_survive_the_hospital_example_and_its_variations() {
    // The example whole, cut at every section, without each section in turn, and with one
    // byte changed in a few places; each read against the taxonomy and with any class.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy/hospital.toml");
    let text = std::fs::read(path).unwrap();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.windows(2).enumerate().filter(|(_, w)| w == b"\n[").map(|(i, _)| i + 1))
        .chain([text.len()])
        .collect();
    assert!(starts.len() > 20, "the example has its sections");
    let mut variants = vec![text.clone()];
    for w in starts.windows(3) {
        variants.push(text[..w[1]].to_vec());
        variants.push([&text[..w[1]], &text[w[2]..]].concat());
    }
    for i in (0..text.len()).step_by(text.len() / 16 + 1).map(|i| i + 7) {
        let mut changed = text.clone();
        if let Some(b) = changed.get_mut(i) {
            *b = b.wrapping_add(13);
            variants.push(changed);
        }
    }
    for v in &variants {
        for pick in [0u8, 1] {
            ward_fuzz::policy(&[&[pick][..], v].concat());
        }
    }
    eprintln!("replayed {} policies", variants.len() * 2);
}

#[test]
fn export_survives_the_documented_config() {
    // The `[[export]]` example of docs/exports.md, whole, cut at every 97th byte and with
    // bytes changed; and every hostile text of the export tests' kind as alert fields.
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/exports.md")).unwrap();
    let start = doc.find("```toml\n").unwrap() + 8;
    let toml = &doc[start..start + doc[start..].find("```").unwrap()];
    assert!(ward_export::ExportFile::parse(toml).is_ok(), "the documented example must be valid");
    let bytes = toml.as_bytes();
    ward_fuzz::export(bytes);
    let mut runs = 1;
    for cut in (0..bytes.len()).step_by(97) {
        ward_fuzz::export(&bytes[..cut]);
        let mut changed = bytes.to_vec();
        changed[cut] = changed[cut].wrapping_add(13);
        ward_fuzz::export(&changed);
        runs += 2;
    }
    ward_fuzz::export(
        "a|b\0c=d\0e]f\\\0\"\0line\nbreak\0\u{feff}\0Sun, 06 Nov 1994 08:49:37 GMT\0host name\0".as_bytes(),
    );
    eprintln!("replayed {runs} export inputs");
}

/// Seeds for the intel targets: the feeds in `../shared/data/intel` (ipsum, firehol, the
/// STIX examples, a CSV), a TAXII envelope and a configuration written here.
fn intel_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = vec![
        ("intel_taxii", br#"{"more": true, "next": "abc", "objects": [{"type": "indicator", "id": "indicator--1", "pattern": "[ipv4-addr:value = '45.9.20.1'] OR [url:value = 'http://a.example/x']", "valid_from": "2020-01-01T00:00:00Z"}]}"#.to_vec()),
        ("intel_taxii", br#"{"title": "t", "default": "http://h/api1/", "api_roots": ["http://h/api1/"]}"#.to_vec()),
        ("intel_taxii", br#"{"collections": [{"id": "c", "title": "x", "can_read": true}]}"#.to_vec()),
        ("intel_config", b"[[feed]]\nname = \"a\"\nsource = \"https://h/x\"\nformat = \"taxii\"\nrefresh = \"1h\"\nauth = { basic = { user = \"u\", password = \"p\" } }\n".to_vec()),
        ("intel_csv", b"\x02first_seen,dst_ip,port\n2024-01-01,45.9.20.1,443\n\"2024\",\"http://a.example/\",1\n".to_vec()),
        ("intel_domain_list", b"\x000.0.0.0 evil.example ads.example\nbad.example.\n*.wild.example\nlocalhost\n".to_vec()),
        // Found by intel_csv: a URL with spaces before its fragment did not normalise to itself.
        ("intel_csv", b"\x02# x\n1,https://sslbl.abuse.ch/blacklist/    #\n".to_vec()),
        ("intel_stix", b"[domain-name:value = 'a.example' OR ipv4-addr:value ISSUBSET '45.9.0.0/16'] REPEATS 2 TIMES".to_vec()),
    ];
    let Some(shared) = ward_fuzz::outside::shared_data() else {
        eprintln!("skipped: ../shared/data not present; the intel targets get the written seeds only");
        return out;
    };
    let intel = shared.join("intel");
    let read = |p: &str| std::fs::read(intel.join(p)).ok();
    for p in ["ipsum/level5.txt", "ipsum/level8.txt", "firehol/firehol_level1.EXCERPT.netset"] {
        if let Some(b) = read(p) {
            out.push(("intel_ip_list", [&[0x83u8][..], &b].concat()));
            out.push(("intel_domain_list", [&[0u8][..], &b].concat()));
        }
    }
    if let Some(b) = read("ndpi-example-sha1_cert_fingerprints.csv") {
        out.push(("intel_csv", [&[1u8][..], &b[..b.len().min(16 << 10)]].concat()));
    }
    if let Ok(dir) = std::fs::read_dir(intel.join("stix")) {
        let mut files: Vec<PathBuf> = dir.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        for f in files {
            let b = std::fs::read(&f).unwrap();
            out.push(("intel_stix", b.clone()));
            out.push(("intel_taxii", b));
        }
    }
    out
}

#[test]
fn intel_parsers_survive_the_feeds() {
    let mut runs = 0;
    for (target, seed) in intel_seeds() {
        let run = ward_fuzz::TARGETS.iter().find(|(n, _)| *n == target).unwrap().1;
        run(&seed);
        for cut in [seed.len() / 3, seed.len() / 2, seed.len().saturating_sub(3)] {
            run(&seed[..cut]);
        }
        // One byte changed in a few places.
        for i in (0..seed.len()).step_by(seed.len() / 5 + 1).skip(1) {
            let mut changed = seed.clone();
            changed[i] = changed[i].wrapping_add(7);
            run(&changed);
        }
        runs += 1;
    }
    eprintln!("replayed {runs} intel seeds");
    assert!(runs >= 7);
}
