//! Threat-intelligence feeds with real data and real peers: the ipsum lists and firehol's
//! netset from `../shared/data/intel`, the OASIS reference TAXII 2.1 server (`medallion`)
//! serving the STIX examples there, Python's HTTP server for conditional downloads, and the
//! `ward intel` command. Each test says when it skipped, and why.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use ward_intel::fetch::Client;
use ward_intel::formats::{self, ParseOptions, stix};
use ward_intel::refresh::{Outcome, Refresher};
use ward_intel::{FeedConfig, FeedSet, Format, Intel};

fn intel_data() -> Option<PathBuf> {
    match ward_fuzz::outside::shared_data() {
        Some(d) if d.join("intel").is_dir() => Some(d.join("intel")),
        _ => {
            eprintln!("skipped: ../shared/data/intel not present (set WARD_SHARED_DATA)");
            None
        }
    }
}

/// Addresses of an ipsum file (first column of every line that is not a comment).
fn ipsum_addresses(path: &Path, min_score: u32) -> BTreeSet<IpAddr> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let ip: IpAddr = f.next()?.parse().ok()?;
            let score: u32 = f.next().map_or(u32::MAX, |s| s.parse().unwrap());
            (score >= min_score).then_some(ip)
        })
        .collect()
}

#[test]
fn ipsum_levels_load_whole() {
    let Some(dir) = intel_data() else { return };
    let full = std::fs::read(dir.join("ipsum/ipsum.txt")).unwrap();
    for level in 3..=8u32 {
        let path = dir.join(format!("ipsum/level{level}.txt"));
        let want = ipsum_addresses(&path, 0);
        let p = formats::parse(Format::Auto, &std::fs::read(&path).unwrap(), &ParseOptions::default());
        assert_eq!(p.format, Some(Format::Ip));
        assert_eq!(p.stats.entries as usize, want.len(), "level {level}");
        assert_eq!(p.stats.indicators as usize, want.len(), "level {level}");
        assert_eq!((p.stats.refused, p.stats.unreadable), (0, 0), "level {level}: {:?}", p.stats.warnings);
        // The full list with its score column at the level's threshold is the level's list.
        let opts = ParseOptions { min_score: Some(level), ..ParseOptions::default() };
        let from_full = formats::parse(Format::Ip, &full, &opts);
        assert_eq!(from_full.stats.indicators as usize, want.len(), "ipsum.txt at score {level}");
        assert_eq!(
            from_full.stats.below_min_score as usize + want.len(),
            ipsum_addresses(&dir.join("ipsum/ipsum.txt"), 0).len()
        );
        let intel = Intel::new();
        intel.set_feed(FeedSet::build("ipsum", from_full));
        assert!(want.iter().all(|ip| intel.lookup_ip(*ip).is_some()), "level {level}");
        eprintln!("ipsum level {level}: {} addresses", want.len());
    }
}

#[test]
fn firehol_private_ranges_are_refused() {
    let Some(dir) = intel_data() else { return };
    let bytes = std::fs::read(dir.join("firehol/firehol_level1.EXCERPT.netset")).unwrap();
    let p = formats::parse(Format::Auto, &bytes, &ParseOptions::default());
    assert_eq!(p.format, Some(Format::Ip));
    assert_eq!((p.stats.entries, p.stats.indicators, p.stats.refused, p.stats.unreadable), (22, 20, 2, 0));
    assert!(p.stats.warnings.iter().any(|w| w.contains("10.0.0.0/8")), "{:?}", p.stats.warnings);
    assert!(p.stats.warnings.iter().any(|w| w.contains("0.0.0.0/8")), "{:?}", p.stats.warnings);
    let intel = Intel::new();
    intel.set_feed(FeedSet::build("firehol", p));
    assert!(intel.lookup_ip("10.1.2.3".parse().unwrap()).is_none());
    assert!(intel.lookup_ip("0.1.2.3".parse().unwrap()).is_none());
    assert_eq!(intel.lookup_ip("1.10.20.30".parse().unwrap()).unwrap().value, "1.10.16.0/20");
    assert_eq!(intel.lookup_ip("61.155.222.211".parse().unwrap()).unwrap().value, "61.155.222.210/31");
}

/// The STIX example bundles (every object of every file).
fn stix_objects(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("stix"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in files {
        let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        for o in stix::objects_of(v) {
            let version = o.get("modified").or_else(|| o.get("created")).cloned().unwrap_or(Value::Null);
            if seen.insert((o["id"].as_str().unwrap_or_default().to_owned(), version.to_string())) {
                out.push(o);
            }
        }
    }
    out
}

#[test]
fn stix_examples_read() {
    let Some(dir) = intel_data() else { return };
    let objects = stix_objects(&dir);
    let p = stix::parse_objects(objects, &ParseOptions::default());
    // The C2 example's 10.0.0.0 is refused; the file hashes, e-mail and certificate patterns
    // are unsupported; poisonivy's 'domain autuo.xicp.net' is not a name.
    assert!(p.stats.refused >= 1 && p.stats.unsupported > 0 && p.stats.unreadable >= 1, "{:?}", p.stats);
    let intel = Intel::new();
    intel.set_feed(FeedSet::build("stix", p));
    let h = intel.lookup_domain("a.hugesoft.org").unwrap();
    assert!(h.indicator.starts_with("indicator--"));
    assert!(intel.lookup_ip("219.90.112.203".parse().unwrap()).is_some());
}

/// A program on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(port: u16, child: &mut Child) -> bool {
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
const HIDDEN: &str = "52892447-4d7e-4f70-b94d-d7f22742ff63";
const PAGE: usize = 10;

/// medallion's memory backend: the STIX examples in one readable collection (added one
/// second apart from 2024-01-01), and a collection that may not be read.
fn backend(port: u16, objects: &[Value]) -> Value {
    let mut manifest = Vec::new();
    let mut objects = objects.to_vec();
    for (k, o) in objects.iter_mut().enumerate() {
        let t = ward_core::Timestamp::from_secs(1_704_067_200 + k as u64).to_string();
        let added = format!("{}.000000Z", t.trim_end_matches('Z'));
        let version = o.get("modified").or_else(|| o.get("created")).cloned().unwrap_or_else(|| json!(added));
        // Objects without a version (cyber observables) are versioned by when they were
        // added: medallion's memory backend keeps that in a hidden field.
        if o.get("modified").is_none() && o.get("created").is_none() {
            o["_date_added"] = json!(added);
        }
        manifest.push(json!({"id": o["id"], "date_added": added, "version": version,
            "media_type": "application/stix+json;version=2.1"}));
    }
    let root = format!("http://127.0.0.1:{port}/api1/");
    json!({
        "/discovery": {"title": "Ward's test TAXII server", "description": "", "contact": "",
                       "default": root, "api_roots": [root]},
        "api1": {
            "information": {"title": "api1", "description": "", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 10_485_760},
            "status": [],
            "collections": [
                {"id": COLLECTION, "title": "STIX examples", "description": "", "can_read": true, "can_write": true,
                 "media_types": ["application/stix+json;version=2.1"], "objects": objects, "manifest": manifest},
                {"id": HIDDEN, "title": "Not for Ward", "description": "", "can_read": false, "can_write": false,
                 "media_types": ["application/stix+json;version=2.1"],
                 "objects": [], "manifest": []}
            ]
        }
    })
}

/// Adds objects through the TAXII API (`POST .../objects/`), as a partner would.
fn post_objects(port: u16, objects: &Value) -> String {
    use base64::Engine;
    let body = json!({"objects": objects}).to_string();
    let auth = base64::engine::general_purpose::STANDARD.encode("ward:s3cret");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /api1/collections/{COLLECTION}/objects/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: Basic {auth}\r\nContent-Type: application/taxii+json;version=2.1\r\n\
         Accept: application/taxii+json;version=2.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

fn taxii_feed(port: u16, password: &str) -> FeedConfig {
    let mut cfg = FeedConfig::from_source(&format!("http://127.0.0.1:{port}/taxii2/"));
    cfg.name = "partner".into();
    cfg.format = Format::Taxii;
    cfg.auth = Some(ward_intel::Auth::Basic {
        user: "ward".into(),
        password: Some(password.into()),
        password_env: None,
    });
    cfg
}

#[test]
fn taxii_collections_from_medallion() {
    let Some(dir) = intel_data() else { return };
    let medallion = std::env::var_os("WARD_MEDALLION").map(PathBuf::from).or_else(|| which("medallion"));
    let Some(medallion) = medallion else {
        eprintln!("skipped: medallion is not installed (pip install medallion, or set WARD_MEDALLION)");
        return;
    };
    let objects = stix_objects(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = tmp.path().join("backend.json");
    std::fs::write(&data, backend(port, &objects).to_string()).unwrap();
    let config = tmp.path().join("medallion.json");
    let conf = json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": data.to_str().unwrap()},
        "users": {"ward": "s3cret"},
        "taxii": {"max_page_size": PAGE}
    });
    std::fs::write(&config, conf.to_string()).unwrap();
    let child = Command::new(&medallion)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(tmp.path().join("medallion.log")).unwrap())
        .spawn();
    let Ok(child) = child else {
        eprintln!("skipped: {} cannot be started", medallion.display());
        return;
    };
    let mut server = Server(child);
    if !wait_for(port, &mut server.0) {
        let log = std::fs::read_to_string(tmp.path().join("medallion.log")).unwrap_or_default();
        eprintln!("skipped: medallion did not start listening: {log}");
        return;
    }

    // Discovery, the API root, the collections (the unreadable one is left out).
    let client = Client::new(Duration::from_secs(20));
    let auth =
        ward_intel::Auth::Basic { user: "ward".into(), password: Some("s3cret".into()), password_env: None }
            .header()
            .unwrap();
    let root = client.taxii_api_root(&format!("http://127.0.0.1:{port}/taxii2/"), Some(&auth)).unwrap();
    assert_eq!(root, format!("http://127.0.0.1:{port}/api1/"));
    let collections = client.taxii_collections(&root, Some(&auth), None).unwrap();
    assert_eq!(collections.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [COLLECTION]);
    assert!(client.taxii_collections(&root, Some(&auth), Some("Not for Ward")).is_err());
    assert_eq!(client.taxii_collections(&root, Some(&auth), Some("stix examples")).unwrap().len(), 1);

    // The first poll pages through everything.
    let cache = tmp.path().join("state");
    let intel = Arc::new(Intel::new());
    let mut r = Refresher::new(vec![taxii_feed(port, "s3cret")], intel.clone(), Some(cache.clone()))
        .unwrap()
        .with_client(Client::new(Duration::from_secs(20)));
    let rep = r.refresh_all().remove(0);
    let log = || std::fs::read_to_string(tmp.path().join("medallion.log")).unwrap_or_default();
    assert_eq!(rep.outcome, Outcome::Changed, "{rep:?}\nmedallion: {}", log());
    let t = rep.taxii.clone().unwrap();
    assert_eq!(t.collections, 1);
    assert_eq!(t.new_objects, objects.len());
    assert_eq!(t.pages, objects.len().div_ceil(PAGE), "{t:?}");
    // The same indicators as reading the bundles directly.
    let direct = stix::parse_objects(objects.clone(), &ParseOptions::default());
    assert_eq!(rep.stats.indicators, direct.stats.indicators);
    assert_eq!(rep.stats.unsupported, direct.stats.unsupported);
    let h = intel.lookup_domain("www.webserver.dynssl.com").unwrap();
    assert_eq!(&*h.feed, "partner");
    assert!(h.indicator.starts_with("indicator--"));

    // Nothing added since: one page, asked with added_after, and nothing changes.
    let rep = r.refresh_all().remove(0);
    assert_eq!(rep.outcome, Outcome::NotModified, "{rep:?}");
    assert_eq!((rep.taxii.as_ref().unwrap().new_objects, rep.taxii.as_ref().unwrap().pages), (0, 1));

    // A partner adds an indicator; the next poll brings only it.
    let added = json!([{
        "type": "indicator", "spec_version": "2.1", "id": "indicator--6d1b7e29-7c0f-4f55-b2f3-0f6a1c1d9a01",
        "created": "2026-11-30T10:00:00.000Z", "modified": "2026-11-30T10:00:00.000Z",
        "pattern": "[domain-name:value = 'c2.ward-test.example'] OR [ipv4-addr:value = '45.77.1.2']",
        "pattern_type": "stix", "valid_from": "2026-11-30T10:00:00Z", "confidence": 90
    }]);
    let answer = post_objects(port, &added);
    assert!(answer.starts_with("HTTP/1.1 202") || answer.starts_with("HTTP/1.0 202"), "{answer}");
    let rep = r.refresh_all().remove(0);
    assert_eq!(rep.outcome, Outcome::Changed, "{rep:?}");
    assert_eq!(rep.taxii.as_ref().unwrap().new_objects, 1);
    assert_eq!(rep.stats.indicators, direct.stats.indicators + 2);
    let h = intel.lookup_ip("45.77.1.2".parse().unwrap()).unwrap();
    assert_eq!((h.indicator.as_str(), h.confidence), ("indicator--6d1b7e29-7c0f-4f55-b2f3-0f6a1c1d9a01", 90));
    assert!(intel.lookup_domain("x.c2.ward-test.example").is_some());

    // A wrong password fails and keeps the set.
    let mut bad = Refresher::new(vec![taxii_feed(port, "wrong")], intel.clone(), None).unwrap();
    assert!(matches!(bad.refresh_all()[0].outcome, Outcome::Failed(_)));
    assert!(intel.lookup_ip("45.77.1.2".parse().unwrap()).is_some());

    // A restart without the server has every object from the cache.
    drop(server);
    let again = Arc::new(Intel::new());
    let mut r2 = Refresher::new(vec![taxii_feed(port, "s3cret")], again.clone(), Some(cache))
        .unwrap()
        .with_client(Client::new(Duration::from_secs(5)));
    let cached = r2.load_cached();
    assert_eq!(
        (cached[0].outcome.clone(), cached[0].stats.indicators),
        (Outcome::Cached, rep.stats.indicators)
    );
    assert!(matches!(r2.refresh_all()[0].outcome, Outcome::Failed(_)));
    assert!(again.lookup_ip("45.77.1.2".parse().unwrap()).is_some());
}

#[test]
fn downloads_are_conditional_and_cached() {
    let Some(python) = which("python3") else {
        eprintln!("skipped: python3 is not installed (its http.server serves the feed)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("list.txt"), "# feed\n45.9.20.1\n45.9.20.0/24\n10.0.0.0/8\n").unwrap();
    let port = free_port();
    let child = Command::new(&python)
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
            www.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    if !wait_for(port, &mut server.0) {
        eprintln!("skipped: python3 -m http.server did not start");
        return;
    }
    let url = format!("http://127.0.0.1:{port}/list.txt");
    let cache = tmp.path().join("state");
    let feeds = vec![FeedConfig::from_source(&url)];
    let intel = Arc::new(Intel::new());
    let mut r = Refresher::new(feeds.clone(), intel.clone(), Some(cache.clone())).unwrap();
    let rep = r.refresh_all().remove(0);
    assert_eq!(
        (rep.outcome, rep.indicators, rep.stats.refused, rep.format),
        (Outcome::Changed, 2, 1, Some("ip"))
    );
    // If-Modified-Since: the server answers 304.
    assert_eq!(r.refresh_all()[0].outcome, Outcome::NotModified);
    // A later process: the cache first, then a conditional request.
    let intel2 = Arc::new(Intel::new());
    let mut r2 = Refresher::new(feeds.clone(), intel2.clone(), Some(cache.clone())).unwrap();
    assert_eq!(r2.load_cached()[0].outcome, Outcome::Cached);
    assert_eq!(r2.refresh_all()[0].outcome, Outcome::NotModified);
    assert!(intel2.lookup_ip("45.9.20.77".parse().unwrap()).is_some());
    // A missing file (404) fails and keeps the set.
    let mut missing = FeedConfig::from_source(&format!("http://127.0.0.1:{port}/gone.txt"));
    missing.name = "list.txt".into();
    let mut r3 = Refresher::new(vec![missing], intel2.clone(), None).unwrap();
    assert!(matches!(r3.refresh_all()[0].outcome, Outcome::Failed(_)));
    // The server gone: the set stays.
    drop(server);
    assert!(matches!(r2.refresh_all()[0].outcome, Outcome::Failed(_)));
    assert!(intel2.lookup_ip("45.9.20.1".parse().unwrap()).is_some());
}

fn ward(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).output().unwrap()
}

#[test]
fn ward_intel_update_and_lookup() {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("bad-ips.txt");
    std::fs::write(&list, "# list\n45.9.20.1\t5\n10.0.0.0/8\nnot-an-address\n").unwrap();
    let names = tmp.path().join("names.txt");
    std::fs::write(&names, "0.0.0.0 evil.example\n").unwrap();
    let config = tmp.path().join("ward.toml");
    std::fs::write(
        &config,
        format!(
            "[[feed]]\nname = \"names\"\nsource = {:?}\nformat = \"domain\"\nconfidence = 80\n",
            names.to_str().unwrap()
        ),
    )
    .unwrap();
    let state = tmp.path().join("state");
    let common = [
        "--intel",
        list.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ];

    let out = ward(&[&["intel", "update", "--json"][..], &common].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let feeds = v.as_array().unwrap();
    assert_eq!(feeds.len(), 2);
    let ips = feeds.iter().find(|f| f["name"] == "bad-ips.txt").unwrap();
    assert_eq!((ips["indicators"].as_u64(), ips["stats"]["refused"].as_u64()), (Some(1), Some(1)));
    assert_eq!(ips["stats"]["unreadable"], 1);
    assert_eq!(ips["outcome"], "changed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("10.0.0.0/8") && stderr.contains("refused"), "{stderr}");
    // Again: neither file changed.
    let out = ward(&[&["intel", "update"][..], &common].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("not modified").count(), 2, "{text}");

    let out = ward(
        &[&["intel", "lookup", "45.9.20.1", "A.Evil.Example.", "8.8.8.8", "--json"][..], &common].concat(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["hits"][0]["feed"], "bad-ips.txt");
    assert_eq!(v[1]["hits"][0]["indicator"], "evil.example");
    assert_eq!(v[1]["hits"][0]["confidence"], 80);
    assert_eq!(v[2]["hits"].as_array().unwrap().len(), 0);
    // Nothing listed: exit 1; no feed at all: exit 2.
    let out = ward(&[&["intel", "lookup", "8.8.8.8"][..], &common].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("8.8.8.8: not listed"));
    let out = ward(&["intel", "lookup", "8.8.8.8"]);
    assert_eq!(out.status.code(), Some(2));
    // A feed that fails: exit 1, the others still read.
    let out = ward(&[
        "intel",
        "update",
        "--intel",
        "/nonexistent/list.txt",
        "--intel",
        list.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED"));
}
