//! Modbus/TCP: which device is a Modbus server (a PLC, a building controller, a gateway to a
//! serial bus of units) and which a client, the unit ids addressed, the function codes asked
//! for (writes included, since a write to a controller changes the physical world), the
//! exceptions servers answer with, and what a server says about itself in a Read Device
//! Identification answer (vendor, product code, revision, product and model names).
//!
//! Any TCP payload could look like an MBAP header, so the probe wants the bytes to be whole
//! frames (protocol id 0, a length that ends exactly where a frame does) whose PDU has the
//! shape the specification gives its function code.

mod parser;
#[cfg(test)]
mod tests;

use ward_core::{DeviceKey, Direction};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, cleartext};
use parser::Frame;

/// The Modbus/TCP dissector.
pub struct ModbusDissector;

/// Distinct unit ids, function codes and exceptions reported per flow (each is a byte, so a
/// flow could otherwise say 256 of each).
const MAX_DISTINCT: usize = 16;

impl Dissector for ModbusDissector {
    fn name(&self) -> &'static str {
        "modbus"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        // Every byte must belong to plausible frames; a partial last frame asks for more.
        let mut rest = data;
        let mut whole = 0;
        loop {
            match parser::frame(rest) {
                Ok(Some(f)) if parser::plausible(f.function, f.data) => {
                    whole += 1;
                    rest = &rest[f.len..];
                    if rest.is_empty() {
                        return Probe::Match;
                    }
                    // Two consistent frames are enough.
                    if whole >= 2 {
                        return Probe::Match;
                    }
                }
                Ok(Some(_)) | Err(_) => return Probe::NoMatch,
                Ok(None) => return Probe::NeedMore,
            }
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(ModbusSession::default())
    }
}

#[derive(Default)]
struct ModbusSession {
    roles: bool,
    units: usize,
    functions: usize,
    exceptions: usize,
    /// A gap left this direction somewhere inside a frame, maybe: bytes that do not start a
    /// frame are dropped until one does.
    resync: [bool; 2],
    repeats: Repeats,
}

impl ModbusSession {
    /// Reports `key` = `value` on `device` unless reported, counting distinct ones in `n`.
    #[allow(clippy::too_many_arguments)]
    /// Reports `key` for a value known by `id` (a unit id, a function code), made only when
    /// it is new to the flow and fewer than [`MAX_DISTINCT`] values of the key were reported.
    #[allow(clippy::too_many_arguments)]
    fn distinct(
        repeats: &mut Repeats,
        n: &mut usize,
        out: &mut Emitter<'_>,
        ctx: &FlowContext,
        device: DeviceKey,
        key: &'static str,
        id: impl std::hash::Hash,
        value: impl FnOnce() -> String,
        source: &'static str,
    ) {
        if *n < MAX_DISTINCT && repeats.first_by(&device, key, id) {
            *n += 1;
            if let Some(o) = crate::attribute(ctx.ts, device, key, &value(), source, 80) {
                out.emit(o);
            }
        }
    }

    fn frame(&mut self, ctx: &FlowContext, dir: Direction, f: Frame<'_>, out: &mut Emitter<'_>) {
        let client = DeviceKey::Ip(ctx.initiator.ip);
        let server = DeviceKey::Ip(ctx.responder.ip);
        if !self.roles {
            self.roles = true;
            self.repeats.attribute(out, ctx.ts, server, "role", "Modbus server", "modbus", 80);
            self.repeats.attribute(out, ctx.ts, client, "role", "Modbus client", "modbus", 80);
            // Modbus has no security of its own: whoever reaches port 502 may write.
            out.emit(cleartext(ctx.ts, server, "modbus", false, "modbus"));
            out.emit(cleartext(ctx.ts, client, "modbus", false, "modbus"));
        }
        let r = &mut self.repeats;
        match dir {
            Direction::ToResponder => {
                let (unit, function) = (f.unit, f.function);
                let unit_text = || unit.to_string();
                Self::distinct(
                    r,
                    &mut self.units,
                    out,
                    ctx,
                    server,
                    "modbus_unit",
                    unit,
                    unit_text,
                    "modbus.unit_id",
                );
                let name = || match parser::function_name(function) {
                    Some(n) => format!("{function} {n}"),
                    None => function.to_string(),
                };
                Self::distinct(
                    r,
                    &mut self.functions,
                    out,
                    ctx,
                    server,
                    "modbus_function",
                    function,
                    name,
                    "modbus.func_code",
                );
            }
            Direction::ToInitiator if f.function & 0x80 != 0 => {
                let code = f.data.first().copied().unwrap_or(0);
                let function = f.function & 0x7f;
                let value = || {
                    format!(
                        "{function} {}: {code} {}",
                        parser::function_name(function).unwrap_or("Unknown Function"),
                        parser::exception_name(code)
                    )
                };
                Self::distinct(
                    r,
                    &mut self.exceptions,
                    out,
                    ctx,
                    server,
                    "modbus_exception",
                    (function, code),
                    value,
                    "modbus.exception_code",
                );
            }
            Direction::ToInitiator if f.function == 43 && f.data.first() == Some(&14) => {
                // A malformed answer is read as far as it goes: the flow's framing is intact.
                let _ = parser::device_identification(f.data, |o| {
                    let (key, source, confidence) = match o.id {
                        0x00 => ("vendor", "modbus.device_id.vendor_name", 90),
                        0x01 => ("product_code", "modbus.device_id.product_code", 90),
                        0x02 => ("revision", "modbus.device_id.major_minor_revision", 90),
                        0x04 => ("model", "modbus.device_id.product_name", 60),
                        0x05 => ("model", "modbus.device_id.model_name", 80),
                        0x06 => ("modbus_application", "modbus.device_id.user_application_name", 60),
                        _ => return,
                    };
                    let value = String::from_utf8_lossy(o.value);
                    r.attribute(out, ctx.ts, server, key, &value, source, confidence);
                });
            }
            Direction::ToInitiator => {}
        }
    }
}

impl Session for ModbusSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let mut pos = 0;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            match parser::frame(rest) {
                Ok(Some(f)) => {
                    self.resync[d] = false;
                    pos += f.len;
                    self.frame(ctx, dir, f, out);
                }
                Ok(None) => break,
                // After a gap, what does not start a frame is dropped until one does (a frame
                // is nearly always a segment of its own).
                Err(_) if self.resync[d] => return Parsed::Consumed(data.len()),
                Err(e) => return Parsed::Malformed(e),
            }
        }
        Parsed::Consumed(pos)
    }

    fn gap(&mut self, dir: Direction, _len: u64) -> bool {
        self.resync[dir.index()] = true;
        true
    }
}
