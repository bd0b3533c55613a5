//! JSON lines appended to a file.
//!
//! Each alert is one `write` of one line, so a reader never sees half a line from a
//! whole write; a write that fails part way (a full disk) is cut back to the last whole line
//! and retried. Sync: [`Fsync`]. Rotation, when `max_bytes` is set: before a line would take
//! the file past it, `path` becomes `path.1` (and `path.1` `path.2`, up to `keep`), and a new
//! `path` is started.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ward_core::Alert;

use super::{Outcome, Sink};
use crate::ExportError;
use crate::config::Fsync;
use crate::format::json;

/// Rotated files kept when `keep` is not given.
pub(crate) const DEFAULT_KEEP: u32 = 5;

pub(crate) struct FileSink {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    fsync: Fsync,
    max_bytes: Option<u64>,
    keep: u32,
    unsynced: bool,
}

fn open(path: &Path) -> std::io::Result<(File, u64)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let size = file.metadata()?.len();
    Ok((file, size))
}

fn with_suffix(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

impl FileSink {
    /// Opens (creating) the file now, so that a bad path is an error at start.
    pub(crate) fn new(
        path: &Path,
        fsync: Fsync,
        max_bytes: Option<u64>,
        keep: Option<u32>,
    ) -> Result<FileSink, ExportError> {
        let (file, size) = open(path).map_err(|source| ExportError::Io { path: path.to_owned(), source })?;
        Ok(FileSink {
            path: path.to_owned(),
            file: Some(file),
            size,
            fsync,
            max_bytes,
            keep: keep.unwrap_or(DEFAULT_KEEP),
            unsynced: false,
        })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if let Some(f) = self.file.take()
            && self.fsync != Fsync::Never
        {
            f.sync_data()?;
        }
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for n in (1..self.keep).rev() {
                let from = with_suffix(&self.path, n);
                if from.exists() {
                    std::fs::rename(&from, with_suffix(&self.path, n + 1))?;
                }
            }
            std::fs::rename(&self.path, with_suffix(&self.path, 1))?;
        }
        self.size = 0;
        Ok(())
    }

    fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        if let Some(max) = self.max_bytes
            && self.size > 0
            && self.size + line.len() as u64 > max
        {
            self.rotate()?;
        }
        if self.file.is_none() {
            let (f, size) = open(&self.path)?;
            self.file = Some(f);
            self.size = size;
        }
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        if let Err(e) = file.write_all(line) {
            // Cut a partial line back off, so the file stays whole lines.
            let _ = file.set_len(self.size);
            return Err(e);
        }
        self.size += line.len() as u64;
        match self.fsync {
            Fsync::Always => file.sync_data()?,
            Fsync::Idle => self.unsynced = true,
            Fsync::Never => {}
        }
        Ok(())
    }
}

impl Sink for FileSink {
    fn deliver(&mut self, alert: &Alert) -> Outcome {
        let mut line = json::format(alert);
        line.push(b'\n');
        match self.write_line(&line) {
            Ok(()) => Outcome::Sent,
            Err(e) => {
                // Reopen next time: the file may have been removed or its disk replaced.
                self.file = None;
                Outcome::Retry { after: None, error: format!("{}: {e}", self.path.display()) }
            }
        }
    }

    fn idle(&mut self) -> Result<(), String> {
        if self.unsynced
            && let Some(f) = &self.file
        {
            f.sync_data().map_err(|e| format!("{}: sync: {e}", self.path.display()))?;
            self.unsynced = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests_support::alert;

    #[test]
    fn appends_and_rotates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("alerts.jsonl");
        std::fs::write(&path, b"{\"earlier\":true}\n").expect("seed");
        let line_len = json::format(&alert()).len() as u64 + 1;
        let mut sink = FileSink::new(&path, Fsync::Always, Some(line_len * 2 + 20), Some(2)).expect("open");
        for id in 0..7 {
            let mut a = alert();
            a.id = id;
            assert!(matches!(sink.deliver(&a), Outcome::Sent));
        }
        let ids = |p: &Path| -> Vec<i64> {
            std::fs::read_to_string(p)
                .expect("read")
                .lines()
                .filter_map(|l| serde_json::from_str::<Alert>(l).ok())
                .map(|a| a.id)
                .collect()
        };
        // The earlier line and two alerts fill the first file; two per file after that;
        // only two rotated files are kept.
        assert_eq!(ids(&path), [6]);
        assert_eq!(ids(&with_suffix(&path, 1)), [4, 5]);
        assert_eq!(ids(&with_suffix(&path, 2)), [2, 3]);
        assert!(!with_suffix(&path, 3).exists());
    }

    #[test]
    fn bad_path_is_an_error_at_start() {
        let e = FileSink::new(Path::new("/nonexistent-dir/x.jsonl"), Fsync::Idle, None, None)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("/nonexistent-dir/x.jsonl"), "{e}");
    }
}
