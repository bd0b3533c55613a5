//! Classification as data: what a device is, from the facts observed about it.
//!
//! A rule (in `crates/ward-inventory/rules/*.toml`, or an operator's own files) names facts
//! it needs (`vendor_class` matching `^BD\.Alaris`, `role` equal to `PACS`) and what they
//! mean (`class = "infusion_pump"`, `vendor = "BD"`, `model = "Alaris {1}"`). Every derived
//! fact says which rule made it and which protocol fields it read, so a person can see why a
//! device is called what it is. The format is described in `docs/classification-rules.md`,
//! the classes in `docs/taxonomy.md`.
//!
//! Rules are checked and compiled once, at load; a bad file is an error naming the file, the
//! rule and the problem. Classifying one device only evaluates the rules indexed under the
//! keys of its facts, so it stays cheap however many rules there are.
//!
//! ```
//! use ward_core::{Fact, Timestamp};
//! use ward_inventory::classify::Rules;
//!
//! let rules = Rules::builtin();
//! let fact = Fact {
//!     key: "vendor_class".into(),
//!     value: "MSFT 5.0".into(),
//!     source: "dhcp.option60".into(),
//!     confidence: 85,
//!     first_seen: Timestamp::from_secs(10),
//!     last_seen: Timestamp::from_secs(20),
//! };
//! let derived = rules.classify(&[fact]);
//! let class = derived.iter().find(|f| f.key == "class").unwrap();
//! assert_eq!(class.value, "workstation");
//! assert!(class.source.ends_with(" dhcp.option60"));
//! ```

mod rule;
mod taxonomy;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use hashbrown::HashMap;
use regex::Captures;
use regex::bytes::{RegexSet, RegexSetBuilder};
use ward_core::{Fact, Timestamp};

pub use rule::FACT_KEYS;
use rule::{Output, Piece, Rule, Test};
pub use taxonomy::{Category, ClassInfo, class_info, taxonomy};

/// The fact keys `classify` derives, in the order it reports them.
pub const DERIVED_KEYS: &[&str] = &["class", "vendor", "model", "firmware", "os", "criticality"];

/// Derived values longer than this are cut (at a character boundary): a regex capture can
/// take a long value whole.
const MAX_VALUE: usize = 128;

/// The rule files built into Ward, by their path in the repository.
const BUILTIN: &[(&str, &str)] = &[
    ("rules/therapy.toml", include_str!("../../rules/therapy.toml")),
    ("rules/imaging.toml", include_str!("../../rules/imaging.toml")),
    ("rules/clinical-systems.toml", include_str!("../../rules/clinical-systems.toml")),
    ("rules/building.toml", include_str!("../../rules/building.toml")),
    ("rules/it.toml", include_str!("../../rules/it.toml")),
    ("rules/consumer.toml", include_str!("../../rules/consumer.toml")),
    ("rules/vendors.toml", include_str!("../../rules/vendors.toml")),
    ("rules/self-described.toml", include_str!("../../rules/self-described.toml")),
];

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML of the rule files' shape.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// What the TOML reader said (with line and column).
        message: String,
    },
    /// A rule is wrong.
    #[error("{file}: rule {rule}: {problem}")]
    Rule {
        /// The file.
        file: String,
        /// The rule's id (or its position when it has none).
        rule: String,
        /// What is wrong.
        problem: String,
    },
    /// Two rules have one id.
    #[error("{file}: rule {rule}: the id is already used in {first}")]
    Duplicate {
        /// The file of the second rule.
        file: String,
        /// The id.
        rule: String,
        /// The file of the first.
        first: String,
    },
}

/// The rules whose first positive condition reads one fact key. Most such conditions are
/// regexes (product names, OUI owners): a `RegexSet` of them tells in one pass over a value
/// which rules can hold, instead of running each regex in turn.
///
/// The set only picks candidates; each candidate's own regex decides. It is compiled without
/// Unicode and only asked about ASCII values, on which both modes agree: with Unicode classes
/// and case folding, the sets' lazy DFAs outgrew their caches and matching fell back to the
/// PikeVM (10 times slower than running each regex). A non-ASCII value, or a pattern the
/// ASCII mode refuses, makes the rules candidates without asking the set.
#[derive(Clone, Debug, Default)]
struct KeyIndex {
    /// Rules evaluated whenever a device has a fact under the key.
    always: Vec<u32>,
    /// Rules whose first positive condition is a regex.
    by_regex: Vec<u32>,
    /// Their set, built when first needed (only keys devices have cost anything), and
    /// shared by the clones of these rules (`Rules::builtin` hands out clones).
    set: Arc<OnceLock<AsciiSet>>,
}

#[derive(Clone, Debug)]
struct AsciiSet {
    /// `None` when not one pattern compiles in ASCII mode.
    set: Option<RegexSet>,
    /// The rule of each of the set's patterns.
    rules: Vec<u32>,
    /// Rules whose regex the ASCII mode refuses: always evaluated.
    outside: Vec<u32>,
}

impl AsciiSet {
    fn build(rules: &[Rule], numbers: &[u32]) -> AsciiSet {
        let pattern = |n: u32| match rules.get(n as usize).and_then(Rule::anchor).map(|c| &c.test) {
            Some(Test::Regex(re)) => Some(re.as_str()),
            _ => None,
        };
        let mut ok: Vec<u32> = numbers.iter().copied().filter(|&n| pattern(n).is_some()).collect();
        let mut outside = Vec::new();
        let mut set = ascii_set(ok.iter().filter_map(|&n| pattern(n)));
        if set.is_none() {
            // Some pattern is refused (a non-ASCII class, a size limit): find which, the slow way.
            (ok, outside) =
                ok.into_iter().partition(|&n| pattern(n).is_some_and(|p| ascii_set([p]).is_some()));
            set = ascii_set(ok.iter().filter_map(|&n| pattern(n)));
            if set.is_none() {
                outside.append(&mut ok);
            }
        }
        AsciiSet { set, rules: ok, outside }
    }
}

/// What a rule is, for listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo<'a> {
    /// Its id.
    pub id: &'a str,
    /// What it matches and why.
    pub description: &'a str,
    /// The file it came from.
    pub file: &'a str,
    /// Its confidence, 1-100.
    pub confidence: u8,
    /// The class it sets, if it sets one.
    pub class: Option<&'a str>,
}

/// A set of compiled classification rules.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    /// Rules by the fact keys of their first positive condition.
    by_key: HashMap<String, KeyIndex>,
    /// A hash of each source file's name and text, in load order.
    sources: Vec<u64>,
}

impl Rules {
    /// No rules.
    pub fn new() -> Rules {
        Rules::default()
    }

    /// The rules built into Ward (`crates/ward-inventory/rules/*.toml`), compiled once per
    /// process.
    pub fn builtin() -> Rules {
        static BUILT: OnceLock<Rules> = OnceLock::new();
        BUILT
            .get_or_init(|| {
                let mut all = Rules::new();
                for (name, text) in BUILTIN {
                    // The builtin files are part of the build and `tests::builtin_rules_load`
                    // proves each one compiles, so this cannot fail in a tested build.
                    #[allow(clippy::expect_used)]
                    let rules = Rules::from_toml(name, text).expect("builtin rules compile");
                    #[allow(clippy::expect_used)]
                    all.extend(rules).expect("builtin rule ids are unique");
                }
                all
            })
            .clone()
    }

    /// Compiles one rule file's text; `name` names it in errors and listings.
    pub fn from_toml(name: &str, text: &str) -> Result<Rules, RuleError> {
        let file: Arc<str> = Arc::from(name);
        let mut out = Rules::new();
        for r in rule::parse_file(&file, text)? {
            out.push(r)?;
        }
        out.sources.push(fnv1a(fnv1a(FNV_OFFSET, name.as_bytes()), text.as_bytes()));
        Ok(out)
    }

    /// Reads rule files: each path is a file, or a directory whose `*.toml` files are read in
    /// name order (not its subdirectories).
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Rules, RuleError> {
        let mut out = Rules::new();
        for path in paths {
            let path = path.as_ref();
            let read_err = |source| RuleError::Read { file: path.display().to_string(), source };
            let files = if path.is_dir() {
                let mut files = Vec::new();
                for entry in std::fs::read_dir(path).map_err(read_err)? {
                    let p = entry.map_err(read_err)?.path();
                    if p.is_file() && p.extension().is_some_and(|e| e == "toml") {
                        files.push(p);
                    }
                }
                files.sort();
                files
            } else {
                vec![path.to_path_buf()]
            };
            for f in files {
                let name = f.display().to_string();
                let text = std::fs::read_to_string(&f)
                    .map_err(|source| RuleError::Read { file: name.clone(), source })?;
                out.extend(Rules::from_toml(&name, &text)?)?;
            }
        }
        Ok(out)
    }

    /// Adds another set's rules after these; an id used in both is an error (and `self` is
    /// left as it was).
    pub fn extend(&mut self, other: Rules) -> Result<(), RuleError> {
        for r in &other.rules {
            if let Some(first) = self.rules.iter().find(|x| x.id == r.id) {
                return Err(RuleError::Duplicate {
                    file: r.file.to_string(),
                    rule: r.id.clone(),
                    first: first.file.to_string(),
                });
            }
        }
        for r in other.rules {
            self.push(r)?;
        }
        self.sources.extend(other.sources);
        Ok(())
    }

    fn push(&mut self, r: Rule) -> Result<(), RuleError> {
        if let Some(first) = self.rules.iter().find(|x| x.id == r.id) {
            return Err(RuleError::Duplicate {
                file: r.file.to_string(),
                rule: r.id.clone(),
                first: first.file.to_string(),
            });
        }
        let n = u32::try_from(self.rules.len()).map_err(|_| RuleError::Rule {
            file: r.file.to_string(),
            rule: r.id.clone(),
            problem: "too many rules".into(),
        })?;
        let regex = matches!(r.anchor().map(|c| &c.test), Some(Test::Regex(_)));
        let mut keys: Vec<&String> = r.anchor().map(|c| c.keys.iter().collect()).unwrap_or_default();
        keys.sort();
        keys.dedup();
        for k in keys {
            let ix = self.by_key.entry(k.clone()).or_default();
            if regex {
                ix.by_regex.push(n);
                ix.set = Arc::new(OnceLock::new());
            } else {
                ix.always.push(n);
            }
        }
        self.rules.push(r);
        Ok(())
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// No rules at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in load order.
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> {
        self.rules.iter().map(|r| RuleInfo {
            id: &r.id,
            description: &r.description,
            file: &r.file,
            confidence: r.confidence,
            class: r.class(),
        })
    }

    /// A short hash of every rule file's name and text, in load order: it changes when any
    /// rule changes, so stored classifications can be redone (16 hex digits; FNV-1a, stable
    /// across builds and platforms).
    pub fn fingerprint(&self) -> String {
        let h = self.sources.iter().fold(FNV_OFFSET, |h, s| fnv1a(h, &s.to_le_bytes()));
        format!("{h:016x}")
    }

    /// Derives class, vendor, model, firmware, os and criticality from a device's facts.
    ///
    /// Each rule that holds gives one fact per value it sets, with
    /// - `source` = `rule:<id>` and the sources of the facts it matched, in condition order
    ///   (`rule:bd-alaris-dhcp dhcp.option60`);
    /// - `confidence` = the smaller of the rule's confidence and the least confident fact it
    ///   matched: a conclusion is no surer than the evidence it needed;
    /// - `first_seen`/`last_seen` = the earliest first and the latest last sighting of the
    ///   matched facts.
    ///
    /// A class without a criticality brings its class's default criticality, with the same
    /// evidence. Facts made by rules (`source` starting `rule:`) are not matched, so a rule
    /// never feeds on another's output. One value for one key is reported once, from the
    /// most confident rule (the first in load order among equals). The result is sorted by
    /// key (in [`DERIVED_KEYS`] order), then by confidence, highest first, then by rule order:
    /// the first fact of each key is the best. The same facts in any order give the same result.
    pub fn classify(&self, facts: &[Fact]) -> Vec<Fact> {
        let device = Device::new(facts);
        let mut candidates: Vec<u32> = Vec::new();
        for key in device.keys() {
            let Some(ix) = self.by_key.get(key) else { continue };
            candidates.extend_from_slice(&ix.always);
            if ix.by_regex.is_empty() {
                continue;
            }
            let set = ix.set.get_or_init(|| AsciiSet::build(&self.rules, &ix.by_regex));
            candidates.extend_from_slice(&set.outside);
            for i in device.with_key(key) {
                let value = &facts[i].value;
                match &set.set {
                    Some(s) if value.is_ascii() => {
                        candidates
                            .extend(s.matches(value.as_bytes()).iter().filter_map(|m| set.rules.get(m)));
                    }
                    // Unicode case folding and classes differ from ASCII mode only off ASCII.
                    _ => candidates.extend_from_slice(&set.rules),
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();

        self.evaluate(&device, candidates)
    }

    /// Evaluates the candidate rules (ascending numbers) on a device.
    fn evaluate(&self, device: &Device<'_>, candidates: Vec<u32>) -> Vec<Fact> {
        let mut out: Vec<(Output, u8, u32, Fact)> = Vec::new();
        for n in candidates {
            let Some(r) = self.rules.get(n as usize) else { continue };
            if let Some(m) = device.evaluate(r) {
                derive(r, n, &m, &mut out);
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut result: Vec<Fact> = Vec::with_capacity(out.len());
        for (_, _, _, f) in out {
            if !result.iter().any(|g| g.key == f.key && g.value == f.value) {
                result.push(f);
            }
        }
        result
    }
}

/// Patterns compiled as one set for ASCII input, if the ASCII mode accepts them all.
fn ascii_set<'p>(patterns: impl IntoIterator<Item = &'p str>) -> Option<RegexSet> {
    RegexSetBuilder::new(patterns)
        .unicode(false)
        .case_insensitive(true)
        .size_limit(16 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .ok()
}

/// A device's facts, sorted by key for lookups, with their lower-case values made on demand.
struct Device<'a> {
    facts: &'a [Fact],
    /// Indices into `facts` (rule-derived facts left out), sorted by key.
    order: Vec<usize>,
    lower: Vec<OnceCell<Cow<'a, str>>>,
}

/// What a rule matched: per condition, the fact that satisfied it (none for negated ones).
struct Matched<'a> {
    facts: Vec<Option<&'a Fact>>,
    captures: Vec<Option<Captures<'a>>>,
}

impl<'a> Device<'a> {
    fn new(facts: &'a [Fact]) -> Device<'a> {
        let mut order: Vec<usize> =
            (0..facts.len()).filter(|&i| !facts[i].source.starts_with("rule:")).collect();
        order.sort_by(|&a, &b| facts[a].key.cmp(&facts[b].key));
        let lower = (0..facts.len()).map(|_| OnceCell::new()).collect();
        Device { facts, order, lower }
    }

    /// Its distinct fact keys.
    fn keys(&self) -> impl Iterator<Item = &'a str> + '_ {
        let mut last: Option<&str> = None;
        self.order.iter().filter_map(move |&i| {
            let k = self.facts[i].key.as_str();
            if last == Some(k) {
                return None;
            }
            last = Some(k);
            Some(k)
        })
    }

    /// The facts under one key.
    fn with_key<'k>(&'k self, key: &'k str) -> impl Iterator<Item = usize> + 'k {
        let start = self.order.partition_point(|&i| self.facts[i].key.as_str() < key);
        self.order[start..].iter().copied().take_while(move |&i| self.facts[i].key == key)
    }

    fn lower(&self, i: usize) -> &str {
        self.lower[i].get_or_init(|| {
            let v = self.facts[i].value.as_str();
            if v.chars().any(char::is_uppercase) { Cow::Owned(v.to_lowercase()) } else { Cow::Borrowed(v) }
        })
    }

    fn evaluate(&self, r: &Rule) -> Option<Matched<'a>> {
        let mut m = Matched { facts: Vec::with_capacity(r.conditions.len()), captures: Vec::new() };
        for c in &r.conditions {
            let mut best: Option<&'a Fact> = None;
            for k in &c.keys {
                for i in self.with_key(k) {
                    let f = &self.facts[i];
                    if !c.sources.is_empty() && !c.sources.iter().any(|s| f.source.starts_with(s.as_str())) {
                        continue;
                    }
                    if !c.test.holds(&f.value, || self.lower(i)) {
                        continue;
                    }
                    if c.negate {
                        return None;
                    }
                    if best.is_none_or(|b| better(f, b)) {
                        best = Some(f);
                    }
                }
            }
            if c.negate {
                m.facts.push(None);
                continue;
            }
            m.facts.push(Some(best?));
        }
        if r.conditions.iter().any(|c| c.captures) {
            m.captures = r
                .conditions
                .iter()
                .zip(&m.facts)
                .map(|(c, f)| match (&c.test, f) {
                    (Test::Regex(re), Some(f)) if c.captures => re.captures(&f.value),
                    _ => None,
                })
                .collect();
        }
        Some(m)
    }
}

/// Which of two facts that satisfy a condition is the evidence: the more confident, then an
/// order that does not depend on the order facts were given in.
fn better(a: &Fact, b: &Fact) -> bool {
    let tie = (&a.source, &a.value, a.first_seen).cmp(&(&b.source, &b.value, b.first_seen));
    a.confidence.cmp(&b.confidence).then(tie.reverse()).is_gt()
}

/// The facts a rule that held gives.
fn derive(r: &Rule, n: u32, m: &Matched<'_>, out: &mut Vec<(Output, u8, u32, Fact)>) {
    let matched = m.facts.iter().flatten();
    let confidence = matched.clone().map(|f| f.confidence).fold(r.confidence, u8::min);
    let first_seen = matched.clone().map(|f| f.first_seen).min().unwrap_or(Timestamp::ZERO);
    let last_seen = matched.clone().map(|f| f.last_seen).max().unwrap_or(Timestamp::ZERO);
    let mut source = format!("rule:{}", r.id);
    let mut cited: Vec<&str> = Vec::new();
    for f in matched {
        if !cited.contains(&f.source.as_str()) {
            cited.push(&f.source);
            source.push(' ');
            source.push_str(&f.source);
        }
    }
    let fact = |key: &str, value: String| Fact {
        key: key.to_owned(),
        value,
        source: source.clone(),
        confidence,
        first_seen,
        last_seen,
    };
    let mut class_criticality = None;
    let mut sets_criticality = false;
    for (o, pieces) in &r.outputs {
        let Some(value) = expand(pieces, &m.captures) else { continue };
        if *o == Output::Class {
            class_criticality = class_info(&value).map(|c| c.criticality);
        }
        sets_criticality |= *o == Output::Criticality;
        out.push((*o, confidence, n, fact(o.key(), value)));
    }
    if let (Some(c), false) = (class_criticality, sets_criticality) {
        out.push((Output::Criticality, confidence, n, fact("criticality", c.as_str().to_owned())));
    }
}

/// An output value with its capture groups filled in: trimmed, white space runs made one,
/// cut to `MAX_VALUE`; `None` when nothing is left (an optional group that did not match).
fn expand(pieces: &[Piece], captures: &[Option<Captures<'_>>]) -> Option<String> {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Group { cond, group } => {
                if let Some(g) = captures.get(*cond).and_then(Option::as_ref).and_then(|c| c.get(*group)) {
                    s.push_str(g.as_str());
                }
            }
        }
    }
    let mut v = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.len() > MAX_VALUE {
        let mut cut = MAX_VALUE;
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        v.truncate(cut);
    }
    (!v.is_empty()).then_some(v)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
