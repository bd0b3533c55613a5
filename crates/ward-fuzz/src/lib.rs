//! The bodies of Ward's fuzz targets. Each takes arbitrary bytes and must return without a
//! panic, whatever they hold; each also checks the invariants its parser promises. The
//! `fuzz/` crate wraps them for cargo-fuzz (libFuzzer), and this crate's tests replay a seed
//! corpus (tcpdump's crash reproducers, the sample capture) through them on stable Rust.
//!
//! This crate holds no logic of Ward's own: only the harnesses.

pub mod intel;
pub mod outside;
pub mod seeds;

pub use intel::{intel_config, intel_csv, intel_domain_list, intel_ip_list, intel_stix, intel_taxii};

use std::io::Cursor;

use std::net::{IpAddr, Ipv4Addr};
use ward_capture::{CaptureReader, CaptureSet, LinkType, ReaderOptions};

use ward_core::{Direction, Endpoint, IpProto, Observation, ObservationKind, Timestamp, Vlans};
use ward_dissect::{
    DissectStats, Dissector, Emitter, FlowContext, FlowDissection, FrameContext, FrameDissector,
    MAX_VALUE_LEN, OBSERVATIONS_PER_DATAGRAM, OBSERVATIONS_PER_FLOW, Registry, Transport,
};
use ward_flow::decode::{self, Anomalies, Net};
use ward_flow::reassembly::{Budget, Reassembler, ReassemblyLimits, ReassemblyStats, StreamEvent};
use ward_sensor::{Sensor, SensorConfig, Sightings};

fn small_chunks() -> ReaderOptions {
    ReaderOptions { chunk_size: 4096, first_chunk_size: 4096, mmap: false }
}

/// The capture readers over a whole file's bytes: pcap or pcapng, any damage.
pub fn capture_file(data: &[u8]) {
    let Ok(mut r) = CaptureReader::from_read("fuzz.pcap", Cursor::new(data.to_vec()), small_chunks()) else {
        return;
    };
    let mut total = 0usize;
    let res = r.for_each_packet(|p, bytes| {
        assert_eq!(bytes.len(), p.caplen as usize, "a packet's bytes are all in its chunk");
        total += bytes.len();
    });
    assert!(total <= data.len(), "more packet bytes than file bytes");
    if let Err(e) = res {
        assert!(e.to_string().contains("fuzz.pcap"), "errors name the file: {e}");
    }
}

/// The layer 2-4 decoder on one frame; the first byte picks the link type.
pub fn decode_frame(data: &[u8]) {
    const LINKS: [LinkType; 9] = [
        LinkType::ETHERNET,
        LinkType::LINUX_SLL,
        LinkType::LINUX_SLL2,
        LinkType::RAW,
        LinkType::IPV4,
        LinkType::IPV6,
        LinkType::NULL,
        LinkType::LOOP,
        LinkType(105),
    ];
    let Some((&first, frame)) = data.split_first() else { return };
    let link = LINKS[usize::from(first) % LINKS.len()];
    let snapped = first & 0x80 != 0;
    let orig = frame.len() as u32 + if snapped { 100 } else { 0 };
    let mut anomalies = Anomalies::default();
    let f = decode::decode(link, frame, orig, &mut anomalies);
    if let Net::Ip(ip) = f.net {
        assert!(ip.payload.len() <= frame.len());
        let _ = decode::decode_transport(ip.proto, ip.payload, ip.src.is_ipv6(), &mut anomalies);
    }
    let _ = decode::shard_hash(link, frame);
}

/// The whole sensor (decode, fragments, flows, reassembly, dissectors) on a capture whose
/// packets are carved out of the input: each record is a 2-byte length and that many bytes.
pub fn sensor(data: &[u8]) {
    use ward_capture::write::{ByteOrder, PcapWriter};
    let Some((&link_pick, mut rest)) = data.split_first() else { return };
    let link = if link_pick & 1 == 0 { LinkType::ETHERNET } else { LinkType::RAW };
    let Ok(mut w) = PcapWriter::new(Vec::new(), link, ByteOrder::Little, true) else { return };
    let mut t = 1_700_000_000_000_000_000u64;
    while rest.len() >= 3 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])) % 1600;
        t += u64::from(rest[2]) * 1_000_000_000 / 8;
        rest = &rest[3..];
        let take = len.min(rest.len());
        if w.packet(Timestamp::from_nanos(t), &rest[..take], take as u32).is_err() {
            return;
        }
        rest = &rest[take..];
    }
    let Ok(bytes) = w.finish() else { return };
    let Ok(reader) = CaptureReader::from_read("fuzz.pcap", Cursor::new(bytes), small_chunks()) else {
        return;
    };
    let mut cfg = SensorConfig { threads: 1, ..SensorConfig::default() };
    // Small caps so that the fuzzer reaches them.
    cfg.flow.max_flows = 64;
    cfg.defrag.max_datagrams = 8;
    cfg.defrag.max_bytes = 16 << 10;
    cfg.reassembly.depth = 4096;
    cfg.reassembly.max_buffered_per_stream = 2048;
    cfg.reassembly_budget = 8192;
    let sensor = Sensor::new(cfg, Registry::builtin());
    let mut sightings = Sightings::new();
    let report = sensor
        .run(&mut CaptureSet::new(vec![reader]), |batch| batch.iter().for_each(|o| sightings.observe(o)));
    let summary = ward_sensor::Summary::new(&sightings, &report, Vec::new());
    assert_eq!(summary.flows, report.counters.flows.created);
}

/// The ARP dissector on one ARP payload.
pub fn arp(data: &[u8]) {
    let ctx = FrameContext { ts: Timestamp::ZERO, src_mac: None, dst_mac: None, vlans: Vlans::default() };
    let mut out = Vec::new();
    let _ = ward_dissect::arp::ArpDissector.dissect(&ctx, data, &mut Emitter::new(&mut out, 16));
    assert!(out.len() <= 2);
}

/// TCP reassembly over a sequence of segments described by the input: each is a 4-byte
/// sequence offset, a length byte and a flag byte (SYN, ACK or FIN-like finish).
pub fn reassembly(data: &[u8]) {
    let limits = ReassemblyLimits { depth: 1 << 14, max_buffered_per_stream: 4096 };
    let mut budget = Budget::new(6000);
    let mut stats = ReassemblyStats::default();
    let mut r = Reassembler::new();
    let (mut delivered, mut gaps) = (0u64, 0u64);
    let mut sink = |e: StreamEvent<'_>| match e {
        StreamEvent::Data(d) => delivered += d.len() as u64,
        StreamEvent::Gap(n) => gaps += n,
    };
    let payload = [0x5au8; 255];
    for rec in data.chunks_exact(6) {
        let seq = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let len = usize::from(rec[4]);
        match rec[5] % 4 {
            0 => r.syn(seq),
            1 => r.acked(seq, &limits, &mut budget, &mut stats, &mut sink),
            _ => r.segment(seq, &payload[..len], &limits, &mut budget, &mut stats, &mut sink),
        }
        assert!(r.buffered() <= limits.max_buffered_per_stream);
    }
    r.finish(&limits, &mut budget, &mut stats, &mut sink);
    assert_eq!(budget.used(), 0, "every buffered byte is released at the end");
    assert!(delivered <= limits.depth);
    assert!(delivered + gaps <= r.position().max(delivered + gaps));
}

/// What every dissector promises of its observations: values cut to length and free of
/// control characters.
fn check_observations(out: &[Observation]) {
    for o in out {
        if let ObservationKind::Attribute { value, .. } = &o.kind {
            assert!(value.len() <= MAX_VALUE_LEN, "value over the length cap");
            assert!(!value.chars().any(char::is_control), "control character in {value:?}");
            assert!(!value.trim().is_empty(), "empty value");
        }
    }
}

/// One flow dissector fed a conversation carved out of the input, through the real per-flow
/// probing: each record is a control byte (bit 0: from the responder; bit 1: a gap instead
/// of data, on TCP; bit 2 of the first: the responder is a multicast group; bit 3 of the
/// first: which of two dissectors, for targets that hold two), a 2-byte length, and that
/// many bytes. The flow ends after the last record.
fn flow_target(d: impl Dissector + 'static, data: &[u8]) {
    let transport = d.transport();
    let reg = Registry::empty().with(Box::new(d));
    let group = data.first().is_some_and(|c| c & 4 != 0);
    let responder = if group { Ipv4Addr::new(224, 0, 0, 251) } else { Ipv4Addr::new(10, 0, 0, 2) };
    let ctx = FlowContext {
        ts: Timestamp::from_secs(1_700_000_000),
        uid: 1,
        vlans: Vlans::default(),
        proto: if transport == Transport::Tcp { IpProto::TCP } else { IpProto::UDP },
        initiator: Endpoint { ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), port: 40000, mac: None },
        responder: Endpoint { ip: IpAddr::V4(responder), port: 5353, mac: None },
    };
    let mut fd = FlowDissection::start(&reg, transport);
    let (mut out, mut stats) = (Vec::new(), DissectStats::default());
    let mut rest = data;
    let mut datagrams = 0;
    while rest.len() >= 3 {
        let ctl = rest[0];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]]));
        rest = &rest[3..];
        let take = len.min(rest.len());
        let (bytes, tail) = rest.split_at(take);
        rest = tail;
        let dir = if ctl & 1 == 0 { Direction::ToResponder } else { Direction::ToInitiator };
        match transport {
            Transport::Tcp if ctl & 2 != 0 => fd.on_gap(dir, take as u64 + 1, &mut stats),
            Transport::Tcp => fd.on_stream(&reg, &ctx, dir, bytes, &mut out, &mut stats),
            Transport::Udp => {
                datagrams += 1;
                fd.on_datagram(&reg, &ctx, dir, bytes, &mut out, &mut stats)
            }
        };
    }
    fd.on_end(&ctx, &mut out, &mut stats);
    // TCP flows have a cap over the whole flow; UDP ones one per datagram (and the flow's
    // end may flush what waited for answers).
    let cap = OBSERVATIONS_PER_FLOW + datagrams * OBSERVATIONS_PER_DATAGRAM;
    assert!(out.len() <= cap, "the observation caps hold");
    check_observations(&out);
}

/// One frame dissector on one payload.
fn frame_target(d: &dyn FrameDissector, data: &[u8]) {
    let ctx = FrameContext { ts: Timestamp::ZERO, src_mac: None, dst_mac: None, vlans: Vlans::default() };
    let mut out = Vec::new();
    let _ = d.dissect(&ctx, data, &mut Emitter::new(&mut out, 64));
    check_observations(&out);
}

/// DHCPv4, or DHCPv6 when bit 3 of the first byte is set; one datagram each record.
pub fn dhcp(data: &[u8]) {
    if data.first().is_some_and(|b| b & 8 == 0) {
        flow_target(ward_dissect::dhcp::Dhcp4Dissector, data);
    } else {
        flow_target(ward_dissect::dhcp::Dhcp6Dissector, data);
    }
}

/// DNS, mDNS and LLMNR (bit 2 of the first byte picks the multicast group), and NetBIOS
/// names when bit 3 is set.
pub fn dns(data: &[u8]) {
    if data.first().is_some_and(|b| b & 8 != 0) {
        flow_target(ward_dissect::nbns::NbnsDissector, data);
    } else {
        flow_target(ward_dissect::dns::DnsDissector, data);
    }
}

/// LLDP (first byte even) or CDP (odd) on one frame payload.
pub fn lldp(data: &[u8]) {
    let Some((&pick, payload)) = data.split_first() else { return };
    if pick & 1 == 0 {
        frame_target(&ward_dissect::lldp::LldpDissector, payload);
    } else {
        frame_target(&ward_dissect::cdp::CdpDissector, payload);
    }
}

/// HTTP/1.x conversations.
pub fn http(data: &[u8]) {
    flow_target(ward_dissect::http::HttpDissector, data);
}

/// SSDP datagrams.
pub fn ssdp(data: &[u8]) {
    flow_target(ward_dissect::ssdp::SsdpDissector, data);
}

/// TLS handshakes.
pub fn tls(data: &[u8]) {
    flow_target(ward_dissect::tls::TlsDissector, data);
}

/// SOCKS handshakes and their tunnels.
pub fn socks(data: &[u8]) {
    flow_target(ward_dissect::socks::SocksDissector, data);
}

/// SNMP datagrams.
pub fn snmp(data: &[u8]) {
    flow_target(ward_dissect::snmp::SnmpDissector, data);
}

/// NTP datagrams.
pub fn ntp(data: &[u8]) {
    flow_target(ward_dissect::ntp::NtpDissector, data);
}

/// FTP conversations, or Telnet ones when bit 3 of the first byte is set.
pub fn logins(data: &[u8]) {
    if data.first().is_some_and(|b| b & 8 == 0) {
        flow_target(ward_dissect::ftp::FtpDissector, data);
    } else {
        flow_target(ward_dissect::telnet::TelnetDissector, data);
    }
}

/// HL7 v2 over MLLP.
pub fn hl7(data: &[u8]) {
    flow_target(ward_dissect::hl7::Hl7Dissector, data);
}

/// Classification rule files: any text is compiled or refused with an error naming the file,
/// and rules that compile classify facts made of the same text (under every fact key)
/// without a panic, deriving only their six keys.
pub fn classification_rules(data: &[u8]) {
    use ward_inventory::classify::{DERIVED_KEYS, FACT_KEYS, Rules};
    let text = String::from_utf8_lossy(data);
    let rules = match Rules::from_toml("fuzz.toml", &text) {
        Ok(rules) => rules,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml"), "an error names its file: {e}");
            return;
        }
    };
    let values: Vec<&str> = text.lines().take(4).collect();
    let facts: Vec<ward_core::Fact> = FACT_KEYS
        .iter()
        .zip(values.iter().cycle())
        .map(|(key, value)| ward_core::Fact {
            key: (*key).to_owned(),
            value: (*value).to_owned(),
            source: "fuzz.field".to_owned(),
            confidence: 70,
            first_seen: Timestamp::from_secs(1),
            last_seen: Timestamp::from_secs(2),
        })
        .collect();
    for f in rules.classify(&facts) {
        assert!(DERIVED_KEYS.contains(&f.key.as_str()), "derived {}", f.key);
        assert!(f.source.starts_with("rule:") && f.confidence <= 70);
    }
}

/// The vulnerability documents and version ranges; the first byte picks the reader:
/// 0 recognise and read any document, 1 CSAF, 2 NVD, 3 KEV and EPSS CSV, 4 a version
/// range and a version (two lines), 5 provider lists and CPE names. What reads is matched
/// against a device made of the input's words, so matching runs on arbitrary advisories.
pub fn vuln_documents(data: &[u8]) {
    use ward_vuln::document::{self, Document};
    use ward_vuln::matching::{Catalog, DeviceProfile};
    use ward_vuln::version::{InRange, Version, VersionRange};
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.lines();
    let device = DeviceProfile {
        id: 1,
        vendor: lines.next().map(str::to_owned),
        model: lines.next().map(str::to_owned),
        firmware: lines.next().map(str::to_owned),
    };
    let mut advisories = Vec::new();
    match mode % 6 {
        0 => {
            if let Ok(Document::Advisories(list)) = document::read(rest) {
                for (a, r) in list {
                    assert_eq!(r.sha256.len(), 64);
                    advisories.push(a);
                }
            }
        }
        1 => advisories.extend(ward_vuln::csaf::parse(rest).ok()),
        2 => advisories.extend(ward_vuln::nvd::parse(rest).unwrap_or_default()),
        3 => {
            let _ = ward_vuln::exploited::Kev::parse_csv(rest);
            let _ = ward_vuln::exploited::Epss::parse_csv(rest);
        }
        4 => {
            let mut l = text.splitn(3, '\n');
            let (range, a, b) = (l.next().unwrap_or(""), l.next().unwrap_or(""), l.next().unwrap_or(""));
            let r = VersionRange::parse(range);
            let (va, vb) = (Version::parse(a), Version::parse(b));
            if let (Some(x), Some(y)) = (&va, &vb) {
                assert_eq!(x.cmp(y), y.cmp(x).reverse(), "{a:?} {b:?}");
                assert_eq!(x.cmp(x), std::cmp::Ordering::Equal);
            }
            let inside = r.contains(va.as_ref());
            if va.is_none() && !matches!(r, VersionRange::All) {
                assert_eq!(inside, InRange::Unknown, "no version is never a certain answer");
            }
            // The fixed version a range implies is outside it.
            if let Some(fix) = r.fixed_in() {
                assert_eq!(r.contains(Some(fix)), InRange::No, "{range:?} holds its own fix");
            }
        }
        _ => {
            let _ = ward_vuln::fetch::rolie_entries(rest, "http://127.0.0.1/feed.json");
            let _ = ward_vuln::fetch::directory_entries(rest, "http://127.0.0.1/dir");
            let _ = ward_vuln::cpe::Cpe::parse(&text);
            let _ = ward_vuln::fetch::join(lines.next().unwrap_or(""), &text);
        }
    }
    if !advisories.is_empty() {
        let catalog = Catalog::new(advisories, Default::default(), Default::default());
        let found = catalog.match_devices(&[device]);
        for f in &found.findings {
            assert!(!f.advisories.is_empty(), "a finding names its source");
            assert!(!f.patch_available || f.fixed_version.is_some(), "a patch needs a fixed version");
        }
    }
}

/// Policy files: any text is read or refused with errors that name the file and a line; a
/// policy that reads is resolved against a small inventory (IPv4 and IPv6 devices known by
/// number, MAC and address), decides a few conversations, checks them and compiles to
/// nftables in both modes, without a panic.
pub fn policy(data: &[u8]) {
    use ward_policy::check::Conversation;
    use ward_policy::nft::{NftOptions, OWNER_MARK};
    use ward_policy::{Action, Context, DeviceInfo, Policy};
    // Half the inputs are read against the taxonomy, half with any class name accepted, so
    // that class selectors resolve too.
    let Some((&pick, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let classes = if pick & 1 == 0 {
        ward_inventory::classify::taxonomy().iter().map(|c| c.id.to_owned()).collect()
    } else {
        Vec::new()
    };
    let policy = match Policy::parse(&text, "fuzz.toml", &Context { classes }) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.0.is_empty(), "a refusal says why");
            for err in &e.0 {
                assert_eq!(err.file, "fuzz.toml");
                assert!(err.line >= 1 && err.column >= 1, "{err}");
            }
            return;
        }
    };
    let ip = |s: &str| -> IpAddr { s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)) };
    let dev = |id: i64, ips: &[&str], mac: u8, class: &str, vendor: &str| DeviceInfo {
        id,
        ips: ips.iter().map(|s| ip(s)).collect(),
        macs: vec![ward_core::Mac([0x00, 0x1b, 0, 0, 0, mac])],
        vlans: vec![u16::from(mac) * 10],
        class: Some(class.to_owned()),
        vendor: Some(vendor.to_owned()),
        label: class.to_owned(),
        clinical: class == "infusion_pump",
    };
    let devices = [
        dev(1, &["10.10.5.21"], 1, "infusion_pump", "B. Braun"),
        dev(2, &["10.20.1.10", "fd00::10"], 2, "ct_modality", "Siemens Healthineers"),
        dev(3, &["10.40.0.30"], 3, "pacs", "Sectra"),
        dev(4, &["172.16.4.4", "2001:db8::4"], 4, "phone", "Apple"),
        dev(5, &["10.0.0.1"], 5, "switch", "Cisco"),
    ];
    let resolved = policy.resolve(&devices);
    let peers =
        ["10.10.5.21", "10.20.1.10", "10.40.0.30", "172.16.4.4", "93.184.216.34", "fd00::10", "2001:db8::4"];
    let mut conversations = Vec::new();
    for (i, s) in peers.iter().enumerate() {
        let d = peers[(i * 3 + 1) % peers.len()];
        let (proto, port) = [(6u8, 443u16), (17, 53), (1, 0), (6, 23)][i % 4];
        let decision = resolved.decide(ip(s), ip(d), proto, port);
        assert!(matches!(decision.action, Action::Allow | Action::Deny));
        conversations.push(Conversation {
            src: ip(s),
            src_port: Some(40000),
            dst: ip(d),
            proto,
            port,
            app: None,
            first: Timestamp::from_secs(1_700_000_000),
            last: Timestamp::from_secs(1_700_000_060),
            flows: 1,
            answered: true,
        });
    }
    let _ = resolved.check(&devices, &conversations);
    for monitor in [false, true] {
        let ruleset = resolved.compile_nft(&NftOptions { monitor, ..NftOptions::default() });
        assert!(ruleset.contains(OWNER_MARK), "the table is marked as Ward's");
    }
}

/// DICOM associations.
pub fn dicom(data: &[u8]) {
    flow_target(ward_dissect::dicom::DicomDissector, data);
}

/// MQTT conversations.
pub fn mqtt(data: &[u8]) {
    flow_target(ward_dissect::mqtt::MqttDissector, data);
}

/// Modbus/TCP conversations.
pub fn modbus(data: &[u8]) {
    flow_target(ward_dissect::modbus::ModbusDissector, data);
}

/// BACnet/IP datagrams.
pub fn bacnet(data: &[u8]) {
    flow_target(ward_dissect::bacnet::BacnetDissector, data);
}

/// POCT1-A conversations.
pub fn poct1a(data: &[u8]) {
    flow_target(ward_dissect::poct::Poct1aDissector, data);
}

/// Alert exports: the text as an `[[export]]` file (read, or refused with an error that says
/// it is about exports), each of its lines as a receiver's `Retry-After`, and its pieces as
/// an alert's text fields, which every format must keep in place: syslog's six header fields
/// stay printable ASCII and the structured data follows them, a CEF line has no line break
/// and its seven header delimiters, and JSON reads back to the same alert.
pub fn export(data: &[u8]) {
    use ward_export::format::{cef, json, syslog};
    let text = String::from_utf8_lossy(data);
    match ward_export::ExportFile::parse(&text) {
        Ok(file) => {
            for (i, c) in file.export.iter().enumerate() {
                assert!(c.check(i).is_ok());
            }
        }
        Err(e) => assert!(e.to_string().starts_with("export "), "{e}"),
    }
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    for line in text.lines().take(64) {
        let _ = ward_export::retry_after(line, now);
    }
    let mut pieces = text.split('\u{0}').map(str::to_owned);
    let mut piece = || pieces.next().unwrap_or_default();
    let alert = ward_core::Alert {
        id: data.len() as i64,
        ts: Timestamp::from_nanos(u64::from(data.first().copied().unwrap_or(0)) << 40),
        last_seen: Timestamp::from_nanos(u64::from(data.last().copied().unwrap_or(0)) << 40),
        count: 1,
        severity: ward_core::Severity::Medium,
        kind: piece(),
        device: None,
        peer: None,
        flow: None,
        source: Some(piece()),
        indicator: Some(piece()),
        confidence: Some(50),
        evidence: piece(),
        message: piece(),
        state: piece(),
        key: piece(),
    };
    let header = syslog::Header { facility: 16, hostname: piece(), procid: piece() };
    for body in [syslog::Body::StructuredData, syslog::Body::Cef] {
        let m = syslog::format(&alert, &header, body);
        let fields: Vec<&str> = m.splitn(7, ' ').collect();
        assert_eq!(fields.len(), 7, "{m}");
        assert!(
            fields[..6].iter().all(|f| !f.is_empty() && f.bytes().all(|b| (33..=126).contains(&b))),
            "{m}"
        );
        match body {
            syslog::Body::StructuredData => assert!(fields[6].starts_with("[ward@32473 id=\""), "{m}"),
            syslog::Body::Cef => assert!(fields[6].starts_with("- CEF:0|"), "{m}"),
        }
    }
    let line = cef::format(&alert);
    assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
    let mut delimiters = 0;
    let mut escaped = false;
    for c in line.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '|') => delimiters += 1,
            _ => {}
        }
    }
    // Seven in the header; extension values may hold more.
    assert!(delimiters >= 7, "{line}");
    let back: ward_core::Alert = serde_json::from_slice(&json::format(&alert)).expect("JSON reads back");
    assert_eq!(back, alert);
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// All targets, by name.
pub const TARGETS: [(&str, Target); 31] = [
    ("capture_file", capture_file),
    ("decode_frame", decode_frame),
    ("sensor", sensor),
    ("arp", arp),
    ("reassembly", reassembly),
    ("dhcp", dhcp),
    ("dns", dns),
    ("lldp", lldp),
    ("http", http),
    ("ssdp", ssdp),
    ("tls", tls),
    ("socks", socks),
    ("snmp", snmp),
    ("ntp", ntp),
    ("logins", logins),
    ("hl7", hl7),
    ("dicom", dicom),
    ("mqtt", mqtt),
    ("modbus", modbus),
    ("bacnet", bacnet),
    ("poct1a", poct1a),
    ("classification_rules", classification_rules),
    ("vuln_documents", vuln_documents),
    ("policy", policy),
    ("export", export),
    ("intel_ip_list", intel_ip_list),
    ("intel_csv", intel_csv),
    ("intel_domain_list", intel_domain_list),
    ("intel_stix", intel_stix),
    ("intel_taxii", intel_taxii),
    ("intel_config", intel_config),
];
