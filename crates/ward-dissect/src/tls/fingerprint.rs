//! JA3 (Salesforce, BSD-3) and JA4 (FoxIO, the TLS client fingerprint of the JA4+ family, the
//! only one under BSD-3) of a ClientHello. The other JA4+ fingerprints are under a
//! non-commercial licence and are deliberately not implemented.

use std::fmt::Write;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::hello::{ClientHello, ext, is_grease};

fn joined<T: std::fmt::Display>(items: impl Iterator<Item = T>, sep: &str) -> String {
    let mut s = String::new();
    for (i, x) in items.enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{x}");
    }
    s
}

/// The JA3 string: version, ciphers, extensions, groups and point formats in decimal, GREASE
/// left out.
pub(crate) fn ja3_string(ch: &ClientHello) -> String {
    let clean = |v: &[u16]| joined(v.iter().filter(|x| !is_grease(**x)), "-");
    format!(
        "{},{},{},{},{}",
        ch.version,
        clean(&ch.ciphers),
        clean(&ch.extensions),
        clean(&ch.groups),
        joined(ch.point_formats.iter(), "-")
    )
}

/// JA3: the MD5 of [`ja3_string`], in hex.
pub(crate) fn ja3(ch: &ClientHello) -> String {
    hex_digest(&Md5::digest(ja3_string(ch).as_bytes()), 32)
}

fn hex_digest(d: &[u8], chars: usize) -> String {
    let mut s = String::with_capacity(d.len() * 2);
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s.truncate(chars);
    s
}

/// The first twelve hex digits of the SHA-256 of `s`; twelve zeros for nothing.
fn ja4_hash(s: &str) -> String {
    if s.is_empty() { "0".repeat(12) } else { hex_digest(&Sha256::digest(s.as_bytes()), 12) }
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The two characters JA4 takes from the first ALPN value: its first and last characters,
/// or `99` when either is not alphanumeric ASCII (FoxIO's reference output for the ALPN
/// `0xbaad` is `99`), or `00` without ALPN.
fn ja4_alpn(alpn: Option<&Vec<u8>>) -> String {
    let Some(v) = alpn.filter(|v| !v.is_empty()) else { return "00".into() };
    let (first, last) = (v[0], v[v.len() - 1]);
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        format!("{}{}", first as char, last as char)
    } else {
        "99".into()
    }
}

/// JA4's three parts before hashing: the prefix, the sorted ciphers, and the sorted
/// extensions with the signature algorithms (`JA4_r`).
pub(crate) fn ja4_raw(ch: &ClientHello) -> (String, String, String) {
    let ciphers: Vec<u16> = ch.ciphers.iter().copied().filter(|c| !is_grease(*c)).collect();
    let exts: Vec<u16> = ch.extensions.iter().copied().filter(|e| !is_grease(*e)).collect();
    let version = ch.versions.iter().copied().filter(|v| !is_grease(*v)).max().unwrap_or(ch.version);
    let prefix = format!(
        "t{}{}{:02}{:02}{}",
        ja4_version(version),
        if ch.extensions.contains(&ext::SERVER_NAME) { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99),
        ja4_alpn(ch.alpn.first()),
    );
    let mut sorted_ciphers = ciphers;
    sorted_ciphers.sort_unstable();
    let mut sorted_exts: Vec<u16> =
        exts.into_iter().filter(|e| *e != ext::SERVER_NAME && *e != ext::ALPN).collect();
    sorted_exts.sort_unstable();
    let hex4 = |v: &[u16]| joined(v.iter().map(|x| format!("{x:04x}")), ",");
    let mut c = hex4(&sorted_exts);
    let sigs: Vec<u16> = ch.signature_algorithms.iter().copied().filter(|s| !is_grease(*s)).collect();
    if !sigs.is_empty() {
        c.push('_');
        c.push_str(&hex4(&sigs));
    }
    (prefix, hex4(&sorted_ciphers), c)
}

/// JA4 of a ClientHello carried over TCP.
pub(crate) fn ja4(ch: &ClientHello) -> String {
    let (a, b, c) = ja4_raw(ch);
    format!("{a}_{}_{}", ja4_hash(&b), ja4_hash(&c))
}
