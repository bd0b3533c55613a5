//! TLS over TCP: what the ClientHello offers (server name, ALPN, versions, and the JA3 and JA4
//! fingerprints of the client's TLS stack), what the server chose, and the server's
//! certificate where the handshake shows it (TLS 1.2 and below; TLS 1.3 encrypts it).
//!
//! Records are read in both directions; handshake messages may span records and records may
//! span segments. A direction is done once its part of the handshake is seen or once it
//! turns to encrypted data; when both are, the flow needs nothing more.

mod cert;
mod fingerprint;
mod hello;
#[cfg(test)]
mod tests;

use ward_core::{DeviceKey, Direction, Timestamp};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport};

/// The TLS dissector.
pub struct TlsDissector;

/// Largest record the protocol allows (2^14 plus expansion for compression and padding).
const MAX_RECORD: usize = 16_384 + 2_048;
/// Handshake bytes buffered per direction: a certificate chain rarely needs more.
const MAX_HANDSHAKE: usize = 64 * 1024;

const HANDSHAKE: u8 = 22;
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const APPLICATION_DATA: u8 = 23;
const HEARTBEAT: u8 = 24;

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const CERTIFICATE: u8 = 11;
const SERVER_HELLO_DONE: u8 = 14;
const CLIENT_KEY_EXCHANGE: u8 = 16;

impl Dissector for TlsDissector {
    fn name(&self) -> &'static str {
        "tls"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        // A handshake record of SSL 3.0 to TLS 1.3 whose first message is a hello of the
        // right side: [22, 3, 0..=4, len, len, hello].
        let hello = if dir == Direction::ToResponder { CLIENT_HELLO } else { SERVER_HELLO };
        let checks: [&dyn Fn(u8) -> bool; 6] =
            [&|b| b == HANDSHAKE, &|b| b == 3, &|b| b <= 4, &|_| true, &|_| true, &|b| b == hello];
        for (b, ok) in data.iter().zip(checks) {
            if !ok(*b) {
                return Probe::NoMatch;
            }
        }
        if data.len() < 6 {
            return Probe::NeedMore;
        }
        let len = usize::from(u16::from_be_bytes([data[3], data[4]]));
        if (4..=MAX_RECORD).contains(&len) { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(TlsSession::default())
    }
}

#[derive(Default)]
struct Side {
    /// Handshake bytes not yet made into whole messages.
    pending: Vec<u8>,
    /// Nothing more to learn from this direction.
    done: bool,
}

#[derive(Default)]
struct TlsSession {
    sides: [Side; 2],
    /// The version the server chose, once seen.
    version: Option<u16>,
    /// The direction ClientHellos come from.
    client: Option<Direction>,
    /// The client has sent ChangeCipherSpec after nothing but ClientHellos: TLS 1.3's
    /// middlebox compatibility. Only a retried ClientHello may still come in cleartext.
    compat_ccs: bool,
    repeats: Repeats,
}

impl Session for TlsSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let mut used = 0;
        while !self.sides[d].done {
            let rest = &data[used..];
            if rest.len() < 5 {
                break;
            }
            let (kind, major) = (rest[0], rest[1]);
            let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
            if major != 3 || len > MAX_RECORD || !matches!(kind, CHANGE_CIPHER_SPEC..=HEARTBEAT) {
                return Parsed::Malformed("not a tls record");
            }
            if rest.len() < 5 + len {
                break;
            }
            let body = &rest[5..5 + len];
            used += 5 + len;
            match kind {
                HANDSHAKE if self.compat_ccs && self.client == Some(dir) && !whole_client_hello(body) => {
                    // Encrypted handshake after the compatibility ChangeCipherSpec.
                    self.sides[d].done = true;
                }
                HANDSHAKE => {
                    if let Err(e) = self.handshake(ctx, dir, body, out) {
                        return Parsed::Malformed(e);
                    }
                }
                // TLS 1.3 clients may send ChangeCipherSpec right after their ClientHello, and
                // a second ClientHello after it when the server asks them to retry.
                CHANGE_CIPHER_SPEC
                    if self.client == Some(dir)
                        && self.sides[d].pending.is_empty()
                        && !self.compat_ccs
                        && self.version.is_none_or(|v| v >= 0x0304) =>
                {
                    self.compat_ccs = true;
                }
                CHANGE_CIPHER_SPEC | APPLICATION_DATA => self.sides[d].done = true,
                ALERT | HEARTBEAT => {}
                _ => unreachable!("checked above"),
            }
        }
        if self.sides.iter().all(|s| s.done) {
            return Parsed::Done;
        }
        if self.sides[d].done {
            // Encrypted from here on: take everything.
            return Parsed::Consumed(data.len());
        }
        Parsed::Consumed(used)
    }

    fn gap(&mut self, dir: Direction, _len: u64) -> bool {
        // Record boundaries are lost with the bytes; this direction has said what it can.
        self.sides[dir.index()].done = true;
        !self.sides.iter().all(|s| s.done)
    }
}

impl TlsSession {
    /// Adds a handshake record's bytes and reads every whole message.
    fn handshake(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        body: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        let d = dir.index();
        let side = &mut self.sides[d];
        if side.pending.len() + body.len() > MAX_HANDSHAKE {
            side.done = true;
            side.pending = Vec::new();
            return Ok(());
        }
        side.pending.extend_from_slice(body);
        let pending = std::mem::take(&mut side.pending);
        let mut at = 0;
        while pending.len() - at >= 4 && !self.sides[d].done {
            let h = &pending[at..];
            let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            if len > MAX_HANDSHAKE {
                return Err("tls handshake message too long");
            }
            if h.len() < 4 + len {
                break;
            }
            at += 4 + len;
            self.message(ctx, dir, h[0], &h[4..4 + len], out)?;
        }
        if !self.sides[d].done {
            self.sides[d].pending = pending[at..].to_vec();
        }
        Ok(())
    }

    fn message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        kind: u8,
        body: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        let sender = match dir {
            Direction::ToResponder => ctx.initiator.ip,
            Direction::ToInitiator => ctx.responder.ip,
        };
        let (dev, ts) = (DeviceKey::Ip(sender), ctx.ts);
        let mut emit =
            |key, value: &str, source, conf| self.repeats.attribute(out, ts, dev, key, value, source, conf);
        match kind {
            CLIENT_HELLO => {
                let ch = hello::client_hello(body)?;
                if let Some(sni) = &ch.sni {
                    emit("tls_sni", &String::from_utf8_lossy(sni), "tls.client_hello.sni", 70);
                }
                if !ch.alpn.is_empty() {
                    let alpn: Vec<String> = ch.alpn.iter().map(|a| crate::text_or_hex(a)).collect();
                    emit("tls_alpn", &alpn.join(","), "tls.client_hello.alpn", 60);
                }
                let versions: Vec<u16> = if ch.versions.is_empty() {
                    vec![ch.version]
                } else {
                    ch.versions.iter().copied().filter(|v| !hello::is_grease(*v)).collect()
                };
                let names: Vec<String> = versions.into_iter().map(hello::version_name).collect();
                emit("tls_client_versions", &names.join(","), "tls.client_hello.versions", 60);
                let (ja3, ja4) = fingerprint::ja3_ja4(&ch);
                emit("ja3", &ja3, "tls.client_hello.ja3", 60);
                emit("ja4", &ja4, "tls.client_hello.ja4", 60);
                // The client's side stays open: a server may ask for a second ClientHello.
                // It ends at its key exchange or its encrypted data.
                self.client.get_or_insert(dir);
            }
            SERVER_HELLO => {
                let sh = hello::server_hello(body)?;
                self.version = Some(sh.version);
                emit("tls_version", &hello::version_name(sh.version), "tls.server_hello.version", 70);
                // After a HelloRetryRequest the real ServerHello follows the client's second
                // ClientHello.
                if !sh.retry && sh.version >= 0x0304 {
                    // TLS 1.3: the certificate is encrypted.
                    self.sides[dir.index()].done = true;
                }
            }
            CLIENT_KEY_EXCHANGE => self.sides[dir.index()].done = true,
            CERTIFICATE if self.client != Some(dir) => {
                let chain = hello::certificates(body)?;
                let info = chain.first().map(|der| cert::read_cached(der));
                if let Some(info) = info.as_deref().and_then(Option::as_ref) {
                    let src = "tls.certificate";
                    emit("tls_cert_subject", &info.subject, src, 70);
                    emit("tls_cert_issuer", &info.issuer, src, 70);
                    emit("tls_cert_not_before", &info.not_before.to_string(), src, 70);
                    emit("tls_cert_not_after", &info.not_after.to_string(), src, 70);
                    emit("tls_cert_self_signed", if info.self_signed { "true" } else { "false" }, src, 70);
                    emit(
                        "tls_cert_expired",
                        if expired(ts, info.not_after) { "true" } else { "false" },
                        src,
                        70,
                    );
                    emit("tls_cert_sha1", &info.sha1, src, 80);
                    if !info.names.is_empty() {
                        emit("tls_cert_names", &info.names.join(","), src, 70);
                    }
                } else if !chain.is_empty() {
                    return Err("tls certificate does not parse");
                }
                self.sides[dir.index()].done = true;
            }
            SERVER_HELLO_DONE if self.client != Some(dir) => self.sides[dir.index()].done = true,
            _ => {}
        }
        Ok(())
    }
}

/// Whether a record holds exactly one ClientHello: after a ChangeCipherSpec, what else is
/// there is encrypted and only looks like a handshake by chance.
fn whole_client_hello(body: &[u8]) -> bool {
    body.len() >= 4
        && body[0] == CLIENT_HELLO
        && usize::from(body[1]) << 16 | usize::from(body[2]) << 8 | usize::from(body[3]) == body.len() - 4
}

fn expired(now: Timestamp, not_after: Timestamp) -> bool {
    now > not_after
}
