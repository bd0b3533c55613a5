//! Modbus/TCP frames as borrowed views: the MBAP header (transaction id, protocol id 0, a
//! length that counts the unit id and the PDU, the unit id) and the PDU's function code.
//! Layouts follow "MODBUS Messaging on TCP/IP Implementation Guide V1.0b" (section 3.1.3) and
//! "MODBUS Application Protocol Specification V1.1b3" (section 6 for each function, 6.21 for
//! Read Device Identification, 7 for exceptions).

/// Largest MBAP length: a 253-byte PDU and the unit id (an ADU is at most 260 bytes).
pub(crate) const MAX_LENGTH: usize = 254;

/// One frame: its unit id, function code and the PDU after the function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub(crate) unit: u8,
    pub(crate) function: u8,
    pub(crate) data: &'a [u8],
    /// Bytes of the whole frame.
    pub(crate) len: usize,
}

/// The frame at the start of `b`: `Ok(None)` when more bytes are needed, `Err` when the
/// header breaks the framing.
pub(crate) fn frame(b: &[u8]) -> Result<Option<Frame<'_>>, &'static str> {
    let Some(h) = b.get(..6) else {
        // Check what is there already: the protocol id must be 0.
        return match b.get(2..) {
            Some(p) if p.iter().take(2).any(|x| *x != 0) => Err("modbus protocol id is not 0"),
            _ => Ok(None),
        };
    };
    if h[2] != 0 || h[3] != 0 {
        return Err("modbus protocol id is not 0");
    }
    let length = usize::from(u16::from_be_bytes([h[4], h[5]]));
    if !(2..=MAX_LENGTH).contains(&length) {
        return Err("modbus length out of range");
    }
    let len = 6 + length;
    let Some(f) = b.get(..len) else { return Ok(None) };
    Ok(Some(Frame { unit: f[6], function: f[7], data: &f[8..], len }))
}

/// The public function codes' names (specification section 5.1).
pub(crate) fn function_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "Read Coils",
        2 => "Read Discrete Inputs",
        3 => "Read Holding Registers",
        4 => "Read Input Registers",
        5 => "Write Single Coil",
        6 => "Write Single Register",
        7 => "Read Exception Status",
        8 => "Diagnostics",
        11 => "Get Comm Event Counter",
        12 => "Get Comm Event Log",
        15 => "Write Multiple Coils",
        16 => "Write Multiple Registers",
        17 => "Report Server ID",
        20 => "Read File Record",
        21 => "Write File Record",
        22 => "Mask Write Register",
        23 => "Read/Write Multiple Registers",
        24 => "Read FIFO Queue",
        43 => "Encapsulated Interface Transport",
        _ => return None,
    })
}

/// The exception codes' names (specification section 7).
pub(crate) fn exception_name(code: u8) -> &'static str {
    match code {
        1 => "Illegal Function",
        2 => "Illegal Data Address",
        3 => "Illegal Data Value",
        4 => "Server Device Failure",
        5 => "Acknowledge",
        6 => "Server Device Busy",
        8 => "Memory Parity Error",
        10 => "Gateway Path Unavailable",
        11 => "Gateway Target Device Failed to Respond",
        _ => "Unknown Exception",
    }
}

/// Whether a PDU has the shape the specification gives its function, as a request or as a
/// response (the probe does not trust the direction). `data` follows the function code.
pub(crate) fn plausible(function: u8, data: &[u8]) -> bool {
    let n = data.len();
    let u16_at = |i: usize| data.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let byte_count_fits = || data.first().is_some_and(|c| usize::from(*c) + 1 == n);
    match function {
        // Requests: address and quantity; responses: a byte count and that many bytes.
        1 | 2 => (n == 4 && u16_at(2).is_some_and(|q| (1..=2000).contains(&q))) || byte_count_fits(),
        3 | 4 => {
            (n == 4 && u16_at(2).is_some_and(|q| (1..=125).contains(&q)))
                || (byte_count_fits() && !n.is_multiple_of(2))
        }
        5 => n == 4 && u16_at(2).is_some_and(|v| v == 0xff00 || v == 0),
        6 => n == 4,
        7 => n <= 1,
        8 => n >= 2 && n.is_multiple_of(2),
        11 => n == 0 || n == 4,
        12 => n == 0 || byte_count_fits(),
        17 => n == 0 || byte_count_fits(),
        // Requests: address, quantity, byte count, values; responses: address and quantity.
        15 | 16 => n == 4 || data.get(4).is_some_and(|c| usize::from(*c) + 5 == n),
        20 | 21 => byte_count_fits(),
        22 => n == 6,
        23 => data.get(8).is_some_and(|c| usize::from(*c) + 9 == n) || byte_count_fits(),
        24 => n == 2 || u16_at(0).is_some_and(|c| usize::from(c) + 2 == n),
        // MEI 13 (CANopen) or 14 (Read Device Identification).
        43 => matches!(data.first(), Some(13 | 14)),
        // An exception: the code of a public function with the high bit, and one known code.
        f if f & 0x80 != 0 => {
            function_name(f & 0x7f).is_some() && n == 1 && matches!(data[0], 1..=6 | 8 | 10 | 11)
        }
        _ => false,
    }
}

/// One object of a Read Device Identification response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeviceObject<'a> {
    pub(crate) id: u8,
    pub(crate) value: &'a [u8],
}

/// The objects of a Read Device Identification response (function 43, MEI type 14):
/// MEI type, read device id code, conformity level, more follows, next object id, number
/// of objects, then each object's id, length and value. `data` follows the function code.
pub(crate) fn device_identification(
    data: &[u8],
    mut each: impl FnMut(DeviceObject<'_>),
) -> Result<(), &'static str> {
    let Some(&[14, _code, _conformity, _more, _next, count]) = data.get(..6) else {
        return Err("modbus device identification header truncated");
    };
    let mut rest = data.get(6..).unwrap_or_default();
    for _ in 0..count {
        let Some(&[id, len]) = rest.get(..2) else {
            return Err("modbus device identification object truncated");
        };
        let Some(value) = rest.get(2..2 + usize::from(len)) else {
            return Err("modbus device identification object runs past its frame");
        };
        each(DeviceObject { id, value });
        rest = &rest[2 + usize::from(len)..];
    }
    Ok(())
}
