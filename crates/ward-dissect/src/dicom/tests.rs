use super::*;

#[test]
fn matches_nothing_yet() {
    assert_eq!(DicomDissector.probe(Direction::ToResponder, b""), Probe::NoMatch);
}
