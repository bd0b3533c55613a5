//! Conversations and the scheduler that interleaves them in time order.
//!
//! TCP conversations are generated lazily, segment by segment, from a script of messages
//! whose bytes are made only when the message starts, so a multi-megabyte DICOM transfer never
//! sits in memory whole. Short UDP, ICMP and ARP exchanges are built at once.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::hospital::{Hospital, Host, Role};
use crate::payloads::{self as p, TlsClient};
use crate::rng::Rng;
use crate::wire::{self, ACK, FIN, L2, PSH, RST, SYN, Tcp};

const MS: u64 = 1_000_000;
const US: u64 = 1_000;
const MSS: usize = 1448;

/// Makes a message's bytes when the message is due.
type Maker = Box<dyn FnOnce(&mut Rng) -> Vec<u8>>;

/// One message of a conversation, made when it is due.
pub(crate) struct Turn {
    from_client: bool,
    /// Pause before the message starts.
    gap_ns: u64,
    make: Maker,
}

fn turn(from_client: bool, gap_ns: u64, make: impl FnOnce(&mut Rng) -> Vec<u8> + 'static) -> Turn {
    Turn { from_client, gap_ns, make: Box::new(make) }
}

/// How a TCP conversation goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Talk,
    NoAnswer,
    Refused,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Syn,
    SynAck,
    Ack,
    Data,
    Fin1,
    Fin2,
    LastAck,
    Done,
}

/// A lazily generated TCP conversation.
struct TcpConv {
    c: L2,
    s: L2,
    cip: Ipv4Addr,
    sip: Ipv4Addr,
    cport: u16,
    sport: u16,
    cseq: u32,
    sseq: u32,
    t: u64,
    rtt: u64,
    phase: Phase,
    outcome: Outcome,
    syn_tries: u8,
    turns: VecDeque<Turn>,
    current: Option<(bool, Vec<u8>, usize)>,
    unacked: u32,
    ack_due: bool,
    retransmit: Option<(bool, u32, Vec<u8>)>,
    ip_id: u16,
}

impl TcpConv {
    fn frame(&mut self, from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8], out: &mut Vec<u8>) {
        let (l2, src, dst, sp, dp) = if from_client {
            (&self.c, self.cip, self.sip, self.cport, self.sport)
        } else {
            (&self.s, self.sip, self.cip, self.sport, self.cport)
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        let t = Tcp { sport: sp, dport: dp, seq, ack, flags, window: 64_240 };
        wire::tcp4(out, l2, src, dst, self.ip_id, &t, payload);
    }

    fn next(&mut self, rng: &mut Rng, out: &mut Vec<u8>) -> Option<u64> {
        loop {
            match self.phase {
                Phase::Syn => {
                    let (seq, ack) = (self.cseq.wrapping_sub(1), 0);
                    self.frame(true, seq, ack, SYN, &[], out);
                    let t = self.t;
                    self.syn_tries += 1;
                    match self.outcome {
                        Outcome::NoAnswer if self.syn_tries < 3 => {
                            self.t += (1_000 * MS) << (self.syn_tries - 1)
                        }
                        Outcome::NoAnswer => self.phase = Phase::Done,
                        _ => {
                            self.t += self.rtt / 2;
                            self.phase = Phase::SynAck;
                        }
                    }
                    return Some(t);
                }
                Phase::SynAck => {
                    if self.outcome == Outcome::Refused {
                        self.frame(false, 0, self.cseq, RST | ACK, &[], out);
                        self.phase = Phase::Done;
                        return Some(self.t);
                    }
                    let (seq, ack) = (self.sseq.wrapping_sub(1), self.cseq);
                    self.frame(false, seq, ack, SYN | ACK, &[], out);
                    self.t += self.rtt / 2;
                    self.phase = Phase::Ack;
                    return Some(self.t - self.rtt / 2);
                }
                Phase::Ack => {
                    let (seq, ack) = (self.cseq, self.sseq);
                    self.frame(true, seq, ack, ACK, &[], out);
                    self.phase = Phase::Data;
                    return Some(self.t);
                }
                Phase::Data => {
                    if let Some((from_client, seq, payload)) = self.retransmit.take() {
                        // A segment sent again, as happens when an ACK is lost.
                        let ack = if from_client { self.sseq } else { self.cseq };
                        self.frame(from_client, seq, ack, ACK | PSH, &payload, out);
                        self.t += 200 * US;
                        return Some(self.t);
                    }
                    if self.ack_due {
                        // The receiver of the current message acknowledges.
                        self.ack_due = false;
                        let from_client = self.current.as_ref().is_some_and(|c| !c.0);
                        let (seq, ack) =
                            if from_client { (self.cseq, self.sseq) } else { (self.sseq, self.cseq) };
                        self.frame(from_client, seq, ack, ACK, &[], out);
                        self.t += 20 * US;
                        if self.current.as_ref().is_some_and(|c| c.2 >= c.1.len()) {
                            self.current = None;
                        }
                        return Some(self.t);
                    }
                    if self.current.is_none() {
                        let Some(next) = self.turns.pop_front() else {
                            self.phase = Phase::Fin1;
                            continue;
                        };
                        self.t += next.gap_ns;
                        let bytes = (next.make)(rng);
                        self.current = Some((next.from_client, bytes, 0));
                    }
                    let Some((from_client, bytes, off)) = self.current.as_mut() else { continue };
                    let from_client = *from_client;
                    let end = (*off + MSS).min(bytes.len());
                    let seg = bytes[*off..end].to_vec();
                    *off = end;
                    let last = end >= bytes.len();
                    let (seq, ack) =
                        if from_client { (self.cseq, self.sseq) } else { (self.sseq, self.cseq) };
                    let flags = if last { ACK | PSH } else { ACK };
                    self.frame(from_client, seq, ack, flags, &seg, out);
                    if from_client {
                        self.cseq = self.cseq.wrapping_add(seg.len() as u32);
                    } else {
                        self.sseq = self.sseq.wrapping_add(seg.len() as u32);
                    }
                    let t = self.t;
                    self.t += 12 * US + seg.len() as u64 * 8;
                    self.unacked += 1;
                    if self.unacked >= 2 || last {
                        self.unacked = 0;
                        self.ack_due = true;
                        self.t += self.rtt / 2;
                    }
                    if rng.chance(0.0015) {
                        let start =
                            if from_client { self.cseq } else { self.sseq }.wrapping_sub(seg.len() as u32);
                        self.retransmit = Some((from_client, start, seg));
                    }
                    return Some(t);
                }
                Phase::Fin1 => {
                    let (seq, ack) = (self.cseq, self.sseq);
                    self.frame(true, seq, ack, FIN | ACK, &[], out);
                    self.cseq = self.cseq.wrapping_add(1);
                    self.t += self.rtt / 2;
                    self.phase = Phase::Fin2;
                    return Some(self.t - self.rtt / 2);
                }
                Phase::Fin2 => {
                    let (seq, ack) = (self.sseq, self.cseq);
                    self.frame(false, seq, ack, FIN | ACK, &[], out);
                    self.sseq = self.sseq.wrapping_add(1);
                    self.t += self.rtt / 2;
                    self.phase = Phase::LastAck;
                    return Some(self.t - self.rtt / 2);
                }
                Phase::LastAck => {
                    let (seq, ack) = (self.cseq, self.sseq);
                    self.frame(true, seq, ack, ACK, &[], out);
                    self.phase = Phase::Done;
                    return Some(self.t);
                }
                Phase::Done => return None,
            }
        }
    }
}

/// A conversation: lazily made TCP, or frames built at once.
enum Conv {
    Tcp(Box<TcpConv>),
    Frames(VecDeque<(u64, Vec<u8>)>),
}

impl Conv {
    fn next(&mut self, rng: &mut Rng, out: &mut Vec<u8>) -> Option<u64> {
        match self {
            Conv::Tcp(t) => t.next(rng, out),
            Conv::Frames(f) => {
                let (t, frame) = f.pop_front()?;
                out.clear();
                out.extend_from_slice(&frame);
                Some(t)
            }
        }
    }
}

/// The kinds of conversation and how often each starts.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Dns,
    TlsInternet,
    TlsEhr,
    Http,
    Hl7,
    DicomStore,
    DicomEcho,
    Mqtt,
    Dhcp,
    Mdns,
    Ntp,
    Ping,
    Failed,
    Arp,
    Ssdp,
    Snmp,
    Lldp,
    Ftp,
    Modbus,
    Bacnet,
    Poct,
}

const MIX: &[(Kind, u32)] = &[
    (Kind::Dns, 270),
    (Kind::TlsInternet, 135),
    (Kind::TlsEhr, 60),
    (Kind::Http, 70),
    (Kind::Hl7, 36),
    (Kind::DicomStore, 10),
    (Kind::DicomEcho, 6),
    (Kind::Mqtt, 50),
    (Kind::Dhcp, 25),
    (Kind::Mdns, 40),
    (Kind::Ntp, 40),
    (Kind::Ping, 70),
    (Kind::Failed, 100),
    (Kind::Arp, 88),
    (Kind::Ssdp, 20),
    (Kind::Snmp, 30),
    (Kind::Lldp, 10),
    (Kind::Ftp, 5),
    (Kind::Modbus, 12),
    (Kind::Bacnet, 20),
    (Kind::Poct, 8),
];

/// Sizes that scale the capture.
pub(crate) struct Scale {
    /// Largest DICOM image, in bytes.
    pub(crate) max_image: usize,
    /// Largest HTTP or TLS download, in bytes.
    pub(crate) max_download: usize,
    /// Most HL7 messages in one session.
    pub(crate) max_hl7: u64,
}

struct Planned {
    start: u64,
    kind: Kind,
    seed: u64,
}

pub(crate) struct Generator {
    net: Hospital,
    plan: VecDeque<Planned>,
    active: BinaryHeap<Reverse<(u64, usize)>>,
    convs: Vec<Option<(Conv, Vec<u8>, Rng)>>,
    free: Vec<usize>,
    scale: Scale,
    by_role: std::collections::HashMap<&'static str, Vec<usize>>,
    buf: Vec<u8>,
}

fn role_key(r: Role) -> &'static str {
    match r {
        Role::InfusionPump => "pump",
        Role::PatientMonitor => "monitor",
        Role::LabAnalyser => "lab",
        Role::Modality(_) => "modality",
        Role::Workstation => "ws",
        Role::Phone => "phone",
        Role::VoipPhone => "voip",
        Role::Printer => "printer",
        Role::FridgeSensor => "fridge",
        Role::Camera => "camera",
        Role::BadgeReader => "badge",
        Role::BuildingController => "ahu",
        Role::Plc => "plc",
        Role::PoctMeter => "glu",
        _ => "server",
    }
}

impl Generator {
    /// A generator of `flows` conversations starting over `duration_ns` from `start_ns`.
    pub(crate) fn new(seed: u64, flows: usize, start_ns: u64, duration_ns: u64, scale: Scale) -> Generator {
        let mut rng = Rng::new(seed);
        let net = Hospital::build(&mut rng);
        let total: u32 = MIX.iter().map(|m| m.1).sum();
        let mut plan: Vec<Planned> = (0..flows)
            .map(|_| {
                let mut x = rng.below(u64::from(total)) as u32;
                let kind = MIX
                    .iter()
                    .find(|(_, w)| {
                        if x < *w {
                            true
                        } else {
                            x -= w;
                            false
                        }
                    })
                    .map_or(Kind::Dns, |m| m.0);
                Planned { start: start_ns + rng.below(duration_ns), kind, seed: rng.next_u64() }
            })
            .collect();
        plan.sort_by_key(|p| p.start);
        let mut by_role: std::collections::HashMap<&'static str, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, h) in net.hosts.iter().enumerate() {
            by_role.entry(role_key(h.role)).or_default().push(i);
        }
        Generator {
            net,
            plan: plan.into(),
            active: BinaryHeap::new(),
            convs: Vec::new(),
            free: Vec::new(),
            scale,
            by_role,
            buf: Vec::new(),
        }
    }

    /// The next frame in time order: its time stamp and bytes.
    pub(crate) fn next(&mut self) -> Option<(u64, &[u8])> {
        loop {
            let next_start = self.plan.front().map(|p| p.start);
            let next_active = self.active.peek().map(|r| r.0.0);
            let start_one = match (next_start, next_active) {
                (None, None) => return None,
                (Some(s), Some(a)) => s <= a,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if start_one {
                let Some(planned) = self.plan.pop_front() else { continue };
                let mut rng = Rng::new(planned.seed);
                let mut conv = self.conversation(planned.kind, planned.start, &mut rng);
                let mut frame = Vec::new();
                if let Some(t) = conv.next(&mut rng, &mut frame) {
                    let slot = self.free.pop().unwrap_or_else(|| {
                        self.convs.push(None);
                        self.convs.len() - 1
                    });
                    self.convs[slot] = Some((conv, frame, rng));
                    self.active.push(Reverse((t, slot)));
                }
                continue;
            }
            let Reverse((t, slot)) = self.active.pop()?;
            let Some((mut conv, frame, mut rng)) = self.convs[slot].take() else { continue };
            self.buf = frame;
            let mut next_frame = Vec::with_capacity(self.buf.len().max(64));
            match conv.next(&mut rng, &mut next_frame) {
                Some(nt) => {
                    self.convs[slot] = Some((conv, next_frame, rng));
                    self.active.push(Reverse((nt.max(t), slot)));
                }
                None => self.free.push(slot),
            }
            return Some((t, &self.buf));
        }
    }

    fn pick_role(&self, rng: &mut Rng, roles: &[&str]) -> Host {
        let role = *rng.pick(roles);
        let list = self.by_role.get(role).map_or(&[][..], |v| &v[..]);
        if list.is_empty() {
            return self.net.hosts[0].clone();
        }
        self.net.hosts[*rng.pick(list)].clone()
    }

    /// Link addressing of a client and a server: the real MACs on a shared VLAN, the router's
    /// MAC otherwise (the capture sees the client's VLAN).
    fn l2(&self, client: &Host, server_mac: Option<[u8; 6]>, same_vlan: bool) -> (L2, L2) {
        let peer = if same_vlan { server_mac.unwrap_or(self.net.router_mac) } else { self.net.router_mac };
        let v = Some(client.vlan);
        (L2 { src: client.mac, dst: peer, vlan: v }, L2 { src: peer, dst: client.mac, vlan: v })
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &self,
        rng: &mut Rng,
        start: u64,
        client: &Host,
        sip: Ipv4Addr,
        smac: Option<[u8; 6]>,
        svlan: Option<u16>,
        sport: u16,
        rtt: u64,
        outcome: Outcome,
        turns: Vec<Turn>,
    ) -> Conv {
        let (c, s) = self.l2(client, smac, svlan == Some(client.vlan));
        Conv::Tcp(Box::new(TcpConv {
            c,
            s,
            cip: client.ip,
            sip,
            cport: 32_768 + rng.below(28_000) as u16,
            sport,
            cseq: rng.next_u64() as u32,
            sseq: rng.next_u64() as u32,
            t: start,
            rtt,
            phase: Phase::Syn,
            outcome,
            syn_tries: 0,
            turns: turns.into(),
            current: None,
            unacked: 0,
            ack_due: false,
            retransmit: None,
            ip_id: rng.next_u64() as u16,
        }))
    }

    fn conversation(&self, kind: Kind, start: u64, rng: &mut Rng) -> Conv {
        let lan_rtt = 200 * US + rng.below(800 * US);
        let wan_rtt = 15 * MS + rng.below(70 * MS);
        match kind {
            Kind::Dns => {
                let client = self.pick_role(
                    rng,
                    &["ws", "phone", "pump", "monitor", "camera", "fridge", "printer", "voip", "lab"],
                );
                let dns = self.net.server(Role::Dns).clone();
                let (c, s) = self.l2(&client, Some(dns.mac), dns.vlan == client.vlan);
                let (ip, name) = rng.pick(&self.net.internet).clone();
                let id = rng.next_u64() as u16;
                let sport = 32_768 + rng.below(28_000) as u16;
                let q = p::dns_query(id, &name, 1);
                let a = if rng.chance(0.05) {
                    p::dns_answer(id, &name, &[], 60)
                } else {
                    p::dns_answer(id, &name, &[ip], 300)
                };
                let mut f = VecDeque::new();
                let mut b = Vec::new();
                wire::udp4(&mut b, &c, client.ip, dns.ip, sport, 53, id, &q);
                f.push_back((start, b.clone()));
                wire::udp4(&mut b, &s, dns.ip, client.ip, 53, sport, id ^ 0x5555, &a);
                f.push_back((start + lan_rtt, b));
                Conv::Frames(f)
            }
            Kind::TlsInternet | Kind::TlsEhr => {
                let internal = matches!(kind, Kind::TlsEhr);
                let client = if internal {
                    self.pick_role(rng, &["ws", "ws", "monitor", "phone"])
                } else {
                    self.pick_role(rng, &["ws", "ws", "phone", "phone", "camera", "fridge", "voip", "pump"])
                };
                let stack = match role_key(client.role) {
                    "ws" | "phone" => TlsClient::Browser,
                    "monitor" | "voip" => TlsClient::Java,
                    "camera" | "fridge" => TlsClient::Embedded,
                    _ => {
                        if rng.chance(0.5) {
                            TlsClient::Legacy
                        } else {
                            TlsClient::Embedded
                        }
                    }
                };
                let tls13 = matches!(stack, TlsClient::Browser | TlsClient::Java);
                let (sip, smac, svlan, sni, rtt) = if internal {
                    let ehr = self.net.server(Role::Ehr);
                    (ehr.ip, Some(ehr.mac), Some(ehr.vlan), "ehr.hospital.example".to_owned(), lan_rtt)
                } else {
                    let (ip, name) = rng.pick(&self.net.internet).clone();
                    (ip, None, None, name, wan_rtt)
                };
                let exchanges = 1 + rng.below(6);
                let max = self.scale.max_download;
                let mut turns = vec![
                    turn(true, 0, move |r| p::tls_client_hello(r, stack, &sni)),
                    turn(false, 2 * MS, move |r| p::tls_server_flight(r, tls13, CERT_EHR)),
                    turn(true, MS, move |r| p::tls_client_finish(r, tls13)),
                ];
                for _ in 0..exchanges {
                    let up = 200 + rng.below(1500) as usize;
                    let down = 500 + rng.below(max as u64 / 3) as usize;
                    turns.push(turn(true, 5 * MS + rng.below(300 * MS), move |r| p::tls_app_data(r, up)));
                    turns.push(turn(false, 3 * MS, move |r| p::tls_app_data(r, down)));
                }
                self.tcp(rng, start, &client, sip, smac, svlan, 443, rtt, Outcome::Talk, turns)
            }
            Kind::Http => {
                let client = self.pick_role(rng, &["pump", "monitor", "printer", "camera", "ws"]);
                let upd = self.net.server(Role::UpdateServer).clone();
                let agent = format!(
                    "{}/{} ({})",
                    client.vendor.replace(' ', ""),
                    client.model.replace(' ', "-"),
                    client.name
                );
                let path = format!("/firmware/{}/manifest.json", client.model.replace(' ', "_"));
                let body = 300 + rng.below(self.scale.max_download as u64 / 2) as usize;
                let turns = vec![
                    turn(true, 0, move |_| {
                        p::http_request("GET", "updates.hospital.example", &path, &agent, 0)
                    }),
                    turn(false, 3 * MS, move |r| p::http_response(r, "nginx/1.18.0", body)),
                ];
                self.tcp(
                    rng,
                    start,
                    &client,
                    upd.ip,
                    Some(upd.mac),
                    Some(upd.vlan),
                    80,
                    lan_rtt,
                    Outcome::Talk,
                    turns,
                )
            }
            Kind::Hl7 => {
                let client = self.pick_role(rng, &["monitor", "monitor", "pump", "lab"]);
                let engine = self.net.server(Role::Hl7Engine).clone();
                let app = match client.role {
                    Role::InfusionPump => "PUMPGW",
                    Role::LabAnalyser => "LABIF",
                    _ => "MONGW",
                };
                let n = 3 + rng.below(self.scale.max_hl7);
                let mut turns = Vec::new();
                let device = format!("{}-{}", client.name, client.mac[5]);
                let base = rng.below(1_000_000_000);
                for i in 0..n {
                    let control = base + i;
                    let ts = hl7_time(start + i * 2_000 * MS);
                    let (a, d, t) = (app.to_owned(), device.clone(), ts.clone());
                    turns.push(turn(true, 500 * MS + rng.below(3_000 * MS), move |r| {
                        p::hl7_oru(r, &p::Hl7Sender { app: &a, facility: "ICU", device_id: &d }, control, &t)
                    }));
                    let (a, d) = (app.to_owned(), device.clone());
                    turns.push(turn(false, 2 * MS, move |_| {
                        p::hl7_ack(&p::Hl7Sender { app: &a, facility: "ICU", device_id: &d }, control, &ts)
                    }));
                }
                self.tcp(
                    rng,
                    start,
                    &client,
                    engine.ip,
                    Some(engine.mac),
                    Some(engine.vlan),
                    2575,
                    lan_rtt,
                    Outcome::Talk,
                    turns,
                )
            }
            Kind::DicomStore | Kind::DicomEcho => {
                let mods = self.net.modalities();
                let client = self.net.hosts[*rng.pick(&mods)].clone();
                let pacs = self.net.server(Role::Pacs).clone();
                let (modality, sop) = match client.role {
                    Role::Modality("MR") => ("MR", p::uid::MR_IMAGE),
                    Role::Modality("US") => ("US", p::uid::US_IMAGE),
                    _ => ("CT", p::uid::CT_IMAGE),
                };
                let calling = client.name.to_uppercase().replace('-', "");
                let echo = matches!(kind, Kind::DicomEcho);
                let abstract_syntax = if echo { p::uid::VERIFICATION } else { sop };
                let (c1, c2) = (calling.clone(), calling.clone());
                let mut turns = vec![
                    turn(true, 0, move |_| p::dicom_associate_rq(&c1, "PACS", abstract_syntax)),
                    turn(false, 2 * MS, move |_| p::dicom_associate_ac(&c2, "PACS")),
                ];
                if echo {
                    turns.push(turn(true, MS, |_| p::dicom_p_data(&p::dicom_echo_rq(1), true, 16_372)));
                    turns.push(turn(false, MS, |_| {
                        p::dicom_p_data(&p::dicom_rsp(0x8030, p::uid::VERIFICATION, 1), true, 16_372)
                    }));
                } else {
                    let images = 1 + rng.below(4);
                    for i in 0..images {
                        let msg_id = (i + 1) as u16;
                        let instance = format!("1.2.826.0.1.3680043.10.1234.{}.{}", rng.below(1_000_000), i);
                        let size = self.scale.max_image / 4
                            + rng.below(self.scale.max_image as u64 * 3 / 4) as usize;
                        let who = client.clone();
                        turns.push(turn(true, 5 * MS, move |r| {
                            let serial =
                                format!("SN{:06}", u32::from(who.mac[4]) * 256 + u32::from(who.mac[5]));
                            let station = who.name.to_uppercase();
                            let m = p::Modality {
                                modality,
                                manufacturer: who.vendor,
                                model: who.model,
                                serial: &serial,
                                software: "VB20A",
                                station: &station,
                            };
                            let mut out =
                                p::dicom_p_data(&p::dicom_store_rq(sop, &instance, msg_id), true, 16_372);
                            out.extend(p::dicom_p_data(
                                &p::dicom_dataset(r, &m, sop, &instance, size),
                                false,
                                16_372,
                            ));
                            out
                        }));
                        turns.push(turn(false, 4 * MS, move |_| {
                            p::dicom_p_data(&p::dicom_rsp(0x8001, sop, msg_id), true, 16_372)
                        }));
                    }
                }
                turns.push(turn(true, MS, |_| p::dicom_release_rq()));
                turns.push(turn(false, MS, |_| p::dicom_release_rp()));
                self.tcp(
                    rng,
                    start,
                    &client,
                    pacs.ip,
                    Some(pacs.mac),
                    Some(pacs.vlan),
                    104,
                    lan_rtt,
                    Outcome::Talk,
                    turns,
                )
            }
            Kind::Mqtt => {
                let client = self.pick_role(rng, &["fridge"]);
                let broker = self.net.server(Role::Broker).clone();
                let id = client.name.clone();
                let login = rng.chance(0.5);
                let mut turns = vec![
                    turn(true, 0, move |_| {
                        p::mqtt_connect(&id, if login { Some(("sensor", "sensor-pass")) } else { None })
                    }),
                    turn(false, MS, |_| p::mqtt_connack()),
                ];
                let n = 5 + rng.below(25);
                for i in 0..n {
                    let topic = format!("hospital/fridge/{}/temperature", client.name);
                    let value = format!("{{\"celsius\":{}.{},\"seq\":{i}}}", 2 + rng.below(5), rng.below(10));
                    turns.push(turn(true, 1_000 * MS + rng.below(4_000 * MS), move |_| {
                        p::mqtt_publish(&topic, value.as_bytes())
                    }));
                    if i % 6 == 5 {
                        turns.push(turn(true, 10 * MS, |_| p::mqtt_pingreq()));
                        turns.push(turn(false, MS, |_| p::mqtt_pingresp()));
                    }
                }
                turns.push(turn(true, 50 * MS, |_| p::mqtt_disconnect()));
                self.tcp(
                    rng,
                    start,
                    &client,
                    broker.ip,
                    Some(broker.mac),
                    Some(broker.vlan),
                    1883,
                    lan_rtt,
                    Outcome::Talk,
                    turns,
                )
            }
            Kind::Failed => {
                let client = self.pick_role(rng, &["ws", "pump", "monitor", "camera", "phone"]);
                let target = Ipv4Addr::new(
                    10,
                    *rng.pick(&[10u8, 20, 30, 40, 50]),
                    rng.below(4) as u8,
                    2 + rng.below(250) as u8,
                );
                let port = *rng.pick(&[22u16, 23, 445, 3389, 8080, 5900, 21, 2575, 104, 11112]);
                let outcome = if rng.chance(0.5) { Outcome::NoAnswer } else { Outcome::Refused };
                self.tcp(rng, start, &client, target, None, None, port, lan_rtt, outcome, Vec::new())
            }
            Kind::Dhcp => {
                let client = self.pick_role(
                    rng,
                    &["pump", "monitor", "phone", "ws", "printer", "fridge", "camera", "voip", "lab"],
                );
                let server = self.net.gateway(client.vlan);
                let xid = rng.next_u64() as u32;
                let vendor_class = match client.role {
                    Role::Phone => "",
                    Role::Workstation => "MSFT 5.0",
                    Role::VoipPhone => "Polycom-VVX450",
                    Role::FridgeSensor => "espressif",
                    _ => client.vendor,
                };
                let params: &[u8] = match client.role {
                    Role::Workstation => &[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252],
                    Role::Phone => &[1, 121, 3, 6, 15, 108, 114, 119, 252],
                    _ => &[1, 3, 6, 12, 15, 28, 42],
                };
                let bcast = L2 { src: client.mac, dst: [0xff; 6], vlan: Some(client.vlan) };
                let reply = L2 { src: self.net.router_mac, dst: [0xff; 6], vlan: Some(client.vlan) };
                let mut f = VecDeque::new();
                let mut t = start;
                for (i, msg_type) in [1u8, 2, 3, 5].into_iter().enumerate() {
                    let from_server = i % 2 == 1;
                    let d = p::Dhcp {
                        op_reply: from_server,
                        msg_type,
                        xid,
                        chaddr: client.mac,
                        yiaddr: client.ip,
                        server,
                        hostname: &client.name,
                        vendor_class,
                        params,
                        requested: (msg_type == 3).then_some(client.ip),
                    };
                    let payload = p::dhcp(&d);
                    let mut b = Vec::new();
                    if from_server {
                        wire::udp4(&mut b, &reply, server, Ipv4Addr::BROADCAST, 67, 68, xid as u16, &payload);
                    } else {
                        wire::udp4(
                            &mut b,
                            &bcast,
                            Ipv4Addr::UNSPECIFIED,
                            Ipv4Addr::BROADCAST,
                            68,
                            67,
                            xid as u16,
                            &payload,
                        );
                    }
                    f.push_back((t, b));
                    t += lan_rtt + rng.below(5 * MS);
                }
                Conv::Frames(f)
            }
            Kind::Mdns => {
                let client = self.pick_role(rng, &["phone", "printer", "ws", "camera"]);
                let (service, port, txt): (&str, u16, Vec<String>) = match client.role {
                    Role::Printer => (
                        "_ipp._tcp.local",
                        631,
                        vec![format!("ty={} {}", client.vendor, client.model), "pdl=application/pdf".into()],
                    ),
                    Role::Camera => ("_http._tcp.local", 80, vec![format!("model={}", client.model)]),
                    Role::Phone => (
                        "_companion-link._tcp.local",
                        49_152,
                        vec!["rpVr=360.4".into(), format!("model={}", client.model)],
                    ),
                    _ => ("_workstation._tcp.local", 9, vec![]),
                };
                let host = format!("{}.local", client.name);
                let txt_refs: Vec<&str> = txt.iter().map(String::as_str).collect();
                let payload = p::mdns_announce(&client.name, service, &host, port, client.ip, &txt_refs);
                let mut f = VecDeque::new();
                let mut b = Vec::new();
                let l2 = L2 {
                    src: client.mac,
                    dst: [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb],
                    vlan: Some(client.vlan),
                };
                wire::udp4(&mut b, &l2, client.ip, Ipv4Addr::new(224, 0, 0, 251), 5353, 5353, 0, &payload);
                f.push_back((start, b.clone()));
                // The same announcement over IPv6 from the link-local address.
                let ll = link_local(client.mac);
                let l2v6 = L2 { src: client.mac, dst: [0x33, 0x33, 0, 0, 0, 0xfb], vlan: Some(client.vlan) };
                wire::udp6(
                    &mut b,
                    &l2v6,
                    ll,
                    "ff02::fb".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
                    5353,
                    5353,
                    &payload,
                );
                f.push_back((start + 50 * US, b.clone()));
                // Announced twice, a second apart, as RFC 6762 asks.
                wire::udp4(&mut b, &l2, client.ip, Ipv4Addr::new(224, 0, 0, 251), 5353, 5353, 0, &payload);
                f.push_back((start + 1_000 * MS, b));
                Conv::Frames(f)
            }
            Kind::Ntp => {
                let client = self
                    .pick_role(rng, &["pump", "monitor", "ws", "camera", "badge", "voip", "lab", "fridge"]);
                let ntp = self.net.server(Role::Ntp).clone();
                let (c, s) = self.l2(&client, Some(ntp.mac), ntp.vlan == client.vlan);
                let mut f = VecDeque::new();
                let mut b = Vec::new();
                let q = p::ntp(false, rng);
                wire::udp4(&mut b, &c, client.ip, ntp.ip, 123, 123, 1, &q);
                f.push_back((start, b.clone()));
                let a = p::ntp(true, rng);
                wire::udp4(&mut b, &s, ntp.ip, client.ip, 123, 123, 2, &a);
                f.push_back((start + lan_rtt, b));
                Conv::Frames(f)
            }
            Kind::Ssdp => {
                // Printers, cameras and workstations announce themselves to the UPnP group.
                let dev = self.pick_role(rng, &["printer", "camera", "ws", "voip"]);
                let l2 = L2 { src: dev.mac, dst: [0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa], vlan: Some(dev.vlan) };
                let server = format!(
                    "Linux/4.14 UPnP/1.0 {}/{}",
                    dev.vendor.replace(' ', ""),
                    dev.model.replace(' ', "-")
                );
                let uuid =
                    format!("{:08x}-0000-1000-8000-{}", rng.next_u64() as u32 & 0xffff, hex_mac(&dev.mac));
                let location = format!("http://{}:49152/description.xml", dev.ip);
                let mut f = VecDeque::new();
                for (i, kind) in ["upnp:rootdevice", "urn:schemas-upnp-org:device:Basic:1"].iter().enumerate()
                {
                    let mut b = Vec::new();
                    let m = p::ssdp_notify(&server, &uuid, kind, &location);
                    wire::udp4(
                        &mut b,
                        &l2,
                        dev.ip,
                        Ipv4Addr::new(239, 255, 255, 250),
                        1900,
                        1900,
                        i as u16,
                        &m,
                    );
                    f.push_back((start + i as u64 * 100 * US, b));
                }
                Conv::Frames(f)
            }
            Kind::Snmp => {
                // The network management station polls a device's system group.
                let nms = self.pick_role(rng, &["ws"]);
                let dev =
                    self.pick_role(rng, &["pump", "monitor", "printer", "camera", "lab", "voip", "fridge"]);
                let (c, s) = self.l2(&nms, Some(dev.mac), dev.vlan == nms.vlan);
                let community = if rng.chance(0.3) { "public" } else { "hosp-ro-2024" };
                let id = rng.next_u64() as u32 & 0x7fff_ffff;
                let sport = 32_768 + rng.below(28_000) as u16;
                let oids = ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.5.0"];
                let q = p::snmp(community, 0xa0, id, &oids.map(|o| (o, p::SnmpValue::Null)));
                let descr = format!("{} {} firmware 3.{}", dev.vendor, dev.model, dev.mac[5] % 10);
                let a = p::snmp(
                    community,
                    0xa2,
                    id,
                    &[
                        (oids[0], p::SnmpValue::Text(&descr)),
                        (oids[1], p::SnmpValue::Oid("1.3.6.1.4.1.8072.3.2.10")),
                        (oids[2], p::SnmpValue::Text(&dev.name)),
                    ],
                );
                let mut f = VecDeque::new();
                let mut b = Vec::new();
                wire::udp4(&mut b, &c, nms.ip, dev.ip, sport, 161, id as u16, &q);
                f.push_back((start, b.clone()));
                wire::udp4(&mut b, &s, dev.ip, nms.ip, 161, sport, !id as u16, &a);
                f.push_back((start + lan_rtt, b));
                Conv::Frames(f)
            }
            Kind::Lldp => {
                // A device tells its switch port who it is: LLDP-MED, and CDP from phones.
                let dev = self.pick_role(rng, &["pump", "monitor", "voip", "lab", "printer"]);
                let serial = format!("SN{}", hex_mac(&dev.mac[3..]));
                let description = format!("{} {}", dev.vendor, dev.model);
                let n = p::Neighbour {
                    mac: dev.mac,
                    name: &dev.name,
                    description: &description,
                    ip: dev.ip,
                    manufacturer: dev.vendor,
                    model: dev.model,
                    firmware: "4.2.1",
                    serial: &serial,
                };
                let mut f = VecDeque::new();
                let mut b = Vec::new();
                let l2 = L2 { src: dev.mac, dst: [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e], vlan: None };
                wire::ether(&mut b, &l2, 0x88cc, &p::lldp(&n));
                f.push_back((start, b.clone()));
                if matches!(dev.role, Role::VoipPhone) {
                    wire::snap(
                        &mut b,
                        dev.mac,
                        [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc],
                        [0, 0, 0x0c],
                        0x2000,
                        &p::cdp(&n),
                    );
                    f.push_back((start + MS, b));
                }
                Conv::Frames(f)
            }
            Kind::Ftp => {
                // A lab analyser uploads results to the archive; a few logins are the
                // factory default, a few are refused.
                let client = self.pick_role(rng, &["lab", "modality", "printer"]);
                let srv = self.net.server(Role::UpdateServer).clone();
                let (user, password, ok) = match rng.below(10) {
                    0 => ("admin", "admin", true),
                    1 => ("service", "guess", false),
                    _ => ("labif", "Lab-Archive-2024!", true),
                };
                let turns = p::ftp_lines("ProFTPD 1.3.6 Server (Lab archive)", user, password, ok)
                    .into_iter()
                    .map(|(from_client, line)| turn(from_client, 2 * MS, move |_| line.into_bytes()))
                    .collect();
                self.tcp(
                    rng,
                    start,
                    &client,
                    srv.ip,
                    Some(srv.mac),
                    Some(srv.vlan),
                    21,
                    lan_rtt,
                    Outcome::Talk,
                    turns,
                )
            }
            Kind::Modbus => {
                // The building management head end polls a plant PLC's registers, and now and
                // then asks who it is.
                let bms = self.net.server(Role::Bms).clone();
                let plc = self.pick_role(rng, &["plc"]);
                let unit = 1 + (plc.mac[5] % 4);
                let mut turns = Vec::new();
                let mut tid = rng.next_u64() as u16;
                if rng.chance(0.3) {
                    let code = plc.model.replace(' ', "");
                    let (q, a) = p::modbus_device_id(plc.vendor, &code, "v3.20");
                    turns.push(turn(true, 0, move |_| p::modbus(tid, unit, &q)));
                    turns.push(turn(false, 2 * MS, move |_| p::modbus(tid, unit, &a)));
                }
                for i in 0..(3 + rng.below(12)) {
                    tid = tid.wrapping_add(1);
                    let start = 100 * (i as u16 % 5);
                    turns.push(turn(true, 1_000 * MS, move |_| {
                        p::modbus(tid, unit, &p::modbus_read_holding_request(start, 10))
                    }));
                    turns.push(turn(false, 3 * MS, move |r| {
                        p::modbus(tid, unit, &p::modbus_read_holding_answer(r, 10))
                    }));
                }
                self.tcp(
                    rng,
                    start,
                    &bms,
                    plc.ip,
                    Some(plc.mac),
                    Some(plc.vlan),
                    502,
                    lan_rtt,
                    Outcome::Talk,
                    turns,
                )
            }
            Kind::Bacnet => {
                // The head end looks for controllers (Who-Is, broadcast), one answers (I-Am,
                // broadcast) and is asked who made it.
                let bms = self.net.server(Role::Bms).clone();
                let dev = self.pick_role(rng, &["ahu"]);
                let l2b = |src: [u8; 6]| L2 { src, dst: [0xff; 6], vlan: Some(dev.vlan) };
                let instance = 60_000 + u32::from(dev.mac[4]) * 256 + u32::from(dev.mac[5]);
                let siemens = dev.vendor == "Siemens";
                let vendor_id = if siemens { 7 } else { 5 };
                let bcast = Ipv4Addr::new(10, 60, 255, 255);
                let mut f = VecDeque::new();
                let mut b = Vec::new();
                let id = rng.next_u64() as u16;
                wire::udp4(&mut b, &l2b(bms.mac), bms.ip, bcast, 47808, 47808, id, &p::bacnet_who_is());
                f.push_back((start, b.clone()));
                wire::udp4(
                    &mut b,
                    &l2b(dev.mac),
                    dev.ip,
                    bcast,
                    47808,
                    47808,
                    !id,
                    &p::bacnet_i_am(instance, vendor_id),
                );
                f.push_back((start + 5 * MS, b.clone()));
                let firmware = if siemens { "FW=04.00.110" } else { "12.0.2.31" };
                let props: [(u8, &str); 4] =
                    [(121, dev.vendor), (70, dev.model), (44, firmware), (12, "Ward-BMS 2.1")];
                let (to_dev, from_dev) = self.l2(&bms, Some(dev.mac), true);
                for (i, (prop, value)) in props.into_iter().enumerate() {
                    let invoke = (id as u8).wrapping_add(i as u8);
                    let t = start + 50 * MS + i as u64 * 20 * MS;
                    wire::udp4(
                        &mut b,
                        &to_dev,
                        bms.ip,
                        dev.ip,
                        47808,
                        47808,
                        id.wrapping_add(i as u16),
                        &p::bacnet_read_property(invoke, instance, prop),
                    );
                    f.push_back((t, b.clone()));
                    wire::udp4(
                        &mut b,
                        &from_dev,
                        dev.ip,
                        bms.ip,
                        47808,
                        47808,
                        !id.wrapping_add(i as u16),
                        &p::bacnet_read_property_ack(invoke, instance, prop, value),
                    );
                    f.push_back((t + lan_rtt, b.clone()));
                }
                Conv::Frames(f)
            }
            Kind::Poct => {
                // A glucose meter docks: hello, status, its waiting results, each acknowledged.
                let meter = self.pick_role(rng, &["glu"]);
                let dm = self.net.server(Role::PoctManager).clone();
                let ts = hl7_time(start);
                let serial = format!("06{:08}", u32::from(meter.mac[4]) * 256 + u32::from(meter.mac[5]));
                let device_id = hex_mac(&meter.mac);
                let waiting = 1 + rng.below(4);
                let base = rng.below(1_000_000);
                let mut turns = Vec::new();
                let (m, t) = (meter.clone(), ts.clone());
                turns.push(turn(true, 0, move |_| {
                    let d = p::PoctDevice {
                        vendor: m.vendor,
                        model: m.model,
                        serial: &serial,
                        device_id: &device_id,
                        software: "3.10.8.0",
                    };
                    p::poct_hello(&d, base, &t)
                }));
                let t = ts.clone();
                turns.push(turn(false, 3 * MS, move |_| p::poct_ack(900_000 + base, base, &t)));
                for n in 1..=waiting + 1 {
                    let control = base + n;
                    let t = ts.clone();
                    if n == 1 {
                        turns.push(turn(true, 20 * MS, move |_| p::poct_status(control, &t, waiting)));
                    } else {
                        turns.push(turn(true, 20 * MS, move |r| p::poct_observation(r, control, &t)));
                    }
                    let t = ts.clone();
                    turns.push(turn(false, 3 * MS, move |_| p::poct_ack(900_000 + control, control, &t)));
                }
                self.tcp(
                    rng,
                    start,
                    &meter,
                    dm.ip,
                    Some(dm.mac),
                    Some(dm.vlan),
                    7001,
                    lan_rtt,
                    Outcome::Talk,
                    turns,
                )
            }
            Kind::Ping => {
                let monitor = self.pick_role(rng, &["ws"]);
                let target =
                    self.pick_role(rng, &["pump", "monitor", "printer", "camera", "badge", "fridge", "lab"]);
                let (c, s) = self.l2(&monitor, Some(target.mac), target.vlan == monitor.vlan);
                let id = rng.next_u64() as u16;
                let answer = rng.chance(0.9);
                let mut f = VecDeque::new();
                let mut t = start;
                for seq in 1..=4u16 {
                    let mut b = Vec::new();
                    wire::icmp_echo(&mut b, &c, monitor.ip, target.ip, 8, id, seq);
                    f.push_back((t, b.clone()));
                    if answer {
                        wire::icmp_echo(&mut b, &s, target.ip, monitor.ip, 0, id, seq);
                        f.push_back((t + lan_rtt, b));
                    }
                    t += 1_000 * MS;
                }
                Conv::Frames(f)
            }
            Kind::Arp => {
                let host = self.pick_role(
                    rng,
                    &[
                        "pump", "monitor", "ws", "phone", "printer", "fridge", "camera", "badge", "lab",
                        "voip", "modality",
                    ],
                );
                let gw = self.net.gateway(host.vlan);
                let v = Some(host.vlan);
                let mut f = VecDeque::new();
                let mut b = Vec::new();
                wire::arp(
                    &mut b,
                    &L2 { src: host.mac, dst: [0xff; 6], vlan: v },
                    1,
                    host.mac,
                    host.ip,
                    [0; 6],
                    gw,
                );
                f.push_back((start, b.clone()));
                let r = self.net.router_mac;
                wire::arp(&mut b, &L2 { src: r, dst: host.mac, vlan: v }, 2, r, gw, host.mac, host.ip);
                f.push_back((start + 300 * US, b));
                Conv::Frames(f)
            }
        }
    }
}

/// The EUI-64 link-local IPv6 address of a MAC.
fn link_local(mac: [u8; 6]) -> Ipv6Addr {
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        u16::from_be_bytes([mac[0] ^ 0x02, mac[1]]),
        u16::from_be_bytes([mac[2], 0xff]),
        u16::from_be_bytes([0xfe, mac[3]]),
        u16::from_be_bytes([mac[4], mac[5]]),
    )
}

/// HL7 time stamp (`YYYYMMDDHHMMSS`) of a capture time.
fn hl7_time(ns: u64) -> String {
    let t = ward_core::Timestamp::from_nanos(ns).to_string();
    t.chars().filter(char::is_ascii_digit).take(14).collect()
}

fn hex_mac(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const CERT_EHR: &[u8] = include_bytes!("../assets/ehr.hospital.example.der");
