//! Firmware and software versions as advisories and devices write them, and the ranges
//! advisories give.
//!
//! Medical firmware strings are not semver: `V2.1 SP3 Build 0456`, `R4.1L1`, `B.06.18`,
//! `012U000040`, `9.33.1`. A [`Version`] is the string cut into runs of digits (compared as
//! numbers) and runs of letters (compared case-insensitively); separators only separate.
//! A leading `v`, `ver`, `version`, `rev` before a digit is a label, not part of the version.
//! Where one version is a prefix of the other, the longer is the later (`2.1` < `2.1 SP3`,
//! `9.33` < `9.33.1`): firmware adds service packs and builds, it rarely ships pre-releases.
//!
//! A [`VersionRange`] is parsed from the `vers:` form (`vers:generic/>=4.01|<=4.34`,
//! `vers:all/*`) and from the free text advisories use (`< 8.2.2`, `<= 9.33`, `<=2.3.5`,
//! `2.3.6 and below`, `prior to 3.0`, `9.33.1 and earlier`, `all versions`, `14.x`,
//! `1.10 | 1.11`). What it cannot read is kept as [`VersionRange::Unreadable`] with its text,
//! so that a device of the product is reported as "version unknown" rather than missed.

use std::cmp::Ordering;
use std::fmt;

/// Longest version string considered; longer ones are cut (a version is never this long).
const MAX_VERSION_LEN: usize = 128;
/// Most parts in a range (`a | b | c ...`).
const MAX_PARTS: usize = 64;

/// One piece of a version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Token {
    Num(u64),
    Word(String),
}

impl Token {
    fn cmp_token(&self, other: &Token) -> Ordering {
        match (self, other) {
            (Token::Num(a), Token::Num(b)) => a.cmp(b),
            (Token::Word(a), Token::Word(b)) => a.cmp(b),
            // `1.0a` against `1.0.1`: a number after the common part is a later release than
            // a letter (a letter suffix is most often a patch of the same release).
            (Token::Num(_), Token::Word(_)) => Ordering::Greater,
            (Token::Word(_), Token::Num(_)) => Ordering::Less,
        }
    }
}

/// A version, compared part by part (see the module's documentation).
#[derive(Clone, Debug, Eq)]
pub struct Version {
    text: String,
    tokens: Vec<Token>,
}

impl Version {
    /// Reads a version; `None` when the text holds no digit and no letter.
    pub fn parse(text: &str) -> Option<Version> {
        let text = cut(text.trim(), MAX_VERSION_LEN);
        let mut tokens = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if c.is_ascii_digit() {
                let mut end = start;
                while let Some(&(i, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    end = i + 1;
                    chars.next();
                }
                // Leading zeros are kept out of the value (`0456` is 456); a run too long for
                // u64 saturates, which still orders it after every shorter number.
                let digits = &text[start..end];
                tokens.push(Token::Num(digits.parse().unwrap_or(u64::MAX)));
            } else if c.is_alphabetic() {
                let mut end = start;
                while let Some(&(i, d)) = chars.peek() {
                    if !d.is_alphabetic() {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_lowercase()));
            } else {
                chars.next();
            }
        }
        // A label before the first number: `V2.1`, `Version 3`, `Rev 4`.
        if let [Token::Word(w), Token::Num(_), ..] = tokens.as_slice()
            && matches!(
                w.as_str(),
                "v" | "ver" | "version" | "versions" | "rev" | "revision" | "release" | "r"
            )
        {
            tokens.remove(0);
        }
        if tokens.is_empty() {
            return None;
        }
        Some(Version { text: text.to_owned(), tokens })
    }

    /// The text it was read from (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it can be a version: it holds a number and names no month (`< august 28`
    /// and `<May 2018` are dates of manufacture or shipping, not versions).
    pub fn has_number(&self) -> bool {
        const MONTHS: &[&str] = &[
            "jan",
            "january",
            "feb",
            "february",
            "mar",
            "march",
            "apr",
            "april",
            "may",
            "jun",
            "june",
            "jul",
            "july",
            "aug",
            "august",
            "sep",
            "sept",
            "september",
            "oct",
            "october",
            "nov",
            "november",
            "dec",
            "december",
        ];
        self.tokens.iter().any(|t| matches!(t, Token::Num(_)))
            && !self.tokens.iter().any(|t| matches!(t, Token::Word(w) if MONTHS.contains(&w.as_str())))
    }

    /// Whether it reads as a version rather than prose that holds one: every word is short
    /// (`b`, `sp`, `mr`, `rc`) or one firmware strings use (`build`, `patch`, `release`).
    /// `Version B, Firmware A.01.09, Part #: N/A` and `MMT-512 / MMT-712 Paradigm x12` are
    /// not; an advisory range made of them is unreadable, and a device of the product gets
    /// "unknown version" rather than a comparison that means nothing.
    pub fn plausible(&self) -> bool {
        const WORDS: &[&str] = &[
            "build", "patch", "release", "update", "hotfix", "service", "pack", "beta", "alpha", "revision",
            "version",
        ];
        self.tokens.iter().all(|t| match t {
            Token::Num(_) => true,
            Token::Word(w) => w.len() <= 3 || WORDS.contains(&w.as_str()),
        })
    }

    /// Whether `self` starts with every part of `prefix` (`14.1.3` starts with `14.1`).
    pub fn starts_with(&self, prefix: &Version) -> bool {
        self.tokens.len() >= prefix.tokens.len()
            && self.tokens.iter().zip(&prefix.tokens).all(|(a, b)| a == b)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        for (a, b) in self.tokens.iter().zip(&other.tokens) {
            match a.cmp_token(b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.tokens.len().cmp(&other.tokens.len())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One bound of an interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The version.
    pub version: Version,
    /// Whether the version itself is inside.
    pub inclusive: bool,
}

/// A set of versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// Between two bounds (either may be open).
    Interval {
        /// Lower bound, if any.
        lower: Option<Bound>,
        /// Upper bound, if any.
        upper: Option<Bound>,
    },
    /// Exactly this version.
    Exact(Version),
    /// Every version starting with this (`14.x`, `2.X`).
    Prefix(Version),
}

impl Constraint {
    fn contains(&self, v: &Version) -> bool {
        match self {
            Constraint::Exact(e) => v == e,
            Constraint::Prefix(p) => v.starts_with(p),
            Constraint::Interval { lower, upper } => {
                let above = match lower {
                    None => true,
                    Some(b) if b.inclusive => *v >= b.version,
                    Some(b) => *v > b.version,
                };
                let below = match upper {
                    None => true,
                    Some(b) if b.inclusive => *v <= b.version,
                    Some(b) => *v < b.version,
                };
                above && below
            }
        }
    }
}

/// The versions an advisory names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionRange {
    /// Every version (`vers:all/*`, `all versions`, `*`).
    All,
    /// The union of these, less the excluded versions.
    Set {
        /// Sets of versions, any of which holds.
        any_of: Vec<Constraint>,
        /// Versions taken out (`!=` in `vers:`).
        except: Vec<Version>,
    },
    /// Text that names versions in a way Ward cannot compare (`< august 28`, `with
    /// wireless option`): a device of the product has an unknown standing.
    Unreadable(String),
}

/// Whether a device's version is in a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InRange {
    /// It is.
    Yes,
    /// It is not.
    No,
    /// Ward cannot tell (no version, or a range it cannot read).
    Unknown,
}

impl VersionRange {
    /// Reads a range in `vers:` form or in advisory prose; never fails (see
    /// [`VersionRange::Unreadable`]).
    pub fn parse(text: &str) -> VersionRange {
        let text = cut(text.trim(), 1024);
        if let Some(rest) = text.strip_prefix("vers:") {
            return parse_vers(rest).unwrap_or_else(|| VersionRange::Unreadable(text.to_owned()));
        }
        parse_prose(text).unwrap_or_else(|| VersionRange::Unreadable(text.to_owned()))
    }

    /// Whether `version` is in the range.
    pub fn contains(&self, version: Option<&Version>) -> InRange {
        match (self, version) {
            (VersionRange::All, _) => InRange::Yes,
            (VersionRange::Unreadable(_), _) | (_, None) => InRange::Unknown,
            (VersionRange::Set { any_of, except }, Some(v)) => {
                if except.iter().any(|e| e == v) {
                    InRange::No
                } else if any_of.iter().any(|c| c.contains(v)) {
                    InRange::Yes
                } else {
                    InRange::No
                }
            }
        }
    }

    /// The first version past the range, when the range ends below one (`< 8.2.2` is fixed
    /// in 8.2.2): the advisory's implied fixed version.
    pub fn fixed_in(&self) -> Option<&Version> {
        let VersionRange::Set { any_of, .. } = self else { return None };
        let mut best: Option<&Version> = None;
        for c in any_of {
            match c {
                Constraint::Interval { upper: Some(Bound { version, inclusive: false }), .. } => {
                    if best.is_none_or(|b| version > b) {
                        best = Some(version);
                    }
                }
                // An inclusive or open end names no fix.
                _ => return None,
            }
        }
        best
    }
}

/// An operator and a version, as in `<= 9.33`.
fn op_version(s: &str) -> Option<(&'static str, &str)> {
    let s = s.trim();
    for op in [">=", "<=", "!=", "<", ">", "="] {
        if let Some(rest) = s.strip_prefix(op) {
            return Some((op, rest.trim()));
        }
    }
    None
}

fn parse_vers(rest: &str) -> Option<VersionRange> {
    let (_scheme, constraints) = rest.split_once('/')?;
    let constraints = constraints.trim();
    if constraints == "*" {
        return Some(VersionRange::All);
    }
    let parts: Vec<&str> = constraints.split('|').take(MAX_PARTS).collect();
    intervals(&parts)
}

/// The `vers:` reading of a list of `op version` parts: a lower bound followed by an upper
/// bound is one interval; an upper bound alone is open below; a lower bound alone, open
/// above; a bare or `=` version is exact.
fn intervals(parts: &[&str]) -> Option<VersionRange> {
    let mut any_of = Vec::new();
    let mut except = Vec::new();
    let mut pending: Option<Bound> = None;
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (op, v) = op_version(part).unwrap_or(("=", part));
        if op == "="
            && let Some(p) = prefix(v)
        {
            any_of.push(Constraint::Prefix(p));
            continue;
        }
        let version = Version::parse(v).filter(|v| v.has_number() && v.plausible())?;
        match op {
            ">=" | ">" => {
                if let Some(lower) = pending.take() {
                    any_of.push(Constraint::Interval { lower: Some(lower), upper: None });
                }
                pending = Some(Bound { version, inclusive: op == ">=" });
            }
            "<=" | "<" => {
                any_of.push(Constraint::Interval {
                    lower: pending.take(),
                    upper: Some(Bound { version, inclusive: op == "<=" }),
                });
            }
            "!=" => except.push(version),
            _ => any_of.push(Constraint::Exact(version)),
        }
    }
    if let Some(lower) = pending {
        any_of.push(Constraint::Interval { lower: Some(lower), upper: None });
    }
    if any_of.is_empty() {
        return None;
    }
    Some(VersionRange::Set { any_of, except })
}

/// `14.x`, `2.X`, `14.1.x`, `14.*`: every version under a prefix.
fn prefix(v: &str) -> Option<Version> {
    let v = v.trim();
    let stem = v.strip_suffix(".x").or_else(|| v.strip_suffix(".X")).or_else(|| v.strip_suffix(".*"))?;
    Version::parse(stem).filter(|p| p.has_number() && p.tokens.iter().all(|t| matches!(t, Token::Num(_))))
}

fn parse_prose(text: &str) -> Option<VersionRange> {
    // ASCII lowercase keeps byte offsets, so versions are cut from the original text with
    // their case (`B.06.18`), while the words around them are matched in lowercase.
    // Runs of spaces are one (`2.3.6 and  below`).
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = text.as_str();
    let lower = text.to_ascii_lowercase();
    let lower = lower.as_str();
    if lower.is_empty() {
        return None;
    }
    if matches!(lower, "*" | "all" | "all versions" | "all versions." | "any" | "any version") {
        return Some(VersionRange::All);
    }
    // "9.33.1 and earlier", "2.3.6 and below", "4.33 and prior", "1.0 or lower".
    for suffix in [
        " and earlier",
        " and prior",
        " and below",
        " and lower",
        " and older",
        " or earlier",
        " or lower",
        " or below",
        " or prior",
        " or older",
    ] {
        if lower.ends_with(suffix) {
            let v = strip_words(&text[..text.len() - suffix.len()], &["versions", "version"]);
            return intervals(&[&format!("<={v}")]);
        }
    }
    // "prior to 3.0", "before 3.0", "earlier than 3.0", "versions prior to 3.0".
    let rest = strip_words(text, &["all versions", "versions", "version"]);
    for (words, op) in [
        ("prior to", "<"),
        ("before", "<"),
        ("earlier than", "<"),
        ("older than", "<"),
        ("lower than", "<"),
        ("below", "<"),
        ("later than", ">"),
        ("after", ">"),
        ("newer than", ">"),
    ] {
        if rest.len() > words.len()
            && rest.is_char_boundary(words.len())
            && rest[..words.len()].eq_ignore_ascii_case(words)
        {
            return intervals(&[&format!("{op}{}", rest[words.len()..].trim())]);
        }
    }
    // "< 8.2.2", ">= 4.01 | <= 4.34", "1.10 | 1.11", "9.7", "14.x".
    let parts: Vec<&str> = text.split('|').take(MAX_PARTS).collect();
    intervals(&parts)
}

/// `text` without a leading word of `words` (case-insensitive), trimmed.
fn strip_words<'a>(text: &'a str, words: &[&str]) -> &'a str {
    let text = text.trim();
    for w in words {
        if text.len() >= w.len() && text.is_char_boundary(w.len()) && text[..w.len()].eq_ignore_ascii_case(w)
        {
            return text[w.len()..].trim();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("a version")
    }

    #[test]
    fn firmware_strings_compare_part_by_part() {
        assert!(v("V2.1 SP3 Build 0456") < v("V2.1 SP3 Build 457"));
        assert!(v("V2.1 SP3 Build 0456") > v("2.1 SP2 Build 999"));
        assert!(v("2.1") < v("2.1 SP3"));
        assert!(v("9.33") < v("9.33.1"));
        assert!(v("9.33.1") < v("9.33.2"));
        assert!(v("9.4") < v("9.33"));
        assert!(v("B.06.18") < v("B.06.19"));
        assert!(v("R4.1L1") < v("R4.1L2"));
        assert!(v("Version 3.0") == v("3.0"));
        assert!(v("v8.x") != v("8.0"));
        assert!(v("012U000040") > v("012U000039"));
        assert!(Version::parse("  ,. ").is_none());
        assert!(!v("august").has_number());
    }

    #[test]
    fn ranges_in_prose_and_vers() {
        let cases: &[(&str, &str, InRange)] = &[
            ("< 8.2.2", "8.2.1", InRange::Yes),
            ("< 8.2.2", "8.2.2", InRange::No),
            ("<= 9.33", "9.33", InRange::Yes),
            ("<= 9.33", "9.33.1", InRange::No),
            ("<=2.3.5", "2.3.5", InRange::Yes),
            ("vers:all/*", "1", InRange::Yes),
            ("all versions", "1", InRange::Yes),
            ("prior to 3.0", "2.9", InRange::Yes),
            ("prior to 3.0", "3.0", InRange::No),
            ("9.33.1 and earlier", "9.19", InRange::Yes),
            ("2.3.6 and  below", "2.3.7", InRange::No),
            (">= 4.01 | <= 4.34", "4.2", InRange::Yes),
            (">= 4.01 | <= 4.34", "4.35", InRange::No),
            (">= 4.01 | <= 4.34", "4.0", InRange::No),
            ("vers:generic/>=1.3.4|<1.5.3", "1.5.2", InRange::Yes),
            ("vers:generic/>=1.3.4|<1.5.3|!=1.4", "1.4", InRange::No),
            ("1.10 | 1.11 | 1.13 | 1.14", "1.13", InRange::Yes),
            ("1.10 | 1.11 | 1.13 | 1.14", "1.12", InRange::No),
            ("14.x", "14.2.1", InRange::Yes),
            ("14.x", "15.0", InRange::No),
            ("9.7", "9.7", InRange::Yes),
            ("< august 28", "1.0", InRange::Unknown),
            ("1.3.1 Build 13", "1.3.1 build 13", InRange::Yes),
            ("Version B, Firmware A.01.09, Part #: N/A (Replaced by Version C)", "A.01.09", InRange::Unknown),
            ("MMT-512 / MMT-712 Paradigm x12", "1.0", InRange::Unknown),
            ("with wireless option (shipped between 2016-August 2018)", "1.0", InRange::Unknown),
        ];
        for (range, version, want) in cases {
            let r = VersionRange::parse(range);
            assert_eq!(r.contains(Some(&v(version))), *want, "{range} against {version}: {r:?}");
        }
        assert_eq!(VersionRange::parse("< 8.2.2").contains(None), InRange::Unknown);
        assert_eq!(VersionRange::parse("all versions").contains(None), InRange::Yes);
    }

    #[test]
    fn an_exclusive_end_names_the_fix() {
        assert_eq!(VersionRange::parse("< 8.2.2").fixed_in().map(Version::as_str), Some("8.2.2"));
        assert_eq!(VersionRange::parse("prior to B.06.18").fixed_in().map(Version::as_str), Some("B.06.18"));
        assert_eq!(VersionRange::parse("<= 9.33").fixed_in(), None);
        assert_eq!(VersionRange::parse("vers:all/*").fixed_in(), None);
    }

    proptest::proptest! {
        #[test]
        fn ordering_is_total_and_consistent(a in "[0-9A-Za-z .\\-]{0,20}", b in "[0-9A-Za-z .\\-]{0,20}") {
            if let (Some(x), Some(y)) = (Version::parse(&a), Version::parse(&b)) {
                proptest::prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            }
            let _ = VersionRange::parse(&a).contains(Version::parse(&b).as_ref());
        }
    }
}
