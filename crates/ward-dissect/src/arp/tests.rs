use std::net::{IpAddr, Ipv4Addr};

use ward_core::{Mac, Timestamp, Vlans};

use super::*;

const DEV: [u8; 6] = [0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6];
const GW: [u8; 6] = [0x00, 0x50, 0x56, 0x01, 0x02, 0x03];

fn arp(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
    let mut v = vec![0, 1, 8, 0, 6, 4];
    v.extend(op.to_be_bytes());
    v.extend(sha);
    v.extend(spa);
    v.extend(tha);
    v.extend(tpa);
    v
}

fn run(payload: &[u8]) -> (Vec<Observation>, Result<(), &'static str>) {
    let ctx = FrameContext {
        ts: Timestamp::from_secs(100),
        src_mac: None,
        dst_mac: None,
        vlans: Vlans { outer: Some(30), inner: None },
    };
    let mut out = Vec::new();
    let r = ArpDissector.dissect(&ctx, payload, &mut Emitter::new(&mut out, 16));
    (out, r)
}

fn seen(o: &Observation) -> (DeviceKey, Option<IpAddr>, &str) {
    match &o.kind {
        ObservationKind::Seen { ip, vlan, evidence } => {
            assert_eq!(*vlan, Some(30));
            (o.device, *ip, &evidence.source)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_binds_the_sender() {
    let (out, r) = run(&arp(1, DEV, [10, 1, 2, 3], [0; 6], [10, 1, 2, 1]));
    assert!(r.is_ok());
    assert_eq!(out.len(), 1);
    assert_eq!(
        seen(&out[0]),
        (DeviceKey::Mac(Mac(DEV)), Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))), "arp.sender")
    );
}

#[test]
fn reply_binds_both_sides() {
    let (out, _) = run(&arp(2, GW, [10, 1, 2, 1], DEV, [10, 1, 2, 3]));
    let got: Vec<_> = out.iter().map(seen).collect();
    assert_eq!(got[0], (DeviceKey::Mac(Mac(GW)), Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 1))), "arp.sender"));
    assert_eq!(
        got[1],
        (DeviceKey::Mac(Mac(DEV)), Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))), "arp.target")
    );
}

#[test]
fn probes_and_announcements() {
    let (out, _) = run(&arp(1, DEV, [0, 0, 0, 0], [0; 6], [10, 1, 2, 3]));
    assert_eq!(seen(&out[0]), (DeviceKey::Mac(Mac(DEV)), None, "arp.probe"));
    let (out, _) = run(&arp(1, DEV, [10, 1, 2, 3], [0; 6], [10, 1, 2, 3]));
    assert_eq!(seen(&out[0]).2, "arp.gratuitous");
}

#[test]
fn group_and_zero_senders_name_no_device() {
    let (out, _) = run(&arp(1, [0xff; 6], [10, 1, 2, 3], [0; 6], [10, 1, 2, 1]));
    assert!(out.is_empty());
    let (out, _) = run(&arp(2, GW, [10, 1, 2, 1], [0; 6], [10, 1, 2, 3]));
    assert_eq!(out.len(), 1);
}

#[test]
fn truncated_and_foreign_packets() {
    let full = arp(1, DEV, [10, 1, 2, 3], [0; 6], [10, 1, 2, 1]);
    for cut in 0..full.len() {
        let (out, r) = run(&full[..cut]);
        assert!(r.is_err(), "cut at {cut}");
        assert!(out.is_empty());
    }
    // Hardware type 6 (IEEE 802) with IPv4: well-formed, but not Ethernet; nothing to say.
    let mut other = full.clone();
    other[1] = 6;
    assert_eq!(run(&other), (vec![], Ok(())));
    // Huge address lengths are checked against the bytes present.
    let mut long = full;
    long[4] = 255;
    assert!(run(&long).1.is_err());
    assert_eq!(
        ArpPacket::new_checked(&[0, 1, 8, 0, 0, 0, 0, 1]).map(|p| p.operation()),
        Ok(Operation::Request)
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
        let _ = run(&data);
        if let Ok(p) = ArpPacket::new_checked(&data) {
            let _ = (p.sender_hw(), p.sender_proto(), p.target_hw(), p.target_proto(), ArpRepr::parse(&p));
        }
    }
}
