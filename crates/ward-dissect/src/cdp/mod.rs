//! CDP: what Cisco switches, routers, phones and cameras say about themselves.
//!
//! CDP rides in 802.3 frames with an LLC SNAP header (OUI 00:00:0c, protocol 0x2000). Its
//! TLVs (16-bit type, 16-bit length including the header) give the device id, platform,
//! software version, capabilities, addresses, port and native VLAN.

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_core::Observation;

use crate::{Emitter, FrameContext, FrameDissector, attribute};

/// The CDP frame dissector.
pub struct CdpDissector;

/// Most TLVs one CDP frame may carry.
const MAX_TLVS: usize = 64;

/// The TLVs of a CDP frame after its 4-byte header.
pub fn tlvs(b: &[u8]) -> Result<Vec<(u16, &[u8])>, &'static str> {
    let Some((&version, _)) = b.split_first() else { return Err("empty cdp frame") };
    if !matches!(version, 1 | 2) {
        return Err("unknown cdp version");
    }
    let mut rest = b.get(4..).ok_or("cdp header truncated")?;
    let mut out = Vec::new();
    while rest.len() >= 4 {
        let kind = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        if len < 4 {
            return Err("cdp tlv shorter than its header");
        }
        let value = rest.get(4..len).ok_or("cdp tlv runs past the frame")?;
        if out.len() >= MAX_TLVS {
            return Err("too many cdp tlvs");
        }
        out.push((kind, value));
        rest = &rest[len..];
    }
    Ok(out)
}

/// Names of the capability bits.
fn capabilities(bits: u32) -> String {
    const NAMES: [&str; 11] = [
        "router",
        "transparent-bridge",
        "source-route-bridge",
        "switch",
        "host",
        "igmp",
        "repeater",
        "phone",
        "remotely-managed",
        "camera",
        "two-port-mac-relay",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// The first IP address in an addresses TLV (count, then protocol type, length, protocol,
/// address length, address).
fn first_address(v: &[u8]) -> Option<IpAddr> {
    let count = u32::from_be_bytes(v.get(..4)?.try_into().ok()?);
    let mut rest = &v[4..];
    for _ in 0..count.min(16) {
        let plen = usize::from(*rest.get(1)?);
        let proto = rest.get(2..2 + plen)?;
        let alen = usize::from(u16::from_be_bytes([*rest.get(2 + plen)?, *rest.get(3 + plen)?]));
        let addr = rest.get(4 + plen..4 + plen + alen)?;
        match (proto, addr.len()) {
            ([0xcc], 4) => return Some(IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]))),
            ([0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd], 16) => {
                return Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(addr).ok()?)));
            }
            _ => rest = &rest[4 + plen + alen..],
        }
    }
    None
}

impl FrameDissector for CdpDissector {
    fn name(&self) -> &'static str {
        "cdp"
    }

    fn snap_ids(&self) -> &'static [([u8; 3], u16)] {
        &[([0x00, 0x00, 0x0c], 0x2000)]
    }

    fn dissect(&self, ctx: &FrameContext, payload: &[u8], out: &mut Emitter<'_>) -> Result<(), &'static str> {
        let tlvs = tlvs(payload)?;
        let Some((dev, seen)) = crate::frame_source(ctx, "cdp.source") else { return Ok(()) };
        let ts = ctx.ts;
        let mut emit = |o: Option<Observation>| {
            if let Some(o) = o {
                out.emit(o);
            }
        };
        emit(Some(seen));
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        for (kind, v) in tlvs {
            let o = match kind {
                0x0001 => attribute(ts, dev, "hostname", &text(v), "cdp.device_id", 85),
                0x0002 | 0x0016 => first_address(v).filter(|a| !a.is_unspecified()).and_then(|a| {
                    attribute(ts, dev, "management_address", &a.to_string(), "cdp.address", 80)
                }),
                0x0003 => attribute(ts, dev, "cdp_port_id", &text(v), "cdp.port_id", 80),
                0x0004 if v.len() == 4 => {
                    let bits = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                    attribute(ts, dev, "capabilities", &capabilities(bits), "cdp.capabilities", 80)
                }
                0x0005 => attribute(ts, dev, "software_version", &text(v), "cdp.software_version", 85),
                0x0006 => attribute(ts, dev, "model", &text(v), "cdp.platform", 85),
                0x000a if v.len() == 2 => attribute(
                    ts,
                    dev,
                    "native_vlan",
                    &u16::from_be_bytes([v[0], v[1]]).to_string(),
                    "cdp.native_vlan",
                    85,
                ),
                _ => None,
            };
            emit(o);
        }
        Ok(())
    }
}
