use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_core::{DeviceKey, Endpoint, IpProto, Mac, Observation, ObservationKind, Timestamp, Vlans};

use super::*;

const CLIENT: [u8; 6] = [0x9c, 0xc8, 0xae, 0x01, 0x02, 0x03];

fn bootp(op: u8, yiaddr: [u8; 4], options: &[(u8, &[u8])]) -> Vec<u8> {
    let mut m = vec![op, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0x80, 0];
    m.extend([0; 4]);
    m.extend(yiaddr);
    m.extend([0; 8]);
    m.extend(CLIENT);
    m.extend([0; 10 + 64 + 128]);
    m.extend(parser::MAGIC);
    for (code, v) in options {
        m.push(*code);
        m.push(v.len() as u8);
        m.extend(*v);
    }
    m.push(255);
    m
}

fn ctx() -> FlowContext {
    let ep = |ip: IpAddr, port| Endpoint { ip, port, mac: None };
    FlowContext {
        ts: Timestamp::from_secs(1_700_000_000),
        uid: 1,
        vlans: Vlans { outer: Some(10), inner: None },
        proto: IpProto::UDP,
        initiator: ep(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68),
        responder: ep(IpAddr::V4(Ipv4Addr::BROADCAST), 67),
    }
}

fn run(d: &dyn Dissector, data: &[u8]) -> (Vec<Observation>, Parsed) {
    assert_eq!(d.probe(Direction::ToResponder, data), Probe::Match);
    let mut out = Vec::new();
    let r = d.start().parse(&ctx(), Direction::ToResponder, data, &mut Emitter::new(&mut out, 256));
    (out, r)
}

fn attrs(out: &[Observation]) -> Vec<(String, String, String)> {
    out.iter()
        .filter_map(|o| match &o.kind {
            ObservationKind::Attribute { key, value, evidence } => {
                assert_eq!(o.device, DeviceKey::Mac(Mac(CLIENT)));
                Some((key.to_string(), value.clone(), evidence.source.to_string()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_request_names_its_client() {
    let msg = bootp(
        1,
        [0; 4],
        &[
            (53, &[3]),
            (61, &[1, 0x9c, 0xc8, 0xae, 1, 2, 3]),
            (50, &[10, 10, 0, 7]),
            (12, b"pump-007"),
            (60, b"BD Alaris"),
            (55, &[1, 3, 6, 15, 119, 252]),
            (81, &[0x04, 0, 0, 4, b'p', b'u', b'm', b'p', 4, b'h', b'o', b's', b'p', 0]),
            (77, &[5, b'm', b'e', b'd', b'i', b'c']),
            (161, b"https://mud.example/pump"),
            (82, &[1, 4, b'G', b'i', b'1', b'2', 2, 2, 0xab, 0xcd]),
        ],
    );
    let (out, r) = run(&Dhcp4Dissector, &msg);
    assert_eq!(r, Parsed::Consumed(msg.len()));
    let got = attrs(&out);
    let has = |k: &str, v: &str, src: &str| {
        assert!(got.contains(&(k.into(), v.into(), src.into())), "missing {k}={v} ({src}) in {got:?}");
    };
    has("hostname", "pump-007", "dhcp.option12");
    has("vendor_class", "BD Alaris", "dhcp.option60");
    has("dhcp_fingerprint", "1,3,6,15,119,252", "dhcp.option55");
    has("fqdn", "pump.hosp", "dhcp.option81");
    has("user_class", "medic", "dhcp.option77");
    has("mud_url", "https://mud.example/pump", "dhcp.option161");
    has("requested_ip", "10.10.0.7", "dhcp.option50");
    has("client_id", "01:9c:c8:ae:01:02:03", "dhcp.option61");
    has("relay_circuit_id", "Gi12", "dhcp.option82.1");
    has("relay_remote_id", "ab:cd", "dhcp.option82.2");
    assert!(matches!(out[0].kind, ObservationKind::Seen { ip: None, vlan: Some(10), .. }));
}

#[test]
fn an_ack_binds_the_address_and_names_the_server() {
    let msg = bootp(2, [10, 10, 0, 7], &[(53, &[5]), (54, &[10, 10, 0, 1]), (51, &[0, 1, 0x51, 0x80])]);
    let (out, _) = run(&Dhcp4Dissector, &msg);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].device, DeviceKey::Mac(Mac(CLIENT)));
    assert!(
        matches!(out[0].kind, ObservationKind::Seen { ip: Some(ip), .. } if ip == IpAddr::V4(Ipv4Addr::new(10, 10, 0, 7)))
    );
    assert_eq!(out[1].device, DeviceKey::Ip(IpAddr::V4(Ipv4Addr::new(10, 10, 0, 1))));
}

#[test]
fn option_overload_moves_options_into_the_file_field() {
    let mut msg = bootp(1, [0; 4], &[(53, &[1]), (52, &[1])]);
    // Host name carried in the file field (bytes 108..236).
    msg[108..108 + 8].copy_from_slice(&[12, 5, b'f', b'r', b'i', b'd', b'g', 255]);
    let (out, _) = run(&Dhcp4Dissector, &msg);
    assert!(attrs(&out).iter().any(|(k, v, _)| k == "hostname" && v == "fridg"));
}

#[test]
fn malformed_and_foreign_bytes() {
    let good = bootp(1, [0; 4], &[(53, &[1]), (12, b"x")]);
    assert_eq!(Dhcp4Dissector.probe(Direction::ToResponder, &good[..239]), Probe::NoMatch);
    assert_eq!(Dhcp4Dissector.probe(Direction::ToResponder, b"GET / HTTP/1.1\r\n\r\n"), Probe::NoMatch);
    // An option that runs past the end: the ones before it still count.
    let mut cut = good.clone();
    cut.truncate(cut.len() - 1);
    cut.extend([60, 200, b'a']);
    let (out, r) = run(&Dhcp4Dissector, &cut);
    assert!(matches!(r, Parsed::Consumed(_)));
    assert!(attrs(&out).iter().any(|(k, _, _)| k == "hostname"));
}

fn dhcp6(msg_type: u8, options: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = vec![msg_type, 0x12, 0x34, 0x56];
    for (code, v) in options {
        m.extend(code.to_be_bytes());
        m.extend((v.len() as u16).to_be_bytes());
        m.extend(v);
    }
    m
}

#[test]
fn dhcpv6_solicit_and_reply() {
    let mut duid = vec![0, 3, 0, 1];
    duid.extend(CLIENT);
    let mut vendor = 311u32.to_be_bytes().to_vec();
    vendor.extend([0, 8]);
    vendor.extend(b"MSFT 5.0");
    let mut fqdn = vec![0x01, 3];
    fqdn.extend(b"mon");
    fqdn.extend([4]);
    fqdn.extend(b"hosp");
    fqdn.push(0);
    let sol = dhcp6(
        1,
        &[
            (1, duid.clone()),
            (6, vec![0, 23, 0, 24, 0, 39]),
            (16, vendor),
            (39, fqdn),
            (112, b"https://mud.example/m".to_vec()),
        ],
    );
    let (out, _) = run(&Dhcp6Dissector, &sol);
    let got = attrs(&out);
    for (k, v) in [
        ("vendor_class", "311:MSFT 5.0"),
        ("dhcpv6_fingerprint", "23,24,39"),
        ("fqdn", "mon.hosp"),
        ("mud_url", "https://mud.example/m"),
    ] {
        assert!(got.iter().any(|(gk, gv, _)| gk == k && gv == v), "missing {k}={v}: {got:?}");
    }
    // A reply assigning an address binds it to the client's MAC.
    let mut iaaddr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 7).octets().to_vec();
    iaaddr.extend([0; 8]);
    let mut ia = vec![0; 12];
    ia.extend(5u16.to_be_bytes());
    ia.extend((iaaddr.len() as u16).to_be_bytes());
    ia.extend(iaaddr);
    let reply = dhcp6(7, &[(1, duid), (2, vec![0, 3, 0, 1, 1, 2, 3, 4, 5, 6]), (3, ia)]);
    let (out, _) = run(&Dhcp6Dissector, &reply);
    assert!(out.iter().any(
        |o| matches!(o.kind, ObservationKind::Seen { ip: Some(IpAddr::V6(a)), .. } if a.segments()[7] == 7)
    ));
    // Shapes that are not DHCPv6.
    assert_eq!(Dhcp6Dissector.probe(Direction::ToResponder, &[1, 0, 0, 0, 0, 1, 0, 0]), Probe::NoMatch);
    assert_eq!(Dhcp6Dissector.probe(Direction::ToResponder, &[40, 1, 2, 3]), Probe::NoMatch);
}

proptest::proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic(mut data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600), v4: bool) {
        if v4 && data.len() >= 240 {
            data[0] = 1;
            data[2] = 6;
            data[236..240].copy_from_slice(&parser::MAGIC);
        }
        for d in [&Dhcp4Dissector as &dyn Dissector, &Dhcp6Dissector] {
            let mut out = Vec::new();
            let _ = d.probe(Direction::ToResponder, &data);
            let _ = d.start().parse(&ctx(), Direction::ToInitiator, &data, &mut Emitter::new(&mut out, 256));
        }
    }
}
