//! What the gateway knows of one traced request besides its ledger record: the trace it
//! belongs to (the client's, or a new one), and, once the reply is built, the stage times,
//! the cache's answer and the whole answer's body (for finish reasons and, with
//! `capture_content`, the completion).
//!
//! A note is made when a sampled request arrives and found again by request id when its
//! record reaches the recorder's tap; the export thread reads it when it builds the spans.

use super::parent::Parent;
use bytes::Bytes;
use opentelemetry::trace::TraceId;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One sampled request's trace state.
#[derive(Debug)]
pub struct Note {
    pub(crate) trace_id: TraceId,
    pub(crate) parent: Option<Parent>,
    pub(crate) born: Instant,
    pub(crate) prompt: OnceLock<Bytes>,
    pub(crate) finish: OnceLock<Finish>,
    /// A streamed answer's finish reasons, read by the tee as the events pass.
    pub(crate) stream_finish: OnceLock<Vec<String>>,
}

/// What the reply told about a request, set once when the pipeline returns.
#[derive(Debug, Default)]
pub struct Finish {
    /// Arrival to the start of the execute stage (the first upstream attempt); `None` when
    /// the request never got there or the stage times are unknown (a refused request).
    pub execute_at: Option<Duration>,
    /// Each stage that ran, as its attribute key (`switchyard.stage.parse_us`), and its
    /// time, in pipeline order.
    pub stages: Vec<(&'static str, Duration)>,
    /// The response cache's answer (`hit`, `hit_semantic`, `miss`, `bypass`); `None` on a
    /// route without a cache.
    pub cache: Option<&'static str>,
    /// A whole (not streamed) answer's body, as the client received it.
    pub answer: Option<Bytes>,
}

impl Note {
    pub(crate) fn new(trace_id: TraceId, parent: Option<Parent>) -> Self {
        Note {
            trace_id,
            parent,
            born: Instant::now(),
            prompt: OnceLock::new(),
            finish: OnceLock::new(),
            stream_finish: OnceLock::new(),
        }
    }

    /// The trace this request belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// Keeps the request body for content capture (called only with `capture_content`).
    pub fn set_prompt(&self, body: Bytes) {
        let _ = self.prompt.set(body);
    }

    /// Records what the reply told; a second call is ignored.
    pub fn finish(&self, finish: Finish) {
        let _ = self.finish.set(finish);
    }

    /// A streamed answer's finish reasons, when it ended; a second call is ignored.
    pub fn set_finish_reasons(&self, reasons: Vec<String>) {
        let _ = self.stream_finish.set(reasons);
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finish.get().is_some()
    }
}
