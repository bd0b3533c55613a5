use super::*;

#[test]
fn matches_nothing_yet() {
    assert_eq!(BacnetDissector.probe(Direction::ToResponder, b""), Probe::NoMatch);
}
