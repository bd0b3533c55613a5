//! LLDP: what switches, phones and LLDP-speaking devices say about themselves.
//!
//! System name and description, capabilities, management address, the port's VLAN (802.1),
//! and LLDP-MED's inventory: hardware, firmware and software revisions, serial number,
//! manufacturer, model, asset id and device class; the MUD URL (RFC 8520). The frame's source
//! MAC is the device.

pub mod parser;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_core::{DeviceKey, Mac, Observation};

use crate::{Emitter, FrameContext, FrameDissector, attribute, text_or_hex};

/// The LLDP frame dissector.
pub struct LldpDissector;

const OUI_8021: [u8; 3] = [0x00, 0x80, 0xc2];
const OUI_MED: [u8; 3] = [0x00, 0x12, 0xbb];
const OUI_IANA: [u8; 3] = [0x00, 0x00, 0x5e];

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// A chassis or port id: a MAC, a network address or text, by subtype.
fn id_value(v: &[u8], mac_subtype: u8) -> Option<String> {
    let (&sub, id) = v.split_first()?;
    Some(match sub {
        s if s == mac_subtype && id.len() == 6 => Mac::from_slice(id)?.to_string(),
        s if s == mac_subtype - 1 => address(id)?.to_string(),
        _ => text_or_hex(id),
    })
}

/// An IANA address family number and address.
fn address(v: &[u8]) -> Option<IpAddr> {
    match v {
        [1, a @ ..] if a.len() == 4 => Some(IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))),
        [2, a @ ..] if a.len() == 16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(a).ok()?))),
        _ => None,
    }
}

impl FrameDissector for LldpDissector {
    fn name(&self) -> &'static str {
        "lldp"
    }

    fn ether_types(&self) -> &'static [u16] {
        &[0x88cc]
    }

    fn dissect(&self, ctx: &FrameContext, payload: &[u8], out: &mut Emitter<'_>) -> Result<(), &'static str> {
        let tlvs = parser::tlvs(payload)?;
        let Some((dev, seen)) = crate::frame_source(ctx, "lldp.source") else { return Ok(()) };
        let ts = ctx.ts;
        let mut emit = |o: Option<Observation>| {
            if let Some(o) = o {
                out.emit(o);
            }
        };
        emit(Some(seen));
        for t in tlvs {
            let v = t.value;
            let o = match t.kind {
                1 => id_value(v, 4)
                    .and_then(|id| attribute(ts, dev, "lldp_chassis_id", &id, "lldp.chassis_id", 80)),
                2 => {
                    id_value(v, 3).and_then(|id| attribute(ts, dev, "lldp_port_id", &id, "lldp.port_id", 80))
                }
                4 => attribute(ts, dev, "lldp_port_description", &text(v), "lldp.port_description", 70),
                5 => attribute(ts, dev, "hostname", &text(v), "lldp.system_name", 85),
                6 => attribute(ts, dev, "sys_descr", &text(v), "lldp.system_description", 85),
                7 if v.len() >= 4 => {
                    let enabled = u16::from_be_bytes([v[2], v[3]]);
                    attribute(
                        ts,
                        dev,
                        "capabilities",
                        &parser::capability_names(enabled).join(","),
                        "lldp.capabilities",
                        80,
                    )
                }
                8 => {
                    // Length of address (including its subtype), the subtype and the address.
                    let len = usize::from(*v.first().unwrap_or(&0));
                    v.get(1..1 + len).and_then(address).filter(|a| !a.is_unspecified()).and_then(|a| {
                        attribute(
                            ts,
                            dev,
                            "management_address",
                            &a.to_string(),
                            "lldp.management_address",
                            80,
                        )
                    })
                }
                127 if v.len() >= 4 => org_specific([v[0], v[1], v[2]], v[3], &v[4..], ts, dev),
                _ => None,
            };
            emit(o);
        }
        Ok(())
    }
}

fn org_specific(
    oui: [u8; 3],
    subtype: u8,
    v: &[u8],
    ts: ward_core::Timestamp,
    dev: DeviceKey,
) -> Option<Observation> {
    match (oui, subtype) {
        (OUI_8021, 1) if v.len() == 2 => attribute(
            ts,
            dev,
            "port_vlan",
            &u16::from_be_bytes([v[0], v[1]]).to_string(),
            "lldp.8021.port_vlan",
            80,
        ),
        (OUI_8021, 3) if v.len() > 3 => {
            attribute(ts, dev, "vlan_name", &text(&v[3..]), "lldp.8021.vlan_name", 70)
        }
        (OUI_MED, 1) if v.len() >= 3 => {
            let class = match v[2] {
                1 => "endpoint class I",
                2 => "endpoint class II (media)",
                3 => "endpoint class III (communication)",
                4 => "network connectivity",
                _ => return None,
            };
            attribute(ts, dev, "lldp_med_device_class", class, "lldp.med.device_class", 85)
        }
        (OUI_MED, 5) => attribute(ts, dev, "hardware_revision", &text(v), "lldp.med.hardware", 90),
        (OUI_MED, 6) => attribute(ts, dev, "firmware", &text(v), "lldp.med.firmware", 90),
        (OUI_MED, 7) => attribute(ts, dev, "software_version", &text(v), "lldp.med.software", 90),
        (OUI_MED, 8) => attribute(ts, dev, "serial_number", &text(v), "lldp.med.serial", 90),
        (OUI_MED, 9) => attribute(ts, dev, "manufacturer", &text(v), "lldp.med.manufacturer", 90),
        (OUI_MED, 10) => attribute(ts, dev, "model", &text(v), "lldp.med.model", 90),
        (OUI_MED, 11) => attribute(ts, dev, "asset_id", &text(v), "lldp.med.asset", 80),
        (OUI_IANA, 1) => attribute(ts, dev, "mud_url", &text(v), "lldp.mud_url", 90),
        _ => None,
    }
}
