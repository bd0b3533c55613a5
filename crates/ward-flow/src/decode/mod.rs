//! Layer 2 to 4 decoding over borrowed bytes.
//!
//! [`decode`] walks the link layer (Ethernet with 802.1Q/QinQ, Linux SLL and SLL2, raw IP,
//! BSD loopback), then IPv4 or IPv6 with extension headers, and [`decode_transport`] reads
//! TCP, UDP or ICMP from an IP payload (a packet's, or a reassembled datagram's). Lengths are
//! checked as each header is read, so no accessor can go out of bounds; anything odd is an
//! [`Anomaly`] that the caller counts, never a panic.
//!
//! Written here rather than with `etherparse` because the sensor needs link types it lacks
//! (SLL2, BSD loopback), a cheap symmetric hash for sharding ([`shard_hash`]) and anomaly
//! counts; `etherparse` serves as a test oracle instead.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_capture::LinkType;
use ward_core::{Mac, Vlans};

/// Something wrong or unusual in a packet. Each has a counter in the sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Anomaly {
    /// The frame ends inside the link-layer header.
    LinkTruncated,
    /// A link type Ward does not decode.
    UnsupportedLink,
    /// More than two VLAN tags; the extra ones are skipped.
    VlanDepth,
    /// The frame ends inside an IP header.
    IpTruncated,
    /// IP version nibble disagrees with the EtherType, or header length below minimum.
    IpMalformed,
    /// IP says the packet is longer than the frame, and the frame was not cut by a snap length.
    IpLengthExceedsFrame,
    /// More IPv6 extension headers than Ward follows.
    Ipv6ExtDepth,
    /// The frame ends inside a TCP, UDP or ICMP header.
    TransportTruncated,
    /// TCP data offset below 5 or beyond the segment; UDP length below 8.
    TransportMalformed,
}

impl Anomaly {
    /// Number of anomaly kinds, for counter arrays.
    pub const COUNT: usize = 9;
    /// All kinds, in counter order.
    pub const ALL: [Anomaly; Anomaly::COUNT] = [
        Anomaly::LinkTruncated,
        Anomaly::UnsupportedLink,
        Anomaly::VlanDepth,
        Anomaly::IpTruncated,
        Anomaly::IpMalformed,
        Anomaly::IpLengthExceedsFrame,
        Anomaly::Ipv6ExtDepth,
        Anomaly::TransportTruncated,
        Anomaly::TransportMalformed,
    ];

    /// The counter's fixed name.
    pub fn name(self) -> &'static str {
        match self {
            Anomaly::LinkTruncated => "link_truncated",
            Anomaly::UnsupportedLink => "unsupported_link",
            Anomaly::VlanDepth => "vlan_depth",
            Anomaly::IpTruncated => "ip_truncated",
            Anomaly::IpMalformed => "ip_malformed",
            Anomaly::IpLengthExceedsFrame => "ip_length_exceeds_frame",
            Anomaly::Ipv6ExtDepth => "ipv6_ext_depth",
            Anomaly::TransportTruncated => "transport_truncated",
            Anomaly::TransportMalformed => "transport_malformed",
        }
    }
}

/// EtherTypes Ward acts on.
pub mod ether_type {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// 802.1Q customer tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service tag (QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ tags some switches still send.
    pub const QINQ_OLD: u16 = 0x9100;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// LLDP.
    pub const LLDP: u16 = 0x88cc;
    /// Below this value the field is an 802.3 length and an LLC header follows.
    pub const MIN_ETHER_TYPE: u16 = 0x0600;
}

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// What follows the link layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net<'a> {
    /// An IPv4 or IPv6 packet.
    Ip(IpPacket<'a>),
    /// An ARP packet (EtherType 0x0806), for the ARP dissector.
    Arp(&'a [u8]),
    /// Another EtherType (LLDP, EAPOL, ...), with its payload.
    Ether {
        /// The EtherType.
        ether_type: u16,
        /// Bytes after it.
        payload: &'a [u8],
    },
    /// An 802.3 frame with an LLC header (CDP, STP, ...): the bytes from the LLC header on.
    Llc(&'a [u8]),
    /// Nothing Ward can follow (unsupported link, truncated header).
    None,
}

/// A frame decoded down to the network layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Source MAC, where the link layer has one.
    pub src_mac: Option<Mac>,
    /// Destination MAC, where the link layer has one.
    pub dst_mac: Option<Mac>,
    /// VLAN tags, outermost first.
    pub vlans: Vlans,
    /// The network layer.
    pub net: Net<'a>,
}

/// Fragment information of an IP packet that is part of a larger datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Identification (IPv4: 16 bits, IPv6: 32 bits).
    pub id: u32,
    /// Offset of this fragment's payload in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// An IP packet's header fields and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Transport protocol (after IPv6 extension headers).
    pub proto: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Length of the packet on the wire per its IP header (header included).
    pub wire_len: u32,
    /// Set when this packet is a fragment.
    pub fragment: Option<Fragment>,
    /// Transport bytes present in the capture (ends at the IP length, so Ethernet padding is
    /// never payload; may be shorter under a snap length).
    pub payload: &'a [u8],
    /// True when the capture holds fewer bytes than the IP length says.
    pub truncated: bool,
}

/// Decodes one captured frame down to the network layer. `orig_len` is the length on the
/// wire, which tells a snap-length cut from a malformed length. Problems are pushed to
/// `anomalies`; decoding goes as far as the bytes allow.
pub fn decode<'a>(link: LinkType, data: &'a [u8], orig_len: u32, anomalies: &mut Anomalies) -> Frame<'a> {
    let mut frame = Frame { src_mac: None, dst_mac: None, vlans: Vlans::default(), net: Net::None };
    let snapped = (data.len() as u32) < orig_len;
    let (ether_type, rest) = match link {
        LinkType::ETHERNET => {
            if data.len() < 14 {
                anomalies.push(Anomaly::LinkTruncated);
                return frame;
            }
            frame.dst_mac = Mac::from_slice(&data[0..6]);
            frame.src_mac = Mac::from_slice(&data[6..12]);
            let et = be16(data, 12).unwrap_or(0);
            if et < ether_type::MIN_ETHER_TYPE {
                // 802.3 length field: the LLC header follows, trimmed to the stated length.
                let body = &data[14..];
                frame.net = Net::Llc(body.get(..usize::from(et)).unwrap_or(body));
                return frame;
            }
            (et, &data[14..])
        }
        LinkType::LINUX_SLL => {
            if data.len() < 16 {
                anomalies.push(Anomaly::LinkTruncated);
                return frame;
            }
            // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
            if be16(data, 2) == Some(1) && be16(data, 4) == Some(6) {
                frame.src_mac = Mac::from_slice(&data[6..12]);
            }
            (be16(data, 14).unwrap_or(0), &data[16..])
        }
        LinkType::LINUX_SLL2 => {
            if data.len() < 20 {
                anomalies.push(Anomaly::LinkTruncated);
                return frame;
            }
            // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
            if be16(data, 8) == Some(1) && data[11] == 6 {
                frame.src_mac = Mac::from_slice(&data[12..18]);
            }
            (be16(data, 0).unwrap_or(0), &data[20..])
        }
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => match data.first().map(|b| b >> 4) {
            Some(4) => (ether_type::IPV4, data),
            Some(6) => (ether_type::IPV6, data),
            Some(_) => {
                anomalies.push(Anomaly::IpMalformed);
                return frame;
            }
            None => {
                anomalies.push(Anomaly::LinkTruncated);
                return frame;
            }
        },
        LinkType::NULL | LinkType::LOOP => {
            let Some(raw) = data.get(..4) else {
                anomalies.push(Anomaly::LinkTruncated);
                return frame;
            };
            let mut af = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            // NULL is in the writer's byte order: a family never exceeds 16 bits.
            if link == LinkType::NULL && af > 0xffff {
                af = af.swap_bytes();
            }
            let et = match af {
                2 => ether_type::IPV4,
                10 | 24 | 28 | 30 => ether_type::IPV6,
                _ => {
                    anomalies.push(Anomaly::UnsupportedLink);
                    return frame;
                }
            };
            (et, &data[4..])
        }
        _ => {
            anomalies.push(Anomaly::UnsupportedLink);
            return frame;
        }
    };
    let (ether_type, rest) = strip_vlans(ether_type, rest, &mut frame.vlans, anomalies);
    frame.net = match ether_type {
        ether_type::IPV4 => decode_ipv4(rest, snapped, anomalies).map_or(Net::None, Net::Ip),
        ether_type::IPV6 => decode_ipv6(rest, snapped, anomalies).map_or(Net::None, Net::Ip),
        ether_type::ARP => Net::Arp(rest),
        0 => Net::None,
        et => Net::Ether { ether_type: et, payload: rest },
    };
    frame
}

fn strip_vlans<'a>(
    mut et: u16,
    mut rest: &'a [u8],
    vlans: &mut Vlans,
    anomalies: &mut Anomalies,
) -> (u16, &'a [u8]) {
    let mut depth = 0;
    while matches!(et, ether_type::VLAN | ether_type::QINQ | ether_type::QINQ_OLD) {
        let (Some(tci), Some(next)) = (be16(rest, 0), be16(rest, 2)) else {
            anomalies.push(Anomaly::LinkTruncated);
            return (0, &[]);
        };
        match depth {
            0 => vlans.outer = Some(tci & 0x0fff),
            1 => vlans.inner = Some(tci & 0x0fff),
            2 => anomalies.push(Anomaly::VlanDepth),
            _ => {}
        }
        depth += 1;
        et = next;
        rest = &rest[4..];
    }
    (et, rest)
}

/// Trims an IP packet's bytes to its stated length; returns the bytes and whether the capture
/// holds fewer than stated.
fn ip_extent<'a>(
    data: &'a [u8],
    stated: usize,
    snapped: bool,
    anomalies: &mut Anomalies,
) -> (&'a [u8], bool) {
    if stated <= data.len() {
        (&data[..stated], false)
    } else {
        if !snapped {
            anomalies.push(Anomaly::IpLengthExceedsFrame);
        }
        (data, true)
    }
}

fn decode_ipv4<'a>(data: &'a [u8], snapped: bool, anomalies: &mut Anomalies) -> Option<IpPacket<'a>> {
    let Some(hdr) = data.get(..20) else {
        anomalies.push(Anomaly::IpTruncated);
        return None;
    };
    let ihl = usize::from(hdr[0] & 0x0f) * 4;
    if hdr[0] >> 4 != 4 || ihl < 20 {
        anomalies.push(Anomaly::IpMalformed);
        return None;
    }
    let total = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
    if total < ihl {
        anomalies.push(Anomaly::IpMalformed);
        return None;
    }
    if data.len() < ihl {
        anomalies.push(Anomaly::IpTruncated);
        return None;
    }
    let (pkt, truncated) = ip_extent(data, total, snapped, anomalies);
    let flags_frag = u16::from_be_bytes([hdr[6], hdr[7]]);
    let more = flags_frag & 0x2000 != 0;
    let offset = u32::from(flags_frag & 0x1fff) * 8;
    let fragment = (more || offset != 0).then(|| Fragment {
        id: u32::from(u16::from_be_bytes([hdr[4], hdr[5]])),
        offset,
        more,
    });
    Some(IpPacket {
        src: IpAddr::V4(Ipv4Addr::new(hdr[12], hdr[13], hdr[14], hdr[15])),
        dst: IpAddr::V4(Ipv4Addr::new(hdr[16], hdr[17], hdr[18], hdr[19])),
        proto: hdr[9],
        ttl: hdr[8],
        wire_len: total as u32,
        fragment,
        payload: pkt.get(ihl..).unwrap_or_default(),
        truncated,
    })
}

/// IPv6 extension headers Ward walks through.
const MAX_IPV6_EXT: usize = 8;

fn decode_ipv6<'a>(data: &'a [u8], snapped: bool, anomalies: &mut Anomalies) -> Option<IpPacket<'a>> {
    let Some(hdr) = data.get(..40) else {
        anomalies.push(Anomaly::IpTruncated);
        return None;
    };
    if hdr[0] >> 4 != 6 {
        anomalies.push(Anomaly::IpMalformed);
        return None;
    }
    let payload_len = usize::from(u16::from_be_bytes([hdr[4], hdr[5]]));
    let next = hdr[6];
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&hdr[8..24]);
    dst.copy_from_slice(&hdr[24..40]);
    // A zero payload length with a hop-by-hop header is a jumbogram: take the frame's length.
    let stated = if payload_len == 0 && next == 0 { data.len() } else { 40 + payload_len };
    let (pkt, truncated) = ip_extent(data, stated, snapped, anomalies);
    let (next, ext_len, fragment) = ipv6_extensions(next, pkt.get(40..).unwrap_or_default(), anomalies);
    let pos = 40 + ext_len;
    if pos > pkt.len() && !truncated {
        anomalies.push(Anomaly::IpMalformed);
    }
    Some(IpPacket {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        proto: next,
        ttl: hdr[7],
        wire_len: (stated as u32).max(40),
        fragment,
        payload: pkt.get(pos..).unwrap_or_default(),
        truncated,
    })
}

fn is_ipv6_extension(next: u8) -> bool {
    // hop-by-hop, routing, fragment, AH, destination options, mobility, HIP, shim6
    matches!(next, 0 | 43 | 44 | 51 | 60 | 135 | 139 | 140)
}

/// Walks the IPv6 extension headers at the start of `data`, the first of type `next`.
/// Returns the protocol after them, how many bytes they take, and the fragment header's
/// fields when the packet is a fragment. The walk stops after the fragment header of a real
/// fragment: the headers behind it belong to the whole datagram, and are walked again (by
/// calling this on the reassembled bytes) once it is whole.
pub fn ipv6_extensions(
    mut next: u8,
    data: &[u8],
    anomalies: &mut Anomalies,
) -> (u8, usize, Option<Fragment>) {
    let mut pos = 0usize;
    for _ in 0..MAX_IPV6_EXT {
        match next {
            0 | 43 | 60 | 135 | 139 | 140 => {
                let (Some(&nh), Some(&len)) = (data.get(pos), data.get(pos + 1)) else {
                    return (next, pos, None);
                };
                next = nh;
                pos += (usize::from(len) + 1) * 8;
            }
            44 => {
                let Some(f) = data.get(pos..pos + 8) else { return (next, pos, None) };
                let off_flags = u16::from_be_bytes([f[2], f[3]]);
                let offset = u32::from(off_flags >> 3) * 8;
                let more = off_flags & 1 != 0;
                next = f[0];
                pos += 8;
                // An "atomic" fragment (offset 0, no more) is a whole datagram: walk on.
                if more || offset != 0 {
                    let id = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
                    return (next, pos, Some(Fragment { id, offset, more }));
                }
            }
            // authentication header: length in 4-byte units, minus 2
            51 => {
                let (Some(&nh), Some(&len)) = (data.get(pos), data.get(pos + 1)) else {
                    return (next, pos, None);
                };
                next = nh;
                pos += (usize::from(len) + 2) * 4;
            }
            _ => return (next, pos, None),
        }
    }
    if is_ipv6_extension(next) {
        anomalies.push(Anomaly::Ipv6ExtDepth);
    }
    (next, pos, None)
}

/// TCP flag bits.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// The transport layer of an IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Payload (trimmed to the UDP length).
        payload: &'a [u8],
    },
    /// ICMP or ICMPv6.
    Icmp {
        /// Message type.
        kind: u8,
        /// Code.
        code: u8,
        /// Echo identifier for echo request and reply, which keys the flow.
        echo_id: Option<u16>,
    },
    /// Another protocol, or a transport header Ward could not read.
    Other,
}

/// A TCP segment's header fields and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with ACK).
    pub ack: u32,
    /// Flags (see [`tcp_flags`]).
    pub flags: u8,
    /// Payload bytes present in the capture.
    pub payload: &'a [u8],
}

/// Decodes the transport header of an unfragmented packet or a reassembled datagram.
pub fn decode_transport<'a>(proto: u8, data: &'a [u8], v6: bool, anomalies: &mut Anomalies) -> Transport<'a> {
    match proto {
        6 => {
            let Some(h) = data.get(..20) else {
                anomalies.push(Anomaly::TransportTruncated);
                return Transport::Other;
            };
            let off = usize::from(h[12] >> 4) * 4;
            if off < 20 {
                anomalies.push(Anomaly::TransportMalformed);
                return Transport::Other;
            }
            let payload = match data.get(off..) {
                Some(p) => p,
                None => {
                    anomalies.push(Anomaly::TransportTruncated);
                    &[]
                }
            };
            Transport::Tcp(TcpSegment {
                src_port: u16::from_be_bytes([h[0], h[1]]),
                dst_port: u16::from_be_bytes([h[2], h[3]]),
                seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
                flags: h[13],
                payload,
            })
        }
        17 => {
            let Some(h) = data.get(..8) else {
                anomalies.push(Anomaly::TransportTruncated);
                return Transport::Other;
            };
            let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
            // Length 0 is legal for IPv6 jumbograms; otherwise it must cover the header.
            let payload = if len == 0 && v6 {
                &data[8..]
            } else if len < 8 {
                anomalies.push(Anomaly::TransportMalformed);
                &data[8..]
            } else {
                data.get(8..len).unwrap_or(&data[8..])
            };
            Transport::Udp {
                src_port: u16::from_be_bytes([h[0], h[1]]),
                dst_port: u16::from_be_bytes([h[2], h[3]]),
                payload,
            }
        }
        1 | 58 => {
            let (Some(&kind), Some(&code)) = (data.first(), data.get(1)) else {
                anomalies.push(Anomaly::TransportTruncated);
                return Transport::Other;
            };
            let is_echo = if proto == 1 { matches!(kind, 0 | 8) } else { matches!(kind, 128 | 129) };
            let echo_id = if is_echo { be16(data, 4) } else { None };
            Transport::Icmp { kind, code, echo_id }
        }
        _ => Transport::Other,
    }
}

/// Anomalies found while decoding one packet (at most a handful).
#[derive(Default, Debug)]
pub struct Anomalies {
    found: [u8; Anomaly::COUNT],
    any: bool,
}

impl Anomalies {
    /// Records one.
    #[inline]
    pub fn push(&mut self, a: Anomaly) {
        let slot = &mut self.found[a as usize];
        *slot = slot.saturating_add(1);
        self.any = true;
    }

    /// Whether any was found.
    #[inline]
    pub fn any(&self) -> bool {
        self.any
    }

    /// Adds these to running totals and clears them.
    #[inline]
    pub fn drain_into(&mut self, totals: &mut [u64; Anomaly::COUNT]) {
        if self.any {
            for (t, f) in totals.iter_mut().zip(self.found.iter_mut()) {
                *t += u64::from(*f);
                *f = 0;
            }
            self.any = false;
        }
    }

    /// The kinds found, for tests.
    pub fn kinds(&self) -> Vec<Anomaly> {
        Anomaly::ALL.into_iter().filter(|a| self.found[*a as usize] > 0).collect()
    }
}

#[inline]
fn mix(x: u64) -> u64 {
    // A 64-bit finaliser (from splitmix64): spreads every input bit over the output.
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[inline]
fn word<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut w = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        w.copy_from_slice(s);
    }
    w
}

/// A hash of the frame that is the same in both directions and for every fragment of a
/// datagram: VLANs and the two IP addresses (ARP: the two protocol addresses; other frames:
/// the two MACs). The sensor shards flows across worker threads by it, so that each worker
/// owns its flows and fragments without locks. It runs on the reader thread for every packet,
/// so it reads only the few header bytes it needs and mixes once.
pub fn shard_hash(link: LinkType, data: &[u8]) -> u64 {
    let (mut et, mut at) = match link {
        LinkType::ETHERNET => (be16(data, 12).unwrap_or(0), 14),
        LinkType::LINUX_SLL => (be16(data, 14).unwrap_or(0), 16),
        LinkType::LINUX_SLL2 => (be16(data, 0).unwrap_or(0), 20),
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 | LinkType::NULL | LinkType::LOOP => {
            let at = if matches!(link, LinkType::NULL | LinkType::LOOP) { 4 } else { 0 };
            let v = data.get(at).map_or(0, |b| b >> 4);
            (if v == 6 { ether_type::IPV6 } else { ether_type::IPV4 }, at)
        }
        _ => return 0,
    };
    let mut vlan_bits = 0u64;
    for _ in 0..4 {
        if !matches!(et, ether_type::VLAN | ether_type::QINQ | ether_type::QINQ_OLD) {
            break;
        }
        vlan_bits = vlan_bits << 12 | u64::from(be16(data, at).unwrap_or(0) & 0x0fff);
        et = be16(data, at + 2).unwrap_or(0);
        at += 4;
    }
    // Adding the two addresses makes the hash the same in both directions.
    let sym = match et {
        ether_type::IPV4 => {
            u64::from(u32::from_ne_bytes(word(data, at + 12)))
                + u64::from(u32::from_ne_bytes(word(data, at + 16)))
        }
        ether_type::IPV6 => {
            let fold = |w: [u8; 16]| {
                let v = u128::from_ne_bytes(w);
                (v as u64) ^ ((v >> 64) as u64).rotate_left(17)
            };
            fold(word(data, at + 8)).wrapping_add(fold(word(data, at + 24)))
        }
        ether_type::ARP => {
            u64::from(u32::from_ne_bytes(word(data, at + 14)))
                + u64::from(u32::from_ne_bytes(word(data, at + 24)))
        }
        _ if link == LinkType::ETHERNET => {
            let mac = |w: [u8; 8]| u64::from_ne_bytes(w) & 0xffff_ffff_ffff;
            mac(word(data, 0)).wrapping_add(mac(word(data, 6)))
        }
        _ => 0,
    };
    mix(sym ^ vlan_bits.rotate_left(40))
}

#[cfg(test)]
mod tests;
