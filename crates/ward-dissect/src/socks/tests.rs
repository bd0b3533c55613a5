use proptest::prelude::*;
use ward_core::{AccountKind, Direction::*, IpProto, ObservationKind, Weakness};

use super::*;
use crate::testutil::{attrs, converse, credentials, ctx, value};

/// A TLS record holding a minimal ClientHello with a server name, as a tunnel would carry.
fn client_hello() -> Vec<u8> {
    let name = b"portal.vendor.example";
    let mut sni = vec![0, 0];
    sni.extend(((name.len() + 5) as u16).to_be_bytes());
    sni.extend(((name.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend((name.len() as u16).to_be_bytes());
    sni.extend(name);
    let mut body = vec![3, 3];
    body.extend([0; 32]);
    body.extend([0, 0, 2, 0x00, 0x2f, 1, 0]);
    body.extend((sni.len() as u16).to_be_bytes());
    body.extend(sni);
    let mut hs = vec![1, 0];
    hs.extend((body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![22, 3, 1];
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

fn flow() -> crate::FlowContext {
    ctx(IpProto::TCP, [10, 5, 0, 20], 53554, [10, 5, 0, 1], 1080)
}

#[test]
fn socks4a_then_tls_inside() {
    let mut req = vec![4, 1, 1, 187, 0, 0, 0, 1];
    req.extend(b"nurse\0portal.vendor.example\0");
    let reply = [0, 0x5a, 1, 187, 93, 184, 216, 34];
    let hello = client_hello();
    let (out, proto, stats) = converse(
        SocksDissector,
        &flow(),
        &[(ToResponder, &req), (ToInitiator, &reply), (ToResponder, &hello)],
    );
    assert_eq!(proto, Some("socks"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert_eq!(value(&out, "proxy"), Some("socks4"));
    assert_eq!(value(&out, "tls_sni"), Some("portal.vendor.example"));
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("nurse"), "the SOCKS user id is not kept");
}

#[test]
fn socks5_login_is_judged_and_refusal_ends_the_flow() {
    // Greeting offering user/password, root:vizxv (a Mirai default), CONNECT to a domain.
    let mut client = vec![5, 1, 2, 1, 4];
    client.extend(b"root");
    client.push(5);
    client.extend(b"vizxv");
    client.extend([5, 1, 0, 3, 4]);
    client.extend(b"host");
    client.extend([0, 80]);
    let server = [5, 2, 1, 1];
    let (out, _, stats) =
        converse(SocksDissector, &flow(), &[(ToResponder, &client), (ToInitiator, &server)]);
    assert!(stats.malformed.is_empty());
    let creds = credentials(&out);
    assert_eq!(creds.len(), 1);
    assert!(matches!(
        &creds[0].kind,
        ObservationKind::Credential { account: AccountKind::Root, weakness: Weakness::Default, accepted: Some(false), protocol, .. }
            if protocol == "socks5"
    ));
    assert!(!serde_json::to_string(&out).unwrap().contains("vizxv"));
    assert_eq!(value(&out, "proxy"), Some("socks5"));
}

#[test]
fn socks5_without_login() {
    let client = [&[5, 1, 0][..], &[5, 1, 0, 1, 10, 9, 9, 9, 1, 187]].concat();
    let server = [&[5, 0][..], &[5, 0, 0, 1, 10, 5, 0, 1, 4, 56]].concat();
    let hello = client_hello();
    let (out, _, stats) = converse(
        SocksDissector,
        &flow(),
        &[(ToResponder, &client), (ToInitiator, &server), (ToResponder, &hello)],
    );
    assert!(stats.malformed.is_empty());
    assert!(credentials(&out).is_empty());
    assert_eq!(value(&out, "tls_sni"), Some("portal.vendor.example"));
    // Nothing the inner protocol says about the far server lands on the proxy.
    assert!(attrs(&out).iter().all(|a| a.1 == "proxy" || a.0 == "ip:10.5.0.20"));
}

#[test]
fn probe() {
    assert_eq!(SocksDissector.probe(ToResponder, &[4, 1, 0, 80, 1, 2, 3, 4]), Probe::NeedMore);
    assert_eq!(SocksDissector.probe(ToResponder, &[4, 1, 0, 80, 1, 2, 3, 4, 0]), Probe::Match);
    assert_eq!(SocksDissector.probe(ToResponder, &[4, 7, 0, 80]), Probe::NoMatch);
    assert_eq!(SocksDissector.probe(ToResponder, &[5, 1, 0]), Probe::NeedMore);
    assert_eq!(SocksDissector.probe(ToResponder, &[5, 1, 0, 9]), Probe::NoMatch);
    assert_eq!(
        SocksDissector.probe(ToResponder, &[&[4, 1, 0, 80, 1, 2, 3, 4][..], &[b'a'; 300]].concat()),
        Probe::NoMatch
    );
    assert_eq!(SocksDissector.probe(ToInitiator, &[0, 0x5a, 0, 0, 0, 0, 0, 0]), Probe::NoMatch);
    assert_eq!(SocksDissector.probe(ToResponder, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), first in 4u8..6) {
        let mut c = vec![first];
        c.extend(&data);
        let _ = client_handshake(&c);
        let _ = server_handshake(&data);
        converse(SocksDissector, &flow(), &[(ToResponder, &c), (ToInitiator, &data), (ToResponder, &data)]);
    }
}
