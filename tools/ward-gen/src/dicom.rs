//! DICOM upper-layer and data set encoders (PS3.8, PS3.5): the generator's associations and
//! the DICOM dissector's tests and benchmark build their bytes with these.

/// An AE title: the text, padded with spaces to 16 bytes (longer titles are cut).
pub fn ae(title: &str) -> [u8; 16] {
    let mut a = [b' '; 16];
    for (d, s) in a.iter_mut().zip(title.bytes()) {
        *d = s;
    }
    a
}

/// An association item: type, reserved byte, 2-byte big-endian length, body.
pub fn item(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + body.len());
    v.extend_from_slice(&[kind, 0]);
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A PDU: type, reserved byte, 4-byte big-endian length, body.
pub fn pdu(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(6 + body.len());
    v.extend_from_slice(&[kind, 0]);
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// One P-DATA-TF PDU holding these PDVs: (presentation context id, message control header,
/// payload). The header's bit 0 says command, bit 1 last fragment.
pub fn pdata(pdvs: &[(u8, u8, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (pc, mch, payload) in pdvs {
        body.extend_from_slice(&(payload.len() as u32 + 2).to_be_bytes());
        body.push(*pc);
        body.push(*mch);
        body.extend_from_slice(payload);
    }
    pdu(0x04, &body)
}

/// An implicit VR little endian element (command sets are always written so).
pub fn element(group: u16, elem: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + value.len());
    v.extend_from_slice(&group.to_le_bytes());
    v.extend_from_slice(&elem.to_le_bytes());
    v.extend_from_slice(&(value.len() as u32).to_le_bytes());
    v.extend_from_slice(value);
    v
}

/// An explicit VR element, little or big endian; OB, OW, SQ, UN and UT take the long form.
pub fn explicit_element(big_endian: bool, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
    let w16 = |x: u16| if big_endian { x.to_be_bytes() } else { x.to_le_bytes() };
    let mut v = Vec::with_capacity(12 + value.len());
    v.extend_from_slice(&w16(group));
    v.extend_from_slice(&w16(elem));
    v.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT") {
        v.extend_from_slice(&[0, 0]);
        let n = value.len() as u32;
        v.extend_from_slice(&if big_endian { n.to_be_bytes() } else { n.to_le_bytes() });
    } else {
        v.extend_from_slice(&w16(value.len() as u16));
    }
    v.extend_from_slice(value);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_the_standard_lays_out() {
        assert_eq!(ae("CT01"), *b"CT01            ");
        assert_eq!(item(0x52, b"1.2"), [0x52, 0, 0, 3, b'1', b'.', b'2']);
        assert_eq!(pdu(5, &[0; 4]), [5, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
        assert_eq!(pdata(&[(1, 3, b"ab")]), [4, 0, 0, 0, 0, 8, 0, 0, 0, 4, 1, 3, b'a', b'b']);
        assert_eq!(element(0, 0x100, &[1, 0]), [0, 0, 0, 1, 2, 0, 0, 0, 1, 0]);
        assert_eq!(
            explicit_element(false, 8, 0x60, b"CS", b"CT"),
            [8, 0, 0x60, 0, b'C', b'S', 2, 0, b'C', b'T']
        );
        assert_eq!(
            explicit_element(true, 0x7fe0, 0x10, b"OW", &[9, 9])[..12],
            [0x7f, 0xe0, 0, 0x10, b'O', b'W', 0, 0, 0, 0, 0, 2]
        );
    }
}
