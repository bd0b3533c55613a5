//! A deterministic synthetic hospital inventory, for benchmarks, tests and timing the
//! command line on a large store (`cargo run --example synthetic -- N ward.db`). Nothing in
//! it comes from a real network: names, addresses and versions are drawn from fixed lists
//! with a seeded generator, so the same `(count, seed)` gives the same inventory every time.
//! Its classes are the taxonomy's ids (docs/taxonomy.md), so what a synthetic device is reads
//! like a real one.

use std::net::{IpAddr, Ipv4Addr};

use ward_core::{
    Classification, CommEdge, Derived, Device, DeviceId, DeviceKey, EventKind, Fact, InventoryEvent, IpRange,
    Lifecycle, Mac, Service, Timestamp,
};

use crate::{ChangeSet, DeviceRecord, Import};

/// Classes with a vendor list, models, criticality and the services they offer.
struct Kind {
    class: &'static str,
    vendors: &'static [&'static str],
    models: &'static [&'static str],
    criticality: &'static str,
    services: &'static [(u8, u16, &'static str)],
}

const WEB: (u8, u16, &str) = (6, 443, "https");
const SNMP: (u8, u16, &str) = (17, 161, "snmp");
const DICOM: (u8, u16, &str) = (6, 104, "dicom");
const HL7: (u8, u16, &str) = (6, 2575, "hl7");

const KINDS: &[Kind] = &[
    Kind {
        class: "infusion_pump",
        vendors: &["B. Braun", "Baxter", "BD Alaris", "Fresenius Kabi"],
        models: &["Space", "Sigma Spectrum", "8015", "Agilia"],
        criticality: "critical",
        services: &[WEB, SNMP, (6, 2000, "")],
    },
    Kind {
        class: "patient_monitor",
        vendors: &["Philips", "GE Healthcare", "Mindray", "Draeger"],
        models: &["IntelliVue MX450", "CARESCAPE B650", "BeneVision N12", "Infinity M540"],
        criticality: "critical",
        services: &[HL7, SNMP, (17, 24005, "")],
    },
    Kind {
        class: "ventilator",
        vendors: &["Draeger", "Hamilton Medical", "Philips"],
        models: &["Evita V800", "C6", "V60"],
        criticality: "critical",
        services: &[WEB, SNMP, (6, 5000, "")],
    },
    Kind {
        class: "anesthesia_machine",
        vendors: &["GE Healthcare", "Draeger"],
        models: &["Aisys CS2", "Perseus A500"],
        criticality: "critical",
        services: &[HL7, SNMP, WEB],
    },
    Kind {
        class: "ecg_device",
        vendors: &["Zoll", "Philips", "Stryker"],
        models: &["R Series", "HeartStart MRx", "LIFEPAK 15"],
        criticality: "critical",
        services: &[WEB, SNMP, (6, 8080, "http")],
    },
    Kind {
        class: "ct_modality",
        vendors: &["Siemens Healthineers", "GE Healthcare", "Philips", "Canon Medical"],
        models: &["SOMATOM go.Top", "Revolution CT", "Incisive CT", "Aquilion ONE"],
        criticality: "high",
        services: &[DICOM, WEB, (6, 22, "ssh")],
    },
    Kind {
        class: "mr_modality",
        vendors: &["Siemens Healthineers", "GE Healthcare", "Philips"],
        models: &["MAGNETOM Vida", "SIGNA Premier", "Ingenia Elition"],
        criticality: "high",
        services: &[DICOM, WEB, (6, 22, "ssh")],
    },
    Kind {
        class: "xray_modality",
        vendors: &["Carestream", "Fujifilm", "Philips", "Agfa"],
        models: &["DRX-Evolution", "FDR Smart X", "DigitalDiagnost C90", "DR 600"],
        criticality: "high",
        services: &[DICOM, WEB, SNMP],
    },
    Kind {
        class: "us_modality",
        vendors: &["GE Healthcare", "Philips", "Samsung Medison"],
        models: &["LOGIQ E10", "EPIQ Elite", "HS70A"],
        criticality: "high",
        services: &[DICOM, WEB, SNMP],
    },
    Kind {
        class: "pacs",
        vendors: &["Sectra", "Agfa", "Philips"],
        models: &["IDS7", "Enterprise Imaging", "Vue PACS"],
        criticality: "high",
        services: &[DICOM, WEB, (6, 11112, "dicom")],
    },
    Kind {
        class: "lab_analyser",
        vendors: &["Roche", "Abbott", "Sysmex", "Beckman Coulter"],
        models: &["cobas 8000", "Alinity ci", "XN-1000", "DxH 900"],
        criticality: "high",
        services: &[HL7, (6, 3001, ""), SNMP],
    },
    Kind {
        class: "hl7_engine",
        vendors: &["InterSystems", "NextGen"],
        models: &["HealthShare", "Mirth Connect"],
        criticality: "high",
        services: &[HL7, WEB, (6, 6661, "hl7")],
    },
    Kind {
        class: "ehr_server",
        vendors: &["Epic", "Oracle Health"],
        models: &["Hyperspace", "Millennium"],
        criticality: "high",
        services: &[WEB, (6, 1433, "mssql"), (6, 22, "ssh")],
    },
    Kind {
        class: "nurse_call",
        vendors: &["Ascom", "Rauland", "Hillrom"],
        models: &["Teleco", "Responder 5", "Voalte"],
        criticality: "medium",
        services: &[WEB, (17, 5060, "sip"), SNMP],
    },
    Kind {
        class: "building_automation",
        vendors: &["Siemens", "Johnson Controls", "Honeywell"],
        models: &["PXC4", "FX-PCG", "Spyder"],
        criticality: "medium",
        services: &[(17, 47808, "bacnet"), WEB, SNMP],
    },
    Kind {
        class: "plc",
        vendors: &["Schneider Electric", "Siemens"],
        models: &["M221", "S7-1200"],
        criticality: "medium",
        services: &[(6, 502, "modbus"), WEB, SNMP],
    },
    Kind {
        class: "temperature_sensor",
        vendors: &["Vaisala", "Elpro"],
        models: &["viewLinc RFL100", "LIBERO"],
        criticality: "medium",
        services: &[(6, 1883, "mqtt"), WEB, SNMP],
    },
    Kind {
        class: "printer",
        vendors: &["HP", "Zebra", "Brother", "Lexmark"],
        models: &["LaserJet M607", "ZT410", "HL-L6200", "MS826"],
        criticality: "medium",
        services: &[(6, 9100, "jetdirect"), WEB, SNMP],
    },
    Kind {
        class: "printer",
        vendors: &["Zebra", "Brady"],
        models: &["ZD421", "i7100"],
        criticality: "medium",
        services: &[(6, 9100, "jetdirect"), WEB, SNMP],
    },
    Kind {
        class: "voip_phone",
        vendors: &["Cisco", "Polycom", "Yealink"],
        models: &["CP-8845", "VVX 450", "T54W"],
        criticality: "medium",
        services: &[(17, 5060, "sip"), WEB, SNMP],
    },
    Kind {
        class: "ip_camera",
        vendors: &["Axis", "Hikvision", "Hanwha"],
        models: &["P3265-LVE", "DS-2CD2143", "XNV-8080R"],
        criticality: "medium",
        services: &[(6, 554, "rtsp"), WEB, SNMP],
    },
    Kind {
        class: "badge_reader",
        vendors: &["HID", "Genetec"],
        models: &["VertX V1000", "Synergis"],
        criticality: "medium",
        services: &[WEB, SNMP, (6, 4050, "")],
    },
    Kind {
        class: "workstation",
        vendors: &["Dell", "HP", "Lenovo"],
        models: &["OptiPlex 7090", "EliteDesk 800", "ThinkCentre M90"],
        criticality: "low",
        services: &[(6, 445, "smb"), (6, 3389, "rdp"), (6, 135, "")],
    },
    Kind {
        class: "workstation",
        vendors: &["Dell", "Lenovo", "Apple"],
        models: &["Latitude 5440", "ThinkPad T14", "MacBook Pro"],
        criticality: "low",
        services: &[(6, 445, "smb"), (6, 22, "ssh"), (17, 5353, "mdns")],
    },
    Kind {
        class: "phone",
        vendors: &["Apple", "Samsung"],
        models: &["iPhone 15", "Galaxy S24"],
        criticality: "low",
        services: &[(17, 5353, "mdns"), (6, 62078, ""), (17, 1900, "ssdp")],
    },
    Kind {
        class: "tablet",
        vendors: &["Apple", "Samsung", "Zebra"],
        models: &["iPad Air", "Galaxy Tab S9", "ET40"],
        criticality: "low",
        services: &[(17, 5353, "mdns"), (6, 62078, ""), (17, 1900, "ssdp")],
    },
    Kind {
        class: "switch",
        vendors: &["Cisco", "Aruba", "Juniper"],
        models: &["Catalyst 9300", "CX 6300", "EX4400"],
        criticality: "medium",
        services: &[(6, 22, "ssh"), WEB, SNMP],
    },
    Kind {
        class: "access_point",
        vendors: &["Cisco", "Aruba", "Ubiquiti"],
        models: &["C9120AXI", "AP-535", "U6-Pro"],
        criticality: "medium",
        services: &[(6, 22, "ssh"), WEB, SNMP],
    },
    Kind {
        class: "server",
        vendors: &["Dell", "HPE", "Lenovo"],
        models: &["PowerEdge R750", "ProLiant DL380", "ThinkSystem SR650"],
        criticality: "high",
        services: &[(6, 22, "ssh"), WEB, (6, 5432, "postgresql")],
    },
    Kind {
        class: "medication_cabinet",
        vendors: &["Omnicell", "BD Pyxis"],
        models: &["XT", "MedStation ES"],
        criticality: "high",
        services: &[WEB, (6, 1433, "mssql"), SNMP],
    },
];

/// The 2026-01-01 epoch second: synthetic devices live in 2026.
const BASE_SECS: u64 = 1_767_225_600;

/// A small deterministic generator (SplitMix64): no dependency, same stream everywhere.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        items.get(self.below(items.len())).copied()
    }
}

fn derived(value: &str, source: &str, confidence: u8) -> Option<Derived> {
    Some(Derived { value: value.into(), source: source.into(), confidence })
}

fn secs(s: u64) -> Timestamp {
    Timestamp::from_secs(s)
}

/// The address of device `id` in its VLAN's /16 (10.vlan.x.y), `renumber` shifting it the
/// way a DHCP lease change would.
fn address(vlan: u16, id: i64, renumber: u32) -> IpAddr {
    let host = (u32::try_from(id).unwrap_or(0).wrapping_add(renumber * 7919)) % 65_000 + 10;
    IpAddr::V4(Ipv4Addr::new(10, (vlan % 250) as u8, (host >> 8) as u8, host as u8))
}

/// One synthetic device with the id `id` (1-based), with about 15 facts, 2 address ranges
/// and 3 services.
pub fn device(id: i64, seed: u64) -> DeviceRecord {
    let mut d = Draw(seed ^ (id as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let kind = &KINDS[d.below(KINDS.len())];
    let vendor = d.pick(kind.vendors).unwrap_or("Unknown");
    let model = d.pick(kind.models).unwrap_or("Unknown");
    let firmware = format!("{}.{}.{}", 1 + d.below(9), d.below(20), d.below(100));
    let vlan = 10 * (1 + (KINDS.iter().position(|k| k.class == kind.class).unwrap_or(0) % 12)) as u16;
    let n = id as u64;
    let mac = Mac([0x00, 0x1b, (n >> 24) as u8, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    let old_ip = address(vlan, id, 1);
    let ip = address(vlan, id, 0);
    let first = BASE_SECS + d.below(200 * 24) as u64 * 3600;
    let renumbered = first + 3600 * (1 + d.below(24 * 30)) as u64;
    let last = renumbered + 3600 * (1 + d.below(24 * 30)) as u64;
    let os = match kind.class {
        "workstation" | "server" | "ehr_server" => "Windows 10",
        "phone" | "tablet" => "iOS 17",
        _ => "embedded Linux",
    };
    let hostname = format!("{}-{id:06}", kind.class.replace('_', "-"));
    let fact = |key: &str, value: &str, source: &str, confidence: u8| Fact {
        key: key.into(),
        value: value.into(),
        source: source.into(),
        confidence,
        first_seen: secs(first),
        last_seen: secs(last),
    };
    let facts = vec![
        fact("hostname", &hostname, "dhcp.option12", 80),
        fact("vendor_class", &format!("{vendor} {model}"), "dhcp.option60", 70),
        fact("dhcp_fingerprint", "1,3,6,15,28,42", "dhcp.option55", 60),
        fact("oui_vendor", vendor, "oui", 50),
        fact("vendor", vendor, &format!("rule:{}-vendor dhcp.option60", kind.class), 80),
        fact("model", model, "snmp.sysDescr", 85),
        fact("firmware", &firmware, "snmp.sysDescr", 85),
        fact("os", os, "dhcp.option55", 40),
        fact("class", kind.class, &format!("rule:{} dhcp.option60", kind.class), 90),
        fact("sys_name", &hostname, "snmp.sysName", 90),
        fact("sys_descr", &format!("{vendor} {model} firmware {firmware}"), "snmp.sysDescr", 90),
        fact("lldp_system", &hostname, "lldp.system_name", 85),
        fact("http_server", &format!("{vendor}-httpd/{firmware}"), "http.server", 60),
        fact("tls_sni", &format!("{}.{}.example", hostname, "ward"), "tls.sni", 50),
        fact("mdns_service", "_http._tcp.local", "mdns.ptr", 40),
    ];
    let ip_ranges = vec![
        IpRange { ip: old_ip, first_seen: secs(first), last_seen: secs(renumbered) },
        IpRange { ip, first_seen: secs(renumbered), last_seen: secs(last) },
    ];
    let services = kind
        .services
        .iter()
        .map(|&(proto, port, app)| Service {
            proto,
            port,
            app: (!app.is_empty()).then(|| app.to_string()),
            flows: 1 + d.below(5_000) as u64,
            first_seen: secs(first),
            last_seen: secs(last),
        })
        .collect();
    let device = Device {
        id: DeviceId(id),
        keys: vec![DeviceKey::Mac(mac), DeviceKey::Ip(ip)],
        macs: vec![mac],
        ips: vec![ip],
        vlans: vec![vlan],
        randomized_mac: false,
        router: false,
        first_seen: secs(first),
        last_seen: secs(last),
        classification: Classification {
            class: derived(kind.class, &format!("rule:{} dhcp.option60", kind.class), 90),
            vendor: derived(vendor, &format!("rule:{}-vendor dhcp.option60", kind.class), 80),
            model: derived(model, "snmp.sysDescr", 85),
            firmware: derived(&firmware, "snmp.sysDescr", 85),
            os: derived(os, "dhcp.option55", 40),
            criticality: derived(kind.criticality, &format!("rule:{}", kind.class), 90),
        },
        description: Some(format!("{} {vendor} {model}", kind.class.replace('_', " "))),
        state: if d.below(20) == 0 { Lifecycle::Stale } else { Lifecycle::Active },
    };
    DeviceRecord { device, facts, ip_ranges, services }
}

/// A change set creating devices `first..first + count` (ids from 1), each with a
/// `NewDevice` event and about `edges_per_device` communication rows towards the first 50
/// devices (the servers everyone talks to), plus an import row.
pub fn change_set(first: i64, count: usize, edges_per_device: usize, seed: u64) -> ChangeSet {
    let mut changes = ChangeSet::default();
    let mut d = Draw(seed.wrapping_add(first as u64));
    for id in first..first + count as i64 {
        let record = device(id, seed);
        changes.events.push(InventoryEvent {
            ts: record.device.first_seen,
            device: DeviceId(id),
            kind: EventKind::NewDevice,
            old: None,
            new: record.device.classification.class.as_ref().map(|c| c.value.clone()),
            evidence: "dhcp.option60".into(),
        });
        let hour = i64::try_from(record.device.last_seen.as_secs() / 3600).unwrap_or(0);
        for e in 0..edges_per_device {
            // Any id below `first + count` is stored already or written by this set.
            let known = usize::try_from(first - 1).unwrap_or(0) + count;
            let responder = 1 + d.below(known.min(50)) as i64;
            changes.edges.push(CommEdge {
                initiator: DeviceId(id),
                responder: DeviceId(responder),
                proto: 6,
                port: [104, 443, 2575, 161][e % 4],
                app: ["dicom", "https", "hl7", "snmp"][e % 4].into(),
                hour: hour - e as i64,
                flows: 1 + d.below(100) as u64,
                packets: 10 + d.below(10_000) as u64,
                bytes: 1_000 + d.below(10_000_000) as u64,
            });
        }
        changes.devices.push(record);
    }
    changes.import = Some(Import {
        fingerprint: format!("synthetic-{seed}-{first}-{count}"),
        source: "synthetic".into(),
        first_packet: Some(secs(BASE_SECS)),
        last_packet: Some(secs(BASE_SECS + 86_400 * 260)),
        packets: count as u64 * 1_000,
        written_at: secs(BASE_SECS + 86_400 * 260),
    });
    changes
}
