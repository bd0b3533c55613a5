use std::ops::Deref;
use std::sync::Arc;

use crossbeam_channel::Sender;
use ward_core::Timestamp;

use crate::LinkType;

/// A block of capture bytes shared by the threads that decode packets in it. When the last
/// reference drops, the buffer goes back to its reader's pool, so a reader never holds more
/// than its pool's worth of memory.
pub struct Chunk {
    backing: Backing,
    start: usize,
    len: usize,
}

enum Backing {
    /// A buffer filled by `read(2)`, returned to its reader's pool when dropped.
    Owned { buf: Vec<u8>, home: Option<Sender<Vec<u8>>> },
    /// A stretch of a memory-mapped window of the file.
    Mapped(Arc<crate::mapped::Window>),
}

impl Chunk {
    pub(crate) fn owned(buf: Vec<u8>, len: usize, home: Option<Sender<Vec<u8>>>) -> Chunk {
        Chunk { backing: Backing::Owned { buf, home }, start: 0, len }
    }

    pub(crate) fn mapped(window: Arc<crate::mapped::Window>, start: usize, len: usize) -> Chunk {
        Chunk { backing: Backing::Mapped(window), start, len }
    }

    /// A chunk over bytes already in memory (tests, benchmarks, fuzzing).
    pub fn from_vec(buf: Vec<u8>) -> Chunk {
        let len = buf.len();
        Chunk::owned(buf, len, None)
    }
}

impl Deref for Chunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        let all: &[u8] = match &self.backing {
            Backing::Owned { buf, .. } => buf,
            Backing::Mapped(w) => w.bytes(),
        };
        // Every constructor keeps `start + len` within the backing.
        all.get(self.start..self.start + self.len).unwrap_or_default()
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Backing::Owned { buf, home: Some(home) } = &mut self.backing {
            // The reader may be gone already; then the buffer is simply freed.
            let _ = home.send(std::mem::take(buf));
        }
    }
}

/// Where one packet lies in a [`Chunk`], and what the capture record said about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketRef {
    /// Capture time stamp.
    pub ts: Timestamp,
    /// Start of the packet bytes within the chunk.
    pub offset: u32,
    /// Bytes captured (may be less than `orig_len` under a snap length).
    pub caplen: u32,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// How to decode the first byte.
    pub link: LinkType,
}

impl PacketRef {
    /// The packet's bytes in `chunk`; empty if the reference does not fit (never panics).
    pub fn bytes<'c>(&self, chunk: &'c [u8]) -> &'c [u8] {
        let start = self.offset as usize;
        chunk.get(start..start + self.caplen as usize).unwrap_or_default()
    }
}

/// A chunk and the packets found in it, in file order.
pub struct ChunkPackets {
    /// The shared bytes.
    pub chunk: Arc<Chunk>,
    /// Packets within `chunk`.
    pub packets: Vec<PacketRef>,
}

impl ChunkPackets {
    /// The bytes of `p`, which must come from this chunk's `packets`.
    pub fn data(&self, p: &PacketRef) -> &[u8] {
        p.bytes(&self.chunk)
    }
}
