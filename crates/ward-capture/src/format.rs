//! Capture file formats: the file header and one record at a time, over a byte slice.
//!
//! Record headers are read here by hand because their lengths must be checked against sane
//! limits before anything trusts them; pcapng interface descriptions, whose options are the
//! fiddly part, go through `pcap-parser`.

use std::fmt;

use pcap_parser::pcapng::{parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le};
use ward_core::Timestamp;

/// The link layer of a packet, as pcap numbers them (`LINKTYPE_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the writer's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II (and 802.3 with LLC).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP, version in the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture, version 1 (`tcpdump -i any`).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture, version 2.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Normalises the values some systems wrote for raw IP before `LINKTYPE_RAW` existed.
    pub fn from_file(value: u32) -> LinkType {
        match value & 0xffff {
            12 | 14 => LinkType::RAW,
            v => LinkType(v as u16),
        }
    }

    /// A short name for summaries.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::NULL => "null",
            LinkType::ETHERNET => "ethernet",
            LinkType::RAW => "raw",
            LinkType::LOOP => "loop",
            LinkType::LINUX_SLL => "linux-sll",
            LinkType::IPV4 => "ipv4",
            LinkType::IPV6 => "ipv6",
            LinkType::LINUX_SLL2 => "linux-sll2",
            _ => "other",
        }
    }
}

impl fmt::Debug for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

/// No record may be larger than this, whatever its header claims: libpcap's own ceiling is
/// 256 KiB per packet, and a pcapng block carrying one packet is not much larger.
pub(crate) const MAX_RECORD: usize = 16 << 20;

/// Default pcap snap length ceiling: records longer than both this and the file's snap
/// length are corruption (a header read from garbage), not packets.
const PCAP_MAX_CAPLEN: u32 = 262_144;

/// A problem with the bytes at the current position.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FormatError {
    /// The record cannot be right; reading must stop.
    Corrupt(String),
}

/// What the bytes at the current position hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A packet: `data` is `start..start + caplen` relative to the record start.
    Packet { ts: Timestamp, start: usize, caplen: u32, orig_len: u32, link: LinkType, len: usize },
    /// A record without a packet (interface description, statistics, ...).
    Skip { len: usize },
    /// The record is not all in the buffer: it needs `need` bytes from its start.
    Incomplete { need: usize },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Interface {
    link: LinkType,
    units_per_sec: u64,
    offset_secs: i64,
    fcs_len: u32,
}

/// Per-file decoding state.
#[derive(Debug)]
pub(crate) enum Format {
    Pcap {
        big_endian: bool,
        units_per_sec: u64,
        link: LinkType,
        header_len: usize,
        max_caplen: u32,
        fcs_len: u32,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// The magic numbers a capture can start with, as the first four bytes read little-endian.
pub(crate) fn is_capture_magic(first4: [u8; 4]) -> bool {
    let le = u32::from_le_bytes(first4);
    matches!(
        le,
        0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0xa1b2_cd34 | 0x34cd_b2a1 | 0x0a0d_0d0a
    )
}

fn rd_u16(b: &[u8], at: usize, be: bool) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    if be { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) }
}

fn rd_u32(b: &[u8], at: usize, be: bool) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    if be { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
}

/// The FCS length a pcap link-type field announces in its upper bits (0 when none).
fn fcs_len_from_linktype_field(field: u32) -> u32 {
    if field & 0x0400_0000 != 0 { ((field >> 28) & 0xf) * 2 } else { 0 }
}

/// Packet bytes without a trailing FCS, when the FCS was captured.
fn strip_fcs(caplen: u32, orig_len: u32, fcs_len: u32) -> (u32, u32) {
    if fcs_len > 0 && caplen == orig_len && caplen >= fcs_len {
        (caplen - fcs_len, orig_len - fcs_len)
    } else {
        (caplen, orig_len)
    }
}

impl Format {
    /// Reads the file header at the start of `b`. Returns the format and the header length, or
    /// `Ok(None)` when `b` is too short to tell.
    pub(crate) fn from_header(b: &[u8]) -> Result<Option<(Format, usize)>, FormatError> {
        let Some(m) = b.get(..4) else { return Ok(None) };
        let magic = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
        if magic == 0x0a0d_0d0a {
            // pcapng: the section header is an ordinary block; the reader parses it as one.
            let fmt = Format::PcapNg { big_endian: false, interfaces: Vec::new() };
            return Ok(Some((fmt, 0)));
        }
        let (big_endian, units_per_sec, header_len) = match magic {
            0xa1b2_c3d4 => (false, 1_000_000, 16),
            0xd4c3_b2a1 => (true, 1_000_000, 16),
            0xa1b2_3c4d => (false, 1_000_000_000, 16),
            0x4d3c_b2a1 => (true, 1_000_000_000, 16),
            // Kuznetzov's "modified" pcap: 8 more bytes per record (ifindex, protocol, type).
            0xa1b2_cd34 => (false, 1_000_000, 24),
            0x34cd_b2a1 => (true, 1_000_000, 24),
            _ => return Err(FormatError::Corrupt(format!("unknown magic {magic:#010x}"))),
        };
        if b.len() < 24 {
            return Ok(None);
        }
        let major = rd_u16(b, 4, big_endian);
        if major != 2 {
            return Err(FormatError::Corrupt(format!("pcap version {major} is not 2")));
        }
        let snaplen = rd_u32(b, 16, big_endian);
        let field = rd_u32(b, 20, big_endian);
        let fmt = Format::Pcap {
            big_endian,
            units_per_sec,
            link: LinkType::from_file(field),
            header_len,
            max_caplen: snaplen.clamp(PCAP_MAX_CAPLEN, MAX_RECORD as u32),
            fcs_len: fcs_len_from_linktype_field(field),
        };
        Ok(Some((fmt, 24)))
    }

    /// Decodes the record at the start of `b`.
    pub(crate) fn next(&mut self, b: &[u8]) -> Result<Step, FormatError> {
        match self {
            Format::Pcap { big_endian, units_per_sec, link, header_len, max_caplen, fcs_len } => {
                let (be, hl) = (*big_endian, *header_len);
                if b.len() < hl {
                    return Ok(Step::Incomplete { need: hl });
                }
                let caplen = rd_u32(b, 8, be);
                let orig_len = rd_u32(b, 12, be);
                if caplen > *max_caplen {
                    return Err(FormatError::Corrupt(format!(
                        "record claims {caplen} captured bytes, more than the limit of {max_caplen}"
                    )));
                }
                let len = hl + caplen as usize;
                if b.len() < len {
                    return Ok(Step::Incomplete { need: len });
                }
                let ts = Timestamp::from_parts(
                    u64::from(rd_u32(b, 0, be)),
                    u64::from(rd_u32(b, 4, be)),
                    *units_per_sec,
                );
                let (caplen, orig_len) = strip_fcs(caplen, orig_len, *fcs_len);
                Ok(Step::Packet { ts, start: hl, caplen, orig_len, link: *link, len })
            }
            Format::PcapNg { big_endian, interfaces } => next_pcapng(big_endian, interfaces, b),
        }
    }
}

/// Units per second of a pcapng `if_tsresol` value: `10^n`, or `2^n` when the top bit is set.
/// (pcap-parser 0.17's `build_ts_resolution` compares the flagged byte against 63 and so
/// refuses every binary resolution; this is the rule from the pcapng specification.)
fn ts_units_per_sec(tsresol: u8) -> Option<u64> {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 { 10u64.checked_pow(n) } else { 1u64.checked_shl(n) }
}

/// Interfaces one pcapng section may describe; real captures have a handful.
const MAX_INTERFACES: usize = 4096;

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 0x0000_0001;
const OPB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const EPB: u32 = 0x0000_0006;
const BOM: u32 = 0x1a2b_3c4d;

fn next_pcapng(
    big_endian: &mut bool,
    interfaces: &mut Vec<Interface>,
    b: &[u8],
) -> Result<Step, FormatError> {
    if b.len() < 12 {
        return Ok(Step::Incomplete { need: 12 });
    }
    let mut be = *big_endian;
    let block_type = rd_u32(b, 0, be);
    if block_type == SHB {
        // A new section may change byte order; its byte-order magic tells.
        be = match rd_u32(b, 8, false) {
            BOM => false,
            x if x == BOM.swap_bytes() => true,
            x => return Err(FormatError::Corrupt(format!("section header with byte-order magic {x:#010x}"))),
        };
    }
    let len = rd_u32(b, 4, be) as usize;
    if len < 12 || !len.is_multiple_of(4) || len > MAX_RECORD {
        return Err(FormatError::Corrupt(format!(
            "pcapng block of type {block_type:#x} with impossible length {len}"
        )));
    }
    if b.len() < len {
        return Ok(Step::Incomplete { need: len });
    }
    let block = &b[..len];
    if rd_u32(block, len - 4, be) as usize != len {
        return Err(FormatError::Corrupt(format!(
            "pcapng block of type {block_type:#x}: trailing length differs from leading length {len}"
        )));
    }
    match block_type {
        SHB => {
            if len < 28 {
                return Err(FormatError::Corrupt(format!("section header block of length {len}")));
            }
            let major = rd_u16(block, 12, be);
            if major != 1 {
                return Err(FormatError::Corrupt(format!("pcapng version {major} is not 1")));
            }
            *big_endian = be;
            interfaces.clear();
            Ok(Step::Skip { len })
        }
        IDB => {
            let parsed = if be {
                parse_interfacedescriptionblock_be(block)
            } else {
                parse_interfacedescriptionblock_le(block)
            };
            let idb = parsed
                .map_err(|e| {
                    FormatError::Corrupt(format!("interface description block does not parse: {e:?}"))
                })?
                .1;
            let units_per_sec = ts_units_per_sec(idb.if_tsresol).ok_or_else(|| {
                FormatError::Corrupt(format!(
                    "interface time resolution {:#x} is out of range",
                    idb.if_tsresol
                ))
            })?;
            let fcs_len = idb
                .options
                .iter()
                .find(|o| o.code.0 == 13)
                .and_then(|o| o.value.first().copied())
                .map_or(0, u32::from);
            if interfaces.len() >= MAX_INTERFACES {
                return Err(FormatError::Corrupt(format!(
                    "more than {MAX_INTERFACES} interfaces in one section"
                )));
            }
            interfaces.push(Interface {
                link: LinkType::from_file(idb.linktype.0 as u32),
                units_per_sec,
                offset_secs: idb.if_tsoffset,
                fcs_len,
            });
            Ok(Step::Skip { len })
        }
        EPB | OPB => {
            if len < 32 {
                return Err(FormatError::Corrupt(format!("packet block of length {len}")));
            }
            let (iface_id, ts_high, ts_low, caplen, orig_len) = if block_type == EPB {
                (
                    rd_u32(block, 8, be),
                    rd_u32(block, 12, be),
                    rd_u32(block, 16, be),
                    rd_u32(block, 20, be),
                    rd_u32(block, 24, be),
                )
            } else {
                // Obsolete packet block: 16-bit interface id and drop count.
                (
                    u32::from(rd_u16(block, 8, be)),
                    rd_u32(block, 12, be),
                    rd_u32(block, 16, be),
                    rd_u32(block, 20, be),
                    rd_u32(block, 24, be),
                )
            };
            if caplen as usize > len - 32 {
                return Err(FormatError::Corrupt(format!(
                    "packet block claims {caplen} captured bytes in a block of {len}"
                )));
            }
            let iface = interfaces.get(iface_id as usize).ok_or_else(|| {
                FormatError::Corrupt(format!(
                    "packet on interface {iface_id}, but only {} interfaces are described",
                    interfaces.len()
                ))
            })?;
            let units = u64::from(ts_high) << 32 | u64::from(ts_low);
            let secs = (units / iface.units_per_sec).saturating_add_signed(iface.offset_secs);
            let ts = Timestamp::from_parts(secs, units % iface.units_per_sec, iface.units_per_sec);
            let (caplen, orig_len) = strip_fcs(caplen, orig_len, iface.fcs_len);
            Ok(Step::Packet { ts, start: 28, caplen, orig_len, link: iface.link, len })
        }
        SPB => {
            if len < 16 {
                return Err(FormatError::Corrupt(format!("simple packet block of length {len}")));
            }
            let iface = interfaces.first().ok_or_else(|| {
                FormatError::Corrupt("simple packet block before any interface description".to_owned())
            })?;
            let orig_len = rd_u32(block, 8, be);
            let caplen = orig_len.min((len - 16) as u32);
            let (caplen, orig_len) = strip_fcs(caplen, orig_len, iface.fcs_len);
            // Simple packets carry no time stamp.
            Ok(Step::Packet { ts: Timestamp::ZERO, start: 12, caplen, orig_len, link: iface.link, len })
        }
        _ => Ok(Step::Skip { len }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_header(magic: u32, be: bool, link: u32) -> Vec<u8> {
        let mut h = Vec::new();
        let w32 = |h: &mut Vec<u8>, v: u32| h.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
        w32(&mut h, magic);
        let v = if be { [0, 2, 0, 4] } else { [2, 0, 4, 0] };
        h.extend(v);
        w32(&mut h, 0);
        w32(&mut h, 0);
        w32(&mut h, 65535);
        w32(&mut h, link);
        h
    }

    #[test]
    fn pcap_headers_in_all_flavours() {
        for (magic, be, units) in [
            (0xa1b2_c3d4u32, false, 1_000_000u64),
            (0xa1b2_c3d4, true, 1_000_000),
            (0xa1b2_3c4d, false, 1_000_000_000),
            (0xa1b2_3c4d, true, 1_000_000_000),
        ] {
            let h = pcap_header(magic, be, 113);
            let (fmt, n) = Format::from_header(&h).unwrap().unwrap();
            assert_eq!(n, 24);
            match fmt {
                Format::Pcap { big_endian, units_per_sec, link, .. } => {
                    assert_eq!((big_endian, units_per_sec, link), (be, units, LinkType::LINUX_SLL));
                }
                Format::PcapNg { .. } => panic!("pcap read as pcapng"),
            }
        }
    }

    #[test]
    fn short_and_bad_headers() {
        assert!(matches!(Format::from_header(&[0xd4, 0xc3]), Ok(None)));
        assert!(Format::from_header(&[1, 2, 3, 4, 5]).is_err());
        let mut h = pcap_header(0xa1b2_c3d4, false, 1);
        h[4] = 7;
        assert!(Format::from_header(&h).is_err());
    }

    #[test]
    fn raw_ip_aliases_and_fcs_bits() {
        assert_eq!(LinkType::from_file(12), LinkType::RAW);
        assert_eq!(LinkType::from_file(14), LinkType::RAW);
        assert_eq!(fcs_len_from_linktype_field(0x1400_0001), 2);
        assert_eq!(fcs_len_from_linktype_field(0x2400_0001), 4);
        assert_eq!(strip_fcs(64, 64, 4), (60, 60));
        assert_eq!(strip_fcs(60, 64, 4), (60, 64));
    }

    #[test]
    fn pcapng_time_resolutions() {
        assert_eq!(ts_units_per_sec(6), Some(1_000_000));
        assert_eq!(ts_units_per_sec(9), Some(1_000_000_000));
        assert_eq!(ts_units_per_sec(0x80 | 20), Some(1 << 20));
        assert_eq!(ts_units_per_sec(0x80 | 63), Some(1 << 63));
        assert_eq!(ts_units_per_sec(20), None);
        assert_eq!(ts_units_per_sec(0x80 | 64), None);
    }

    #[test]
    fn absurd_record_lengths_are_corrupt() {
        let h = pcap_header(0xa1b2_c3d4, false, 1);
        let (mut fmt, _) = Format::from_header(&h).unwrap().unwrap();
        let mut rec = vec![0u8; 16];
        rec[8..12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(matches!(fmt.next(&rec), Err(FormatError::Corrupt(_))));
        rec[8..12].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(fmt.next(&rec), Ok(Step::Incomplete { need: 116 }));
    }

    #[test]
    fn pcapng_packet_before_interface_is_corrupt() {
        let mut fmt = Format::PcapNg { big_endian: false, interfaces: Vec::new() };
        let mut epb = Vec::new();
        for v in [EPB, 36, 0, 0, 0, 4, 4] {
            epb.extend(v.to_le_bytes());
        }
        epb.extend([1, 2, 3, 4]);
        epb.extend(36u32.to_le_bytes());
        assert!(matches!(fmt.next(&epb), Err(FormatError::Corrupt(m)) if m.contains("interface 0")));
    }
}
