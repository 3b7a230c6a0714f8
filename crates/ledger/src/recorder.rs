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
//! - A failed commit goes to the spool ([`crate::spool`], with `spool_dir` set): written and
//!   fsynced, so it survives the process. While the spool holds records every new batch is
//!   appended behind them, and the writer tries the store again every [`RETRY`]; when the
//!   store takes writes the spool is replayed in order, then emptied, then new batches go
//!   straight to the store again. Order is kept and nothing is written twice (the store skips
//!   request ids it holds).
//! - Without a spool, or when the spool cannot be written (disk full), the batch stays in
//!   memory and is retried, as the last resort; the log says so at error level.
//! - The outage is logged once per [`LOG_EVERY`], never per batch, and never with a secret (the
//!   store's errors carry no URL password).
//! - A [`Tap`] (metrics) installed with [`Recorder::tap`] sees every record as it is handed
//!   over and every commit's duration; it must be as cheap as the push itself.

use crate::spool::Spool;
use crate::{Record, RecordSink};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the writer waits before asking a store that refused a write again.
pub const RETRY: Duration = Duration::from_secs(1);
/// The outage warning is repeated at most this often.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Sees each record on its way into the recorder and each commit the writer makes (the
/// metrics registry implements it). Called on the request path and the writer thread: it
/// must not block.
pub trait Tap: Send + Sync {
    /// A record handed to [`Recorder::record`], before it is queued.
    fn record(&self, record: &Record);
    /// The writer committed `records` records to the store in `took`.
    fn committed(&self, records: usize, took: Duration);
}

#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Wake the writer early once this many records wait.
    pub batch_size: usize,
    /// The longest a record waits before it is committed.
    pub flush_interval: Duration,
    /// Where refused batches are spooled; `None` keeps them in memory only.
    pub spool_dir: Option<PathBuf>,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            batch_size: 512,
            flush_interval: Duration::from_millis(200),
            spool_dir: None,
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

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    written: AtomicU64,
    failed_commits: AtomicU64,
    spooled: AtomicU64,
    spool_bytes: AtomicU64,
    replayed: AtomicU64,
    in_memory: AtomicU64,
    batch_size: usize,
    /// The spool file, or why there is none.
    spool: Mutex<Result<PathBuf, String>>,
    /// The last failure (store or spool), cleared when the store takes writes again.
    last_error: Mutex<Option<String>>,
    tap: std::sync::OnceLock<Arc<dyn Tap>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            queue: Mutex::default(),
            wake: Condvar::new(),
            written: AtomicU64::new(0),
            failed_commits: AtomicU64::new(0),
            spooled: AtomicU64::new(0),
            spool_bytes: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            in_memory: AtomicU64::new(0),
            batch_size: 1,
            spool: Mutex::new(Err("no spool_dir".into())),
            last_error: Mutex::new(None),
            tap: std::sync::OnceLock::new(),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding this lock cannot leave the queue inconsistent (push/swap only).
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the recorder has done so far, and what waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderStats {
    /// Records the store took (new ones; a replayed duplicate is not counted twice).
    pub written: u64,
    pub failed_commits: u64,
    /// Records in the spool file, waiting for the store.
    pub spooled: u64,
    pub spool_bytes: u64,
    /// Records taken from the spool by the store since start.
    pub replayed: u64,
    /// Records held in memory only: neither the store nor the spool took them.
    pub in_memory: u64,
    /// The spool file, or why there is none.
    pub spool: Result<PathBuf, String>,
    pub last_error: Option<String>,
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
    /// Starts the writer thread over `store`. With `spool_dir`, claims a spool file there
    /// (a spool a previous run left is replayed first); a spool that cannot be claimed is
    /// logged and the recorder runs with memory only.
    pub fn spawn(
        store: Box<dyn RecordSink>,
        cfg: RecorderConfig,
    ) -> std::io::Result<(Recorder, RecorderHandle)> {
        let spool = cfg.spool_dir.as_deref().map(Spool::claim);
        let shared = Arc::new(Shared {
            batch_size: cfg.batch_size.max(1),
            ..Shared::default()
        });
        let spool = match spool {
            None => None,
            Some(Ok(sp)) => {
                *lock(&shared.spool) = Ok(sp.path().to_path_buf());
                if !sp.is_empty() {
                    tracing::warn!(spool = %sp.path().display(), records = sp.records(), "a ledger spool from a previous run is replayed");
                }
                Some(sp)
            }
            Some(Err(e)) => {
                let dir = cfg.spool_dir.unwrap_or_default();
                let why = format!("cannot open a spool in {}: {e}", dir.display());
                tracing::error!(error = %why, "ledger records the store refuses will be held in memory only; fix [ledger] spool_dir");
                *lock(&shared.spool) = Err(why);
                None
            }
        };
        let writer = Writer {
            store,
            shared: shared.clone(),
            interval: cfg.flush_interval,
            pending: Vec::new(),
            spool,
            retry_at: None,
            logged_at: None,
        };
        writer.publish();
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

    /// Installs the tap every clone of this recorder reports to; only the first one counts.
    pub fn tap(&self, tap: Arc<dyn Tap>) {
        let _ = self.shared.tap.set(tap);
    }

    /// Records waiting for the writer (the queue's depth).
    pub fn queued(&self) -> usize {
        self.shared.lock().records.len()
    }

    /// Hands a record to the writer. Never waits on IO, never drops.
    pub fn record(&self, r: Record) {
        if let Some(tap) = self.shared.tap.get() {
            tap.record(&r);
        }
        let full = {
            let mut q = self.shared.lock();
            q.records.push(r);
            q.records.len() == self.shared.batch_size
        };
        if full {
            self.shared.wake.notify_one();
        }
    }

    /// Blocks until every record recorded before this call is committed, or spooled (or held
    /// in memory) when the store refuses it (tests, CLI).
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
        let s = &self.shared;
        RecorderStats {
            written: s.written.load(Ordering::Relaxed),
            failed_commits: s.failed_commits.load(Ordering::Relaxed),
            spooled: s.spooled.load(Ordering::Relaxed),
            spool_bytes: s.spool_bytes.load(Ordering::Relaxed),
            replayed: s.replayed.load(Ordering::Relaxed),
            in_memory: s.in_memory.load(Ordering::Relaxed),
            spool: lock(&s.spool).clone(),
            last_error: lock(&s.last_error).clone(),
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Writer {
    store: Box<dyn RecordSink>,
    shared: Arc<Shared>,
    interval: Duration,
    /// Records taken from the queue but neither committed nor spooled.
    pending: Vec<Record>,
    spool: Option<Spool>,
    /// While the store refuses writes: when to ask it again.
    retry_at: Option<Instant>,
    logged_at: Option<Instant>,
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
            self.commit(!waiters.is_empty());
            for w in waiters {
                let _ = w.send(());
            }
            if stop {
                self.finish();
                return;
            }
        }
    }

    /// The last cycle: records pushed after the stop flag was read, one more try at the store,
    /// and what it still refuses goes to the spool for the next start.
    fn finish(&mut self) {
        self.pending.append(&mut self.shared.lock().records);
        self.commit(true);
        if !self.pending.is_empty() {
            tracing::error!(
                lost = self.pending.len(),
                "ledger records could be written neither to the store nor to the spool at shutdown"
            );
        } else if let Some(sp) = self.spool.as_ref().filter(|s| !s.is_empty()) {
            tracing::warn!(spool = %sp.path().display(), records = sp.records(), "the ledger store refused writes until shutdown; the spool is replayed at the next start");
        }
    }

    /// One cycle: replay the spool when the store may be back, then commit (or spool) what is
    /// pending. `now` ignores the retry pause (a flush or the shutdown asked).
    fn commit(&mut self, now: bool) {
        let due = now || self.retry_at.is_none_or(|t| Instant::now() >= t);
        if due && self.spool.as_ref().is_some_and(|s| !s.is_empty()) {
            self.replay();
        }
        if !self.pending.is_empty() {
            let behind = self.spool.as_ref().is_some_and(|s| !s.is_empty());
            if behind || !due {
                self.spool_pending();
            } else {
                let started = Instant::now();
                match self.store.append(&self.pending) {
                    Ok(_) => {
                        if let Some(tap) = self.shared.tap.get() {
                            tap.committed(self.pending.len(), started.elapsed());
                        }
                        self.written(self.pending.len() as u64);
                        self.pending.clear();
                        self.back();
                    }
                    Err(e) => {
                        self.refused(&e.to_string());
                        self.spool_pending();
                    }
                }
            }
        }
        self.publish();
    }

    fn replay(&mut self) {
        let Some(sp) = self.spool.as_mut() else {
            return;
        };
        let store = &mut self.store;
        let (mut taken, mut new) = (0u64, 0u64);
        let result = sp.replay(&mut |b: &[Record]| {
            let n = store.append(b)?;
            taken += b.len() as u64;
            new += n as u64;
            Ok::<(), crate::LedgerError>(())
        });
        self.written(new);
        self.shared.replayed.fetch_add(taken, Ordering::Relaxed);
        match result {
            Ok(Ok(n)) => {
                tracing::info!(
                    replayed = n,
                    "the ledger store takes writes again; the spool is replayed and emptied"
                );
                self.back();
            }
            Ok(Err(e)) => self.refused(&e.to_string()),
            Err(e) => {
                let why = format!("cannot read the ledger spool: {e}");
                tracing::error!(error = %why, "the spool is kept as it is; new records wait behind it");
                *lock(&self.shared.last_error) = Some(why);
            }
        }
    }

    /// Spools the pending batch; keeps it in memory if the spool cannot take it.
    fn spool_pending(&mut self) {
        let Some(sp) = self.spool.as_mut() else {
            return;
        };
        match sp.append(&self.pending) {
            Ok(()) => self.pending.clear(),
            Err(e) => {
                let why = format!("cannot write the ledger spool {}: {e}", sp.path().display());
                tracing::error!(error = %why, in_memory = self.pending.len(), "ledger records are held in memory only and are lost if the process stops; free the disk or fix [ledger] spool_dir");
                *lock(&self.shared.last_error) = Some(why);
            }
        }
    }

    fn written(&self, n: u64) {
        self.shared.written.fetch_add(n, Ordering::Relaxed);
    }

    /// The store refused a write: pause before the next try, log once per [`LOG_EVERY`].
    fn refused(&mut self, error: &str) {
        self.shared.failed_commits.fetch_add(1, Ordering::Relaxed);
        self.retry_at = Some(Instant::now() + RETRY);
        *lock(&self.shared.last_error) = Some(error.to_string());
        if self.logged_at.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            self.logged_at = Some(Instant::now());
            let (spooled, spool) = match &self.spool {
                Some(s) => (
                    s.records() + self.pending.len() as u64,
                    s.path().display().to_string(),
                ),
                None => (0, "none: held in memory".into()),
            };
            tracing::warn!(error = %error, spooled, spool = %spool, "the ledger store refuses writes; records are spooled and replayed when it is back");
        }
    }

    /// The store took a write.
    fn back(&mut self) {
        if self.retry_at.take().is_some() {
            *lock(&self.shared.last_error) = None;
            self.logged_at = None;
        }
    }

    /// Publishes the spool's and memory's counts for [`Recorder::stats`].
    fn publish(&self) {
        let (records, bytes) = self
            .spool
            .as_ref()
            .map_or((0, 0), |s| (s.records(), s.bytes()));
        self.shared.spooled.store(records, Ordering::Relaxed);
        self.shared.spool_bytes.store(bytes, Ordering::Relaxed);
        self.shared
            .in_memory
            .store(self.pending.len() as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
