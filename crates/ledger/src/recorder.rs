//! The batching recorder: the request path appends a record to a shared buffer and returns;
//! one writer thread commits batches.
//!
//! Invariants:
//! - `record` never blocks on IO and never drops: it takes an uncontended mutex, pushes, and
//!   wakes the writer only when the buffer reaches `batch_size` (one wake-up per batch, not per
//!   record — per-record wake-ups cost more CPU than the insert itself).
//! - Otherwise the writer wakes every `flush_interval` and commits what is there, so a crash
//!   loses at most the records of one flush interval.
//! - [`RecorderHandle::shutdown`] commits everything recorded before it, then stops the thread.
//! - A failed commit is kept and retried on the next cycle, never discarded silently.

use crate::{Record, RecordSink};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Wake the writer early once this many records wait.
    pub batch_size: usize,
    /// The longest a record waits before it is committed.
    pub flush_interval: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            batch_size: 512,
            flush_interval: Duration::from_millis(200),
        }
    }
}

#[derive(Default)]
struct Queue {
    records: Vec<Record>,
    /// Flush requests waiting for the next commit.
    waiters: Vec<std::sync::mpsc::Sender<()>>,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    written: AtomicU64,
    failed_commits: AtomicU64,
    batch_size: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding this lock cannot leave the queue inconsistent (push/swap only).
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the recorder has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderStats {
    pub written: u64,
    pub failed_commits: u64,
}

/// The sending side, cheap to clone into every request.
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
}

/// Owns the writer thread.
pub struct RecorderHandle {
    recorder: Recorder,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Starts the writer thread over `store`.
    pub fn spawn(
        store: Box<dyn RecordSink>,
        cfg: RecorderConfig,
    ) -> std::io::Result<(Recorder, RecorderHandle)> {
        let shared = Arc::new(Shared {
            batch_size: cfg.batch_size.max(1),
            ..Shared::default()
        });
        let writer = Writer {
            store,
            shared: shared.clone(),
            interval: cfg.flush_interval,
            pending: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("switchyard-ledger".into())
            .spawn(move || writer.run())?;
        let recorder = Recorder { shared };
        Ok((
            recorder.clone(),
            RecorderHandle {
                recorder,
                thread: Some(thread),
            },
        ))
    }

    /// Hands a record to the writer. Never waits on IO, never drops.
    pub fn record(&self, r: Record) {
        let full = {
            let mut q = self.shared.lock();
            q.records.push(r);
            q.records.len() == self.shared.batch_size
        };
        if full {
            self.shared.wake.notify_one();
        }
    }

    /// Blocks until every record recorded before this call is committed (tests, CLI).
    pub fn flush(&self) {
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let mut q = self.shared.lock();
            if q.stop {
                return;
            }
            q.waiters.push(tx);
        }
        self.shared.wake.notify_one();
        let _ = rx.recv();
    }

    pub fn stats(&self) -> RecorderStats {
        RecorderStats {
            written: self.shared.written.load(Ordering::Relaxed),
            failed_commits: self.shared.failed_commits.load(Ordering::Relaxed),
        }
    }
}

impl RecorderHandle {
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Commits everything recorded so far and stops the writer.
    pub fn shutdown(mut self) -> RecorderStats {
        self.stop();
        self.recorder.stats()
    }

    fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.recorder.shared.lock().stop = true;
            self.recorder.shared.wake.notify_one();
            let _ = t.join();
        }
    }
}

impl Drop for RecorderHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Writer {
    store: Box<dyn RecordSink>,
    shared: Arc<Shared>,
    interval: Duration,
    /// Records taken from the queue but not yet committed (a failed batch stays here).
    pending: Vec<Record>,
}

impl Writer {
    fn run(mut self) {
        loop {
            let (waiters, stop) = {
                let q = self.shared.lock();
                let batch = self.shared.batch_size;
                let (mut q, _) = self
                    .shared
                    .wake
                    .wait_timeout_while(q, self.interval, |q| {
                        q.records.len() < batch && q.waiters.is_empty() && !q.stop
                    })
                    .unwrap_or_else(|p| p.into_inner());
                if self.pending.is_empty() {
                    std::mem::swap(&mut self.pending, &mut q.records);
                } else {
                    self.pending.append(&mut q.records);
                }
                (std::mem::take(&mut q.waiters), q.stop)
            };
            self.commit();
            for w in waiters {
                let _ = w.send(());
            }
            if stop {
                // Records pushed after the stop flag was read are taken here; one retry for a
                // batch that failed.
                self.pending.append(&mut self.shared.lock().records);
                self.commit();
                if !self.pending.is_empty() {
                    tracing::error!(
                        lost = self.pending.len(),
                        "ledger records could not be written at shutdown"
                    );
                }
                return;
            }
        }
    }

    fn commit(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match self.store.append(&self.pending) {
            Ok(_) => {
                self.shared
                    .written
                    .fetch_add(self.pending.len() as u64, Ordering::Relaxed);
                self.pending.clear();
            }
            Err(e) => {
                self.shared.failed_commits.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, pending = self.pending.len(), "ledger commit failed; will retry");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
