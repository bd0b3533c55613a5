//! A deterministic synthetic hospital policy and the inventory it is written against, for
//! benchmarks and golden tests of large policies (`policy(10_000, 200, 50_000)` is the size
//! W5's figures are measured on). Nothing in it comes from a real network: names, addresses
//! and classes follow fixed patterns and a seeded generator, so the same sizes give the same
//! text and devices every time.
//!
//! The shape is a hospital's: one infrastructure segment, a quarantine, guest Wi-Fi, server
//! segments, biomedical engineering, and wards, imaging suites, labs, building systems and
//! offices (one segment each, a /22 with a VLAN, some with an IPv6 /64); placement by class;
//! rules between segments, classes, vendors, devices and the internet (a few hundred for 200
//! segments); an allowlist on every device (the entries are spread over the devices) and a
//! denylist on one in twenty.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_core::Mac;

use crate::resolve::DeviceInfo;

/// What a segment is for: its name's stem, the classes placed there, its postures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Infrastructure,
    Quarantine,
    Guest,
    Servers,
    Biomed,
    Clinical,
    Imaging,
    Lab,
    Building,
    Corporate,
}

impl Kind {
    fn stem(self) -> &'static str {
        match self {
            Kind::Infrastructure => "infrastructure",
            Kind::Quarantine => "quarantine",
            Kind::Guest => "guest",
            Kind::Servers => "servers",
            Kind::Biomed => "biomed",
            Kind::Clinical => "ward",
            Kind::Imaging => "imaging",
            Kind::Lab => "lab",
            Kind::Building => "building",
            Kind::Corporate => "office",
        }
    }

    /// Taxonomy class ids (docs/taxonomy.md) of the devices that live there.
    fn classes(self) -> &'static [&'static str] {
        match self {
            Kind::Infrastructure => &["server", "switch", "router", "firewall"],
            Kind::Quarantine => &[],
            Kind::Guest => &["phone", "tablet"],
            Kind::Servers => {
                &["ehr_server", "clinical_gateway", "pacs", "modality_worklist", "poct_data_manager"]
            }
            Kind::Biomed => &["workstation"],
            Kind::Clinical => &[
                "infusion_pump",
                "patient_monitor",
                "ventilator",
                "anesthesia_machine",
                "dialysis_machine",
                "ecg_device",
                "medication_cabinet",
            ],
            Kind::Imaging => &[
                "ct_modality",
                "mr_modality",
                "us_modality",
                "xray_modality",
                "imaging_workstation",
                "dicom_printer",
            ],
            Kind::Lab => &["lab_analyser", "point_of_care_device"],
            Kind::Building => &[
                "building_automation",
                "temperature_sensor",
                "badge_reader",
                "ip_camera",
                "plc",
                "ups",
                "nurse_call",
                "rtls",
                "iot_gateway",
            ],
            Kind::Corporate => &["workstation", "printer", "voip_phone"],
        }
    }

    fn vendors(self) -> &'static [&'static str] {
        match self {
            Kind::Clinical => {
                &["B. Braun", "Baxter", "BD Alaris", "Philips", "GE Healthcare", "Draeger", "Mindray"]
            }
            Kind::Imaging => {
                &["Siemens Healthineers", "GE Healthcare", "Philips", "Canon Medical", "Fujifilm"]
            }
            Kind::Lab => &["Roche", "Abbott", "Sysmex", "Beckman Coulter"],
            Kind::Servers => &["Epic", "Sectra", "Agfa", "InterSystems", "Dell"],
            Kind::Building => {
                &["Siemens", "Johnson Controls", "Honeywell", "Axis", "HID", "Schneider Electric"]
            }
            Kind::Guest => &["Apple", "Samsung"],
            _ => &["Dell", "HP", "Lenovo", "Cisco", "Aruba"],
        }
    }

    /// Inbound, outbound, intra.
    fn postures(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Infrastructure | Kind::Biomed | Kind::Corporate => ("deny", "allow", "allow"),
            Kind::Quarantine | Kind::Guest => ("deny", "deny", "deny"),
            _ => ("deny", "deny", "allow"),
        }
    }

    fn clinical(self) -> bool {
        matches!(self, Kind::Clinical | Kind::Imaging | Kind::Lab)
    }
}

/// The kinds after the first five, in a repeating pattern: most segments are wards,
/// buildings and offices.
const PATTERN: [Kind; 10] = [
    Kind::Clinical,
    Kind::Building,
    Kind::Clinical,
    Kind::Corporate,
    Kind::Imaging,
    Kind::Clinical,
    Kind::Building,
    Kind::Lab,
    Kind::Clinical,
    Kind::Corporate,
];

/// A small deterministic generator (SplitMix64).
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
}

struct Seg {
    name: String,
    kind: Kind,
    /// The first address of its /22.
    base: u32,
    v6: Option<u128>,
    devices: Vec<usize>,
}

fn kind_of(i: usize) -> Kind {
    match i {
        0 => Kind::Infrastructure,
        1 => Kind::Quarantine,
        2 => Kind::Guest,
        3 => Kind::Servers,
        4 => Kind::Biomed,
        // A server segment every 40, a guest network every 100.
        _ if i.is_multiple_of(40) => Kind::Servers,
        _ if i % 100 == 2 => Kind::Guest,
        _ => PATTERN[i % PATTERN.len()],
    }
}

/// A policy of `segments` segments (at least 5), `devices` devices and `allow_entries`
/// allowlist entries in all, as TOML, with the devices it is written against (ids from 1).
pub fn policy(devices: usize, segments: usize, allow_entries: usize) -> (String, Vec<DeviceInfo>) {
    let mut draw = Draw(0x5741_5244_5f35);
    let segments = segments.max(5);
    let mut segs: Vec<Seg> = (0..segments)
        .map(|i| {
            let kind = kind_of(i);
            let n = (0..i).filter(|&j| kind_of(j) == kind).count() + 1;
            let name = match kind {
                Kind::Infrastructure | Kind::Quarantine => kind.stem().to_owned(),
                _ => format!("{}_{n:03}", kind.stem()),
            };
            // Guests on 172.16/12, everything else on 10.16/12, a /22 each.
            let (a, b) = if kind == Kind::Guest { (172u32, 16u32) } else { (10, 16) };
            let base = (a << 24) | (b << 16) | ((i as u32 % 1024) << 10);
            let v6 =
                (i % 4 == 1 || kind == Kind::Servers).then_some((0xfd00_u128 << 112) | ((i as u128) << 64));
            Seg { name, kind, base, v6, devices: Vec::new() }
        })
        .collect();

    // Devices: round robin over the segments that hold devices.
    let homes: Vec<usize> = (0..segs.len()).filter(|&i| segs[i].kind != Kind::Quarantine).collect();
    let mut infos = Vec::with_capacity(devices);
    for d in 0..devices {
        let s = homes[d % homes.len()];
        let seg = &mut segs[s];
        let k = seg.devices.len() as u32;
        seg.devices.push(d);
        let id = d as i64 + 1;
        let classes = seg.kind.classes();
        let class = classes[draw.below(classes.len())];
        let vendors = seg.kind.vendors();
        let vendor = vendors[draw.below(vendors.len())];
        // A /22 holds 1,022 hosts; past that, addresses repeat (only at sizes far beyond W5's).
        let mut ips = vec![IpAddr::V4(Ipv4Addr::from(seg.base + 10 + k % 1000))];
        if let Some(v6) = seg.v6
            && d % 3 == 0
        {
            ips.push(IpAddr::V6(Ipv6Addr::from(v6 | u128::from(0x100 + k))));
        }
        let n = id as u64;
        infos.push(DeviceInfo {
            id,
            ips,
            macs: vec![Mac([0x00, 0x1b, 0x57, (n >> 16) as u8, (n >> 8) as u8, n as u8])],
            vlans: vec![100 + s as u16],
            class: Some(class.to_owned()),
            vendor: Some(vendor.to_owned()),
            label: format!("#{id} {class} {vendor}"),
            clinical: seg.kind.clinical(),
        });
    }

    let mut t = String::with_capacity(64 * allow_entries + 512 * segments + 1024);
    let _ = writeln!(
        t,
        "# Synthetic hospital policy: {segments} segments, {devices} devices, {allow_entries} allowlist entries.\n\
         # Made by ward_policy::synthetic::policy; nothing in it comes from a real network.\n\n\
         [policy]\nname = \"synthetic hospital\"\nlog = true\n\n[outside]\ninbound = \"allow\"\noutbound = \"deny\"\n"
    );
    for (i, s) in segs.iter().enumerate() {
        let (inbound, outbound, intra) = s.kind.postures();
        let mut cidrs = format!("\"{}/22\"", Ipv4Addr::from(s.base));
        if let Some(v6) = s.v6 {
            let _ = write!(cidrs, ", \"{}/64\"", Ipv6Addr::from(v6));
        }
        let _ = writeln!(
            t,
            "[[segment]]\nname = \"{}\"\ncidrs = [{cidrs}]\nvlans = [{}]\ninbound = \"{inbound}\"\noutbound = \"{outbound}\"\nintra = \"{intra}\"\n",
            s.name,
            100 + i
        );
    }

    // Placement: each kind's classes in that kind's segments; clinical kinds exclusive.
    let kinds = [
        Kind::Infrastructure,
        Kind::Servers,
        Kind::Clinical,
        Kind::Imaging,
        Kind::Lab,
        Kind::Building,
        Kind::Biomed,
        Kind::Corporate,
        Kind::Guest,
        Kind::Quarantine,
    ];
    let names_of = |k: Kind| -> Vec<String> {
        segs.iter().filter(|s| s.kind == k).map(|s| format!("\"{}\"", s.name)).collect()
    };
    for k in kinds {
        let names = names_of(k);
        if names.is_empty() {
            continue;
        }
        let classes: Vec<String> = k.classes().iter().map(|c| format!("\"{c}\"")).collect();
        // Workstations belong in offices and in biomed: one placement for both.
        if k == Kind::Biomed {
            continue;
        }
        let segs_list = if k == Kind::Corporate { [names, names_of(Kind::Biomed)].concat() } else { names };
        let _ = writeln!(
            t,
            "[[placement]]\nsegments = [{}]\nclasses = [{}]\nexclusive = {}\n",
            segs_list.join(", "),
            classes.join(", "),
            k.clinical() || k == Kind::Quarantine
        );
    }

    // Rules.
    let seg_sel = |k: Kind| -> Vec<String> {
        segs.iter().filter(|s| s.kind == k).map(|s| format!("\"segment:{}\"", s.name)).collect()
    };
    let rule = |t: &mut String, name: &str, from: &[String], to: &[String], traffic: &str, action: &str| {
        if from.is_empty() || to.is_empty() {
            return;
        }
        let _ = writeln!(
            t,
            "[[rule]]\nname = \"{name}\"\nfrom = [{}]\nto = [{}]\n{traffic}action = \"{action}\"\n",
            from.join(", "),
            to.join(", ")
        );
    };
    let one = |s: &str| vec![format!("\"{s}\"")];
    rule(&mut t, "no-telnet", &one("any"), &one("any"), "proto = \"tcp\"\nports = [23]\n", "deny");
    let inside: Vec<String> = segs
        .iter()
        .filter(|s| !matches!(s.kind, Kind::Guest | Kind::Quarantine | Kind::Infrastructure))
        .map(|s| format!("\"segment:{}\"", s.name))
        .collect();
    let infra = seg_sel(Kind::Infrastructure);
    rule(
        &mut t,
        "core-services",
        &inside,
        &infra,
        "services = [\"dns\", \"dns-tcp\", \"ntp\", \"syslog\"]\n",
        "allow",
    );
    rule(
        &mut t,
        "quarantine-dhcp-dns",
        &seg_sel(Kind::Quarantine),
        &infra,
        "services = [\"dhcp\", \"dns\"]\n",
        "allow",
    );
    let guests = seg_sel(Kind::Guest);
    rule(
        &mut t,
        "guest-internet",
        &guests,
        &one("internet"),
        "services = [\"http\", \"https\", \"dns\"]\n",
        "allow",
    );
    rule(&mut t, "guest-no-hospital", &guests, &one("10.0.0.0/8"), "", "deny");
    let medical: Vec<String> = [seg_sel(Kind::Clinical), seg_sel(Kind::Imaging), seg_sel(Kind::Lab)].concat();
    rule(&mut t, "clinical-never-internet", &medical, &one("internet"), "", "deny");
    let biomed = seg_sel(Kind::Biomed);
    rule(&mut t, "biomed-service-access", &biomed, &medical, "services = [\"https\", \"ssh\"]\n", "allow");
    rule(
        &mut t,
        "staff-to-ehr",
        &[seg_sel(Kind::Corporate), biomed.clone()].concat(),
        &one("class:ehr_server"),
        "services = [\"https\"]\n",
        "allow",
    );
    rule(
        &mut t,
        "pumps-to-gateways",
        &one("class:infusion_pump"),
        &one("class:clinical_gateway"),
        "services = [\"https\"]\n",
        "allow",
    );
    rule(
        &mut t,
        "philips-monitors-to-gateways",
        &one("vendor:philips"),
        &one("class:clinical_gateway"),
        "proto = \"tcp\"\nports = [\"24100-24105\"]\n",
        "allow",
    );
    for s in segs.iter() {
        let me = vec![format!("\"segment:{}\"", s.name)];
        match s.kind {
            Kind::Clinical => {
                rule(
                    &mut t,
                    &format!("{}-hl7", s.name),
                    &me,
                    &[one("class:clinical_gateway"), one("class:ehr_server")].concat(),
                    "services = [\"hl7\"]\n",
                    "allow",
                );
            }
            Kind::Imaging => rule(
                &mut t,
                &format!("{}-to-pacs", s.name),
                &me,
                &[one("class:pacs"), one("class:modality_worklist")].concat(),
                "services = [\"dicom\", \"dicom-tls\"]\n",
                "allow",
            ),
            Kind::Lab => rule(
                &mut t,
                &format!("{}-results", s.name),
                &me,
                &one("class:poct_data_manager"),
                "proto = \"tcp\"\nports = [2575, \"6660-6669\"]\n",
                "allow",
            ),
            Kind::Building => rule(
                &mut t,
                &format!("{}-cloud", s.name),
                &me,
                &one("198.51.100.0/24"),
                "services = [\"https\", \"mqtts\"]\n",
                "allow",
            ),
            _ => {}
        }
    }
    // Wards that must never be reached from an office, whatever a later rule allows.
    let offices: Vec<&Seg> = segs.iter().filter(|s| s.kind == Kind::Corporate).collect();
    for (n, s) in segs.iter().filter(|s| s.kind == Kind::Clinical).enumerate().step_by(4) {
        if let Some(o) = offices.get(n % offices.len().max(1)) {
            rule(
                &mut t,
                &format!("{}-not-from-{}", s.name, o.name),
                &[format!("\"segment:{}\"", o.name)],
                &[format!("\"segment:{}\"", s.name)],
                "",
                "deny",
            );
        }
    }
    // Device-to-device exceptions: a service laptop to one pump, a modality to a printer.
    for n in 0..(devices / 100).min(100) {
        let a = draw.below(devices) as i64 + 1;
        let b = draw.below(devices) as i64 + 1;
        if a == b {
            continue;
        }
        let port = 1024 + draw.below(60_000);
        rule(
            &mut t,
            &format!("exception-{n:03}"),
            &[format!("\"device:{a}\"")],
            &[format!("\"device:{b}\"")],
            &format!("proto = \"tcp\"\nports = [{port}]\n"),
            "allow",
        );
    }

    // Device lists: the entries spread over every device, between 1 and twice the mean.
    let mean = allow_entries.checked_div(devices).unwrap_or(0);
    let spare = allow_entries - mean * devices;
    let servers: Vec<usize> = segs
        .iter()
        .filter(|s| matches!(s.kind, Kind::Servers | Kind::Infrastructure))
        .flat_map(|s| s.devices.clone())
        .collect();
    // Entries towards other segments never name guest Wi-Fi: one device in twenty denies it.
    let hospital: Vec<usize> = (0..segs.len()).filter(|&i| segs[i].kind != Kind::Guest).collect();
    let mut left_over = 0usize;
    for (d, info) in infos.iter().enumerate() {
        let s = homes[d % homes.len()];
        let seg = &segs[s];
        let mut count = mean + usize::from(d < spare);
        // Pairs of devices trade entries so that lists differ in length and the total holds.
        if d % 2 == 0 && d + 1 < devices && mean > 1 {
            let j = draw.below(mean);
            left_over = j;
            count -= j;
        } else if d % 2 == 1 {
            count += left_over;
            left_over = 0;
        }
        let mut allow = Vec::with_capacity(count);
        for _ in 0..count {
            let e = match draw.below(10) {
                // A server or core service.
                0..=5 if !servers.is_empty() => infos[servers[draw.below(servers.len())]].ips[0].to_string(),
                // A neighbour on the same segment.
                0..=7 if !seg.devices.is_empty() => {
                    let peer = &infos[seg.devices[draw.below(seg.devices.len())]];
                    peer.ips[peer.ips.len() - 1].to_string()
                }
                // A management subnet or a small range of another segment.
                8 => {
                    let o = &segs[hospital[draw.below(hospital.len())]];
                    format!("{}/26", Ipv4Addr::from(o.base + 64 * draw.below(16) as u32))
                }
                _ => {
                    let o = &segs[hospital[draw.below(hospital.len())]];
                    let a = o.base + 10 + draw.below(900) as u32;
                    format!("{}-{}", Ipv4Addr::from(a), Ipv4Addr::from(a + 4))
                }
            };
            allow.push(format!("\"{e}\""));
        }
        let device = match d % 3 {
            0 => format!("ip:{}", info.ips[0]),
            1 => info.id.to_string(),
            _ => format!("mac:{}", info.macs[0]),
        };
        let _ = write!(t, "[[device]]\ndevice = \"{device}\"\nallow = [{}]\n", allow.join(", "));
        if d % 20 == 7 && seg.kind != Kind::Guest {
            let _ = writeln!(t, "deny = [\"172.16.0.0/12\", \"203.0.113.{}\"]", d % 250);
        }
        t.push('\n');
    }
    (t, infos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, Policy};

    #[test]
    fn the_synthetic_policy_has_the_sizes_asked_for_and_reads_cleanly() {
        let (text, devices) = policy(1_000, 40, 5_000);
        assert_eq!(devices.len(), 1_000);
        let ctx = Context {
            classes: ward_inventory::classify::taxonomy().iter().map(|c| c.id.to_owned()).collect(),
        };
        let p = match Policy::parse(&text, "synthetic.toml", &ctx) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.segments.len(), 40);
        assert_eq!(p.devices.len(), 1_000);
        // Entries as written (a list's ranges merge once read).
        let raw: toml::Table = toml::from_str(&text).expect("toml");
        let entries: usize = raw["device"]
            .as_array()
            .expect("devices")
            .iter()
            .map(|d| d.get("allow").and_then(|a| a.as_array()).map_or(0, Vec::len))
            .sum();
        assert_eq!(entries, 5_000);
        assert!(p.rules.len() > 40, "{}", p.rules.len());
        // Every device is in a segment, and every list names a device of the inventory.
        let r = p.resolve(&devices);
        assert!(devices.iter().all(|d| r.zone_of(d.ips[0]) != crate::OUTSIDE));
        assert_eq!(r.lists.len(), 1_000);
        // Same sizes, same text.
        assert_eq!(policy(1_000, 40, 5_000).0, text);
    }
}
