use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{PacketBuilder, VlanId};
use proptest::prelude::*;

use super::*;

const A: [u8; 6] = [0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6];
const B: [u8; 6] = [0x00, 0x50, 0x56, 0x01, 0x02, 0x03];

fn dec(link: LinkType, data: &[u8]) -> (Frame<'_>, Vec<Anomaly>) {
    let mut an = Anomalies::default();
    let f = decode(link, data, data.len() as u32, &mut an);
    (f, an.kinds())
}

fn ip_of<'a>(f: &Frame<'a>) -> IpPacket<'a> {
    match f.net {
        Net::Ip(ip) => ip,
        other => panic!("not IP: {other:?}"),
    }
}

fn udp4(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4([10, 1, 2, 3], [10, 9, 8, 7], 64)
        .udp(5353, 53)
        .write(&mut v, payload)
        .unwrap();
    v
}

#[test]
fn ethernet_ipv4_tcp() {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4([192, 168, 1, 10], [192, 168, 1, 20], 63)
        .tcp(40000, 2575, 0xdead_beef, 1024)
        .syn()
        .write(&mut v, b"MSH|")
        .unwrap();
    let (f, an) = dec(LinkType::ETHERNET, &v);
    assert!(an.is_empty(), "{an:?}");
    assert_eq!(f.src_mac, Some(Mac(A)));
    assert_eq!(f.dst_mac, Some(Mac(B)));
    assert!(f.vlans.is_untagged());
    let ip = ip_of(&f);
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)));
    assert_eq!((ip.proto, ip.ttl, ip.fragment, ip.truncated), (6, 63, None, false));
    assert_eq!(ip.wire_len as usize, v.len() - 14);
    match decode_transport(ip.proto, ip.payload, false, &mut Anomalies::default()) {
        Transport::Tcp(t) => {
            assert_eq!((t.src_port, t.dst_port, t.seq, t.flags), (40000, 2575, 0xdead_beef, tcp_flags::SYN));
            assert_eq!(t.payload, b"MSH|");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn vlan_and_qinq() {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .single_vlan(VlanId::try_new(120).unwrap())
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(1, 2)
        .write(&mut v, b"x")
        .unwrap();
    let (f, _) = dec(LinkType::ETHERNET, &v);
    assert_eq!((f.vlans.outer, f.vlans.inner), (Some(120), None));
    assert_eq!(f.vlans.access_vlan(), Some(120));
    let mut v = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .double_vlan(VlanId::try_new(300).unwrap(), VlanId::try_new(42).unwrap())
        .ipv6([0xfe; 16], [0xfd; 16], 64)
        .udp(1, 2)
        .write(&mut v, b"x")
        .unwrap();
    let (f, an) = dec(LinkType::ETHERNET, &v);
    assert!(an.is_empty(), "{an:?}");
    assert_eq!((f.vlans.outer, f.vlans.inner), (Some(300), Some(42)));
    assert_eq!(f.vlans.access_vlan(), Some(42));
    assert!(matches!(f.net, Net::Ip(ip) if ip.proto == 17));
    // A third tag is skipped and counted; an 802.1ad outer tag is read too.
    let inner = udp4(b"q");
    let mut three = inner[..12].to_vec();
    for (tpid, id) in [(0x88a8u16, 1u16), (0x8100, 2), (0x8100, 3)] {
        three.extend(tpid.to_be_bytes());
        three.extend(id.to_be_bytes());
    }
    three.extend(&inner[12..]);
    let (f, an) = dec(LinkType::ETHERNET, &three);
    assert_eq!((f.vlans.outer, f.vlans.inner), (Some(1), Some(2)));
    assert_eq!(an, [Anomaly::VlanDepth]);
    assert!(matches!(f.net, Net::Ip(_)));
}

#[test]
fn linux_cooked_v1_and_v2() {
    let inner = udp4(b"sll");
    let ip = &inner[14..];
    let mut sll = vec![0, 0, 0, 1, 0, 6];
    sll.extend(A);
    sll.extend([0, 0, 0x08, 0x00]);
    sll.extend(ip);
    let (f, an) = dec(LinkType::LINUX_SLL, &sll);
    assert!(an.is_empty());
    assert_eq!(f.src_mac, Some(Mac(A)));
    assert_eq!(ip_of(&f).payload.len(), 8 + 3);
    let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6];
    sll2.extend(A);
    sll2.extend([0, 0]);
    sll2.extend(ip);
    let (f, an) = dec(LinkType::LINUX_SLL2, &sll2);
    assert!(an.is_empty());
    assert_eq!(f.src_mac, Some(Mac(A)));
    assert_eq!(ip_of(&f).dst, IpAddr::V4(Ipv4Addr::new(10, 9, 8, 7)));
}

#[test]
fn raw_ip_and_loopback_in_both_byte_orders() {
    let inner = udp4(b"raw");
    let ip4 = &inner[14..];
    for link in [LinkType::RAW, LinkType::IPV4] {
        let (f, an) = dec(link, ip4);
        assert!(an.is_empty());
        assert_eq!(f.src_mac, None);
        assert_eq!(ip_of(&f).proto, 17);
    }
    let mut v6 = Vec::new();
    PacketBuilder::ipv6([1; 16], [2; 16], 9).udp(3, 4).write(&mut v6, b"six").unwrap();
    assert!(matches!(dec(LinkType::IPV6, &v6).0.net, Net::Ip(ip) if ip.src.is_ipv6()));
    assert!(matches!(dec(LinkType::RAW, &v6).0.net, Net::Ip(ip) if ip.src.is_ipv6()));
    for (af, body) in [(2u32, ip4), (30, &v6[..]), (24, &v6[..]), (10, &v6[..])] {
        for bytes in [af.to_le_bytes(), af.to_be_bytes()] {
            let mut null = bytes.to_vec();
            null.extend(body);
            let (f, an) = dec(LinkType::NULL, &null);
            assert!(an.is_empty(), "af {af}: {an:?}");
            assert!(matches!(f.net, Net::Ip(_)), "af {af}");
        }
        let mut lo = af.to_be_bytes().to_vec();
        lo.extend(body);
        assert!(matches!(dec(LinkType::LOOP, &lo).0.net, Net::Ip(_)));
    }
}

#[test]
fn ethernet_padding_is_not_payload_and_snaplen_is_not_an_anomaly() {
    let mut v = udp4(b"hi");
    v.resize(60, 0);
    let (f, an) = dec(LinkType::ETHERNET, &v);
    assert!(an.is_empty());
    let ip = ip_of(&f);
    assert_eq!(ip.payload.len(), 8 + 2);
    match decode_transport(17, ip.payload, false, &mut Anomalies::default()) {
        Transport::Udp { payload, .. } => assert_eq!(payload, b"hi"),
        other => panic!("{other:?}"),
    }
    // Cut by a snap length: truncated, but not an anomaly.
    let full = udp4(&[7u8; 400]);
    let mut an = Anomalies::default();
    let f = decode(LinkType::ETHERNET, &full[..100], full.len() as u32, &mut an);
    assert!(ip_of(&f).truncated);
    assert!(!an.any());
    // Cut without a snap length to explain it: an anomaly.
    let (f, an) = dec(LinkType::ETHERNET, &full[..100]);
    assert!(ip_of(&f).truncated);
    assert_eq!(an, [Anomaly::IpLengthExceedsFrame]);
}

#[test]
fn ipv4_fragments() {
    let mut v = udp4(&[1u8; 64]);
    // More fragments, offset 0.
    v[14 + 6] = 0x20;
    let (f, _) = dec(LinkType::ETHERNET, &v);
    let id = u32::from(u16::from_be_bytes([v[18], v[19]]));
    assert_eq!(ip_of(&f).fragment, Some(Fragment { id, offset: 0, more: true }));
    // Last fragment at offset 1480.
    v[14 + 6] = 0x00;
    v[14 + 7] = 185;
    let (f, _) = dec(LinkType::ETHERNET, &v);
    assert_eq!(ip_of(&f).fragment, Some(Fragment { id, offset: 1480, more: false }));
}

#[test]
fn ipv6_extension_headers_and_fragments() {
    // hop-by-hop(8) -> destination options(8) -> fragment(8) -> UDP
    let payload = b"extension headers";
    let udp_len = 8 + payload.len();
    let mut pkt = vec![0x60, 0, 0, 0];
    pkt.extend(((24 + udp_len) as u16).to_be_bytes());
    pkt.extend([0, 64]);
    pkt.extend(Ipv6Addr::LOCALHOST.octets());
    pkt.extend(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets());
    pkt.extend([60, 0, 1, 4, 0, 0, 0, 0]);
    pkt.extend([44, 0, 1, 4, 0, 0, 0, 0]);
    pkt.extend([17, 0, 0x00, 0x01, 0xca, 0xfe, 0xba, 0xbe]);
    pkt.extend(1000u16.to_be_bytes());
    pkt.extend(2000u16.to_be_bytes());
    pkt.extend((udp_len as u16).to_be_bytes());
    pkt.extend([0, 0]);
    pkt.extend(payload);
    let (f, an) = dec(LinkType::RAW, &pkt);
    assert!(an.is_empty(), "{an:?}");
    let ip = ip_of(&f);
    assert_eq!(ip.proto, 17);
    assert_eq!(ip.fragment, Some(Fragment { id: 0xcafe_babe, offset: 0, more: true }));
    assert_eq!(ip.payload.len(), udp_len);
    // An atomic fragment (offset 0, no more) is a whole datagram.
    pkt[40 + 16 + 3] = 0;
    assert_eq!(ip_of(&dec(LinkType::RAW, &pkt).0).fragment, None);
    // A chain longer than Ward follows is counted.
    let mut deep = pkt[..40].to_vec();
    deep[6] = 60;
    for _ in 0..10 {
        deep.extend([60, 0, 1, 4, 0, 0, 0, 0]);
    }
    let len = (deep.len() - 40) as u16;
    deep[4..6].copy_from_slice(&len.to_be_bytes());
    assert_eq!(dec(LinkType::RAW, &deep).1, [Anomaly::Ipv6ExtDepth]);
}

#[test]
fn arp_llc_and_other_ether_types() {
    let mut arp = A.to_vec();
    arp.splice(0..0, [0xff; 6]);
    arp.extend([0x08, 0x06]);
    arp.extend([0u8; 28]);
    assert!(matches!(dec(LinkType::ETHERNET, &arp).0.net, Net::Arp(p) if p.len() == 28));
    let mut llc = vec![0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc];
    llc.extend(A);
    llc.extend(20u16.to_be_bytes());
    llc.extend([0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00]);
    llc.extend([0u8; 30]);
    match dec(LinkType::ETHERNET, &llc).0.net {
        Net::Llc(body) => assert_eq!(body.len(), 20),
        other => panic!("{other:?}"),
    }
    let mut lldp = vec![0x01, 0x80, 0xc2, 0, 0, 0x0e];
    lldp.extend(A);
    lldp.extend([0x88, 0xcc, 2, 7, 4]);
    assert!(
        matches!(dec(LinkType::ETHERNET, &lldp).0.net, Net::Ether { ether_type: 0x88cc, payload } if payload.len() == 3)
    );
}

#[test]
fn malformed_headers_are_anomalies() {
    let good = udp4(b"abc");
    let mut bad_ihl = good.clone();
    bad_ihl[14] = 0x43;
    assert_eq!(dec(LinkType::ETHERNET, &bad_ihl).1, [Anomaly::IpMalformed]);
    assert_eq!(dec(LinkType::ETHERNET, &good[..20]).1, [Anomaly::IpTruncated]);
    assert_eq!(dec(LinkType::ETHERNET, &good[..10]).1, [Anomaly::LinkTruncated]);
    assert_eq!(dec(LinkType(9999), &good).1, [Anomaly::UnsupportedLink]);
    let mut an = Anomalies::default();
    assert_eq!(decode_transport(6, &[0u8; 10], false, &mut an), Transport::Other);
    let mut hdr = [0u8; 20];
    hdr[12] = 0x20;
    assert_eq!(decode_transport(6, &hdr, false, &mut an), Transport::Other);
    assert_eq!(an.kinds(), [Anomaly::TransportTruncated, Anomaly::TransportMalformed]);
}

#[test]
fn icmp_echo_ids() {
    let mut v = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2], 1)
        .icmpv4_echo_request(77, 1)
        .write(&mut v, b"ping")
        .unwrap();
    let (f, _) = dec(LinkType::ETHERNET, &v);
    let ip = ip_of(&f);
    assert_eq!(
        decode_transport(ip.proto, ip.payload, false, &mut Anomalies::default()),
        Transport::Icmp { kind: 8, code: 0, echo_id: Some(77) }
    );
}

#[test]
fn shard_hash_is_symmetric_and_fragment_stable() {
    let mut ab = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1000, 80, 1, 1)
        .write(&mut ab, b"")
        .unwrap();
    let mut ba = Vec::new();
    PacketBuilder::ethernet2(B, A)
        .ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
        .tcp(80, 1000, 1, 1)
        .write(&mut ba, b"")
        .unwrap();
    assert_eq!(shard_hash(LinkType::ETHERNET, &ab), shard_hash(LinkType::ETHERNET, &ba));
    let mut other = Vec::new();
    PacketBuilder::ethernet2(A, B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 3], 64)
        .tcp(1000, 80, 1, 1)
        .write(&mut other, b"")
        .unwrap();
    assert_ne!(shard_hash(LinkType::ETHERNET, &ab), shard_hash(LinkType::ETHERNET, &other));
    // The raw IP packet hashes like the Ethernet frame around it.
    assert_eq!(shard_hash(LinkType::RAW, &ab[14..]), shard_hash(LinkType::ETHERNET, &ab));
}

proptest! {
    /// Arbitrary bytes under every link type: never a panic, and every slice handed out lies
    /// within the input.
    #[test]
    fn arbitrary_frames_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200), link in 0usize..9, orig in 0u32..400) {
        let links = [LinkType::ETHERNET, LinkType::LINUX_SLL, LinkType::LINUX_SLL2, LinkType::RAW, LinkType::IPV4, LinkType::IPV6, LinkType::NULL, LinkType::LOOP, LinkType(147)];
        let mut an = Anomalies::default();
        let f = decode(links[link], &data, orig, &mut an);
        if let Net::Ip(ip) = f.net {
            prop_assert!(ip.payload.len() <= data.len());
            let _ = decode_transport(ip.proto, ip.payload, ip.src.is_ipv6(), &mut an);
        }
        let _ = shard_hash(links[link], &data);
    }

    /// On well-formed packets, Ward's decoder agrees with etherparse.
    #[test]
    fn agrees_with_etherparse(
        src: [u8; 4], dst: [u8; 4], src6: [u8; 16], dst6: [u8; 16], sport: u16, dport: u16,
        v6: bool, tcp: bool, vlan in proptest::option::of(0u16..4095),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let eth = PacketBuilder::ethernet2(A, B);
        let mut bytes = Vec::new();
        match (vlan, v6, tcp) {
            (None, false, false) => eth.ipv4(src, dst, 5).udp(sport, dport).write(&mut bytes, &payload),
            (None, false, true) => eth.ipv4(src, dst, 5).tcp(sport, dport, 9, 9).write(&mut bytes, &payload),
            (None, true, false) => eth.ipv6(src6, dst6, 5).udp(sport, dport).write(&mut bytes, &payload),
            (None, true, true) => eth.ipv6(src6, dst6, 5).tcp(sport, dport, 9, 9).write(&mut bytes, &payload),
            (Some(id), false, _) => eth.single_vlan(VlanId::try_new(id).unwrap()).ipv4(src, dst, 5).udp(sport, dport).write(&mut bytes, &payload),
            (Some(id), true, _) => eth.single_vlan(VlanId::try_new(id).unwrap()).ipv6(src6, dst6, 5).tcp(sport, dport, 9, 9).write(&mut bytes, &payload),
        }.unwrap();
        let oracle = etherparse::SlicedPacket::from_ethernet(&bytes).unwrap();
        let mut an = Anomalies::default();
        let f = decode(LinkType::ETHERNET, &bytes, bytes.len() as u32, &mut an);
        prop_assert!(!an.any());
        let Net::Ip(ip) = f.net else { return Err(TestCaseError::fail("not IP")) };
        let (want_src, want_dst): (IpAddr, IpAddr) = match &oracle.net {
            Some(etherparse::NetSlice::Ipv4(s)) => (s.header().source_addr().into(), s.header().destination_addr().into()),
            Some(etherparse::NetSlice::Ipv6(s)) => (s.header().source_addr().into(), s.header().destination_addr().into()),
            _ => return Err(TestCaseError::fail("oracle: not IP")),
        };
        prop_assert_eq!((ip.src, ip.dst), (want_src, want_dst));
        let (got_ports, got_payload) = match decode_transport(ip.proto, ip.payload, ip.src.is_ipv6(), &mut an) {
            Transport::Tcp(t) => ((t.src_port, t.dst_port), t.payload),
            Transport::Udp { src_port, dst_port, payload } => ((src_port, dst_port), payload),
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        let (want_ports, want_payload) = match &oracle.transport {
            Some(etherparse::TransportSlice::Tcp(t)) => ((t.source_port(), t.destination_port()), t.payload()),
            Some(etherparse::TransportSlice::Udp(u)) => ((u.source_port(), u.destination_port()), u.payload()),
            _ => return Err(TestCaseError::fail("oracle: no transport")),
        };
        prop_assert_eq!(got_ports, want_ports);
        prop_assert_eq!(got_payload, want_payload);
        prop_assert_eq!(f.vlans.outer, vlan);
    }
}
