//! Helpers the dissectors' tests share: a flow context, a conversation driven through the
//! real per-flow probing, and the observations reduced to comparable tuples.

use std::net::{IpAddr, Ipv4Addr};

use ward_core::{Direction, Endpoint, IpProto, Observation, ObservationKind, Timestamp, Vlans};

use crate::{DissectStats, Dissector, FlowContext, FlowDissection, Registry, Transport};

/// A flow from `from:fport` to `to:tport`.
pub(crate) fn ctx(proto: IpProto, from: [u8; 4], fport: u16, to: [u8; 4], tport: u16) -> FlowContext {
    let ep = |a: [u8; 4], port| Endpoint { ip: IpAddr::V4(Ipv4Addr::from(a)), port, mac: None };
    FlowContext {
        ts: Timestamp::from_secs(1),
        uid: 1,
        vlans: Vlans::default(),
        proto,
        initiator: ep(from, fport),
        responder: ep(to, tport),
    }
}

/// Runs `messages` through a registry holding only `d`, as the sensor would (probing first),
/// then ends the flow. Returns what was observed, the flow's protocol and the counters.
pub(crate) fn converse(
    d: impl Dissector + 'static,
    ctx: &FlowContext,
    messages: &[(Direction, &[u8])],
) -> (Vec<Observation>, Option<&'static str>, DissectStats) {
    let transport = d.transport();
    let reg = Registry::empty().with(Box::new(d));
    let mut fd = FlowDissection::start(&reg, transport);
    let (mut out, mut stats) = (Vec::new(), DissectStats::default());
    for (dir, bytes) in messages {
        match transport {
            Transport::Tcp => fd.on_stream(&reg, ctx, *dir, bytes, &mut out, &mut stats),
            Transport::Udp => fd.on_datagram(&reg, ctx, *dir, bytes, &mut out, &mut stats),
        };
    }
    let protocol = fd.protocol();
    fd.on_end(ctx, &mut out, &mut stats);
    (out, protocol, stats)
}

/// (device, key, value, source) of each attribute, as strings.
pub(crate) fn attrs(out: &[Observation]) -> Vec<(String, String, String, String)> {
    out.iter()
        .filter_map(|o| match &o.kind {
            ObservationKind::Attribute { key, value, evidence } => {
                Some((o.device.to_string(), key.to_string(), value.clone(), evidence.source.to_string()))
            }
            _ => None,
        })
        .collect()
}

/// The value of the first attribute named `key`.
pub(crate) fn value<'a>(out: &'a [Observation], key: &str) -> Option<&'a str> {
    out.iter().find_map(|o| match &o.kind {
        ObservationKind::Attribute { key: k, value, .. } if k == key => Some(value.as_str()),
        _ => None,
    })
}

/// The credential observations.
pub(crate) fn credentials(out: &[Observation]) -> Vec<&Observation> {
    out.iter().filter(|o| matches!(o.kind, ObservationKind::Credential { .. })).collect()
}

/// Whether `device` has the attribute `key` = `value`.
pub(crate) fn has(out: &[Observation], device: &str, key: &str, value: &str) -> bool {
    attrs(out).iter().any(|(d, k, v, _)| d == device && k == key && v == value)
}

/// (device, phi, source) of each cleartext observation, all of which must be `protocol`'s.
pub(crate) fn cleartext_evidence(out: &[Observation], protocol: &str) -> Vec<(String, bool, String)> {
    out.iter()
        .filter_map(|o| match &o.kind {
            ObservationKind::Cleartext { protocol: p, phi, evidence } => {
                assert_eq!(p, protocol);
                Some((o.device.to_string(), *phi, evidence.source.to_string()))
            }
            _ => None,
        })
        .collect()
}

/// (device, phi) of each cleartext observation, all of which must be `protocol`'s.
pub(crate) fn cleartexts(out: &[Observation], protocol: &str) -> Vec<(String, bool)> {
    cleartext_evidence(out, protocol).into_iter().map(|(d, phi, _)| (d, phi)).collect()
}
