//! Writes a synthetic inventory of N devices into a store, to time the command line on a
//! large inventory: `cargo run --release -p ward-store --example synthetic -- 100000 ward.db`.

use std::path::PathBuf;
use std::time::Instant;

use ward_store::{Blocking, synthetic};

/// Devices per transaction: the engine's flushes are of this order.
const BATCH: usize = 10_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(n), Some(path)) = (args.next(), args.next()) else {
        return Err("usage: synthetic <devices> <db path> [seed]".into());
    };
    let n: usize = n.parse()?;
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let path = PathBuf::from(path);
    let store = Blocking::open_sqlite(&path)?;
    let start = Instant::now();
    let mut first = store.max_device_id()? + 1;
    let mut left = n;
    while left > 0 {
        let count = left.min(BATCH);
        store.apply(&synthetic::change_set(first, count, 3, seed))?;
        first += count as i64;
        left -= count;
    }
    let took = start.elapsed();
    store.close();
    let size = std::fs::metadata(&path)?.len();
    eprintln!(
        "{n} devices written to {} in {:.2} s ({:.0} devices/s), file {:.1} MiB",
        path.display(),
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        size as f64 / 1_048_576.0
    );
    Ok(())
}
