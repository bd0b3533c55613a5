//! Frame serialisation: Ethernet (with an optional 802.1Q tag), 802.3 with LLC/SNAP, ARP,
//! IPv4/IPv6, TCP, UDP and ICMP, with correct lengths and checksums.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Link-layer addressing of a frame.
#[derive(Clone, Copy)]
pub(crate) struct L2 {
    pub(crate) src: [u8; 6],
    pub(crate) dst: [u8; 6],
    pub(crate) vlan: Option<u16>,
}

pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
pub(crate) const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;

fn ethernet(out: &mut Vec<u8>, l2: &L2, ether_type: u16) {
    out.clear();
    out.extend_from_slice(&l2.dst);
    out.extend_from_slice(&l2.src);
    if let Some(v) = l2.vlan {
        out.extend_from_slice(&0x8100u16.to_be_bytes());
        out.extend_from_slice(&(v & 0x0fff).to_be_bytes());
    }
    out.extend_from_slice(&ether_type.to_be_bytes());
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Internet checksum of `data` (CDP uses it too).
pub(crate) fn checksum(data: &[u8]) -> u16 {
    fold(sum16(data))
}

fn sum16(data: &[u8]) -> u32 {
    let mut sum = 0u32;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// Appends an IPv4 header and a transport segment whose checksum covers the pseudo-header.
#[allow(clippy::too_many_arguments)]
fn ipv4(
    out: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    id: u16,
    ttl: u8,
    segment: &mut [u8],
    csum_at: Option<usize>,
) {
    let total = 20 + segment.len();
    let start = out.len();
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    out.extend_from_slice(&[ttl, proto, 0, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    let c = fold(sum16(&out[start..start + 20]));
    out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
    if let Some(at) = csum_at {
        let pseudo = sum16(&src.octets()) + sum16(&dst.octets()) + u32::from(proto) + segment.len() as u32;
        let c = fold(pseudo + sum16(segment));
        segment[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    out.extend_from_slice(segment);
}

fn ipv6(out: &mut Vec<u8>, src: Ipv6Addr, dst: Ipv6Addr, proto: u8, segment: &mut [u8], csum_at: usize) {
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&(segment.len() as u16).to_be_bytes());
    out.extend_from_slice(&[proto, 255]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    let pseudo = sum16(&src.octets()) + sum16(&dst.octets()) + u32::from(proto) + segment.len() as u32;
    let c = fold(pseudo + sum16(segment));
    segment[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
    out.extend_from_slice(segment);
}

fn udp_segment(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(8 + payload.len());
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    s
}

/// An Ethernet/IPv4/UDP frame.
#[allow(clippy::too_many_arguments)]
pub(crate) fn udp4(
    out: &mut Vec<u8>,
    l2: &L2,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    id: u16,
    payload: &[u8],
) {
    ethernet(out, l2, 0x0800);
    let mut seg = udp_segment(sport, dport, payload);
    let ttl = if dst.is_multicast() { 1 } else { 64 };
    ipv4(out, src, dst, 17, id, ttl, &mut seg, Some(6));
}

/// An Ethernet/IPv6/UDP frame.
pub(crate) fn udp6(
    out: &mut Vec<u8>,
    l2: &L2,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    sport: u16,
    dport: u16,
    payload: &[u8],
) {
    ethernet(out, l2, 0x86dd);
    let mut seg = udp_segment(sport, dport, payload);
    ipv6(out, src, dst, 17, &mut seg, 6);
}

/// A TCP segment's header fields.
#[derive(Clone, Copy)]
pub(crate) struct Tcp {
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) flags: u8,
    pub(crate) window: u16,
}

/// An Ethernet/IPv4/TCP frame. SYNs carry an MSS option, as real stacks send.
pub(crate) fn tcp4(
    out: &mut Vec<u8>,
    l2: &L2,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    t: &Tcp,
    payload: &[u8],
) {
    ethernet(out, l2, 0x0800);
    let opts: &[u8] = if t.flags & SYN != 0 { &[2, 4, 0x05, 0xb4, 1, 1, 4, 2] } else { &[] };
    let hlen = 20 + opts.len();
    let mut seg = Vec::with_capacity(hlen + payload.len());
    seg.extend_from_slice(&t.sport.to_be_bytes());
    seg.extend_from_slice(&t.dport.to_be_bytes());
    seg.extend_from_slice(&t.seq.to_be_bytes());
    seg.extend_from_slice(&t.ack.to_be_bytes());
    seg.extend_from_slice(&[((hlen / 4) as u8) << 4, t.flags]);
    seg.extend_from_slice(&t.window.to_be_bytes());
    seg.extend_from_slice(&[0, 0, 0, 0]);
    seg.extend_from_slice(opts);
    seg.extend_from_slice(payload);
    ipv4(out, src, dst, 6, id, 64, &mut seg, Some(16));
}

/// An ICMP echo request (type 8) or reply (type 0).
pub(crate) fn icmp_echo(
    out: &mut Vec<u8>,
    l2: &L2,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    kind: u8,
    ident: u16,
    seq: u16,
) {
    ethernet(out, l2, 0x0800);
    let mut seg = vec![kind, 0, 0, 0];
    seg.extend_from_slice(&ident.to_be_bytes());
    seg.extend_from_slice(&seq.to_be_bytes());
    seg.extend((0..48u8).map(|i| 0x10 + i));
    let c = fold(sum16(&seg));
    seg[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(out, src, dst, 1, ident ^ seq, 64, &mut seg, None);
}

/// An Ethernet ARP frame (request: op 1, reply: op 2).
pub(crate) fn arp(
    out: &mut Vec<u8>,
    l2: &L2,
    op: u16,
    sha: [u8; 6],
    spa: Ipv4Addr,
    tha: [u8; 6],
    tpa: Ipv4Addr,
) {
    ethernet(out, l2, 0x0806);
    out.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
    out.extend_from_slice(&op.to_be_bytes());
    out.extend_from_slice(&sha);
    out.extend_from_slice(&spa.octets());
    out.extend_from_slice(&tha);
    out.extend_from_slice(&tpa.octets());
    // Ethernet minimum frame: pad to 60 bytes.
    out.resize(out.len().max(60), 0);
}

/// An Ethernet frame of `ether_type` carrying `payload` (LLDP: 0x88cc), padded to the minimum.
pub(crate) fn ether(out: &mut Vec<u8>, l2: &L2, ether_type: u16, payload: &[u8]) {
    ethernet(out, l2, ether_type);
    out.extend_from_slice(payload);
    out.resize(out.len().max(60), 0);
}

/// An 802.3 frame with an LLC/SNAP header (CDP: OUI 00:00:0c, protocol 0x2000).
pub(crate) fn snap(out: &mut Vec<u8>, src: [u8; 6], dst: [u8; 6], oui: [u8; 3], pid: u16, payload: &[u8]) {
    out.clear();
    out.extend_from_slice(&dst);
    out.extend_from_slice(&src);
    out.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    out.extend_from_slice(&[0xaa, 0xaa, 0x03]);
    out.extend_from_slice(&oui);
    out.extend_from_slice(&pid.to_be_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().max(60), 0);
}
