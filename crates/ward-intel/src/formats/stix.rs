//! STIX 2.1 indicators: bundles, TAXII envelopes, or bare lists of objects.
//!
//! An indicator whose `pattern` (STIX patterning, `pattern_type` `stix`) names
//! `ipv4-addr:value`, `ipv6-addr:value` (an address or a CIDR, with `=` or `ISSUBSET`),
//! `domain-name:value` or `url:value` (the URL, and its host as a name) becomes those
//! indicators, under the STIX id and its `confidence`. Comparisons joined by `OR` (within
//! one observation or between observations) each stand alone; anything else cannot be
//! matched on one address or name and is counted as unsupported: `AND`, `FOLLOWEDBY`,
//! qualifiers (`WITHIN`, `REPEATS`, `START`/`STOP`), `NOT`, `!=`, `LIKE`, `MATCHES`,
//! other objects (file hashes, certificates, e-mail), and other pattern languages. Revoked
//! indicators, those past `valid_until` and those before `valid_from` are counted as
//! inactive. When several versions of one id come (a TAXII collection keeps them all), the
//! latest `modified` wins.

use std::collections::HashMap;

use serde_json::Value;
use ward_core::Timestamp;

use super::{ParseOptions, Parsed};

/// Longest pattern read.
pub const MAX_PATTERN: usize = 64 << 10;

/// Deepest nesting of brackets and parentheses read.
const MAX_DEPTH: usize = 64;

/// Reads a STIX document: a bundle, a TAXII envelope (`objects`), a list of objects or one.
pub fn parse_document(bytes: &[u8], opts: &ParseOptions) -> Parsed {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => parse_objects(objects_of(v), opts),
        Err(e) => {
            let mut out = Parsed::default();
            out.unreadable(|| format!("not JSON: {e}"));
            out
        }
    }
}

/// The objects of a bundle, an envelope, a list, or one object.
pub fn objects_of(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Object(mut m) => match m.remove("objects") {
            Some(Value::Array(a)) => a,
            Some(_) => Vec::new(),
            None => vec![Value::Object(m)],
        },
        _ => Vec::new(),
    }
}

fn time(o: &Value, key: &str) -> Option<Timestamp> {
    o.get(key)?.as_str()?.parse().ok()
}

/// Reads STIX objects (other types than `indicator` are skipped without a count).
pub fn parse_objects(objects: Vec<Value>, opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    // The latest version of each indicator.
    let mut latest: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<Value> = Vec::new();
    for o in objects {
        if o.get("type").and_then(Value::as_str) != Some("indicator") {
            continue;
        }
        let Some(id) = o.get("id").and_then(Value::as_str).map(str::to_owned) else {
            out.stats.entries += 1;
            out.unreadable(|| "an indicator without an id".to_owned());
            continue;
        };
        match latest.get(&id) {
            Some(&i) => {
                if time(&o, "modified") > time(&kept[i], "modified") {
                    kept[i] = o;
                }
            }
            None => {
                latest.insert(id, kept.len());
                kept.push(o);
            }
        }
    }
    for o in &kept {
        out.stats.entries += 1;
        indicator(o, opts, &mut out);
    }
    out
}

fn indicator(o: &Value, opts: &ParseOptions, out: &mut Parsed) {
    let id = o.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    if o.get("revoked").and_then(Value::as_bool) == Some(true) {
        out.stats.inactive += 1;
        return;
    }
    if let Some(until) = time(o, "valid_until") {
        if until <= opts.now {
            out.stats.inactive += 1;
            return;
        }
        out.next_change = Some(out.next_change.map_or(until, |t| t.min(until)));
    }
    if let Some(from) = time(o, "valid_from")
        && from > opts.now
    {
        out.stats.inactive += 1;
        out.next_change = Some(out.next_change.map_or(from, |t| t.min(from)));
        return;
    }
    let pattern_type = o.get("pattern_type").and_then(Value::as_str).unwrap_or("stix");
    let Some(pattern) = o.get("pattern").and_then(Value::as_str) else {
        out.unreadable(|| format!("{id}: no pattern"));
        return;
    };
    if pattern_type != "stix" {
        out.stats.unsupported += 1;
        return;
    }
    let confidence =
        o.get("confidence").and_then(Value::as_u64).map_or(opts.confidence, |c| c.min(100) as u8);
    match parse_pattern(pattern) {
        Ok(p) => {
            out.stats.unsupported += p.unsupported;
            let where_ = || id.clone();
            for c in p.comparisons {
                let sid = Some(id.clone());
                match c.object {
                    Object::Ip => match crate::net::parse_network(&c.value) {
                        Some(n) => out.push_net(n, sid, confidence, &where_),
                        None => out.unreadable(|| {
                            format!("{id}: {:?} is not an address", crate::short(&c.value, 80))
                        }),
                    },
                    Object::Domain => out.push_name(&c.value, sid, confidence, &where_),
                    Object::Url => out.push_url(&c.value, sid, confidence, &where_),
                }
            }
        }
        Err(e) => out.unreadable(|| format!("{id}: pattern: {e}")),
    }
}

/// Objects whose values Ward can match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    /// `ipv4-addr:value`, `ipv6-addr:value`.
    Ip,
    /// `domain-name:value`.
    Domain,
    /// `url:value`.
    Url,
}

/// One comparison that stands alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// What it names.
    pub object: Object,
    /// The literal.
    pub value: String,
}

/// A pattern read: the comparisons any of which is a match, and how many could not be
/// expressed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pattern {
    /// Comparisons that stand alone.
    pub comparisons: Vec<Comparison>,
    /// Comparisons left out (or whole groups joined by `AND`, counted by their comparisons).
    pub unsupported: u64,
}

/// A pattern that is not STIX patterning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(String);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Open,       // [
    Close,      // ]
    LParen,     // (
    RParen,     // )
    Comma,      // ,
    Op(String), // = != < > <= >=
    Str(String),
    Word(String), // paths, keywords, numbers, typed literals (t'...')
}

fn lex(p: &str) -> Result<Vec<Tok>, PatternError> {
    let err = |m: &str| PatternError(m.to_owned());
    let b: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let quoted = |i: &mut usize| -> Result<String, PatternError> {
        // b[*i] is the opening quote.
        let mut s = String::new();
        *i += 1;
        loop {
            match b.get(*i) {
                None => return Err(err("a string is not closed")),
                Some('\\') => {
                    match b.get(*i + 1) {
                        Some(&c) => s.push(c),
                        None => return Err(err("a string ends in a backslash")),
                    }
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(s);
                }
                Some(&c) => {
                    s.push(c);
                    *i += 1;
                }
            }
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '[' => {
                out.push(Tok::Open);
                i += 1;
            }
            ']' => {
                out.push(Tok::Close);
                i += 1;
            }
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => out.push(Tok::Str(quoted(&mut i)?)),
            '=' | '!' | '<' | '>' => {
                let mut op = c.to_string();
                if b.get(i + 1) == Some(&'=') {
                    op.push('=');
                    i += 1;
                }
                if op == "!" {
                    return Err(err("'!' without '='"));
                }
                out.push(Tok::Op(op));
                i += 1;
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = b.get(i) {
                    if c == '\'' {
                        // A quoted path step (`hashes.'SHA-256'`) or a typed literal (`t'...'`).
                        let q = quoted(&mut i)?;
                        w.push('\'');
                        w.push_str(&q);
                        w.push('\'');
                    } else if c == '[' && !w.is_empty() {
                        // A list index inside a path (`body_multipart[*]`).
                        while let Some(&c) = b.get(i) {
                            w.push(c);
                            i += 1;
                            if c == ']' {
                                break;
                            }
                        }
                    } else if c.is_whitespace() || "[]()=!<>,".contains(c) {
                        break;
                    } else {
                        w.push(c);
                        i += 1;
                    }
                }
                if w.is_empty() {
                    return Err(err("unexpected character"));
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

/// What a part of a pattern means for matching.
#[derive(Debug)]
enum Expr {
    /// Any of these is a match.
    Any(Vec<Comparison>, u64),
    /// Cannot be matched on one value; counts the comparisons inside.
    Opaque(u64),
}

impl Expr {
    fn count(&self) -> u64 {
        match self {
            Expr::Any(c, u) => c.len() as u64 + u,
            Expr::Opaque(n) => *n,
        }
    }
}

struct P {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }
    fn deeper(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(PatternError("nested too deeply".into())) } else { Ok(()) }
    }

    /// `a OR b OR c`, at either level: alternatives that each stand alone.
    fn or(&mut self, observation: bool) -> Result<Expr, PatternError> {
        let mut comps = Vec::new();
        let mut unsupported = 0;
        loop {
            match self.and(observation)? {
                Expr::Any(c, u) => {
                    comps.extend(c);
                    unsupported += u;
                }
                Expr::Opaque(n) => unsupported += n,
            }
            if self.keyword("OR") {
                self.pos += 1;
            } else {
                return Ok(Expr::Any(comps, unsupported));
            }
        }
    }

    /// `a AND b` (or `FOLLOWEDBY` between observations): all must hold, which no single
    /// address or name can say.
    fn and(&mut self, observation: bool) -> Result<Expr, PatternError> {
        let first = self.unit(observation)?;
        if !(self.keyword("AND") || observation && self.keyword("FOLLOWEDBY")) {
            return Ok(first);
        }
        let mut n = first.count();
        while self.keyword("AND") || observation && self.keyword("FOLLOWEDBY") {
            self.pos += 1;
            n += self.unit(observation)?.count();
        }
        Ok(Expr::Opaque(n))
    }

    fn unit(&mut self, observation: bool) -> Result<Expr, PatternError> {
        self.deeper()?;
        let e = if observation { self.observation()? } else { self.comparison_unit()? };
        self.depth -= 1;
        Ok(e)
    }

    fn observation(&mut self) -> Result<Expr, PatternError> {
        let e = match self.next() {
            Some(Tok::Open) => {
                let e = self.or(false)?;
                if self.next() != Some(Tok::Close) {
                    return Err(PatternError("']' expected".into()));
                }
                e
            }
            Some(Tok::LParen) => {
                let e = self.or(true)?;
                if self.next() != Some(Tok::RParen) {
                    return Err(PatternError("')' expected".into()));
                }
                e
            }
            _ => return Err(PatternError("'[' expected".into())),
        };
        // Qualifiers: the observation must repeat or fall in a window.
        let mut qualified = false;
        while self.keyword("WITHIN") || self.keyword("REPEATS") || self.keyword("START") {
            qualified = true;
            // `WITHIN n SECONDS`, `REPEATS n TIMES`, `START t'..' STOP t'..'`.
            let words = if self.keyword("START") { 4 } else { 3 };
            for _ in 0..words {
                if self.next().is_none() {
                    return Err(PatternError("a qualifier is cut short".into()));
                }
            }
        }
        Ok(if qualified { Expr::Opaque(e.count()) } else { e })
    }

    fn comparison_unit(&mut self) -> Result<Expr, PatternError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or(false)?;
            if self.next() != Some(Tok::RParen) {
                return Err(PatternError("')' expected".into()));
            }
            return Ok(e);
        }
        if self.keyword("EXISTS") {
            self.pos += 1;
            return match self.next() {
                Some(Tok::Word(_)) => Ok(Expr::Opaque(1)),
                _ => Err(PatternError("a path expected after EXISTS".into())),
            };
        }
        let path = match self.next() {
            Some(Tok::Word(w)) if w.contains(':') => w,
            _ => return Err(PatternError("an object path expected".into())),
        };
        let mut negated = false;
        if self.keyword("NOT") {
            self.pos += 1;
            negated = true;
        }
        let op = match self.next() {
            Some(Tok::Op(o)) => o,
            Some(Tok::Word(w)) => w.to_ascii_uppercase(),
            _ => return Err(PatternError("an operator expected".into())),
        };
        let values = if op == "IN" {
            if self.next() != Some(Tok::LParen) {
                return Err(PatternError("'(' expected after IN".into()));
            }
            let mut vals = Vec::new();
            loop {
                match self.next() {
                    Some(Tok::Str(s)) => vals.push(Some(s)),
                    Some(Tok::Word(_)) => vals.push(None),
                    _ => return Err(PatternError("a value expected in a list".into())),
                }
                match self.next() {
                    Some(Tok::Comma) => {}
                    Some(Tok::RParen) => break,
                    _ => return Err(PatternError("',' or ')' expected".into())),
                }
            }
            vals
        } else {
            match self.next() {
                Some(Tok::Str(s)) => vec![Some(s)],
                Some(Tok::Word(_)) => vec![None],
                _ => return Err(PatternError("a value expected".into())),
            }
        };
        let object = match path.as_str() {
            "ipv4-addr:value" | "ipv6-addr:value" => Some(Object::Ip),
            "domain-name:value" => Some(Object::Domain),
            "url:value" => Some(Object::Url),
            _ => None,
        };
        let usable = !negated
            && matches!((object, op.as_str()), (Some(_), "=" | "IN") | (Some(Object::Ip), "ISSUBSET"));
        let n = values.len() as u64;
        if !usable {
            return Ok(Expr::Opaque(n));
        }
        let mut comps = Vec::new();
        let mut unsupported = 0;
        for v in values {
            match (object, v) {
                (Some(object), Some(value)) => comps.push(Comparison { object, value }),
                _ => unsupported += 1,
            }
        }
        Ok(Expr::Any(comps, unsupported))
    }
}

/// Reads a STIX pattern into the comparisons that stand alone.
pub fn parse_pattern(pattern: &str) -> Result<Pattern, PatternError> {
    if pattern.len() > MAX_PATTERN {
        return Err(PatternError(format!("longer than {MAX_PATTERN} bytes")));
    }
    let mut p = P { toks: lex(pattern)?, pos: 0, depth: 0 };
    let e = p.or(true)?;
    if p.pos < p.toks.len() {
        return Err(PatternError("text after the pattern".into()));
    }
    Ok(match e {
        Expr::Any(comparisons, unsupported) => Pattern { comparisons, unsupported },
        Expr::Opaque(n) => Pattern { comparisons: Vec::new(), unsupported: n },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndicatorValue;

    fn values(p: &str) -> (Vec<String>, u64) {
        let p = parse_pattern(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        (p.comparisons.into_iter().map(|c| c.value).collect(), p.unsupported)
    }

    #[test]
    fn patterns() {
        assert_eq!(values("[ipv4-addr:value = '198.51.100.1']"), (vec!["198.51.100.1".into()], 0));
        assert_eq!(values("[ ipv4-addr:value = '1.2.3.4' ]").0, ["1.2.3.4"]);
        assert_eq!(
            values(
                "[domain-name:value = 'a.example' OR ipv4-addr:value = '1.2.3.4' OR file:hashes.'SHA-256' = 'ab']"
            ),
            (vec!["a.example".into(), "1.2.3.4".into()], 1)
        );
        assert_eq!(values("[ipv4-addr:value = '1.1.1.1'] OR [url:value = 'http://x.example/a']").0.len(), 2);
        assert_eq!(values("[ipv4-addr:value = '1.1.1.1' AND ipv4-addr:value = '2.2.2.2']"), (vec![], 2));
        assert_eq!(
            values("[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [domain-name:value = 'x.example']"),
            (vec![], 2)
        );
        assert_eq!(values("[ipv4-addr:value = '1.1.1.1'] REPEATS 5 TIMES WITHIN 10 SECONDS"), (vec![], 1));
        assert_eq!(
            values(
                "[ipv4-addr:value = '1.1.1.1'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"
            ),
            (vec![], 1)
        );
        assert_eq!(values("[ipv4-addr:value ISSUBSET '198.51.100.0/24']").0, ["198.51.100.0/24"]);
        assert_eq!(values("[domain-name:value IN ('a.example', 'b.example')]").0.len(), 2);
        assert_eq!(values("[ipv4-addr:value != '1.1.1.1']"), (vec![], 1));
        assert_eq!(values("[ipv4-addr:value NOT = '1.1.1.1']"), (vec![], 1));
        assert_eq!(
            values("[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']"),
            (vec![], 1)
        );
        assert_eq!(
            values("([ipv4-addr:value = '1.1.1.1'] OR ([domain-name:value = 'it\\'s.example']))").0.len(),
            2
        );
        assert_eq!(values("[(ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2')]").0.len(), 2);
        for bad in [
            "",
            "[",
            "[ipv4-addr:value = '1.1.1.1'",
            "[ipv4-addr:value '1']",
            "[x = 'a']",
            "['a']",
            "[ipv4-addr:value = '1] OR",
            "[ipv4-addr:value = 1.1.1.1] junk",
            "[a:b ! 'c']",
        ] {
            assert!(parse_pattern(bad).is_err(), "{bad}");
        }
        assert!(parse_pattern(&"(".repeat(100_000)).is_err());
        assert!(parse_pattern(&format!("{}[a:b = 'c']{}", "(".repeat(60), ")".repeat(60))).is_ok());
    }

    #[test]
    fn indicators_validity_and_versions() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let doc = serde_json::json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "indicator", "id": "indicator--a", "pattern": "[ipv4-addr:value = '45.9.20.1']",
             "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z", "confidence": 85, "modified": "2020-01-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--a", "pattern": "[ipv4-addr:value = '45.9.20.2']",
             "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z", "modified": "2021-01-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--b", "pattern": "[url:value = 'http://Evil.Example/x']",
             "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--c", "pattern": "[domain-name:value = 'old.example']",
             "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2025-01-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--d", "pattern": "[domain-name:value = 'later.example']",
             "valid_from": "2026-06-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--e", "pattern": "[domain-name:value = 'gone.example']",
             "valid_from": "2020-01-01T00:00:00Z", "revoked": true},
            {"type": "indicator", "id": "indicator--f", "pattern": "alert tcp any any", "pattern_type": "snort",
             "valid_from": "2020-01-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--g", "pattern": "[ipv4-addr:value = '10.0.0.0']",
             "valid_from": "2020-01-01T00:00:00Z"},
            {"type": "malware", "id": "malware--x", "name": "x"}
        ]});
        let opts = ParseOptions { now, confidence: 40, ..ParseOptions::default() };
        let p = parse_document(doc.to_string().as_bytes(), &opts);
        assert_eq!(p.stats.entries, 7);
        assert_eq!(p.stats.inactive, 3);
        assert_eq!(p.stats.unsupported, 1);
        assert_eq!(p.stats.refused, 1);
        assert_eq!(p.stats.indicators, 3);
        assert_eq!(p.indicators[0].value, IndicatorValue::Net("45.9.20.2/32".parse().unwrap()));
        assert_eq!(p.indicators[0].confidence, 40); // the later version carries no confidence
        assert_eq!(p.indicators[1].value, IndicatorValue::Domain("evil.example".into()));
        assert_eq!(p.indicators[2].value, IndicatorValue::Url("http://evil.example/x".into()));
        assert_eq!(p.indicators[2].id.as_deref(), Some("indicator--b"));
        assert_eq!(p.next_change, Some("2026-06-01T00:00:00Z".parse().unwrap()));
        let bad = parse_document(b"{not json", &opts);
        assert_eq!((bad.stats.unreadable, bad.stats.indicators), (1, 0));
    }
}
