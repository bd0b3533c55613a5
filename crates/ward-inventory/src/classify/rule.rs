//! One rule file: its TOML shape, and the checked, compiled rules it becomes.
//!
//! Everything that can be wrong with a rule is found here, at load, and named by file and
//! rule id: unknown fields, unknown fact keys, unknown classes, bad regexes, placeholders that
//! name no capture group. A compiled rule cannot fail when it runs.

use std::fmt;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use ward_core::Criticality;

use super::RuleError;
use super::taxonomy::class_info;

/// The fact keys a rule may match on: what the dissectors and the inventory's identity merge
/// say about a device. A rule naming another key could never match, so that is a load error.
pub const FACT_KEYS: &[&str] = &[
    // Identity merge.
    "oui_vendor",
    "service",
    "cleartext",
    "forwarding",
    // DHCP, DHCPv6.
    "hostname",
    "fqdn",
    "vendor_class",
    "client_id",
    "user_class",
    "dhcp_fingerprint",
    "dhcpv6_fingerprint",
    "mud_url",
    // LLDP, LLDP-MED, CDP.
    "sys_descr",
    "capabilities",
    "lldp_med_device_class",
    "lldp_chassis_id",
    "lldp_port_id",
    "lldp_port_description",
    "cdp_port_id",
    "management_address",
    "vlan_name",
    "asset_id",
    "hardware_revision",
    // Inventory fields several protocols say (LLDP-MED, mDNS TXT, DICOM, BACnet, Modbus, POCT1-A).
    "manufacturer",
    "vendor",
    "model",
    "firmware",
    "software_version",
    "revision",
    "serial",
    "serial_number",
    "product_code",
    "udi",
    "os",
    // SNMP.
    "snmp_sys_descr",
    "snmp_sys_object_id",
    "snmp_sys_name",
    // Names and services announced.
    "mdns_service",
    "mdns_instance",
    "mdns_service_port",
    "netbios_name",
    "friendly_name",
    "upnp_type",
    "server",
    "user_agent",
    "http_host",
    "http_realm",
    "ftp_system",
    "telnet_banner",
    "tls_sni",
    "ja3",
    "ja4",
    "dns_query",
    // Roles and clinical protocols.
    "role",
    "stack",
    "ae_title",
    "modality",
    "station_name",
    "department",
    "dicom_service",
    "dicom_implementation_uid",
    "dicom_implementation_version",
    "hl7_application",
    "hl7_facility",
    "hl7_message",
    "hl7_version",
    "hl7_profile",
    "device_id",
    "device_type",
    "mqtt_client_id",
    "mqtt_topic",
    "mqtt_will_topic",
    "bacnet_vendor",
    "bacnet_device_name",
    "bacnet_description",
    "bacnet_location",
    "modbus_application",
    "ntp_mode",
    "ntp_stratum",
];

/// What a rule may set, in the order `classify` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Output {
    Class,
    Vendor,
    Model,
    Firmware,
    Os,
    Criticality,
}

impl Output {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Output::Class => "class",
            Output::Vendor => "vendor",
            Output::Model => "model",
            Output::Firmware => "firmware",
            Output::Os => "os",
            Output::Criticality => "criticality",
        }
    }
}

// ---- The file as written -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFileDef {
    #[serde(default)]
    pub(crate) rule: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    id: String,
    description: String,
    confidence: u8,
    #[serde(rename = "match")]
    conditions: Vec<ConditionDef>,
    set: SetDef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionDef {
    key: OneOrMany,
    #[serde(default)]
    source: Option<OneOrMany>,
    #[serde(default)]
    equals: Option<OneOrMany>,
    #[serde(default)]
    contains: Option<OneOrMany>,
    #[serde(default)]
    prefix: Option<OneOrMany>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    exists: Option<bool>,
    #[serde(default)]
    not: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetDef {
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    firmware: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    criticality: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

// ---- The compiled rule ---------------------------------------------------------------------

/// How a condition tests a fact's value. Strings are lower-cased at load and compared with
/// the lower-cased value; regexes are case-insensitive unless they say `(?-i)`.
#[derive(Clone, Debug)]
pub(crate) enum Test {
    Exists,
    Equals(Vec<String>),
    Contains(Vec<String>),
    Prefix(Vec<String>),
    Regex(Regex),
}

impl Test {
    /// `value` is the fact's value, `lower` its lower-case form (only read by string tests).
    pub(crate) fn holds<'a>(&self, value: &str, lower: impl FnOnce() -> &'a str) -> bool {
        match self {
            Test::Exists => true,
            Test::Regex(re) => re.is_match(value),
            Test::Equals(v) => {
                let l = lower();
                v.iter().any(|s| s == l)
            }
            Test::Contains(v) => {
                let l = lower();
                v.iter().any(|s| l.contains(s.as_str()))
            }
            Test::Prefix(v) => {
                let l = lower();
                v.iter().any(|s| l.starts_with(s.as_str()))
            }
        }
    }
}

/// One condition: some fact with one of `keys` (and a source starting with one of `sources`,
/// when there are any) passes the test; or, with `negate`, none does.
#[derive(Clone, Debug)]
pub(crate) struct Condition {
    pub(crate) keys: Vec<String>,
    pub(crate) sources: Vec<String>,
    pub(crate) test: Test,
    pub(crate) negate: bool,
    /// An output reads this condition's capture groups.
    pub(crate) captures: bool,
}

/// A piece of an output value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// Capture group `group` of condition `cond`.
    Group {
        cond: usize,
        group: usize,
    },
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) description: String,
    pub(crate) file: Arc<str>,
    pub(crate) confidence: u8,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) outputs: Vec<(Output, Vec<Piece>)>,
}

impl Rule {
    /// Its first positive condition: a device without a fact that passes it cannot match, so
    /// the rule is indexed by its keys (and its regex).
    pub(crate) fn anchor(&self) -> Option<&Condition> {
        self.conditions.iter().find(|c| !c.negate)
    }

    /// The class it sets, when it sets a fixed one.
    pub(crate) fn class(&self) -> Option<&str> {
        self.outputs.iter().find_map(|(o, pieces)| match (o, pieces.as_slice()) {
            (Output::Class, [Piece::Text(t)]) => Some(t.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.file)
    }
}

/// Parses one rule file into compiled rules.
pub(crate) fn parse_file(file: &Arc<str>, text: &str) -> Result<Vec<Rule>, RuleError> {
    let def: RuleFileDef = toml::from_str(text)
        .map_err(|e| RuleError::Syntax { file: file.to_string(), message: e.to_string() })?;
    let mut rules = Vec::with_capacity(def.rule.len());
    for (n, table) in def.rule.into_iter().enumerate() {
        // Name the rule in errors even when the rest of it does not parse.
        let name = match table.get("id").and_then(|v| v.as_str()) {
            Some(id) => id.to_owned(),
            None => format!("#{} (no id)", n + 1),
        };
        let fail = |problem: String| RuleError::Rule { file: file.to_string(), rule: name.clone(), problem };
        let def: RuleDef =
            toml::Value::Table(table).try_into().map_err(|e| fail(e.to_string().trim().to_owned()))?;
        rules.push(compile(file, def).map_err(fail)?);
    }
    Ok(rules)
}

fn compile(file: &Arc<str>, def: RuleDef) -> Result<Rule, String> {
    if def.id.is_empty()
        || !def.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    {
        return Err("an id is lower-case letters, digits, '-', '_' and '.'".into());
    }
    if def.description.trim().is_empty() {
        return Err("the description says what the rule matches and why".into());
    }
    if !(1..=100).contains(&def.confidence) {
        return Err(format!("confidence {} is not within 1-100", def.confidence));
    }
    if def.conditions.is_empty() {
        return Err("`match` has no conditions".into());
    }
    let mut conditions = Vec::with_capacity(def.conditions.len());
    for (i, c) in def.conditions.into_iter().enumerate() {
        conditions.push(condition(c).map_err(|e| format!("match[{i}]: {e}"))?);
    }
    if conditions.iter().all(|c| c.negate) {
        return Err("`match` needs at least one condition without `not`".into());
    }

    let set = def.set;
    let mut outputs = Vec::new();
    for (out, value) in [
        (Output::Class, set.class),
        (Output::Vendor, set.vendor),
        (Output::Model, set.model),
        (Output::Firmware, set.firmware),
        (Output::Os, set.os),
        (Output::Criticality, set.criticality),
    ] {
        let Some(value) = value else { continue };
        let pieces = template(&value, &mut conditions).map_err(|e| format!("set.{}: {e}", out.key()))?;
        outputs.push((out, pieces));
    }
    if outputs.is_empty() {
        return Err("`set` sets nothing".into());
    }
    for (out, pieces) in &outputs {
        // Class and criticality are vocabulary: fixed values only, checked here.
        let fixed = match pieces.as_slice() {
            [Piece::Text(t)] => Some(t.as_str()),
            _ => None,
        };
        match out {
            Output::Class => match fixed {
                Some(c) if class_info(c).is_some() => {}
                Some(c) => return Err(format!("unknown class {c:?} (see docs/taxonomy.md)")),
                None => return Err("set.class must be a fixed class id".into()),
            },
            Output::Criticality => match fixed.map(str::parse::<Criticality>) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Err("set.criticality must be a fixed value".into()),
            },
            _ => {}
        }
    }
    Ok(Rule {
        id: def.id,
        description: def.description.trim().to_owned(),
        file: file.clone(),
        confidence: def.confidence,
        conditions,
        outputs,
    })
}

fn condition(c: ConditionDef) -> Result<Condition, String> {
    let keys = c.key.into_vec();
    if keys.is_empty() {
        return Err("`key` names no fact key".into());
    }
    for k in &keys {
        if !FACT_KEYS.contains(&k.as_str()) {
            return Err(format!("unknown fact key {k:?}"));
        }
    }
    let strings = |v: OneOrMany, op: &str| -> Result<Vec<String>, String> {
        let v: Vec<String> = v.into_vec().into_iter().map(|s| s.to_lowercase()).collect();
        if v.is_empty() || v.iter().any(String::is_empty) {
            return Err(format!("`{op}` needs non-empty strings"));
        }
        Ok(v)
    };
    let mut tests = Vec::new();
    if let Some(v) = c.equals {
        tests.push(Test::Equals(strings(v, "equals")?));
    }
    if let Some(v) = c.contains {
        tests.push(Test::Contains(strings(v, "contains")?));
    }
    if let Some(v) = c.prefix {
        tests.push(Test::Prefix(strings(v, "prefix")?));
    }
    if let Some(r) = c.regex {
        let re = RegexBuilder::new(&r)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("bad regex {r:?}: {e}"))?;
        tests.push(Test::Regex(re));
    }
    match c.exists {
        Some(true) => tests.push(Test::Exists),
        Some(false) => return Err("`exists = false` is written `exists = true, not = true`".into()),
        None => {}
    }
    let test = match tests.len() {
        1 => tests.pop().ok_or("no test")?,
        0 => return Err("needs one of `equals`, `contains`, `prefix`, `regex` or `exists`".into()),
        _ => return Err("has more than one of `equals`, `contains`, `prefix`, `regex`, `exists`".into()),
    };
    let sources = c.source.map(OneOrMany::into_vec).unwrap_or_default();
    if sources.iter().any(String::is_empty) {
        return Err("`source` has an empty prefix".into());
    }
    Ok(Condition { keys, sources, test, negate: c.not, captures: false })
}

/// Parses an output value: text with `{1}`..`{9}` (groups of the rule's first regex
/// condition) and `{name}` (a named group of any regex condition); `{{` and `}}` are braces.
fn template(value: &str, conditions: &mut [Condition]) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(format!("unclosed '{{' in {value:?}")),
                    }
                }
                let (cond, group) = group_ref(&name, conditions)?;
                if let Some(c) = conditions.get_mut(cond) {
                    c.captures = true;
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Group { cond, group });
            }
            '}' => return Err(format!("stray '}}' in {value:?} (write '}}}}')")),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    if pieces.is_empty() || pieces.iter().all(|p| matches!(p, Piece::Text(t) if t.trim().is_empty())) {
        return Err("is empty".into());
    }
    Ok(pieces)
}

fn group_ref(name: &str, conditions: &[Condition]) -> Result<(usize, usize), String> {
    let regexes = conditions.iter().enumerate().filter_map(|(i, c)| match (&c.test, c.negate) {
        (Test::Regex(re), false) => Some((i, re)),
        _ => None,
    });
    if let Ok(n) = name.parse::<usize>() {
        let Some((i, re)) = regexes.clone().next() else {
            return Err(format!("{{{name}}} but no regex condition to take it from"));
        };
        if n == 0 || n >= re.captures_len() {
            return Err(format!(
                "{{{name}}}: the first regex condition has {} group(s)",
                re.captures_len() - 1
            ));
        }
        return Ok((i, n));
    }
    for (i, re) in regexes {
        if let Some(g) = re.capture_names().position(|n| n == Some(name)) {
            return Ok((i, g));
        }
    }
    Err(format!("{{{name}}} names no capture group of a regex condition"))
}
