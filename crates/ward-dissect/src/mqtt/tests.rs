use super::*;

#[test]
fn matches_nothing_yet() {
    assert_eq!(MqttDissector.probe(Direction::ToResponder, b""), Probe::NoMatch);
}
