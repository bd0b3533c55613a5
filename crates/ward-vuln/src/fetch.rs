//! CSAF providers and single documents over HTTP(S): the only I/O of this crate besides
//! reading files it is handed.
//!
//! A provider publishes `provider-metadata.json` (CSAF 2.0 section 7.1.20) with
//! distributions: a ROLIE feed (a JSON Atom feed whose entries link to documents) or a
//! directory with an `index.txt` listing the documents' paths. Every document is fetched on
//! its own; one that fails is reported by its URL and the others go on.
//!
//! TLS is rustls with the operating system's trust store, read by `rustls-native-certs` (a
//! hospital's own CA works; no root bundle is vendored). Bodies are capped at
//! [`crate::document::MAX_DOCUMENT`], lists at [`MAX_ENTRIES`] documents.

use std::time::Duration;

use serde::Deserialize;

use crate::document::MAX_DOCUMENT;
use crate::{ParseError, short};

/// Most documents taken from one feed or directory.
pub const MAX_ENTRIES: usize = 100_000;

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request failed (connection, TLS, status, size).
    #[error("{url}: {message}")]
    Http {
        /// What was asked for.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// What came back is not what was expected.
    #[error("{url}: {error}")]
    Parse {
        /// What was asked for.
        url: String,
        /// Why it could not be read.
        error: ParseError,
    },
}

/// A provider's metadata: where its documents are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// Where the metadata says it lives.
    pub canonical_url: String,
    /// ROLIE feed URLs.
    pub feeds: Vec<String>,
    /// Directory URLs (each with an `index.txt`).
    pub directories: Vec<String>,
}

#[derive(Deserialize)]
struct MetaJson {
    canonical_url: String,
    #[serde(default)]
    distributions: Vec<Distribution>,
}

#[derive(Deserialize)]
struct Distribution {
    #[serde(default)]
    directory_url: Option<String>,
    #[serde(default)]
    rolie: Option<Rolie>,
}

#[derive(Deserialize)]
struct Rolie {
    #[serde(default)]
    feeds: Vec<Feed>,
}

#[derive(Deserialize)]
struct Feed {
    url: String,
}

#[derive(Deserialize)]
struct RolieDoc {
    feed: RolieFeed,
}

#[derive(Deserialize)]
struct RolieFeed {
    #[serde(default)]
    entry: Vec<RolieEntry>,
}

#[derive(Deserialize)]
struct RolieEntry {
    #[serde(default)]
    content: Option<RolieContent>,
    #[serde(default)]
    link: Vec<RolieLink>,
}

#[derive(Deserialize)]
struct RolieContent {
    src: String,
}

#[derive(Deserialize)]
struct RolieLink {
    #[serde(default)]
    rel: String,
    href: String,
}

impl ProviderMetadata {
    /// Reads provider metadata from parsed JSON.
    pub fn from_value(value: serde_json::Value) -> Result<ProviderMetadata, ParseError> {
        let m: MetaJson = serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
        let mut feeds = Vec::new();
        let mut directories = Vec::new();
        for d in m.distributions {
            if let Some(dir) = d.directory_url {
                directories.push(dir);
            }
            if let Some(r) = d.rolie {
                feeds.extend(r.feeds.into_iter().map(|f| f.url));
            }
        }
        if feeds.is_empty() && directories.is_empty() {
            return Err(ParseError::Invalid("provider metadata lists no ROLIE feed and no directory".into()));
        }
        Ok(ProviderMetadata { canonical_url: m.canonical_url, feeds, directories })
    }
}

/// Document URLs in a ROLIE feed.
pub fn rolie_entries(bytes: &[u8], base: &str) -> Result<Vec<String>, ParseError> {
    let doc: RolieDoc = serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    let mut out = Vec::new();
    for e in doc.feed.entry.into_iter().take(MAX_ENTRIES) {
        let href = e
            .content
            .map(|c| c.src)
            .or_else(|| e.link.into_iter().find(|l| l.rel == "self" || l.rel.is_empty()).map(|l| l.href));
        if let Some(h) = href {
            out.push(join(base, &h));
        }
    }
    Ok(out)
}

/// Document URLs in a directory's `index.txt` (one path a line, relative to the directory).
pub fn directory_entries(index: &[u8], directory: &str) -> Vec<String> {
    let base = if directory.ends_with('/') { directory.to_owned() } else { format!("{directory}/") };
    String::from_utf8_lossy(index)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && l.ends_with(".json"))
        .take(MAX_ENTRIES)
        .map(|l| join(&base, l))
        .collect()
}

/// `rel` resolved against `base` (absolute URLs, host-relative paths and relative paths).
pub fn join(base: &str, rel: &str) -> String {
    if rel.starts_with("http://") || rel.starts_with("https://") {
        return rel.to_owned();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    if let Some(path) = rel.strip_prefix('/') {
        let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
        return format!("{}/{path}", &base[..host_end]);
    }
    let dir_end = base.rfind('/').filter(|&i| i >= scheme_end).map_or(base.len(), |i| i + 1);
    let dir = &base[..dir_end];
    if dir.ends_with('/') { format!("{dir}{rel}") } else { format!("{dir}/{rel}") }
}

/// A client for providers.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Client {
        Client::new(Duration::from_secs(60))
    }
}

impl Client {
    /// A client whose every request gives up after `timeout`. HTTPS trusts the operating
    /// system's certificate store (`/etc/ssl/certs`, or `SSL_CERT_FILE`/`SSL_CERT_DIR`);
    /// certificates that cannot be read are skipped, and with none HTTPS requests fail
    /// with an error naming the verification, while plain HTTP still works.
    pub fn new(timeout: Duration) -> Client {
        use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
        let loaded = rustls_native_certs::load_native_certs();
        let roots: Vec<Certificate<'static>> =
            loaded.certs.iter().map(|c| Certificate::from_der(c.as_ref()).to_owned()).collect();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(5)
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                TlsConfig::builder()
                    .provider(TlsProvider::Rustls)
                    .root_certs(RootCerts::new_with_certs(&roots))
                    .build(),
            )
            .build()
            .new_agent();
        Client { agent }
    }

    /// The body at `url`, at most [`MAX_DOCUMENT`] bytes.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let http =
            |e: ureq::Error| FetchError::Http { url: url.to_owned(), message: short(&e.to_string(), 200) };
        let mut resp = self.agent.get(url).call().map_err(http)?;
        resp.body_mut().with_config().limit(MAX_DOCUMENT as u64).read_to_vec().map_err(http)
    }

    /// The document URLs a provider lists, from every feed and directory; a list that
    /// cannot be fetched is an error in the second list, the others still count.
    pub fn provider_documents(
        &self,
        meta: &ProviderMetadata,
        meta_url: &str,
    ) -> (Vec<String>, Vec<FetchError>) {
        let mut urls = Vec::new();
        let mut errors = Vec::new();
        for feed in &meta.feeds {
            let feed_url = join(meta_url, feed);
            match self.get(&feed_url) {
                Ok(body) => match rolie_entries(&body, &feed_url) {
                    Ok(list) => urls.extend(list),
                    Err(error) => errors.push(FetchError::Parse { url: feed_url, error }),
                },
                Err(e) => errors.push(e),
            }
        }
        for dir in &meta.directories {
            let dir_url = join(meta_url, dir);
            let index = join(&format!("{}/", dir_url.trim_end_matches('/')), "index.txt");
            match self.get(&index) {
                Ok(body) => urls.extend(directory_entries(&body, &dir_url)),
                Err(e) => errors.push(e),
            }
        }
        urls.sort();
        urls.dedup();
        urls.truncate(MAX_ENTRIES);
        (urls, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(join("http://h:8/a/b/meta.json", "feed.json"), "http://h:8/a/b/feed.json");
        assert_eq!(join("http://h:8/a/b/", "2024/x.json"), "http://h:8/a/b/2024/x.json");
        assert_eq!(join("http://h:8/a/b/meta.json", "/c.json"), "http://h:8/c.json");
        assert_eq!(join("http://h:8/a", "https://o/x.json"), "https://o/x.json");
        assert_eq!(join("http://h:8", "x.json"), "http://h:8/x.json");
    }

    #[test]
    fn lists() {
        let feed = br#"{"feed": {"entry": [{"content": {"src": "2024/a.json"}}, {"link": [{"rel": "self", "href": "https://x/b.json"}]}]}}"#;
        assert_eq!(
            rolie_entries(feed, "http://h/f/feed.json").expect("feed"),
            vec!["http://h/f/2024/a.json", "https://x/b.json"]
        );
        assert_eq!(
            directory_entries(b"2024/a.json\n\n# c\nb.txt\n", "http://h/d"),
            vec!["http://h/d/2024/a.json"]
        );
        let meta = serde_json::json!({"canonical_url": "x", "metadata_version": "2.0", "distributions": []});
        assert!(ProviderMetadata::from_value(meta).is_err());
    }
}
