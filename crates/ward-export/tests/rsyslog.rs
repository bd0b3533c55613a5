//! Syslog and CEF received by a real rsyslog: over UDP, TCP (octet counting) and TLS (the
//! `ossl` stream driver, Debian's `rsyslog-openssl`), parsed back to the alerts sent; a
//! receiver down for a while and restarted loses nothing; a tiny queue counts its drops.
//!
//! Each test writes its own rsyslog.conf (inputs on 127.0.0.1 high ports, one JSON line per
//! message into a file of its temporary directory, with rsyslog's own reading of the header
//! beside the raw message) and runs `rsyslogd -n -f CONF -i PIDFILE` as a child. Skips, saying
//! why, when rsyslogd (or, for TLS, its ossl driver or openssl) is missing.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use ward_core::Alert;
use ward_export::{ExportConfig, ExportKind, Exporter, RetryConfig, Transport};

fn rsyslogd() -> Option<PathBuf> {
    let candidates = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"];
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

fn ossl_driver() -> bool {
    ["/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog"]
        .iter()
        .any(|d| Path::new(d).join("lmnsd_ossl.so").exists())
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Rsyslog {
    child: Option<Child>,
    dir: PathBuf,
    conf: PathBuf,
    out: PathBuf,
    tcp_port: Option<u16>,
}

const TEMPLATE: &str = r#"
template(name="ward_json" type="list") {
  constant(value="{")
  property(outname="pri" name="pri" format="jsonf") constant(value=",")
  property(outname="hostname" name="hostname" format="jsonf") constant(value=",")
  property(outname="app" name="app-name" format="jsonf") constant(value=",")
  property(outname="msgid" name="msgid" format="jsonf") constant(value=",")
  property(outname="sd" name="structured-data" format="jsonf") constant(value=",")
  property(outname="msg" name="msg" format="jsonf") constant(value=",")
  property(outname="raw" name="rawmsg" format="jsonf")
  constant(value="}\n")
}
"#;

impl Rsyslog {
    /// Writes the configuration: `globals` inside `global(...)`, `inputs` as given.
    fn configure(dir: &Path, globals: &str, inputs: &str, tcp_port: Option<u16>) -> Rsyslog {
        let out = dir.join("received.jsonl");
        let conf = dir.join("rsyslog.conf");
        let text = format!(
            "global(workDirectory=\"{dir}\" maxMessageSize=\"64k\" \
             parser.escapeControlCharactersOnReceive=\"off\" {globals})\n{TEMPLATE}\n\
             ruleset(name=\"ward\") {{ action(type=\"omfile\" file=\"{out}\" template=\"ward_json\") }}\n{inputs}\n",
            dir = dir.display(),
            out = out.display(),
        );
        std::fs::write(&conf, text).unwrap();
        Rsyslog { child: None, dir: dir.to_owned(), conf, out, tcp_port }
    }

    fn start(&mut self) {
        let bin = rsyslogd().unwrap();
        let log = std::fs::File::create(self.dir.join("rsyslogd.log")).unwrap();
        let child = Command::new(bin)
            .arg("-n")
            .arg("-f")
            .arg(&self.conf)
            .arg("-i")
            .arg(self.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        // Ready when its TCP input accepts (UDP has no such sign; the same process opens both).
        if let Some(port) = self.tcp_port {
            let until = Instant::now() + Duration::from_secs(20);
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < until, "rsyslogd did not listen: {}", self.log());
                if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                    panic!("rsyslogd exited with {status}: {}", self.log());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// SIGTERM, as a service manager stops it, and wait for it to be gone.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let until = Instant::now() + Duration::from_secs(10);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("rsyslogd.log")).unwrap_or_default()
    }

    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("rsyslog wrote {l:?}: {e}")))
            .collect()
    }

    /// The received lines once there are `n`; panics with what came after `within`.
    fn wait_lines(&self, n: usize, within: Duration) -> Vec<Value> {
        let until = Instant::now() + within;
        loop {
            let lines = self.lines();
            if lines.len() >= n || Instant::now() > until {
                assert_eq!(lines.len(), n, "received lines; rsyslogd said: {}", self.log());
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.stop();
    }
}

fn skip_without_rsyslog() -> bool {
    if rsyslogd().is_none() {
        eprintln!("skipped: rsyslogd is not installed (Debian package rsyslog)");
        return true;
    }
    false
}

fn syslog_sink(kind: ExportKind, transport: Transport, port: u16, hostname: &str) -> ExportConfig {
    let mut c = ExportConfig::new(kind);
    c.name = Some(hostname.to_owned());
    c.address = Some(format!("127.0.0.1:{port}"));
    c.transport = Some(transport);
    c.hostname = Some(hostname.to_owned());
    c.facility = Some(ward_export::config::Facility::Name("local4".into()));
    c.retry = RetryConfig { initial_ms: 50, max_ms: 300, max_attempts: 0 };
    c
}

/// Checks that rsyslog read each line's header as Ward meant it, and that the line parses
/// back to the alert sent, in order.
fn check_received(lines: &[&Value], sent: &[Alert], cef: bool) {
    assert_eq!(lines.len(), sent.len());
    for (line, alert) in lines.iter().zip(sent) {
        let s = |k: &str| line[k].as_str().unwrap_or_default().to_owned();
        let sev = ward_export::format::syslog_severity(alert.severity);
        assert_eq!(s("pri"), (20 * 8 + u16::from(sev)).to_string(), "{line}");
        assert_eq!(s("app"), "ward");
        assert_eq!(s("msgid"), alert.kind);
        let raw = common::parse_syslog(&s("raw")).unwrap_or_else(|e| panic!("{e}: {line}"));
        let rsyslog_msg = s("msg");
        let rsyslog_msg = rsyslog_msg.trim_start_matches('\u{feff}');
        assert_eq!(rsyslog_msg, raw.msg, "rsyslog and the test split MSG differently: {line}");
        let back = if cef {
            assert_eq!(s("sd"), "-");
            assert!(s("msg").starts_with("CEF:0|"), "the MSG must start with CEF:0| {line}");
            common::alert_from_cef(&common::parse_cef(rsyslog_msg).unwrap()).unwrap()
        } else {
            assert!(s("sd").starts_with("[ward@32473 "), "{line}");
            common::alert_from_syslog(&raw).unwrap()
        };
        assert_eq!(&back, alert, "{line}");
    }
}

#[test]
fn syslog_and_cef_over_udp_and_tcp_reach_rsyslog() {
    if skip_without_rsyslog() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (udp, tcp) = (free_udp_port(), free_tcp_port());
    let mut rsyslog = Rsyslog::configure(
        dir.path(),
        "",
        &format!(
            "module(load=\"imudp\")\nmodule(load=\"imtcp\")\n\
             input(type=\"imudp\" address=\"127.0.0.1\" port=\"{udp}\" ruleset=\"ward\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\" ruleset=\"ward\")"
        ),
        Some(tcp),
    );
    rsyslog.start();
    let sinks = [
        syslog_sink(ExportKind::Syslog, Transport::Udp, udp, "udp-syslog"),
        syslog_sink(ExportKind::Syslog, Transport::Tcp, tcp, "tcp-syslog"),
        syslog_sink(ExportKind::Cef, Transport::Udp, udp, "udp-cef"),
        syslog_sink(ExportKind::Cef, Transport::Tcp, tcp, "tcp-cef"),
    ];
    let exporter = Exporter::from_config(&sinks).unwrap();
    let alerts = common::alerts(0, 25);
    for a in &alerts {
        exporter.send(a);
    }
    let stats = exporter.shutdown(Duration::from_secs(20));
    for s in &stats {
        assert_eq!((s.sent, s.failed, s.dropped), (25, 0, 0), "{s:?}");
    }
    let lines = rsyslog.wait_lines(100, Duration::from_secs(20));
    for (host, cef) in [("udp-syslog", false), ("tcp-syslog", false), ("udp-cef", true), ("tcp-cef", true)] {
        let mine: Vec<&Value> = lines.iter().filter(|l| l["hostname"] == host).collect();
        check_received(&mine, &alerts, cef);
    }
}

#[test]
fn syslog_and_cef_over_tls_reach_rsyslog_across_a_restart_and_a_wrong_ca_is_refused() {
    if skip_without_rsyslog() {
        return;
    }
    if !ossl_driver() {
        eprintln!("skipped: rsyslog's TLS driver is missing (Debian package rsyslog-openssl)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = common::make_certs(dir.path(), "good") else {
        eprintln!("skipped: openssl could not make test certificates");
        return;
    };
    let Some((other_ca, _, _)) = common::make_certs(dir.path(), "other") else {
        eprintln!("skipped: openssl could not make test certificates");
        return;
    };
    let port = free_tcp_port();
    let mut rsyslog = Rsyslog::configure(
        dir.path(),
        &format!(
            "DefaultNetstreamDriverCAFile=\"{}\" DefaultNetstreamDriverCertFile=\"{}\" \
             DefaultNetstreamDriverKeyFile=\"{}\"",
            ca.display(),
            cert.display(),
            key.display()
        ),
        &format!(
            "module(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\" \
             StreamDriver.AuthMode=\"anon\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"ward\")"
        ),
        Some(port),
    );
    rsyslog.start();
    let mut by_ip = syslog_sink(ExportKind::Syslog, Transport::Tls, port, "tls-syslog");
    by_ip.ca_file = Some(ca.clone());
    let mut by_name = syslog_sink(ExportKind::Cef, Transport::Tls, port, "tls-cef");
    by_name.ca_file = Some(ca);
    by_name.server_name = Some("localhost".into());
    let mut wrong = syslog_sink(ExportKind::Syslog, Transport::Tls, port, "tls-wrong-ca");
    wrong.ca_file = Some(other_ca);
    wrong.retry.max_attempts = 2;

    let exporter = Exporter::from_config(&[by_ip, by_name, wrong]).unwrap();
    let alerts = common::alerts(100, 12);
    for a in &alerts[..8] {
        exporter.send(a);
    }
    let lines = rsyslog.wait_lines(16, Duration::from_secs(20));
    assert!(lines.iter().all(|l| l["hostname"] != "tls-wrong-ca"));

    // The receiver restarts: its TLS connections end (close_notify, then FIN), and the
    // sinks notice before writing the next alert.
    rsyslog.stop();
    for a in &alerts[8..] {
        exporter.send(a);
    }
    let retried = exporter.stats()[0].retried;
    wait_for("retries while down", Duration::from_secs(10), || exporter.stats()[0].retried > retried);
    rsyslog.start();
    let lines = rsyslog.wait_lines(24, Duration::from_secs(30));
    let stats = exporter.shutdown(Duration::from_secs(20));
    assert_eq!((stats[0].sent, stats[0].failed, stats[0].dropped), (12, 0, 0), "{:?}", stats[0]);
    assert_eq!((stats[1].sent, stats[1].failed, stats[1].dropped), (12, 0, 0), "{:?}", stats[1]);
    // Each alert tried twice (max_attempts = 2): one retry, then counted as failed.
    assert_eq!((stats[2].sent, stats[2].failed, stats[2].retried), (0, 12, 12), "{:?}", stats[2]);
    let error = stats[2].last_error.clone().unwrap_or_default();
    assert!(error.contains("certificate") || error.contains("UnknownIssuer"), "{error}");

    assert!(lines.iter().all(|l| l["hostname"] != "tls-wrong-ca"));
    let mine: Vec<&Value> = lines.iter().filter(|l| l["hostname"] == "tls-syslog").collect();
    check_received(&mine, &alerts, false);
    let mine: Vec<&Value> = lines.iter().filter(|l| l["hostname"] == "tls-cef").collect();
    check_received(&mine, &alerts, true);
}

fn tcp_rsyslog(dir: &Path, port: u16) -> Rsyslog {
    Rsyslog::configure(
        dir,
        "",
        &format!(
            "module(load=\"imtcp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"ward\")"
        ),
        Some(port),
    )
}

fn ids(lines: &[Value]) -> Vec<i64> {
    lines
        .iter()
        .map(|l| {
            let raw = common::parse_syslog(l["raw"].as_str().unwrap()).unwrap();
            common::alert_from_syslog(&raw).unwrap().id
        })
        .collect()
}

fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn receiver_down_then_up_and_restarted_loses_nothing() {
    if skip_without_rsyslog() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_tcp_port();
    let mut rsyslog = tcp_rsyslog(dir.path(), port);
    let exporter =
        Exporter::from_config(&[syslog_sink(ExportKind::Syslog, Transport::Tcp, port, "down-up")]).unwrap();

    // Nobody listens yet: everything waits.
    let first = common::alerts(0, 30);
    for a in &first {
        exporter.send(a);
    }
    wait_for("a few retries", Duration::from_secs(10), || exporter.stats()[0].retried >= 3);
    let s = &exporter.stats()[0];
    assert_eq!((s.sent, s.dropped), (0, 0), "{s:?}");

    rsyslog.start();
    let lines = rsyslog.wait_lines(30, Duration::from_secs(30));
    assert_eq!(ids(&lines), (0..30).collect::<Vec<_>>());

    // The receiver goes away (and closes its connections), alerts come meanwhile, and it
    // comes back: the sink notices the closed connection instead of writing into it.
    rsyslog.stop();
    let second = common::alerts(30, 10);
    for a in &second {
        exporter.send(a);
    }
    let retried = exporter.stats()[0].retried;
    wait_for("retries while down", Duration::from_secs(10), || exporter.stats()[0].retried > retried);
    rsyslog.start();
    let lines = rsyslog.wait_lines(40, Duration::from_secs(30));
    assert_eq!(ids(&lines), (0..40).collect::<Vec<_>>());
    let stats = exporter.shutdown(Duration::from_secs(5));
    assert_eq!((stats[0].sent, stats[0].dropped, stats[0].failed), (40, 0, 0), "{:?}", stats[0]);
}

#[test]
fn a_tiny_queue_drops_its_oldest_and_counts_them() {
    if skip_without_rsyslog() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_tcp_port();
    let mut rsyslog = tcp_rsyslog(dir.path(), port);
    let mut sink = syslog_sink(ExportKind::Syslog, Transport::Tcp, port, "tiny");
    sink.queue = Some(3);
    let exporter = Exporter::from_config(&[sink]).unwrap();
    for a in &common::alerts(0, 10) {
        exporter.send(a);
    }
    // One alert may be with the sink's thread (retrying), taken at any point of the
    // sending; up to three wait; the rest were dropped.
    let s = exporter.stats()[0].clone();
    assert!(s.queued <= 3 && (9..=10).contains(&(s.dropped + s.queued)), "{s:?}");

    rsyslog.start();
    wait_for("the queue to drain", Duration::from_secs(30), || {
        let s = &exporter.stats()[0];
        s.sent + s.dropped == 10
    });
    let stats = exporter.shutdown(Duration::from_secs(5));
    let received = ids(&rsyslog.wait_lines(stats[0].sent as usize, Duration::from_secs(10)));
    // The newest three always arrive, in order; the oldest went first.
    assert!(received.ends_with(&[7, 8, 9]), "{received:?}");
    assert_eq!(received.len() as u64 + stats[0].dropped, 10);
    assert!(received.len() == 3 || received.len() == 4, "{received:?}");
    assert!(received.windows(2).all(|w| w[0] < w[1]), "out of order: {received:?}");
}
