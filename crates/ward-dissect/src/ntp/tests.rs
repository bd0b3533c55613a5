use proptest::prelude::*;
use ward_core::{Direction::*, IpProto};

use super::*;
use crate::testutil::{attrs, converse, ctx};

fn packet(version: u8, mode: u8, stratum: u8, refid: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0u8; HEADER];
    p[0] = version << 3 | mode;
    p[1] = stratum;
    p[2] = 6;
    p[3] = 0xe9;
    p[12..16].copy_from_slice(&refid);
    p
}

#[test]
fn client_and_server() {
    let c = ctx(IpProto::UDP, [10, 3, 0, 17], 123, [10, 0, 0, 1], 123);
    let q = packet(4, 3, 0, [0; 4]);
    let a = packet(4, 4, 2, [192, 0, 2, 10]);
    let (out, proto, stats) =
        converse(NtpDissector, &c, &[(ToResponder, &q), (ToInitiator, &a), (ToResponder, &q)]);
    assert_eq!(proto, Some("ntp"));
    assert!(stats.malformed.is_empty());
    let got: Vec<(String, String, String)> = attrs(&out).into_iter().map(|a| (a.0, a.1, a.2)).collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        got,
        [
            s("ip:10.3.0.17", "ntp_version", "4"),
            s("ip:10.3.0.17", "ntp_mode", "client"),
            s("ip:10.3.0.17", "ntp_server", "10.0.0.1"),
            s("ip:10.0.0.1", "ntp_version", "4"),
            s("ip:10.0.0.1", "ntp_mode", "server"),
            s("ip:10.0.0.1", "ntp_stratum", "2"),
            s("ip:10.0.0.1", "ntp_reference", "192.0.2.10"),
        ]
    );
}

#[test]
fn stratum_one_clock_and_monlist() {
    let c = ctx(IpProto::UDP, [10, 0, 0, 1], 123, [224, 0, 1, 1], 123);
    let (out, _, _) = converse(NtpDissector, &c, &[(ToResponder, &packet(3, 5, 1, *b"GPS\0"))]);
    assert!(attrs(&out).iter().any(|a| a.1 == "ntp_reference" && a.2 == "GPS"));
    let (out, _, _) = converse(NtpDissector, &c, &[(ToResponder, &packet(4, 5, 2, *b"LOCL"))]);
    assert!(attrs(&out).iter().any(|a| a.1 == "ntp_reference" && a.2 == "LOCL"));

    // A monlist request (mode 7, implementation 3, request 42) and its answer.
    let c = ctx(IpProto::UDP, [198, 51, 100, 7], 50000, [10, 0, 0, 1], 123);
    let req = [0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
    let mut resp = vec![0x97, 0x00, 0x03, 0x2a, 0, 6, 0, 0x48];
    resp.extend([0; 72]);
    let (out, _, _) = converse(NtpDissector, &c, &[(ToResponder, &req), (ToInitiator, &resp)]);
    assert!(attrs(&out).iter().any(|a| a.0 == "ip:10.0.0.1" && a.1 == "ntp_private_answers"));
}

#[test]
fn probe() {
    assert_eq!(NtpDissector.probe(ToResponder, &packet(4, 3, 0, [0; 4])), Probe::Match);
    assert_eq!(NtpDissector.probe(ToResponder, &packet(4, 3, 0, [0; 4])[..40]), Probe::NoMatch);
    assert_eq!(NtpDissector.probe(ToResponder, &packet(6, 3, 0, [0; 4])), Probe::NoMatch);
    assert_eq!(NtpDissector.probe(ToResponder, &packet(4, 4, 99, [0; 4])), Probe::NoMatch);
    assert_eq!(NtpDissector.probe(ToResponder, &[0x17, 0, 9, 42, 0, 0, 0, 0]), Probe::NoMatch);
    assert_eq!(NtpDissector.probe(ToResponder, &[0u8; 48]), Probe::NoMatch);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = header(&data);
        let c = ctx(IpProto::UDP, [10, 0, 0, 2], 123, [10, 0, 0, 1], 123);
        converse(NtpDissector, &c, &[(ToResponder, &data), (ToInitiator, &data)]);
    }
}
