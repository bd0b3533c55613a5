use super::*;

#[test]
fn matches_nothing_yet() {
    assert_eq!(ModbusDissector.probe(Direction::ToResponder, b""), Probe::NoMatch);
}
