use proptest::prelude::*;
use ward_core::{AccountKind, Direction::*, IpProto, ObservationKind, Weakness};

use super::*;
use crate::testutil::{converse, credentials, ctx, value};

fn flow() -> crate::FlowContext {
    ctx(IpProto::TCP, [10, 7, 0, 2], 43000, [10, 7, 0, 99], 23)
}

fn logins(out: &[Observation]) -> Vec<(AccountKind, Weakness, Option<bool>)> {
    credentials(out)
        .into_iter()
        .map(|o| match &o.kind {
            ObservationKind::Credential { account, weakness, accepted, .. } => {
                (*account, *weakness, *accepted)
            }
            _ => unreachable!(),
        })
        .collect()
}

/// Each key as its own segment, as a terminal sends them, with the server's echo.
fn typed(keys: &[u8], echo: bool) -> Vec<(Direction, &[u8])> {
    let mut v = Vec::new();
    for i in 0..keys.len() {
        v.push((ToResponder, &keys[i..i + 1]));
        if echo {
            v.push((ToInitiator, &keys[i..i + 1]));
        }
    }
    v
}

#[test]
fn busybox_login_refused_then_accepted() {
    let mut msgs: Vec<(Direction, &[u8])> = vec![
        (ToInitiator, &[255, 253, 1, 255, 253, 31, 255, 251, 1, 255, 251, 3]),
        (ToResponder, &[255, 252, 1, 255, 250, 31, 0, 80, 0, 24, 255, 240]),
        // The banner and the prompt in separate segments.
        (ToInitiator, b"\r\nPatient Monitor Gateway PMG-200 (BusyBox v1.31.1)\r\n"),
        (ToInitiator, b"monitor-gw login: "),
    ];
    msgs.extend(typed(b"roox\x7ft\r\0", true));
    msgs.push((ToInitiator, b"\r\nPassword: "));
    msgs.extend(typed(b"guess\r\n", false));
    msgs.push((ToInitiator, b"\r\nLogin incorrect\r\nmonitor-gw login: "));
    msgs.extend(typed(b"root\r\n", true));
    msgs.push((ToInitiator, b"\r\nPassword: "));
    msgs.extend(typed(b"vizxv\r\n", false));
    msgs.push((ToInitiator, b"\r\n\r\nBusyBox v1.31.1 built-in shell (ash)\r\n\r\n~ # "));
    let (out, proto, stats) = converse(TelnetDissector, &flow(), &msgs);
    assert_eq!(proto, Some("telnet"));
    assert!(stats.malformed.is_empty());
    assert_eq!(value(&out, "telnet_banner"), Some("Patient Monitor Gateway PMG-200 (BusyBox v1.31.1)"));
    assert_eq!(
        logins(&out),
        [
            (AccountKind::Root, Weakness::Cleartext, Some(false)),
            (AccountKind::Root, Weakness::Default, Some(true))
        ]
    );
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("guess") && !json.contains("vizxv"));
    assert!(out.iter().all(|o| o.device.to_string() == "ip:10.7.0.99"));
}

#[test]
fn unanswered_login_is_unknown() {
    let msgs: Vec<(Direction, &[u8])> = vec![
        (ToInitiator, &[255, 251, 1]),
        (ToInitiator, b"login: "),
        (ToResponder, b"admin\r\n"),
        (ToInitiator, b"Password:"),
        (ToResponder, b"1234\r\n"),
    ];
    let (out, _, _) = converse(TelnetDissector, &flow(), &msgs);
    assert_eq!(logins(&out), [(AccountKind::Admin, Weakness::Default, None)]);
}

#[test]
fn negotiation_is_stripped_across_calls() {
    let mut st = IacState::Data;
    let mut text = strip(&mut st, &[b'a', IAC]);
    text.extend(strip(&mut st, &[253, 24, b'b', IAC, SB, 24, 1, IAC]));
    text.extend(strip(&mut st, &[SE, b'c', IAC, IAC]));
    assert_eq!(text, [b'a', b'b', b'c', IAC]);
}

#[test]
fn probe() {
    assert_eq!(TelnetDissector.probe(ToInitiator, &[255, 253, 24]), Probe::Match);
    assert_eq!(TelnetDissector.probe(ToResponder, &[255]), Probe::NeedMore);
    assert_eq!(TelnetDissector.probe(ToResponder, &[255, 1]), Probe::NoMatch);
    assert_eq!(TelnetDissector.probe(ToInitiator, b"SSH-2.0-OpenSSH_9.2\r\n"), Probe::NoMatch);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..400), b in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut server = vec![255, 251, 1];
        server.extend(b"login: ");
        server.extend(&a);
        converse(TelnetDissector, &flow(), &[(ToInitiator, &server), (ToResponder, &b), (ToInitiator, b"Password: "), (ToResponder, &a), (ToInitiator, &b)]);
    }
}
