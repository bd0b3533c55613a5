#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use ward_core::{AccountKind, Direction::*, IpProto, ObservationKind, Weakness};

use super::*;
use crate::testutil::{attrs, converse, credentials, ctx, has, value};

fn flow() -> crate::FlowContext {
    ctx(IpProto::TCP, [10, 7, 0, 20], 37758, [10, 7, 0, 5], 1883)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

// Captured from mosquitto_pub/mosquitto_sub against mosquitto (Suricata-verify's
// mqtt5-pub-userpass, mqtt311-sub-userpass, mqtt31-pub-userpass and mqtt5-sub-userpass):
// client id "myvoiceismypassport", user "user", password "pass".
const CONNECT_5: &str =
    "102f00044d51545405c2003c0321001400136d79766f69636569736d7970617373706f7274000475736572000470617373";
const CONNACK_5: &str = "200600000322000a";
const PUBLISH_5: &str = "30190006746f7069635800626161626161626c61636b7368656570";
const CONNECT_311: &str =
    "102b00044d51545404c2003c00136d79766f69636569736d7970617373706f7274000475736572000470617373";
const SUBSCRIBE_311: &str = "821400010006746f70696358000006746f7069635900";
const CONNECT_31: &str =
    "102d00064d514973647003c2003c00136d79766f69636569736d7970617373706f7274000475736572000470617373";
const PUBLISH_31: &str = "30180006746f70696358626161626161626c61636b7368656570";
const SUBSCRIBE_5: &str = "82150001000006746f70696358000006746f7069635900";
const CONNACK_OK: &str = "20020000";
const DISCONNECT: &str = "e000";

fn logins(out: &[Observation]) -> Vec<(AccountKind, Weakness, Option<bool>)> {
    credentials(out)
        .into_iter()
        .map(|o| match &o.kind {
            ObservationKind::Credential { account, weakness, accepted, protocol, .. } => {
                assert_eq!(protocol, "mqtt");
                assert_eq!(o.device.to_string(), "ip:10.7.0.5", "the broker holds the login");
                (*account, *weakness, *accepted)
            }
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn mqtt5_publish_with_login() {
    let msgs = [hex(CONNECT_5), hex(CONNACK_5), hex(PUBLISH_5), hex(DISCONNECT)];
    let dirs = [ToResponder, ToInitiator, ToResponder, ToResponder];
    let conv: Vec<(Direction, &[u8])> = dirs.iter().copied().zip(msgs.iter().map(|m| m.as_slice())).collect();
    let (out, proto, stats) = converse(MqttDissector, &flow(), &conv);
    assert_eq!(proto, Some("mqtt"));
    assert!(stats.malformed.is_empty(), "{stats:?}");
    let client = "ip:10.7.0.20";
    assert!(has(&out, client, "mqtt_client_id", "myvoiceismypassport"));
    assert!(has(&out, client, "mqtt_version", "5"));
    assert!(has(&out, client, "mqtt_topic", "topicX"));
    assert!(has(&out, client, "role", "MQTT client"));
    assert!(has(&out, "ip:10.7.0.5", "role", "MQTT broker"));
    assert_eq!(logins(&out), [(AccountKind::Generic, Weakness::Cleartext, Some(true))]);
    let clear: Vec<_> = out
        .iter()
        .filter_map(|o| match &o.kind {
            ObservationKind::Cleartext { protocol, phi, .. } => {
                Some((o.device.to_string(), protocol.clone(), *phi))
            }
            _ => None,
        })
        .collect();
    assert_eq!(clear.len(), 2, "{clear:?}");
    assert!(clear.iter().all(|(_, p, phi)| p == "mqtt" && !phi));
    // Neither the password nor the payload reaches an observation.
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("\"pass\"") && !json.contains("baabaa"), "{json}");
}

#[test]
fn mqtt311_subscribe_and_mqtt31_publish() {
    let msgs = [hex(CONNECT_311), hex(CONNACK_OK), hex(SUBSCRIBE_311), hex("900400010000"), hex(DISCONNECT)];
    let dirs = [ToResponder, ToInitiator, ToResponder, ToInitiator, ToResponder];
    let conv: Vec<(Direction, &[u8])> = dirs.iter().copied().zip(msgs.iter().map(|m| m.as_slice())).collect();
    let (out, _, stats) = converse(MqttDissector, &flow(), &conv);
    assert!(stats.malformed.is_empty());
    assert_eq!(value(&out, "mqtt_version"), Some("3.1.1"));
    let topics: Vec<_> =
        attrs(&out).into_iter().filter(|a| a.1 == "mqtt_topic").map(|a| (a.2, a.3)).collect();
    assert_eq!(
        topics,
        [("topicX".into(), "mqtt.subscribe.topic".into()), ("topicY".into(), "mqtt.subscribe.topic".into())]
    );

    let msgs = [hex(CONNECT_31), hex(CONNACK_OK), hex(PUBLISH_31)];
    let (out, _, _) = converse(
        MqttDissector,
        &flow(),
        &[(ToResponder, &msgs[0]), (ToInitiator, &msgs[1]), (ToResponder, &msgs[2])],
    );
    assert_eq!(value(&out, "mqtt_version"), Some("3.1"));
    assert_eq!(value(&out, "mqtt_topic"), Some("topicX"));
    assert_eq!(logins(&out), [(AccountKind::Generic, Weakness::Cleartext, Some(true))]);
}

#[test]
fn mqtt5_subscribe_reads_past_properties() {
    let msgs = [hex(CONNECT_5), hex(CONNACK_5), hex(SUBSCRIBE_5)];
    let (out, _, stats) = converse(
        MqttDissector,
        &flow(),
        &[(ToResponder, &msgs[0]), (ToInitiator, &msgs[1]), (ToResponder, &msgs[2])],
    );
    assert!(stats.malformed.is_empty());
    let topics: Vec<_> = attrs(&out).into_iter().filter(|a| a.1 == "mqtt_topic").map(|a| a.2).collect();
    assert_eq!(topics, ["topicX", "topicY"]);
}

/// MQTT 3.1.1 section 3.1: a CONNECT with a will (flag 0x04) and no login, as a pump gateway
/// announcing its going offline would send it.
fn will_connect() -> Vec<u8> {
    let mut body = b"\x00\x04MQTT\x04\x06\x00\x3c".to_vec();
    body.extend(b"\x00\x0bpump-gw-017");
    body.extend(b"\x00\x12ward/pump-gw/state");
    body.extend(b"\x00\x07offline");
    let mut p = vec![0x10, body.len() as u8];
    p.extend(body);
    p
}

#[test]
fn will_topic_and_no_login() {
    let c = will_connect();
    let (out, _, _) = converse(MqttDissector, &flow(), &[(ToResponder, &c), (ToInitiator, &hex(CONNACK_OK))]);
    assert_eq!(value(&out, "mqtt_will_topic"), Some("ward/pump-gw/state"));
    assert_eq!(value(&out, "mqtt_client_id"), Some("pump-gw-017"));
    assert!(credentials(&out).is_empty());
    assert!(!serde_json::to_string(&out).unwrap().contains("offline"));
}

#[test]
fn refused_login_and_default_pair() {
    // admin/admin refused with 3.1.1 return code 5 (not authorised).
    let mut body = b"\x00\x04MQTT\x04\xc2\x00\x3c\x00\x03mon".to_vec();
    body.extend(b"\x00\x05admin\x00\x05admin");
    let mut c = vec![0x10, body.len() as u8];
    c.extend(body);
    let (out, _, _) = converse(MqttDissector, &flow(), &[(ToResponder, &c), (ToInitiator, &hex("20020005"))]);
    assert_eq!(logins(&out), [(AccountKind::Admin, Weakness::Default, Some(false))]);
    // Unanswered: reported at the end, accepted unknown.
    let (out, _, _) = converse(MqttDissector, &flow(), &[(ToResponder, &c)]);
    assert_eq!(logins(&out), [(AccountKind::Admin, Weakness::Default, None)]);
}

#[test]
fn password_without_user_is_an_anomaly() {
    let mut body = b"\x00\x04MQTT\x04\x42\x00\x3c\x00\x03mon".to_vec();
    body.extend(b"\x00\x06secret");
    let mut c = vec![0x10, body.len() as u8];
    c.extend(body);
    let (out, _, stats) = converse(MqttDissector, &flow(), &[(ToResponder, &c)]);
    assert_eq!(stats.malformed.get("mqtt"), Some(&1));
    assert_eq!(logins(&out), [(AccountKind::None, Weakness::Cleartext, None)]);
    assert!(!serde_json::to_string(&out).unwrap().contains("secret"));
}

#[test]
fn split_and_coalesced_segments() {
    let mut client = hex(CONNECT_311);
    client.extend(hex(SUBSCRIBE_311));
    client.extend(hex(PUBLISH_31));
    client.extend(hex(DISCONNECT));
    // Byte by byte.
    let mut conv: Vec<(Direction, &[u8])> = client.chunks(1).map(|c| (ToResponder, c)).collect();
    let ack = hex(CONNACK_OK);
    conv.push((ToInitiator, &ack));
    let (out, _, stats) = converse(MqttDissector, &flow(), &conv);
    assert!(stats.malformed.is_empty());
    assert_eq!(value(&out, "mqtt_client_id"), Some("myvoiceismypassport"));
    let topics: Vec<_> = attrs(&out).into_iter().filter(|a| a.1 == "mqtt_topic").map(|a| a.2).collect();
    assert_eq!(topics, ["topicX", "topicY"]);
    // All in one segment.
    let (out2, _, _) = converse(MqttDissector, &flow(), &[(ToResponder, &client), (ToInitiator, &ack)]);
    assert_eq!(attrs(&out), attrs(&out2));
}

/// A publish bigger than what the flow may buffer: the payload streams past unread, and a
/// gap inside it costs nothing.
#[test]
fn large_payload_streams_and_gap_inside_it() {
    let payload = vec![b'v'; 200_000];
    let mut publish = vec![0x30];
    let remaining = 2 + 6 + payload.len();
    let mut n = remaining;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        publish.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    publish.extend(b"\x00\x06vitals");
    let header_len = publish.len();
    publish.extend(&payload);
    let mut next = b"\x30\x08\x00\x06topicZ".to_vec();
    next.extend(hex(DISCONNECT));

    let reg = crate::Registry::empty().with(Box::new(MqttDissector));
    let mut fd = crate::FlowDissection::start(&reg, Transport::Tcp);
    let (mut out, mut stats) = (Vec::new(), crate::DissectStats::default());
    let c = hex(CONNECT_311);
    fd.on_stream(&reg, &flow(), ToResponder, &c, &mut out, &mut stats);
    for chunk in publish[..header_len + 100_000].chunks(1460) {
        fd.on_stream(&reg, &flow(), ToResponder, chunk, &mut out, &mut stats);
    }
    fd.on_gap(ToResponder, 50_000, &mut stats);
    fd.on_stream(&reg, &flow(), ToResponder, &publish[header_len + 150_000..], &mut out, &mut stats);
    fd.on_stream(&reg, &flow(), ToResponder, &next, &mut out, &mut stats);
    assert_eq!(stats.gave_up_at_gap, 0);
    assert_eq!(stats.pending_cap_hits, 0);
    let topics: Vec<_> = attrs(&out).into_iter().filter(|a| a.1 == "mqtt_topic").map(|a| a.2).collect();
    assert_eq!(topics, ["vitals", "topicZ"]);
}

#[test]
fn midstream_connack_then_publish() {
    // Suricata-verify's mqtt-midstream-split: the capture starts with the broker's MQTT 5
    // CONNACK (assigned client id property), its first byte in a segment of its own.
    let connack = hex(
        "203200002f22000a1200296175746f2d31423433453830302d303845332d334241312d324539372d453941304234303634424635",
    );
    let broker_first = ctx(IpProto::TCP, [10, 7, 0, 5], 1883, [10, 7, 0, 20], 33896);
    let publish = hex(PUBLISH_5);
    let (out, proto, stats) = converse(
        MqttDissector,
        &broker_first,
        &[(ToResponder, &connack[..1]), (ToResponder, &connack[1..]), (ToInitiator, &publish)],
    );
    assert_eq!(proto, Some("mqtt"));
    assert!(stats.malformed.is_empty());
    assert!(has(&out, "ip:10.7.0.5", "role", "MQTT broker"));
    assert!(has(&out, "ip:10.7.0.20", "role", "MQTT client"));
    assert!(has(&out, "ip:10.7.0.20", "mqtt_topic", "topicX"));
    assert!(has(&out, "ip:10.7.0.20", "mqtt_client_id", "auto-1B43E800-08E3-3BA1-2E97-E9A0B4064BF5"));
}

/// nDPI's coap_mqtt.pcap holds connections whose start was not captured: a client's
/// PINGREQ, a PUBACK and a QoS 1 PUBLISH to "Bus17Info" (modelled here with a shorter
/// payload), and a broker's PUBLISH to "Bus17Cmd".
fn bus_publish(first: u8, topic: &str, id: u8) -> Vec<u8> {
    let payload = br#"{"messageType":"UPDATE"}"#;
    let mut p = vec![first, (2 + topic.len() + 2 + payload.len()) as u8, 0, topic.len() as u8];
    p.extend(topic.as_bytes());
    p.extend([0, id]);
    p.extend(payload);
    p
}

#[test]
fn midstream_chains() {
    let mut client = hex("c000");
    client.extend(hex("40020002"));
    client.extend(bus_publish(0x33, "Bus17Info", 4));
    assert_eq!(MqttDissector.probe(ToResponder, &client[..6]), Probe::NeedMore);
    assert_eq!(MqttDissector.probe(ToResponder, &client), Probe::Match);
    let broker = bus_publish(0x32, "Bus17Cmd", 2);
    assert_eq!(MqttDissector.probe(ToInitiator, &broker), Probe::NeedMore);
    let (out, proto, stats) = converse(
        MqttDissector,
        &flow(),
        &[(ToInitiator, &broker), (ToResponder, &client), (ToInitiator, &hex("d000"))],
    );
    assert_eq!(proto, Some("mqtt"));
    assert!(stats.malformed.is_empty());
    assert!(has(&out, "ip:10.7.0.20", "role", "MQTT client"));
    assert!(has(&out, "ip:10.7.0.20", "mqtt_topic", "Bus17Info"));
    assert!(has(&out, "ip:10.7.0.20", "mqtt_topic", "Bus17Cmd"));
    // Publishes and acknowledgements only: no side is named client, the topics are both's.
    let mut client = hex("40020002");
    client.extend(bus_publish(0x33, "Bus17Info", 4));
    let (out, _, _) = converse(MqttDissector, &flow(), &[(ToInitiator, &broker), (ToResponder, &client)]);
    assert!(!attrs(&out).iter().any(|a| a.1 == "role"));
    for dev in ["ip:10.7.0.20", "ip:10.7.0.5"] {
        assert!(has(&out, dev, "mqtt_topic", "Bus17Info") && has(&out, dev, "mqtt_topic", "Bus17Cmd"));
    }
    // Not MQTT: a PUBLISH-looking byte whose topic is empty or not text, text protocols.
    assert_eq!(MqttDissector.probe(ToResponder, b"\x30\x04\x00\x00ab\xc0\x00"), Probe::NoMatch);
    assert_eq!(MqttDissector.probe(ToResponder, b"\x30\x05\x00\x02\x01\x02a\xc0\x00"), Probe::NoMatch);
    assert_eq!(MqttDissector.probe(ToInitiator, b"220 ProFTPD Server\r\n"), Probe::NoMatch);
    assert_eq!(
        MqttDissector.probe(ToInitiator, &[0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x0a, 0x01]),
        Probe::NoMatch
    );
}

#[test]
fn topics_are_capped() {
    let mut client = hex(CONNECT_311);
    for i in 0..40 {
        let t = format!("ward/bed/{i:02}");
        client.extend([0x30, 2 + t.len() as u8, 0, t.len() as u8]);
        client.extend(t.as_bytes());
    }
    let (out, _, _) =
        converse(MqttDissector, &flow(), &[(ToResponder, &client), (ToInitiator, &hex(CONNACK_OK))]);
    let n = attrs(&out).iter().filter(|a| a.1 == "mqtt_topic").count();
    assert_eq!(n, MAX_TOPICS);
}

#[test]
fn malformed_input_is_refused() {
    let bad: [&[u8]; 5] = [
        // Remaining length with a fifth continuation byte.
        b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00\x30\xff\xff\xff\xff\x01",
        // Topic length past the packet.
        b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00\x30\x04\x00\x09ab",
        // QoS 3.
        b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00\x36\x04\x00\x01a\x00",
        // Client id length past the packet.
        b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x09",
        // Reserved packet type 0.
        b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00\x00\x00",
    ];
    for b in bad {
        let (_, proto, stats) = converse(MqttDissector, &flow(), &[(ToResponder, b)]);
        assert_eq!(proto, Some("mqtt"));
        assert_eq!(stats.malformed.get("mqtt"), Some(&1), "{b:?}");
    }
    // MQTT 5 properties longer than the packet (Suricata's mqtt5-excessiveproplen).
    let c = b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x40\x00\x00";
    let (_, _, stats) = converse(MqttDissector, &flow(), &[(ToResponder, c)]);
    assert_eq!(stats.malformed.get("mqtt"), Some(&1));
}

#[test]
fn probe() {
    let c = hex(CONNECT_311);
    assert_eq!(MqttDissector.probe(ToResponder, &c), Probe::Match);
    assert_eq!(MqttDissector.probe(ToResponder, &c[..5]), Probe::NeedMore);
    assert_eq!(MqttDissector.probe(ToResponder, &c[..1]), Probe::NeedMore);
    assert_eq!(MqttDissector.probe(ToResponder, &hex(CONNECT_31)[..11]), Probe::Match);
    assert_eq!(MqttDissector.probe(ToResponder, &hex(CONNECT_31)[..9]), Probe::NeedMore);
    assert_eq!(MqttDissector.probe(ToResponder, b"\x10\x2b\x00\x04MQTX"), Probe::NoMatch);
    assert_eq!(MqttDissector.probe(ToResponder, b"\x10\x2b\x00\x04MQTT\x07"), Probe::NoMatch);
    assert_eq!(MqttDissector.probe(ToResponder, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(MqttDissector.probe(ToResponder, &[0x16, 3, 1, 0, 200]), Probe::NoMatch);
    assert_eq!(MqttDissector.probe(ToInitiator, &hex(CONNACK_OK)), Probe::Match);
    assert_eq!(MqttDissector.probe(ToInitiator, &hex(CONNACK_5)), Probe::Match);
    assert_eq!(MqttDissector.probe(ToInitiator, &hex("20020007")), Probe::NoMatch);
    assert_eq!(MqttDissector.probe(ToInitiator, &hex("2006000003220a")), Probe::NeedMore);
    assert_eq!(MqttDissector.probe(ToInitiator, &hex("200600000422000a")), Probe::NoMatch);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..400), b in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..400) {
        let mut client = hex(CONNECT_5);
        client.extend(&a);
        let cut = cut.min(client.len());
        converse(MqttDissector, &flow(), &[(ToResponder, &client[..cut]), (ToInitiator, &b), (ToResponder, &client[cut..]), (ToInitiator, &a)]);
        let mut server = hex(CONNACK_OK);
        server.extend(&b);
        converse(MqttDissector, &flow(), &[(ToInitiator, &server), (ToResponder, &a)]);
    }
}
