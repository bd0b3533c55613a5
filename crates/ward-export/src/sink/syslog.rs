//! Syslog (and CEF in syslog) over UDP, TCP and TLS.
//!
//! UDP sends one datagram per message (RFC 5426) on a connected socket, so that a receiver
//! known to be down (an ICMP port unreachable came back) makes the next send fail and be
//! retried; the datagram that drew the ICMP is lost, and a receiver that is silently away
//! loses everything sent meanwhile. TCP and TLS frame each message by its length (octet
//! counting, RFC 6587 section 3.4.1; RFC 5425 for TLS). Before each message the connection
//! is checked without waiting: a receiver that closed it (restarted, went down) is noticed,
//! and the message goes on a new connection instead of into a dead one. What the kernel had
//! already accepted when a receiver vanished without closing is beyond what syslog can know
//! (it has no acknowledgements; RELP would).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ward_core::Alert;

use super::{Outcome, Sink};
use crate::config::Transport;
use crate::format::syslog::{self, Body, Header};

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// TLS settings of a sink.
pub(crate) struct Tls {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl Tls {
    pub(crate) fn new(
        roots: Vec<rustls::pki_types::CertificateDer<'static>>,
        server_name: &str,
    ) -> Result<Tls, String> {
        let mut store = RootCertStore::empty();
        let (added, _ignored) = store.add_parsable_certificates(roots);
        if added == 0 {
            return Err("no usable certificate to trust".into());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(store)
            .with_no_client_auth();
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| format!("{server_name:?} is not a host name or address"))?;
        Ok(Tls { config: Arc::new(config), server_name })
    }
}

pub(crate) struct SyslogSink {
    host: String,
    port: u16,
    transport: Transport,
    tls: Option<Tls>,
    header: Header,
    body: Body,
    timeout: Duration,
    conn: Option<Conn>,
}

impl SyslogSink {
    pub(crate) fn new(
        host: String,
        port: u16,
        transport: Transport,
        tls: Option<Tls>,
        header: Header,
        body: Body,
        timeout: Duration,
    ) -> SyslogSink {
        SyslogSink { host, port, transport, tls, header, body, timeout, conn: None }
    }

    fn addresses(&self) -> std::io::Result<Vec<SocketAddr>> {
        let list: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        if list.is_empty() {
            return Err(std::io::Error::new(ErrorKind::NotFound, "the name has no address"));
        }
        Ok(list)
    }

    fn tcp(&self) -> std::io::Result<TcpStream> {
        let mut last = None;
        for addr in self.addresses()? {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    s.set_write_timeout(Some(self.timeout))?;
                    s.set_read_timeout(Some(self.timeout))?;
                    s.set_nodelay(true)?;
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::from(ErrorKind::NotFound)))
    }

    fn connect(&self) -> Result<Conn, String> {
        let here = || format!("{}:{}", self.host, self.port);
        match self.transport {
            Transport::Udp => {
                let addr = self.addresses().map_err(|e| format!("{}: {e}", here()))?[0];
                let local: SocketAddr = if addr.is_ipv4() {
                    (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let s = UdpSocket::bind(local).map_err(|e| format!("udp socket: {e}"))?;
                s.connect(addr).map_err(|e| format!("{}: {e}", here()))?;
                Ok(Conn::Udp(s))
            }
            Transport::Tcp => self.tcp().map(Conn::Tcp).map_err(|e| format!("{}: {e}", here())),
            Transport::Tls => {
                let tls = self.tls.as_ref().ok_or("tls without settings")?;
                let sock = self.tcp().map_err(|e| format!("{}: {e}", here()))?;
                let conn = ClientConnection::new(Arc::clone(&tls.config), tls.server_name.clone())
                    .map_err(|e| format!("{}: tls: {e}", here()))?;
                let mut stream = StreamOwned::new(conn, sock);
                while stream.conn.is_handshaking() {
                    stream
                        .conn
                        .complete_io(&mut stream.sock)
                        .map_err(|e| format!("{}: tls handshake: {e}", here()))?;
                }
                Ok(Conn::Tls(Box::new(stream)))
            }
        }
    }

    fn send(conn: &mut Conn, frame: &[u8]) -> std::io::Result<()> {
        match conn {
            Conn::Udp(s) => s.send(frame).map(|_| ()),
            Conn::Tcp(s) => s.write_all(frame),
            Conn::Tls(s) => {
                s.write_all(frame)?;
                s.flush()
            }
        }
    }
}

/// Whether the receiver has closed the connection (or it broke), asked without waiting.
/// Syslog receivers never write, so anything readable is an end or an error.
fn closed(conn: &mut Conn) -> bool {
    fn check(sock: &TcpStream, read: impl FnOnce() -> std::io::Result<usize>) -> bool {
        if sock.set_nonblocking(true).is_err() {
            return true;
        }
        let r = read();
        let restored = sock.set_nonblocking(false).is_ok();
        match r {
            Ok(0) => true,
            Ok(_) => !restored,
            Err(e) if e.kind() == ErrorKind::WouldBlock => !restored,
            Err(_) => true,
        }
    }
    let mut buf = [0u8; 256];
    match conn {
        Conn::Udp(_) => false,
        Conn::Tcp(s) => check(s, || s.peek(&mut buf)),
        Conn::Tls(s) => {
            let sock = match s.sock.try_clone() {
                Ok(sock) => sock,
                Err(_) => return true,
            };
            // A TLS read processes what came (a close_notify, a session ticket) and says
            // whether the stream ended.
            check(&sock, || s.read(&mut buf))
        }
    }
}

impl Sink for SyslogSink {
    fn deliver(&mut self, alert: &Alert) -> Outcome {
        let message = syslog::format(alert, &self.header, self.body);
        let frame = match self.transport {
            Transport::Udp => message.into_bytes(),
            Transport::Tcp | Transport::Tls => format!("{} {message}", message.len()).into_bytes(),
        };
        if let Some(c) = self.conn.as_mut()
            && closed(c)
        {
            self.conn = None;
        }
        let conn = match self.conn.as_mut() {
            Some(c) => c,
            None => match self.connect() {
                Ok(c) => self.conn.insert(c),
                Err(error) => return Outcome::Retry { after: None, error },
            },
        };
        match SyslogSink::send(conn, &frame) {
            Ok(()) => Outcome::Sent,
            Err(e) => {
                self.conn = None;
                Outcome::Retry { after: None, error: format!("{}:{}: {e}", self.host, self.port) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests_support::alert;

    /// Fields are cut (`MAX_FIELD`) so that even the worst alert, every text field full of
    /// characters that need escaping, fits one UDP datagram over IPv4 (65,507 bytes).
    #[test]
    fn the_largest_message_fits_a_datagram() {
        let mut a = alert();
        let full = "\\".repeat(crate::format::MAX_FIELD * 2);
        for field in [&mut a.kind, &mut a.evidence, &mut a.message, &mut a.state, &mut a.key] {
            *field = full.clone();
        }
        a.source = Some(full.clone());
        a.indicator = Some(full);
        let header = Header { facility: 16, hostname: "h".repeat(300), procid: "1".repeat(200) };
        for body in [Body::StructuredData, Body::Cef] {
            let m = syslog::format(&a, &header, body);
            assert!(m.len() > 20_000 && m.len() < 65_507, "{}", m.len());
        }
        let mut sink = SyslogSink::new(
            "127.0.0.1".into(),
            9,
            Transport::Udp,
            None,
            header,
            Body::StructuredData,
            Duration::from_secs(1),
        );
        // UDP does not know whether anyone listens: it leaves, whole.
        assert!(matches!(sink.deliver(&a), Outcome::Sent));
    }
}
