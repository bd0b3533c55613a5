use std::net::Ipv4Addr;

use super::*;
use crate::decode::tcp_flags::PSH;

const S: u64 = 1_000_000_000;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn pkt(t: u64, src: u8, sport: u16, dst: u8, dport: u16, flags: u8) -> PacketMeta {
    PacketMeta {
        ts: Timestamp::from_nanos(1_000 * S + t),
        vlans: Vlans::default(),
        src: ip(src),
        dst: ip(dst),
        proto: 6,
        src_port: sport,
        dst_port: dport,
        ip_len: 100,
        tcp_flags: flags,
        src_mac: Some(Mac([0, 0, 0, 0, 0, src])),
        hint: InitiatorHint::guess(6, flags, sport, dport, false),
    }
}

fn table() -> FlowTable<()> {
    FlowTable::new(FlowConfig::default(), 3)
}

fn ended(t: &mut FlowTable<()>) -> Vec<(FlowRecord, FlowEndReason)> {
    t.take_ended().map(|e| (e.flow.record(e.reason, None), e.reason)).collect()
}

/// A full TCP conversation from 1:40000 to 2:80, starting at `t0`.
fn conversation(t: &mut FlowTable<()>, t0: u64) {
    let c = |dt: u64, to_server: bool, flags: u8| {
        if to_server { pkt(t0 + dt, 1, 40000, 2, 80, flags) } else { pkt(t0 + dt, 2, 80, 1, 40000, flags) }
    };
    for m in [
        c(0, true, SYN),
        c(1, false, SYN | ACK),
        c(2, true, ACK),
        c(3, true, ACK | PSH),
        c(4, false, ACK | PSH),
        c(5, true, FIN | ACK),
        c(6, false, FIN | ACK),
        c(7, true, ACK),
    ] {
        t.update(&m).unwrap();
        t.expire(m.ts);
    }
}

#[test]
fn both_directions_share_one_flow() {
    let mut t = table();
    conversation(&mut t, 0);
    assert_eq!(t.len(), 1);
    // The last ACK does not make a new flow; the closed flow lingers, then ends.
    t.expire(Timestamp::from_nanos(1_000 * S + 10 * S));
    let e = ended(&mut t);
    assert_eq!(e.len(), 1);
    let (r, reason) = &e[0];
    assert_eq!(*reason, FlowEndReason::Fin);
    assert_eq!((r.initiator.ip, r.initiator.port, r.responder.port), (ip(1), 40000, 80));
    assert_eq!(r.packets, [5, 3]);
    assert_eq!(r.bytes, [500, 300]);
    assert_eq!(r.tcp_flags, [SYN | ACK | PSH | FIN, SYN | ACK | PSH | FIN]);
    assert_eq!(r.initiator.mac, Some(Mac([0, 0, 0, 0, 0, 1])));
    assert_eq!(r.responder.mac, Some(Mac([0, 0, 0, 0, 0, 2])));
    assert_eq!(r.end, Timestamp::from_nanos(1_000 * S + 7));
    assert!(!r.is_failed_connection());
    assert_eq!(t.stats.ended_fin, 1);
}

#[test]
fn initiator_from_syn_ack_and_well_known_ports() {
    let mut t = table();
    t.update(&pkt(0, 2, 80, 1, 40000, SYN | ACK)).unwrap();
    let mut udp = pkt(0, 9, 53, 1, 50000, 0);
    udp.proto = 17;
    udp.hint = InitiatorHint::guess(17, 0, 53, 50000, false);
    t.update(&udp).unwrap();
    t.close_all(Timestamp::from_nanos(1_000 * S + 20));
    let e = ended(&mut t);
    let tcp = e.iter().find(|(r, _)| r.proto == IpProto::TCP).unwrap();
    assert_eq!((tcp.0.initiator.ip, tcp.0.initiator.port), (ip(1), 40000));
    assert_eq!(tcp.0.packets, [0, 1]);
    let dns = e.iter().find(|(r, _)| r.proto == IpProto::UDP).unwrap();
    assert_eq!((dns.0.initiator.ip, dns.0.responder.port), (ip(1), 53));
    assert_eq!(dns.1, FlowEndReason::EndOfCapture);
}

#[test]
fn reset_ends_and_failed_connections_show() {
    let mut t = table();
    t.update(&pkt(0, 1, 40001, 2, 443, SYN)).unwrap();
    t.update(&pkt(1, 2, 443, 1, 40001, RST | ACK)).unwrap();
    t.expire(Timestamp::from_nanos(1_000 * S + 3 * S));
    let e = ended(&mut t);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].1, FlowEndReason::Rst);
    assert!(e[0].0.is_failed_connection());
}

#[test]
fn idle_flows_time_out_by_protocol() {
    let mut t = table();
    t.update(&pkt(0, 1, 40002, 2, 22, SYN)).unwrap(); // unanswered: 30 s
    conversation(&mut t, 0); // closes by FIN
    let mut udp = pkt(0, 1, 5000, 3, 161, 0);
    udp.proto = 17;
    t.update(&udp).unwrap(); // 60 s
    t.expire(Timestamp::from_nanos(1_000 * S + 20 * S));
    assert_eq!(ended(&mut t).len(), 1, "only the FIN-closed flow after 20 s");
    t.expire(Timestamp::from_nanos(1_000 * S + 40 * S));
    let e = ended(&mut t);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].0.responder.port, e[0].1), (22, FlowEndReason::Idle));
    t.expire(Timestamp::from_nanos(1_000 * S + 70 * S));
    assert_eq!(ended(&mut t)[0].0.responder.port, 161);
    assert!(t.is_empty());
}

#[test]
fn port_reuse_after_close_starts_a_new_flow() {
    let mut t = table();
    conversation(&mut t, 0);
    conversation(&mut t, 1_000);
    let e = ended(&mut t);
    assert_eq!(e.len(), 1, "the first conversation ends when the second SYN arrives");
    assert_eq!(e[0].0.packets, [5, 3]);
    assert_eq!(t.len(), 1);
    assert_eq!(t.stats.created, 2);
}

#[test]
fn vlans_separate_flows() {
    let mut t = table();
    let mut a = pkt(0, 1, 1, 2, 2, SYN);
    t.update(&a).unwrap();
    a.vlans = Vlans { outer: Some(10), inner: None };
    t.update(&a).unwrap();
    a.vlans = Vlans { outer: Some(10), inner: Some(20) };
    t.update(&a).unwrap();
    assert_eq!(t.len(), 3);
}

#[test]
fn a_full_table_evicts_stale_flows_then_refuses_and_counts() {
    let cfg = FlowConfig { max_flows: 4, ..FlowConfig::default() };
    let mut t: FlowTable<()> = FlowTable::new(cfg, 0);
    for i in 0..4 {
        t.update(&pkt(0, 1, 1000 + i, 2, 80, SYN)).unwrap();
    }
    // 5 s later the unanswered SYNs are stale under emergency timeouts (30 s / 16).
    assert!(t.update(&pkt(5 * S, 1, 2000, 2, 80, SYN)).is_some());
    assert_eq!(t.stats.evicted, 4);
    for i in 0..3 {
        t.update(&pkt(5 * S, 1, 3000 + i, 2, 80, SYN)).unwrap();
    }
    assert!(t.update(&pkt(5 * S + 1, 1, 4000, 2, 80, SYN)).is_none());
    assert_eq!(t.stats.table_full, 1);
    assert_eq!(t.stats.peak_flows, 4);
}

#[test]
fn a_packet_after_the_idle_timeout_starts_a_new_flow_even_without_a_sweep() {
    let mut t = table();
    let mut q = pkt(0, 1, 5000, 2, 53, 0);
    q.proto = 17;
    t.update(&q).unwrap();
    // 61 s later, with no expire() call in between: still a new conversation.
    q.ts = Timestamp::from_nanos(1_000 * S + 61 * S);
    assert!(t.update(&q).unwrap().created);
    let e = ended(&mut t);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].1, FlowEndReason::Idle);
    // And a retransmitted FIN long after the linger does not reopen the closed flow.
    conversation(&mut t, 100 * S);
    let late = pkt(100 * S + 10 * S, 1, 40000, 2, 80, FIN | ACK);
    assert!(t.update(&late).unwrap().created);
    assert_eq!(ended(&mut t)[0].1, FlowEndReason::Fin);
    // At the end of the capture, flows past their timeout end as idle, the others as open.
    t.close_all(Timestamp::from_nanos(1_000 * S + 400 * S));
    assert!(ended(&mut t).iter().all(|(_, r)| *r == FlowEndReason::Idle));
}

#[test]
fn out_of_order_timestamps_do_not_move_time_back() {
    let mut t = table();
    t.update(&pkt(10, 1, 1, 2, 2, SYN)).unwrap();
    t.update(&pkt(5, 2, 2, 1, 1, SYN | ACK)).unwrap();
    t.close_all(Timestamp::from_nanos(1_000 * S + 20));
    let e = ended(&mut t);
    assert_eq!(e[0].0.end, Timestamp::from_nanos(1_000 * S + 10));
}

#[test]
fn a_flow_entry_is_small() {
    let entry = std::mem::size_of::<Flow<()>>();
    assert!(entry <= 160, "{entry} bytes");
    let mut t = table();
    for i in 0..10_000u32 {
        let mut m = pkt(0, 1, (i % 60_000) as u16, 2, 80, SYN);
        m.src = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        t.update(&m).unwrap();
    }
    let per_flow = t.table_bytes() / t.len();
    assert!(per_flow < 512, "{per_flow} bytes per flow");
}
