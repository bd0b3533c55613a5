//! Named services a rule may use instead of ports (`services = ["dicom", "hl7"]`): the ports
//! they are registered on or, for clinical protocols, the ports vendors configure most.

use crate::policy::Proto;

/// A named service: its name, protocol and port ranges.
pub type Service = (&'static str, Proto, &'static [(u16, u16)]);

/// The named services, sorted by name. Documented in docs/policy.md.
pub const SERVICES: &[Service] = &[
    ("bacnet", Proto::Udp, &[(47808, 47808)]),
    ("dhcp", Proto::Udp, &[(67, 68)]),
    ("dicom", Proto::Tcp, &[(104, 104), (11112, 11112)]),
    ("dicom-tls", Proto::Tcp, &[(2762, 2762)]),
    ("dns", Proto::Udp, &[(53, 53)]),
    ("dns-tcp", Proto::Tcp, &[(53, 53)]),
    ("ftp", Proto::Tcp, &[(21, 21)]),
    ("hl7", Proto::Tcp, &[(2575, 2575)]),
    ("http", Proto::Tcp, &[(80, 80), (8080, 8080)]),
    ("https", Proto::Tcp, &[(443, 443), (8443, 8443)]),
    ("kerberos", Proto::Udp, &[(88, 88)]),
    ("ldap", Proto::Tcp, &[(389, 389)]),
    ("ldaps", Proto::Tcp, &[(636, 636)]),
    ("modbus", Proto::Tcp, &[(502, 502)]),
    ("mqtt", Proto::Tcp, &[(1883, 1883)]),
    ("mqtts", Proto::Tcp, &[(8883, 8883)]),
    ("ntp", Proto::Udp, &[(123, 123)]),
    ("radius", Proto::Udp, &[(1812, 1813)]),
    ("rdp", Proto::Tcp, &[(3389, 3389)]),
    ("smb", Proto::Tcp, &[(445, 445)]),
    ("smtp", Proto::Tcp, &[(25, 25), (587, 587)]),
    ("snmp", Proto::Udp, &[(161, 161)]),
    ("snmp-trap", Proto::Udp, &[(162, 162)]),
    ("ssh", Proto::Tcp, &[(22, 22)]),
    ("syslog", Proto::Udp, &[(514, 514)]),
    ("syslog-tls", Proto::Tcp, &[(6514, 6514)]),
    ("telnet", Proto::Tcp, &[(23, 23)]),
    ("vnc", Proto::Tcp, &[(5900, 5900)]),
];

/// The named service's protocol and ports.
pub fn service(name: &str) -> Option<(Proto, &'static [(u16, u16)])> {
    SERVICES.binary_search_by(|(n, _, _)| (*n).cmp(name)).ok().map(|i| (SERVICES[i].1, SERVICES[i].2))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_is_sorted_for_lookup() {
        assert!(super::SERVICES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(super::service("dicom").is_some());
        assert!(super::service("gopher").is_none());
    }
}
