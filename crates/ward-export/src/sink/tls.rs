//! Certificates to trust, for syslog over TLS and HTTPS webhooks.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::ExportError;

/// The certificates in a PEM file; an error names the file when it cannot be read or holds
/// none.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ExportError> {
    let bad = |message: String| ExportError::Tls { path: path.to_owned(), message };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// The operating system's store (`/etc/ssl/certs`, or `SSL_CERT_FILE`/`SSL_CERT_DIR`);
/// certificates that cannot be read are skipped.
pub(crate) fn native_roots() -> Vec<CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}
