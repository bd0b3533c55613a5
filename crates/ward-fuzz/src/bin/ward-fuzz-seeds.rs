//! Builds seed corpora for the dissector fuzz targets from real captures (see
//! [`ward_fuzz::seeds`]).
//!
//! `ward-fuzz-seeds OUT_DIR CAPTURE...` writes `OUT_DIR/TARGET/NAME`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::path::PathBuf;

/// Seeds kept per target.
const MAX_SEEDS: usize = 400;

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((out, captures)) = args.split_first() else {
        eprintln!("usage: ward-fuzz-seeds OUT_DIR CAPTURE...");
        std::process::exit(2);
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for path in captures {
        let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for (i, (target, bytes)) in ward_fuzz::seeds::from_capture(path).into_iter().enumerate() {
            let n = counts.entry(target).or_default();
            if *n >= MAX_SEEDS {
                continue;
            }
            *n += 1;
            let dir = out.join(target);
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{stem}-{i}")), bytes);
        }
    }
    let mut summary: Vec<_> = counts.into_iter().collect();
    summary.sort();
    println!("seeds: {summary:?}");
}
