use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IEEE 802 MAC address (EUI-48).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    /// The all-zero address, used by ARP probes for "unknown".
    pub const ZERO: Mac = Mac([0; 6]);

    /// Reads a MAC from the first six bytes of `bytes`, if there are six.
    pub fn from_slice(bytes: &[u8]) -> Option<Mac> {
        bytes.get(..6)?.try_into().ok().map(Mac)
    }

    /// Group (multicast or broadcast) addresses never name one device.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Locally administered addresses are often randomised per network (phones, laptops) and
    /// must not be trusted alone to identify a device across time.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// A unicast address that can belong to one device: not group, not all-zero.
    pub fn is_unicast_device(&self) -> bool {
        !self.is_multicast() && *self != Mac::ZERO
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A MAC address string that is not six hexadecimal octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacParseError(String);

impl fmt::Display for MacParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a MAC address: {:?}", self.0)
    }
}

impl std::error::Error for MacParseError {}

impl FromStr for Mac {
    type Err = MacParseError;

    /// Accepts the formats switches and tools print: `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`,
    /// `aabb.ccdd.eeff` and `aabbccddeeff`.
    fn from_str(s: &str) -> Result<Mac, MacParseError> {
        let mut out = [0u8; 6];
        let mut n = 0usize;
        let mut high: Option<u8> = None;
        for c in s.chars() {
            if matches!(c, ':' | '-' | '.') {
                continue;
            }
            let d = c.to_digit(16).ok_or_else(|| MacParseError(s.to_owned()))? as u8;
            match high.take() {
                None => high = Some(d),
                Some(h) => {
                    let slot = out.get_mut(n).ok_or_else(|| MacParseError(s.to_owned()))?;
                    *slot = h << 4 | d;
                    n += 1;
                }
            }
        }
        if n != 6 || high.is_some() {
            return Err(MacParseError(s.to_owned()));
        }
        Ok(Mac(out))
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Mac, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vendor_formats() {
        let want = Mac([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6]);
        for s in ["00:1b:63:84:45:e6", "00-1B-63-84-45-E6", "001b.6384.45e6", "001b638445e6"] {
            assert_eq!(s.parse::<Mac>(), Ok(want), "{s}");
        }
        for bad in ["", "00:1b:63:84:45", "00:1b:63:84:45:e6:00", "zz:1b:63:84:45:e6", "001b638445e"] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
    }

    #[test]
    fn flags() {
        assert!(Mac::BROADCAST.is_multicast());
        assert!(!Mac::ZERO.is_unicast_device());
        assert!(Mac([0x02, 0, 0, 0, 0, 1]).is_locally_administered());
        assert!(Mac([0x00, 0x1b, 0x63, 0, 0, 1]).is_unicast_device());
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(b: [u8; 6]) {
            let m = Mac(b);
            proptest::prop_assert_eq!(m.to_string().parse::<Mac>(), Ok(m));
        }
    }
}
