use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender};

use crate::chunk::{Chunk, ChunkPackets, PacketRef};
use crate::error::CaptureError;
use crate::format::{Format, FormatError, MAX_RECORD, Step, is_capture_magic};
use crate::mapped::{WINDOW, Window};

/// How the capture bytes are stored on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain pcap or pcapng.
    None,
    /// gzip (`.gz`), possibly several members.
    Gzip,
    /// Zstandard (`.zst`), possibly several frames.
    Zstd,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Finds the compression from the first bytes, falling back to the file name's extension.
    fn detect(first: &[u8], path: &Path) -> Compression {
        match first {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => match path.extension().and_then(|e| e.to_str()) {
                Some("gz" | "gzip")
                    if !first.get(..4).is_some_and(|m| is_capture_magic([m[0], m[1], m[2], m[3]])) =>
                {
                    Compression::Gzip
                }
                Some("zst" | "zstd")
                    if !first.get(..4).is_some_and(|m| is_capture_magic([m[0], m[1], m[2], m[3]])) =>
                {
                    Compression::Zstd
                }
                _ => Compression::None,
            },
        }
    }
}

/// Sizes of a reader's buffers.
#[derive(Clone, Copy, Debug)]
pub struct ReaderOptions {
    /// Bytes per chunk. Larger chunks mean fewer hand-offs between threads; smaller ones stay
    /// in cache. A record larger than this gets a chunk of its own size.
    pub chunk_size: usize,
    /// Size of the first chunk. When many files are merged, each holds its first chunk while
    /// waiting for its turn, so a small first chunk bounds memory.
    pub first_chunk_size: usize,
    /// Read plain files through memory-mapped windows instead of copying them in. Faster;
    /// but a file truncated by another process while Ward reads it crashes Ward (SIGBUS).
    pub mmap: bool,
}

impl Default for ReaderOptions {
    fn default() -> ReaderOptions {
        ReaderOptions { chunk_size: 256 << 10, first_chunk_size: 256 << 10, mmap: true }
    }
}

/// Counts the bytes taken from the file, for progress reports.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where the bytes come from.
enum Input {
    /// Copied in by `read(2)` (compressed files, pipes, or mapping turned off).
    Stream(Box<dyn Read + Send>),
    /// Mapped from a plain file.
    Mapped { file: File, len: u64, window: Option<Arc<Window>> },
}

/// Reads one capture file (or stream) chunk by chunk.
pub struct CaptureReader {
    path: PathBuf,
    input: Input,
    compression: Compression,
    format: Option<Format>,
    /// The previous chunk and the part of it no record has consumed yet.
    prev: Option<Arc<Chunk>>,
    tail: std::ops::Range<usize>,
    /// Stream offset of `tail.start`.
    tail_offset: u64,
    eof: bool,
    finished: bool,
    pending: Option<CaptureError>,
    packets: u64,
    file_len: Option<u64>,
    raw_read: Arc<AtomicU64>,
    opts: ReaderOptions,
    first: bool,
    /// Bytes the record at the start of the tail needs, when it did not fit.
    need_hint: usize,
    free_tx: Sender<Vec<u8>>,
    free_rx: Receiver<Vec<u8>>,
}

impl CaptureReader {
    /// Opens a capture file; compression is found from its first bytes or its extension.
    pub fn open(path: impl AsRef<Path>) -> Result<CaptureReader, CaptureError> {
        CaptureReader::open_with(path, ReaderOptions::default())
    }

    /// Opens a capture file with the given buffer sizes.
    pub fn open_with(path: impl AsRef<Path>, opts: ReaderOptions) -> Result<CaptureReader, CaptureError> {
        let path = path.as_ref().to_path_buf();
        let io_err = |source| CaptureError::Io { path: path.clone(), source };
        let file = File::open(&path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Err(io_err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory")));
        }
        let file_len = Some(meta.len());
        if opts.mmap && meta.is_file() {
            let mut first = [0u8; 4];
            let n = read_full(&mut &file, &mut first).map_err(io_err)?;
            if Compression::detect(&first[..n], &path) == Compression::None {
                let mut r = CaptureReader::from_read_inner(path, io::empty(), file_len, opts)?;
                r.input = Input::Mapped { file, len: meta.len(), window: None };
                return Ok(r);
            }
            use std::io::Seek;
            (&file).seek(io::SeekFrom::Start(0)).map_err(io_err)?;
        }
        CaptureReader::from_read_inner(path, file, file_len, opts)
    }

    /// Reads a capture from any byte stream (a pipe, bytes in memory). `name` stands for the
    /// file in error messages.
    pub fn from_read(
        name: impl Into<PathBuf>,
        input: impl Read + Send + 'static,
        opts: ReaderOptions,
    ) -> Result<CaptureReader, CaptureError> {
        CaptureReader::from_read_inner(name.into(), input, None, opts)
    }

    fn from_read_inner(
        path: PathBuf,
        input: impl Read + Send + 'static,
        file_len: Option<u64>,
        opts: ReaderOptions,
    ) -> Result<CaptureReader, CaptureError> {
        let raw_read = Arc::new(AtomicU64::new(0));
        let mut input = Counting { inner: input, count: raw_read.clone() };
        let mut first = [0u8; 4];
        let n = read_full(&mut input, &mut first)
            .map_err(|source| CaptureError::Io { path: path.clone(), source })?;
        let first = first[..n].to_vec();
        let compression = Compression::detect(&first, &path);
        let chained = io::Cursor::new(first).chain(input);
        let input: Box<dyn Read + Send> = match compression {
            Compression::None => Box::new(chained),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(chained)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::new(chained)
                    .map_err(|source| CaptureError::Io { path: path.clone(), source })?,
            ),
        };
        let (free_tx, free_rx) = crossbeam_channel::unbounded();
        Ok(CaptureReader {
            path,
            input: Input::Stream(input),
            compression,
            format: None,
            prev: None,
            tail: 0..0,
            tail_offset: 0,
            eof: false,
            finished: false,
            pending: None,
            packets: 0,
            file_len,
            raw_read,
            opts: ReaderOptions {
                chunk_size: opts.chunk_size.max(4096),
                first_chunk_size: opts.first_chunk_size.max(4096),
                mmap: opts.mmap,
            },
            first: true,
            need_hint: 0,
            free_tx,
            free_rx,
        })
    }

    /// The file this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the file is compressed.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Size of the file on disk, when it is a file.
    pub fn file_len(&self) -> Option<u64> {
        self.file_len
    }

    /// A counter of bytes taken from the file so far (compressed bytes for compressed files),
    /// readable from another thread for a progress bar.
    pub fn progress(&self) -> Arc<AtomicU64> {
        self.raw_read.clone()
    }

    /// Packets delivered so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// A buffer of exactly `len` bytes: a returned one when there is one, else a new one.
    /// It never waits: how many chunks are in flight is bounded by the consumer's queues, and
    /// a reader that waited here could not let the consumer drain them (a deadlock).
    fn take_buffer(&mut self, len: usize) -> Vec<u8> {
        let mut buf = self.free_rx.try_recv().unwrap_or_default();
        if buf.capacity() > 4 * len {
            // Once in a while a huge record needs a huge buffer; do not keep it for every chunk.
            buf = Vec::new();
        }
        buf.resize(len, 0);
        buf
    }

    fn damaged(&self, offset: u64, what: String, truncated: bool) -> CaptureError {
        let (path, packets, compressed) =
            (self.path.clone(), self.packets, self.compression != Compression::None);
        if truncated {
            CaptureError::Truncated { path, offset, what, packets, compressed }
        } else {
            CaptureError::Corrupt { path, offset, what, packets, compressed }
        }
    }

    /// Reads the next chunk and the packets complete within it. Returns `Ok(None)` at the end
    /// of the file. After damage, the packets before it come first, then the error; after the
    /// error, `Ok(None)`.
    pub fn next_chunk(&mut self) -> Result<Option<ChunkPackets>, CaptureError> {
        loop {
            if let Some(err) = self.pending.take() {
                self.finished = true;
                return Err(err);
            }
            if self.finished {
                return Ok(None);
            }
            let tail_len = self.tail.len();
            if self.eof && tail_len == 0 && self.format.is_some() {
                self.finished = true;
                return Ok(None);
            }
            let want = if self.first { self.opts.first_chunk_size } else { self.opts.chunk_size };
            self.first = false;
            let need = self.need_hint.max(tail_len + 1);
            let base = self.tail_offset;
            let (chunk, filled, read_err) = match &mut self.input {
                Input::Mapped { len, .. } if base >= *len => {
                    // Nothing left to map (an empty file, or a last record already read).
                    self.eof = true;
                    (Arc::new(Chunk::from_vec(Vec::new())), 0, None)
                }
                Input::Mapped { file, len, window } => {
                    // The next records are read where they lie: no copy, no carried tail.
                    let end = (base + want.max(need) as u64).min(*len);
                    let covered = window.as_ref().is_some_and(|w| w.offset <= base && end <= w.end());
                    if !covered {
                        let map_len = (*len - base).min((WINDOW + want.max(need)) as u64) as usize;
                        let w = Window::map(file, base, map_len).map_err(|source| CaptureError::Read {
                            path: self.path.clone(),
                            offset: base,
                            packets: self.packets,
                            source,
                        })?;
                        *window = Some(Arc::new(w));
                    }
                    let Some(w) = window.clone() else { continue };
                    self.eof = end == *len;
                    let filled = (end - base) as usize;
                    self.raw_read.store(end, Ordering::Relaxed);
                    (Arc::new(Chunk::mapped(w.clone(), (base - w.offset) as usize, filled)), filled, None)
                }
                Input::Stream(_) => {
                    let mut buf = self.take_buffer(want.max(need));
                    if let Some(prev) = &self.prev {
                        buf[..tail_len].copy_from_slice(&prev[self.tail.clone()]);
                    }
                    self.prev = None;
                    let (filled, read_err) = self.fill(&mut buf, tail_len);
                    (Arc::new(Chunk::owned(buf, filled, Some(self.free_tx.clone()))), filled, read_err)
                }
            };
            let (pos, packets, err) = self.parse(&chunk, filled, base, read_err);
            self.tail = pos..filled;
            self.tail_offset = base + pos as u64;
            if let Input::Mapped { .. } = self.input {
                // The tail is read again from the mapping; only its offset matters.
                self.tail = 0..0;
            } else {
                self.prev = Some(chunk.clone());
            }
            self.packets += packets.len() as u64;
            if let Some(err) = err {
                self.pending = Some(err);
            }
            if !packets.is_empty() {
                return Ok(Some(ChunkPackets { chunk, packets }));
            }
        }
    }

    /// Fills `buf[from..]` from the input; returns the bytes now valid and any read error.
    fn fill(&mut self, buf: &mut [u8], from: usize) -> (usize, Option<io::Error>) {
        let Input::Stream(input) = &mut self.input else { return (from, None) };
        let mut filled = from;
        while filled < buf.len() && !self.eof {
            match input.read(&mut buf[filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    return (filled, Some(e));
                }
            }
        }
        (filled, None)
    }

    /// Walks the records in `chunk[..filled]`. Returns where the unconsumed tail starts, the
    /// packets found and the error that stops this file, if any.
    fn parse(
        &mut self,
        chunk: &Chunk,
        filled: usize,
        base: u64,
        read_err: Option<io::Error>,
    ) -> (usize, Vec<PacketRef>, Option<CaptureError>) {
        let data = &chunk[..filled];
        let mut packets = Vec::with_capacity(filled / 256 + 1);
        let mut pos = 0usize;
        self.need_hint = 0;
        let read_failed = |this: &Self, source: io::Error, delivered: u64| match this.compression {
            Compression::None => CaptureError::Read {
                path: this.path.clone(),
                offset: base + filled as u64,
                packets: delivered,
                source,
            },
            kind => CaptureError::Decompress {
                path: this.path.clone(),
                kind: kind.name(),
                offset: base + filled as u64,
                packets: delivered,
                source,
            },
        };
        if self.format.is_none() {
            match data.get(..4) {
                Some(m) if !is_capture_magic([m[0], m[1], m[2], m[3]]) => {
                    let magic = m.iter().map(|b| format!("{b:02x}")).collect::<String>();
                    return (
                        filled,
                        packets,
                        Some(CaptureError::NotACapture { path: self.path.clone(), magic }),
                    );
                }
                _ => {}
            }
            match Format::from_header(data) {
                Ok(Some((fmt, hlen))) => {
                    self.format = Some(fmt);
                    pos = hlen;
                }
                Ok(None) => {
                    let err = match read_err {
                        Some(e) => read_failed(self, e, 0),
                        None if data.is_empty() => self.damaged(0, "the file is empty".into(), true),
                        None => self.damaged(0, "the file header is incomplete".into(), true),
                    };
                    return (filled, packets, Some(err));
                }
                Err(FormatError::Corrupt(what)) => {
                    return (filled, packets, Some(self.damaged(0, what, false)));
                }
            }
        }
        let Some(fmt) = self.format.as_mut() else { return (filled, packets, None) };
        let mut stop = None;
        // Stream cache lines in ahead of the record walk: each record's header is found only
        // by reading the one before, so without this every packet waits on memory.
        const AHEAD: usize = 8192;
        let mut fetched = pos;
        while pos < filled {
            while fetched < (pos + AHEAD).min(filled) {
                crate::mapped::prefetch(&data[fetched]);
                fetched += 64;
            }
            match fmt.next(&data[pos..]) {
                Ok(Step::Packet { ts, start, caplen, orig_len, link, len }) => {
                    packets.push(PacketRef { ts, offset: (pos + start) as u32, caplen, orig_len, link });
                    pos += len;
                }
                Ok(Step::Skip { len }) => pos += len,
                Ok(Step::Incomplete { need }) => {
                    if self.eof {
                        stop = Some(Err((need, filled - pos)));
                    } else {
                        self.need_hint = need.min(MAX_RECORD + 64);
                    }
                    break;
                }
                Err(e) => {
                    stop = Some(Ok(e));
                    break;
                }
            }
        }
        let delivered = self.packets + packets.len() as u64;
        let err = match (stop, read_err) {
            (_, Some(e)) => Some(read_failed(self, e, delivered)),
            (Some(Ok(FormatError::Corrupt(what))), None) => Some(CaptureError::Corrupt {
                path: self.path.clone(),
                offset: base + pos as u64,
                what,
                packets: delivered,
                compressed: self.compression != Compression::None,
            }),
            (Some(Err((need, have))), None) => Some(CaptureError::Truncated {
                path: self.path.clone(),
                offset: base + pos as u64,
                what: format!("the last record needs {need} bytes but only {have} remain"),
                packets: delivered,
                compressed: self.compression != Compression::None,
            }),
            (None, None) => None,
        };
        if err.is_some() {
            pos = filled;
        }
        (pos, packets, err)
    }

    /// Calls `f` for every packet, in file order; returns the packet count. A convenience for
    /// tests and tools that do not need chunks.
    pub fn for_each_packet(&mut self, mut f: impl FnMut(&PacketRef, &[u8])) -> Result<u64, CaptureError> {
        let mut n = 0;
        while let Some(c) = self.next_chunk()? {
            for p in &c.packets {
                f(p, c.data(p));
                n += 1;
            }
        }
        Ok(n)
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
