//! Webhooks: each alert is an HTTP POST of its JSON ([`crate::format::json`]).
//!
//! A 2xx answer delivers it. 408, 425, 429 and 5xx answers, and requests that did not get
//! an answer (refused, timed out), are retried: after the receiver's `Retry-After` (seconds
//! or an HTTP date) when it gives one, else after the sink's back-off. Any other answer
//! (a 4xx: the receiver will not take it as sent) fails the alert at once. Redirects are not
//! followed: a POST that a receiver moves is a configuration to fix.
//!
//! Optional headers: `Authorization: Bearer <token>`, and `X-Ward-Signature:
//! sha256=<hex>`, the HMAC-SHA256 of the body under the configured secret, so a receiver
//! can check that the alert came from Ward unaltered.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use ward_core::Alert;

use super::{Outcome, Sink};
use crate::format::json;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Ward-Signature";

pub(crate) struct WebhookSink {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
    hmac_secret: Option<Vec<u8>>,
}

impl WebhookSink {
    pub(crate) fn new(
        url: String,
        headers: Vec<(String, String)>,
        bearer_token: Option<&str>,
        hmac_secret: Option<&str>,
        roots: &[rustls::pki_types::CertificateDer<'static>],
        timeout: Duration,
    ) -> WebhookSink {
        use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
        let roots: Vec<Certificate<'static>> =
            roots.iter().map(|c| Certificate::from_der(c.as_ref()).to_owned()).collect();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                TlsConfig::builder()
                    .provider(TlsProvider::Rustls)
                    .root_certs(RootCerts::new_with_certs(&roots))
                    .build(),
            )
            .build()
            .new_agent();
        let mut headers = headers;
        if let Some(t) = bearer_token {
            headers.push(("Authorization".into(), format!("Bearer {t}")));
        }
        WebhookSink { agent, url, headers, hmac_secret: hmac_secret.map(|s| s.as_bytes().to_vec()) }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A `Retry-After` value: delay seconds, or an HTTP date (IMF-fixdate) from `now`.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(s: &str) -> Option<u64> {
    let mut parts = s.split_ascii_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let name = parts.next()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == name)? as u64
        + 1;
    let year: u64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let (h, m, sec): (u64, u64, u64) =
        (hms.next()?.parse().ok()?, hms.next()?.parse().ok()?, hms.next()?.parse().ok()?);
    if parts.next()? != "GMT"
        || !(1..=31).contains(&day)
        || h > 23
        || m > 59
        || sec > 60
        || !(1970..=9999).contains(&year)
    {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), for years from 1970.
    let (y, mo) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y % 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

impl Sink for WebhookSink {
    fn deliver(&mut self, alert: &Alert) -> Outcome {
        let body = json::format(alert);
        let mut req = self.agent.post(&self.url).header("Content-Type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(secret) = &self.hmac_secret {
            req = req.header(SIGNATURE_HEADER, signature(secret, &body));
        }
        let resp = match req.send(&body[..]) {
            Ok(r) => r,
            Err(e) => return Outcome::Retry { after: None, error: format!("{}: {e}", self.url) },
        };
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Outcome::Sent;
        }
        let error = format!("{}: HTTP {status}", self.url);
        if matches!(status, 408 | 425 | 429 | 500..=599) {
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, SystemTime::now()));
            Outcome::Retry { after, error }
        } else {
            Outcome::Failed(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // 1994-11-06 08:49:30
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 CET", now), None);
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date("Sat, 29 Feb 2020 12:00:00 GMT"), Some(1_582_977_600));
    }

    proptest::proptest! {
        /// A receiver's header is untrusted input: any text gives a wait or none, never a
        /// panic (this is the crate's one parser of what comes from the network).
        #[test]
        fn retry_after_never_panics(s in "\\PC{0,40}", n in proptest::num::u64::ANY,
                                     d in 0u64..99, y in proptest::num::u64::ANY) {
            let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            let _ = retry_after(&s, now);
            let _ = retry_after(&n.to_string(), now);
            let _ = retry_after(&format!("Mon, {d:02} Feb {y} 23:59:60 GMT"), now);
            let _ = retry_after(&format!("Mon, {d} Jan {} 00:00:00 GMT", y % 20000), now);
        }
    }

    #[test]
    fn signature_is_rfc4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
