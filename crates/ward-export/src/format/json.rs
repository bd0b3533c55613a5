//! JSON: the alert's own serde form (`ward_core::Alert`), one object per line for files and
//! the body of a webhook. `serde_json` escapes every control character, so a line break in a
//! field cannot start a new line.

use ward_core::Alert;

/// The alert as one JSON object, without a line break.
pub fn format(alert: &Alert) -> Vec<u8> {
    // Serialising a struct of strings, numbers and options cannot fail; an empty object is
    // still valid JSON if it ever did.
    serde_json::to_vec(alert).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests_support::alert;

    #[test]
    fn round_trips_and_stays_on_one_line() {
        let mut a = alert();
        a.message = "two\nlines".into();
        let bytes = format(&a);
        assert!(!bytes.contains(&b'\n'));
        let back: Alert = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(back, a);
    }
}
