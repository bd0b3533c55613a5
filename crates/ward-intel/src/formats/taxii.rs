//! TAXII 2.1 answers (media type `application/taxii+json;version=2.1`): the server's
//! discovery, an API root's collections, and envelopes of objects with their pagination.

use serde::Deserialize;
use serde_json::Value;

/// The media type TAXII 2.1 answers are asked for in.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Most objects taken from one envelope.
pub const MAX_OBJECTS: usize = 1_000_000;

/// An answer that is not what TAXII 2.1 says it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TaxiiError(pub String);

/// `GET /taxii2/`: where the API roots are.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    /// The server's title.
    #[serde(default)]
    pub title: Option<String>,
    /// The default API root.
    #[serde(default)]
    pub default: Option<String>,
    /// Every API root.
    #[serde(default)]
    pub api_roots: Vec<String>,
}

/// One collection of an API root.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Collection {
    /// Its id (used in URLs).
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Whether objects may be read.
    #[serde(default)]
    pub can_read: bool,
}

#[derive(Deserialize)]
struct Collections {
    #[serde(default)]
    collections: Vec<Collection>,
}

/// A page of objects.
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    /// Whether more pages follow.
    pub more: bool,
    /// The value of `next` for the following page.
    pub next: Option<String>,
    /// The objects.
    pub objects: Vec<Value>,
}

#[derive(Deserialize)]
struct EnvelopeJson {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
}

fn json<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, TaxiiError> {
    serde_json::from_slice(bytes).map_err(|e| TaxiiError(format!("not a TAXII {what}: {e}")))
}

/// Reads a discovery answer.
pub fn parse_discovery(bytes: &[u8]) -> Result<Discovery, TaxiiError> {
    let d: Discovery = json(bytes, "discovery answer")?;
    if d.api_roots.is_empty() && d.default.is_none() {
        return Err(TaxiiError("the discovery answer names no API root".into()));
    }
    Ok(d)
}

/// Reads an API root's collections.
pub fn parse_collections(bytes: &[u8]) -> Result<Vec<Collection>, TaxiiError> {
    Ok(json::<Collections>(bytes, "collections answer")?.collections)
}

/// Reads an envelope. An envelope that says `more` without a `next` is read as the last
/// page (TAXII 2.1 servers page by `next`; without one there is no way to ask for more).
pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope, TaxiiError> {
    let e: EnvelopeJson = json(bytes, "envelope")?;
    let mut objects = e.objects;
    objects.truncate(MAX_OBJECTS);
    let next = e.next.filter(|n| !n.is_empty() && n.len() <= 1024);
    Ok(Envelope { more: e.more && next.is_some(), next, objects })
}

/// Whether a JSON document is a TAXII discovery answer (for feeds of format `auto`).
pub fn is_discovery(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok_and(|v| v.get("api_roots").is_some_and(Value::is_array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let d = parse_discovery(br#"{"title": "T", "default": "http://h/api1/", "api_roots": ["http://h/api1/", "http://h/api2/"]}"#).unwrap();
        assert_eq!(d.api_roots.len(), 2);
        assert!(parse_discovery(br#"{"title": "T"}"#).is_err());
        let c = parse_collections(
            br#"{"collections": [{"id": "c1", "title": "x", "can_read": true, "can_write": false}]}"#,
        )
        .unwrap();
        assert_eq!(c[0].id, "c1");
        assert!(parse_collections(b"{}").unwrap().is_empty());
        let e =
            parse_envelope(br#"{"more": true, "next": "abc", "objects": [{"type": "indicator"}]}"#).unwrap();
        assert!(e.more && e.next.as_deref() == Some("abc") && e.objects.len() == 1);
        let last = parse_envelope(br#"{"more": true}"#).unwrap();
        assert!(!last.more);
        assert!(parse_envelope(b"[1]").is_err());
        assert!(is_discovery(br#"{"api_roots": []}"#));
    }
}
