use std::sync::Arc;

use crate::chunk::{Chunk, ChunkPackets, PacketRef};
use crate::error::CaptureError;
use crate::reader::CaptureReader;

struct Cursor {
    reader: CaptureReader,
    current: Option<ChunkPackets>,
    pos: usize,
    done: bool,
}

impl Cursor {
    /// Makes sure the cursor points at a packet, loading the next chunk when needed. Errors
    /// end the file; they are pushed to `errors`.
    fn fill(&mut self, errors: &mut Vec<CaptureError>) {
        while !self.done && self.current.as_ref().is_none_or(|c| self.pos >= c.packets.len()) {
            self.current = None;
            self.pos = 0;
            match self.reader.next_chunk() {
                Ok(Some(c)) => self.current = Some(c),
                Ok(None) => self.done = true,
                Err(e) => {
                    errors.push(e);
                    // The reader has given all it had before the damage; it returns None now.
                }
            }
        }
    }

    fn head(&self) -> Option<&PacketRef> {
        self.current.as_ref().and_then(|c| c.packets.get(self.pos))
    }
}

/// Consecutive packets of one file, all earlier than every other file's next packet.
pub struct Run<'a> {
    /// Index of the file in the order the files were given.
    pub file: usize,
    /// The chunk the packets lie in.
    pub chunk: &'a Arc<Chunk>,
    /// The packets, in file order.
    pub packets: &'a [PacketRef],
    /// True when this run ends its chunk: the file's next run will be in a new chunk.
    pub ends_chunk: bool,
}

/// Several capture files read as one stream in time order.
///
/// Each file keeps its own order; across files the packet with the earliest time stamp goes
/// first (ties go to the file given first). Rotated files given in any order come out in time
/// order; captures of several interfaces taken at once are interleaved.
pub struct CaptureSet {
    cursors: Vec<Cursor>,
    errors: Vec<CaptureError>,
    primed: bool,
    /// A file whose chunk the last run finished; it reads its next chunk on the next call.
    pending_fill: Option<usize>,
}

impl CaptureSet {
    /// A set over these readers.
    pub fn new(readers: Vec<CaptureReader>) -> CaptureSet {
        let cursors =
            readers.into_iter().map(|reader| Cursor { reader, current: None, pos: 0, done: false }).collect();
        CaptureSet { cursors, errors: Vec::new(), primed: false, pending_fill: None }
    }

    /// The readers, for their paths and counters.
    pub fn readers(&self) -> impl Iterator<Item = &CaptureReader> {
        self.cursors.iter().map(|c| &c.reader)
    }

    /// Errors met so far, in the order they happened. A file with an error has delivered every
    /// packet before its damage and no packet after it.
    pub fn errors(&self) -> &[CaptureError] {
        &self.errors
    }

    /// Takes the errors met so far.
    pub fn take_errors(&mut self) -> Vec<CaptureError> {
        std::mem::take(&mut self.errors)
    }

    /// The next run of packets, or `None` when every file is done.
    pub fn next_run(&mut self) -> Option<Run<'_>> {
        if !self.primed {
            self.primed = true;
            for c in &mut self.cursors {
                c.fill(&mut self.errors);
            }
        }
        if let Some(f) = self.pending_fill.take() {
            self.cursors[f].fill(&mut self.errors);
        }
        // Pick the file whose next packet is earliest; the bound is the earliest among the rest.
        let mut best: Option<(u64, usize)> = None;
        let mut bound: Option<(u64, usize)> = None;
        for (i, c) in self.cursors.iter().enumerate() {
            let Some(h) = c.head() else { continue };
            let key = (h.ts.as_nanos(), i);
            if best.is_none_or(|b| key < b) {
                bound = best;
                best = Some(key);
            } else if bound.is_none_or(|b| key < b) {
                bound = Some(key);
            }
        }
        let (_, file) = best?;
        let (start, end, len) = {
            let cursor = &self.cursors[file];
            let packets = &cursor.current.as_ref()?.packets;
            let start = cursor.pos;
            let end = match bound {
                None => packets.len(),
                Some(bound) => {
                    start
                        + 1
                        + packets[start + 1..].iter().take_while(|p| (p.ts.as_nanos(), file) < bound).count()
                }
            };
            (start, end, packets.len())
        };
        let ends_chunk = end == len;
        // The file's next chunk is read on the next call, so that the caller can hand this run's
        // chunk on before the reader needs one of its buffers back.
        self.pending_fill = ends_chunk.then_some(file);
        let cursor = &mut self.cursors[file];
        cursor.pos = end;
        let current = cursor.current.as_ref()?;
        Some(Run { file, chunk: &current.chunk, packets: &current.packets[start..end], ends_chunk })
    }
}
