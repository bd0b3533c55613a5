use std::path::PathBuf;

/// Why a capture could not be read (further). Every variant names the file; damage names the
/// byte offset where it starts, counted in the decompressed stream for compressed files.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The capture file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Reading failed partway (an I/O error, or the file could not be mapped).
    #[error("{path}: read failed at byte {offset}: {source}; the {packets} packets before it were read",
        path = path.display())]
    Read {
        /// The capture file.
        path: PathBuf,
        /// Bytes read before the failure.
        offset: u64,
        /// Packets delivered before the failure.
        packets: u64,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file does not start like pcap, pcapng, gzip or zstd.
    #[error("{path}: not a pcap or pcapng capture (first bytes {magic})", path = path.display())]
    NotACapture {
        /// The capture file.
        path: PathBuf,
        /// The first bytes, in hex.
        magic: String,
    },
    /// The file ends in the middle of a header or record.
    #[error("{path}: truncated at byte {offset}{dec}: {what}; the {packets} packets before it were read",
        path = path.display(), dec = if *.compressed { " of the decompressed stream" } else { "" })]
    Truncated {
        /// The capture file.
        path: PathBuf,
        /// Where the incomplete part starts.
        offset: u64,
        /// What was incomplete.
        what: String,
        /// Packets delivered before the damage.
        packets: u64,
        /// Whether `offset` counts decompressed bytes.
        compressed: bool,
    },
    /// A header or record that cannot be right (impossible length, unknown interface, ...).
    #[error("{path}: corrupt at byte {offset}{dec}: {what}; the {packets} packets before it were read",
        path = path.display(), dec = if *.compressed { " of the decompressed stream" } else { "" })]
    Corrupt {
        /// The capture file.
        path: PathBuf,
        /// Where the bad record starts.
        offset: u64,
        /// What is wrong with it.
        what: String,
        /// Packets delivered before the damage.
        packets: u64,
        /// Whether `offset` counts decompressed bytes.
        compressed: bool,
    },
    /// The compressed stream itself is damaged or cut short.
    #[error("{path}: {kind} stream damaged after {offset} decompressed bytes: {source}; the {packets} packets before it were read",
        path = path.display())]
    Decompress {
        /// The capture file.
        path: PathBuf,
        /// `gzip` or `zstd`.
        kind: &'static str,
        /// Decompressed bytes delivered before the damage.
        offset: u64,
        /// Packets delivered before the damage.
        packets: u64,
        /// The decoder's complaint.
        source: std::io::Error,
    },
}

impl CaptureError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            CaptureError::Io { path, .. }
            | CaptureError::Read { path, .. }
            | CaptureError::NotACapture { path, .. }
            | CaptureError::Truncated { path, .. }
            | CaptureError::Corrupt { path, .. }
            | CaptureError::Decompress { path, .. } => path,
        }
    }
}
