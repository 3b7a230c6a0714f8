//! The capture writer: the request path hands over a capture (or a shadow result) and
//! returns; one thread redacts it, stores it in batches and enforces retention.
//!
//! Invariants:
//! - The queue is bounded: when it is full (the store cannot keep up), a capture is dropped
//!   and counted, never waited for — capture is a sample, the client's request comes first.
//! - Redaction runs on this thread before the capture reaches the store or the spool, so an
//!   unredacted payload never touches the disk.
//! - Writes are committed in batches (what waited, at most [`BATCH`]), one transaction each.
//!   A batch the store refuses (PostgreSQL down) goes to the spool (`eval-N.spool` in
//!   `spool_dir`, the ledger's spool format: fsynced, checksummed, replayed in order); while
//!   the spool holds entries every new batch goes behind them, and the store is asked again
//!   every [`RETRY`](switchyard_ledger::RECORDER_RETRY). Once it takes writes the spool is
//!   replayed and emptied. Nothing is written twice: captures are keyed by request id and
//!   shadow results by the shadow call's request id, and the store skips keys it holds.
//! - Without a spool, or when the spool cannot be written (disk full), a refused batch is
//!   dropped and counted as `failed`, logged at error level: the eval store is a sample and
//!   must not grow the process's memory while PostgreSQL is away.

use crate::store::{Capture, Entry, ShadowResult};
use crate::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use switchyard_ledger::RECORDER_RETRY as RETRY;
use switchyard_ledger::spool::Spool;

/// Masks sensitive text in a capture, in place.
pub type Redact = Box<dyn Fn(&mut Capture) + Send>;

/// A capture to store (not yet redacted).
pub struct CaptureJob(pub Capture);

/// The most writes committed in one transaction.
const BATCH: usize = 256;
/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// The outage warning is repeated at most this often.
const LOG_EVERY: Duration = Duration::from_secs(10);

enum Msg {
    Capture(Box<Capture>),
    Shadow(Box<ShadowResult>),
    Flush(std::sync::mpsc::Sender<()>),
    Stop,
}

#[derive(Debug, Default)]
struct Stats {
    stored: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    pruned: AtomicU64,
    spooled: AtomicU64,
    replayed: AtomicU64,
}

/// What the writer has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureWriterStats {
    /// Captures and shadow results the store took (a replayed duplicate is not counted).
    pub stored: u64,
    /// Dropped because the queue was full.
    pub dropped: u64,
    /// Refused by the store and not spooled (no spool, or it could not be written); logged.
    pub failed: u64,
    /// Deleted by retention.
    pub pruned: u64,
    /// In the spool now, waiting for the store.
    pub spooled: u64,
    /// Taken from the spool by the store since start.
    pub replayed: u64,
}

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct CaptureWriterConfig {
    /// Captures older than this are deleted at start and every hour.
    pub retention: Duration,
    /// The queue's length; a capture that finds it full is dropped.
    pub capacity: usize,
    /// Where writes the store refuses are spooled (`eval-N.spool`); `None`: dropped.
    pub spool_dir: Option<PathBuf>,
}

/// A handle to the writer thread. Cheap to share behind an `Arc`.
pub struct CaptureWriter {
    tx: SyncSender<Msg>,
    stats: Arc<Stats>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl CaptureWriter {
    /// Opens the store at `path` (a file or a `postgres://` URL; failing here, not later) and
    /// starts the writer.
    pub fn spawn(
        path: &Path,
        redact: Redact,
        cfg: CaptureWriterConfig,
    ) -> Result<Self, StoreError> {
        CaptureWriter::start(crate::open(path)?, redact, cfg)
    }

    /// Starts the writer over an open store. A spool that cannot be claimed is logged and the
    /// writer runs without one.
    pub fn start(
        store: Box<dyn Store>,
        redact: Redact,
        cfg: CaptureWriterConfig,
    ) -> Result<Self, StoreError> {
        let spool = cfg.spool_dir.as_deref().and_then(|dir| {
            Spool::claim_named(dir, "eval")
                .inspect_err(|e| tracing::error!(error = %e, dir = %dir.display(), "cannot open the eval store's spool; captures the store refuses will be dropped; fix [ledger] spool_dir"))
                .ok()
        });
        if let Some(sp) = spool.as_ref().filter(|s| !s.is_empty()) {
            tracing::warn!(spool = %sp.path().display(), entries = sp.records(), "an eval store spool from a previous run is replayed");
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(cfg.capacity.max(1));
        let stats = Arc::new(Stats::default());
        let writer = Writer {
            store,
            redact,
            retention: cfg.retention,
            stats: stats.clone(),
            pending: Vec::new(),
            spool,
            retry_at: None,
            logged_at: None,
        };
        writer.publish();
        let thread = std::thread::Builder::new()
            .name("switchyard-capture".into())
            .spawn(move || writer.run(&rx))
            .map_err(|e| StoreError::Invalid(format!("cannot start the capture writer: {e}")))?;
        Ok(CaptureWriter {
            tx,
            stats,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a capture; false (and counted) when the queue is full.
    pub fn submit(&self, job: CaptureJob) -> bool {
        self.send(Msg::Capture(Box::new(job.0)))
    }

    /// Queues a shadow result; false (and counted as dropped) when the queue is full.
    pub fn submit_shadow(&self, result: ShadowResult) -> bool {
        self.send(Msg::Shadow(Box::new(result)))
    }

    fn send(&self, msg: Msg) -> bool {
        match self.tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Waits until everything queued before this call is stored (or spooled).
    pub fn flush(&self) {
        let (done, wait) = std::sync::mpsc::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(30));
        }
    }

    /// Stores (or spools) what is queued and stops the thread.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Stop);
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    pub fn stats(&self) -> CaptureWriterStats {
        let s = &self.stats;
        CaptureWriterStats {
            stored: s.stored.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            pruned: s.pruned.load(Ordering::Relaxed),
            spooled: s.spooled.load(Ordering::Relaxed),
            replayed: s.replayed.load(Ordering::Relaxed),
        }
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The writer thread's state.
struct Writer {
    store: Box<dyn Store>,
    redact: Redact,
    retention: Duration,
    stats: Arc<Stats>,
    /// Redacted writes neither committed nor spooled yet.
    pending: Vec<Entry>,
    spool: Option<Spool<Entry>>,
    /// While the store refuses writes: when to ask it again.
    retry_at: Option<Instant>,
    logged_at: Option<Instant>,
}

impl Writer {
    fn run(mut self, rx: &Receiver<Msg>) {
        self.prune();
        let mut pruned_at = Instant::now();
        loop {
            let (waiters, stop) = match rx.recv_timeout(self.idle()) {
                Ok(first) => self.take(first, rx),
                Err(RecvTimeoutError::Timeout) => (Vec::new(), false),
                Err(RecvTimeoutError::Disconnected) => (Vec::new(), true),
            };
            self.commit(stop || !waiters.is_empty());
            for w in waiters {
                let _ = w.send(());
            }
            if stop {
                if let Some(sp) = self.spool.as_ref().filter(|s| !s.is_empty()) {
                    tracing::warn!(spool = %sp.path().display(), entries = sp.records(), "the eval store refused writes until shutdown; the spool is replayed at the next start");
                }
                return;
            }
            if pruned_at.elapsed() >= PRUNE_EVERY {
                self.prune();
                pruned_at = Instant::now();
            }
        }
    }

    /// How long to wait for the next message: until the store is due again while the spool
    /// holds entries, else a minute (retention's clock).
    fn idle(&self) -> Duration {
        if self.spool.as_ref().is_some_and(|s| !s.is_empty()) {
            let now = Instant::now();
            return self
                .retry_at
                .map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
        }
        Duration::from_secs(60)
    }

    /// Takes `first` and what else waits (up to a batch) into `pending`, redacting captures;
    /// returns the flush requests seen and whether to stop.
    fn take(&mut self, first: Msg, rx: &Receiver<Msg>) -> (Vec<std::sync::mpsc::Sender<()>>, bool) {
        let mut waiters = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Capture(mut c) => {
                    (self.redact)(&mut c);
                    self.pending.push(Entry::Capture(*c));
                }
                Msg::Shadow(r) => self.pending.push(Entry::Shadow(*r)),
                Msg::Flush(done) => waiters.push(done),
                Msg::Stop => return (waiters, true),
            }
            if self.pending.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        (waiters, false)
    }

    /// Replays the spool when the store may be back, then commits (or spools) what is
    /// pending. `now` ignores the retry pause (a flush or the stop asked).
    fn commit(&mut self, now: bool) {
        let due = now || self.retry_at.is_none_or(|t| Instant::now() >= t);
        if due && self.behind() {
            self.replay();
        }
        if !self.pending.is_empty() {
            if self.behind() || !due {
                self.spool_pending();
            } else {
                match self.store.append(&self.pending) {
                    Ok(n) => {
                        self.stats.stored.fetch_add(n, Ordering::Relaxed);
                        self.pending.clear();
                        self.retry_at = None;
                    }
                    Err(e) => {
                        self.refused(&e);
                        self.spool_pending();
                    }
                }
            }
        }
        self.publish();
    }

    /// Whether the spool holds entries (new writes must go behind them).
    fn behind(&self) -> bool {
        self.spool.as_ref().is_some_and(|s| !s.is_empty())
    }

    fn replay(&mut self) {
        let Some(sp) = self.spool.as_mut() else {
            return;
        };
        let (store, stats) = (&mut self.store, &self.stats);
        let result = sp.replay(&mut |batch: &[Entry]| {
            let n = store.append(batch)?;
            stats.stored.fetch_add(n, Ordering::Relaxed);
            stats
                .replayed
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            Ok::<(), StoreError>(())
        });
        match result {
            Ok(Ok(n)) => {
                tracing::info!(
                    replayed = n,
                    "the eval store takes writes again; its spool is replayed and emptied"
                );
                self.retry_at = None;
                self.logged_at = None;
            }
            Ok(Err(e)) => self.refused(&e),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the eval store's spool; it is kept as it is and new writes wait behind it")
            }
        }
    }

    /// Spools the pending batch; drops and counts it if there is no spool or it cannot take it.
    fn spool_pending(&mut self) {
        let n = self.pending.len() as u64;
        let why = match self.spool.as_mut() {
            Some(sp) => match sp.append(&self.pending) {
                Ok(()) => {
                    self.pending.clear();
                    return;
                }
                Err(e) => format!(
                    "cannot write the eval store's spool {}: {e}",
                    sp.path().display()
                ),
            },
            None => "the eval store has no spool".to_string(),
        };
        tracing::error!(error = %why, dropped = n, "captures and shadow results the eval store refused are dropped; free the disk or fix [ledger] spool_dir");
        self.stats.failed.fetch_add(n, Ordering::Relaxed);
        self.pending.clear();
    }

    /// The store refused a write: pause before the next try, log once per [`LOG_EVERY`].
    fn refused(&mut self, error: &StoreError) {
        self.retry_at = Some(Instant::now() + RETRY);
        if self.logged_at.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            self.logged_at = Some(Instant::now());
            tracing::warn!(error = %error, spooled = self.spool.as_ref().map_or(0, Spool::records) + self.pending.len() as u64, "the eval store refuses writes; captures and shadow results are spooled and replayed when it is back");
        }
    }

    fn publish(&self) {
        let n = self.spool.as_ref().map_or(0, Spool::records);
        self.stats.spooled.store(n, Ordering::Relaxed);
    }

    fn prune(&self) {
        let keep = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::days(30));
        match self.store.prune_captures(chrono::Utc::now() - keep) {
            Ok(n) => {
                self.stats.pruned.fetch_add(n as u64, Ordering::Relaxed);
                if n > 0 {
                    tracing::info!(deleted = n, "captures past their retention deleted");
                }
            }
            Err(e) => tracing::warn!(error = %e, "capture retention failed"),
        }
    }
}

#[cfg(test)]
#[path = "capture_tests.rs"]
mod tests;
