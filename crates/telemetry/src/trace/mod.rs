//! OpenTelemetry traces over OTLP HTTP/protobuf: one server span per request and one client
//! span per upstream attempt, built from the request's ledger record (the same record the
//! metrics count) and its [`Note`].
//!
//! The request path's share is small and never waits: [`Traces::begin`] decides sampling and
//! keeps a note; the recorder's tap ([`Traces::tap`]) finds the note by request id and hands
//! the record to a bounded queue with `try_send` (a full queue drops the span and counts it).
//! One thread owns the rest: it batches (`batch_size` spans or every `batch_interval`),
//! builds the spans, encodes them with opentelemetry-otlp and posts them through the
//! caller's HTTP client under `export_timeout`. A slow or unreachable collector therefore
//! only fills the queue; failures and drops are logged at most once per interval.
//!
//! Must never know: the gateway's types, how a request is executed, the dialects (the
//! caller's [`Content`] reads answers and prompts).

mod export;
mod note;
pub mod parent;
mod span;

pub use note::{Finish, Note};
pub use parent::Parent;

use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_ledger::{Record, Tap};

/// Notes kept at most (requests begun whose record has not arrived yet); past it a request
/// is not traced and counts as dropped.
const MAX_NOTES: usize = 65_536;

/// Settings fixed at start (validated by the gateway's config).
#[derive(Debug, Clone)]
pub struct Options {
    /// The full URL spans are posted to (`…/v1/traces`).
    pub endpoint: String,
    pub service_name: String,
    pub service_version: String,
    /// New traces kept, 0..=1 (a client's `traceparent` decides for its own trace).
    pub sampling_ratio: f64,
    /// Extra request headers (authentication), values already read from the environment.
    pub headers: Vec<(String, String)>,
    pub export_timeout: Duration,
    pub batch_size: usize,
    pub batch_interval: Duration,
    /// Spans waiting for export, at most.
    pub queue_size: usize,
    /// Export prompts and completions (redacted by [`Content`]).
    pub capture_content: bool,
}

/// How answers and prompts are read: the gateway knows the dialects, this crate does not.
pub trait Content: Send + Sync {
    /// The finish reasons of a whole answer body (OpenAI `finish_reason`s, Anthropic's
    /// `stop_reason`).
    fn finish_reasons(&self, answer: &[u8]) -> Vec<String>;
    /// The prompt's messages as JSON text, redacted.
    fn input(&self, request: &[u8]) -> Option<String>;
    /// The answer's messages as JSON text, redacted.
    fn output(&self, answer: &[u8]) -> Option<String>;
}

/// Export counters, shown on `/metrics` (`switchyard_trace_spans_*`).
#[derive(Debug, Default)]
pub struct Counters {
    pub exported: AtomicU64,
    pub dropped: AtomicU64,
    pub failed: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceCounts {
    /// Spans the collector accepted.
    pub exported: u64,
    /// Spans never sent: the queue was full (or too many requests were in flight).
    pub dropped: u64,
    /// Spans in batches the collector refused or did not answer in time.
    pub failed: u64,
}

/// Notes by request id, until the request's record arrives.
pub(crate) type Notes = Mutex<HashMap<String, Arc<Note>>>;

pub(crate) struct Item {
    pub record: Record,
    pub note: Arc<Note>,
}

pub(crate) enum Msg {
    Span(Box<Item>),
    Flush(std::sync::mpsc::Sender<()>),
}

struct Shared {
    tx: SyncSender<Msg>,
    notes: Arc<Notes>,
    counters: Arc<Counters>,
    ratio: f64,
    capture: bool,
}

/// The tracer: cheap to clone, shared by the gateway and the recorder's tap.
#[derive(Clone)]
pub struct Traces {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Traces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traces").finish_non_exhaustive()
    }
}

impl Traces {
    /// Starts the export thread. Fails only when the exporter cannot be built (a URL the
    /// config check let through, a thread that cannot be spawned).
    pub fn start(
        options: Options,
        client: Arc<dyn opentelemetry_http::HttpClient>,
        content: Arc<dyn Content>,
    ) -> Result<Traces, String> {
        let counters = Arc::new(Counters::default());
        let (tx, rx) = std::sync::mpsc::sync_channel(options.queue_size.max(1));
        let shared = Arc::new(Shared {
            tx,
            notes: Arc::new(Mutex::new(HashMap::new())),
            counters: counters.clone(),
            ratio: options.sampling_ratio,
            capture: options.capture_content,
        });
        let notes = shared.notes.clone();
        export::spawn(export::Thread {
            options,
            client,
            content,
            rx,
            counters,
            notes,
        })?;
        Ok(Traces { shared })
    }

    /// A request has arrived: decides whether it is traced and, if so, keeps its note.
    /// `request_id` is the id its ledger record will carry.
    pub fn begin(&self, request_id: &str, parent: Option<Parent>) -> Option<Arc<Note>> {
        let trace_id = match &parent {
            Some(p) if !p.sampled => return None,
            Some(p) => p.trace_id,
            None => {
                let id = RandomIdGenerator::default().new_trace_id();
                if !parent::keeps(id, self.shared.ratio) {
                    return None;
                }
                id
            }
        };
        let note = Arc::new(Note::new(trace_id, parent));
        let mut notes = self.shared.notes.lock().ok()?;
        if notes.len() >= MAX_NOTES {
            self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        notes.insert(request_id.to_string(), note.clone());
        Some(note)
    }

    /// Whether prompts and completions are exported (the caller keeps the prompt only then).
    pub fn captures_content(&self) -> bool {
        self.shared.capture
    }

    /// The recorder's tap: each record whose request was begun (and sampled) is queued.
    pub fn tap(&self) -> Arc<dyn Tap> {
        Arc::new(TraceTap(self.shared.clone()))
    }

    pub fn counts(&self) -> TraceCounts {
        let c = &self.shared.counters;
        TraceCounts {
            exported: c.exported.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
    }

    /// Exports every queued span now and waits for it, at most `timeout` (a graceful stop).
    /// A full queue is waited on (the thread is draining it), within the same `timeout`.
    pub fn flush(&self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        let (done, wait) = std::sync::mpsc::channel();
        let mut msg = Msg::Flush(done);
        loop {
            match self.shared.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    msg = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return,
            }
        }
        let _ = wait.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()));
    }
}

struct TraceTap(Arc<Shared>);

impl Tap for TraceTap {
    fn record(&self, record: &Record) {
        let shared = &self.0;
        let note = match shared.notes.lock() {
            Ok(mut notes) if !notes.is_empty() => notes.remove(&record.request_id),
            _ => None,
        };
        let Some(note) = note else { return };
        let item = Box::new(Item {
            record: record.clone(),
            note,
        });
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            shared.tx.try_send(Msg::Span(item))
        {
            shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn committed(&self, _records: usize, _took: Duration) {}
}

#[cfg(test)]
mod tests;
