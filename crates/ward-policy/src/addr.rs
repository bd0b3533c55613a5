//! Sets of addresses as sorted, disjoint, inclusive ranges per family: what a segment, a rule's
//! end or an allowlist stands for. Union, intersection and membership are exact, so the policy
//! evaluator and the nftables compiler see the same sets.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A set of IPv4 and IPv6 addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

/// An address or a network in CIDR notation that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an address or a network (10.1.0.0/16, 2001:db8::/32, 10.1.2.3, or a range 10.1.2.3-10.1.2.9)"
)]
pub struct BadNetwork(pub String);

fn normalise<T: Copy + Ord + One>(mut r: Vec<(T, T)>) -> Vec<(T, T)> {
    r.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(r.len());
    for (a, b) in r {
        match out.last_mut() {
            // Adjacent ranges join too: 10.0.0.0/25 and 10.0.0.128/25 are one /24.
            Some(last) if a <= last.1 || last.1.checked_inc() == Some(a) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

trait One: Sized {
    fn checked_inc(self) -> Option<Self>;
}
impl One for u32 {
    fn checked_inc(self) -> Option<u32> {
        self.checked_add(1)
    }
}
impl One for u128 {
    fn checked_inc(self) -> Option<u128> {
        self.checked_add(1)
    }
}

fn intersect<T: Copy + Ord>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
    out
}

fn contains<T: Copy + Ord>(r: &[(T, T)], x: T) -> bool {
    let i = r.partition_point(|&(_, hi)| hi < x);
    i < r.len() && r[i].0 <= x
}

/// `a` minus `b`.
fn subtract<T: Copy + Ord + One + Dec>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut j = 0;
    for &(mut lo, hi) in a {
        let mut done = false;
        while j < b.len() && b[j].1 < lo {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].0 <= hi {
            if b[k].0 > lo {
                out.push((lo, b[k].0.dec()));
            }
            match b[k].1.checked_inc() {
                Some(n) if n <= hi => lo = n,
                _ => {
                    done = true;
                    break;
                }
            }
            if b[k].1 >= hi {
                done = true;
                break;
            }
            k += 1;
        }
        if !done && lo <= hi {
            out.push((lo, hi));
        }
    }
    out
}

trait Dec {
    fn dec(self) -> Self;
}
impl Dec for u32 {
    fn dec(self) -> u32 {
        self - 1
    }
}
impl Dec for u128 {
    fn dec(self) -> u128 {
        self - 1
    }
}

fn prefix_range4(addr: u32, len: u8) -> (u32, u32) {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (addr & mask, (addr & mask) | !mask)
}

fn prefix_range6(addr: u128, len: u8) -> (u128, u128) {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    (addr & mask, (addr & mask) | !mask)
}

impl IpSet {
    /// No address.
    pub fn empty() -> IpSet {
        IpSet::default()
    }

    /// Every address of both families.
    pub fn all() -> IpSet {
        IpSet { v4: vec![(0, u32::MAX)], v6: vec![(0, u128::MAX)] }
    }

    /// One address.
    pub fn single(ip: IpAddr) -> IpSet {
        match ip {
            IpAddr::V4(a) => IpSet { v4: vec![(a.into(), a.into())], v6: Vec::new() },
            IpAddr::V6(a) => IpSet { v4: Vec::new(), v6: vec![(a.into(), a.into())] },
        }
    }

    /// Addresses from an iterator.
    pub fn from_ips(ips: impl IntoIterator<Item = IpAddr>) -> IpSet {
        let mut s = IpSet::default();
        for ip in ips {
            match ip {
                IpAddr::V4(a) => s.v4.push((a.into(), a.into())),
                IpAddr::V6(a) => s.v6.push((a.into(), a.into())),
            }
        }
        s.v4 = normalise(s.v4);
        s.v6 = normalise(s.v6);
        s
    }

    /// Reads `10.1.0.0/16`, `2001:db8::/32`, `10.1.2.3`, or a range `10.1.2.3-10.1.2.9`. Host
    /// bits set under the prefix (`10.1.2.3/16`) are refused: they usually mean a typo.
    pub fn parse(s: &str) -> Result<IpSet, BadNetwork> {
        let bad = || BadNetwork(s.to_owned());
        let t = s.trim();
        if let Some((a, b)) = t.split_once('-') {
            let (a, b): (IpAddr, IpAddr) =
                (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            return match (a, b) {
                (IpAddr::V4(a), IpAddr::V4(b)) if u32::from(a) <= u32::from(b) => {
                    Ok(IpSet { v4: vec![(a.into(), b.into())], v6: Vec::new() })
                }
                (IpAddr::V6(a), IpAddr::V6(b)) if u128::from(a) <= u128::from(b) => {
                    Ok(IpSet { v4: Vec::new(), v6: vec![(a.into(), b.into())] })
                }
                _ => Err(bad()),
            };
        }
        let (addr, len) = match t.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
            None => (t, None),
        };
        match addr.parse::<IpAddr>().map_err(|_| bad())? {
            IpAddr::V4(a) => {
                let len = len.unwrap_or(32);
                if len > 32 {
                    return Err(bad());
                }
                let r = prefix_range4(a.into(), len);
                if r.0 != u32::from(a) {
                    return Err(bad());
                }
                Ok(IpSet { v4: vec![r], v6: Vec::new() })
            }
            IpAddr::V6(a) => {
                let len = len.unwrap_or(128);
                if len > 128 {
                    return Err(bad());
                }
                let r = prefix_range6(a.into(), len);
                if r.0 != u128::from(a) {
                    return Err(bad());
                }
                Ok(IpSet { v4: Vec::new(), v6: vec![r] })
            }
        }
    }

    /// Whether no address is in it.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Whether it holds every address of both families.
    pub fn is_all(&self) -> bool {
        self.v4 == [(0, u32::MAX)] && self.v6 == [(0, u128::MAX)]
    }

    /// Whether it holds `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => contains(&self.v4, u32::from(a)),
            IpAddr::V6(a) => contains(&self.v6, u128::from(a)),
        }
    }

    /// Addresses in any of `sets`, merged once (for many sets, where `extend` one by one
    /// would sort again each time).
    pub fn union_all(sets: impl IntoIterator<Item = IpSet>) -> IpSet {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for s in sets {
            v4.extend(s.v4);
            v6.extend(s.v6);
        }
        IpSet { v4: normalise(v4), v6: normalise(v6) }
    }

    /// Addresses in either.
    pub fn union(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: normalise(self.v4.iter().chain(&other.v4).copied().collect()),
            v6: normalise(self.v6.iter().chain(&other.v6).copied().collect()),
        }
    }

    /// Adds another set's addresses.
    pub fn extend(&mut self, other: &IpSet) {
        if !other.is_empty() {
            *self = self.union(other);
        }
    }

    /// Addresses in both.
    pub fn intersection(&self, other: &IpSet) -> IpSet {
        IpSet { v4: intersect(&self.v4, &other.v4), v6: intersect(&self.v6, &other.v6) }
    }

    /// Addresses in this one and not in `other`.
    pub fn difference(&self, other: &IpSet) -> IpSet {
        IpSet { v4: subtract(&self.v4, &other.v4), v6: subtract(&self.v6, &other.v6) }
    }

    /// Whether they share an address.
    pub fn intersects(&self, other: &IpSet) -> bool {
        !self.intersection(other).is_empty()
    }

    /// Whether every address of this one is in `other`.
    pub fn is_subset(&self, other: &IpSet) -> bool {
        self.difference(other).is_empty()
    }

    /// IPv4 ranges, inclusive.
    pub fn v4(&self) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr)> + '_ {
        self.v4.iter().map(|&(a, b)| (Ipv4Addr::from(a), Ipv4Addr::from(b)))
    }

    /// IPv6 ranges, inclusive.
    pub fn v6(&self) -> impl Iterator<Item = (Ipv6Addr, Ipv6Addr)> + '_ {
        self.v6.iter().map(|&(a, b)| (Ipv6Addr::from(a), Ipv6Addr::from(b)))
    }

    /// Whether it holds IPv4 (IPv6) addresses.
    pub fn has_v4(&self) -> bool {
        !self.v4.is_empty()
    }

    /// Whether it holds IPv6 addresses.
    pub fn has_v6(&self) -> bool {
        !self.v6.is_empty()
    }

    /// The IPv4 part as nftables elements: single addresses, prefixes where a range is one,
    /// `a-b` otherwise.
    pub fn nft_v4(&self) -> Vec<String> {
        self.v4
            .iter()
            .map(|&(a, b)| {
                element(
                    Ipv4Addr::from(a),
                    Ipv4Addr::from(b),
                    (b - a).checked_add(1).map(u128::from),
                    a.into(),
                    32,
                )
            })
            .collect()
    }

    /// The IPv6 part as nftables elements.
    pub fn nft_v6(&self) -> Vec<String> {
        self.v6
            .iter()
            .map(|&(a, b)| element(Ipv6Addr::from(a), Ipv6Addr::from(b), (b - a).checked_add(1), a, 128))
            .collect()
    }

    /// How many ranges it holds (a measure of what a firewall set of it costs).
    pub fn ranges(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}

/// `a`, `a/len` when the range is exactly one prefix, else `a-b`.
fn element<A: fmt::Display>(a: A, b: A, size: Option<u128>, start: u128, bits: u32) -> String {
    match size {
        Some(1) => a.to_string(),
        Some(n) if n.is_power_of_two() && start.trailing_zeros() >= n.trailing_zeros() => {
            format!("{a}/{}", bits - n.trailing_zeros())
        }
        // The whole IPv6 space has no size in a u128.
        None => format!("{a}/0"),
        _ => format!("{a}-{b}"),
    }
}

impl fmt::Display for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.nft_v4().into_iter().chain(self.nft_v6()).collect();
        if parts.is_empty() { f.write_str("(none)") } else { f.write_str(&parts.join(", ")) }
    }
}

/// Addresses that are never on the internet: private, shared, loopback, link-local,
/// documentation, benchmarking, multicast and reserved space. `internet` in a policy means
/// every address outside the policy's segments and outside these.
pub fn not_internet() -> IpSet {
    let mut s = IpSet::default();
    for n in [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
        "::/127",
        "::ffff:0:0/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ] {
        // The list above is fixed and valid.
        if let Ok(n) = IpSet::parse(n) {
            s.extend(&n);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(s: &str) -> IpSet {
        s.split(',').map(|p| IpSet::parse(p).expect("valid")).fold(IpSet::empty(), |a, b| a.union(&b))
    }

    #[test]
    fn parses_and_prints_networks_ranges_and_addresses() {
        assert_eq!(set("10.1.0.0/16").nft_v4(), ["10.1.0.0/16"]);
        assert_eq!(set("10.1.0.0/25,10.1.0.128/25").nft_v4(), ["10.1.0.0/24"]);
        assert_eq!(set("10.1.2.3").nft_v4(), ["10.1.2.3"]);
        assert_eq!(set("10.1.2.3-10.1.2.9").nft_v4(), ["10.1.2.3-10.1.2.9"]);
        assert_eq!(set("2001:db8::/32").nft_v6(), ["2001:db8::/32"]);
        assert_eq!(IpSet::all().nft_v4(), ["0.0.0.0/0"]);
        assert_eq!(IpSet::all().nft_v6(), ["::/0"]);
        for bad in ["10.1.2.3/16", "10.1.2.0/33", "10.1.2.9-10.1.2.3", "pump", "10.1.2.3-::1", ""] {
            assert!(IpSet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn internet_excludes_private_space() {
        let n = not_internet();
        assert!(n.contains("10.9.9.9".parse().expect("ip")));
        assert!(n.contains("fd00::1".parse().expect("ip")));
        assert!(!n.contains("8.8.8.8".parse().expect("ip")));
        assert!(!n.contains("2a00:1450::1".parse().expect("ip")));
    }

    fn arb_set() -> impl Strategy<Value = Vec<(u32, u32)>> {
        proptest::collection::vec((0u32..4096, 0u32..64).prop_map(|(a, l)| (a, a.saturating_add(l))), 0..12)
    }

    fn to_set(r: &[(u32, u32)]) -> IpSet {
        IpSet { v4: normalise(r.to_vec()), v6: Vec::new() }
    }

    proptest! {
        #[test]
        fn set_operations_agree_with_membership(a in arb_set(), b in arb_set(), x in 0u32..4200) {
            let (sa, sb) = (to_set(&a), to_set(&b));
            let ip = IpAddr::V4(Ipv4Addr::from(x));
            let (ina, inb) = (sa.contains(ip), sb.contains(ip));
            prop_assert_eq!(sa.union(&sb).contains(ip), ina || inb);
            prop_assert_eq!(sa.intersection(&sb).contains(ip), ina && inb);
            prop_assert_eq!(sa.difference(&sb).contains(ip), ina && !inb);
            prop_assert_eq!(ina, a.iter().any(|&(lo, hi)| lo <= x && x <= hi));
            // Printing and reading back gives the same set.
            let back = sa.nft_v4().iter().map(|e| IpSet::parse(e).expect("own output")).fold(IpSet::empty(), |s, e| s.union(&e));
            prop_assert_eq!(back, sa);
        }
    }
}
