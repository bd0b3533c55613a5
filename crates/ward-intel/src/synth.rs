//! Deterministic synthetic feeds for benchmarks and tests: public addresses and networks
//! (ipsum-style lines with a score), and domain names (half as hosts-file lines). The same
//! seed gives the same bytes on every machine.

use std::fmt::Write as _;

use crate::net;

/// A xorshift generator: fast, deterministic, good enough to spread addresses and names.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// From a seed (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const TLDS: &[&str] = &["com", "net", "org", "info", "ru", "cn", "xyz", "top", "io", "biz"];

/// A public IPv4 address.
pub fn public_v4(rng: &mut Rng) -> std::net::Ipv4Addr {
    loop {
        let a = std::net::Ipv4Addr::from(rng.next_u64() as u32);
        if net::refusal(&ipnet::IpNet::from(std::net::IpAddr::V4(a))).is_none() {
            return a;
        }
    }
}

/// A plausible domain name of two or three labels.
pub fn domain(rng: &mut Rng) -> String {
    let mut s = String::new();
    let labels = 2 + rng.below(2);
    for i in 0..labels {
        if i > 0 {
            s.push('.');
        }
        if i + 1 == labels {
            s.push_str(TLDS[rng.below(TLDS.len() as u64) as usize]);
        } else {
            let len = 4 + rng.below(9);
            for _ in 0..len {
                s.push(char::from(b'a' + rng.below(26) as u8));
            }
        }
    }
    s
}

/// An ipsum-style list of `n` lines: addresses (nine in ten), networks from /20 to /30,
/// and one in twenty an IPv6 network, each with a score from 1 to 10.
pub fn ip_list(seed: u64, n: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(n * 18);
    out.push_str("# synthetic list (ward-intel synth)\n");
    for _ in 0..n {
        let score = 1 + rng.below(10);
        match rng.below(20) {
            0 => {
                let hi = 0x2400u16 + rng.below(0x0a00) as u16;
                let _ = writeln!(out, "{hi:x}:{:x}:{:x}::/48\t{score}", rng.below(0xffff), rng.below(0xffff));
            }
            1 | 2 => {
                let len = 20 + rng.below(11) as u8;
                let a = public_v4(&mut rng);
                let net = ipnet::Ipv4Net::new(a, len).map(|n| n.trunc()).unwrap_or_default();
                let _ = writeln!(out, "{net}\t{score}");
            }
            _ => {
                let _ = writeln!(out, "{}\t{score}", public_v4(&mut rng));
            }
        }
    }
    out
}

/// A domain list of `n` names, every other one as a hosts-file line.
pub fn domain_list(seed: u64, n: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(n * 24);
    out.push_str("# synthetic domains (ward-intel synth)\n");
    for i in 0..n {
        let d = domain(&mut rng);
        if i % 2 == 0 {
            let _ = writeln!(out, "0.0.0.0 {d}");
        } else {
            let _ = writeln!(out, "{d}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{ParseOptions, parse};
    use crate::{FeedSet, Format, Intel};

    #[test]
    fn synthetic_feeds_load_whole() {
        let ips = ip_list(7, 5000);
        assert_eq!(ips, ip_list(7, 5000));
        let p = parse(Format::Auto, ips.as_bytes(), &ParseOptions::default());
        assert_eq!(
            (p.stats.entries, p.stats.indicators, p.stats.refused, p.stats.unreadable),
            (5000, 5000, 0, 0)
        );
        let d = parse(Format::Auto, domain_list(8, 5000).as_bytes(), &ParseOptions::default());
        assert_eq!((d.stats.entries, d.stats.indicators), (5000, 5000));
        let intel = Intel::new();
        intel.set_feed(FeedSet::build("ips", p));
        intel.set_feed(FeedSet::build("names", d));
        assert_eq!(intel.snapshot().indicators(), 10_000);
        let mut rng = Rng::new(8);
        let name = domain(&mut rng);
        assert!(intel.lookup_domain(&format!("www.{name}")).is_some());
    }
}
