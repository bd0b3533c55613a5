//! Memory-mapped reading of plain capture files: the decoder threads read packets straight
//! from the page cache, with no copy.
//!
//! The file is mapped in windows of a few MiB; a window is unmapped when the last chunk in it
//! is done, so only the windows in flight count towards the process's memory. This is the one
//! place in Ward with `unsafe` code.
//!
//! A mapped file that another process truncates while Ward reads it makes the kernel raise
//! SIGBUS on the missing pages; that is the price of not copying. Captures that may shrink
//! under Ward (log rotation that truncates in place) are read with `ReaderOptions::mmap` off.
#![allow(unsafe_code)]

use std::fs::File;

use memmap2::{Advice, Mmap, MmapOptions};

/// Bytes mapped at once, beyond the record that may straddle the window's end.
pub(crate) const WINDOW: usize = 8 << 20;

/// One mapped stretch of a capture file.
pub(crate) struct Window {
    map: Mmap,
    /// File offset of the first mapped byte.
    pub(crate) offset: u64,
}

impl Window {
    /// Maps `len` bytes of `file` from `offset`; both must lie within the file.
    pub(crate) fn map(file: &File, offset: u64, len: usize) -> std::io::Result<Window> {
        // SAFETY: the mapping is read-only and private to this process; the bytes are only
        // ever read as `u8`, for which every bit pattern is valid. Another process changing
        // the file's contents can only change what we read, which any reader must expect of
        // untrusted input; truncation under us is the documented SIGBUS case above.
        let map = unsafe { MmapOptions::new().offset(offset).len(len).map(file)? };
        // Read-ahead suits a capture read once from start to end; failure only costs speed.
        let _ = map.advise(Advice::Sequential);
        Ok(Window { map, offset })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// File offset just past the last mapped byte.
    pub(crate) fn end(&self) -> u64 {
        self.offset + self.map.len() as u64
    }
}

/// Asks the CPU to bring the cache line holding `byte` closer ahead of use. It never faults
/// and has no effect on what any read returns; mapped capture bytes are cold, so walking them
/// without it costs a memory round trip per packet.
#[inline(always)]
pub fn prefetch(byte: &u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has; a prefetch of any address
    // is architecturally a hint that cannot fault, and this one points into a live slice.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>((byte as *const u8).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = byte;
}
