use proptest::prelude::*;
use ward_core::{AccountKind, Direction::*, IpProto, ObservationKind, Weakness};

use super::*;
use crate::testutil::{attrs, converse, credentials, ctx, value};

fn flow() -> crate::FlowContext {
    ctx(IpProto::TCP, [10, 2, 0, 7], 51000, [10, 2, 0, 80], 8080)
}

fn login(out: &[Observation]) -> Vec<(AccountKind, Weakness, Option<bool>, String)> {
    credentials(out)
        .into_iter()
        .map(|o| match &o.kind {
            ObservationKind::Credential { account, weakness, accepted, protocol, .. } => {
                (*account, *weakness, *accepted, format!("{}@{}", protocol, o.device))
            }
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn agent_server_host_and_realm_from_any_port() {
    let req =
        b"GET /status HTTP/1.1\r\nHost: pump-17.biomed.local:8080\r\nUser-Agent: AlarisPC/9.33.1\r\n\r\n";
    let resp = b"HTTP/1.1 401 Unauthorized\r\nServer: GoAhead-Webs\r\nWWW-Authenticate: Basic realm=\"Alaris GW\"\r\nContent-Length: 5\r\n\r\nnope!";
    let (out, proto, stats) = converse(HttpDissector, &flow(), &[(ToResponder, req), (ToInitiator, resp)]);
    assert_eq!(proto, Some("http"));
    assert_eq!(stats.malformed.len(), 0);
    assert_eq!(
        attrs(&out),
        [
            ("ip:10.2.0.7".into(), "user_agent".into(), "AlarisPC/9.33.1".into(), "http.user_agent".into()),
            ("ip:10.2.0.80".into(), "http_host".into(), "pump-17.biomed.local".into(), "http.host".into()),
            ("ip:10.2.0.80".into(), "server".into(), "GoAhead-Webs".into(), "http.server".into()),
            ("ip:10.2.0.80".into(), "http_realm".into(), "Alaris GW".into(), "http.www_authenticate".into()),
        ]
    );
    assert!(login(&out).is_empty());
}

#[test]
fn basic_login_is_judged_without_keeping_the_secret() {
    // admin:admin, refused; then admin:admin accepted on a keep-alive connection, then a
    // named user with a strong password.
    let r1 = b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n";
    let a1 = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    let r2 = b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n";
    let a2 = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
    // biomed.tech:Tr0ub4dor&3-long
    let r3 = b"POST /cfg HTTP/1.1\r\nAuthorization: basic YmlvbWVkLnRlY2g6VHIwdWI0ZG9yJjMtbG9uZw==\r\nContent-Length: 3\r\n\r\nx=1";
    let (out, _, stats) = converse(
        HttpDissector,
        &flow(),
        &[(ToResponder, r1), (ToInitiator, a1), (ToResponder, r2), (ToInitiator, a2), (ToResponder, r3)],
    );
    assert!(stats.malformed.is_empty());
    // The same Host on a keep-alive connection is reported once.
    assert_eq!(attrs(&out).iter().filter(|a| a.1 == "http_host").count(), 1);
    assert_eq!(
        login(&out),
        [
            (AccountKind::Admin, Weakness::Default, Some(false), "http-basic@ip:10.2.0.80".into()),
            (AccountKind::Admin, Weakness::Default, Some(true), "http-basic@ip:10.2.0.80".into()),
            // Never answered: judged, acceptance unknown.
            (AccountKind::Named, Weakness::Cleartext, None, "http-basic@ip:10.2.0.80".into()),
        ]
    );
    let json = serde_json::to_string(&out).unwrap();
    for secret in ["admin:admin", "YWRtaW46YWRtaW4", "Tr0ub4dor", "biomed.tech"] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
    }
}

#[test]
fn bodies_and_pipelining_are_skipped_by_their_framing() {
    // The first response's body looks like a response line; it must be skipped, not parsed.
    let a = b"HTTP/1.1 200 OK\r\nServer: first\r\nContent-Length: 37\r\n\r\nHTTP/1.1 200 OK\r\nServer: fake\r\n\r\n1234";
    let b = b"HTTP/1.1 304 Not Modified\r\nServer: second\r\nContent-Length: 100\r\n\r\n";
    let c = b"HTTP/1.1 200 OK\r\nServer: third\r\n\r\n";
    let req = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n";
    let mut msgs: Vec<(Direction, &[u8])> = vec![(ToResponder, req)];
    // Responses split at awkward places.
    let all = [&a[..], &b[..], &c[..]].concat();
    for piece in all.chunks(7) {
        msgs.push((ToInitiator, piece));
    }
    let (out, _, stats) = converse(HttpDissector, &flow(), &msgs);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let servers: Vec<_> = attrs(&out).into_iter().filter(|a| a.1 == "server").map(|a| a.2).collect();
    assert_eq!(servers, ["first", "second", "third"]);
}

#[test]
fn close_delimited_body_ends_the_direction() {
    let resp = b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nHTTP/1.1 200 OK\r\nServer: inside-body\r\n\r\n";
    let (out, _, _) =
        converse(HttpDissector, &flow(), &[(ToResponder, b"GET / HTTP/1.0\r\n\r\n"), (ToInitiator, resp)]);
    assert_eq!(value(&out, "server"), Some("old"));
    assert_eq!(attrs(&out).len(), 1);
}

#[test]
fn probe_refuses_what_is_not_http() {
    assert_eq!(HttpDissector.probe(ToResponder, b"GE"), Probe::NeedMore);
    assert_eq!(HttpDissector.probe(ToResponder, b"GET / HTTP/1.1"), Probe::NeedMore);
    assert_eq!(HttpDissector.probe(ToResponder, b"GET / HTTP/1.1\r\n"), Probe::Match);
    assert_eq!(HttpDissector.probe(ToResponder, b"GET / RTSP/1.0\r\n"), Probe::NoMatch);
    assert_eq!(HttpDissector.probe(ToResponder, b"SSH-2.0-OpenSSH\r\n"), Probe::NoMatch);
    assert_eq!(HttpDissector.probe(ToInitiator, b"HTTP/1.1 200 OK\r\n"), Probe::Match);
    assert_eq!(HttpDissector.probe(ToInitiator, b"HTTP/1.1 2x0 OK\r\n"), Probe::NoMatch);
    assert_eq!(HttpDissector.probe(ToInitiator, b"220 ftp ready\r\n"), Probe::NoMatch);
}

#[test]
fn broken_chunking_is_malformed_not_a_panic() {
    let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let (_, _, stats) =
        converse(HttpDissector, &flow(), &[(ToResponder, b"GET / HTTP/1.1\r\n\r\n"), (ToInitiator, resp)]);
    assert_eq!(stats.malformed.get("http"), Some(&1));
}

#[test]
fn realm_forms() {
    assert_eq!(realm("Basic realm=\"Alaris GW\""), Some("Alaris GW"));
    assert_eq!(realm("Digest realm=pumps, nonce=\"x\""), Some("pumps"));
    assert_eq!(realm("Negotiate"), None);
}

proptest! {
    #[test]
    fn any_bytes_any_split_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        req.extend(&data);
        let cut = cut.min(req.len());
        converse(HttpDissector, &flow(), &[(ToResponder, &req[..cut]), (ToResponder, &req[cut..]), (ToInitiator, &data)]);
    }
}

#[test]
fn connect_tunnel_is_read_as_tls() {
    let req = b"CONNECT portal.vendor.example:443 HTTP/1.1\r\nHost: portal.vendor.example:443\r\nUser-Agent: Updater/2.0\r\n\r\n";
    let resp = b"HTTP/1.1 200 Connection established\r\n\r\n";
    // A ClientHello with only a cipher and no extensions.
    let mut body = vec![3, 3];
    body.extend([0; 32]);
    body.extend([0, 0, 2, 0x00, 0x2f, 1, 0]);
    let mut hello = vec![22, 3, 1, 0, (body.len() + 4) as u8, 1, 0, 0, body.len() as u8];
    hello.extend(body);
    let (out, proto, stats) =
        converse(HttpDissector, &flow(), &[(ToResponder, req), (ToInitiator, resp), (ToResponder, &hello)]);
    assert_eq!(proto, Some("http"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert_eq!(value(&out, "user_agent"), Some("Updater/2.0"));
    assert!(value(&out, "ja4").is_some_and(|j| j.starts_with("t12i0100")), "{:?}", value(&out, "ja4"));
}
