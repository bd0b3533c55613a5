//! BER encoding, enough for SNMP messages: the generator's SNMP polls and the SNMP
//! dissector's tests are built with it.

/// A TLV with a definite length (short form, or two length bytes).
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match content.len() {
        n if n < 0x80 => v.push(n as u8),
        n if n < 0x100 => v.extend_from_slice(&[0x81, n as u8]),
        n => v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend_from_slice(content);
    v
}

/// An INTEGER, in as few bytes as its value needs.
pub fn int(n: u32) -> Vec<u8> {
    let b = n.to_be_bytes();
    let skip = b.iter().take(3).take_while(|x| **x == 0).count();
    let mut body = b[skip..].to_vec();
    if body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    tlv(0x02, &body)
}

/// An OBJECT IDENTIFIER from its dotted form (`1.3.6.1.2.1.1.1.0`); parts that are not
/// numbers are skipped.
pub fn oid(dotted: &str) -> Vec<u8> {
    let parts: Vec<u32> = dotted.split('.').filter_map(|p| p.parse().ok()).collect();
    let (first, second) = (parts.first().copied().unwrap_or(0), parts.get(1).copied().unwrap_or(0));
    let mut body = vec![(first * 40 + second) as u8];
    for &p in parts.iter().skip(2) {
        let mut groups = vec![(p & 0x7f) as u8];
        let mut rest = p >> 7;
        while rest > 0 {
            groups.insert(0, (rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        body.extend(groups);
    }
    tlv(0x06, &body)
}

/// An SNMP PDU of `tag` (0xa0 GetRequest, 0xa2 Response, 0xa7 SNMPv2-Trap, ...) with its
/// variable bindings, each an OID and an encoded value.
pub fn snmp_pdu(tag: u8, req_id: u32, vars: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let list: Vec<u8> = vars.iter().flat_map(|(o, v)| tlv(0x30, &[oid(o), v.clone()].concat())).collect();
    tlv(tag, &[int(req_id), int(0), int(0), tlv(0x30, &list)].concat())
}

/// An SNMPv1 (`version` 0) or SNMPv2c (1) message around a PDU.
pub fn snmp_message(version: u32, community: &str, pdu: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[int(version), tlv(0x04, community.as_bytes()), pdu].concat())
}
