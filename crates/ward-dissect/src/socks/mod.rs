//! SOCKS 4, 4a and 5 proxies: the handshake, a SOCKS 5 user name and password seen in
//! cleartext (judged as a credential, never kept), and whatever the tunnel then carries (TLS
//! or HTTP) read as if it had no proxy in front.

#[cfg(test)]
mod tests;

use ward_core::{DeviceKey, Direction, Observation, ObservationKind};

use crate::tunnel::Tunnel;
use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Session, Transport, attribute, credentials};

/// The SOCKS dissector.
pub struct SocksDissector;

/// Longest SOCKS 4 user id or 4a host name read.
const MAX_FIELD: usize = 255;

/// How a client's handshake reads.
#[derive(Debug, PartialEq, Eq)]
enum Read<T> {
    /// Complete: the value and the bytes it took.
    Done(T, usize),
    /// More bytes are needed.
    Short,
    /// Not SOCKS.
    Bad,
}

/// A NUL-terminated field starting at `at`: the offset after its NUL.
fn nul_field(data: &[u8], at: usize) -> Read<()> {
    match data.get(at..).and_then(|r| r.iter().take(MAX_FIELD + 1).position(|b| *b == 0)) {
        Some(n) => Read::Done((), at + n + 1),
        None if data.len().saturating_sub(at) > MAX_FIELD => Read::Bad,
        None => Read::Short,
    }
}

/// The client's side of the handshake: version, and a SOCKS 5 login when there is one.
#[derive(Debug, PartialEq, Eq)]
struct ClientHandshake {
    version: u8,
    login: Option<(String, String)>,
}

fn client_handshake(data: &[u8]) -> Read<ClientHandshake> {
    match data.first() {
        None => Read::Short,
        Some(4) => {
            // VN CD DSTPORT DSTIP USERID\0 [HOST\0 when DSTIP is 0.0.0.x]
            if data.len() < 8 {
                return if data.get(1).is_none_or(|c| matches!(c, 1 | 2)) { Read::Short } else { Read::Bad };
            }
            if !matches!(data[1], 1 | 2) {
                return Read::Bad;
            }
            let mut end = match nul_field(data, 8) {
                Read::Done((), e) => e,
                other => return other.map_never(),
            };
            if data[4..7] == [0, 0, 0] && data[7] != 0 {
                match nul_field(data, end) {
                    Read::Done((), e) => end = e,
                    other => return other.map_never(),
                }
            }
            Read::Done(ClientHandshake { version: 4, login: None }, end)
        }
        Some(5) => {
            // Greeting: VER NMETHODS METHODS; then an optional user/password negotiation
            // (VER=1 ULEN UNAME PLEN PASSWD); then the request: VER CMD RSV ATYP ADDR PORT.
            let Some(&n) = data.get(1) else { return Read::Short };
            if n == 0 || n > 16 {
                return Read::Bad;
            }
            let mut at = 2 + usize::from(n);
            let Some(methods) = data.get(2..at) else { return Read::Short };
            if !methods.iter().all(|m| *m <= 9 || *m >= 0x80) {
                return Read::Bad;
            }
            let mut login = None;
            match data.get(at) {
                None => return Read::Short,
                Some(1) => {
                    let Some(&ulen) = data.get(at + 1) else { return Read::Short };
                    let u = at + 2..at + 2 + usize::from(ulen);
                    let Some(&plen) = data.get(u.end) else { return Read::Short };
                    let p = u.end + 1..u.end + 1 + usize::from(plen);
                    let Some(pass) = data.get(p.clone()) else { return Read::Short };
                    let user = &data[u];
                    login = Some((
                        String::from_utf8_lossy(user).into_owned(),
                        String::from_utf8_lossy(pass).into_owned(),
                    ));
                    at = p.end;
                }
                Some(5) => {}
                Some(_) => return Read::Bad,
            }
            let Some(req) = data.get(at..at + 5) else { return Read::Short };
            if req[0] != 5 || !matches!(req[1], 1..=3) || req[2] != 0 {
                return Read::Bad;
            }
            let addr = match req[3] {
                1 => 4,
                3 => 1 + usize::from(req[4]),
                4 => 16,
                _ => return Read::Bad,
            };
            let end = at + 4 + addr + 2;
            if data.len() < end {
                return Read::Short;
            }
            Read::Done(ClientHandshake { version: 5, login }, end)
        }
        Some(_) => Read::Bad,
    }
}

impl<T> Read<T> {
    /// A `Short` or `Bad` as another type.
    fn map_never<U>(self) -> Read<U> {
        match self {
            Read::Short => Read::Short,
            Read::Done(..) | Read::Bad => Read::Bad,
        }
    }
}

/// The server's side: whether the login (if any) and the connection were granted, and the
/// bytes it took.
struct ServerHandshake {
    login_ok: Option<bool>,
    granted: bool,
}

fn server_handshake(data: &[u8]) -> Read<ServerHandshake> {
    match data.first() {
        None => Read::Short,
        // SOCKS 4: VN=0 CD DSTPORT DSTIP; 0x5a is granted.
        Some(0) => match data.get(1) {
            None => Read::Short,
            Some(0x5a..=0x5d) if data.len() >= 8 => {
                Read::Done(ServerHandshake { login_ok: None, granted: data[1] == 0x5a }, 8)
            }
            Some(0x5a..=0x5d) => Read::Short,
            Some(_) => Read::Bad,
        },
        // SOCKS 5: VER METHOD, [VER=1 STATUS], VER REP RSV ATYP ADDR PORT.
        Some(5) => {
            let Some(&method) = data.get(1) else { return Read::Short };
            if method == 0xff {
                return Read::Done(ServerHandshake { login_ok: None, granted: false }, 2);
            }
            let mut at = 2;
            let mut login_ok = None;
            if method == 2 {
                let Some(status) = data.get(at..at + 2) else { return Read::Short };
                if status[0] != 1 {
                    return Read::Bad;
                }
                login_ok = Some(status[1] == 0);
                at += 2;
                if status[1] != 0 {
                    return Read::Done(ServerHandshake { login_ok, granted: false }, at);
                }
            }
            let Some(rep) = data.get(at..at + 5) else { return Read::Short };
            if rep[0] != 5 || rep[2] != 0 {
                return Read::Bad;
            }
            let addr = match rep[3] {
                1 => 4,
                3 => 1 + usize::from(rep[4]),
                4 => 16,
                _ => return Read::Bad,
            };
            let end = at + 4 + addr + 2;
            if data.len() < end {
                return Read::Short;
            }
            Read::Done(ServerHandshake { login_ok, granted: rep[1] == 0 }, end)
        }
        Some(_) => Read::Bad,
    }
}

impl Dissector for SocksDissector {
    fn name(&self) -> &'static str {
        "socks"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, dir: Direction, data: &[u8]) -> Probe {
        // The client's whole request is a firm enough sign; a server's two-byte answer alone
        // is not.
        if dir != Direction::ToResponder {
            return Probe::NoMatch;
        }
        match client_handshake(data) {
            Read::Done(..) => Probe::Match,
            Read::Short => Probe::NeedMore,
            Read::Bad => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(SocksSession::default())
    }
}

#[derive(Default)]
struct SocksSession {
    /// Each direction's handshake is behind it.
    through: [bool; 2],
    /// The login waiting for the server's verdict.
    login: Option<Observation>,
    tunnel: Tunnel,
}

impl Session for SocksSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let mut used = 0;
        if !self.through[d] {
            let server = DeviceKey::Ip(ctx.responder.ip);
            if dir == Direction::ToResponder {
                match client_handshake(data) {
                    Read::Done(h, n) => {
                        used = n;
                        let proxy = if h.version == 4 { "socks4" } else { "socks5" };
                        if let Some(o) = attribute(ctx.ts, server, "proxy", proxy, "socks.version", 80) {
                            out.emit(o);
                        }
                        self.login = h.login.map(|(user, pass)| {
                            credentials::observation(
                                ctx.ts,
                                server,
                                "socks5",
                                &user,
                                &pass,
                                None,
                                "socks5.userpass",
                            )
                        });
                    }
                    Read::Short => return Parsed::Consumed(0),
                    Read::Bad => return Parsed::Malformed("not a socks request"),
                }
            } else {
                match server_handshake(data) {
                    Read::Done(h, n) => {
                        used = n;
                        if let Some(mut o) = self.login.take() {
                            if let ObservationKind::Credential { accepted, .. } = &mut o.kind {
                                *accepted = h.login_ok;
                            }
                            out.emit(o);
                        }
                        if !h.granted {
                            return Parsed::Done;
                        }
                    }
                    Read::Short => return Parsed::Consumed(0),
                    Read::Bad => return Parsed::Malformed("not a socks reply"),
                }
            }
            self.through[d] = true;
        }
        match self.tunnel.parse(ctx, dir, &data[used..], out) {
            Parsed::Consumed(n) => Parsed::Consumed(used + n),
            other => other,
        }
    }

    fn gap(&mut self, dir: Direction, len: u64) -> bool {
        self.through[dir.index()] && self.tunnel.gap(dir, len)
    }

    fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if let Some(o) = self.login.take() {
            out.emit(o);
        }
        self.tunnel.end(ctx, out);
    }
}
