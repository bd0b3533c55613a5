//! Domain names as feeds write them and as lookups ask for them.
//!
//! Names are compared in lower case without a trailing dot. A feed's name is refused when
//! it would match far more than it means to: a single label (`com`, `localhost`, `local`:
//! suffix matching would list every name under it), and the names reserved for local use
//! (`.local`, `.localhost`, `.invalid`, `.home.arpa`, `.internal`), which inside a hospital
//! are its own devices.

/// Longest URL taken as an indicator.
pub const MAX_URL: usize = 4096;

/// Longest name (RFC 1035), without the trailing dot.
pub const MAX_NAME: usize = 253;

/// Why a name is not a domain indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Not a host name (characters, label lengths, total length).
    Invalid,
    /// A name that would match everything under it, or one for local use only.
    Refused(&'static str),
}

/// Suffixes for local use (RFC 6761, RFC 6762, RFC 8375).
const LOCAL_SUFFIXES: &[&str] = &["local", "localhost", "invalid", "home.arpa", "internal"];

/// The name in lower case without a trailing dot, if it is a host name a feed may list.
/// Underscores are accepted (service labels and real malware domains use them); non-ASCII
/// names must come as punycode (`xn--`).
pub fn normalize(text: &str) -> Result<String, NameError> {
    let t = text.trim();
    let t = t.strip_suffix('.').unwrap_or(t);
    let t = t.strip_prefix("*.").unwrap_or(t);
    if t.is_empty() || t.len() > MAX_NAME {
        return Err(NameError::Invalid);
    }
    let mut labels = 0;
    for label in t.split('.') {
        let b = label.as_bytes();
        if b.is_empty()
            || b.len() > 63
            || b[0] == b'-'
            || b[b.len() - 1] == b'-'
            || !b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return Err(NameError::Invalid);
        }
        labels += 1;
    }
    let lower = t.to_ascii_lowercase();
    if labels < 2 {
        return Err(NameError::Refused("a single label would match every name under it"));
    }
    // An address is not a name (a domain list carrying one is read as an address).
    if lower.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return Err(NameError::Invalid);
    }
    let local = |s: &str| lower.strip_suffix(s).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'));
    if LOCAL_SUFFIXES.iter().any(|s| local(s)) {
        return Err(NameError::Refused("reserved for local use"));
    }
    Ok(lower)
}

/// A name being looked up, lower-cased into `buf` without a trailing dot; `None` when it is
/// too long or empty. No allocation: lookups run per DNS answer and TLS hello.
pub fn lookup_key<'a>(name: &str, buf: &'a mut [u8; MAX_NAME + 1]) -> Option<&'a [u8]> {
    let b = name.as_bytes();
    let b = b.strip_suffix(b".").unwrap_or(b);
    if b.is_empty() || b.len() > MAX_NAME {
        return None;
    }
    let out = &mut buf[..b.len()];
    out.copy_from_slice(b);
    out.make_ascii_lowercase();
    Some(out)
}

/// The host of a URL (`scheme://[user@]host[:port]/...`), normalised; `None` when there is
/// none or it is an address (returned as `Err` with the address text).
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// A URL as it is compared: scheme and host in lower case, no fragment. `None` when it has
/// no scheme and host.
pub fn normalize_url(url: &str) -> Option<String> {
    let url = url.trim();
    // A URL holds no spaces or control characters (they come percent-encoded).
    if url.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-') {
        return None;
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(host_end);
    if authority.is_empty() || url.len() > 2 * MAX_URL {
        return None;
    }
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.is_empty() { "/" } else { path };
    let out = format!("{}://{}{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase(), path);
    // Judged on the result, so that a normalised URL normalises to itself.
    (out.len() <= MAX_URL).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses() {
        assert_eq!(normalize("Evil.Example.").unwrap(), "evil.example");
        assert_eq!(normalize("*.evil.example").unwrap(), "evil.example");
        assert_eq!(normalize("a_b.evil-1.example").unwrap(), "a_b.evil-1.example");
        assert!(matches!(normalize("com"), Err(NameError::Refused(_))));
        assert!(matches!(normalize("localhost"), Err(NameError::Refused(_))));
        assert!(matches!(normalize("printer.local"), Err(NameError::Refused(_))));
        assert!(matches!(normalize("a.localhost."), Err(NameError::Refused(_))));
        assert_eq!(normalize("-bad.example"), Err(NameError::Invalid));
        assert_eq!(normalize("a..b"), Err(NameError::Invalid));
        assert_eq!(normalize("é.example"), Err(NameError::Invalid));
        assert_eq!(normalize("1.2.3.4"), Err(NameError::Invalid));
        assert_eq!(normalize(&"a".repeat(64)), Err(NameError::Invalid));
    }

    #[test]
    fn urls() {
        assert_eq!(url_host("http://user@Evil.Example:8080/x?y"), Some("Evil.Example"));
        assert_eq!(url_host("https://[2a00::1]:443/"), Some("2a00::1"));
        assert_eq!(url_host("evil.example/path"), Some("evil.example"));
        assert_eq!(normalize_url("HTTP://Evil.Example/A#frag").as_deref(), Some("http://evil.example/A"));
        assert_eq!(normalize_url("http://evil.example").as_deref(), Some("http://evil.example/"));
        assert_eq!(normalize_url("evil.example/x"), None);
        // Fuzzing found it: spaces before a fragment survived the first normalisation only.
        assert_eq!(normalize_url("https://a.example/x   #f"), None);
        let mut buf = [0u8; MAX_NAME + 1];
        assert_eq!(lookup_key("A.Evil.Example.", &mut buf), Some(&b"a.evil.example"[..]));
    }
}
