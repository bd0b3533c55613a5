use proptest::prelude::*;
use ward_core::{Direction::*, IpProto};

use super::*;
use crate::testutil::{attrs, converse, ctx};

const NOTIFY: &[u8] = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=120\r\n\
lOCATION: http://192.168.1.1:7406/rootDesc.xml\r\nSERVER: UPnP/Tomato 1.28 UPnP/1.0 MiniUPnPd/1.6\r\n\
NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\
USN: uuid:04645c3d-e6b4-4eea-bd35-5c320c12969f::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\
NTS: ssdp:alive\r\n\r\n";

#[test]
fn announcement_names_the_device() {
    let c = ctx(IpProto::UDP, [192, 168, 1, 1], 1900, [239, 255, 255, 250], 1900);
    // Announced three times: reported once.
    let (out, proto, _) =
        converse(SsdpDissector, &c, &[(ToResponder, NOTIFY), (ToResponder, NOTIFY), (ToResponder, NOTIFY)]);
    assert_eq!(proto, Some("ssdp"));
    let dev = "ip:192.168.1.1".to_string();
    assert_eq!(
        attrs(&out),
        [
            (
                dev.clone(),
                "upnp_location".into(),
                "http://192.168.1.1:7406/rootDesc.xml".into(),
                "ssdp.location".into()
            ),
            (
                dev.clone(),
                "server".into(),
                "UPnP/Tomato 1.28 UPnP/1.0 MiniUPnPd/1.6".into(),
                "ssdp.server".into()
            ),
            (
                dev.clone(),
                "upnp_type".into(),
                "urn:schemas-upnp-org:device:InternetGatewayDevice:1".into(),
                "ssdp.nt".into()
            ),
            (dev, "upnp_uuid".into(), "04645c3d-e6b4-4eea-bd35-5c320c12969f".into(), "ssdp.usn".into()),
        ]
    );
}

#[test]
fn search_and_its_unicast_answer() {
    let search = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n\
ST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Google Chrome/99.0.4844.74 Mac OS X\r\n\r\n";
    let c = ctx(IpProto::UDP, [192, 168, 242, 50], 56446, [239, 255, 255, 250], 1900);
    let (out, _, _) = converse(SsdpDissector, &c, &[(ToResponder, search)]);
    assert_eq!(
        attrs(&out).into_iter().map(|a| (a.0, a.1, a.2)).collect::<Vec<_>>(),
        [
            (
                "ip:192.168.242.50".into(),
                "upnp_search".into(),
                "urn:dial-multiscreen-org:service:dial:1".into()
            ),
            ("ip:192.168.242.50".into(), "user_agent".into(), "Google Chrome/99.0.4844.74 Mac OS X".into()),
        ]
    );
    // The answer comes from the device's port 1900 to the searcher's port: a new flow that
    // the device opened. No final blank line, as some stacks send it.
    let answer = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: http://10.4.0.9:49152/desc.xml\r\n\
SERVER: Linux/3.10 UPnP/1.0 PatientMonitorGW/2.1\r\nST: upnp:rootdevice\r\nUSN: uuid:2f402f80-da50-11e1-9b23-0017880a0001::upnp:rootdevice";
    let c = ctx(IpProto::UDP, [10, 4, 0, 9], 1900, [192, 168, 242, 50], 56446);
    let (out, proto, _) = converse(SsdpDissector, &c, &[(ToResponder, answer)]);
    assert_eq!(proto, Some("ssdp"));
    let keys: Vec<_> = attrs(&out).into_iter().map(|a| (a.0, a.1)).collect();
    assert_eq!(
        keys,
        [
            ("ip:10.4.0.9".into(), "upnp_location".into()),
            ("ip:10.4.0.9".into(), "server".into()),
            ("ip:10.4.0.9".into(), "upnp_uuid".into()),
        ],
        "upnp:rootdevice says nothing and is not kept"
    );
}

#[test]
fn probe() {
    assert_eq!(SsdpDissector.probe(ToResponder, NOTIFY), Probe::Match);
    assert_eq!(SsdpDissector.probe(ToResponder, b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"), Probe::NoMatch);
    assert_eq!(SsdpDissector.probe(ToResponder, b"HTTP/1.1 200 OK\r\nusn: uuid:1\r\n\r\n"), Probe::Match);
    assert_eq!(SsdpDissector.probe(ToResponder, b"GET / HTTP/1.1\r\n\r\n"), Probe::NoMatch);
    assert_eq!(usn_uuid("uuid:"), None);
    assert_eq!(usn_uuid("UUID:abc::x"), Some("abc"));
}

proptest! {
    #[test]
    fn any_headers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut msg = b"NOTIFY * HTTP/1.1\r\n".to_vec();
        msg.extend(&data);
        let c = ctx(IpProto::UDP, [10, 0, 0, 1], 1900, [239, 255, 255, 250], 1900);
        converse(SsdpDissector, &c, &[(ToResponder, &msg), (ToInitiator, &data)]);
    }
}
