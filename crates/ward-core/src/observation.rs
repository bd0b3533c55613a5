use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{FlowRecord, Mac, Timestamp};

/// How Ward names a device before the inventory merges identities: by MAC where layer 2 is
/// visible, by IP address behind routers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKey {
    /// A device seen at layer 2.
    Mac(Mac),
    /// A device known only by its address.
    Ip(IpAddr),
}

impl fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceKey::Mac(m) => write!(f, "mac:{m}"),
            DeviceKey::Ip(ip) => write!(f, "ip:{ip}"),
        }
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where a fact came from and how far to trust it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Evidence {
    /// The protocol field, dotted: `arp.sender`, `dhcp.option60`, `hl7.msh3`.
    pub source: Cow<'static, str>,
    /// 0 (a guess) to 100 (the device said so, authenticated).
    pub confidence: u8,
}

impl Evidence {
    /// Evidence from a protocol field; confidence is clamped to 100.
    pub const fn new(source: &'static str, confidence: u8) -> Evidence {
        Evidence {
            source: Cow::Borrowed(source),
            confidence: if confidence > 100 { 100 } else { confidence },
        }
    }
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.source, self.confidence)
    }
}

/// Something the sensor learned from traffic. Observations are the only thing that leaves the
/// sensor; they never carry packet payload, patient data or secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Time of the packet (or the flow's end) that taught it.
    pub ts: Timestamp,
    /// The device it is about.
    pub device: DeviceKey,
    /// What was learned.
    pub kind: ObservationKind,
}

/// What an [`Observation`] says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ObservationKind {
    /// The device was present, with this address and VLAN if known. ARP and DHCP bindings
    /// arrive as `Seen` with a MAC key and an IP.
    Seen {
        /// The address it used, if the protocol tells.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        ip: Option<IpAddr>,
        /// The access VLAN it was seen on.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        vlan: Option<u16>,
        /// Which field showed it.
        evidence: Evidence,
    },
    /// A named property of the device (`hostname`, `vendor_class`, ...).
    Attribute {
        /// Attribute name.
        key: Cow<'static, str>,
        /// Its value, as the device announced it (length-capped by the dissector).
        value: String,
        /// Which field showed it.
        evidence: Evidence,
    },
    /// A conversation ended. The device is the initiator.
    FlowEnd(Box<FlowRecord>),
    /// The device accepts or is sent a login seen in cleartext. The secret itself is never
    /// kept: only the protocol, what kind of account it was for, and whether the pair is a
    /// known default.
    Credential {
        /// `http-basic`, `ftp`, `telnet`, `snmp`, `mqtt`, ...
        protocol: Cow<'static, str>,
        /// What kind of account the user name names.
        account: AccountKind,
        /// What makes it weak.
        weakness: Weakness,
        /// Whether the server accepted it, when the traffic shows.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        accepted: Option<bool>,
        /// Which exchange showed it.
        evidence: Evidence,
    },
    /// The device sends or receives a protocol in cleartext whose content matters: clinical
    /// messages (HL7, DICOM), telemetry. Only that it happened is kept, never the content.
    Cleartext {
        /// `hl7`, `dicom`, `mqtt`, `poct1a`, ...
        protocol: Cow<'static, str>,
        /// Whether the traffic carried patient data (patient segments in HL7, a dataset with
        /// patient attributes in DICOM). The data itself is never read into any record.
        phi: bool,
        /// Which exchange showed it.
        evidence: Evidence,
    },
}

/// The kind of account a user name stands for. The name itself is not kept: it can name a
/// person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// `admin`, `administrator`, `supervisor`.
    Admin,
    /// `root`, `su`.
    Root,
    /// Vendor service and maintenance accounts: `service`, `tech`, `support`, `maint`, ...
    Service,
    /// `guest`, `user`, `demo`, `test`.
    Generic,
    /// `anonymous`, `ftp`.
    Anonymous,
    /// No user name (SNMP communities, password-only logins).
    None,
    /// Any other name, most likely a person's or a device's own.
    Named,
}

impl AccountKind {
    /// Classifies a user name without keeping it.
    pub fn of(user: &str) -> AccountKind {
        let u = user.trim().to_ascii_lowercase();
        match u.as_str() {
            "" => AccountKind::None,
            "admin" | "administrator" | "supervisor" | "sysadmin" | "adm" => AccountKind::Admin,
            "root" | "su" | "superuser" => AccountKind::Root,
            "service" | "tech" | "technician" | "support" | "maint" | "maintenance" | "field"
            | "fieldservice" | "installer" | "manufacturer" | "factory" | "engineer" | "biomed"
            | "operator" => AccountKind::Service,
            "guest" | "user" | "demo" | "test" | "default" | "public" | "private" => AccountKind::Generic,
            "anonymous" | "ftp" => AccountKind::Anonymous,
            _ => AccountKind::Named,
        }
    }
}

/// What makes a credential weak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weakness {
    /// Sent in cleartext: anyone on the path can read it.
    Cleartext,
    /// A factory default or widely known pair, sent in cleartext.
    Default,
}
