//! Addresses and networks as feeds write them, and the ranges no feed may list.
//!
//! Public lists sometimes carry `10.0.0.0/8`, `0.0.0.0/8` or `224.0.0.0/3` (firehol's level 1
//! includes the bogons, to drop them at a border). Inside a hospital those are its own
//! devices: matching them would raise an alert on every flow, and blocking them would cut
//! the network. Any network that touches a private, reserved, loopback, link-local,
//! documentation or multicast range is refused and counted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// IPv4 ranges no feed may list (IANA special-purpose registry, RFC 6890 and successors).
const RESERVED_V4: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // "this network"
    (0x0a00_0000, 8),  // private
    (0x6440_0000, 10), // carrier-grade NAT
    (0x7f00_0000, 8),  // loopback
    (0xa9fe_0000, 16), // link-local
    (0xac10_0000, 12), // private
    (0xc000_0000, 24), // IETF protocol assignments
    (0xc000_0200, 24), // documentation TEST-NET-1
    (0xc058_6300, 24), // 6to4 relay anycast
    (0xc0a8_0000, 16), // private
    (0xc612_0000, 15), // benchmarking
    (0xc633_6400, 24), // documentation TEST-NET-2
    (0xcb00_7100, 24), // documentation TEST-NET-3
    (0xe000_0000, 4),  // multicast
    (0xf000_0000, 4),  // reserved, and the broadcast address
];

/// Why a network is refused, for the warning.
pub fn refusal(net: &IpNet) -> Option<&'static str> {
    match net {
        IpNet::V4(n) => {
            let (lo, hi) = (u32::from(n.network()), u32::from(n.broadcast()));
            RESERVED_V4
                .iter()
                .any(|&(start, len)| {
                    let end = start | (u32::MAX >> len);
                    lo <= end && start <= hi
                })
                .then_some("private or reserved")
        }
        IpNet::V6(n) => {
            let (lo, hi) = (u128::from(n.network()), u128::from(n.broadcast()));
            // Global unicast is 2000::/3; within it, documentation and the IETF block.
            let global = (0x2000u128 << 112, (0x4000u128 << 112) - 1);
            if lo < global.0 || hi > global.1 {
                return Some("not global unicast (private, link-local, multicast or reserved)");
            }
            let reserved: [(u128, u8); 3] =
                [(0x2001_0db8u128 << 96, 32), (0x2001_0000u128 << 96, 23), (0x3fff_0000u128 << 96, 20)];
            reserved
                .iter()
                .any(|&(start, len)| {
                    let end = start | (u128::MAX >> len);
                    lo <= end && start <= hi
                })
                .then_some("documentation or reserved")
        }
    }
}

/// An address, a network (`a/len`, host bits cleared), or a range `a-b` (as the networks
/// that cover it exactly). IPv4-mapped IPv6 addresses are read as IPv4. `None` when the
/// text is none of these.
pub fn parse_networks(text: &str) -> Option<Vec<IpNet>> {
    let text = text.trim();
    if let Some((a, b)) = text.split_once('-') {
        let (a, b) = (parse_addr(a.trim())?, parse_addr(b.trim())?);
        return match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                // At most 62 networks (254 for IPv6): a range's cost is bounded.
                Some(ipnet::Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect())
            }
            (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                Some(ipnet::Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect())
            }
            _ => None,
        };
    }
    parse_network(text).map(|n| vec![n])
}

/// One address or network; see [`parse_networks`].
pub fn parse_network(text: &str) -> Option<IpNet> {
    match text.split_once('/') {
        None => parse_addr(text).map(IpNet::from),
        Some((addr, len)) => {
            if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let len: u8 = len.parse().ok()?;
            match parse_addr(addr)? {
                IpAddr::V4(a) => Ipv4Net::new(a, len).ok().map(|n| IpNet::V4(n.trunc())),
                IpAddr::V6(a) => Ipv6Net::new(a, len).ok().map(|n| IpNet::V6(n.trunc())),
            }
        }
    }
}

/// An address; IPv4-mapped IPv6 addresses become IPv4.
pub fn parse_addr(text: &str) -> Option<IpAddr> {
    // Only characters an address can hold: `parse` would accept nothing else anyway, and
    // this keeps a domain list's names from being tried as addresses at length.
    let b = text.as_bytes();
    if b.is_empty() || b.len() > 45 || !b[0].is_ascii_hexdigit() && b[0] != b':' {
        return None;
    }
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(canonical_v6(v6)),
        v4 => Some(v4),
    }
}

/// An IPv6 address, or the IPv4 address it maps (`::ffff:a.b.c.d`).
pub fn canonical_v6(v6: Ipv6Addr) -> IpAddr {
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// An address in a lookup, made comparable with what the sets hold.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => canonical_v6(v6),
        v4 => v4,
    }
}

/// The text of a network as a feed would write it: a single address without its length.
pub fn network_text(net: &IpNet) -> String {
    match net {
        IpNet::V4(n) if n.prefix_len() == 32 => n.addr().to_string(),
        IpNet::V6(n) if n.prefix_len() == 128 => n.addr().to_string(),
        n => n.to_string(),
    }
}

/// First and last address of a network as numbers (IPv4 in the low 32 bits).
pub fn bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (u128::from(u32::from(n.network())), u128::from(u32::from(n.broadcast()))),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// Whether a text is an address (used to tell addresses from names).
pub fn looks_like_addr(text: &str) -> bool {
    parse_addr(text).is_some()
}

/// The address `0.0.0.0`, which hosts-style block lists point names at.
pub const UNSPECIFIED_V4: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        parse_network(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn reads_addresses_networks_and_ranges() {
        assert_eq!(net("1.2.3.4"), "1.2.3.4/32".parse::<IpNet>().unwrap());
        assert_eq!(net("1.2.3.4/24"), "1.2.3.0/24".parse::<IpNet>().unwrap());
        assert_eq!(net("::ffff:1.2.3.4"), "1.2.3.4/32".parse::<IpNet>().unwrap());
        assert_eq!(net("2a00:1::/32"), "2a00:1::/32".parse::<IpNet>().unwrap());
        assert!(parse_network("1.2.3.4/33").is_none());
        assert!(parse_network("1.2.3.4/").is_none());
        assert!(parse_network("evil.example").is_none());
        assert!(parse_network("1.2.3").is_none());
        let r = parse_networks("1.2.3.0-1.2.3.9").unwrap();
        assert_eq!(r.len(), 2); // .0/29 and .8/31
        assert!(parse_networks("1.2.3.9-1.2.3.0").is_none());
        // A range is at most 62 IPv4 (254 IPv6) networks.
        assert!(parse_networks("0.0.0.1-255.255.255.254").is_some_and(|n| n.len() == 62));
    }

    #[test]
    fn refuses_private_and_reserved() {
        for s in [
            "10.0.0.0/8",
            "10.1.2.3",
            "0.0.0.0/8",
            "192.168.1.1",
            "172.20.0.0/16",
            "127.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "8.0.0.0/6",
            "0.0.0.0/0",
            "100.64.0.1",
            "169.254.1.1",
            "fe80::1",
            "fd00::1",
            "::1",
            "ff02::1",
            "2001:db8::1",
            "::/0",
            "2000::/2",
        ] {
            assert!(refusal(&net(s)).is_some(), "{s}");
        }
        for s in ["8.8.8.8", "1.4.0.0/17", "11.0.0.0/8", "2a00:1450::1", "2001:4860::/32", "172.32.0.1"] {
            assert!(refusal(&net(s)).is_none(), "{s}");
        }
    }

    #[test]
    fn texts() {
        assert_eq!(network_text(&net("1.2.3.4")), "1.2.3.4");
        assert_eq!(network_text(&net("1.2.3.0/24")), "1.2.3.0/24");
    }
}
