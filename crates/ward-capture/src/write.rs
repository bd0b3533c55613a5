//! Writers for pcap and pcapng, for Ward's capture generator and for tests that need files
//! in every flavour the reader accepts.

use std::io::{self, Write};

use ward_core::Timestamp;

use crate::LinkType;

/// Byte order of a written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian, what x86 writers produce.
    Little,
    /// Big-endian, what SPARC and some switches produce.
    Big,
}

impl ByteOrder {
    fn u16(self, v: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }
    fn u32(self, v: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }
}

/// Writes a classic pcap file.
pub struct PcapWriter<W: Write> {
    out: W,
    order: ByteOrder,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header: one link type for the whole file, micro- or nanosecond stamps.
    pub fn new(mut out: W, link: LinkType, order: ByteOrder, nanos: bool) -> io::Result<PcapWriter<W>> {
        let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        out.write_all(&order.u32(magic))?;
        out.write_all(&order.u16(2))?;
        out.write_all(&order.u16(4))?;
        out.write_all(&order.u32(0))?;
        out.write_all(&order.u32(0))?;
        out.write_all(&order.u32(262_144))?;
        out.write_all(&order.u32(u32::from(link.0)))?;
        Ok(PcapWriter { out, order, nanos })
    }

    /// Writes one packet; `orig_len` may exceed `data.len()` to record a snap length cut.
    pub fn packet(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let frac = ts.as_nanos() % 1_000_000_000;
        let frac = if self.nanos { frac } else { frac / 1000 };
        let o = self.order;
        let mut hdr = [0u8; 16];
        hdr[0..4].copy_from_slice(&o.u32(ts.as_secs() as u32));
        hdr[4..8].copy_from_slice(&o.u32(frac as u32));
        hdr[8..12].copy_from_slice(&o.u32(data.len() as u32));
        hdr[12..16].copy_from_slice(&o.u32(orig_len.max(data.len() as u32)));
        self.out.write_all(&hdr)?;
        self.out.write_all(data)
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes a pcapng file: sections, interfaces with their own link type and time resolution,
/// and enhanced packet blocks.
pub struct PcapNgWriter<W: Write> {
    out: W,
    order: ByteOrder,
    /// Units per second of each interface, in the order they were added.
    resolutions: Vec<u64>,
}

impl<W: Write> PcapNgWriter<W> {
    /// Starts a file with its first section.
    pub fn new(out: W, order: ByteOrder) -> io::Result<PcapNgWriter<W>> {
        let mut w = PcapNgWriter { out, order, resolutions: Vec::new() };
        w.section(order)?;
        Ok(w)
    }

    fn block(&mut self, kind: u32, body: &[u8]) -> io::Result<()> {
        let pad = (4 - body.len() % 4) % 4;
        let len = (12 + body.len() + pad) as u32;
        let o = self.order;
        self.out.write_all(&o.u32(kind))?;
        self.out.write_all(&o.u32(len))?;
        self.out.write_all(body)?;
        self.out.write_all(&[0u8; 3][..pad])?;
        self.out.write_all(&o.u32(len))
    }

    /// Starts a new section (forgetting all interfaces), possibly in another byte order.
    pub fn section(&mut self, order: ByteOrder) -> io::Result<()> {
        self.order = order;
        self.resolutions.clear();
        let mut body = Vec::new();
        body.extend(order.u32(0x1a2b_3c4d));
        body.extend(order.u16(1));
        body.extend(order.u16(0));
        body.extend([0xff; 8]); // section length unknown
        self.block(0x0a0d_0d0a, &body)
    }

    /// Describes an interface; `tsresol` is pcapng's encoding (6 = microseconds, 9 =
    /// nanoseconds, 0x80 | n = 2^-n). Returns its id.
    pub fn interface(&mut self, link: LinkType, tsresol: u8) -> io::Result<u32> {
        let o = self.order;
        let mut body = Vec::new();
        body.extend(o.u16(link.0));
        body.extend(o.u16(0));
        body.extend(o.u32(262_144));
        if tsresol != 6 {
            body.extend(o.u16(9));
            body.extend(o.u16(1));
            body.extend([tsresol, 0, 0, 0]);
        }
        body.extend(o.u16(0));
        body.extend(o.u16(0));
        self.block(1, &body)?;
        let units = if tsresol & 0x80 == 0 {
            10u64.pow(u32::from(tsresol.min(19)))
        } else {
            1u64 << (tsresol & 0x7f).min(63)
        };
        self.resolutions.push(units);
        Ok(self.resolutions.len() as u32 - 1)
    }

    /// Writes a packet seen on interface `iface`.
    pub fn packet(&mut self, iface: u32, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let units = self.resolutions.get(iface as usize).copied().unwrap_or(1_000_000);
        let t = (u128::from(ts.as_nanos()) * u128::from(units) / 1_000_000_000) as u64;
        let o = self.order;
        let mut body = Vec::with_capacity(20 + data.len());
        body.extend(o.u32(iface));
        body.extend(o.u32((t >> 32) as u32));
        body.extend(o.u32(t as u32));
        body.extend(o.u32(data.len() as u32));
        body.extend(o.u32(orig_len.max(data.len() as u32)));
        body.extend(data);
        self.block(6, &body)
    }

    /// Writes a block Ward does not read (a comment-only custom block), to prove it is skipped.
    pub fn opaque_block(&mut self, kind: u32, body: &[u8]) -> io::Result<()> {
        self.block(kind, body)
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
