use ward_core::{Mac, ObservationKind, Timestamp, Vlans};

use super::*;

fn tlv(kind: u16, v: &[u8]) -> Vec<u8> {
    let mut t = kind.to_be_bytes().to_vec();
    t.extend(((v.len() + 4) as u16).to_be_bytes());
    t.extend(v);
    t
}

fn run(payload: &[u8]) -> (Vec<(String, String)>, Result<(), &'static str>) {
    let ctx = FrameContext {
        ts: Timestamp::ZERO,
        src_mac: Some(Mac([0, 0x1b, 0x54, 1, 2, 3])),
        dst_mac: None,
        vlans: Vlans::default(),
    };
    let mut out = Vec::new();
    let r = CdpDissector.dissect(&ctx, payload, &mut Emitter::new(&mut out, 32));
    let attrs = out
        .into_iter()
        .filter_map(|o| match o.kind {
            ObservationKind::Attribute { key, value, .. } => Some((key.to_string(), value)),
            _ => None,
        })
        .collect();
    (attrs, r)
}

#[test]
fn a_cdp_frame_describes_its_sender() {
    let mut f = vec![2, 180, 0, 0];
    f.extend(tlv(1, b"SEP001B54010203"));
    let mut addrs = 1u32.to_be_bytes().to_vec();
    addrs.extend([1, 1, 0xcc, 0, 4, 10, 40, 0, 55]);
    f.extend(tlv(2, &addrs));
    f.extend(tlv(3, b"Port 1"));
    f.extend(tlv(4, &0x0000_0490u32.to_be_bytes()));
    f.extend(tlv(5, b"SIP88xx.14-1-1"));
    f.extend(tlv(6, b"Cisco IP Phone 8845"));
    f.extend(tlv(10, &40u16.to_be_bytes()));
    let (attrs, r) = run(&f);
    assert!(r.is_ok());
    for (k, v) in [
        ("hostname", "SEP001B54010203"),
        ("management_address", "10.40.0.55"),
        ("cdp_port_id", "Port 1"),
        ("capabilities", "host,phone,two-port-mac-relay"),
        ("software_version", "SIP88xx.14-1-1"),
        ("model", "Cisco IP Phone 8845"),
        ("native_vlan", "40"),
    ] {
        assert!(attrs.contains(&(k.into(), v.into())), "missing {k}={v}: {attrs:?}");
    }
}

#[test]
fn broken_frames_are_refused() {
    assert!(run(&[]).1.is_err());
    assert!(run(&[9, 0, 0, 0]).1.is_err());
    let mut f = vec![2, 180, 0, 0];
    f.extend([0, 1, 0, 2]);
    assert!(run(&f).1.is_err());
    let mut f = vec![2, 180, 0, 0];
    f.extend([0, 1, 0, 50, b'x']);
    assert!(run(&f).1.is_err());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let _ = run(&data);
    }
}
