//! Plain lists of addresses, networks and ranges: one a line, `#` and `;` comments (whole
//! lines or after the value), and an optional score column after the value, as ipsum writes
//! it (`77.90.185.20<TAB>10`: the number of lists that name the address). firehol's netsets
//! and Spamhaus DROP (`1.10.16.0/20 ; SBL256894`) are this format too.

use super::{ParseOptions, Parsed};

/// The value of a line without its comment, and the rest of the line.
pub(crate) fn strip_comment(line: &str) -> &str {
    let cut = line.find(['#', ';']).unwrap_or(line.len());
    line[..cut].trim()
}

/// Reads a list.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    for (i, line) in text.lines().enumerate() {
        let line = strip_comment(line);
        if line.is_empty() {
            continue;
        }
        out.stats.entries += 1;
        let mut fields = line.split([' ', '\t', ',']).filter(|f| !f.is_empty());
        let value = fields.next().unwrap_or_default();
        let score = fields.next().and_then(|s| s.parse::<u32>().ok());
        if let (Some(min), Some(score)) = (opts.min_score, score)
            && score < min
        {
            out.stats.below_min_score += 1;
            continue;
        }
        let where_ = || format!("line {}", i + 1);
        match crate::net::parse_networks(value) {
            Some(nets) => {
                for n in nets {
                    out.push_net(n, None, opts.confidence, &where_);
                }
            }
            None => out.unreadable(|| {
                format!("line {}: {:?} is not an address or network", i + 1, crate::short(value, 80))
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndicatorValue;

    #[test]
    fn reads_ipsum_firehol_and_drop_lines() {
        let text = "# IPsum\n#\n77.90.185.20\t10\n2.57.122.53\t2\n\n; drop\n1.10.16.0/20 ; SBL256894\n\
                    10.0.0.0/8\n0.0.0.0/8\nnonsense here\n2a03:2880::/32 # v6\n5.8.60.90-5.8.60.91\n";
        let p = parse(text.as_bytes(), &ParseOptions { min_score: Some(3), ..ParseOptions::default() });
        assert_eq!(p.stats.entries, 8);
        assert_eq!(p.stats.below_min_score, 1);
        assert_eq!(p.stats.refused, 2);
        assert_eq!(p.stats.unreadable, 1);
        assert_eq!(p.stats.indicators, 4);
        assert!(p.stats.warnings.iter().any(|w| w.contains("line 8") && w.contains("10.0.0.0/8")));
        let values: Vec<String> = p
            .indicators
            .iter()
            .map(|i| match &i.value {
                IndicatorValue::Net(n) => n.to_string(),
                v => format!("{v:?}"),
            })
            .collect();
        assert_eq!(values, ["77.90.185.20/32", "1.10.16.0/20", "2a03:2880::/32", "5.8.60.90/31"]);
    }

    #[test]
    fn never_panics_on_junk() {
        for junk in [&b"\xff\xfe\x00"[..], b"/\n-\n1.2.3.4/\n::/\n1.2.3.4-\n#\n;;", b"\r\n\r\n1.1.1.1\r\n"] {
            let _ = parse(junk, &ParseOptions::default());
        }
    }
}
