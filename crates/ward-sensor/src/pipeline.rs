//! From captures to observations on worker threads.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, Sender, TrySendError, bounded};
use ward_capture::{CaptureSet, Chunk, PacketRef};
use ward_core::{Observation, Timestamp};
use ward_dissect::Registry;
use ward_flow::decode::shard_hash;

use crate::SensorConfig;
use crate::counters::Counters;
use crate::worker::Worker;

/// Most worker threads a sensor runs.
pub const MAX_THREADS: usize = 128;

/// Observations a worker gathers before handing them on.
const OBSERVATION_BATCH: usize = 4096;

/// What became of one capture file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// `plain`, `gzip` or `zstd`.
    pub compression: &'static str,
    /// Packets read from it.
    pub packets: u64,
    /// Why reading stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outcome of a sensor run.
#[derive(Clone, Debug)]
pub struct Report {
    /// All workers' counters, added up.
    pub counters: Counters,
    /// Each file, in the order given.
    pub files: Vec<FileReport>,
    /// Worker threads used.
    pub threads: usize,
    /// Packets each worker processed: how evenly the address-pair hash spread the load.
    pub worker_packets: Vec<u64>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl Report {
    /// Whether any file could not be read to its end.
    pub fn has_file_errors(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
    }
}

/// Maps 256 slices of the hash space to workers: worker 0 (the reader's own) gets
/// `reader_share` percent of what each other worker gets.
fn shard_slots(threads: usize, reader_share: u8) -> [u8; 256] {
    let others = threads.saturating_sub(1).max(1) as f64;
    let own = f64::from(reader_share.min(100)) / 100.0;
    let own_slots = ((256.0 * own / (own + others)).round() as usize).min(255);
    let mut slots = [0u8; 256];
    for (i, slot) in slots.iter_mut().enumerate().skip(own_slots) {
        // The rest, dealt evenly to workers 1..threads.
        *slot = (1 + (i - own_slots) * (threads - 1) / (256 - own_slots)).min(threads - 1) as u8;
    }
    slots
}

/// Sends `batch` to a worker's queue. While the queue is full (the worker is behind, and a
/// file is read at the pace of the slowest worker; nothing is dropped), it hands the workers'
/// observations to the sink, so that a worker waiting to hand over observations never waits
/// for this thread.
fn send_draining(
    queue: &Sender<Batch>,
    mut batch: Batch,
    observations: &Receiver<Vec<Observation>>,
    sink: &mut impl FnMut(Vec<Observation>),
) {
    loop {
        match queue.try_send(batch) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => return,
            Err(TrySendError::Full(b)) => batch = b,
        }
        let mut sel = Select::new();
        let send = sel.send(queue);
        let recv = sel.recv(observations);
        let op = sel.select();
        if op.index() == send {
            let _ = op.send(queue, batch);
            return;
        }
        debug_assert_eq!(op.index(), recv);
        if let Ok(obs) = op.recv(observations) {
            sink(obs);
        }
    }
}

struct Batch {
    chunk: Arc<Chunk>,
    packets: Vec<PacketRef>,
    /// The capture time reached before the run these packets come from (the last batch of a
    /// run carries the end of the capture).
    clock: Timestamp,
}

/// The packet pipeline: reads captures, shards packets by a symmetric hash of their
/// addresses so that each worker owns whole flows (and every fragment of a datagram), and
/// hands the workers' observations to a sink.
pub struct Sensor {
    cfg: SensorConfig,
    registry: Arc<Registry>,
}

impl Sensor {
    /// A sensor with this configuration and these dissectors.
    pub fn new(cfg: SensorConfig, registry: Registry) -> Sensor {
        Sensor { cfg, registry: Arc::new(registry) }
    }

    /// Reads every packet of `captures` and hands observations to `sink` in batches, in no
    /// particular order across workers. `sink` always runs on the caller's thread. With one
    /// thread everything runs there; with more, the caller's thread reads and shards, and the
    /// workers decode.
    pub fn run(&self, captures: &mut CaptureSet, mut sink: impl FnMut(Vec<Observation>)) -> Report {
        let start = Instant::now();
        // Workers are numbered in a byte; more than this many would not help anyway.
        let threads = self.cfg.threads.clamp(1, MAX_THREADS);
        let (counters, worker_packets) = if threads == 1 {
            let mut w = Worker::new(0, 1, self.registry.clone(), &self.cfg);
            let mut clock = Timestamp::ZERO;
            while let Some(run) = captures.next_run() {
                // Flows expire on the time reached before this run, as with several threads.
                w.process(run.chunk, run.packets, clock);
                clock = run.packets.iter().fold(clock, |c, p| c.max(p.ts));
                if w.out.len() >= OBSERVATION_BATCH {
                    sink(w.take_out());
                }
            }
            w.finish(clock);
            sink(w.take_out());
            let packets = w.counters.packets;
            (w.counters, vec![packets])
        } else {
            self.run_threads(captures, threads, sink)
        };
        let errors = captures.take_errors();
        let files = captures
            .readers()
            .map(|r| FileReport {
                path: r.path().to_path_buf(),
                compression: match r.compression() {
                    ward_capture::Compression::None => "plain",
                    ward_capture::Compression::Gzip => "gzip",
                    ward_capture::Compression::Zstd => "zstd",
                },
                packets: r.packets(),
                error: errors.iter().find(|e| e.path() == r.path()).map(|e| e.to_string()),
            })
            .collect();
        Report { counters, files, threads, worker_packets, elapsed: start.elapsed() }
    }

    fn run_threads(
        &self,
        captures: &mut CaptureSet,
        threads: usize,
        mut sink: impl FnMut(Vec<Observation>),
    ) -> (Counters, Vec<u64>) {
        // Which thread owns each of 256 slices of the hash space. The caller's thread is worker
        // 0: besides its own packets it reads, walks records and shards for everyone, so it
        // takes a smaller share; with N threads on N cores no thread waits idle for a reader.
        let slots = shard_slots(threads, self.cfg.reader_share);
        std::thread::scope(|s| {
            // Observations come back to this thread, which hands them to the sink between
            // chunks and while it waits for a worker.
            let (obs_tx, obs_rx) = bounded::<Vec<Observation>>(64);
            let mut queues = Vec::with_capacity(threads);
            let mut workers = Vec::with_capacity(threads);
            for id in 1..threads {
                let (tx, rx) = bounded::<Batch>(self.cfg.queue_depth.max(1));
                let obs_tx = obs_tx.clone();
                let registry = self.registry.clone();
                let cfg = &self.cfg;
                let spawned = std::thread::Builder::new().name(format!("ward-worker-{id}")).spawn_scoped(
                    s,
                    move || {
                        let mut w = Worker::new(id as u16, threads, registry, cfg);
                        let mut clock = Timestamp::ZERO;
                        for b in rx {
                            clock = clock.max(b.clock);
                            w.process(&b.chunk, &b.packets, b.clock);
                            if w.out.len() >= OBSERVATION_BATCH {
                                // The reader takes observations until every worker is done;
                                // a send fails only if it panicked, and then the run is lost.
                                let _ = obs_tx.send(w.take_out());
                            }
                        }
                        w.finish(clock);
                        let _ = obs_tx.send(w.take_out());
                        w.counters
                    },
                );
                workers.push(
                    spawned.expect(
                        "invariant: spawning a thread only fails when the process is out of resources",
                    ),
                );
                queues.push(tx);
            }
            drop(obs_tx);
            let mut own = Worker::new(0, threads, self.registry.clone(), &self.cfg);
            let mut pending: Vec<Vec<PacketRef>> = vec![Vec::new(); threads];
            let mut clock = Timestamp::ZERO;
            while let Some(run) = captures.next_run() {
                // Every batch of this run carries the time reached before it (see Worker::advance).
                let before = clock;
                for p in run.packets {
                    clock = clock.max(p.ts);
                    let h = shard_hash(p.link, p.bytes(run.chunk));
                    pending[usize::from(slots[(h >> 56) as usize])].push(*p);
                }
                // The others first, so that they work while this thread does its share.
                for (q, packets) in queues.iter().zip(pending[1..].iter_mut()) {
                    if !packets.is_empty() {
                        let batch = Batch {
                            chunk: run.chunk.clone(),
                            packets: std::mem::take(packets),
                            clock: before,
                        };
                        send_draining(q, batch, &obs_rx, &mut sink);
                    }
                }
                own.process(run.chunk, &pending[0], before);
                pending[0].clear();
                if own.out.len() >= OBSERVATION_BATCH {
                    sink(own.take_out());
                }
                while let Ok(batch) = obs_rx.try_recv() {
                    sink(batch);
                }
            }
            // The last word: the time the capture ended, for flows still open.
            for q in &queues {
                let last = Batch { chunk: Arc::new(Chunk::from_vec(Vec::new())), packets: Vec::new(), clock };
                send_draining(q, last, &obs_rx, &mut sink);
            }
            drop(queues);
            own.finish(clock);
            sink(own.take_out());
            // Until every worker has finished and dropped its sender.
            for batch in &obs_rx {
                sink(batch);
            }
            let mut total = own.counters.clone();
            let mut per_worker = Vec::with_capacity(threads);
            per_worker.push(own.counters.packets);
            for w in workers {
                match w.join() {
                    Ok(c) => {
                        per_worker.push(c.packets);
                        total.add(&c);
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            (total, per_worker)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(threads: usize, reader_share: u8) -> Vec<usize> {
        let slots = shard_slots(threads, reader_share);
        (0..threads).map(|w| slots.iter().filter(|&&s| usize::from(s) == w).count()).collect()
    }

    #[test]
    fn the_reader_takes_its_share_and_the_rest_is_even() {
        assert_eq!(shares(2, 40), [73, 183]);
        assert_eq!(shares(2, 100), [128, 128]);
        assert_eq!(shares(2, 0), [0, 256]);
        let four = shares(4, 40);
        assert_eq!(four.iter().sum::<usize>(), 256);
        assert!(four[1..].iter().all(|&n| n.abs_diff(four[1]) <= 1), "{four:?}");
        assert!(four[0] < four[1]);
        let many = shares(MAX_THREADS, 40);
        assert!(many.iter().skip(1).all(|&n| n >= 1), "every worker gets a slice");
    }
}
