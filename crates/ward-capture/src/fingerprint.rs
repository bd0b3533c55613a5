//! A digest naming a capture file's contents, so that reading the same captures twice can
//! be told from reading new ones, whatever the files are called.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Bytes read from each end of a file. A capture's first and last packets, and its length,
/// tell it from any other in practice; hashing gigabytes would cost more than reading them.
const EDGE: u64 = 1 << 20;

/// The SHA-256 (hex) of a file's length, its first MiB and its last MiB.
pub fn fingerprint(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut h = Sha256::new();
    h.update(len.to_le_bytes());
    let mut buf = Vec::with_capacity(EDGE as usize);
    (&mut f).take(EDGE).read_to_end(&mut buf)?;
    h.update(&buf);
    if len > EDGE {
        buf.clear();
        f.seek(SeekFrom::Start(len.saturating_sub(EDGE).max(EDGE)))?;
        f.take(EDGE).read_to_end(&mut buf)?;
        h.update(&buf);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// One digest for a set of files, whatever order they are named in.
pub fn fingerprint_set(paths: &[&Path]) -> std::io::Result<String> {
    let mut each = paths.iter().map(|p| fingerprint(p)).collect::<std::io::Result<Vec<String>>>()?;
    each.sort();
    each.dedup();
    if each.len() == 1 {
        return Ok(each.remove(0));
    }
    let mut h = Sha256::new();
    for e in &each {
        h.update(e.as_bytes());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_contents_same_digest_other_contents_other() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        let big: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, &big).unwrap();
        std::fs::write(&b, &big).unwrap();
        let mut other = big.clone();
        *other.last_mut().unwrap() ^= 1;
        std::fs::write(&c, &other).unwrap();
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&c).unwrap());
        assert_eq!(fingerprint_set(&[&a, &c]).unwrap(), fingerprint_set(&[&c, &a]).unwrap());
        assert_ne!(fingerprint_set(&[&a, &c]).unwrap(), fingerprint_set(&[&a]).unwrap());
        assert!(fingerprint(&dir.path().join("missing")).is_err());
    }
}
