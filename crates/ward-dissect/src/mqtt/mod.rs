//! MQTT 3.1, 3.1.1 and 5 over TCP: who is the client and who the broker, the client id and
//! protocol version a client connects with, its will topic, the topics it publishes to and
//! subscribes to, and a login sent in cleartext, judged as a credential (account kind, a known
//! default or not, and whether the broker's CONNACK accepted it) without being kept.
//!
//! PUBLISH payloads (which may carry vital signs) and will messages are never read: a
//! PUBLISH is read up to its topic and the rest is skipped by length as it streams past, so a
//! payload of any size costs no buffering. Every MQTT flow is a cleartext observation for both
//! sides (MQTT inside TLS is TLS's flow, not this one's).
//!
//! A flow is recognised from a client's CONNECT, or from a broker's CONNACK when the capture
//! starts after the CONNECT (Suricata's `mqtt-midstream-split` is such a capture): a CONNACK
//! is short, so it counts only when its bytes are exactly a well-formed one.

mod parser;
#[cfg(test)]
mod tests;

use ward_core::{DeviceKey, Direction, Observation, ObservationKind};

use crate::{
    Dissector, Emitter, FlowContext, Parsed, Probe, Repeats, Session, Transport, cleartext, credentials,
};
use parser::Header;

/// The MQTT dissector.
pub struct MqttDissector;

/// Largest packet read whole (PUBLISH payloads excepted: those are skipped, never read).
/// Larger packets are skipped unread. It stays below the flow's pending-bytes cap.
const MAX_READ: usize = 60 << 10;
/// Distinct topics reported per flow.
const MAX_TOPICS: usize = 16;

impl Dissector for MqttDissector {
    fn name(&self) -> &'static str {
        "mqtt"
    }
    fn transport(&self) -> Transport {
        Transport::Tcp
    }
    fn probe(&self, _dir: Direction, data: &[u8]) -> Probe {
        let h = match parser::header(data) {
            Ok(Some(h)) => h,
            Ok(None) if data.first().is_none_or(|b| plausible_type(*b)) => return Probe::NeedMore,
            _ => return Probe::NoMatch,
        };
        let body = data.get(h.len..).unwrap_or_default();
        match (data[0], h.remaining) {
            // CONNECT: the smallest is a 3.1.1 one with an empty client id (12 bytes).
            (0x10, 12..=MAX_READ) => match parser::protocol_level(body) {
                Ok(Some(_)) => Probe::Match,
                Ok(None) => Probe::NeedMore,
                Err(_) => Probe::NoMatch,
            },
            (0x10, _) => Probe::NoMatch,
            (0x20, 2..=255) => {
                let Some(body) = body.get(..h.remaining) else { return Probe::NeedMore };
                if connack_shape(body) { Probe::Match } else { Probe::NoMatch }
            }
            _ => midstream(data),
        }
    }
    fn start(&self) -> Box<dyn Session> {
        Box::new(MqttSession::default())
    }
}

/// Whether `body` is exactly a CONNACK's: acknowledge flags 0 or 1, then a 3.1.1 return code
/// (0 to 5) with nothing after it, or an MQTT 5 reason code (0 or 0x80 and above) and a
/// property block that ends where the packet does.
fn connack_shape(body: &[u8]) -> bool {
    match body {
        [flags, rc] => *flags <= 1 && *rc <= 5,
        [flags, rc, props @ ..] => {
            *flags <= 1
                && (*rc == 0 || *rc >= 0x80)
                && matches!(parser::varint(props), Ok(Some((n, used))) if used.checked_add(n) == Some(props.len()))
        }
        _ => false,
    }
}

/// Whether a fixed header's first byte has a type and the flags the specification fixes for
/// it (3.1.1 section 2.2.2): PUBLISH's QoS is not 3, PUBREL, SUBSCRIBE and UNSUBSCRIBE carry
/// 0b0010, the others 0.
fn plausible_type(first: u8) -> bool {
    let (kind, flags) = (first >> 4, first & 0x0f);
    match kind {
        parser::PUBLISH => flags & 0x06 != 0x06,
        6 | parser::SUBSCRIBE | parser::UNSUBSCRIBE => flags == 2,
        1 | 2 | 4 | 5 | 7 | parser::SUBACK | parser::UNSUBACK | 12..=15 => flags == 0,
        _ => false,
    }
}

/// A flow whose start the capture missed: the bytes must be a chain of well-formed packets,
/// at least two, one of them a PUBLISH or SUBSCRIBE with a printable topic (two bytes such as
/// a PINGREQ's are too common to go by). A PUBLISH longer than the bytes counts once its
/// topic is seen.
fn midstream(data: &[u8]) -> Probe {
    let (mut rest, mut packets, mut topics) = (data, 0, 0);
    while let Some(&first) = rest.first() {
        if !plausible_type(first) {
            return Probe::NoMatch;
        }
        let h = match parser::header(rest) {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(_) => return Probe::NoMatch,
        };
        let body = rest.get(h.len..).unwrap_or_default();
        let (kind, r) = (h.kind, h.remaining);
        let shape = match kind {
            parser::PUBLISH | parser::SUBSCRIBE => {
                // SUBSCRIBE: a packet id first (and, in 5, properties: not tried).
                let at = if kind == parser::SUBSCRIBE { 2 } else { 0 };
                let Some(len) = body.get(at..at + 2) else { break };
                let n = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if n == 0 || at + 2 + n > r {
                    return Probe::NoMatch;
                }
                let Some(topic) = body.get(at + 2..at + 2 + n) else { break };
                let printable = std::str::from_utf8(topic).is_ok_and(|t| !t.chars().any(char::is_control));
                topics += 1;
                printable
            }
            parser::CONNACK => body.get(..r).is_none_or(connack_shape),
            4..=7 => (2..=64).contains(&r),
            12 | 13 => r == 0,
            _ => r <= 64,
        };
        if !shape {
            return Probe::NoMatch;
        }
        packets += 1;
        match rest.get(h.len + r..) {
            Some(next) => rest = next,
            None => break,
        }
        if packets >= 2 && topics > 0 {
            return Probe::Match;
        }
    }
    if packets >= 2 && topics > 0 {
        return Probe::Match;
    }
    Probe::NeedMore
}

#[derive(Default)]
struct MqttSession {
    /// Bytes of each direction still to skip (a PUBLISH payload, an oversized packet).
    skip: [u64; 2],
    /// The direction the client sends in, once a packet told.
    client: Option<Direction>,
    /// The protocol level the CONNECT named (3, 4 or 5); 0 before one was seen.
    level: u8,
    /// The login judged from the CONNECT, waiting for the CONNACK to say if it was taken.
    login: Option<Observation>,
    topics: usize,
    /// Topics seen before the roles were known.
    unplaced: Vec<(String, &'static str)>,
    roles: bool,
    repeats: Repeats,
}

/// The device that sent bytes travelling in `dir`.
fn sender(ctx: &FlowContext, dir: Direction) -> DeviceKey {
    match dir {
        Direction::ToResponder => DeviceKey::Ip(ctx.initiator.ip),
        Direction::ToInitiator => DeviceKey::Ip(ctx.responder.ip),
    }
}

fn version_name(level: u8) -> &'static str {
    match level {
        3 => "3.1",
        4 => "3.1.1",
        _ => "5",
    }
}

impl MqttSession {
    /// Learns the roles from a packet only one side sends; reports them and the cleartext
    /// once.
    fn roles(&mut self, ctx: &FlowContext, client_dir: Direction, out: &mut Emitter<'_>) {
        if self.client.is_none() {
            self.client = Some(client_dir);
        }
        if self.roles {
            return;
        }
        self.roles = true;
        let (client, broker) = (sender(ctx, client_dir), sender(ctx, client_dir.reverse()));
        self.repeats.attribute(out, ctx.ts, client, "role", "MQTT client", "mqtt", 80);
        self.repeats.attribute(out, ctx.ts, broker, "role", "MQTT broker", "mqtt", 80);
        out.emit(cleartext(ctx.ts, client, "mqtt", false, "mqtt"));
        out.emit(cleartext(ctx.ts, broker, "mqtt", false, "mqtt"));
        for (topic, source) in std::mem::take(&mut self.unplaced) {
            self.place_topic(ctx, client, &topic, source, out);
        }
    }

    /// A topic is the client's; until a packet tells which side the client is (a capture
    /// that started mid-connection, where both sides publish), it is held.
    fn topic(&mut self, ctx: &FlowContext, topic: &[u8], source: &'static str, out: &mut Emitter<'_>) {
        if topic.is_empty() {
            return;
        }
        let topic = String::from_utf8_lossy(topic);
        match self.client {
            Some(dir) => self.place_topic(ctx, sender(ctx, dir), &topic, source, out),
            None if self.unplaced.len() < MAX_TOPICS && !self.unplaced.iter().any(|(t, _)| *t == topic) => {
                self.unplaced.push((topic.into_owned(), source));
            }
            None => {}
        }
    }

    fn place_topic(
        &mut self,
        ctx: &FlowContext,
        device: DeviceKey,
        topic: &str,
        source: &'static str,
        out: &mut Emitter<'_>,
    ) {
        if self.topics < MAX_TOPICS && self.repeats.first(&device, "mqtt_topic", topic) {
            self.topics += 1;
            if let Some(o) = crate::attribute(ctx.ts, device, "mqtt_topic", topic, source, 80) {
                out.emit(o);
            }
        }
    }

    /// The flow ends without a packet that tells the roles: the topics are both sides' (the
    /// broker relays them), and no role is guessed.
    fn flush_unplaced(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        if self.unplaced.is_empty() {
            return;
        }
        for dev in [DeviceKey::Ip(ctx.initiator.ip), DeviceKey::Ip(ctx.responder.ip)] {
            out.emit(cleartext(ctx.ts, dev, "mqtt", false, "mqtt"));
            for (topic, source) in &self.unplaced {
                if let Some(o) = crate::attribute(ctx.ts, dev, "mqtt_topic", topic, source, 60) {
                    out.emit(o);
                }
            }
        }
        self.unplaced.clear();
    }

    fn on_connect(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        body: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        let c = parser::connect(body)?;
        self.roles(ctx, dir, out);
        self.level = c.level;
        let client = sender(ctx, dir);
        let broker = sender(ctx, dir.reverse());
        let r = &mut self.repeats;
        r.attribute(
            out,
            ctx.ts,
            client,
            "mqtt_version",
            version_name(c.level),
            "mqtt.connect.protocol_level",
            90,
        );
        let id = String::from_utf8_lossy(c.client_id);
        r.attribute(out, ctx.ts, client, "mqtt_client_id", &id, "mqtt.connect.client_id", 90);
        if let Some(t) = c.will_topic {
            let t = String::from_utf8_lossy(t);
            r.attribute(out, ctx.ts, client, "mqtt_will_topic", &t, "mqtt.connect.will_topic", 80);
        }
        if c.user.is_some() || c.password.is_some() {
            let user = String::from_utf8_lossy(c.user.unwrap_or_default());
            let password = String::from_utf8_lossy(c.password.unwrap_or_default());
            let judged = credentials::observation(
                ctx.ts,
                broker,
                "mqtt",
                &user,
                &password,
                None,
                "mqtt.connect.username",
            );
            // A second CONNECT before the first was answered: report the first unanswered.
            if let Some(o) = self.login.replace(judged) {
                out.emit(o);
            }
        }
        // MQTT 3.1.1 section 3.1.2.9: no password without a user name (5 allows it).
        if c.level < 5 && c.password.is_some() && c.user.is_none() {
            // The flow ends here: the login is reported now, its answer unknown.
            if let Some(o) = self.login.take() {
                out.emit(o);
            }
            return Err("mqtt password without user name");
        }
        Ok(())
    }

    fn on_connack(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        body: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        let (rc, assigned) = parser::connack(body)?;
        self.roles(ctx, dir.reverse(), out);
        if let Some(id) = assigned {
            let id = String::from_utf8_lossy(id);
            let client = sender(ctx, dir.reverse());
            let r = &mut self.repeats;
            r.attribute(
                out,
                ctx.ts,
                client,
                "mqtt_client_id",
                &id,
                "mqtt.connack.assigned_client_identifier",
                80,
            );
        }
        if self.level == 0 {
            // Seen without its CONNECT: an MQTT 5 CONNACK carries properties, older ones not.
            self.level = if body.len() > 2 { 5 } else { 4 };
        }
        let broker = sender(ctx, dir);
        self.repeats.attribute(
            out,
            ctx.ts,
            broker,
            "mqtt_version",
            version_name(self.level),
            "mqtt.connack",
            70,
        );
        if let Some(mut o) = self.login.take() {
            if let ObservationKind::Credential { accepted, .. } = &mut o.kind {
                *accepted = Some(rc == 0);
            }
            out.emit(o);
        }
        Ok(())
    }

    /// One whole packet (PUBLISH excepted).
    fn packet(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        h: Header,
        body: &[u8],
        out: &mut Emitter<'_>,
    ) -> Result<(), &'static str> {
        match h.kind {
            parser::CONNECT => self.on_connect(ctx, dir, body, out)?,
            parser::CONNACK => self.on_connack(ctx, dir, body, out)?,
            parser::SUBSCRIBE | parser::UNSUBSCRIBE => {
                self.roles(ctx, dir, out);
                let subscribe = h.kind == parser::SUBSCRIBE;
                let source = if subscribe { "mqtt.subscribe.topic" } else { "mqtt.unsubscribe.topic" };
                let level = if self.level == 0 { 4 } else { self.level };
                let mut topics: [&[u8]; MAX_TOPICS] = [&[]; MAX_TOPICS];
                let mut n = 0;
                parser::topic_filters(body, level, subscribe, |t| {
                    if let Some(slot) = topics.get_mut(n) {
                        *slot = t;
                        n += 1;
                    }
                })?;
                for t in topics.iter().take(n) {
                    self.topic(ctx, t, source, out);
                }
            }
            parser::PINGREQ => self.roles(ctx, dir, out),
            parser::SUBACK | parser::UNSUBACK | parser::PINGRESP => self.roles(ctx, dir.reverse(), out),
            0 => return Err("mqtt reserved packet type 0"),
            parser::AUTH if self.level != 0 && self.level < 5 => {
                return Err("mqtt auth packet before version 5");
            }
            _ => {}
        }
        Ok(())
    }
}

impl Session for MqttSession {
    fn parse(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter<'_>) -> Parsed {
        let d = dir.index();
        let mut pos = 0usize;
        loop {
            if self.skip[d] > 0 {
                let left = data.len() - pos;
                let n = usize::try_from(self.skip[d]).unwrap_or(usize::MAX).min(left);
                pos += n;
                self.skip[d] -= n as u64;
                if self.skip[d] > 0 {
                    return Parsed::Consumed(pos);
                }
            }
            let rest = data.get(pos..).unwrap_or_default();
            let h = match parser::header(rest) {
                Ok(Some(h)) => h,
                Ok(None) => return Parsed::Consumed(pos),
                Err(e) => return Parsed::Malformed(e),
            };
            let after = rest.get(h.len..).unwrap_or_default();
            if h.kind == parser::PUBLISH {
                if h.flags & 0x06 == 0x06 {
                    return Parsed::Malformed("mqtt publish with qos 3");
                }
                // Only the topic is read; the payload streams past.
                let Some(len) = after.get(..2) else {
                    if h.remaining < 2 {
                        return Parsed::Malformed("mqtt publish without a topic");
                    }
                    return Parsed::Consumed(pos);
                };
                let topic_len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if topic_len + 2 > h.remaining {
                    return Parsed::Malformed("mqtt publish topic runs past its packet");
                }
                if topic_len + 2 <= MAX_READ {
                    let Ok(t) = parser::publish_topic(after) else { return Parsed::Consumed(pos) };
                    // Either side publishes: the roles are not told by it.
                    self.topic(ctx, t, "mqtt.publish.topic", out);
                }
            } else if h.remaining <= MAX_READ {
                let Some(body) = after.get(..h.remaining) else { return Parsed::Consumed(pos) };
                if let Err(e) = self.packet(ctx, dir, h, body, out) {
                    return Parsed::Malformed(e);
                }
            }
            // Step over the packet: what is here now, and the rest as it arrives.
            let total = h.len as u64 + h.remaining as u64;
            let here = (rest.len() as u64).min(total);
            pos += here as usize;
            self.skip[d] = total - here;
            if self.topics >= MAX_TOPICS && self.login.is_none() && self.level != 0 {
                return Parsed::Done;
            }
        }
    }

    fn gap(&mut self, dir: Direction, len: u64) -> bool {
        // A hole inside a payload being skipped costs nothing; elsewhere framing is lost.
        let d = dir.index();
        if self.skip[d] >= len {
            self.skip[d] -= len;
            true
        } else {
            false
        }
    }

    fn end(&mut self, ctx: &FlowContext, out: &mut Emitter<'_>) {
        self.flush_unplaced(ctx, out);
        if let Some(o) = self.login.take() {
            out.emit(o);
        }
    }
}
