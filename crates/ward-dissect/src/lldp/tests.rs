use ward_core::{Mac, ObservationKind, Timestamp, Vlans};

use super::*;

fn tlv(kind: u8, v: &[u8]) -> Vec<u8> {
    let head = u16::from(kind) << 9 | v.len() as u16;
    let mut t = head.to_be_bytes().to_vec();
    t.extend(v);
    t
}

fn org(oui: [u8; 3], sub: u8, v: &[u8]) -> Vec<u8> {
    let mut body = oui.to_vec();
    body.push(sub);
    body.extend(v);
    tlv(127, &body)
}

/// (key, value, source) of each attribute.
type Attrs = Vec<(String, String, String)>;

fn run(payload: &[u8]) -> (Attrs, Result<(), &'static str>) {
    let ctx = FrameContext {
        ts: Timestamp::ZERO,
        src_mac: Some(Mac([0x00, 0x09, 0x5c, 1, 2, 3])),
        dst_mac: None,
        vlans: Vlans::default(),
    };
    let mut out = Vec::new();
    let r = LldpDissector.dissect(&ctx, payload, &mut Emitter::new(&mut out, 64));
    let attrs = out
        .into_iter()
        .filter_map(|o| match o.kind {
            ObservationKind::Attribute { key, value, evidence } => {
                Some((key.to_string(), value, evidence.source.to_string()))
            }
            _ => None,
        })
        .collect();
    (attrs, r)
}

#[test]
fn lldp_med_inventory_and_the_basics() {
    let mut f = Vec::new();
    f.extend(tlv(1, &[4, 0x00, 0x09, 0x5c, 1, 2, 3]));
    f.extend(tlv(2, b"\x05eth0"));
    f.extend(tlv(3, &[0, 120]));
    f.extend(tlv(5, b"mon-014"));
    f.extend(tlv(6, b"IntelliVue MX450"));
    f.extend(tlv(7, &[0x00, 0x80, 0x00, 0x80]));
    f.extend(tlv(8, &[5, 1, 10, 10, 0, 14, 2, 0, 0, 0, 1, 0]));
    f.extend(org([0x00, 0x12, 0xbb], 1, &[0x00, 0x33, 1]));
    f.extend(org([0x00, 0x12, 0xbb], 5, b"HW 2.1"));
    f.extend(org([0x00, 0x12, 0xbb], 6, b"M.01.02"));
    f.extend(org([0x00, 0x12, 0xbb], 7, b"SW 8.4"));
    f.extend(org([0x00, 0x12, 0xbb], 8, b"DE12345678"));
    f.extend(org([0x00, 0x12, 0xbb], 9, b"Philips Medical Systems"));
    f.extend(org([0x00, 0x12, 0xbb], 10, b"MX450"));
    f.extend(org([0x00, 0x00, 0x5e], 1, b"https://mud.example/mx450"));
    f.extend(org([0x00, 0x80, 0xc2], 1, &[0, 10]));
    f.extend(tlv(0, b""));
    let (attrs, r) = run(&f);
    assert!(r.is_ok(), "{r:?}");
    for (k, v, src) in [
        ("hostname", "mon-014", "lldp.system_name"),
        ("sys_descr", "IntelliVue MX450", "lldp.system_description"),
        ("capabilities", "station", "lldp.capabilities"),
        ("management_address", "10.10.0.14", "lldp.management_address"),
        ("lldp_med_device_class", "endpoint class I", "lldp.med.device_class"),
        ("hardware_revision", "HW 2.1", "lldp.med.hardware"),
        ("firmware", "M.01.02", "lldp.med.firmware"),
        ("software_version", "SW 8.4", "lldp.med.software"),
        ("serial_number", "DE12345678", "lldp.med.serial"),
        ("manufacturer", "Philips Medical Systems", "lldp.med.manufacturer"),
        ("model", "MX450", "lldp.med.model"),
        ("mud_url", "https://mud.example/mx450", "lldp.mud_url"),
        ("port_vlan", "10", "lldp.8021.port_vlan"),
        ("lldp_chassis_id", "00:09:5c:01:02:03", "lldp.chassis_id"),
        ("lldp_port_id", "eth0", "lldp.port_id"),
    ] {
        assert!(attrs.contains(&(k.into(), v.into(), src.into())), "missing {k}={v}: {attrs:?}");
    }
}

#[test]
fn broken_lldpdus_are_refused() {
    assert!(run(&[]).1.is_err());
    assert!(run(&tlv(5, b"name")[..4]).1.is_err());
    assert!(run(&[0, 0]).1.is_err());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let _ = run(&data);
        let _ = parser::tlvs(&data);
    }
}
