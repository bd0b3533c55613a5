//! JA3 (Salesforce, BSD-3) and JA4 (FoxIO, the TLS client fingerprint of the JA4+ family, the
//! only one under BSD-3) of a ClientHello. The other JA4+ fingerprints are under a
//! non-commercial licence and are deliberately not implemented.

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::hello::{ClientHello, ext, is_grease};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `v` in decimal (this runs for every ClientHello: no formatting machinery).
fn push_decimal(s: &mut String, v: u16) {
    let mut buf = [0u8; 5];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    s.extend(buf[i..].iter().map(|b| char::from(*b)));
}

/// Appends `v` as four lowercase hex digits.
fn push_hex4(s: &mut String, v: u16) {
    for shift in [12, 8, 4, 0] {
        s.push(char::from(HEX[usize::from((v >> shift) & 0xf)]));
    }
}

/// Values joined by `sep`, each written by `put`.
fn joined<T: Copy>(s: &mut String, items: impl Iterator<Item = T>, sep: char, put: impl Fn(&mut String, T)) {
    for (i, x) in items.enumerate() {
        if i > 0 {
            s.push(sep);
        }
        put(s, x);
    }
}

/// The JA3 string: version, ciphers, extensions, groups and point formats in decimal, GREASE
/// left out.
pub(crate) fn ja3_string(ch: &ClientHello) -> String {
    let mut s = String::with_capacity(256);
    push_decimal(&mut s, ch.version);
    for list in [&ch.ciphers, &ch.extensions, &ch.groups] {
        s.push(',');
        joined(&mut s, list.iter().copied().filter(|x| !is_grease(*x)), '-', push_decimal);
    }
    s.push(',');
    joined(&mut s, ch.point_formats.iter().map(|p| u16::from(*p)), '-', push_decimal);
    s
}

/// JA3: the MD5 of [`ja3_string`], in hex.
pub(crate) fn ja3(ch: &ClientHello) -> String {
    hex_digest(&Md5::digest(ja3_string(ch).as_bytes()), 32)
}

fn hex_digest(d: &[u8], chars: usize) -> String {
    let mut s = String::with_capacity(d.len() * 2);
    for b in d {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
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
    let mut ciphers: Vec<u16> = ch.ciphers.iter().copied().filter(|c| !is_grease(*c)).collect();
    let mut exts: Vec<u16> = ch.extensions.iter().copied().filter(|e| !is_grease(*e)).collect();
    let version = ch.versions.iter().copied().filter(|v| !is_grease(*v)).max().unwrap_or(ch.version);
    let mut prefix = String::with_capacity(10);
    prefix.push('t');
    prefix.push_str(ja4_version(version));
    prefix.push(if ch.extensions.contains(&ext::SERVER_NAME) { 'd' } else { 'i' });
    for n in [ciphers.len().min(99), exts.len().min(99)] {
        prefix.push(char::from(b'0' + (n / 10) as u8));
        prefix.push(char::from(b'0' + (n % 10) as u8));
    }
    prefix.push_str(&ja4_alpn(ch.alpn.first()));
    ciphers.sort_unstable();
    exts.retain(|e| *e != ext::SERVER_NAME && *e != ext::ALPN);
    exts.sort_unstable();
    let mut b = String::with_capacity(ciphers.len() * 5);
    joined(&mut b, ciphers.iter().copied(), ',', push_hex4);
    let mut c = String::with_capacity((exts.len() + ch.signature_algorithms.len()) * 5 + 1);
    joined(&mut c, exts.iter().copied(), ',', push_hex4);
    let mut sigs = ch.signature_algorithms.iter().copied().filter(|s| !is_grease(*s)).peekable();
    if sigs.peek().is_some() {
        c.push('_');
        joined(&mut c, sigs, ',', push_hex4);
    }
    (prefix, b, c)
}

/// JA4 of a ClientHello carried over TCP.
pub(crate) fn ja4(ch: &ClientHello) -> String {
    let (a, b, c) = ja4_raw(ch);
    format!("{a}_{}_{}", ja4_hash(&b), ja4_hash(&c))
}

/// Fingerprints remembered per thread: a network has few TLS stacks, and each sends the same
/// hello shape on every connection.
const CACHED: usize = 64;

/// What JA3 and JA4 depend on, GREASE values left out (they change with every hello): the
/// cache key.
fn shape(ch: &ClientHello) -> Vec<u16> {
    let mut k = Vec::with_capacity(
        8 + ch.ciphers.len() + ch.extensions.len() + ch.groups.len() + ch.signature_algorithms.len(),
    );
    k.push(ch.version);
    for list in [&ch.ciphers, &ch.extensions, &ch.groups, &ch.signature_algorithms, &ch.versions] {
        k.push(0x0a0a);
        k.extend(list.iter().copied().filter(|x| !is_grease(*x)));
    }
    k.push(0x0a0a);
    k.extend(ch.point_formats.iter().map(|p| u16::from(*p)));
    k.push(0x0a0a);
    k.extend(ch.alpn.first().into_iter().flatten().map(|b| u16::from(*b)));
    k
}

thread_local! {
    static CACHE: std::cell::RefCell<Vec<(Vec<u16>, String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// JA3 and JA4 of a ClientHello, from the cache when this thread saw the same shape lately.
pub(crate) fn ja3_ja4(ch: &ClientHello) -> (String, String) {
    let key = shape(ch);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(i) = c.iter().position(|(k, _, _)| *k == key) {
            let hit = c.remove(i);
            let out = (hit.1.clone(), hit.2.clone());
            c.insert(0, hit);
            return out;
        }
        let (j3, j4) = (ja3(ch), ja4(ch));
        c.truncate(CACHED - 1);
        c.insert(0, (key, j3.clone(), j4.clone()));
        (j3, j4)
    })
}
