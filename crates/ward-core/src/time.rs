use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time: nanoseconds since the Unix epoch, UTC.
///
/// Captures carry micro- or nanosecond stamps; both fit without loss until the year 2554.
/// Serialised as RFC 3339 (`2024-05-01T12:00:00.000001Z`) so that logs and JSON join on it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

const NANOS_PER_SEC: u64 = 1_000_000_000;

impl Timestamp {
    /// The epoch itself; also what a packet without a usable time stamp gets.
    pub const ZERO: Timestamp = Timestamp(0);

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(nanos: u64) -> Timestamp {
        Timestamp(nanos)
    }

    /// From whole seconds since the epoch (saturating).
    pub const fn from_secs(secs: u64) -> Timestamp {
        Timestamp(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// From seconds and a fraction in `units_per_sec` units (pcap's micro/nanoseconds, pcapng's
    /// interface resolution). Saturates instead of overflowing on absurd inputs.
    pub fn from_parts(secs: u64, frac: u64, units_per_sec: u64) -> Timestamp {
        // The two resolutions nearly every capture uses take no division (this runs per packet).
        let frac_ns = if units_per_sec == 1_000_000 && frac < 1_000_000 {
            frac * 1_000
        } else if units_per_sec == NANOS_PER_SEC {
            frac
        } else if units_per_sec == 0 {
            0
        } else {
            (u128::from(frac) * u128::from(NANOS_PER_SEC) / u128::from(units_per_sec)) as u64
        };
        Timestamp(secs.saturating_mul(NANOS_PER_SEC).saturating_add(frac_ns))
    }

    /// Now, by the machine's clock: for what a person does (an override, an import), never
    /// for what traffic shows, which carries its own time.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }

    /// `self - earlier` in nanoseconds, or zero when `earlier` is later.
    pub const fn nanos_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This time plus `nanos` (saturating).
    pub const fn add_nanos(self, nanos: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(nanos))
    }
}

// Civil-from-days and days-from-civil after Howard Hinnant's public-domain algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Timestamp {
    /// Longest RFC 3339 text of a time: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
    const TEXT_MAX: usize = 30;

    /// The RFC 3339 text into `buf`; returns its length. Written digit by digit: a summary
    /// prints hundreds of thousands of times, and the formatting machinery cost a tenth of a
    /// whole run.
    fn write_text(self, buf: &mut [u8; Self::TEXT_MAX]) -> usize {
        fn digits(buf: &mut [u8], at: usize, mut v: u64, width: usize) {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
        let secs = self.as_secs();
        let nanos = self.0 % NANOS_PER_SEC;
        let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        // Years before 1970 cannot be made (the count is unsigned) and 9999 is the last
        // with four digits; past it, the year is cut as `{y:04}` would not, but no capture
        // time gets there (u64 nanoseconds end in 2554).
        digits(buf, 0, y.clamp(0, 9999) as u64, 4);
        buf[4] = b'-';
        digits(buf, 5, u64::from(mo), 2);
        buf[7] = b'-';
        digits(buf, 8, u64::from(d), 2);
        buf[10] = b'T';
        digits(buf, 11, rem / 3600, 2);
        buf[13] = b':';
        digits(buf, 14, rem / 60 % 60, 2);
        buf[16] = b':';
        digits(buf, 17, rem % 60, 2);
        let mut len = 19;
        if nanos != 0 {
            // The fraction without trailing zeros.
            let (mut frac, mut width) = (nanos, 9usize);
            while frac % 10 == 0 {
                frac /= 10;
                width -= 1;
            }
            buf[19] = b'.';
            digits(buf, 20, frac, width);
            len = 20 + width;
        }
        buf[len] = b'Z';
        len + 1
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; Timestamp::TEXT_MAX];
        let len = self.write_text(&mut buf);
        // Only ASCII digits and separators were written.
        f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A time that is not RFC 3339 in UTC (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampParseError(String);

impl fmt::Display for TimestampParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an RFC 3339 UTC time: {:?}", self.0)
    }
}

impl std::error::Error for TimestampParseError {}

impl FromStr for Timestamp {
    type Err = TimestampParseError;

    fn from_str(s: &str) -> Result<Timestamp, TimestampParseError> {
        let err = || TimestampParseError(s.to_owned());
        let body = s.strip_suffix('Z').ok_or_else(err)?;
        let (date, time) = body.split_once('T').ok_or_else(err)?;
        let num = |t: &str, len: usize| -> Result<u64, TimestampParseError> {
            if t.len() != len || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            t.parse().map_err(|_| err())
        };
        let mut dp = date.split('-');
        let (y, mo, d) = match (dp.next(), dp.next(), dp.next(), dp.next()) {
            (Some(y), Some(mo), Some(d), None) => (num(y, 4)?, num(mo, 2)?, num(d, 2)?),
            _ => return Err(err()),
        };
        let (hms, frac) = match time.split_once('.') {
            Some((hms, frac)) => (hms, Some(frac)),
            None => (time, None),
        };
        let mut tp = hms.split(':');
        let (h, mi, se) = match (tp.next(), tp.next(), tp.next(), tp.next()) {
            (Some(h), Some(mi), Some(se), None) => (num(h, 2)?, num(mi, 2)?, num(se, 2)?),
            _ => return Err(err()),
        };
        if y < 1970 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
            return Err(err());
        }
        let nanos = match frac {
            None => 0,
            Some(f) if !f.is_empty() && f.len() <= 9 => num(f, f.len())? * 10u64.pow(9 - f.len() as u32),
            Some(_) => return Err(err()),
        };
        let days = days_from_civil(y as i64, mo as u32, d as u32);
        let secs = u64::try_from(days).map_err(|_| err())? * 86_400 + h * 3600 + mi * 60 + se;
        Ok(Timestamp::from_secs(secs).add_nanos(nanos))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; Timestamp::TEXT_MAX];
        let len = self.write_text(&mut buf);
        match std::str::from_utf8(&buf[..len]) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(Timestamp::ZERO.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_secs(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        let t = Timestamp::from_parts(1_700_000_000, 123_456, 1_000_000);
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn the_last_time_and_json_agree_with_display() {
        let last = Timestamp::from_nanos(u64::MAX);
        assert_eq!(last.to_string(), "2554-07-21T23:34:33.709551615Z");
        assert_eq!(last.to_string().parse::<Timestamp>(), Ok(last));
        let t = Timestamp::from_parts(1_700_000_000, 9, 120_000_000);
        assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
    }

    #[test]
    fn converts_resolutions() {
        assert_eq!(Timestamp::from_parts(1, 5, 10).as_nanos(), 1_500_000_000);
        assert_eq!(Timestamp::from_parts(1, 1, 1 << 20).as_nanos(), 1_000_000_953);
        assert_eq!(Timestamp::from_parts(u64::MAX, 0, 1_000), Timestamp::from_nanos(u64::MAX));
        assert_eq!(Timestamp::from_parts(3, 7, 0), Timestamp::from_secs(3));
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "",
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-13-14T22:13:20Z",
            "2023-11-14T22:13:20.Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn text_round_trips(n in 0u64..(u64::MAX / 2)) {
            let t = Timestamp::from_nanos(n);
            proptest::prop_assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
        }
    }
}
