//! HTTP/1.x: the client's User-Agent, the server's Server header and authentication realm,
//! the Host clients use for it, and Basic authentication seen in cleartext.
//!
//! A Basic login becomes a credential observation on the server: the kind of account, whether
//! the pair is a known default, and whether the server accepted it (the status of the
//! response). The user name and password are decoded only to make that judgement.
//!
//! Requests and responses are followed through a keep-alive connection: bodies are skipped
//! by `Content-Length` or chunked framing; a body delimited by the connection's close ends
//! the parsing of that direction.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use base64::Engine;
use ward_core::{DeviceKey, Direction, Observation};

use crate::tunnel::Tunnel;
use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, credentials};

/// The HTTP dissector.
pub struct HttpDissector;

const METHODS: [&[u8]; 9] =
    [b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"OPTIONS ", b"PATCH ", b"CONNECT ", b"TRACE "];
/// Headers read per message.
const MAX_HEADERS: usize = 64;

impl Dissector for HttpDissector {
    fn name(&self) -> &'static str {
        "http"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        let starts = |p: &[u8]| {
            let n = data.len().min(p.len());
            data[..n] == p[..n]
        };
        let partial = match dir {
            Direction::ToResponder => METHODS.iter().any(|m| starts(m)),
            Direction::ToInitiator => starts(b"HTTP/1."),
        };
        if !partial {
            return Probe::NoMatch;
        }
        // The first line must end in the version (requests) or start with it (responses).
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return if data.len() < 2048 { Probe::NeedMore } else { Probe::NoMatch };
        };
        let line = &data[..eol];
        let ok = match dir {
            Direction::ToResponder => line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0"),
            Direction::ToInitiator => line.len() >= 12 && line[9..12].iter().all(u8::is_ascii_digit),
        };
        if ok { Probe::Match } else { Probe::NoMatch }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(HttpSession::default())
    }
}

/// Where a direction is in its byte stream.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// At the start of a message.
    #[default]
    Head,
    /// This many body bytes to skip.
    Body(u64),
    /// In a chunked body, at a chunk-size line.
    ChunkSize,
    /// In a chunk: this many bytes, then its CRLF.
    Chunk(u64),
    /// After the last chunk: trailer lines until an empty one.
    Trailer,
    /// The body runs to the end of the connection: nothing more to read.
    Opaque,
    /// A `CONNECT` was asked: what follows waits for the answer.
    AwaitTunnel,
    /// A `CONNECT` was granted: the rest is another protocol.
    Tunnel,
}

/// What the response to a request depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Head,
    Connect,
    Other,
}

#[derive(Default)]
struct HttpSession {
    framing: [Framing; 2],
    /// Methods of requests not answered yet (a HEAD response has no body, a CONNECT
    /// response opens a tunnel).
    methods: VecDeque<Method>,
    /// Logins of requests not answered yet: (user, password) are judged at once; this holds
    /// only the verdict, waiting for the response's status.
    logins: VecDeque<Option<PendingLogin>>,
    /// Attributes this connection reported already (keep-alive repeats them per request).
    repeats: Repeats,
    tunnel: Tunnel,
}

struct PendingLogin {
    observation: Observation,
}

fn header<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Option<&'a str> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).and_then(|h| std::str::from_utf8(h.value).ok())
}

/// Body framing from the headers: chunked, a length, or none.
fn body_framing(headers: &[httparse::Header<'_>], close_delimited: bool) -> Framing {
    if header(headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return Framing::ChunkSize;
    }
    match header(headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(0) => Framing::Head,
        Some(n) => Framing::Body(n),
        None if close_delimited => Framing::Opaque,
        None => Framing::Head,
    }
}

/// The realm of a `WWW-Authenticate` challenge (`Basic realm="Alaris GW"`).
fn realm(challenge: &str) -> Option<&str> {
    let i = challenge.to_ascii_lowercase().find("realm=")?;
    let rest = &challenge[i + 6..];
    let rest = rest.strip_prefix('"').map_or(rest, |r| r.split('"').next().unwrap_or(r));
    Some(rest.split(',').next().unwrap_or(rest).trim())
}

impl HttpSession {
    /// Skips body bytes; returns how many of `data` were skipped.
    fn skip_body(&mut self, d: usize, data: &[u8]) -> Option<usize> {
        let mut used = 0;
        loop {
            let rest = &data[used..];
            match self.framing[d] {
                Framing::Head | Framing::AwaitTunnel | Framing::Tunnel => return Some(used),
                Framing::Opaque => return Some(data.len()),
                Framing::Body(n) => {
                    let take = (rest.len() as u64).min(n);
                    used += take as usize;
                    self.framing[d] = if take == n { Framing::Head } else { Framing::Body(n - take) };
                    if take < n {
                        return Some(used);
                    }
                }
                Framing::ChunkSize | Framing::Trailer => {
                    let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                        // A size or trailer line longer than this is not HTTP.
                        return if rest.len() > 1024 { None } else { Some(used) };
                    };
                    let line = &rest[..eol];
                    used += eol + 2;
                    if self.framing[d] == Framing::Trailer {
                        if line.is_empty() {
                            self.framing[d] = Framing::Head;
                        }
                        continue;
                    }
                    let hex = std::str::from_utf8(line).ok()?.split(';').next()?.trim();
                    let size = u64::from_str_radix(hex, 16).ok()?;
                    self.framing[d] = if size == 0 { Framing::Trailer } else { Framing::Chunk(size + 2) };
                }
                Framing::Chunk(n) => {
                    let take = (rest.len() as u64).min(n);
                    used += take as usize;
                    self.framing[d] = if take == n { Framing::ChunkSize } else { Framing::Chunk(n - take) };
                    if take < n {
                        return Some(used);
                    }
                }
            }
        }
    }
}

impl Session for HttpSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let client = DeviceKey::Ip(ctx.initiator.ip);
        let server = DeviceKey::Ip(ctx.responder.ip);
        let ts = ctx.ts;
        let mut used = 0;
        loop {
            match self.framing[d] {
                Framing::Tunnel => {
                    return match self.tunnel.parse(ctx, dir, &data[used..], out) {
                        Parsed::Consumed(n) => Parsed::Consumed(used + n),
                        other => other,
                    };
                }
                Framing::AwaitTunnel => return Parsed::Consumed(used),
                _ => {}
            }
            match self.skip_body(d, &data[used..]) {
                Some(n) => used += n,
                None => return Parsed::Malformed("bad chunked framing"),
            }
            if self.framing[d] != Framing::Head || used == data.len() {
                return Parsed::Consumed(used);
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let rest = &data[used..];
            if dir == Direction::ToResponder {
                let mut req = httparse::Request::new(&mut headers);
                let n = match req.parse(rest) {
                    Ok(httparse::Status::Complete(n)) => n,
                    Ok(httparse::Status::Partial) => return Parsed::Consumed(used),
                    Err(_) => return Parsed::Malformed("not an http request"),
                };
                used += n;
                if let Some(agent) = header(req.headers, "user-agent") {
                    self.repeats.attribute(out, ts, client, "user_agent", agent, "http.user_agent", 70);
                }
                if let Some(host) = header(req.headers, "host") {
                    let host = host
                        .rsplit_once(':')
                        .filter(|(_, p)| p.parse::<u16>().is_ok())
                        .map_or(host, |(h, _)| h);
                    self.repeats.attribute(out, ts, server, "http_host", host, "http.host", 60);
                }
                let login = header(req.headers, "authorization").and_then(basic_login).map(|(user, pass)| {
                    PendingLogin {
                        observation: credentials::observation(
                            ts,
                            server,
                            "http-basic",
                            &user,
                            &pass,
                            None,
                            "http.authorization",
                        ),
                    }
                });
                self.logins.push_back(login);
                let method = match req.method {
                    Some("HEAD") => Method::Head,
                    Some("CONNECT") => Method::Connect,
                    _ => Method::Other,
                };
                self.methods.push_back(method);
                if self.methods.len() > 64 {
                    // A client pipelining without answers: forget the oldest.
                    self.methods.pop_front();
                    if let Some(Some(l)) = self.logins.pop_front() {
                        out.emit(l.observation);
                    }
                }
                self.framing[d] = if method == Method::Connect {
                    Framing::AwaitTunnel
                } else {
                    body_framing(req.headers, false)
                };
            } else {
                let mut resp = httparse::Response::new(&mut headers);
                let n = match resp.parse(rest) {
                    Ok(httparse::Status::Complete(n)) => n,
                    Ok(httparse::Status::Partial) => return Parsed::Consumed(used),
                    Err(_) => return Parsed::Malformed("not an http response"),
                };
                used += n;
                let code = resp.code.unwrap_or(0);
                if let Some(srv) = header(resp.headers, "server") {
                    self.repeats.attribute(out, ts, server, "server", srv, "http.server", 70);
                }
                if let Some(r) = header(resp.headers, "www-authenticate").and_then(realm) {
                    self.repeats.attribute(out, ts, server, "http_realm", r, "http.www_authenticate", 60);
                }
                // 1xx answers are interim: the real one follows.
                if code >= 200 {
                    let method = self.methods.pop_front().unwrap_or(Method::Other);
                    if let Some(Some(mut login)) = self.logins.pop_front() {
                        if let ward_core::ObservationKind::Credential { accepted, .. } =
                            &mut login.observation.kind
                        {
                            *accepted = Some(!matches!(code, 401 | 403 | 407));
                        }
                        out.emit(login.observation);
                    }
                    if method == Method::Connect {
                        // Granted, both directions carry another protocol from here; refused,
                        // the client may ask again. Client bytes that waited are offered
                        // again with its next ones.
                        self.framing =
                            [if (200..300).contains(&code) { Framing::Tunnel } else { Framing::Head }; 2];
                        continue;
                    }
                    self.framing[d] = if method == Method::Head || code == 204 || code == 304 {
                        Framing::Head
                    } else {
                        body_framing(resp.headers, true)
                    };
                }
            }
        }
    }

    fn gap(&mut self, dir: Direction, len: u64) -> bool {
        if self.framing[dir.index()] == Framing::Tunnel {
            return self.tunnel.gap(dir, len);
        }
        // Where the next message starts is unknown after a hole; this direction is done.
        self.framing[dir.index()] = Framing::Opaque;
        true
    }

    fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        // Logins whose answer never came: accepted or not, unknown.
        for login in self.logins.drain(..).flatten() {
            out.emit(login.observation);
        }
        self.tunnel.end(ctx, out);
    }
}

/// User and password of a Basic `Authorization` header.
fn basic_login(value: &str) -> Option<(String, String)> {
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(token.trim()).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}
