//! The record of a request cut while it waits on its upstream.
//!
//! A whole (non-streamed) answer is awaited inside the pipeline; when the client goes away, or
//! the server's grace period ends, the edge drops the pipeline's future there and the code that
//! would record the request never runs. [`Unfinished`] holds the request's record across that
//! wait: disarmed once the route has answered or failed, it otherwise records the request on
//! drop as `client_disconnected`, like the stream tee does for a stream cut mid-way.
//! Must never block: the recorder's `record` does not.

use std::time::Instant;
use switchyard_ledger::{Record, Recorder};

/// The status recorded for a request whose caller was gone before any answer (nginx's
/// "client closed request"; no client ever receives it).
pub(crate) const CLIENT_CLOSED: u16 = 499;

/// A request's record while its upstream call is in flight.
pub(crate) struct Unfinished<'a> {
    rec: Option<Record>,
    recorder: &'a Recorder,
    received: Instant,
    /// When the upstream call began: the gateway's own time ends here.
    upstream_from: Instant,
}

impl<'a> Unfinished<'a> {
    pub(crate) fn new(rec: Record, recorder: &'a Recorder, received: Instant) -> Self {
        Unfinished {
            rec: Some(rec),
            recorder,
            received,
            upstream_from: Instant::now(),
        }
    }

    /// The route answered (or failed) while the caller waited: the record goes on with the
    /// pipeline, and nothing is recorded here.
    #[expect(
        clippy::expect_used,
        reason = "the record is taken only here, by value, so it is always present"
    )]
    pub(crate) fn disarm(mut self) -> Record {
        self.rec
            .take()
            .expect("an unfinished request holds its record until disarmed")
    }
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        let Some(mut rec) = self.rec.take() else {
            return;
        };
        rec.status = CLIENT_CLOSED;
        rec.error_class = Some("client_disconnected".into());
        rec.latency_ms = self.received.elapsed().as_secs_f64() * 1000.0;
        rec.overhead_us = self
            .upstream_from
            .saturating_duration_since(self.received)
            .as_micros() as u64;
        self.recorder.record(rec);
    }
}
