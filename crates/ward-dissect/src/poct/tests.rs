use super::*;

#[test]
fn matches_nothing_yet() {
    assert_eq!(Poct1aDissector.probe(Direction::ToResponder, b""), Probe::NoMatch);
}
