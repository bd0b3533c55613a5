//! NetBIOS name service messages (RFC 1002): header, the encoded name, and NB/NBSTAT records.

/// A NetBIOS name: up to 15 characters and a suffix byte saying what the name is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NbName {
    /// The name, trailing spaces removed.
    pub name: String,
    /// Suffix: 0x00 workstation, 0x20 file server, 0x1c domain controllers, ...
    pub suffix: u8,
}

/// What an NBNS message says.
#[derive(Debug, PartialEq, Eq)]
pub struct Nbns {
    /// Response bit.
    pub response: bool,
    /// Operation: 0 query, 5 registration, 6 release, 7 wait-for-ack, 8 refresh.
    pub opcode: u8,
    /// The name asked about or registered.
    pub name: NbName,
    /// Record type of the question or first record: 0x20 NB, 0x21 NBSTAT.
    pub qtype: u16,
    /// Addresses from NB records (a registration's additional record, a query's answer).
    pub addresses: Vec<[u8; 4]>,
    /// Names and the unit id (MAC) from an NBSTAT answer.
    pub status_names: Vec<NbName>,
    /// The unit id of an NBSTAT answer, usually the MAC address.
    pub unit_id: Option<[u8; 6]>,
}

/// Decodes the first-level encoding of a 32-character label (each byte as two letters A-P).
fn decode_name(label: &[u8]) -> Option<NbName> {
    if label.len() != 32 || !label.iter().all(|c| (b'A'..=b'P').contains(c)) {
        return None;
    }
    let bytes: Vec<u8> = label.chunks_exact(2).map(|p| (p[0] - b'A') << 4 | (p[1] - b'A')).collect();
    let name = String::from_utf8_lossy(&bytes[..15]).trim_end().to_owned();
    Some(NbName { name, suffix: bytes[15] })
}

/// Reads a name at `at`: the encoded label and its scope labels, or a pointer. Returns the
/// name and the offset after it.
pub(crate) fn read_name(b: &[u8], at: usize) -> Option<(Option<NbName>, usize)> {
    let len = *b.get(at)?;
    if len & 0xc0 == 0xc0 {
        // A pointer back to the question's name: only backwards, and only to a name that is
        // not itself a pointer, so that no chain of pointers can loop or run deep.
        let target = usize::from(u16::from_be_bytes([len, *b.get(at + 1)?]) & 0x3fff);
        if target >= at || b.get(target).is_none_or(|l| l & 0xc0 != 0) {
            return None;
        }
        let (name, _) = read_name(b, target)?;
        return Some((name, at + 2));
    }
    let name = decode_name(b.get(at + 1..at + 1 + usize::from(len))?);
    let mut pos = at + 1 + usize::from(len);
    // Scope labels, ignored.
    for _ in 0..16 {
        let l = usize::from(*b.get(pos)?);
        pos += 1;
        if l == 0 {
            return Some((name, pos));
        }
        pos += l;
    }
    None
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

impl Nbns {
    /// Whether the bytes are shaped like NBNS: a DNS-like header whose first name is a
    /// 32-letter NetBIOS encoding.
    pub fn looks_like(b: &[u8]) -> bool {
        b.len() >= 12 + 34
            && b[12] == 0x20
            && decode_name(&b[13..45]).is_some()
            && matches!((b[2] >> 3) & 0x0f, 0 | 5 | 6 | 7 | 8)
    }

    /// Parses a message.
    pub fn parse(b: &[u8]) -> Option<Nbns> {
        if !Nbns::looks_like(b) {
            return None;
        }
        let response = b[2] & 0x80 != 0;
        let opcode = (b[2] >> 3) & 0x0f;
        let qd = u16_at(b, 4)?;
        let records = u16_at(b, 6)?.saturating_add(u16_at(b, 8)?).saturating_add(u16_at(b, 10)?).min(16);
        let (name, mut pos) = read_name(b, 12)?;
        let name = name?;
        let qtype = u16_at(b, pos)?;
        if qd > 0 {
            pos += 4;
        } else {
            // A response carries the name in its answer record, not a question.
            pos = 12;
        }
        let mut msg = Nbns {
            response,
            opcode,
            name,
            qtype,
            addresses: Vec::new(),
            status_names: Vec::new(),
            unit_id: None,
        };
        for _ in 0..records {
            let Some((_, after)) = read_name(b, pos) else { break };
            let (Some(rtype), Some(rdlen)) = (u16_at(b, after), u16_at(b, after + 8)) else { break };
            let Some(rdata) = b.get(after + 10..after + 10 + usize::from(rdlen)) else { break };
            match rtype {
                0x20 => {
                    // NB: (flags, IPv4) entries.
                    for e in rdata.chunks_exact(6) {
                        msg.addresses.push([e[2], e[3], e[4], e[5]]);
                    }
                }
                0x21 => msg.read_status(rdata),
                _ => {}
            }
            pos = after + 10 + usize::from(rdlen);
        }
        Some(msg)
    }

    /// NBSTAT: a count, 18-byte name entries, then statistics starting with the unit id.
    fn read_status(&mut self, rd: &[u8]) {
        let Some((&n, rest)) = rd.split_first() else { return };
        let n = usize::from(n);
        for entry in rest.chunks_exact(18).take(n) {
            let name = String::from_utf8_lossy(&entry[..15]).trim_end().to_owned();
            self.status_names.push(NbName { name, suffix: entry[15] });
        }
        self.unit_id = rest.get(n * 18..n * 18 + 6).and_then(|u| u.try_into().ok());
    }
}
