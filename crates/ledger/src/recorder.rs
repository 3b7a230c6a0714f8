//! The batching recorder: the request path hands a record over without waiting; one writer
//! thread commits batches.
//!
//! Invariants:
//! - `record` never blocks and never drops: when the bounded channel is full the record goes to
//!   an overflow list the writer drains next (counted in [`RecorderStats::overflowed`]).
//! - A batch is committed when `batch_size` records are waiting or `flush_interval` after its
//!   first record, so a crash loses at most one flush interval of records.
//! - [`RecorderHandle::shutdown`] commits everything sent before it, then stops the thread.
//! - A failed commit is retried on the next cycle, never discarded silently.

use crate::{LedgerStore, Record};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct RecorderConfig {
    pub capacity: usize,
    pub batch_size: usize,
    pub flush_interval: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            capacity: 65_536,
            batch_size: 512,
            flush_interval: Duration::from_millis(200),
        }
    }
}

enum Msg {
    Record(Box<Record>),
    Flush(std::sync::mpsc::Sender<()>),
    Stop,
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    overflowed: AtomicU64,
    failed_commits: AtomicU64,
}

/// What the recorder has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderStats {
    pub written: u64,
    pub overflowed: u64,
    pub failed_commits: u64,
}

/// The sending side, cheap to clone into every request.
#[derive(Clone)]
pub struct Recorder {
    tx: SyncSender<Msg>,
    overflow: Arc<Mutex<VecDeque<Record>>>,
    counters: Arc<Counters>,
}

/// Owns the writer thread.
pub struct RecorderHandle {
    recorder: Recorder,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Starts the writer thread over `store`.
    pub fn spawn(
        store: Box<dyn LedgerStore>,
        cfg: RecorderConfig,
    ) -> std::io::Result<(Recorder, RecorderHandle)> {
        let (tx, rx) = sync_channel(cfg.capacity.max(1));
        let recorder = Recorder {
            tx,
            overflow: Arc::new(Mutex::new(VecDeque::new())),
            counters: Arc::new(Counters::default()),
        };
        let writer = Writer {
            store,
            rx,
            cfg,
            overflow: recorder.overflow.clone(),
            counters: recorder.counters.clone(),
            pending: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("switchyard-ledger".into())
            .spawn(move || writer.run())?;
        Ok((
            recorder.clone(),
            RecorderHandle {
                recorder,
                thread: Some(thread),
            },
        ))
    }

    /// Hands a record to the writer. Never blocks, never drops.
    pub fn record(&self, r: Record) {
        match self.tx.try_send(Msg::Record(Box::new(r))) {
            Ok(()) => {}
            Err(TrySendError::Full(Msg::Record(r)))
            | Err(TrySendError::Disconnected(Msg::Record(r))) => {
                self.counters.overflowed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut q) = self.overflow.lock() {
                    q.push_back(*r);
                }
            }
            Err(_) => {}
        }
    }

    /// Blocks until every record sent before this call is committed (tests, CLI).
    pub fn flush(&self) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.recv();
        }
    }

    pub fn stats(&self) -> RecorderStats {
        RecorderStats {
            written: self.counters.written.load(Ordering::Relaxed),
            overflowed: self.counters.overflowed.load(Ordering::Relaxed),
            failed_commits: self.counters.failed_commits.load(Ordering::Relaxed),
        }
    }
}

impl RecorderHandle {
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Commits everything sent so far and stops the writer.
    pub fn shutdown(mut self) -> RecorderStats {
        self.stop();
        self.recorder.stats()
    }

    fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.recorder.tx.send(Msg::Stop);
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
    store: Box<dyn LedgerStore>,
    rx: Receiver<Msg>,
    cfg: RecorderConfig,
    overflow: Arc<Mutex<VecDeque<Record>>>,
    counters: Arc<Counters>,
    /// Records not yet committed (including a batch whose commit failed).
    pending: Vec<Record>,
}

impl Writer {
    fn run(mut self) {
        let mut waiters = Vec::new();
        loop {
            let mut stop = match self.rx.recv() {
                Ok(m) => self.take(m, &mut waiters),
                Err(_) => true,
            };
            let deadline = Instant::now() + self.cfg.flush_interval;
            while !stop && waiters.is_empty() && self.pending.len() < self.cfg.batch_size {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.rx.recv_timeout(left) {
                    Ok(m) => stop = self.take(m, &mut waiters),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => stop = true,
                }
            }
            if stop {
                while let Ok(m) = self.rx.try_recv() {
                    self.take(m, &mut waiters);
                }
            }
            self.commit();
            for w in waiters.drain(..) {
                let _ = w.send(());
            }
            if stop {
                if !self.pending.is_empty() {
                    // Last chance: one retry, then report what could not be written.
                    self.commit();
                    if !self.pending.is_empty() {
                        tracing::error!(
                            lost = self.pending.len(),
                            "ledger records could not be written at shutdown"
                        );
                    }
                }
                return;
            }
        }
    }

    /// Files one message; returns whether it asks the writer to stop.
    fn take(&mut self, m: Msg, waiters: &mut Vec<std::sync::mpsc::Sender<()>>) -> bool {
        match m {
            Msg::Record(r) => self.pending.push(*r),
            Msg::Flush(w) => waiters.push(w),
            Msg::Stop => return true,
        }
        false
    }

    fn commit(&mut self) {
        if let Ok(mut q) = self.overflow.lock() {
            self.pending.extend(q.drain(..));
        }
        if self.pending.is_empty() {
            return;
        }
        match self.store.append(&self.pending) {
            Ok(_) => {
                self.counters
                    .written
                    .fetch_add(self.pending.len() as u64, Ordering::Relaxed);
                self.pending.clear();
            }
            Err(e) => {
                self.counters.failed_commits.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, pending = self.pending.len(), "ledger commit failed; will retry");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
