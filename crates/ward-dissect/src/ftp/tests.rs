use proptest::prelude::*;
use ward_core::{AccountKind, Direction::*, IpProto, ObservationKind, Weakness};

use super::*;
use crate::testutil::{attrs, converse, credentials, ctx, value};

fn flow() -> crate::FlowContext {
    ctx(IpProto::TCP, [10, 6, 0, 30], 40222, [10, 6, 0, 21], 2121)
}

fn logins(out: &[Observation]) -> Vec<(AccountKind, Weakness, Option<bool>)> {
    credentials(out)
        .into_iter()
        .map(|o| match &o.kind {
            ObservationKind::Credential { account, weakness, accepted, protocol, .. } => {
                assert_eq!(protocol, "ftp");
                assert_eq!(o.device.to_string(), "ip:10.6.0.21");
                (*account, *weakness, *accepted)
            }
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn failed_then_accepted_login() {
    let msgs: Vec<(Direction, &[u8])> = vec![
        (ToInitiator, b"220-Welcome to the lab analyser archive\r\n220-Authorised use only\r\n220 ProFTPD 1.3.5 Server (Lab) [10.6.0.21]\r\n"),
        (ToResponder, b"USER admin\r\n"),
        (ToInitiator, b"331 Password required for admin\r\n"),
        (ToResponder, b"PASS wrong-one\r\n"),
        (ToInitiator, b"530 Login incorrect.\r\n"),
        (ToResponder, b"USER admin\r\nPASS admin\r\n"),
        (ToInitiator, b"331 Password required for admin\r\n230 User admin logged in\r\n"),
        (ToResponder, b"SYST\r\n"),
        (ToInitiator, b"215 UNIX Type: L8\r\n"),
    ];
    let (out, proto, stats) = converse(FtpDissector, &flow(), &msgs);
    assert_eq!(proto, Some("ftp"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    assert_eq!(value(&out, "server"), Some("Welcome to the lab analyser archive"));
    assert_eq!(value(&out, "ftp_system"), Some("UNIX Type: L8"));
    assert_eq!(
        logins(&out),
        [
            (AccountKind::Admin, Weakness::Cleartext, Some(false)),
            (AccountKind::Admin, Weakness::Default, Some(true))
        ]
    );
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("wrong-one"));
}

#[test]
fn anonymous_and_auth_tls() {
    let msgs: Vec<(Direction, &[u8])> = vec![
        (ToInitiator, b"220 (vsFTPd 3.0.3)\r\n"),
        (ToResponder, b"USER anonymous\r\n"),
        (ToInitiator, b"331 Please specify the password.\r\n"),
        (ToResponder, b"PASS nurse@ward.example\r\n"),
        (ToInitiator, b"230 Login successful.\r\n"),
    ];
    let (out, _, _) = converse(FtpDissector, &flow(), &msgs);
    assert_eq!(logins(&out), [(AccountKind::Anonymous, Weakness::Cleartext, Some(true))]);
    assert!(!serde_json::to_string(&out).unwrap().contains("nurse"));

    let tls: Vec<(Direction, &[u8])> = vec![
        (ToInitiator, b"220 FileZilla Server 1.7\r\n"),
        (ToResponder, b"AUTH TLS\r\n"),
        (ToInitiator, b"234 Using authentication type TLS.\r\n"),
        (ToResponder, &[0x16, 3, 1, 0, 200, 1, 0, 0, 196]),
    ];
    let (out, _, stats) = converse(FtpDissector, &flow(), &tls);
    assert!(stats.malformed.is_empty());
    assert!(logins(&out).is_empty());
    assert_eq!(attrs(&out).len(), 1);
}

#[test]
fn probe() {
    assert_eq!(FtpDissector.probe(ToInitiator, b"220 (vsFTPd 3.0.3)\r\n"), Probe::Match);
    assert_eq!(FtpDissector.probe(ToInitiator, b"220 mail.example ESMTP Postfix\r\n"), Probe::NoMatch);
    assert_eq!(FtpDissector.probe(ToInitiator, b"220 (vsFT"), Probe::NeedMore);
    assert_eq!(FtpDissector.probe(ToResponder, b"USER biomed\r\n"), Probe::Match);
    assert_eq!(FtpDissector.probe(ToResponder, b"EHLO pump\r\n"), Probe::NoMatch);
    assert_eq!(FtpDissector.probe(ToResponder, &[0x16, 3, 1]), Probe::NoMatch);
}

proptest! {
    #[test]
    fn any_lines_never_panic(a in proptest::collection::vec(any::<u8>(), 0..300), b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut server = b"220 FTP ready\r\n".to_vec();
        server.extend(&a);
        let mut client = b"USER x\r\n".to_vec();
        client.extend(&b);
        converse(FtpDissector, &flow(), &[(ToInitiator, &server), (ToResponder, &client), (ToInitiator, &b), (ToResponder, &a)]);
    }
}
