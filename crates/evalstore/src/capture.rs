//! The capture writer: the request path hands over a capture and returns; one thread redacts
//! it, stores it and enforces retention.
//!
//! The queue is bounded: when it is full (the disk cannot keep up), a capture is dropped and
//! counted, never waited for — capture is a sample, the client's request comes first.
//! Redaction runs on this thread before the capture reaches the store, so an unredacted
//! payload never touches the disk.

use crate::store::{Capture, ShadowResult};
use crate::{Store, StoreError};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Masks sensitive text in a capture, in place.
pub type Redact = Box<dyn Fn(&mut Capture) + Send>;

/// A capture to store (not yet redacted).
pub struct CaptureJob(pub Capture);

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
}

/// What the writer has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureWriterStats {
    pub stored: u64,
    /// Dropped because the queue was full.
    pub dropped: u64,
    /// Failed to store (logged).
    pub failed: u64,
    /// Deleted by retention.
    pub pruned: u64,
}

/// A handle to the writer thread. Cheap to share behind an `Arc`.
pub struct CaptureWriter {
    tx: SyncSender<Msg>,
    stats: Arc<Stats>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl CaptureWriter {
    /// Opens the store at `path` (a file or a `postgres://` URL; failing here, not later) and
    /// starts the writer. Captures older than `retention` are deleted now and every hour.
    pub fn spawn(
        path: &Path,
        redact: Redact,
        retention: Duration,
        capacity: usize,
    ) -> Result<Self, StoreError> {
        let store = crate::open(path)?;
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity.max(1));
        let stats = Arc::new(Stats::default());
        let s = stats.clone();
        let thread = std::thread::Builder::new()
            .name("switchyard-capture".into())
            .spawn(move || run(store, rx, redact, retention, s))
            .map_err(|e| StoreError::Invalid(format!("cannot start the capture writer: {e}")))?;
        Ok(CaptureWriter {
            tx,
            stats,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a capture; false (and counted) when the queue is full.
    pub fn submit(&self, job: CaptureJob) -> bool {
        match self.tx.try_send(Msg::Capture(Box::new(job.0))) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Queues a shadow result; false (and counted as dropped) when the queue is full.
    pub fn submit_shadow(&self, result: ShadowResult) -> bool {
        match self.tx.try_send(Msg::Shadow(Box::new(result))) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Waits until everything queued before this call is stored.
    pub fn flush(&self) {
        let (done, wait) = std::sync::mpsc::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(30));
        }
    }

    /// Stores what is queued and stops the thread.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Stop);
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    pub fn stats(&self) -> CaptureWriterStats {
        CaptureWriterStats {
            stored: self.stats.stored.load(Ordering::Relaxed),
            dropped: self.stats.dropped.load(Ordering::Relaxed),
            failed: self.stats.failed.load(Ordering::Relaxed),
            pruned: self.stats.pruned.load(Ordering::Relaxed),
        }
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn prune(store: &dyn Store, retention: Duration, stats: &Stats) {
    let keep = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
    match store.prune_captures(chrono::Utc::now() - keep) {
        Ok(n) => {
            stats.pruned.fetch_add(n as u64, Ordering::Relaxed);
            if n > 0 {
                tracing::info!(deleted = n, "captures past their retention deleted");
            }
        }
        Err(e) => tracing::warn!(error = %e, "capture retention failed"),
    }
}

fn run(
    store: Box<dyn Store>,
    rx: Receiver<Msg>,
    redact: Redact,
    retention: Duration,
    stats: Arc<Stats>,
) {
    prune(store.as_ref(), retention, &stats);
    let mut last_prune = Instant::now();
    loop {
        let msg = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(m) => Some(m),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        };
        match msg {
            Some(Msg::Capture(mut c)) => {
                redact(&mut c);
                match store.insert_capture(&c) {
                    Ok(()) => {
                        stats.stored.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        stats.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %e, "a capture could not be stored");
                    }
                }
            }
            Some(Msg::Shadow(r)) => {
                if let Err(e) = store.insert_shadow(&r) {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "a shadow result could not be stored");
                }
            }
            Some(Msg::Flush(done)) => {
                let _ = done.send(());
            }
            Some(Msg::Stop) => return,
            None => {}
        }
        if last_prune.elapsed() >= Duration::from_secs(3600) {
            prune(store.as_ref(), retention, &stats);
            last_prune = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::{CaptureQuery, SqliteStore};
    use serde_json::json;

    fn capture(id: &str, age_days: i64, text: &str) -> Capture {
        Capture {
            id: id.into(),
            ts: chrono::Utc::now() - chrono::Duration::days(age_days),
            workload: Some("support".into()),
            route: "chat".into(),
            provider: Some("openai".into()),
            model: Some("gpt-4o-mini".into()),
            key_id: None,
            team: None,
            tags: vec![("team".into(), "a".into())],
            dialect: "openai".into(),
            request: json!({"model": "chat", "messages": [{"role": "user", "content": text}]}),
            output_text: format!("answer to {text}"),
            tool_calls: json!([]),
            cost_usd: "0.0001".parse().ok(),
            latency_ms: 12.5,
            input_tokens: 10,
            output_tokens: 5,
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sy-evalstore-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d.join("eval.db")
    }

    #[test]
    fn captures_are_redacted_before_storage_and_survive_a_restart() {
        let path = temp("redact");
        let redact: Redact = Box::new(|c: &mut Capture| {
            c.output_text = c.output_text.replace("alice@example.com", "[EMAIL]");
            if let Some(m) = c.request.pointer_mut("/messages/0/content") {
                *m = json!(
                    m.as_str()
                        .unwrap_or("")
                        .replace("alice@example.com", "[EMAIL]")
                );
            }
        });
        let w = CaptureWriter::spawn(&path, redact, Duration::from_secs(86_400 * 30), 16).unwrap();
        assert!(w.submit(CaptureJob(capture("c1", 0, "mail alice@example.com"))));
        w.flush();
        w.shutdown();
        assert_eq!(w.stats().stored, 1);
        let bytes = std::fs::read(&path).unwrap_or_default();
        let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
        for b in [bytes, wal] {
            assert!(!b.windows(17).any(|x| x == b"alice@example.com"));
        }
        let store = SqliteStore::open(&path).unwrap();
        let got = store.captures(&CaptureQuery::default()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].output_text, "answer to mail [EMAIL]");
        assert_eq!(got[0].tags, [("team".to_string(), "a".to_string())]);
        assert_eq!(got[0].cost_usd, "0.0001".parse().ok());
    }

    #[test]
    fn retention_deletes_old_captures_at_start() {
        let path = temp("retention");
        {
            let store = SqliteStore::open(&path).unwrap();
            store.insert_capture(&capture("old", 40, "x")).unwrap();
            store.insert_capture(&capture("new", 1, "y")).unwrap();
        }
        let w = CaptureWriter::spawn(&path, Box::new(|_| {}), Duration::from_secs(86_400 * 30), 4)
            .unwrap();
        w.flush();
        assert_eq!(w.stats().pruned, 1);
        w.shutdown();
        let store = SqliteStore::open(&path).unwrap();
        let ids: Vec<_> = store
            .captures(&CaptureQuery::default())
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["new"]);
    }

    #[test]
    fn datasets_are_versioned_and_immutable() {
        let path = temp("datasets");
        let mut store = SqliteStore::open(&path).unwrap();
        let items = vec![json!({"id": "1"}), json!({"id": "2"})];
        let v1 = store
            .create_dataset("support", ("test", Some("support")), &json!([]), &items)
            .unwrap();
        let v2 = store
            .create_dataset("support", ("test", None), &json!([]), &items[..1])
            .unwrap();
        assert_eq!(
            (v1.id.as_str(), v2.id.as_str()),
            ("support@v1", "support@v2")
        );
        let (latest, got) = store.dataset("support").unwrap();
        assert_eq!((latest.version, got.len()), (2, 1));
        let (first, got) = store.dataset("support@v1").unwrap();
        assert_eq!((first.version, got), (1, items.clone()));
        // Any change to a stored version is refused by the database itself.
        let conn = rusqlite::Connection::open(&path).unwrap();
        assert!(
            conn.execute(
                "UPDATE dataset_items SET item = '{}' WHERE dataset_id = 'support@v1'",
                []
            )
            .is_err()
        );
        assert!(
            conn.execute(
                "DELETE FROM dataset_items WHERE dataset_id = 'support@v1'",
                []
            )
            .is_err()
        );
        assert!(matches!(
            store.dataset("nope"),
            Err(StoreError::NoDataset(_))
        ));
        assert!(
            store
                .create_dataset("a@b", ("t", None), &json!([]), &items)
                .is_err()
        );
        assert!(
            store
                .create_dataset("empty", ("t", None), &json!([]), &[])
                .is_err()
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let path = temp("full");
        // A redaction that stalls the writer long enough to fill a one-slot queue.
        let redact: Redact = Box::new(|_| std::thread::sleep(Duration::from_millis(200)));
        let w = CaptureWriter::spawn(&path, redact, Duration::from_secs(86_400), 1).unwrap();
        let started = Instant::now();
        let accepted = (0..20)
            .filter(|i| w.submit(CaptureJob(capture(&format!("c{i}"), 0, "x"))))
            .count();
        assert!(
            started.elapsed() < Duration::from_millis(150),
            "submit never waits"
        );
        assert!(accepted < 20);
        assert_eq!(w.stats().dropped as usize, 20 - accepted);
        w.shutdown();
    }
}
