//! SNMP v1, v2c and v3: what agents say about themselves in answers (`sysDescr`,
//! `sysObjectID`, `sysName`, `sysLocation`), the SNMP version in use, the engine ID of v3
//! agents (whose first bytes name the vendor's IANA enterprise number), and communities sent
//! in cleartext, judged as credentials without being kept: `public` and `private` are the
//! defaults of nearly every agent. A v3 request without authentication is a weak credential
//! too: the user name alone opens the agent.

#[cfg(test)]
mod tests;

use snmp_parser::{
    ObjectSyntax, PduType, ScopedPduData, SecurityParameters, SnmpGenericMessage, SnmpPdu, SnmpVariable,
    VarBindValue, parse_snmp_generic_message,
};
use ward_core::{
    AccountKind, DeviceKey, Direction, Evidence, Observation, ObservationKind, Timestamp, Weakness,
};

use crate::{Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport};

/// The SNMP dissector.
pub struct SnmpDissector;

/// Communities agents ship with.
const DEFAULT_COMMUNITIES: [&str; 2] = ["public", "private"];
/// Requests remembered while their answers are awaited.
const MAX_PENDING: usize = 16;

impl Dissector for SnmpDissector {
    fn name(&self) -> &'static str {
        "snmp"
    }
    fn transport(&self) -> Transport {
        Transport::Udp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        // A BER SEQUENCE holding version 0, 1 or 3 as its first INTEGER, then a full parse.
        if data.len() < 8 || data[0] != 0x30 {
            return Probe::NoMatch;
        }
        match parse_snmp_generic_message(data) {
            Ok(_) => Probe::Match,
            Err(_) => Probe::NoMatch,
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(SnmpSession::default())
    }
}

#[derive(Default)]
struct SnmpSession {
    /// (request id, the credential judged from it) of requests not answered yet.
    pending: Vec<(u32, Observation)>,
    repeats: Repeats,
}

fn is_request(t: PduType) -> bool {
    matches!(t, PduType::GetRequest | PduType::GetNextRequest | PduType::SetRequest | PduType::GetBulkRequest)
}

/// The type and request id of a PDU, and its variables.
fn pdu_parts<'a>(pdu: &'a SnmpPdu<'a>) -> (PduType, Option<u32>, &'a [SnmpVariable<'a>]) {
    match pdu {
        SnmpPdu::Generic(g) => (g.pdu_type, Some(g.req_id), &g.var),
        SnmpPdu::Bulk(b) => (PduType::GetBulkRequest, Some(b.req_id), &b.var),
        SnmpPdu::TrapV1(t) => (PduType::TrapV1, None, &t.var),
    }
}

fn credential(
    ts: Timestamp,
    device: DeviceKey,
    protocol: &'static str,
    account: AccountKind,
    weakness: Weakness,
    source: &'static str,
) -> Observation {
    Observation {
        ts,
        device,
        kind: ObservationKind::Credential {
            protocol: protocol.into(),
            account,
            weakness,
            accepted: None,
            evidence: Evidence::new(source, 90),
        },
    }
}

/// The IANA enterprise number at the start of an RFC 3411 engine ID (high bit set).
fn enterprise(engine_id: &[u8]) -> Option<u32> {
    let b: [u8; 4] = engine_id.get(..4)?.try_into().ok()?;
    let n = u32::from_be_bytes(b);
    (n & 0x8000_0000 != 0).then_some(n & 0x7fff_ffff)
}

impl SnmpSession {
    /// A request's credential, held until its answer shows whether the agent took it.
    fn hold(
        &mut self,
        req_id: Option<u32>,
        dev: &DeviceKey,
        secret_kind: &str,
        judged: Observation,
        out: &mut Emitter<'_>,
    ) {
        // Report each community or user once per flow and agent: the hash is of the secret's
        // judgement key, not of the secret.
        if !self.repeats.first(dev, "snmp_credential", secret_kind) {
            return;
        }
        match req_id {
            Some(id) if self.pending.len() < MAX_PENDING => self.pending.push((id, judged)),
            _ => out.emit(judged),
        }
    }

    fn answered(&mut self, req_id: Option<u32>, out: &mut Emitter<'_>) {
        let Some(id) = req_id else { return };
        if let Some(i) = self.pending.iter().position(|(r, _)| *r == id) {
            let (_, mut o) = self.pending.swap_remove(i);
            if let ObservationKind::Credential { accepted, .. } = &mut o.kind {
                *accepted = Some(true);
            }
            out.emit(o);
        }
    }

    fn variables(
        &mut self,
        ts: Timestamp,
        agent: DeviceKey,
        vars: &[SnmpVariable<'_>],
        out: &mut Emitter<'_>,
    ) {
        for v in vars {
            let oid = v.oid.to_id_string();
            let (key, source, conf) = match oid.as_str() {
                "1.3.6.1.2.1.1.1.0" => ("snmp_sys_descr", "snmp.sysDescr", 80),
                "1.3.6.1.2.1.1.2.0" => ("snmp_sys_object_id", "snmp.sysObjectID", 80),
                "1.3.6.1.2.1.1.5.0" => ("snmp_sys_name", "snmp.sysName", 70),
                "1.3.6.1.2.1.1.6.0" => ("snmp_sys_location", "snmp.sysLocation", 60),
                _ => continue,
            };
            let value = match &v.val {
                VarBindValue::Value(ObjectSyntax::String(s)) => String::from_utf8_lossy(s).into_owned(),
                VarBindValue::Value(ObjectSyntax::Object(o)) => o.to_id_string(),
                _ => continue,
            };
            self.repeats.attribute(out, ts, agent, key, &value, source, conf);
        }
    }
}

impl Session for SnmpSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let Ok((_, msg)) = parse_snmp_generic_message(data) else {
            return Parsed::Malformed("not an snmp message");
        };
        let (sender, receiver) = match dir {
            Direction::ToResponder => (ctx.initiator.ip, ctx.responder.ip),
            Direction::ToInitiator => (ctx.responder.ip, ctx.initiator.ip),
        };
        let (sender, receiver) = (DeviceKey::Ip(sender), DeviceKey::Ip(receiver));
        let ts = ctx.ts;
        match &msg {
            SnmpGenericMessage::V1(m) | SnmpGenericMessage::V2(m) => {
                let version = if m.version == 0 { "1" } else { "2c" };
                let (kind, req_id, vars) = pdu_parts(&m.pdu);
                // The agent is who answers requests and who sends traps.
                let agent = if is_request(kind) { receiver } else { sender };
                self.repeats.attribute(out, ts, agent, "snmp_version", version, "snmp.version", 80);
                if kind == PduType::Response {
                    self.answered(req_id, out);
                    self.variables(ts, sender, vars, out);
                } else {
                    let weakness = if DEFAULT_COMMUNITIES.contains(&m.community.as_str()) {
                        Weakness::Default
                    } else {
                        Weakness::Cleartext
                    };
                    // The side that accepts the community: the agent for requests, the manager
                    // for traps and informs.
                    let judged =
                        credential(ts, receiver, "snmp", AccountKind::None, weakness, "snmp.community");
                    let kind_key = if weakness == Weakness::Default { m.community.as_str() } else { "other" };
                    let req = if is_request(kind) { req_id } else { None };
                    self.hold(req, &receiver, kind_key, judged, out);
                }
            }
            SnmpGenericMessage::V3(m) => {
                let ScopedPduData::Plaintext(scoped) = &m.data else {
                    // Encrypted: the PDU, and so who is the agent, is not visible.
                    return Parsed::Consumed(data.len());
                };
                let (kind, req_id, vars) = pdu_parts(&scoped.data);
                let agent = if is_request(kind) { receiver } else { sender };
                self.repeats.attribute(out, ts, agent, "snmp_version", "3", "snmp.version", 80);
                if let SecurityParameters::USM(usm) = &m.security_params
                    && !usm.msg_authoritative_engine_id.is_empty()
                {
                    let id = usm.msg_authoritative_engine_id;
                    self.repeats.attribute(
                        out,
                        ts,
                        agent,
                        "snmp_engine_id",
                        &crate::hex(id),
                        "snmp.engine_id",
                        80,
                    );
                    if let Some(e) = enterprise(id) {
                        self.repeats.attribute(
                            out,
                            ts,
                            agent,
                            "snmp_enterprise",
                            &e.to_string(),
                            "snmp.engine_id",
                            70,
                        );
                    }
                    if is_request(kind) && !m.header_data.is_authenticated() && !usm.msg_user_name.is_empty()
                    {
                        let account = AccountKind::of(&usm.msg_user_name);
                        let judged = credential(
                            ts,
                            receiver,
                            "snmpv3",
                            account,
                            Weakness::Cleartext,
                            "snmp.usm.no_auth",
                        );
                        self.hold(req_id, &receiver, "v3-noauth", judged, out);
                    }
                }
                // A Report answers with an error (unknown engine or user, wrong digest): only a
                // Response shows the request was taken.
                if kind == PduType::Response {
                    self.answered(req_id, out);
                    self.variables(ts, sender, vars, out);
                }
            }
        }
        Parsed::Consumed(data.len())
    }

    fn end(&mut self, _ctx: &FlowContext, out: &mut Emitter<'_>) {
        // Never answered: v1 and v2c agents stay silent on a wrong community, so acceptance
        // is unknown.
        for (_, o) in self.pending.drain(..) {
            out.emit(o);
        }
    }
}
