use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{Mac, Timestamp};

/// The 802.1Q tags a frame carried: `outer` is the first (service) tag, `inner` the second
/// (customer) tag of QinQ. A frame with one tag has only `outer`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Vlans {
    /// First tag's VLAN id, if tagged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outer: Option<u16>,
    /// Second tag's VLAN id, for QinQ.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inner: Option<u16>,
}

impl Vlans {
    /// The VLAN a device lives in: the innermost tag.
    pub fn access_vlan(&self) -> Option<u16> {
        self.inner.or(self.outer)
    }

    /// True when the frame carried no tag.
    pub fn is_untagged(&self) -> bool {
        self.outer.is_none()
    }
}

impl fmt::Debug for Vlans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.outer, self.inner) {
            (None, _) => f.write_str("untagged"),
            (Some(o), None) => write!(f, "vlan {o}"),
            (Some(o), Some(i)) => write!(f, "vlan {o}/{i}"),
        }
    }
}

/// An IP protocol number, named where Ward knows it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IpProto(pub u8);

impl IpProto {
    /// ICMP for IPv4.
    pub const ICMP: IpProto = IpProto(1);
    /// TCP.
    pub const TCP: IpProto = IpProto(6);
    /// UDP.
    pub const UDP: IpProto = IpProto(17);
    /// ICMPv6.
    pub const ICMPV6: IpProto = IpProto(58);

    /// A short lower-case name (`tcp`, `udp`, ...) or the number.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self.0 {
            1 => "icmp".into(),
            2 => "igmp".into(),
            6 => "tcp".into(),
            17 => "udp".into(),
            47 => "gre".into(),
            50 => "esp".into(),
            58 => "icmpv6".into(),
            89 => "ospf".into(),
            103 => "pim".into(),
            112 => "vrrp".into(),
            132 => "sctp".into(),
            n => format!("ip-proto-{n}").into(),
        }
    }

    /// Whether flows of this protocol have ports.
    pub fn has_ports(self) -> bool {
        matches!(self.0, 6 | 17 | 132)
    }

    /// A service on it as people write it: `tcp/443`, `udp/53`, `icmp` (no port where the
    /// protocol has none).
    pub fn service(self, port: u16) -> String {
        if self.has_ports() { format!("{}/{port}", self.name()) } else { self.name().into_owned() }
    }
}

impl fmt::Debug for IpProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One side of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// Transport port; 0 for protocols without ports. For ICMP flows the initiator's port holds
    /// the echo identifier when there is one.
    pub port: u16,
    /// Source MAC of the first frame this side sent, when layer 2 was visible. Behind a router
    /// this is the router's MAC, not the host's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mac: Option<Mac>,
}

/// Which way a packet or stream chunk goes within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the initiator to the responder.
    ToResponder = 0,
    /// From the responder back to the initiator.
    ToInitiator = 1,
}

impl Direction {
    /// 0 or 1, for per-direction arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToResponder => Direction::ToInitiator,
            Direction::ToInitiator => Direction::ToResponder,
        }
    }
}

/// Why a flow record was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowEndReason {
    /// Both sides sent FIN.
    Fin,
    /// One side reset the connection.
    Rst,
    /// No packet for longer than the idle timeout.
    Idle,
    /// The capture ended while the flow was open.
    EndOfCapture,
    /// The flow table was full and this flow made room for a new one.
    Evicted,
}

/// A finished conversation, as Zeek's `conn.log` knows it: joinable on `uid`, `start` and the
/// five-tuple with VLANs. Direction 0 is initiator to responder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// Unique within one sensor run.
    pub uid: u64,
    /// First packet.
    pub start: Timestamp,
    /// Last packet.
    pub end: Timestamp,
    /// VLAN tags of the flow.
    pub vlans: Vlans,
    /// IP protocol.
    pub proto: IpProto,
    /// The side that opened the conversation (sent the SYN, or the first packet).
    pub initiator: Endpoint,
    /// The other side.
    pub responder: Endpoint,
    /// Packets `[initiator to responder, responder to initiator]`.
    pub packets: [u64; 2],
    /// IP bytes (headers included), same order as `packets`.
    pub bytes: [u64; 2],
    /// TCP flags seen in each direction, OR-ed together.
    pub tcp_flags: [u8; 2],
    /// Application protocol named by a dissector, if one recognised the payload.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app: Option<std::borrow::Cow<'static, str>>,
    /// Why the record was closed.
    pub end_reason: FlowEndReason,
}

impl FlowRecord {
    /// A TCP flow whose initiator sent SYN and never got any answer, or was reset before a
    /// SYN-ACK: a failed connection attempt.
    pub fn is_failed_connection(&self) -> bool {
        const SYN: u8 = 0x02;
        const ACK: u8 = 0x10;
        self.proto == IpProto::TCP
            && self.tcp_flags[0] & SYN != 0
            && (self.packets[1] == 0 || self.tcp_flags[1] & (SYN | ACK) != (SYN | ACK))
    }
}
