//! Application payloads, well-formed enough that Ward's dissectors (and Wireshark) read them:
//! DNS and mDNS, DHCP, NTP, TLS handshakes, HTTP, SSDP, SNMP, LLDP and CDP, FTP, HL7 over
//! MLLP, DICOM upper layer with DIMSE, and MQTT. Patient data in HL7 and DICOM is synthetic and
//! marked so.

use std::net::Ipv4Addr;

use crate::{ber, dicom};

use crate::rng::Rng;

// ---------------------------------------------------------------- DNS and mDNS

fn dns_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len().min(63) as u8);
        out.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    out.push(0);
}

/// A standard query for `name` (type A = 1, AAAA = 28, PTR = 12).
pub(crate) fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    dns_name(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m
}

/// The answer to [`dns_query`]: one A record per address (none: NXDOMAIN).
pub(crate) fn dns_answer(id: u16, name: &str, addrs: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(&id.to_be_bytes());
    let rcode = if addrs.is_empty() { 3 } else { 0 };
    m.extend_from_slice(&[0x81, 0x80 | rcode, 0, 1]);
    m.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    dns_name(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    for a in addrs {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        m.extend_from_slice(&ttl.to_be_bytes());
        m.extend_from_slice(&[0, 4]);
        m.extend_from_slice(&a.octets());
    }
    m
}

/// An mDNS announcement of a DNS-SD service: PTR, SRV, TXT and A records.
pub(crate) fn mdns_announce(
    instance: &str,
    service: &str,
    host: &str,
    port: u16,
    ip: Ipv4Addr,
    txt: &[&str],
) -> Vec<u8> {
    let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    let full = format!("{instance}.{service}");
    let rr = |m: &mut Vec<u8>, name: &str, rtype: u16, class: u16, ttl: u32, rdata: &[u8]| {
        dns_name(m, name);
        m.extend_from_slice(&rtype.to_be_bytes());
        m.extend_from_slice(&class.to_be_bytes());
        m.extend_from_slice(&ttl.to_be_bytes());
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(rdata);
    };
    let mut ptr = Vec::new();
    dns_name(&mut ptr, &full);
    rr(&mut m, service, 12, 1, 4500, &ptr);
    let mut srv = vec![0, 0, 0, 0];
    srv.extend_from_slice(&port.to_be_bytes());
    dns_name(&mut srv, host);
    rr(&mut m, &full, 33, 0x8001, 120, &srv);
    let mut t = Vec::new();
    for kv in txt {
        t.push(kv.len().min(255) as u8);
        t.extend_from_slice(&kv.as_bytes()[..kv.len().min(255)]);
    }
    rr(&mut m, &full, 16, 0x8001, 4500, &t);
    rr(&mut m, host, 1, 0x8001, 120, &ip.octets());
    m
}

// ---------------------------------------------------------------- DHCP and NTP

/// What a DHCP message says.
pub(crate) struct Dhcp<'a> {
    pub(crate) op_reply: bool,
    pub(crate) msg_type: u8,
    pub(crate) xid: u32,
    pub(crate) chaddr: [u8; 6],
    pub(crate) yiaddr: Ipv4Addr,
    pub(crate) server: Ipv4Addr,
    pub(crate) hostname: &'a str,
    pub(crate) vendor_class: &'a str,
    pub(crate) params: &'a [u8],
    pub(crate) requested: Option<Ipv4Addr>,
}

pub(crate) fn dhcp(d: &Dhcp<'_>) -> Vec<u8> {
    let mut m = vec![if d.op_reply { 2 } else { 1 }, 1, 6, 0];
    m.extend_from_slice(&d.xid.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0x80, 0]); // secs, broadcast flag
    m.extend_from_slice(&[0; 4]); // ciaddr
    m.extend_from_slice(&(if d.op_reply { d.yiaddr } else { Ipv4Addr::UNSPECIFIED }).octets());
    m.extend_from_slice(&(if d.op_reply { d.server } else { Ipv4Addr::UNSPECIFIED }).octets());
    m.extend_from_slice(&[0; 4]); // giaddr
    m.extend_from_slice(&d.chaddr);
    m.extend_from_slice(&[0; 10 + 64 + 128]);
    m.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
    let mut opt = |code: u8, data: &[u8]| {
        m.push(code);
        m.push(data.len().min(255) as u8);
        m.extend_from_slice(&data[..data.len().min(255)]);
    };
    opt(53, &[d.msg_type]);
    if d.op_reply {
        opt(54, &d.server.octets());
        opt(51, &86_400u32.to_be_bytes());
        opt(1, &[255, 255, 0, 0]);
        opt(3, &d.server.octets());
        opt(6, &d.server.octets());
    } else {
        let mut cid = vec![1];
        cid.extend_from_slice(&d.chaddr);
        opt(61, &cid);
        if let Some(r) = d.requested {
            opt(50, &r.octets());
        }
        if !d.hostname.is_empty() {
            opt(12, d.hostname.as_bytes());
        }
        if !d.vendor_class.is_empty() {
            opt(60, d.vendor_class.as_bytes());
        }
        opt(55, d.params);
    }
    m.push(255);
    m.resize(m.len().max(300), 0);
    m
}

/// An NTPv4 client request (mode 3) or server answer (mode 4).
pub(crate) fn ntp(server: bool, rng: &mut Rng) -> Vec<u8> {
    let mut m = vec![if server { 0x24 } else { 0x23 }, if server { 2 } else { 0 }, 6, 0xec];
    m.extend(rng.bytes(44));
    m
}

// ---------------------------------------------------------------- TLS

/// TLS client stacks with their own fingerprints: a browser, a Java agent, an embedded device
/// library and an old TLS 1.0 stack.
#[derive(Clone, Copy)]
pub(crate) enum TlsClient {
    Browser,
    Java,
    Embedded,
    Legacy,
}

fn ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn u16_list(items: &[u16], len_bytes: usize) -> Vec<u8> {
    let body: Vec<u8> = items.iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut out = Vec::new();
    if len_bytes == 2 {
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    } else {
        out.push(body.len() as u8);
    }
    out.extend(body);
    out
}

fn handshake_record(version: u16, msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![0x16];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    r.push(msg_type);
    r.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    r.extend_from_slice(body);
    r
}

/// A ClientHello with SNI (and ALPN where the stack sends it).
pub(crate) fn tls_client_hello(rng: &mut Rng, client: TlsClient, sni: &str) -> Vec<u8> {
    let (version, suites, groups, alpn, tls13): (u16, &[u16], &[u16], bool, bool) = match client {
        TlsClient::Browser => (
            0x0303,
            &[
                0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                0x009c, 0x009d, 0x002f, 0x0035,
            ],
            &[0x001d, 0x0017, 0x0018],
            true,
            true,
        ),
        TlsClient::Java => (
            0x0303,
            &[0x1302, 0x1301, 0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009f, 0x009e],
            &[0x0017, 0x0018, 0x0019, 0x001d],
            false,
            true,
        ),
        TlsClient::Embedded => (
            0x0303,
            &[0xc02b, 0xc02f, 0xc00a, 0xc009, 0xc013, 0xc014, 0x003c, 0x002f, 0x0035],
            &[0x0017, 0x0018],
            false,
            false,
        ),
        TlsClient::Legacy => (0x0301, &[0xc014, 0xc013, 0x0035, 0x002f, 0x000a], &[0x0017], false, false),
    };
    let mut b = Vec::with_capacity(512);
    b.extend_from_slice(&version.to_be_bytes());
    b.extend(rng.bytes(32));
    b.push(32);
    b.extend(rng.bytes(32));
    b.extend(u16_list(suites, 2));
    b.extend_from_slice(&[1, 0]);
    let mut e = Vec::new();
    let mut sn = Vec::new();
    sn.extend_from_slice(&((sni.len() + 3) as u16).to_be_bytes());
    sn.push(0);
    sn.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sn.extend_from_slice(sni.as_bytes());
    ext(&mut e, 0x0000, &sn);
    ext(&mut e, 0x0017, &[]);
    ext(&mut e, 0xff01, &[0]);
    ext(&mut e, 0x000a, &u16_list(groups, 2));
    ext(&mut e, 0x000b, &[1, 0]);
    if alpn {
        ext(&mut e, 0x0010, &[0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1']);
    }
    ext(&mut e, 0x000d, &u16_list(&[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601], 2));
    if tls13 {
        let mut ks = vec![0, 36, 0, 0x1d, 0, 32];
        ks.extend(rng.bytes(32));
        ext(&mut e, 0x0033, &ks);
        ext(&mut e, 0x002d, &[1, 1]);
        ext(&mut e, 0x002b, &[4, 0x03, 0x04, 0x03, 0x03]);
    }
    if matches!(client, TlsClient::Browser) {
        // Browsers pad the hello to 512 bytes.
        let used = 4 + b.len() + 2 + e.len() + 4;
        let pad = 512usize.saturating_sub(used + 5);
        ext(&mut e, 0x0015, &vec![0; pad]);
    }
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend(e);
    handshake_record(0x0301, 1, &b)
}

/// ServerHello, Certificate (TLS 1.2: visible) and ServerHelloDone; for TLS 1.3 the
/// certificate travels encrypted, so a ServerHello and opaque records stand in.
pub(crate) fn tls_server_flight(rng: &mut Rng, tls13: bool, cert: &[u8]) -> Vec<u8> {
    let mut sh = vec![0x03, 0x03];
    sh.extend(rng.bytes(32));
    sh.push(32);
    sh.extend(rng.bytes(32));
    if tls13 {
        sh.extend_from_slice(&[0x13, 0x01, 0]);
        let mut e = Vec::new();
        ext(&mut e, 0x002b, &[0x03, 0x04]);
        let mut ks = vec![0, 0x1d, 0, 32];
        ks.extend(rng.bytes(32));
        ext(&mut e, 0x0033, &ks);
        sh.extend_from_slice(&(e.len() as u16).to_be_bytes());
        sh.extend(e);
        let mut out = handshake_record(0x0303, 2, &sh);
        out.extend_from_slice(&[0x14, 0x03, 0x03, 0, 1, 1]);
        out.extend(tls_app_data(rng, 2400));
        return out;
    }
    sh.extend_from_slice(&[0xc0, 0x2f, 0]);
    let mut e = Vec::new();
    ext(&mut e, 0xff01, &[0]);
    ext(&mut e, 0x000b, &[1, 0]);
    sh.extend_from_slice(&(e.len() as u16).to_be_bytes());
    sh.extend(e);
    let mut out = handshake_record(0x0303, 2, &sh);
    let mut certs = Vec::new();
    certs.extend_from_slice(&((cert.len() + 3) as u32).to_be_bytes()[1..]);
    certs.extend_from_slice(&(cert.len() as u32).to_be_bytes()[1..]);
    certs.extend_from_slice(cert);
    out.extend(handshake_record(0x0303, 11, &certs));
    let mut ske = vec![3, 0, 0x17, 65, 4];
    ske.extend(rng.bytes(64));
    ske.extend_from_slice(&[4, 3, 0, 71]);
    ske.extend(rng.bytes(71));
    out.extend(handshake_record(0x0303, 12, &ske));
    out.extend(handshake_record(0x0303, 14, &[]));
    out
}

/// The client's second flight: key exchange, ChangeCipherSpec and Finished (TLS 1.2), or
/// ChangeCipherSpec and an encrypted Finished (TLS 1.3).
pub(crate) fn tls_client_finish(rng: &mut Rng, tls13: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if !tls13 {
        let mut cke = vec![65, 4];
        cke.extend(rng.bytes(64));
        out.extend(handshake_record(0x0303, 16, &cke));
    }
    out.extend_from_slice(&[0x14, 0x03, 0x03, 0, 1, 1]);
    out.extend(tls_app_data(rng, 40));
    out
}

/// Encrypted application data records carrying `len` bytes in all.
pub(crate) fn tls_app_data(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + len / 16_000 * 5 + 5);
    let mut left = len.max(1);
    while left > 0 {
        let n = left.min(16_384);
        out.extend_from_slice(&[0x17, 0x03, 0x03]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend(rng.bytes(n));
        left -= n;
    }
    out
}

// ---------------------------------------------------------------- HTTP

pub(crate) fn http_request(method: &str, host: &str, path: &str, agent: &str, body: usize) -> Vec<u8> {
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nAccept: */*\r\nConnection: close\r\n"
    );
    if body > 0 {
        r.push_str(&format!("Content-Type: application/json\r\nContent-Length: {body}\r\n"));
    }
    r.push_str("\r\n");
    let mut v = r.into_bytes();
    v.extend(std::iter::repeat_n(b'x', body));
    v
}

pub(crate) fn http_response(rng: &mut Rng, server: &str, body: usize) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nServer: {server}\r\nContent-Type: application/octet-stream\r\nContent-Length: {body}\r\nConnection: close\r\n\r\n"
    );
    let mut v = head.into_bytes();
    v.extend(rng.bytes(body));
    v
}

// ---------------------------------------------------------------- HL7 over MLLP

/// Wraps an HL7 message in MLLP framing.
fn mllp(msg: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(msg.len() + 3);
    v.push(0x0b);
    v.extend_from_slice(msg.as_bytes());
    v.extend_from_slice(&[0x1c, 0x0d]);
    v
}

/// Who sends an HL7 message.
pub(crate) struct Hl7Sender<'a> {
    pub(crate) app: &'a str,
    pub(crate) facility: &'a str,
    pub(crate) device_id: &'a str,
}

/// A device observation report (ORU^R01, IHE PCD-01) carrying synthetic vital signs for a
/// synthetic patient.
pub(crate) fn hl7_oru(rng: &mut Rng, s: &Hl7Sender<'_>, control: u64, ts: &str) -> Vec<u8> {
    let patient = rng.below(90_000) + 10_000;
    let hr = rng.range(55, 120);
    let spo2 = rng.range(90, 100);
    let msg = format!(
        "MSH|^~\\&|{app}|{fac}|HL7ENGINE|HOSPITAL|{ts}||ORU^R01^ORU_R01|{control}|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r\
PID|||SYN{patient}^^^HOSP^MR||SYNTHETIC^PATIENT{patient}^^^^^L||19700101|U\r\
PV1||I|ICU^BED{bed}^1\r\
OBR|1|{control}^{app}|{control}^{app}|182777000^monitoring of patient^SCT|||{ts}\r\
OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|{spo2}|262688^MDC_DIM_PERCENT^MDC|||||R|||{ts}||||{dev}^^{dev_uid}^EUI-64\r\
OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.2|{hr}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||{ts}||||{dev}^^{dev_uid}^EUI-64\r",
        app = s.app,
        fac = s.facility,
        dev = s.device_id,
        dev_uid = s.device_id.replace('-', ""),
        bed = patient % 40,
    );
    mllp(&msg)
}

/// The engine's commit acknowledgement.
pub(crate) fn hl7_ack(s: &Hl7Sender<'_>, control: u64, ts: &str) -> Vec<u8> {
    let msg = format!(
        "MSH|^~\\&|HL7ENGINE|HOSPITAL|{app}|{fac}|{ts}||ACK^R01^ACK|A{control}|P|2.6\rMSA|AA|{control}\r",
        app = s.app,
        fac = s.facility
    );
    mllp(&msg)
}

// ---------------------------------------------------------------- DICOM

/// DICOM UIDs used by the generator.
pub(crate) mod uid {
    pub(crate) const APP_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
    pub(crate) const VERIFICATION: &str = "1.2.840.10008.1.1";
    pub(crate) const CT_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
    pub(crate) const MR_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.4";
    pub(crate) const US_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.6.1";
    pub(crate) const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
    pub(crate) const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
    pub(crate) const DCMTK_CLASS: &str = "1.2.276.0.7230010.3.0.3.6.7";
    pub(crate) const DCMTK_VERSION: &str = "OFFIS_DCMTK_367";
}

fn uid_bytes(u: &str) -> Vec<u8> {
    let mut b = u.as_bytes().to_vec();
    if b.len() % 2 == 1 {
        b.push(0);
    }
    b
}

fn assoc_header(calling: &str, called: &str) -> Vec<u8> {
    let mut b = vec![0, 1, 0, 0];
    b.extend_from_slice(&dicom::ae(called));
    b.extend_from_slice(&dicom::ae(calling));
    b.extend_from_slice(&[0; 32]);
    b.extend(dicom::item(0x10, uid::APP_CONTEXT.as_bytes()));
    b
}

fn user_info(b: &mut Vec<u8>) {
    let mut u = Vec::new();
    u.extend(dicom::item(0x51, &16_384u32.to_be_bytes()));
    u.extend(dicom::item(0x52, uid::DCMTK_CLASS.as_bytes()));
    u.extend(dicom::item(0x55, uid::DCMTK_VERSION.as_bytes()));
    b.extend(dicom::item(0x50, &u));
}

/// A-ASSOCIATE-RQ proposing `abstract_syntax` in presentation context 1.
pub(crate) fn dicom_associate_rq(calling: &str, called: &str, abstract_syntax: &str) -> Vec<u8> {
    let mut b = assoc_header(calling, called);
    let mut pc = vec![1, 0, 0, 0];
    pc.extend(dicom::item(0x30, abstract_syntax.as_bytes()));
    pc.extend(dicom::item(0x40, uid::EXPLICIT_LE.as_bytes()));
    pc.extend(dicom::item(0x40, uid::IMPLICIT_LE.as_bytes()));
    b.extend(dicom::item(0x20, &pc));
    user_info(&mut b);
    dicom::pdu(0x01, &b)
}

/// A-ASSOCIATE-AC accepting context 1 with implicit VR little endian.
pub(crate) fn dicom_associate_ac(calling: &str, called: &str) -> Vec<u8> {
    let mut b = assoc_header(calling, called);
    let mut pc = vec![1, 0, 0, 0];
    pc.extend(dicom::item(0x40, uid::IMPLICIT_LE.as_bytes()));
    b.extend(dicom::item(0x21, &pc));
    user_info(&mut b);
    dicom::pdu(0x02, &b)
}

fn text(s: &str) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    if b.len() % 2 == 1 {
        b.push(b' ');
    }
    b
}

/// A DIMSE command set (implicit VR little endian) with its group length.
fn command(fields: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (elem, value) in fields {
        body.extend(dicom::element(0x0000, *elem, value));
    }
    let mut c = Vec::new();
    c.extend(dicom::element(0x0000, 0x0000, &(body.len() as u32).to_le_bytes()));
    c.extend(body);
    c
}

/// P-DATA-TF PDUs carrying `data` on context 1, fragmented at `max_pdv` bytes.
pub(crate) fn dicom_p_data(data: &[u8], is_command: bool, max_pdv: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / max_pdv * 12 + 12);
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(max_pdv).collect() };
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        let mut pdv = Vec::with_capacity(c.len() + 6);
        pdv.extend_from_slice(&((c.len() + 2) as u32).to_be_bytes());
        pdv.push(1);
        pdv.push(u8::from(is_command) | if i + 1 == n { 2 } else { 0 });
        pdv.extend_from_slice(c);
        out.extend(dicom::pdu(0x04, &pdv));
    }
    out
}

/// C-ECHO-RQ.
pub(crate) fn dicom_echo_rq(msg_id: u16) -> Vec<u8> {
    command(&[
        (0x0002, uid_bytes(uid::VERIFICATION)),
        (0x0100, 0x0030u16.to_le_bytes().to_vec()),
        (0x0110, msg_id.to_le_bytes().to_vec()),
        (0x0800, 0x0101u16.to_le_bytes().to_vec()),
    ])
}

/// A response command (C-ECHO-RSP 0x8030, C-STORE-RSP 0x8001) with success status.
pub(crate) fn dicom_rsp(field: u16, sop_class: &str, msg_id: u16) -> Vec<u8> {
    command(&[
        (0x0002, uid_bytes(sop_class)),
        (0x0100, field.to_le_bytes().to_vec()),
        (0x0120, msg_id.to_le_bytes().to_vec()),
        (0x0800, 0x0101u16.to_le_bytes().to_vec()),
        (0x0900, 0u16.to_le_bytes().to_vec()),
    ])
}

/// C-STORE-RQ for one instance.
pub(crate) fn dicom_store_rq(sop_class: &str, instance: &str, msg_id: u16) -> Vec<u8> {
    command(&[
        (0x0002, uid_bytes(sop_class)),
        (0x0100, 0x0001u16.to_le_bytes().to_vec()),
        (0x0110, msg_id.to_le_bytes().to_vec()),
        (0x0700, 0u16.to_le_bytes().to_vec()),
        (0x0800, 0x0000u16.to_le_bytes().to_vec()),
        (0x1000, uid_bytes(instance)),
    ])
}

/// Identity of the modality that made an image.
pub(crate) struct Modality<'a> {
    pub(crate) modality: &'a str,
    pub(crate) manufacturer: &'a str,
    pub(crate) model: &'a str,
    pub(crate) serial: &'a str,
    pub(crate) software: &'a str,
    pub(crate) station: &'a str,
}

/// An image dataset (implicit VR little endian): identity tags, synthetic patient tags and
/// `pixels` bytes of pixel data.
pub(crate) fn dicom_dataset(
    rng: &mut Rng,
    m: &Modality<'_>,
    sop_class: &str,
    instance: &str,
    pixels: usize,
) -> Vec<u8> {
    let patient = rng.below(90_000) + 10_000;
    let mut d = Vec::with_capacity(pixels + 1024);
    d.extend(dicom::element(0x0008, 0x0016, &uid_bytes(sop_class)));
    d.extend(dicom::element(0x0008, 0x0018, &uid_bytes(instance)));
    d.extend(dicom::element(0x0008, 0x0060, &text(m.modality)));
    d.extend(dicom::element(0x0008, 0x0070, &text(m.manufacturer)));
    d.extend(dicom::element(0x0008, 0x0080, &text("EXAMPLE HOSPITAL")));
    d.extend(dicom::element(0x0008, 0x1010, &text(m.station)));
    d.extend(dicom::element(0x0008, 0x1040, &text("RADIOLOGY")));
    d.extend(dicom::element(0x0008, 0x1090, &text(m.model)));
    d.extend(dicom::element(0x0010, 0x0010, &text(&format!("SYNTHETIC^PATIENT{patient}"))));
    d.extend(dicom::element(0x0010, 0x0020, &text(&format!("SYN{patient}"))));
    d.extend(dicom::element(0x0010, 0x0030, &text("19700101")));
    d.extend(dicom::element(0x0018, 0x1000, &text(m.serial)));
    d.extend(dicom::element(0x0018, 0x1020, &text(m.software)));
    d.extend(dicom::element(0x0028, 0x0010, &512u16.to_le_bytes()));
    d.extend(dicom::element(0x0028, 0x0011, &512u16.to_le_bytes()));
    let mut px = rng.bytes(pixels.min(4096));
    px.resize(pixels & !1, 0);
    d.extend(dicom::element(0x7fe0, 0x0010, &px));
    d
}

pub(crate) fn dicom_release_rq() -> Vec<u8> {
    dicom::pdu(0x05, &[0; 4])
}

pub(crate) fn dicom_release_rp() -> Vec<u8> {
    dicom::pdu(0x06, &[0; 4])
}

// ---------------------------------------------------------------- MQTT

fn varint(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
}

fn mqtt_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn mqtt_packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    varint(body.len(), &mut p);
    p.extend_from_slice(body);
    p
}

/// MQTT 3.1.1 CONNECT, with user name and password when given.
pub(crate) fn mqtt_connect(client_id: &str, login: Option<(&str, &str)>) -> Vec<u8> {
    let mut b = Vec::new();
    mqtt_str(&mut b, "MQTT");
    b.push(4);
    b.push(if login.is_some() { 0xc2 } else { 0x02 });
    b.extend_from_slice(&60u16.to_be_bytes());
    mqtt_str(&mut b, client_id);
    if let Some((user, pass)) = login {
        mqtt_str(&mut b, user);
        mqtt_str(&mut b, pass);
    }
    mqtt_packet(0x10, &b)
}

pub(crate) fn mqtt_connack() -> Vec<u8> {
    vec![0x20, 2, 0, 0]
}

/// PUBLISH at QoS 0.
pub(crate) fn mqtt_publish(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    mqtt_str(&mut b, topic);
    b.extend_from_slice(payload);
    mqtt_packet(0x30, &b)
}

pub(crate) fn mqtt_pingreq() -> Vec<u8> {
    vec![0xc0, 0]
}

pub(crate) fn mqtt_pingresp() -> Vec<u8> {
    vec![0xd0, 0]
}

pub(crate) fn mqtt_disconnect() -> Vec<u8> {
    vec![0xe0, 0]
}

// ---------------------------------------------------------------- Modbus/TCP

/// A Modbus/TCP frame: the MBAP header (protocol 0, length of unit id and PDU) and the PDU.
pub(crate) fn modbus(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(7 + pdu.len());
    b.extend_from_slice(&transaction.to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    b.push(unit);
    b.extend_from_slice(pdu);
    b
}

/// Read Holding Registers (function 3): the request.
pub(crate) fn modbus_read_holding_request(start: u16, count: u16) -> Vec<u8> {
    let mut q = vec![3];
    q.extend_from_slice(&start.to_be_bytes());
    q.extend_from_slice(&count.to_be_bytes());
    q
}

/// The answer to Read Holding Registers: `count` register values.
pub(crate) fn modbus_read_holding_answer(rng: &mut Rng, count: u16) -> Vec<u8> {
    let mut a = vec![3, (count * 2) as u8];
    for _ in 0..count {
        a.extend_from_slice(&(rng.below(4000) as u16).to_be_bytes());
    }
    a
}

/// Read Device Identification (function 43, MEI type 14, basic objects) and its answer.
pub(crate) fn modbus_device_id(vendor: &str, product_code: &str, revision: &str) -> (Vec<u8>, Vec<u8>) {
    let q = vec![0x2b, 0x0e, 0x01, 0x00];
    let mut a = vec![0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03];
    for (id, v) in [(0u8, vendor), (1, product_code), (2, revision)] {
        a.push(id);
        a.push(v.len() as u8);
        a.extend_from_slice(v.as_bytes());
    }
    (q, a)
}

// ---------------------------------------------------------------- BACnet/IP

/// A BVLC frame (BACnet/IP) around an NPDU with no addresses and an APDU.
fn bvlc(function: u8, expecting_reply: bool, apdu: &[u8]) -> Vec<u8> {
    let len = 4 + 2 + apdu.len();
    let mut b = vec![0x81, function];
    b.extend_from_slice(&(len as u16).to_be_bytes());
    b.push(1);
    b.push(if expecting_reply { 0x04 } else { 0x00 });
    b.extend_from_slice(apdu);
    b
}

/// A device object identifier (object type 8) as an application-tagged value.
fn bacnet_device_id(instance: u32) -> [u8; 5] {
    let id = (8u32 << 22) | (instance & 0x3f_ffff);
    let b = id.to_be_bytes();
    [0xc4, b[0], b[1], b[2], b[3]]
}

/// Who-Is to everyone (BVLC Original-Broadcast-NPDU).
pub(crate) fn bacnet_who_is() -> Vec<u8> {
    bvlc(0x0b, false, &[0x10, 0x08])
}

/// I-Am: device instance, max APDU 1476, segmentation both, vendor id.
pub(crate) fn bacnet_i_am(instance: u32, vendor: u16) -> Vec<u8> {
    let mut apdu = vec![0x10, 0x00];
    apdu.extend_from_slice(&bacnet_device_id(instance));
    apdu.extend_from_slice(&[0x22, 0x05, 0xc4, 0x91, 0x00]);
    if vendor < 256 {
        apdu.extend_from_slice(&[0x21, vendor as u8]);
    } else {
        apdu.push(0x22);
        apdu.extend_from_slice(&vendor.to_be_bytes());
    }
    bvlc(0x0b, false, &apdu)
}

/// A confirmed ReadProperty of one property of a device object (BVLC Original-Unicast-NPDU).
pub(crate) fn bacnet_read_property(invoke: u8, instance: u32, property: u8) -> Vec<u8> {
    let mut apdu = vec![0x00, 0x05, invoke, 0x0c, 0x0c];
    apdu.extend_from_slice(&bacnet_device_id(instance)[1..]);
    apdu.extend_from_slice(&[0x19, property]);
    bvlc(0x0a, true, &apdu)
}

/// The ComplexACK to a ReadProperty, the value a UTF-8 character string.
pub(crate) fn bacnet_read_property_ack(invoke: u8, instance: u32, property: u8, value: &str) -> Vec<u8> {
    let mut apdu = vec![0x30, invoke, 0x0c, 0x0c];
    apdu.extend_from_slice(&bacnet_device_id(instance)[1..]);
    apdu.extend_from_slice(&[0x19, property, 0x3e]);
    // Character string (application tag 7), extended length, encoding 0 (UTF-8).
    apdu.extend_from_slice(&[0x75, (value.len() + 1) as u8, 0x00]);
    apdu.extend_from_slice(value.as_bytes());
    apdu.push(0x3f);
    bvlc(0x0a, false, &apdu)
}

// ---------------------------------------------------------------- POCT1-A

/// A POCT1-A device's identity, as its hello (HEL.R01) states it in the DEV object.
pub(crate) struct PoctDevice<'a> {
    pub(crate) vendor: &'a str,
    pub(crate) model: &'a str,
    pub(crate) serial: &'a str,
    pub(crate) device_id: &'a str,
    pub(crate) software: &'a str,
}

fn poct_header(kind: &str, control: u64, ts: &str) -> String {
    format!(
        "<HDR><HDR.message_type V=\"{kind}\" SN=\"POCT1\" SV=\"1\"/><HDR.control_id V=\"{control}\"/>\
         <HDR.version_id V=\"POCT1\"/><HDR.creation_dttm V=\"{ts}\"/></HDR>"
    )
}

/// The hello a meter sends when it docks.
pub(crate) fn poct_hello(d: &PoctDevice<'_>, control: u64, ts: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<HEL.R01>{}<DEV><DEV.device_id V=\"{}\"/>\
         <DEV.vendor_id V=\"{}\"/><DEV.model_id V=\"{}\"/><DEV.serial_id V=\"{}\"/>\
         <DEV.manufacturer_name V=\"{}\"/><DEV.sw_version V=\"{}\"/><DSC><DSC.connection_profile_cd V=\"SA\"/>\
         <DSC.max_message_sz V=\"32768\"/></DSC></DEV></HEL.R01>\n",
        poct_header("HEL.R01", control, ts),
        d.device_id,
        d.vendor.to_uppercase().replace(' ', ""),
        d.model,
        d.serial,
        d.vendor,
        d.software
    )
    .into_bytes()
}

/// Device status: how many results wait.
pub(crate) fn poct_status(control: u64, ts: &str, waiting: u64) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<DST.R01>{}<DST><DST.status_dttm V=\"{ts}\"/>\
         <DST.new_observations_qty V=\"{waiting}\"/><DST.condition_cd V=\"R\"/></DST></DST.R01>\n",
        poct_header("DST.R01", control, ts)
    )
    .into_bytes()
}

/// A glucose result for a (synthetic) patient.
pub(crate) fn poct_observation(rng: &mut Rng, control: u64, ts: &str) -> Vec<u8> {
    let patient = rng.below(90_000) + 10_000;
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<OBS.R01>{}<SVC><SVC.role_cd V=\"OBS\"/>\
         <SVC.observation_dttm V=\"{ts}\"/><PT><PT.patient_id V=\"SYN{patient}\"/>\
         <OBS><OBS.observation_id V=\"2345-7\" SN=\"LN\"/><OBS.value V=\"{}\" U=\"mg/dL\"/></OBS></PT>\
         <OPR><OPR.operator_id V=\"RN{}\"/></OPR></SVC></OBS.R01>\n",
        poct_header("OBS.R01", control, ts),
        rng.range(60, 250),
        rng.below(900) + 100
    )
    .into_bytes()
}

/// The data manager's acknowledgement of message `acked`.
pub(crate) fn poct_ack(control: u64, acked: u64, ts: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ACK.R01>{}<ACK><ACK.type_cd V=\"AA\"/>\
         <ACK.ack_control_id V=\"{acked}\"/></ACK></ACK.R01>\n",
        poct_header("ACK.R01", control, ts)
    )
    .into_bytes()
}

// ---------------------------------------------------------------- SSDP

/// An SSDP announcement (`NOTIFY ssdp:alive`) to the multicast group.
pub(crate) fn ssdp_notify(server: &str, uuid: &str, device_type: &str, location: &str) -> Vec<u8> {
    format!(
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n\
         LOCATION: {location}\r\nNT: {device_type}\r\nNTS: ssdp:alive\r\nSERVER: {server}\r\n\
         USN: uuid:{uuid}::{device_type}\r\n\r\n"
    )
    .into_bytes()
}

// ---------------------------------------------------------------- SNMP

/// A value in an SNMP answer.
pub(crate) enum SnmpValue<'a> {
    Null,
    Text(&'a str),
    Oid(&'a str),
}

/// An SNMPv2c message: `pdu` 0xa0 GetRequest, 0xa2 Response.
pub(crate) fn snmp(community: &str, pdu: u8, req_id: u32, vars: &[(&str, SnmpValue<'_>)]) -> Vec<u8> {
    let vars: Vec<(&str, Vec<u8>)> = vars
        .iter()
        .map(|(oid, value)| {
            let v = match value {
                SnmpValue::Null => vec![0x05, 0],
                SnmpValue::Text(t) => ber::tlv(0x04, t.as_bytes()),
                SnmpValue::Oid(o) => ber::oid(o),
            };
            (*oid, v)
        })
        .collect();
    ber::snmp_message(1, community, ber::snmp_pdu(pdu, req_id, &vars))
}

// ---------------------------------------------------------------- LLDP and CDP

/// What a device announces on its link.
pub(crate) struct Neighbour<'a> {
    pub(crate) mac: [u8; 6],
    pub(crate) name: &'a str,
    pub(crate) description: &'a str,
    pub(crate) ip: Ipv4Addr,
    pub(crate) manufacturer: &'a str,
    pub(crate) model: &'a str,
    pub(crate) firmware: &'a str,
    pub(crate) serial: &'a str,
}

fn lldp_tlv(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&((kind << 9) | value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// An LLDPDU with the system's name, description, management address and LLDP-MED
/// inventory, as an endpoint of class I sends it.
pub(crate) fn lldp(n: &Neighbour<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    lldp_tlv(&mut out, 1, &[&[4][..], &n.mac].concat());
    lldp_tlv(&mut out, 2, &[&[3][..], &n.mac].concat());
    lldp_tlv(&mut out, 3, &120u16.to_be_bytes());
    lldp_tlv(&mut out, 5, n.name.as_bytes());
    lldp_tlv(&mut out, 6, n.description.as_bytes());
    let mut mgmt = vec![5, 1];
    mgmt.extend_from_slice(&n.ip.octets());
    mgmt.extend_from_slice(&[2, 0, 0, 0, 1, 0]);
    lldp_tlv(&mut out, 8, &mgmt);
    let med = |sub: u8, value: &[u8]| [&[0x00, 0x12, 0xbb, sub][..], value].concat();
    lldp_tlv(&mut out, 127, &med(1, &[0x00, 0x21, 1]));
    lldp_tlv(&mut out, 127, &med(6, n.firmware.as_bytes()));
    lldp_tlv(&mut out, 127, &med(8, n.serial.as_bytes()));
    lldp_tlv(&mut out, 127, &med(9, n.manufacturer.as_bytes()));
    lldp_tlv(&mut out, 127, &med(10, n.model.as_bytes()));
    lldp_tlv(&mut out, 0, &[]);
    out
}

/// A CDPv2 message with the device id, platform, software version and address.
pub(crate) fn cdp(n: &Neighbour<'_>) -> Vec<u8> {
    let mut body = Vec::new();
    let mut tlv = |kind: u16, value: &[u8]| {
        body.extend_from_slice(&kind.to_be_bytes());
        body.extend_from_slice(&((4 + value.len()) as u16).to_be_bytes());
        body.extend_from_slice(value);
    };
    tlv(0x0001, n.name.as_bytes());
    let mut addr = vec![0, 0, 0, 1, 1, 1, 0xcc, 0, 4];
    addr.extend_from_slice(&n.ip.octets());
    tlv(0x0002, &addr);
    tlv(0x0003, b"eth0");
    tlv(0x0004, &0x10u32.to_be_bytes());
    tlv(0x0005, n.description.as_bytes());
    tlv(0x0006, n.model.as_bytes());
    let mut out = vec![2, 180, 0, 0];
    out.extend(body);
    let c = crate::wire::checksum(&out);
    out[2..4].copy_from_slice(&c.to_be_bytes());
    out
}

// ---------------------------------------------------------------- FTP

/// An FTP control conversation's lines: the server's, then the client's, alternating from
/// the server's greeting; the login is the given one.
pub(crate) fn ftp_lines(banner: &str, user: &str, password: &str, accepted: bool) -> Vec<(bool, String)> {
    let mut v = vec![
        (false, format!("220 {banner}\r\n")),
        (true, format!("USER {user}\r\n")),
        (false, format!("331 Password required for {user}\r\n")),
        (true, format!("PASS {password}\r\n")),
    ];
    if accepted {
        v.push((false, format!("230 User {user} logged in\r\n")));
        v.push((true, "SYST\r\n".to_owned()));
        v.push((false, "215 UNIX Type: L8\r\n".to_owned()));
        v.push((true, "TYPE I\r\n".to_owned()));
        v.push((false, "200 Type set to I\r\n".to_owned()));
    } else {
        v.push((false, "530 Login incorrect.\r\n".to_owned()));
    }
    v.push((true, "QUIT\r\n".to_owned()));
    v.push((false, "221 Goodbye.\r\n".to_owned()));
    v
}
