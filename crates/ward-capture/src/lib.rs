//! Ward's packet sources: capture files read in large chunks, with packets handed out as
//! offsets into those chunks so that nothing is copied on the way to the decoder.
//!
//! This crate owns file formats (pcap in both byte orders and both time resolutions, pcapng with
//! several interfaces and link types), compression (gzip, zstd, found by magic or extension) and
//! the merge of several files into one time-ordered stream. It must not decode packets beyond the
//! capture record: link layers belong to `ward-flow`.
//!
//! A damaged file never panics and never hides what came before the damage: every complete
//! record is delivered, then [`CaptureError`] names the file and the byte offset.
//!
//! ```no_run
//! use ward_capture::CaptureReader;
//!
//! let mut reader = CaptureReader::open("capture.pcap.gz")?;
//! let mut packets = 0;
//! while let Some(chunk) = reader.next_chunk()? {
//!     for p in &chunk.packets {
//!         let bytes = chunk.data(p);
//!         packets += 1;
//!         let _ = (bytes, p.ts, p.link);
//!     }
//! }
//! # Ok::<(), ward_capture::CaptureError>(())
//! ```

mod chunk;
mod error;
mod fingerprint;
mod format;
pub(crate) mod mapped;
mod merge;
mod reader;
pub mod write;

pub use chunk::{Chunk, ChunkPackets, PacketRef};
pub use error::CaptureError;
pub use fingerprint::{fingerprint, fingerprint_set};
pub use format::LinkType;
pub use mapped::prefetch;
pub use merge::{CaptureSet, Run};
pub use reader::{CaptureReader, Compression, ReaderOptions};
