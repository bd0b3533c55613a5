//! Webhooks against a small HTTP server in the test, JSON lines through the exporter, and
//! the shutdown deadline.
//!
//! The server answers the first N requests 503 with `Retry-After: 1`, then 200 (or always
//! the status it is given); it records each request's headers, body and arrival.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ward_core::Alert;
use ward_export::{ExportConfig, ExportKind, Exporter, RetryConfig, Transport};

#[derive(Debug, Clone)]
struct Request {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

#[derive(Clone)]
struct Hook {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Hook {
    /// Listens on `port` (0: any): the first `fail_first` requests get 503 and
    /// `Retry-After: 1`, the others `status`.
    fn start(port: u16, fail_first: usize, status: u16) -> Hook {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let Some(req) = read_request(&conn) else { continue };
                let n = {
                    let mut r = seen.lock().unwrap();
                    r.push(req);
                    r.len()
                };
                let reply = if n <= fail_first {
                    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
                } else {
                    format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                };
                let _ = (&conn).write_all(reply.as_bytes());
            }
        });
        Hook { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ward", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn read_request(conn: impl Read) -> Option<Request> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !line.starts_with("POST /ward HTTP/1.1") {
        return None;
    }
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let len: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request { headers, body, at: Instant::now() })
}

fn webhook(url: &str) -> ExportConfig {
    let mut c = ExportConfig::new(ExportKind::Webhook);
    c.url = Some(url.to_owned());
    c.retry = RetryConfig { initial_ms: 50, max_ms: 2000, max_attempts: 0 };
    c
}

fn body_alert(r: &Request) -> Alert {
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn retries_honour_retry_after_and_requests_are_signed() {
    let hook = Hook::start(0, 2, 200);
    let mut c = webhook(&hook.url());
    c.hmac_secret = Some("shared secret".into());
    c.bearer_token = Some("t0ken".into());
    c.headers.insert("X-Site".into(), "north wing".into());
    let exporter = Exporter::from_config(&[c]).unwrap();
    let alerts = common::alerts(0, 3);
    for a in &alerts {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_secs(30));
    assert_eq!(
        (stats[0].sent, stats[0].retried, stats[0].failed, stats[0].dropped),
        (3, 2, 0, 0),
        "{:?}",
        stats[0]
    );

    let reqs = hook.requests();
    let ids: Vec<i64> = reqs.iter().map(|r| body_alert(r).id).collect();
    assert_eq!(ids, [0, 0, 0, 1, 2], "the first alert is retried until taken, then the rest in order");
    for (r, a) in reqs.iter().zip([&alerts[0], &alerts[0], &alerts[0], &alerts[1], &alerts[2]]) {
        assert_eq!(&body_alert(r), a);
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["authorization"], "Bearer t0ken");
        assert_eq!(r.headers["x-site"], "north wing");
        assert_eq!(r.headers["x-ward-signature"], ward_export::signature(b"shared secret", &r.body));
    }
    // The server asked for a second between tries; the sink's own back-off starts at 50 ms.
    for pair in reqs[..3].windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(950), "Retry-After not honoured: {gap:?}");
    }
}

#[test]
fn refusals_fail_without_retrying() {
    let hook = Hook::start(0, 0, 400);
    let exporter = Exporter::from_config(&[webhook(&hook.url())]).unwrap();
    for a in &common::alerts(0, 4) {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_secs(20));
    assert_eq!((stats[0].sent, stats[0].retried, stats[0].failed), (0, 0, 4), "{:?}", stats[0]);
    assert!(stats[0].last_error.as_deref().unwrap_or_default().contains("HTTP 400"), "{:?}", stats[0]);
    assert_eq!(hook.requests().len(), 4);
}

#[test]
fn receiver_down_then_up_loses_nothing() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = webhook(&format!("http://127.0.0.1:{port}/ward"));
    c.retry = RetryConfig { initial_ms: 50, max_ms: 200, max_attempts: 0 };
    let exporter = Exporter::from_config(&[c]).unwrap();
    let alerts = common::alerts(0, 20);
    for a in &alerts {
        exporter.send(a);
    }
    let until = Instant::now() + Duration::from_secs(10);
    while exporter.stats()[0].retried < 3 {
        assert!(Instant::now() < until, "no retries while the receiver is down");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(exporter.stats()[0].sent, 0);
    let hook = Hook::start(port, 0, 200);
    let stats = exporter.shutdown(Duration::from_secs(30));
    assert_eq!((stats[0].sent, stats[0].dropped, stats[0].failed), (20, 0, 0), "{:?}", stats[0]);
    let got: Vec<Alert> = hook.requests().iter().map(body_alert).collect();
    assert_eq!(got, alerts);
}

#[test]
fn out_of_attempts_counts_as_failed() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = webhook(&format!("http://127.0.0.1:{port}/ward"));
    c.retry = RetryConfig { initial_ms: 10, max_ms: 20, max_attempts: 3 };
    let exporter = Exporter::from_config(&[c]).unwrap();
    for a in &common::alerts(0, 2) {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_secs(20));
    assert_eq!((stats[0].sent, stats[0].retried, stats[0].failed), (0, 4, 2), "{:?}", stats[0]);
}

#[test]
fn json_lines_through_the_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.jsonl");
    let mut c = ExportConfig::new(ExportKind::Jsonl);
    c.path = Some(path.clone());
    let exporter = Exporter::from_config(&[c]).unwrap();
    let alerts = common::alerts(0, 25);
    for a in &alerts {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_secs(20));
    assert_eq!(stats[0].sent, 25);
    let text = std::fs::read_to_string(&path).unwrap();
    let back: Vec<Alert> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(back, alerts);
}

#[test]
fn shutdown_gives_up_at_its_deadline_and_counts_what_is_left() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = ExportConfig::new(ExportKind::Syslog);
    c.address = Some(format!("127.0.0.1:{port}"));
    c.transport = Some(Transport::Tcp);
    c.retry = RetryConfig { initial_ms: 50, max_ms: 100, max_attempts: 0 };
    let exporter = Exporter::from_config(&[c]).unwrap();
    for a in &common::alerts(0, 5) {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_millis(300));
    assert_eq!((stats[0].sent, stats[0].dropped), (0, 5), "{:?}", stats[0]);
    assert_eq!(stats[0].queued, 0);
}

#[test]
fn errors_name_the_sink() {
    let mut c = ExportConfig::new(ExportKind::Jsonl);
    c.path = Some("/nonexistent-ward-dir/alerts.jsonl".into());
    let e = Exporter::from_config(&[c]).unwrap_err().to_string();
    assert!(e.contains("/nonexistent-ward-dir/alerts.jsonl"), "{e}");

    let mut c = ExportConfig::new(ExportKind::Syslog);
    c.address = Some("127.0.0.1:6514".into());
    c.transport = Some(Transport::Tls);
    c.ca_file = Some("/nonexistent-ward-dir/ca.pem".into());
    let e = Exporter::from_config(&[c]).unwrap_err().to_string();
    assert!(e.contains("CA file /nonexistent-ward-dir/ca.pem"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let mut c = webhook("https://127.0.0.1:1/");
    c.ca_file = Some(not_pem);
    let e = Exporter::from_config(&[c]).unwrap_err().to_string();
    assert!(e.contains("no PEM certificate"), "{e}");

    let mut a = webhook("http://127.0.0.1:1/");
    a.name = Some("soc".into());
    let e = Exporter::from_config(&[a.clone(), a]).unwrap_err().to_string();
    assert_eq!(e, "export soc: two sinks have this name");
}

/// An HTTPS receiver: rustls with the certificate openssl made for it. Answers 200.
fn https_hook(cert: &std::path::Path, key: &std::path::Path) -> Hook {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(sock) = conn else { continue };
            let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(tls) = rustls::ServerConnection::new(Arc::clone(&config)) else { continue };
            let mut stream = rustls::StreamOwned::new(tls, sock);
            // A client that refuses the certificate ends the handshake here.
            let Some(req) = read_request(&mut stream) else { continue };
            seen.lock().unwrap().push(req);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
    });
    Hook { port, requests }
}

#[test]
fn https_trusts_the_configured_ca_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let (Some((ca, cert, key)), Some((other_ca, _, _))) =
        (common::make_certs(dir.path(), "hook"), common::make_certs(dir.path(), "other"))
    else {
        eprintln!("skipped: openssl could not make test certificates");
        return;
    };
    let hook = https_hook(&cert, &key);
    let url = format!("https://localhost:{}/ward", hook.port);
    let mut good = webhook(&url);
    good.name = Some("good".into());
    good.ca_file = Some(ca);
    let mut wrong = webhook(&url);
    wrong.name = Some("wrong".into());
    wrong.ca_file = Some(other_ca);
    wrong.retry.max_attempts = 1;
    let exporter = Exporter::from_config(&[good, wrong]).unwrap();
    let alerts = common::alerts(0, 3);
    for a in &alerts {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_secs(20));
    assert_eq!((stats[0].sent, stats[0].failed), (3, 0), "{:?}", stats[0]);
    assert_eq!((stats[1].sent, stats[1].failed), (0, 3), "{:?}", stats[1]);
    let error = stats[1].last_error.clone().unwrap_or_default().to_lowercase();
    assert!(error.contains("certificate") || error.contains("unknownissuer"), "{error}");
    let got: Vec<Alert> = hook.requests().iter().map(body_alert).collect();
    assert_eq!(got, alerts);
}
