//! Known default credentials, to tell a weak login from a merely cleartext one. The list and
//! its sources are in this folder (`defaults.csv`, `SOURCES.md`).

use std::collections::HashSet;
use std::sync::OnceLock;

use ward_core::{AccountKind, DeviceKey, Evidence, Observation, ObservationKind, Timestamp, Weakness};

const DEFAULTS: &str = include_str!("defaults.csv");

fn table() -> &'static HashSet<(&'static str, &'static str)> {
    static TABLE: OnceLock<HashSet<(&'static str, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DEFAULTS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut f = l.splitn(3, ',');
                Some((f.next()?, f.next()?))
            })
            .collect()
    })
}

/// Whether the pair is a known default (user names compare without case, passwords exactly).
pub fn is_default(user: &str, password: &str) -> bool {
    let t = table();
    t.contains(&(user, password)) || t.iter().any(|(u, p)| *p == password && u.eq_ignore_ascii_case(user))
}

/// A credential observation: the kind of account and whether the pair is a default; the
/// user name and password go no further than this function.
pub fn observation(
    ts: Timestamp,
    device: DeviceKey,
    protocol: &'static str,
    user: &str,
    password: &str,
    accepted: Option<bool>,
    source: &'static str,
) -> Observation {
    let weakness = if is_default(user, password) { Weakness::Default } else { Weakness::Cleartext };
    Observation {
        ts,
        device,
        kind: ObservationKind::Credential {
            protocol: protocol.into(),
            account: AccountKind::of(user),
            weakness,
            accepted,
            evidence: Evidence::new(source, 90),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_and_others_do_not() {
        assert!(is_default("admin", "admin"));
        assert!(is_default("ADMIN", "admin"));
        assert!(is_default("root", ""));
        assert!(is_default("ubnt", "ubnt"));
        assert!(!is_default("admin", "Admin"));
        assert!(!is_default("nurse.jones", "correct horse battery staple"));
        assert!(table().len() > 50);
    }
}
