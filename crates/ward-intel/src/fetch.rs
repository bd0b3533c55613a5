//! Feeds over HTTP(S): conditional downloads (ETag, Last-Modified) and TAXII 2.1 polling.
//! The only network I/O of this crate.
//!
//! The client is `ureq` with rustls and the operating system's trust store (read by
//! `rustls-native-certs`: a hospital's own CA works, no root bundle is vendored), as in
//! `ward-vuln`, so that Ward has one HTTP client. Bodies are capped at
//! [`crate::MAX_FEED_BYTES`].

use std::time::Duration;

use serde_json::Value;

use crate::formats::taxii::{self, Collection, MEDIA_TYPE};

/// Objects asked for per TAXII page.
pub const PAGE_LIMIT: usize = 1000;

/// Most pages read from one collection in one poll.
pub const MAX_PAGES: usize = 10_000;

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
    #[error("{url}: {message}")]
    Answer {
        /// What was asked for.
        url: String,
        /// Why it could not be used.
        message: String,
    },
}

/// What a server said about a resource last time: sent back to ask whether it changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// The `ETag` header.
    #[serde(default)]
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    #[serde(default)]
    pub last_modified: Option<String>,
}

/// A conditional download.
#[derive(Debug)]
pub enum Fetched {
    /// 304: what we have is current.
    NotModified,
    /// The body, and the validators for next time.
    Body(Vec<u8>, Validators),
}

/// One TAXII collection polled.
#[derive(Debug)]
pub struct CollectionPoll {
    /// The collection.
    pub collection: Collection,
    /// Its objects URL.
    pub url: String,
    /// Objects added since the last poll.
    pub objects: Vec<Value>,
    /// Pages read.
    pub pages: usize,
    /// `X-TAXII-Date-Added-Last` of the last page: `added_after` for the next poll.
    pub added_last: Option<String>,
}

/// An HTTP client for feeds.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Client {
        Client::new(Duration::from_secs(60))
    }
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

/// `s` percent-encoded for a query value.
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') { url.to_owned() } else { format!("{url}/") }
}

impl Client {
    /// A client whose every request gives up after `timeout`. HTTPS trusts the operating
    /// system's certificate store (`/etc/ssl/certs`, or `SSL_CERT_FILE`/`SSL_CERT_DIR`).
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

    fn call(
        &self,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req.call()
            .map_err(|e| FetchError::Http { url: url.to_owned(), message: crate::short(&e.to_string(), 200) })
    }

    fn body(url: &str, resp: &mut ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, FetchError> {
        resp.body_mut()
            .with_config()
            .limit(crate::MAX_FEED_BYTES)
            .read_to_vec()
            .map_err(|e| FetchError::Http { url: url.to_owned(), message: crate::short(&e.to_string(), 200) })
    }

    /// `url`, unless it has not changed since `since` was given.
    pub fn get_if_changed(
        &self,
        url: &str,
        auth: Option<&(String, String)>,
        since: &Validators,
    ) -> Result<Fetched, FetchError> {
        let mut headers: Vec<(String, String)> = auth.into_iter().cloned().collect();
        if let Some(e) = &since.etag {
            headers.push(("If-None-Match".into(), e.clone()));
        }
        if let Some(m) = &since.last_modified {
            headers.push(("If-Modified-Since".into(), m.clone()));
        }
        let mut resp = self.call(url, &headers)?;
        if resp.status() == 304 {
            return Ok(Fetched::NotModified);
        }
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let validators = Validators { etag: header("etag"), last_modified: header("last-modified") };
        Ok(Fetched::Body(Self::body(url, &mut resp)?, validators))
    }

    /// A TAXII answer: the body and one response header.
    fn taxii(
        &self,
        url: &str,
        auth: Option<&(String, String)>,
        header: &str,
    ) -> Result<(Vec<u8>, Option<String>), FetchError> {
        let mut headers: Vec<(String, String)> = auth.into_iter().cloned().collect();
        headers.push(("Accept".into(), MEDIA_TYPE.into()));
        let mut resp = self.call(url, &headers)?;
        let h = resp.headers().get(header).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok((Self::body(url, &mut resp)?, h))
    }

    /// The API root a TAXII URL stands for: a discovery URL gives its default root (or its
    /// first); any other URL is taken as an API root.
    pub fn taxii_api_root(&self, url: &str, auth: Option<&(String, String)>) -> Result<String, FetchError> {
        let (body, _) = self.taxii(url, auth, "content-type")?;
        if taxii::is_discovery(&body) {
            let d = taxii::parse_discovery(&body)
                .map_err(|e| FetchError::Answer { url: url.to_owned(), message: e.to_string() })?;
            let root = d.default.or_else(|| d.api_roots.into_iter().next()).unwrap_or_default();
            return Ok(with_slash(&join(url, &root)));
        }
        Ok(with_slash(url))
    }

    /// The readable collections of an API root; `only` picks one by id or title.
    pub fn taxii_collections(
        &self,
        api_root: &str,
        auth: Option<&(String, String)>,
        only: Option<&str>,
    ) -> Result<Vec<Collection>, FetchError> {
        let url = join(api_root, "collections/");
        let (body, _) = self.taxii(&url, auth, "content-type")?;
        let all = taxii::parse_collections(&body)
            .map_err(|e| FetchError::Answer { url: url.clone(), message: e.to_string() })?;
        let picked: Vec<Collection> = all
            .into_iter()
            .filter(|c| c.can_read)
            .filter(|c| only.is_none_or(|o| c.id == o || c.title.eq_ignore_ascii_case(o)))
            .collect();
        if picked.is_empty() {
            return Err(FetchError::Answer {
                url,
                message: match only {
                    Some(o) => format!("no readable collection {o:?}"),
                    None => "no readable collection".into(),
                },
            });
        }
        Ok(picked)
    }

    /// The objects of a collection added after `added_after`, every page (`next`).
    pub fn taxii_objects(
        &self,
        api_root: &str,
        collection: &Collection,
        auth: Option<&(String, String)>,
        added_after: Option<&str>,
    ) -> Result<CollectionPoll, FetchError> {
        let base = join(api_root, &format!("collections/{}/objects/", encode_query(&collection.id)));
        let mut poll = CollectionPoll {
            collection: collection.clone(),
            url: base.clone(),
            objects: Vec::new(),
            pages: 0,
            added_last: None,
        };
        let mut next: Option<String> = None;
        loop {
            // `limit` on every page: the server may lower it, and medallion (the reference
            // server) fails a `next` request without one.
            let mut query = vec![format!("limit={PAGE_LIMIT}")];
            if let Some(a) = added_after {
                query.push(format!("added_after={}", encode_query(a)));
            }
            if let Some(n) = &next {
                query.push(format!("next={}", encode_query(n)));
            }
            let url = format!("{base}?{}", query.join("&"));
            let (body, added_last) = self.taxii(&url, auth, "x-taxii-date-added-last")?;
            let env = taxii::parse_envelope(&body)
                .map_err(|e| FetchError::Answer { url: url.clone(), message: e.to_string() })?;
            poll.pages += 1;
            if added_last.is_some() {
                poll.added_last = added_last;
            }
            let empty = env.objects.is_empty();
            poll.objects.extend(env.objects);
            if poll.objects.len() >= taxii::MAX_OBJECTS || poll.pages >= MAX_PAGES {
                break;
            }
            // A server may hand out one `next` token for the whole walk (medallion does):
            // a page that brings nothing ends it, so a confused server cannot loop us.
            match (env.more, env.next) {
                (true, Some(n)) if !empty => next = Some(n),
                _ => break,
            }
        }
        Ok(poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A one-connection-at-a-time HTTP server that answers by ETag and records the
    /// requests' headers.
    fn etag_server(requests: usize) -> (String, std::thread::JoinHandle<Vec<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/feed.txt", listener.local_addr().expect("addr"));
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..requests {
                let Ok((stream, _)) = listener.accept() else { break };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    headers.push(line.trim_end().to_ascii_lowercase());
                }
                let mut out = stream;
                let fresh = headers.iter().any(|h| h == "if-none-match: \"v1\"");
                let answer = if fresh {
                    "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 0\r\n\r\n".to_owned()
                } else {
                    let body = "45.9.20.1\n";
                    format!("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                };
                let _ = out.write_all(answer.as_bytes());
                seen.push(headers);
            }
            seen
        });
        (url, handle)
    }

    #[test]
    fn etags_and_api_keys() {
        let (url, server) = etag_server(2);
        let client = Client::new(Duration::from_secs(10));
        let key = ("X-API-Key".to_owned(), "k3y".to_owned());
        let Fetched::Body(body, v) =
            client.get_if_changed(&url, Some(&key), &Validators::default()).expect("get")
        else {
            panic!("a first request has a body");
        };
        assert_eq!((body.as_slice(), v.etag.as_deref()), (&b"45.9.20.1\n"[..], Some("\"v1\"")));
        assert!(matches!(client.get_if_changed(&url, Some(&key), &v), Ok(Fetched::NotModified)));
        let seen = server.join().expect("server");
        assert!(seen.iter().all(|h| h.contains(&"x-api-key: k3y".to_owned())), "{seen:?}");
        assert!(seen[1].contains(&"if-none-match: \"v1\"".to_owned()));
    }

    #[test]
    fn joins_and_encodes() {
        assert_eq!(join("http://h:8/taxii2/", "/api1/"), "http://h:8/api1/");
        assert_eq!(join("http://h:8/api1/", "collections/"), "http://h:8/api1/collections/");
        assert_eq!(join("http://h:8/taxii2/", "https://o/api/"), "https://o/api/");
        assert_eq!(encode_query("2016-11-01T03:04:05.1Z"), "2016-11-01T03:04:05.1Z");
        assert_eq!(encode_query("a b+c/d"), "a%20b%2Bc%2Fd");
    }
}
