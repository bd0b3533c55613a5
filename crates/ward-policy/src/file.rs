//! The policy file as written (TOML), before its names are checked and its networks read.
//! Every table refuses unknown keys, and every value a person can get wrong keeps its place
//! in the file so that an error can name the line.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    #[serde(default)]
    pub(crate) policy: Header,
    #[serde(default)]
    pub(crate) outside: Posture,
    #[serde(default)]
    pub(crate) segment: Vec<Spanned<SegmentFile>>,
    #[serde(default)]
    pub(crate) placement: Vec<Spanned<PlacementFile>>,
    #[serde(default)]
    pub(crate) rule: Vec<Spanned<RuleFile>>,
    #[serde(default)]
    pub(crate) device: Vec<Spanned<DeviceFile>>,
}

/// `[policy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// Log what the defaults deny (default true).
    #[serde(default)]
    pub(crate) log: Option<bool>,
}

/// `[outside]`: the posture of addresses in no segment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Posture {
    #[serde(default)]
    pub(crate) inbound: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) outbound: Option<Spanned<String>>,
}

/// `[[segment]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SegmentFile {
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) vlans: Vec<Spanned<i64>>,
    #[serde(default)]
    pub(crate) inbound: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) outbound: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) intra: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) log: Option<bool>,
}

/// `[[placement]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlacementFile {
    #[serde(default)]
    pub(crate) segment: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) segments: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) classes: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) vendors: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) devices: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) exclusive: bool,
    #[serde(default)]
    pub(crate) comment: Option<String>,
}

/// A string or a list of them.
#[derive(Debug)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<OneOrMany, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    out.push(s);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Each string with its place (a lone string has the value's).
pub(crate) fn strings(v: Spanned<OneOrMany>) -> Vec<Spanned<String>> {
    {
        let span = v.span();
        match v.into_inner() {
            OneOrMany::One(s) => vec![Spanned::new(span, s)],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A port number or a `"from-to"` range.
#[derive(Debug)]
pub(crate) enum PortFile {
    Number(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for PortFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PortFile, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PortFile;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a port number or a range \"from-to\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PortFile, E> {
                Ok(PortFile::Number(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PortFile, E> {
                Ok(PortFile::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[[rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    pub(crate) name: Spanned<String>,
    pub(crate) from: Spanned<OneOrMany>,
    pub(crate) to: Spanned<OneOrMany>,
    #[serde(default)]
    pub(crate) proto: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) ports: Vec<Spanned<PortFile>>,
    #[serde(default)]
    pub(crate) services: Vec<Spanned<String>>,
    pub(crate) action: Spanned<String>,
    #[serde(default)]
    pub(crate) log: Option<bool>,
    #[serde(default)]
    pub(crate) comment: Option<String>,
}

/// `[[device]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceFile {
    pub(crate) device: Spanned<String>,
    #[serde(default)]
    pub(crate) allow: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) deny: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) comment: Option<String>,
}
