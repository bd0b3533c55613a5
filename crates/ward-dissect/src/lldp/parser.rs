//! LLDP TLVs (IEEE 802.1AB): a 7-bit type and a 9-bit length, then the value.

/// One TLV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// TLV type (0 = end, 127 = organisationally specific).
    pub kind: u8,
    /// The value.
    pub value: &'a [u8],
}

/// Most TLVs one LLDPDU may carry; a real one has a dozen or two.
const MAX_TLVS: usize = 128;

/// The TLVs of an LLDPDU, up to the end TLV. A TLV that runs past the frame is an error.
pub fn tlvs(mut b: &[u8]) -> Result<Vec<Tlv<'_>>, &'static str> {
    let mut out = Vec::new();
    while b.len() >= 2 {
        let head = u16::from_be_bytes([b[0], b[1]]);
        let kind = (head >> 9) as u8;
        let len = usize::from(head & 0x01ff);
        if kind == 0 {
            // Chassis id, port id and TTL are mandatory: an LLDPDU that ends at once is broken.
            return if out.is_empty() { Err("empty lldpdu") } else { Ok(out) };
        }
        let value = b.get(2..2 + len).ok_or("lldp tlv runs past the frame")?;
        if out.len() >= MAX_TLVS {
            return Err("too many lldp tlvs");
        }
        out.push(Tlv { kind, value });
        b = &b[2 + len..];
    }
    if out.is_empty() { Err("empty lldpdu") } else { Ok(out) }
}

/// Names of the system capabilities bits (TLV 7).
pub fn capability_names(bits: u16) -> Vec<&'static str> {
    const NAMES: [&str; 11] = [
        "other",
        "repeater",
        "bridge",
        "wlan-ap",
        "router",
        "telephone",
        "docsis",
        "station",
        "c-vlan",
        "s-vlan",
        "tpmr",
    ];
    NAMES.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n).collect()
}
