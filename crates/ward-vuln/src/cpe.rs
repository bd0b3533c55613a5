//! CPE 2.3 formatted names (`cpe:2.3:o:bd:alaris_8015_pcu_firmware:*:*:*:*:*:*:*:*`), read
//! into their fields. Matching against devices is in [`crate::matching`]: devices carry no
//! CPE, so a CPE's vendor and product are compared with the device's vendor and model.

/// The fields of a CPE 2.3 name Ward uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cpe {
    /// `a` (application), `o` (operating system or firmware), `h` (hardware).
    pub part: char,
    /// The vendor, unescaped (`bd`).
    pub vendor: String,
    /// The product, unescaped (`alaris_8015_pcu_firmware`).
    pub product: String,
    /// The version: `None` for `*` (any) and `-` (not applicable).
    pub version: Option<String>,
}

/// Longest CPE name read.
const MAX_CPE_LEN: usize = 1024;

/// Why a CPE name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a CPE 2.3 name: {0}")]
pub struct CpeError(pub String);

impl Cpe {
    /// Reads a formatted-string CPE 2.3 name (`\` escapes the next character).
    pub fn parse(s: &str) -> Result<Cpe, CpeError> {
        if s.len() > MAX_CPE_LEN {
            return Err(CpeError("longer than 1024 bytes".into()));
        }
        let mut fields = Vec::with_capacity(13);
        let mut cur = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ':' => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        if fields.len() < 6 || fields[0] != "cpe" || fields[1] != "2.3" {
            return Err(CpeError(crate::short(s, 80)));
        }
        let part = match fields[2].as_str() {
            "a" => 'a',
            "o" => 'o',
            "h" => 'h',
            "*" => '*',
            _ => return Err(CpeError(crate::short(s, 80))),
        };
        let version = match fields[5].as_str() {
            "*" | "-" | "" => None,
            v => Some(v.to_owned()),
        };
        Ok(Cpe { part, vendor: fields[3].clone(), product: fields[4].clone(), version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_escapes() {
        let c = Cpe::parse("cpe:2.3:o:bd:alaris_8015_pcu_firmware:*:*:*:*:*:*:*:*").expect("cpe");
        assert_eq!(
            (c.part, c.vendor.as_str(), c.product.as_str(), c.version),
            ('o', "bd", "alaris_8015_pcu_firmware", None)
        );
        let c = Cpe::parse(r"cpe:2.3:a:b\:braun:space\:station:2.0:*:*:*:*:*:*:*").expect("cpe");
        assert_eq!(
            (c.vendor.as_str(), c.product.as_str(), c.version.as_deref()),
            ("b:braun", "space:station", Some("2.0"))
        );
        assert!(Cpe::parse("cpe:/a:bd:alaris").is_err());
        assert!(Cpe::parse("cpe:2.3:x:bd:alaris:1").is_err());
    }
}
