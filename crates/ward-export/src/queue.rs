//! A sink's bounded queue: the caller pushes without waiting, the sink's thread pops; past
//! the bound the oldest alert is dropped and counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ward_core::Alert;

/// A sink's counters, shared between its thread and the caller.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sent: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn error(&self, message: String) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(message);
        }
    }
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Arc<Alert>>,
    /// No more pushes; the thread drains what is left and ends.
    closing: bool,
    /// The thread ends now; what is left is dropped.
    stop: bool,
}

/// The queue between the caller and one sink's thread.
#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    bound: usize,
    pub(crate) counters: Counters,
}

impl Queue {
    pub(crate) fn new(bound: usize) -> Queue {
        Queue {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            bound: bound.max(1),
            counters: Counters::default(),
        }
    }

    // A thread that panicked while holding the lock leaves the queue as it was between two
    // whole operations, so the state is still good to use.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an alert, dropping the oldest waiting one when full. False once closing.
    pub(crate) fn push(&self, alert: Arc<Alert>) -> bool {
        let mut s = self.lock();
        if s.closing || s.stop {
            return false;
        }
        if s.items.len() >= self.bound {
            s.items.pop_front();
            Counters::add(&self.counters.dropped, 1);
        }
        s.items.push_back(alert);
        drop(s);
        self.ready.notify_one();
        true
    }

    /// The oldest alert, waiting for one; `None` when closing and empty, or stopped.
    pub(crate) fn pop(&self) -> Option<Arc<Alert>> {
        let mut s = self.lock();
        loop {
            if s.stop {
                return None;
            }
            if let Some(a) = s.items.pop_front() {
                return Some(a);
            }
            if s.closing {
                return None;
            }
            s = self.ready.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Waits `d` unless stopped first; false when stopped.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let now = Instant::now();
        // A wait too long to represent is as good as forever.
        let until = now.checked_add(d).unwrap_or(now + Duration::from_secs(86_400 * 365));
        let mut s = self.lock();
        loop {
            if s.stop {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            s = self.ready.wait_timeout(s, until - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.lock().stop
    }

    /// No more alerts; the thread sends what is queued and ends.
    pub(crate) fn close(&self) {
        self.lock().closing = true;
        self.ready.notify_all();
    }

    /// The thread ends as soon as it can; what is still queued is dropped and counted.
    pub(crate) fn stop(&self) {
        let mut s = self.lock();
        s.stop = true;
        s.closing = true;
        let left = s.items.len() as u64;
        s.items.clear();
        drop(s);
        Counters::add(&self.counters.dropped, left);
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests_support::alert;

    fn numbered(id: i64) -> Arc<Alert> {
        let mut a = alert();
        a.id = id;
        Arc::new(a)
    }

    #[test]
    fn drops_oldest_past_the_bound() {
        let q = Queue::new(3);
        for id in 0..10 {
            assert!(q.push(numbered(id)));
        }
        assert_eq!(q.counters.dropped.load(Ordering::Relaxed), 7);
        q.close();
        let left: Vec<i64> = std::iter::from_fn(|| q.pop()).map(|a| a.id).collect();
        assert_eq!(left, [7, 8, 9]);
        assert!(!q.push(numbered(10)), "closed queues refuse");
    }

    #[test]
    fn stop_counts_what_is_left() {
        let q = Queue::new(10);
        for id in 0..4 {
            q.push(numbered(id));
        }
        q.stop();
        assert!(q.pop().is_none());
        assert!(!q.sleep(Duration::from_secs(60)), "a stopped queue does not sleep");
        assert_eq!(q.counters.dropped.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn pop_waits_for_a_push() {
        let q = Arc::new(Queue::new(2));
        let q2 = Arc::clone(&q);
        let t = std::thread::spawn(move || q2.pop().map(|a| a.id));
        q.push(numbered(5));
        assert_eq!(t.join().expect("thread"), Some(5));
    }
}
