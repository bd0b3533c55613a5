//! The simulated hospital: VLANs, devices with real vendor OUIs, servers and the internet.

use std::net::Ipv4Addr;

use crate::rng::Rng;

/// What a device is, which decides whom it talks to and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    InfusionPump,
    PatientMonitor,
    LabAnalyser,
    Modality(&'static str),
    Pacs,
    Hl7Engine,
    Ehr,
    Dns,
    Ntp,
    Broker,
    UpdateServer,
    Workstation,
    Phone,
    VoipPhone,
    Printer,
    FridgeSensor,
    Camera,
    BadgeReader,
    /// A building automation controller (air handling, isolation rooms) speaking BACnet/IP.
    BuildingController,
    /// A plant PLC (chillers, medical gas alarms) speaking Modbus/TCP.
    Plc,
    /// The building management head end that polls both.
    Bms,
    /// A point-of-care analyser (blood glucose, blood gas) that docks and uploads over POCT1-A.
    PoctMeter,
    /// The point-of-care data manager the meters talk to.
    PoctManager,
}

#[derive(Clone, Debug)]
pub(crate) struct Host {
    pub(crate) mac: [u8; 6],
    pub(crate) ip: Ipv4Addr,
    pub(crate) vlan: u16,
    pub(crate) role: Role,
    pub(crate) name: String,
    /// Vendor and model as the device would announce them.
    pub(crate) vendor: &'static str,
    pub(crate) model: &'static str,
}

pub(crate) struct Hospital {
    pub(crate) hosts: Vec<Host>,
    pub(crate) router_mac: [u8; 6],
    pub(crate) internet: Vec<(Ipv4Addr, String)>,
}

/// A device family: role, VLAN, how many, OUIs, vendor/model pairs.
struct Family {
    role: Role,
    vlan: u16,
    count: usize,
    ouis: &'static [[u8; 3]],
    models: &'static [(&'static str, &'static str)],
    prefix: &'static str,
}

const FAMILIES: &[Family] = &[
    Family {
        role: Role::InfusionPump,
        vlan: 10,
        count: 420,
        ouis: &[
            [0x9c, 0xc8, 0xae],
            [0x58, 0x42, 0xe4],
            [0x00, 0x12, 0x21],
            [0x00, 0x03, 0xb1],
            [0xf8, 0xc6, 0x78],
        ],
        models: &[
            ("BD", "Alaris 8015"),
            ("Baxter", "Sigma Spectrum"),
            ("B. Braun", "Space"),
            ("ICU Medical", "Plum 360"),
        ],
        prefix: "pump",
    },
    Family {
        role: Role::PatientMonitor,
        vlan: 10,
        count: 310,
        ouis: &[
            [0x00, 0x09, 0x5c],
            [0x44, 0x4b, 0x5d],
            [0x00, 0x0f, 0x14],
            [0x00, 0x30, 0xe6],
            [0x00, 0xa0, 0x9a],
        ],
        models: &[
            ("Philips", "IntelliVue MX450"),
            ("GE Healthcare", "CARESCAPE B650"),
            ("Mindray", "BeneVision N12"),
            ("Draeger", "Infinity Delta"),
        ],
        prefix: "mon",
    },
    Family {
        role: Role::LabAnalyser,
        vlan: 10,
        count: 30,
        ouis: &[[0xc0, 0xa2, 0x6d], [0x20, 0xe7, 0x91], [0x00, 0x13, 0xdd]],
        models: &[
            ("Abbott", "i-STAT Alinity"),
            ("Siemens Healthineers", "Atellica"),
            ("Abbott", "Architect"),
        ],
        prefix: "lab",
    },
    Family {
        role: Role::Modality("CT"),
        vlan: 20,
        count: 12,
        ouis: &[[0xa0, 0xf2, 0x17], [0x44, 0x4b, 0x5d]],
        models: &[("GE MEDICAL SYSTEMS", "Revolution CT"), ("SIEMENS", "SOMATOM go.Up")],
        prefix: "ct",
    },
    Family {
        role: Role::Modality("MR"),
        vlan: 20,
        count: 8,
        ouis: &[[0x44, 0x4b, 0x5d], [0x88, 0xb4, 0x36]],
        models: &[("GE MEDICAL SYSTEMS", "SIGNA Premier"), ("FUJIFILM", "ECHELON Smart")],
        prefix: "mr",
    },
    Family {
        role: Role::Modality("US"),
        vlan: 20,
        count: 20,
        ouis: &[[0x00, 0x1d, 0x4a], [0x88, 0xb4, 0x36]],
        models: &[("Carestream", "Touch Prime"), ("FUJIFILM", "Sonosite PX")],
        prefix: "us",
    },
    Family {
        role: Role::Workstation,
        vlan: 40,
        count: 420,
        ouis: &[[0x00, 0x01, 0xe6], [0x00, 0x14, 0x38]],
        models: &[("HP", "EliteDesk 800"), ("HP", "ProDesk 600")],
        prefix: "ws",
    },
    Family {
        role: Role::Phone,
        vlan: 40,
        count: 160,
        ouis: &[[0x00, 0x03, 0x93], [0x02, 0x5a, 0x11]],
        models: &[("Apple", "iPhone"), ("Apple", "iPad")],
        prefix: "phone",
    },
    Family {
        role: Role::VoipPhone,
        vlan: 40,
        count: 80,
        ouis: &[[0x00, 0x04, 0xf2]],
        models: &[("Polycom", "VVX 450")],
        prefix: "voip",
    },
    Family {
        role: Role::Printer,
        vlan: 40,
        count: 45,
        ouis: &[[0x94, 0xfb, 0x29], [0x00, 0x01, 0xe6]],
        models: &[("Zebra", "ZD621"), ("HP", "LaserJet M507")],
        prefix: "prn",
    },
    Family {
        role: Role::FridgeSensor,
        vlan: 50,
        count: 150,
        ouis: &[[0x08, 0x3a, 0x8d], [0xdc, 0xa6, 0x32]],
        models: &[("Espressif", "ESP32 temperature probe"), ("Raspberry Pi", "Pi 4 logger")],
        prefix: "fridge",
    },
    Family {
        role: Role::Camera,
        vlan: 50,
        count: 60,
        ouis: &[[0xac, 0xcc, 0x8e], [0x04, 0x03, 0x12]],
        models: &[("Axis", "P3265-LVE"), ("Hikvision", "DS-2CD2143")],
        prefix: "cam",
    },
    Family {
        role: Role::BadgeReader,
        vlan: 50,
        count: 40,
        ouis: &[[0x00, 0x10, 0x8d]],
        models: &[("Johnson Controls", "iSTAR Ultra")],
        prefix: "badge",
    },
    Family {
        role: Role::BuildingController,
        vlan: 60,
        count: 36,
        ouis: &[[0x00, 0x0d, 0xe9], [0x00, 0xa0, 0x03]],
        models: &[("Siemens", "PXC5.E003"), ("Johnson Controls", "FX-PC3611")],
        prefix: "ahu",
    },
    Family {
        role: Role::Plc,
        vlan: 60,
        count: 10,
        ouis: &[[0x00, 0x80, 0xf4]],
        models: &[("Schneider Electric", "BMX P34 2020"), ("Schneider Electric", "TM221CE16R")],
        prefix: "plc",
    },
    Family {
        role: Role::PoctMeter,
        vlan: 10,
        count: 40,
        ouis: &[[0x00, 0x06, 0x66], [0x00, 0x1c, 0xc4]],
        models: &[("Nova Biomedical", "StatStrip"), ("Roche", "Accu-Chek Inform II")],
        prefix: "glu",
    },
];

/// A server: role, VLAN, last octet, OUI, vendor, model, name.
type Server = (Role, u16, u8, [u8; 3], &'static str, &'static str, &'static str);

const SERVERS: &[Server] = &[
    (Role::Pacs, 20, 5, [0x00, 0x14, 0x38], "HPE", "ProLiant DL380", "pacs"),
    (Role::Hl7Engine, 30, 10, [0x00, 0x14, 0x38], "HPE", "ProLiant DL360", "hl7engine"),
    (Role::Ehr, 30, 20, [0x00, 0x14, 0x38], "HPE", "ProLiant DL380", "ehr"),
    (Role::Broker, 30, 30, [0xdc, 0xa6, 0x32], "Raspberry Pi", "Pi 4", "mqtt"),
    (Role::Dns, 30, 53, [0x00, 0x14, 0x38], "HPE", "ProLiant DL20", "dns"),
    (Role::UpdateServer, 30, 80, [0x00, 0x14, 0x38], "HPE", "ProLiant DL20", "updates"),
    (Role::Ntp, 30, 123, [0x00, 0x14, 0x38], "HPE", "ProLiant DL20", "ntp"),
    (Role::Bms, 60, 10, [0x00, 0x14, 0x38], "HPE", "ProLiant DL20", "bms"),
    (Role::PoctManager, 30, 40, [0x00, 0x14, 0x38], "HPE", "ProLiant DL20", "poctdm"),
];

fn public_ip(rng: &mut Rng) -> Ipv4Addr {
    loop {
        let ip = Ipv4Addr::from(rng.next_u64() as u32);
        let o = ip.octets();
        let reserved = ip.is_private()
            || ip.is_loopback()
            || ip.is_link_local()
            || ip.is_multicast()
            || ip.is_broadcast()
            || ip.is_documentation()
            || o[0] == 0
            || o[0] >= 224
            || (o[0] == 100 && (64..128).contains(&o[1]));
        if !reserved {
            return ip;
        }
    }
}

const CLOUD_NAMES: &[&str] = &[
    "api.medical-cloud.example",
    "telemetry.pumpvendor.example",
    "updates.monitorvendor.example",
    "portal.ehr-vendor.example",
    "login.office.example",
    "cdn.content.example",
    "push.phone-vendor.example",
    "time.cloud.example",
    "video.cameracloud.example",
    "dicom.teleradiology.example",
];

impl Hospital {
    pub(crate) fn build(rng: &mut Rng) -> Hospital {
        let mut hosts = Vec::new();
        let mut next = [0u32; 64];
        let mac_for = |rng: &mut Rng, oui: [u8; 3]| {
            let n = rng.next_u64();
            [oui[0], oui[1], oui[2], (n >> 16) as u8, (n >> 8) as u8, n as u8]
        };
        for f in FAMILIES {
            for i in 0..f.count {
                let slot = &mut next[usize::from(f.vlan) % 64];
                *slot += 1;
                let n = *slot + 20;
                let ip = Ipv4Addr::new(10, f.vlan as u8, (n / 250) as u8, (n % 250 + 2) as u8);
                let (vendor, model) = *rng.pick(f.models);
                let oui = *rng.pick(f.ouis);
                hosts.push(Host {
                    mac: mac_for(rng, oui),
                    ip,
                    vlan: f.vlan,
                    role: f.role,
                    name: format!("{}-{:03}", f.prefix, i + 1),
                    vendor,
                    model,
                });
            }
        }
        for &(role, vlan, last, oui, vendor, model, name) in SERVERS {
            hosts.push(Host {
                mac: mac_for(rng, oui),
                ip: Ipv4Addr::new(10, vlan as u8, 0, last),
                vlan,
                role,
                name: name.to_owned(),
                vendor,
                model,
            });
        }
        let internet =
            (0..2500).map(|i| (public_ip(rng), format!("s{i}.{}", rng.pick(CLOUD_NAMES)))).collect();
        Hospital { hosts, router_mac: [0x00, 0x00, 0x0c, 0x07, 0xac, 0x01], internet }
    }

    pub(crate) fn modalities(&self) -> Vec<usize> {
        self.hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(h.role, Role::Modality(_)))
            .map(|(i, _)| i)
            .collect()
    }

    pub(crate) fn server(&self, role: Role) -> &Host {
        // Every server role exists exactly once (SERVERS above); fall back to the first host.
        self.hosts.iter().find(|h| h.role == role).unwrap_or(&self.hosts[0])
    }

    pub(crate) fn gateway(&self, vlan: u16) -> Ipv4Addr {
        Ipv4Addr::new(10, vlan as u8, 0, 1)
    }
}
