//! The server certificate: who it names, who vouches for it, when it is valid, and whether it
//! vouches for itself.

use sha1::{Digest as _, Sha1};
use ward_core::Timestamp;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Subject alternative names kept per certificate.
const MAX_NAMES: usize = 8;

/// What Ward keeps of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// Issued by its own subject: nobody else vouches for it.
    pub self_signed: bool,
    /// SHA-1 of the DER, as threat-intelligence lists of certificates use.
    pub sha1: String,
    /// DNS names and addresses it is valid for.
    pub names: Vec<String>,
}

fn time(secs: i64) -> Timestamp {
    Timestamp::from_secs(secs.max(0) as u64)
}

/// Certificates remembered per thread: a hospital's servers show the same few certificates
/// to every client, and parsing one costs more than all the rest of a handshake.
const CACHED: usize = 64;

/// A certificate's DER and what was read from it, most recent first.
type Cache = Vec<(Vec<u8>, std::rc::Rc<Option<CertInfo>>)>;

thread_local! {
    static CACHE: std::cell::RefCell<Cache> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`read`], remembering the last certificates read on this thread (compared byte for byte).
pub(crate) fn read_cached(der: &[u8]) -> std::rc::Rc<Option<CertInfo>> {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(i) = c.iter().position(|(d, _)| d.as_slice() == der) {
            // Move it to the front: the busiest servers stay.
            let hit = c.remove(i);
            let info = hit.1.clone();
            c.insert(0, hit);
            return info;
        }
        let info = std::rc::Rc::new(read(der));
        c.truncate(CACHED - 1);
        c.insert(0, (der.to_vec(), info.clone()));
        info
    })
}

/// Reads a DER certificate; `None` when it does not parse.
pub(crate) fn read(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let subject_raw = cert.subject().as_raw();
    let mut self_signed = subject_raw == cert.issuer().as_raw();
    // A certificate can name its issuer's subject and still be signed by another key: the
    // key identifiers tell, when both are present.
    if self_signed
        && let (Ok(Some(aki)), Some(ski)) = (
            cert.get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER),
            cert.get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_SUBJECT_KEY_IDENTIFIER)
                .ok()
                .flatten(),
        )
        && let (
            x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(aki),
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(ski),
        ) = (aki.parsed_extension(), ski.parsed_extension())
        && let Some(kid) = &aki.key_identifier
    {
        self_signed = kid.0 == ski.0;
    }
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if names.len() == MAX_NAMES {
                break;
            }
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_owned()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => names.push(std::net::Ipv4Addr::from([b[0], b[1], b[2], b[3]]).to_string()),
                    16 => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(b);
                        names.push(std::net::Ipv6Addr::from(a).to_string());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let mut sha1 = String::with_capacity(40);
    for b in Sha1::digest(der) {
        sha1.push_str(&format!("{b:02x}"));
    }
    Some(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: time(cert.validity().not_before.timestamp()),
        not_after: time(cert.validity().not_after.timestamp()),
        self_signed,
        sha1,
        names,
    })
}
