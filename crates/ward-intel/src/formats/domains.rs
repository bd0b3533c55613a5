//! Domain lists: one name a line, or hosts-file lines that point names at a sink address
//! (`0.0.0.0 evil.example`, `127.0.0.1 a.example b.example`). `#` starts a comment. A name
//! matches itself and every name under it. An address on a line of its own is taken as an
//! address indicator.

use super::{ParseOptions, Parsed};
use crate::net;

/// Reads a domain list.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        out.stats.entries += 1;
        let where_ = || format!("line {}", i + 1);
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        let mut rest = fields.peekable();
        if net::looks_like_addr(first) {
            if rest.peek().is_none() {
                out.push_any(first, None, opts.confidence, &where_);
            }
            // A hosts line: the address is the sink, the names are the indicators.
            for name in rest {
                out.push_name(name, None, opts.confidence, &where_);
            }
        } else if rest.peek().is_none() {
            out.push_any(first, None, opts.confidence, &where_);
        } else {
            out.unreadable(|| {
                format!("line {}: {:?} is not a name or a hosts line", i + 1, crate::short(line, 80))
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndicatorValue;

    #[test]
    fn reads_names_and_hosts_lines() {
        let text = "# hosts\n127.0.0.1 localhost\n0.0.0.0 Evil.Example. ads.example # tracker\n\
                    bad.example\n*.wild.example\n8.8.4.4\ncom\ntwo words here\n";
        let p = parse(text.as_bytes(), &ParseOptions::default());
        assert_eq!(p.stats.entries, 7);
        assert_eq!(p.stats.refused, 2); // localhost, com
        assert_eq!(p.stats.unreadable, 1);
        let names: Vec<&str> = p
            .indicators
            .iter()
            .filter_map(|i| match &i.value {
                IndicatorValue::Domain(d) => Some(d.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["evil.example", "ads.example", "bad.example", "wild.example"]);
        assert_eq!(p.stats.indicators, 5);
    }
}
