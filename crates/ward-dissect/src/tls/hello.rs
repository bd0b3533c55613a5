//! ClientHello and ServerHello: the fields fingerprints and identity need, in wire order.

/// Extension numbers Ward reads.
pub(crate) mod ext {
    pub(crate) const SERVER_NAME: u16 = 0;
    pub(crate) const SUPPORTED_GROUPS: u16 = 10;
    pub(crate) const EC_POINT_FORMATS: u16 = 11;
    pub(crate) const SIGNATURE_ALGORITHMS: u16 = 13;
    pub(crate) const ALPN: u16 = 16;
    pub(crate) const SUPPORTED_VERSIONS: u16 = 43;
}

/// What a ClientHello offers, GREASE values included (fingerprints drop them themselves).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ClientHello {
    /// The legacy version field (0x0303 for TLS 1.2 and 1.3).
    pub version: u16,
    pub ciphers: Vec<u16>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    /// The host name of the server name extension.
    pub sni: Option<Vec<u8>>,
    /// ALPN protocol names in order.
    pub alpn: Vec<Vec<u8>>,
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    /// The supported versions extension, in order.
    pub versions: Vec<u16>,
}

/// What a ServerHello chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerHello {
    /// The negotiated version: the supported versions extension when present, else the
    /// legacy field.
    pub version: u16,
    pub cipher: u16,
    /// A HelloRetryRequest: the client is asked for a second ClientHello.
    pub retry: bool,
}

/// The random of a HelloRetryRequest (RFC 8446, 4.1.3): SHA-256 of "HelloRetryRequest".
const RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2,
    0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Whether a value is a GREASE value (RFC 8701): 0x?a?a with equal bytes.
pub(crate) fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// A cursor over a handshake body that fails on truncation.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("truncated tls hello");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, &'static str> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Result<&'a [u8], &'static str> {
        let n = self.u8()?;
        self.take(n.into())
    }
    fn vec16(&mut self) -> Result<&'a [u8], &'static str> {
        let n = self.u16()?;
        self.take(n.into())
    }
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()
}

/// Walks an extensions block: (type, data) in order. A truncated block ends the walk with an
/// error after the extensions that were whole.
fn extensions<'a>(r: &mut Reader<'a>, mut each: impl FnMut(u16, &'a [u8])) -> Result<(), &'static str> {
    if r.0.is_empty() {
        // Hellos without extensions end after the compression methods.
        return Ok(());
    }
    let mut block = Reader(r.vec16()?);
    while !block.0.is_empty() {
        let kind = block.u16()?;
        let data = block.vec16()?;
        each(kind, data);
    }
    Ok(())
}

/// Parses a ClientHello body (after the four-byte handshake header).
pub(crate) fn client_hello(body: &[u8]) -> Result<ClientHello, &'static str> {
    let mut r = Reader(body);
    let mut ch = ClientHello { version: r.u16()?, ..ClientHello::default() };
    r.take(32)?;
    r.vec8()?;
    ch.ciphers = u16s(r.vec16()?);
    r.vec8()?;
    let mut bad = None;
    extensions(&mut r, |kind, data| {
        ch.extensions.push(kind);
        let mut d = Reader(data);
        let parsed: Result<(), &'static str> = (|| {
            match kind {
                ext::SERVER_NAME => {
                    let mut list = Reader(d.vec16()?);
                    while !list.0.is_empty() {
                        let name_type = list.u8()?;
                        let name = list.vec16()?;
                        if name_type == 0 && ch.sni.is_none() {
                            ch.sni = Some(name.to_vec());
                        }
                    }
                }
                ext::ALPN => {
                    let mut list = Reader(d.vec16()?);
                    while !list.0.is_empty() {
                        ch.alpn.push(list.vec8()?.to_vec());
                    }
                }
                ext::SUPPORTED_GROUPS => ch.groups = u16s(d.vec16()?),
                ext::EC_POINT_FORMATS => ch.point_formats = d.vec8()?.to_vec(),
                ext::SIGNATURE_ALGORITHMS => ch.signature_algorithms = u16s(d.vec16()?),
                ext::SUPPORTED_VERSIONS => ch.versions = u16s(d.vec8()?),
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = parsed {
            bad.get_or_insert(e);
        }
    })?;
    // A damaged extension leaves the others, and the fingerprint of the rest, usable; the
    // damage is still reported.
    match bad {
        Some(e) => Err(e),
        None => Ok(ch),
    }
}

/// Parses a ServerHello body.
pub(crate) fn server_hello(body: &[u8]) -> Result<ServerHello, &'static str> {
    let mut r = Reader(body);
    let legacy = r.u16()?;
    let retry = r.take(32)? == RETRY_RANDOM;
    r.vec8()?;
    let cipher = r.u16()?;
    r.u8()?;
    let mut version = legacy;
    extensions(&mut r, |kind, data| {
        if kind == ext::SUPPORTED_VERSIONS && data.len() == 2 {
            version = u16::from_be_bytes([data[0], data[1]]);
        }
    })?;
    Ok(ServerHello { version, cipher, retry })
}

/// The DER certificates of a Certificate message (TLS 1.2 and below), leaf first.
pub(crate) fn certificates(body: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    let mut r = Reader(body);
    let total = r.take(3)?;
    let total = usize::from(total[0]) << 16 | usize::from(total[1]) << 8 | usize::from(total[2]);
    let mut list = Reader(r.take(total)?);
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let n = list.take(3)?;
        let n = usize::from(n[0]) << 16 | usize::from(n[1]) << 8 | usize::from(n[2]);
        out.push(list.take(n)?);
    }
    Ok(out)
}

/// A version as people write it.
pub(crate) fn version_name(v: u16) -> String {
    match v {
        0x0304 => "TLS 1.3".into(),
        0x0303 => "TLS 1.2".into(),
        0x0302 => "TLS 1.1".into(),
        0x0301 => "TLS 1.0".into(),
        0x0300 => "SSL 3.0".into(),
        0x0002 => "SSL 2.0".into(),
        v => format!("0x{v:04x}"),
    }
}

#[cfg(test)]
pub(crate) fn tests_retry_random() -> [u8; 32] {
    RETRY_RANDOM
}
