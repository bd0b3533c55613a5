use proptest::prelude::*;
use ward_core::{Direction::*, IpProto, Timestamp};

use super::hello::{ClientHello, client_hello, ext};
use super::*;
use crate::testutil::{attrs, converse, ctx, value};

/// Chrome 109's ClientHello as FoxIO's `tls-sni.pcapng` shows it (ciphers and extensions in
/// wire order, from `JA4_ro`), with GREASE values where Chrome puts them.
fn chrome() -> ClientHello {
    ClientHello {
        version: 0x0303,
        ciphers: vec![
            0x5a5a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ],
        extensions: vec![
            0x2a2a, 0xff01, 0x0033, 0x002d, 0x0005, 0x4469, 0x000d, 0x0010, 0x0023, 0x001b, 0x002b, 0x0000,
            0x0012, 0x000a, 0x0017, 0x000b, 0x0015, 0xdada,
        ],
        sni: Some(b"clientservices.googleapis.com".to_vec()),
        alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        groups: vec![0x8a8a, 0x001d, 0x0017, 0x0018],
        point_formats: vec![0],
        signature_algorithms: vec![0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
        versions: vec![0x7a7a, 0x0304, 0x0303],
    }
}

/// The wire form of a ClientHello handshake message.
fn encode(ch: &ClientHello) -> Vec<u8> {
    fn v16(b: &mut Vec<u8>, data: &[u8]) {
        b.extend((data.len() as u16).to_be_bytes());
        b.extend(data);
    }
    let be = |v: &[u16]| v.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
    let mut exts = Vec::new();
    for &kind in &ch.extensions {
        let mut data = Vec::new();
        match kind {
            ext::SERVER_NAME => {
                let name = ch.sni.clone().unwrap_or_default();
                let mut entry = vec![0];
                v16(&mut entry, &name);
                v16(&mut data, &entry);
            }
            ext::ALPN => {
                let list: Vec<u8> = ch.alpn.iter().flat_map(|a| [&[a.len() as u8][..], a].concat()).collect();
                v16(&mut data, &list);
            }
            ext::SUPPORTED_GROUPS => v16(&mut data, &be(&ch.groups)),
            ext::EC_POINT_FORMATS => {
                data.push(ch.point_formats.len() as u8);
                data.extend(&ch.point_formats);
            }
            ext::SIGNATURE_ALGORITHMS => v16(&mut data, &be(&ch.signature_algorithms)),
            ext::SUPPORTED_VERSIONS => {
                let v = be(&ch.versions);
                data.push(v.len() as u8);
                data.extend(v);
            }
            _ => {}
        }
        exts.extend(kind.to_be_bytes());
        v16(&mut exts, &data);
    }
    let mut body = ch.version.to_be_bytes().to_vec();
    body.extend([7; 32]);
    body.push(32);
    body.extend([9; 32]);
    v16(&mut body, &be(&ch.ciphers));
    body.extend([1, 0]);
    v16(&mut body, &exts);
    handshake(CLIENT_HELLO, &body)
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend(body);
    m
}

fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![kind, 3, 1];
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

fn server_hello(version: u16, retry: bool) -> Vec<u8> {
    let mut body = 0x0303u16.to_be_bytes().to_vec();
    if retry {
        body.extend(hello::tests_retry_random());
    } else {
        body.extend([3; 32]);
    }
    body.extend([0, 0x13, 0x01, 0]);
    if version == 0x0304 {
        body.extend([0, 6, 0, 43, 0, 2, 3, 4]);
    }
    handshake(SERVER_HELLO, &body)
}

fn certificate(ders: &[&[u8]]) -> Vec<u8> {
    let mut list: Vec<u8> = Vec::new();
    for d in ders {
        list.extend(&(d.len() as u32).to_be_bytes()[1..]);
        list.extend(*d);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend(list);
    handshake(CERTIFICATE, &body)
}

const SELF_SIGNED: &[u8] = include_bytes!("testdata/selfsigned.der");
const LEAF: &[u8] = include_bytes!("testdata/leaf.der");

fn flow() -> FlowContext {
    ctx(IpProto::TCP, [10, 20, 0, 9], 50112, [10, 20, 0, 5], 8443)
}

#[test]
fn fingerprints_agree_with_foxio_and_salesforce() {
    let ch = chrome();
    let (a, b, c) = fingerprint::ja4_raw(&ch);
    assert_eq!(
        format!("{a}_{b}_{c}"),
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_\
         0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_\
         0403,0804,0401,0503,0805,0501,0806,0601"
    );
    assert_eq!(fingerprint::ja4(&ch), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    // The wire form parses back to the same hello.
    let wire = encode(&ch);
    assert_eq!(client_hello(&wire[4..]).unwrap(), ch);

    // The example of JA3's README.
    let ja3_example = ClientHello {
        version: 769,
        ciphers: vec![47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
        extensions: vec![0, 10, 11],
        groups: vec![23, 24, 25],
        point_formats: vec![0],
        ..ClientHello::default()
    };
    assert_eq!(
        fingerprint::ja3_string(&ja3_example),
        "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
    );
    assert_eq!(fingerprint::ja3(&ja3_example), "ada70206e40642a3e4461f35503241d5");
}

#[test]
fn cached_fingerprints_equal_computed_ones() {
    let mut ch = chrome();
    for round in 0..3 {
        // GREASE changes with every hello; the fingerprints do not.
        ch.ciphers[0] = [0x0a0a, 0x1a1a, 0xfafa][round];
        assert_eq!(fingerprint::ja3_ja4(&ch), (fingerprint::ja3(&ch), fingerprint::ja4(&ch)));
    }
    // A different ALPN value changes JA4 only; the cache must not mix them up.
    let mut other = chrome();
    other.alpn = vec![b"http/1.1".to_vec()];
    assert_eq!(fingerprint::ja3_ja4(&other), (fingerprint::ja3(&other), fingerprint::ja4(&other)));
    assert_ne!(fingerprint::ja3_ja4(&other).1, fingerprint::ja3_ja4(&chrome()).1);
}

#[test]
fn ja4_edge_cases() {
    let mut ch = chrome();
    ch.alpn = vec![vec![0xba, 0xad], b"http/1.1".to_vec()];
    assert!(fingerprint::ja4(&ch).starts_with("t13d151699_"));
    ch.alpn = vec![b"h".to_vec()];
    assert!(fingerprint::ja4(&ch).starts_with("t13d1516hh_"));
    ch.extensions.retain(|e| *e != ext::SERVER_NAME && *e != ext::ALPN);
    ch.alpn.clear();
    ch.versions.clear();
    ch.version = 0x0301;
    assert!(fingerprint::ja4(&ch).starts_with("t10i151400_"), "{}", fingerprint::ja4(&ch));
    let bare = ClientHello { version: 0x0300, ..ClientHello::default() };
    assert_eq!(fingerprint::ja4(&bare), "ts3i000000_000000000000_000000000000");
}

#[test]
fn client_hello_split_across_records_and_segments() {
    let hs = encode(&chrome());
    // The handshake message cut in two records, the records cut in three segments.
    let (a, b) = hs.split_at(100);
    let stream = [record(HANDSHAKE, a), record(HANDSHAKE, b)].concat();
    let (s1, rest) = stream.split_at(3);
    let (s2, s3) = rest.split_at(150);
    let (out, proto, stats) =
        converse(TlsDissector, &flow(), &[(ToResponder, s1), (ToResponder, s2), (ToResponder, s3)]);
    assert_eq!(proto, Some("tls"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert_eq!(value(&out, "tls_sni"), Some("clientservices.googleapis.com"));
    assert_eq!(value(&out, "tls_alpn"), Some("h2,http/1.1"));
    assert_eq!(value(&out, "tls_client_versions"), Some("TLS 1.3,TLS 1.2"));
    assert_eq!(value(&out, "ja4"), Some("t13d1516h2_8daaf6152771_e5627efa2ab1"));
    assert!(attrs(&out).iter().all(|a| a.0 == "ip:10.20.0.9" && a.3.starts_with("tls.client_hello.")));
}

#[test]
fn tls12_server_certificate() {
    let client = record(HANDSHAKE, &encode(&chrome()));
    let server = [
        record(HANDSHAKE, &server_hello(0x0303, false)),
        record(HANDSHAKE, &certificate(&[SELF_SIGNED])),
        record(HANDSHAKE, &handshake(SERVER_HELLO_DONE, &[])),
    ]
    .concat();
    let (out, _, stats) = converse(TlsDissector, &flow(), &[(ToResponder, &client), (ToInitiator, &server)]);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let server_attrs: Vec<(String, String)> =
        attrs(&out).into_iter().filter(|a| a.0 == "ip:10.20.0.5").map(|a| (a.1, a.2)).collect();
    let get = |k: &str| server_attrs.iter().find(|a| a.0 == k).map(|a| a.1.as_str());
    assert_eq!(get("tls_version"), Some("TLS 1.2"));
    assert_eq!(get("tls_cert_subject"), Some("O=Ward Test, CN=pump-gw.biomed.local"));
    assert_eq!(get("tls_cert_issuer"), Some("O=Ward Test, CN=pump-gw.biomed.local"));
    assert_eq!(get("tls_cert_self_signed"), Some("true"));
    assert_eq!(get("tls_cert_names"), Some("pump-gw.biomed.local,10.20.0.5"));
    assert_eq!(get("tls_cert_expired"), Some("false"));
    assert_eq!(get("tls_cert_sha1").map(str::len), Some(40));
}

#[test]
fn certificate_facts() {
    let leaf = cert::read(LEAF).unwrap();
    assert_eq!(leaf.subject, "CN=monitor-3.icu.local");
    assert_eq!(leaf.issuer, "O=Ward Test, CN=Ward Test CA");
    assert!(!leaf.self_signed);
    assert_eq!(leaf.sha1, "e0d0313a4ef9868863de59116fe94422c7ecdebf");
    assert_eq!(leaf.not_after.as_secs() - leaf.not_before.as_secs(), 86_400);
    assert!(expired(leaf.not_after.add_nanos(1), leaf.not_after));
    assert!(!expired(leaf.not_before, leaf.not_after));
    assert!(cert::read(&LEAF[..100]).is_none());
    assert!(expired(Timestamp::from_secs(4_000_000_000), cert::read(SELF_SIGNED).unwrap().not_after));
}

#[test]
fn certificates_are_remembered_byte_for_byte() {
    let a = cert::read_cached(LEAF);
    let b = cert::read_cached(LEAF);
    assert!(std::rc::Rc::ptr_eq(&a, &b));
    assert_eq!(*a, cert::read(LEAF));
    let other = cert::read_cached(SELF_SIGNED);
    assert_ne!(*other, *a);
    // Many others push it out, and it is read again, the same.
    let mut fake = LEAF.to_vec();
    for i in 0..70u8 {
        fake[20] = i;
        let _ = cert::read_cached(&fake);
    }
    assert_eq!(*cert::read_cached(LEAF), cert::read(LEAF));
}

#[test]
fn tls13_and_retry() {
    // A HelloRetryRequest, then the compatibility ChangeCipherSpec and a second hello.
    let mut second = chrome();
    // The retried hello has no padding extension (21), as in FoxIO's `tls-sni.pcapng`.
    second.extensions.retain(|e| *e != 0x0015);
    let client = [
        record(HANDSHAKE, &encode(&chrome())),
        record(CHANGE_CIPHER_SPEC, &[1]),
        record(HANDSHAKE, &encode(&second)),
        record(APPLICATION_DATA, &[0x55; 40]),
    ]
    .concat();
    let hrr = record(HANDSHAKE, &server_hello(0x0304, true));
    let real = [record(HANDSHAKE, &server_hello(0x0304, false)), record(APPLICATION_DATA, &[1; 30])].concat();
    let (c1, c2) = client.split_at(record(HANDSHAKE, &encode(&chrome())).len());
    let (out, _, stats) = converse(
        TlsDissector,
        &flow(),
        &[(ToResponder, c1), (ToInitiator, &hrr), (ToResponder, c2), (ToInitiator, &real)],
    );
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let ja4: Vec<String> = attrs(&out).into_iter().filter(|a| a.1 == "ja4").map(|a| a.2).collect();
    assert_eq!(ja4, ["t13d1516h2_8daaf6152771_e5627efa2ab1", "t13d1515h2_8daaf6152771_f37e75b10bcc"]);
    assert_eq!(value(&out, "tls_version"), Some("TLS 1.3"));
}

#[test]
fn encrypted_records_are_not_read_as_handshakes() {
    // TLS 1.2: key exchange, ChangeCipherSpec, then an encrypted Finished that happens to
    // start with a ClientHello's type byte.
    let mut finished = vec![CLIENT_HELLO, 0, 0, 12];
    finished.extend([0xee; 12]);
    let client = [
        record(HANDSHAKE, &encode(&chrome())),
        record(HANDSHAKE, &handshake(CLIENT_KEY_EXCHANGE, &[0; 33])),
        record(CHANGE_CIPHER_SPEC, &[1]),
        record(HANDSHAKE, &finished),
    ]
    .concat();
    let (out, _, stats) = converse(TlsDissector, &flow(), &[(ToResponder, &client)]);
    assert!(stats.malformed.is_empty());
    assert_eq!(attrs(&out).iter().filter(|a| a.1 == "ja4").count(), 1);
}

#[test]
fn probe() {
    let ch = record(HANDSHAKE, &encode(&chrome()));
    assert_eq!(TlsDissector.probe(ToResponder, &ch[..3]), Probe::NeedMore);
    assert_eq!(TlsDissector.probe(ToResponder, &ch), Probe::Match);
    assert_eq!(TlsDissector.probe(ToInitiator, &ch), Probe::NoMatch, "a ClientHello from the server side");
    assert_eq!(
        TlsDissector.probe(ToInitiator, &record(HANDSHAKE, &server_hello(0x0303, false))),
        Probe::Match
    );
    assert_eq!(TlsDissector.probe(ToResponder, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(TlsDissector.probe(ToResponder, &[22, 3, 9, 0, 40, 1]), Probe::NoMatch);
    assert_eq!(TlsDissector.probe(ToResponder, &[22, 3, 1, 0xff, 0xff, 1]), Probe::NoMatch);
}

#[test]
fn damage_is_counted() {
    let mut hs = encode(&chrome());
    hs.truncate(60);
    // The handshake header claims more than the record: wait; a bogus record type: malformed.
    let r = [record(HANDSHAKE, &hs), vec![99, 3, 1, 0, 1, 0]].concat();
    let (_, _, stats) = converse(TlsDissector, &flow(), &[(ToResponder, &r)]);
    assert_eq!(stats.malformed.get("tls"), Some(&1));
    // A hello whose fields run past its end.
    let mut bad = encode(&chrome());
    bad[4 + 2 + 32] = 200;
    let (_, _, stats) = converse(TlsDissector, &flow(), &[(ToResponder, &record(HANDSHAKE, &bad))]);
    assert_eq!(stats.malformed.get("tls"), Some(&1));
}

proptest! {
    #[test]
    fn any_records_never_panic(body in proptest::collection::vec(any::<u8>(), 0..700), cut in 0usize..700, kind in 20u8..25) {
        let mut stream = record(HANDSHAKE, &encode(&chrome()));
        stream.extend(record(kind, &body));
        stream.extend(&body);
        let cut = cut.min(stream.len());
        converse(TlsDissector, &flow(), &[(ToResponder, &stream[..cut]), (ToInitiator, &body), (ToResponder, &stream[cut..])]);
    }

    #[test]
    fn any_hello_body_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = client_hello(&body);
        let _ = hello::server_hello(&body);
        let _ = hello::certificates(&body);
        let _ = cert::read(&body);
    }
}
