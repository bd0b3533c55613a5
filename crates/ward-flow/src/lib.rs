//! Ward's layers 2 to 4: decoding, IP fragment reassembly, flows and TCP streams.
//!
//! This crate owns everything between a captured frame and the bytes an application-layer
//! dissector reads: [`decode`] (Ethernet, 802.1Q/QinQ, SLL/SLL2, raw IP, loopback, ARP,
//! IPv4/IPv6 with extension headers, TCP/UDP/ICMP), [`defrag`], the [`table`] of flows and
//! per-direction [`reassembly`]. It must not interpret application payloads, allocate per
//! packet on the common path, or do I/O. Every cap is counted.
//!
//! ```
//! use ward_capture::LinkType;
//! use ward_flow::decode::{self, Anomalies, Net};
//!
//! // An Ethernet frame carrying ARP.
//! let mut frame = vec![0xff; 6];
//! frame.extend([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x08, 0x06]);
//! frame.extend([0u8; 28]);
//! let mut anomalies = Anomalies::default();
//! let f = decode::decode(LinkType::ETHERNET, &frame, frame.len() as u32, &mut anomalies);
//! assert!(matches!(f.net, Net::Arp(_)));
//! assert_eq!(f.src_mac.unwrap().to_string(), "00:1b:63:84:45:e6");
//! ```

pub mod decode;
pub mod defrag;
pub mod reassembly;
pub mod table;
