//! What the tests read back with: small parsers of RFC 5424 and CEF written from the
//! specifications (not from the crate's formatter), and alerts with hostile texts.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ward_core::{Alert, DeviceId, FlowRef, Severity, Timestamp};

/// An RFC 5424 message taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syslog {
    pub pri: u16,
    pub version: String,
    pub timestamp: String,
    pub hostname: String,
    pub app_name: String,
    pub procid: String,
    pub msgid: String,
    /// SD-ID and its parameters in order; empty for `-`.
    pub sd: Vec<(String, Vec<(String, String)>)>,
    /// MSG without the BOM.
    pub msg: String,
}

/// Parses one RFC 5424 message (section 6 grammar); `Err` names what was wrong.
pub fn parse_syslog(s: &str) -> Result<Syslog, String> {
    let rest = s.strip_prefix('<').ok_or("no <")?;
    let (pri, rest) = rest.split_once('>').ok_or("no >")?;
    let pri: u16 = pri.parse().map_err(|_| "bad PRI")?;
    let mut fields = rest.splitn(7, ' ');
    let mut next = || fields.next().map(str::to_owned).ok_or("short header");
    let (version, timestamp, hostname, app_name, procid, msgid) =
        (next()?, next()?, next()?, next()?, next()?, next()?);
    let rest = fields.next().ok_or("no structured data")?;
    for f in [&hostname, &app_name, &procid, &msgid] {
        if f.is_empty() || !f.bytes().all(|b| (33..=126).contains(&b)) {
            return Err(format!("header field {f:?} is not PRINTUSASCII"));
        }
    }
    let (sd, rest) = if let Some(r) = rest.strip_prefix('-') { (Vec::new(), r) } else { parse_sd(rest)? };
    let msg = match rest {
        "" => String::new(),
        r => r.strip_prefix(' ').ok_or("no space before MSG")?.trim_start_matches('\u{feff}').to_owned(),
    };
    Ok(Syslog { pri, version, timestamp, hostname, app_name, procid, msgid, sd, msg })
}

type Elements = Vec<(String, Vec<(String, String)>)>;

fn parse_sd(s: &str) -> Result<(Elements, &str), String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        match chars.next() {
            Some((_, '[')) => {}
            Some((i, _)) => return Ok((out, &s[i..])),
            None => return Ok((out, "")),
        }
        let mut id = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c == ' ' || c == ']' {
                break;
            }
            if c == '=' || c == '"' {
                return Err("bad SD-ID".into());
            }
            id.push(c);
            chars.next();
        }
        let mut params = Vec::new();
        loop {
            match chars.next() {
                Some((_, ']')) => break,
                Some((_, ' ')) => {}
                other => return Err(format!("expected ' ' or ']' in SD, got {other:?}")),
            }
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some((_, '=')) => break,
                    Some((_, c)) if c != ' ' && c != ']' && c != '"' => name.push(c),
                    other => return Err(format!("bad PARAM-NAME at {other:?}")),
                }
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err("no opening quote".into());
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c @ ('"' | '\\' | ']'))) => value.push(c),
                        // RFC 5424 6.3.3: a backslash before anything else is itself.
                        Some((_, c)) => {
                            value.push('\\');
                            value.push(c);
                        }
                        None => return Err("cut escape".into()),
                    },
                    Some((_, '"')) => break,
                    Some((_, ']')) => return Err("unescaped ] in a value".into()),
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated value".into()),
                }
            }
            params.push((name, value));
        }
        out.push((id, params));
    }
}

/// The alert a `[ward@32473 ...]` element and MSG describe.
pub fn alert_from_syslog(m: &Syslog) -> Result<Alert, String> {
    let (id, params) = m.sd.first().ok_or("no structured data")?;
    if id != "ward@32473" {
        return Err(format!("SD-ID {id}"));
    }
    let p: BTreeMap<&str, &str> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let get = |k: &str| p.get(k).map(|v| v.to_string());
    let num = |k: &str| -> Result<Option<u64>, String> {
        p.get(k).map(|v| v.parse::<u64>().map_err(|_| format!("{k}={v}"))).transpose()
    };
    let need = |k: &str| get(k).ok_or(format!("no {k}"));
    let flow = match (p.get("src"), p.get("dst")) {
        (Some(src), Some(dst)) => Some(FlowRef {
            src: src.parse().map_err(|_| "src")?,
            src_port: num("spt")?.ok_or("spt")? as u16,
            dst: dst.parse().map_err(|_| "dst")?,
            dst_port: num("dpt")?.ok_or("dpt")? as u16,
            proto: num("proto")?.ok_or("proto")? as u8,
            vlan: num("vlan")?.map(|v| v as u16),
        }),
        _ => None,
    };
    Ok(Alert {
        id: need("id")?.parse().map_err(|_| "id")?,
        ts: need("ts")?.parse().map_err(|_| "ts")?,
        last_seen: need("last_seen")?.parse().map_err(|_| "last_seen")?,
        count: num("count")?.ok_or("count")?,
        severity: need("severity")?.parse()?,
        kind: need("kind")?,
        device: num("device")?.map(|d| DeviceId(d as i64)),
        peer: get("peer").map(|p| p.parse().map_err(|_| "peer")).transpose()?,
        flow,
        source: get("source"),
        indicator: get("indicator"),
        confidence: num("confidence")?.map(|c| c as u8),
        evidence: need("evidence")?,
        message: m.msg.clone(),
        state: need("state")?,
        key: need("key")?,
    })
}

/// A CEF line taken apart: the seven header fields after `CEF:0`, and the extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cef {
    pub header: Vec<String>,
    pub ext: Vec<(String, String)>,
}

/// Parses a CEF line by the specification's escaping.
pub fn parse_cef(s: &str) -> Result<Cef, String> {
    let rest = s.strip_prefix("CEF:0|").ok_or("no CEF:0|")?;
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = rest.chars();
    while header.len() < 6 {
        match chars.next() {
            Some('\\') => match chars.next() {
                Some('\\') => field.push('\\'),
                Some('|') => field.push('|'),
                Some('n') => field.push('\n'),
                Some('r') => field.push('\r'),
                other => return Err(format!("bad header escape {other:?}")),
            },
            Some('|') => header.push(std::mem::take(&mut field)),
            Some('\n' | '\r') => return Err("raw line break in the header".into()),
            Some(c) => field.push(c),
            None => return Err("short header".into()),
        }
    }
    let ext_text: String = chars.collect();
    // Split at every unescaped '=': the key is the word before it.
    let mut ext: Vec<(String, String)> = Vec::new();
    let mut current_key: Option<String> = None;
    let mut value = String::new();
    let mut it = ext_text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('\\') => value.push('\\'),
                Some('=') => value.push('='),
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                other => return Err(format!("bad extension escape {other:?}")),
            },
            '=' => {
                // The key is what follows the last space of what was read.
                let (before, key) = match value.rfind(' ') {
                    Some(i) => (value[..i].to_owned(), value[i + 1..].to_owned()),
                    None => (String::new(), std::mem::take(&mut value)),
                };
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!("bad key {key:?}"));
                }
                if let Some(k) = current_key.take() {
                    ext.push((k, before));
                } else if !before.is_empty() {
                    return Err("text before the first key".into());
                }
                current_key = Some(key);
                value.clear();
            }
            '\n' | '\r' => return Err("raw line break in the extension".into()),
            c => value.push(c),
        }
    }
    if let Some(k) = current_key {
        ext.push((k, value));
    }
    Ok(Cef { header, ext })
}

/// The alert a CEF line describes (Ward's mapping, docs/exports.md).
pub fn alert_from_cef(c: &Cef) -> Result<Alert, String> {
    let p: BTreeMap<&str, &str> = c.ext.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let get = |k: &str| p.get(k).map(|v| v.to_string());
    let need = |k: &str| get(k).ok_or(format!("no {k}"));
    let num = |k: &str| -> Result<Option<u64>, String> {
        p.get(k).map(|v| v.parse::<u64>().map_err(|_| format!("{k}={v}"))).transpose()
    };
    let ms = |k: &str| -> Result<Timestamp, String> {
        Ok(Timestamp::from_nanos(num(k)?.ok_or(format!("no {k}"))? * 1_000_000))
    };
    let proto = |v: &str| match v {
        "TCP" => Some(6),
        "UDP" => Some(17),
        "ICMP" => Some(1),
        "IPv6-ICMP" => Some(58),
        "SCTP" => Some(132),
        n => n.parse().ok(),
    };
    let flow = match (p.get("src"), p.get("dst")) {
        (Some(src), Some(dst)) => Some(FlowRef {
            src: src.parse().map_err(|_| "src")?,
            src_port: num("spt")?.ok_or("spt")? as u16,
            dst: dst.parse().map_err(|_| "dst")?,
            dst_port: num("dpt")?.ok_or("dpt")? as u16,
            proto: proto(p.get("proto").ok_or("proto")?).ok_or("proto")?,
            vlan: num("cn3")?.map(|v| v as u16),
        }),
        _ => None,
    };
    let severity = match c.header[5].as_str() {
        "1" => Severity::Info,
        "3" => Severity::Low,
        "5" => Severity::Medium,
        "8" => Severity::High,
        "10" => Severity::Critical,
        s => return Err(format!("severity {s}")),
    };
    if c.header[3] != need("cat")? || c.header[4] != need("msg")? {
        return Err("header and extension disagree".into());
    }
    Ok(Alert {
        id: need("externalId")?.parse().map_err(|_| "externalId")?,
        ts: ms("start")?,
        last_seen: ms("end")?,
        count: num("cnt")?.ok_or("cnt")?,
        severity,
        kind: c.header[3].clone(),
        device: num("cn2")?.map(|d| DeviceId(d as i64)),
        peer: get("cs4").map(|p| p.parse().map_err(|_| "peer")).transpose()?,
        flow,
        source: get("cs1"),
        indicator: get("cs2"),
        confidence: num("cn1")?.map(|c| c as u8),
        evidence: need("cs3")?,
        message: need("msg")?,
        state: need("cs5")?,
        key: need("cs6")?,
    })
}

/// Texts that have broken log pipelines: every delimiter of every format, line breaks,
/// a forged syslog header, non-ASCII.
pub const HOSTILE: [&str; 8] = [
    r#"evil"host]\x"#,
    "a|b=c\\d",
    "two\nlines\rand a return",
    "<13>1 2020-01-01T00:00:00Z forged ward - - - injected",
    "Gerät im Netz: Überwachung ✓",
    "] [other@1 x=\"y\"",
    "CEF:0|x|y|z|w|v|10|src=1.2.3.4",
    "trailing space ",
];

/// `n` alerts, numbered from `first`, whose texts are hostile and whose optional fields
/// come and go. Times are whole microseconds (what syslog's header keeps) and whole
/// milliseconds where CEF must round-trip them.
pub fn alerts(first: i64, n: usize) -> Vec<Alert> {
    (0..n)
        .map(|i| {
            let id = first + i as i64;
            let h = |k: usize| HOSTILE[(i + k) % HOSTILE.len()].to_owned();
            let ts = Timestamp::from_nanos(1_764_512_360_000_000_000 + i as u64 * 1_000_000_000);
            Alert {
                id,
                ts,
                last_seen: ts.add_nanos(2_500_000_000),
                count: 1 + i as u64,
                severity: [
                    Severity::Info,
                    Severity::Low,
                    Severity::Medium,
                    Severity::High,
                    Severity::Critical,
                ][i % 5],
                kind: ["intel_match", "new_peer", "scan", "policy_violation"][i % 4].to_owned(),
                device: (i % 3 != 0).then_some(DeviceId(100 + i as i64)),
                peer: (i % 2 == 0).then(|| format!("203.0.113.{}", i % 250).parse().unwrap()),
                flow: (i % 4 != 3).then(|| FlowRef {
                    src: if i % 2 == 0 {
                        "10.0.0.5".parse().unwrap()
                    } else {
                        "2001:db8::5".parse().unwrap()
                    },
                    src_port: 40000 + i as u16,
                    dst: if i % 2 == 0 {
                        "198.51.100.7".parse().unwrap()
                    } else {
                        "2001:db8::7".parse().unwrap()
                    },
                    dst_port: 443,
                    proto: [6, 17, 1, 47][i % 4],
                    vlan: (i % 2 == 0).then_some(20),
                }),
                source: (i % 2 == 0).then(|| h(1)),
                indicator: (i % 3 != 1).then(|| h(2)),
                confidence: (i % 2 == 1).then_some(75),
                evidence: h(3),
                message: format!("alert {id}: {}", h(0)),
                state: "open".to_owned(),
                key: format!("k:{id}:{}", h(4)),
            }
        })
        .collect()
}

/// A CA and a server certificate for 127.0.0.1 and localhost, made by openssl.
pub fn make_certs(dir: &Path, name: &str) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let run = |args: &[&str]| -> bool {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let ca = format!("{name}-ca.pem");
    let ca_key = format!("{name}-ca.key");
    let key = format!("{name}-server.key");
    let csr = format!("{name}-server.csr");
    let cert = format!("{name}-server.pem");
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .ok()?;
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ok = run(&[
        &["req", "-x509"],
        &ec[..],
        &[
            "-keyout",
            &ca_key,
            "-out",
            &ca,
            "-days",
            "2",
            "-subj",
            &format!("/CN=Ward test CA {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    ]
    .concat())
        && run(&[&["req"], &ec[..], &["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]].concat())
        && run(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
    ok.then(|| (dir.join(ca), dir.join(cert), dir.join(key)))
}
