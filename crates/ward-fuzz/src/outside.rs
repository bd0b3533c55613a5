//! Where the outside captures are: tests over real data look in `$WARD_SHARED_DATA`, then in
//! `../shared/data` beside the repository, and say that they skipped when neither exists.

use std::path::{Path, PathBuf};

/// The outside data folder (holding `pcaps/`), if present.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("WARD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    dir.join("pcaps").is_dir().then_some(dir)
}

/// Every capture file (`.pcap`, `.pcapng`, `.cap`) below `dir`, sorted; none when `dir`
/// cannot be read.
pub fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
