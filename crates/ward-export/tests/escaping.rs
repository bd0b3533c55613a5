//! Escaping holds for any text: syslog structured data and CEF parse back to what was
//! written, and no delimiter of either format ever appears unescaped.
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use ward_export::format::{cef, syslog};

/// Strings rich in every format's delimiters, plus anything else Unicode has.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<char>(),
            1 => prop::sample::select(vec!['"', '\\', ']', '[', '|', '=', '\n', '\r', ' ', '<', '\u{feff}']),
        ],
        0..64,
    )
    .prop_map(|v| v.into_iter().collect())
}

/// What is left of `escaped` once every backslash pair is taken out.
fn unescaped_chars(escaped: &str) -> Vec<char> {
    let mut out = Vec::new();
    let mut it = escaped.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            it.next();
        } else {
            out.push(c);
        }
    }
    out
}

fn header() -> syslog::Header {
    syslog::Header { facility: 20, hostname: "ward-test".into(), procid: "1".into() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn sd_value_round_trips(s in text()) {
        let mut esc = String::new();
        syslog::escape_sd_value(&s, &mut esc);
        prop_assert!(!unescaped_chars(&esc).iter().any(|c| matches!(c, '"' | ']')));
        let msg = format!("<1>1 - h a p m [x@1 v=\"{esc}\"]");
        let parsed = common::parse_syslog(&msg).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&parsed.sd[0].1[0].1, &s);
    }

    #[test]
    fn cef_fields_round_trip(h in text(), v in text()) {
        let mut he = String::new();
        cef::escape_header(&h, &mut he);
        let mut ve = String::new();
        cef::escape_extension(&v, &mut ve);
        prop_assert!(!unescaped_chars(&he).iter().any(|c| matches!(c, '|' | '\n' | '\r')));
        prop_assert!(!unescaped_chars(&ve).iter().any(|c| matches!(c, '=' | '\n' | '\r')));
        let line = format!("CEF:0|V|P|1|{he}|name|5|k1={ve} k2=x");
        let parsed = common::parse_cef(&line).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&parsed.header[3], &h);
        prop_assert_eq!(&parsed.ext[0], &("k1".to_owned(), v.clone()));
        prop_assert_eq!(&parsed.ext[1], &("k2".to_owned(), "x".to_owned()));
    }

    /// Whole alerts with arbitrary texts in every text field survive both formats.
    #[test]
    fn whole_alerts_round_trip(
        i in 0usize..64,
        source in text(), indicator in text(), evidence in text(), message in text(),
        state in text(), key in text(),
    ) {
        let mut a = common::alerts(i as i64, 1).remove(0);
        a.source = Some(source);
        a.indicator = Some(indicator);
        a.evidence = evidence;
        a.message = message;
        a.state = state;
        a.key = key;

        let m = syslog::format(&a, &header(), syslog::Body::StructuredData);
        let parsed = common::parse_syslog(&m).map_err(TestCaseError::fail)?;
        let mut back = common::alert_from_syslog(&parsed).map_err(TestCaseError::fail)?;
        // MSG loses a leading BOM, which is how RFC 5424 marks UTF-8 text.
        let mut expected = a.clone();
        expected.message = expected.message.trim_start_matches('\u{feff}').to_owned();
        back.message = back.message.trim_start_matches('\u{feff}').to_owned();
        prop_assert_eq!(&back, &expected);

        let line = cef::format(&a);
        prop_assert!(!line.contains('\n') && !line.contains('\r'));
        let parsed = common::parse_cef(&line).map_err(TestCaseError::fail)?;
        prop_assert_eq!(common::alert_from_cef(&parsed).map_err(TestCaseError::fail)?, a);
    }
}

#[test]
fn hostile_alerts_round_trip() {
    for a in common::alerts(0, 40) {
        let m = syslog::format(&a, &header(), syslog::Body::StructuredData);
        assert_eq!(common::alert_from_syslog(&common::parse_syslog(&m).unwrap()).unwrap(), a, "{m}");
        let m = syslog::format(&a, &header(), syslog::Body::Cef);
        assert!(m.contains(" - CEF:0|"), "no BOM before CEF: {m}");
        let s = common::parse_syslog(&m).unwrap();
        assert!(s.sd.is_empty());
        assert_eq!(common::alert_from_cef(&common::parse_cef(&s.msg).unwrap()).unwrap(), a, "{m}");
    }
}

#[test]
fn parsers_refuse_unescaped_delimiters() {
    assert!(common::parse_syslog("<1>1 - h a p m [x@1 v=\"a]b\"]").is_err());
    assert!(common::parse_cef("CEF:0|a|b|c|d|e\nf|1|k=v").is_err());
    assert!(common::parse_cef("CEF:0|a|b|c|d|e|1|k=v\\x").is_err());
}
