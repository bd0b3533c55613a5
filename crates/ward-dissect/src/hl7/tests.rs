use super::*;

#[test]
fn matches_nothing_yet() {
    assert_eq!(Hl7Dissector.probe(Direction::ToResponder, b""), Probe::NoMatch);
}
