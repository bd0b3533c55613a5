//! ARP packets (RFC 826) as a checked view over bytes.

use std::net::Ipv4Addr;

use ward_core::Mac;

mod field {
    use std::ops::Range;
    pub(super) const HTYPE: Range<usize> = 0..2;
    pub(super) const PTYPE: Range<usize> = 2..4;
    pub(super) const HLEN: usize = 4;
    pub(super) const PLEN: usize = 5;
    pub(super) const OPER: Range<usize> = 6..8;
    pub(super) const SHA: usize = 8;
}

/// The operation of an ARP packet. Values Ward does not name are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Who has this address?
    Request,
    /// I have it.
    Reply,
    /// Another operation (RARP, InARP, ...).
    Unknown(u16),
}

/// A view over ARP bytes whose length has been checked against its own address lengths, so
/// that no accessor can read out of bounds.
#[derive(Clone, Copy, Debug)]
pub struct ArpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> ArpPacket<'a> {
    /// Checks that `buf` holds the fixed header and the four addresses it announces.
    pub fn new_checked(buf: &'a [u8]) -> Result<ArpPacket<'a>, &'static str> {
        if buf.len() < 8 {
            return Err("arp header truncated");
        }
        let need = 8 + 2 * (usize::from(buf[field::HLEN]) + usize::from(buf[field::PLEN]));
        if buf.len() < need {
            return Err("arp addresses truncated");
        }
        Ok(ArpPacket { buf })
    }

    fn u16_at(&self, r: std::ops::Range<usize>) -> u16 {
        u16::from_be_bytes([self.buf[r.start], self.buf[r.start + 1]])
    }

    /// Hardware type (1 = Ethernet).
    pub fn hardware_type(&self) -> u16 {
        self.u16_at(field::HTYPE)
    }

    /// Protocol type (0x0800 = IPv4).
    pub fn protocol_type(&self) -> u16 {
        self.u16_at(field::PTYPE)
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        match self.u16_at(field::OPER) {
            1 => Operation::Request,
            2 => Operation::Reply,
            n => Operation::Unknown(n),
        }
    }

    fn hlen(&self) -> usize {
        usize::from(self.buf[field::HLEN])
    }

    fn plen(&self) -> usize {
        usize::from(self.buf[field::PLEN])
    }

    /// Sender hardware address bytes.
    pub fn sender_hw(&self) -> &'a [u8] {
        &self.buf[field::SHA..field::SHA + self.hlen()]
    }

    /// Sender protocol address bytes.
    pub fn sender_proto(&self) -> &'a [u8] {
        let at = field::SHA + self.hlen();
        &self.buf[at..at + self.plen()]
    }

    /// Target hardware address bytes.
    pub fn target_hw(&self) -> &'a [u8] {
        let at = field::SHA + self.hlen() + self.plen();
        &self.buf[at..at + self.hlen()]
    }

    /// Target protocol address bytes.
    pub fn target_proto(&self) -> &'a [u8] {
        let at = field::SHA + 2 * self.hlen() + self.plen();
        &self.buf[at..at + self.plen()]
    }
}

/// An Ethernet/IPv4 ARP packet, the only kind that binds MACs to IPv4 addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpRepr {
    /// Request, reply or other.
    pub operation: Operation,
    /// Who sends.
    pub sender_mac: Mac,
    /// The address the sender claims (0.0.0.0 in a probe).
    pub sender_ip: Ipv4Addr,
    /// Whom it is for (all zero in a request).
    pub target_mac: Mac,
    /// The address asked about or answered to.
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// Reads an Ethernet/IPv4 ARP packet; `None` for other hardware or protocol types.
    pub fn parse(p: &ArpPacket<'_>) -> Option<ArpRepr> {
        if p.hardware_type() != 1 || p.protocol_type() != 0x0800 || p.hlen() != 6 || p.plen() != 4 {
            return None;
        }
        let ip = |b: &[u8]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        Some(ArpRepr {
            operation: p.operation(),
            sender_mac: Mac::from_slice(p.sender_hw())?,
            sender_ip: ip(p.sender_proto()),
            target_mac: Mac::from_slice(p.target_hw())?,
            target_ip: ip(p.target_proto()),
        })
    }
}
