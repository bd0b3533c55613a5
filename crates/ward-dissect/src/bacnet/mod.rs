//! BACnet/IP (UDP): building controllers (air handling, chillers, isolation-room pressure,
//! lighting, fire panels) announce themselves with I-Am (device instance, ASHRAE vendor id)
//! and answer ReadProperty and ReadPropertyMultiple with their identity: vendor name, model
//! name, firmware revision, application software version, serial number, and the device
//! object's name, description and location. Answers belong to the device that sent them (for
//! a Forwarded-NPDU, the origin the BBMD names); messages a router relays from a non-IP
//! BACnet network (MS/TP devices) are not attributed to the router's IP.
//!
//! The probe runs before DNS's, so it is narrow: BVLC type 0x81, a function Annex J defines,
//! a length equal to the datagram's, and NPDU version 1 where an NPDU is carried.
//! Segmented ComplexACKs are not reassembled: they are counted and skipped.

mod parser;
#[cfg(test)]
mod tests;
mod vendors;

use ward_core::{DeviceKey, Direction};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, cleartext};
use parser::{PropertyValue, Tag};

/// The BACnet/IP dissector.
pub struct BacnetDissector;

impl Dissector for BacnetDissector {
    fn name(&self) -> &'static str {
        "bacnet"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        match parser::bvlc(data) {
            Ok(b) if b.npdu.is_none_or(|n| n.first() == Some(&1)) => Probe::Match,
            _ => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(BacnetSession::default())
    }
}

/// APDU types (clause 20.1).
const CONFIRMED_REQUEST: u8 = 0;
const UNCONFIRMED_REQUEST: u8 = 1;
const COMPLEX_ACK: u8 = 3;
/// Service choices.
const I_AM: u8 = 0;
const WHO_IS: u8 = 8;
const READ_PROPERTY: u8 = 12;
const READ_PROPERTY_MULTIPLE: u8 = 14;

#[derive(Default)]
struct BacnetSession {
    /// Segmented ComplexACKs skipped.
    segmented: u64,
    /// Messages relayed from another BACnet network, not attributed.
    routed: u64,
    repeats: Repeats,
}

/// Where a property's value goes: (key, source, confidence). Only properties of the Device
/// object name the device; the names of its points (a sensor's object-name) do not.
fn property_key(property: u32) -> Option<(&'static str, &'static str, u8)> {
    Some(match property {
        121 => ("vendor", "bacnet.device.vendor_name", 90),
        120 => ("bacnet_vendor", "bacnet.device.vendor_identifier", 90),
        70 => ("model", "bacnet.device.model_name", 90),
        44 => ("firmware", "bacnet.device.firmware_revision", 90),
        12 => ("software_version", "bacnet.device.application_software_version", 90),
        372 => ("serial", "bacnet.device.serial_number", 90),
        77 => ("bacnet_device_name", "bacnet.device.object_name", 80),
        28 => ("bacnet_description", "bacnet.device.description", 70),
        58 => ("bacnet_location", "bacnet.device.location", 70),
        _ => return None,
    })
}

impl BacnetSession {
    /// The device's first word in this flow as a BACnet device: its role and the cleartext
    /// observation.
    fn device(&mut self, ctx: &FlowContext, device: DeviceKey, out: &mut Emitter<'_>) {
        self.speaks(ctx, device, "BACnet device", 80, out);
    }

    /// A device that looks for others (Who-Is) or asks them (confirmed requests): an operator
    /// workstation or head end, or a controller binding to its peers, which its own I-Am or
    /// answers then name more surely.
    fn client(&mut self, ctx: &FlowContext, device: DeviceKey, out: &mut Emitter<'_>) {
        self.speaks(ctx, device, "BACnet client", 50, out);
    }

    fn speaks(
        &mut self,
        ctx: &FlowContext,
        device: DeviceKey,
        role: &str,
        confidence: u8,
        out: &mut Emitter<'_>,
    ) {
        if self.repeats.first(&device, "role", role) {
            if let Some(o) = crate::attribute(ctx.ts, device, "role", role, "bacnet", confidence) {
                out.emit(o);
            }
            if self.repeats.first(&device, "cleartext", "bacnet") {
                out.emit(cleartext(ctx.ts, device, "bacnet", false, "bacnet"));
            }
        }
    }

    fn property(
        &mut self,
        ctx: &FlowContext,
        device: DeviceKey,
        p: PropertyValue<'_>,
        out: &mut Emitter<'_>,
    ) {
        let Some((key, source, confidence)) = property_key(p.property) else { return };
        if p.object.0 != parser::DEVICE {
            return;
        }
        let value = match p.value {
            Some(Tag::App(7, s)) => parser::character_string(s),
            Some(Tag::App(2, v)) if p.property == 120 => parser::unsigned(v).map(vendors::name),
            _ => None,
        };
        let Some(value) = value else { return };
        self.device(ctx, device, out);
        self.repeats.attribute(out, ctx.ts, device, key, &value, source, confidence);
        let instance = p.object.1;
        if instance < 0x3f_ffff {
            let (r, text) = (&mut self.repeats, || instance.to_string());
            r.attribute_by(
                out,
                ctx.ts,
                device,
                "bacnet_device_instance",
                instance,
                text,
                "bacnet.device.object_identifier",
                80,
            );
        }
    }

    fn apdu(
        &mut self,
        ctx: &FlowContext,
        device: DeviceKey,
        apdu: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        let Some(&first) = apdu.first() else { return Ok(()) };
        match first >> 4 {
            UNCONFIRMED_REQUEST => {
                let Some((&service, params)) = apdu.get(1..).and_then(<[u8]>::split_first) else {
                    return Err("bacnet unconfirmed request truncated");
                };
                if service == I_AM {
                    let i = parser::i_am(params)?;
                    self.device(ctx, device, out);
                    let r = &mut self.repeats;
                    // Devices repeat their I-Am: nothing is formatted for a repeat.
                    let (instance, vendor) = (i.instance, i.vendor);
                    let text = || instance.to_string();
                    r.attribute_by(
                        out,
                        ctx.ts,
                        device,
                        "bacnet_device_instance",
                        instance,
                        text,
                        "bacnet.i_am.device_instance",
                        90,
                    );
                    let name = || vendors::name(vendor);
                    r.attribute_by(
                        out,
                        ctx.ts,
                        device,
                        "bacnet_vendor",
                        vendor,
                        name,
                        "bacnet.i_am.vendor_id",
                        90,
                    );
                }
                if service == WHO_IS {
                    self.client(ctx, device, out);
                }
                // The other unconfirmed services say nothing about their sender.
            }
            COMPLEX_ACK => {
                // Flags, invoke id, then (segmented) sequence number and window, then service.
                let segmented = first & 0x08 != 0;
                if segmented {
                    self.segmented += 1;
                    return Ok(());
                }
                let Some((&service, body)) = apdu.get(2..).and_then(<[u8]>::split_first) else {
                    return Err("bacnet complex ack truncated");
                };
                match service {
                    READ_PROPERTY => {
                        let p = parser::read_property_ack(body)?;
                        self.property(ctx, device, p, out);
                    }
                    READ_PROPERTY_MULTIPLE => {
                        let mut values: [Option<PropertyValue<'_>>; 16] = [None; 16];
                        let mut n = 0;
                        parser::read_property_multiple_ack(body, |p| {
                            if property_key(p.property).is_some()
                                && let Some(slot) = values.get_mut(n)
                            {
                                *slot = Some(p);
                                n += 1;
                            }
                        })?;
                        for p in values.into_iter().flatten() {
                            self.property(ctx, device, p, out);
                        }
                    }
                    _ => {}
                }
            }
            // A confirmed request names what is asked, not who asks, beyond that it asks.
            CONFIRMED_REQUEST => self.client(ctx, device, out),
            // Acks, errors, rejects, aborts: nothing about the sender.
            2 | 4..=7 => {}
            _ => return Err("bacnet apdu type unknown"),
        }
        Ok(())
    }
}

impl Session for BacnetSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let bvlc = match parser::bvlc(data) {
            Ok(b) => b,
            Err(e) => return Parsed::Malformed(e),
        };
        let Some(npdu) = bvlc.npdu else { return Parsed::Consumed(data.len()) };
        let npdu = match parser::npdu(npdu) {
            Ok(n) => n,
            Err(e) => return Parsed::Malformed(e),
        };
        if npdu.network_message {
            return Parsed::Consumed(data.len());
        }
        if npdu.routed {
            self.routed += 1;
            return Parsed::Consumed(data.len());
        }
        let sender = match (bvlc.origin, dir) {
            (Some(ip), _) => DeviceKey::Ip(ip),
            (None, Direction::ToResponder) => DeviceKey::Ip(ctx.initiator.ip),
            (None, Direction::ToInitiator) => DeviceKey::Ip(ctx.responder.ip),
        };
        match self.apdu(ctx, sender, npdu.apdu, out) {
            Ok(()) => Parsed::Consumed(data.len()),
            Err(e) => Parsed::Malformed(e),
        }
    }
}
