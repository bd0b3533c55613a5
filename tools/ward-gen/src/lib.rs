//! What of the generator other crates' tests use: encoders for well-formed messages. The
//! generator itself is the `ward-gen` binary.

pub mod ber;
pub mod dicom;
