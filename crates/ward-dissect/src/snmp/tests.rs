use proptest::prelude::*;
use ward_core::{AccountKind, Direction::*, IpProto, ObservationKind, Weakness};

use super::*;
use crate::testutil::{attrs, converse, credentials, ctx};

use ward_gen::ber::{int, oid, snmp_message as community_msg, snmp_pdu as pdu, tlv};

const DESCR: &str = "1.3.6.1.2.1.1.1.0";
const OBJECT_ID: &str = "1.3.6.1.2.1.1.2.0";
const NAME: &str = "1.3.6.1.2.1.1.5.0";
const NULL: [u8; 2] = [0x05, 0];

fn flow() -> crate::FlowContext {
    ctx(IpProto::UDP, [10, 8, 0, 2], 40161, [10, 8, 3, 44], 161)
}

fn creds(out: &[ward_core::Observation]) -> Vec<(String, AccountKind, Weakness, Option<bool>)> {
    credentials(out)
        .into_iter()
        .map(|o| match &o.kind {
            ObservationKind::Credential { protocol, account, weakness, accepted, .. } => {
                (format!("{protocol}@{}", o.device), *account, *weakness, *accepted)
            }
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn v2c_get_and_answer() {
    let get = community_msg(
        1,
        "public",
        pdu(0xa0, 77, &[(DESCR, NULL.to_vec()), (OBJECT_ID, NULL.to_vec()), (NAME, NULL.to_vec())]),
    );
    let resp = community_msg(
        1,
        "public",
        pdu(
            0xa2,
            77,
            &[
                (DESCR, tlv(0x04, b"Infusion pump gateway, firmware 4.2.1")),
                (OBJECT_ID, oid("1.3.6.1.4.1.8072.3.2.10")),
                (NAME, tlv(0x04, b"pump-gw-3")),
            ],
        ),
    );
    let (out, proto, stats) = converse(SnmpDissector, &flow(), &[(ToResponder, &get), (ToInitiator, &resp)]);
    assert_eq!(proto, Some("snmp"));
    assert!(stats.malformed.is_empty());
    let agent: Vec<(String, String, String)> =
        attrs(&out).into_iter().filter(|a| a.0 == "ip:10.8.3.44").map(|a| (a.1, a.2, a.3)).collect();
    assert_eq!(
        agent,
        [
            ("snmp_version".into(), "2c".into(), "snmp.version".into()),
            ("snmp_sys_descr".into(), "Infusion pump gateway, firmware 4.2.1".into(), "snmp.sysDescr".into()),
            ("snmp_sys_object_id".into(), "1.3.6.1.4.1.8072.3.2.10".into(), "snmp.sysObjectID".into()),
            ("snmp_sys_name".into(), "pump-gw-3".into(), "snmp.sysName".into()),
        ]
    );
    assert_eq!(creds(&out), [("snmp@ip:10.8.3.44".into(), AccountKind::None, Weakness::Default, Some(true))]);
}

#[test]
fn unanswered_private_community_and_trap() {
    // A set with a site community nobody answers, polled three times: one credential.
    let set = |id| community_msg(0, "Wm9-site-rw", pdu(0xa3, id, &[(NAME, tlv(0x04, b"x"))]));
    let (out, _, _) = converse(
        SnmpDissector,
        &flow(),
        &[(ToResponder, &set(1)), (ToResponder, &set(2)), (ToResponder, &set(3))],
    );
    assert_eq!(creds(&out), [("snmp@ip:10.8.3.44".into(), AccountKind::None, Weakness::Cleartext, None)]);
    assert!(!serde_json::to_string(&out).unwrap().contains("Wm9"), "the community never leaves");

    // A v2 trap from the agent to its manager: the manager is who accepts the community.
    let trap =
        community_msg(1, "private", pdu(0xa7, 5, &[("1.3.6.1.6.3.1.1.4.1.0", oid("1.3.6.1.4.1.4.1.2.21"))]));
    let c = ctx(IpProto::UDP, [10, 8, 3, 44], 40000, [10, 8, 0, 2], 162);
    let (out, _, _) = converse(SnmpDissector, &c, &[(ToResponder, &trap)]);
    assert_eq!(creds(&out), [("snmp@ip:10.8.0.2".into(), AccountKind::None, Weakness::Default, None)]);
    assert_eq!(attrs(&out)[0].0, "ip:10.8.3.44", "the trap's sender is the agent");
}

#[test]
fn v3_without_authentication() {
    let engine = [0x80, 0x00, 0x1f, 0x88, 0x80, 0x46, 0x8a, 0x3a, 0x41];
    let usm = tlv(
        0x30,
        &[tlv(0x04, &engine), int(3), int(1000), tlv(0x04, b"biomed"), tlv(0x04, b""), tlv(0x04, b"")]
            .concat(),
    );
    let header = tlv(0x30, &[int(9), int(65507), tlv(0x04, &[0x04]), int(3)].concat());
    let scoped =
        tlv(0x30, &[tlv(0x04, &engine), tlv(0x04, b""), pdu(0xa0, 9, &[(DESCR, NULL.to_vec())])].concat());
    let msg = tlv(0x30, &[int(3), header, tlv(0x04, &usm), scoped].concat());
    let (out, _, stats) = converse(SnmpDissector, &flow(), &[(ToResponder, &msg)]);
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let a: Vec<(String, String)> = attrs(&out).into_iter().map(|a| (a.1, a.2)).collect();
    assert_eq!(
        a,
        [
            ("snmp_version".into(), "3".into()),
            ("snmp_engine_id".into(), "80:00:1f:88:80:46:8a:3a:41".into()),
            ("snmp_enterprise".into(), "8072".into()),
        ]
    );
    assert_eq!(
        creds(&out),
        [("snmpv3@ip:10.8.3.44".into(), AccountKind::Service, Weakness::Cleartext, None)]
    );
    assert!(!serde_json::to_string(&out).unwrap().contains("biomed\""));
}

#[test]
fn probe() {
    let get = community_msg(1, "public", pdu(0xa0, 1, &[(DESCR, NULL.to_vec())]));
    assert_eq!(SnmpDissector.probe(ToResponder, &get), Probe::Match);
    assert_eq!(SnmpDissector.probe(ToResponder, &get[..get.len() - 3]), Probe::NoMatch);
    assert_eq!(
        SnmpDissector.probe(ToResponder, &community_msg(7, "public", pdu(0xa0, 1, &[]))),
        Probe::NoMatch
    );
    assert_eq!(
        SnmpDissector.probe(ToResponder, b"\x30\x0c\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00"),
        Probe::NoMatch
    );
    assert_eq!(enterprise(&[0x80, 0, 0, 9, 1]), Some(9));
    assert_eq!(enterprise(&[0, 0, 0, 9, 1]), None);
}

proptest! {
    #[test]
    fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut msg = vec![0x30, data.len().min(127) as u8, 0x02, 0x01, 0x01];
        msg.extend(&data);
        converse(SnmpDissector, &flow(), &[(ToResponder, &msg), (ToInitiator, &data)]);
    }
}
