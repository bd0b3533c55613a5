//! CSV feeds: the indicator in one column (by position or by the header's name), the
//! delimiter guessed from the first lines (`,`, `;`, tab), `#` comment lines skipped. The
//! first record is a header when the indicator column of it is not an address, name or URL
//! while the next one's is (or when it holds the configured column name).

use super::{ParseOptions, Parsed};
use crate::config::Column;
use crate::{domain, net};

fn delimiter(text: &str) -> u8 {
    let sample: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with('#')).take(10).collect();
    let count = |c: char| sample.iter().map(|l| l.matches(c).count()).sum::<usize>();
    let (comma, semi, tab) = (count(','), count(';'), count('\t'));
    if tab > comma && tab > semi {
        b'\t'
    } else if semi > comma {
        b';'
    } else {
        b','
    }
}

fn is_indicator(field: &str) -> bool {
    let f = field.trim();
    net::parse_networks(f).is_some() || domain::normalize_url(f).is_some() || domain::normalize(f).is_ok()
}

/// Reads a CSV feed.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records().peekable();
    let mut column = match &opts.csv_column {
        Column::Index(i) => Some(*i),
        Column::Name(_) => None,
    };
    // The header.
    if let Some(Ok(first)) = records.peek() {
        {
            let header = match &opts.csv_column {
                Column::Name(name) => {
                    column = first.iter().position(|f| f.eq_ignore_ascii_case(name));
                    column.is_some()
                }
                Column::Index(i) => first.get(*i).is_some_and(|f| !f.is_empty() && !is_indicator(f)),
            };
            if header {
                records.next();
            }
        }
    }
    let Some(column) = column else {
        out.unreadable(|| {
            format!(
                "no column named {:?} in the header",
                match &opts.csv_column {
                    Column::Name(n) => n.as_str(),
                    Column::Index(_) => "",
                }
            )
        });
        return out;
    };
    for rec in records {
        out.stats.entries += 1;
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let where_ = || format!("line {line}");
                match r.get(column).map(str::trim) {
                    Some(v) if !v.is_empty() => out.push_any(v, None, opts.confidence, &where_),
                    _ => out.unreadable(|| format!("line {line}: no value in column {column}")),
                }
            }
            Err(e) => out.unreadable(|| format!("a record cannot be read: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_by_position_with_a_header() {
        let text = "# abuse.ch style\nfirst_seen,dst_ip,port,malware\n\"2024-01-01\",45.9.20.1,443,x\n2024-01-02,10.1.1.1,80,y\n2024-01-03,,80,z\n";
        let p =
            parse(text.as_bytes(), &ParseOptions { csv_column: Column::Index(1), ..ParseOptions::default() });
        assert_eq!((p.stats.entries, p.stats.indicators, p.stats.refused, p.stats.unreadable), (3, 1, 1, 1));
    }

    #[test]
    fn reads_by_name_and_guesses_the_delimiter() {
        let text = "id;URL;threat\n1;http://evil.example/a;x\n2;bad.example;y\n";
        let p = parse(
            text.as_bytes(),
            &ParseOptions { csv_column: Column::Name("url".into()), ..ParseOptions::default() },
        );
        // The URL gives its host and itself; the second row a name.
        assert_eq!(p.stats.indicators, 3);
        let missing = parse(
            text.as_bytes(),
            &ParseOptions { csv_column: Column::Name("ip".into()), ..ParseOptions::default() },
        );
        assert_eq!((missing.stats.indicators, missing.stats.unreadable), (0, 1));
        // No header at all.
        let bare = parse(b"8.8.8.8,x\n1.1.1.1,y\n", &ParseOptions::default());
        assert_eq!(bare.stats.indicators, 2);
    }
}
