//! The export thread: takes spans off the bounded queue, batches them, builds and encodes
//! them (opentelemetry-otlp, HTTP/protobuf) and posts them through the caller's client.
//!
//! It runs on its own OS thread, so an export that waits on a slow collector (up to
//! `export_timeout`, retries included) holds up no request and no async worker; meanwhile the
//! queue fills and further spans are dropped and counted. Problems are logged at most once
//! per `batch_interval`, not once per span.

use super::span::Builder;
use super::{Content, Counters, Item, Msg, Notes, Options};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanExporter as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A note whose record has not come in this long is forgotten (a request that never
/// recorded: the pipeline records every exit, so this is only a safety net).
const NOTE_TTL: Duration = Duration::from_secs(15 * 60);

pub(crate) struct Thread {
    pub options: Options,
    pub client: Arc<dyn opentelemetry_http::HttpClient>,
    pub content: Arc<dyn Content>,
    pub rx: Receiver<Msg>,
    pub counters: Arc<Counters>,
    pub notes: Arc<Notes>,
}

pub(crate) fn spawn(t: Thread) -> Result<(), String> {
    let exporter = exporter(&t.options, t.client.clone())?;
    std::thread::Builder::new()
        .name("switchyard-traces".into())
        .spawn(move || Loop::new(t, exporter).run())
        .map(|_| ())
        .map_err(|e| format!("cannot start the trace export thread: {e}"))
}

fn exporter(
    o: &Options,
    client: Arc<dyn opentelemetry_http::HttpClient>,
) -> Result<opentelemetry_otlp::SpanExporter, String> {
    let headers = o.headers.iter().cloned().collect();
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(o.endpoint.clone())
        .with_timeout(o.export_timeout)
        .with_shared_http_client(client)
        .with_headers(headers)
        .build()
        .map_err(|e| format!("telemetry.otlp_endpoint: cannot build the OTLP exporter: {e}"))?;
    let resource = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", o.service_name.clone()),
            KeyValue::new("service.version", o.service_version.clone()),
        ])
        .build();
    exporter.set_resource(&resource);
    Ok(exporter)
}

struct Loop {
    rx: Receiver<Msg>,
    exporter: opentelemetry_otlp::SpanExporter,
    builder: Builder,
    counters: Arc<Counters>,
    notes: Arc<Notes>,
    batch_size: usize,
    interval: Duration,
    endpoint: String,
    pending: Vec<Item>,
    logged_dropped: u64,
    last_error: Option<String>,
}

impl Loop {
    fn new(t: Thread, exporter: opentelemetry_otlp::SpanExporter) -> Self {
        Loop {
            builder: Builder::new(t.content, t.options.capture_content),
            batch_size: t.options.batch_size.max(1),
            interval: t.options.batch_interval,
            endpoint: t.options.endpoint,
            rx: t.rx,
            exporter,
            counters: t.counters,
            notes: t.notes,
            pending: Vec::new(),
            logged_dropped: 0,
            last_error: None,
        }
    }

    fn run(mut self) {
        let mut tick = Instant::now() + self.interval;
        loop {
            match self
                .rx
                .recv_timeout(tick.saturating_duration_since(Instant::now()))
            {
                Ok(Msg::Span(item)) => {
                    self.pending.push(*item);
                    if self.pending.len() >= self.batch_size {
                        self.export(false);
                    }
                }
                Ok(Msg::Flush(done)) => {
                    self.export(true);
                    let _ = done.send(());
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.export(false);
                    self.sweep();
                    self.report();
                    tick = Instant::now() + self.interval;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.export(true);
                    self.report();
                    return;
                }
            }
        }
    }

    /// Exports the pending requests whose reply is known (all of them when `all`, or once
    /// they have waited an interval: a reply that never came must not hold its span).
    fn export(&mut self, all: bool) {
        let interval = self.interval;
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|i| all || i.note.is_finished() || i.note.born.elapsed() > interval * 2);
        self.pending = waiting;
        for chunk in ready.chunks(self.batch_size) {
            let spans: Vec<_> = chunk.iter().flat_map(|i| self.builder.spans(i)).collect();
            let n = spans.len() as u64;
            match futures_executor::block_on(self.exporter.export(spans)) {
                Ok(()) => {
                    self.counters.exported.fetch_add(n, Ordering::Relaxed);
                }
                Err(e) => {
                    self.counters.failed.fetch_add(n, Ordering::Relaxed);
                    self.last_error = Some(e.to_string());
                }
            }
        }
    }

    fn sweep(&self) {
        if let Ok(mut notes) = self.notes.lock() {
            if !notes.is_empty() {
                notes.retain(|_, n| n.born.elapsed() < NOTE_TTL);
            }
        }
    }

    /// One warning per interval at most, whatever went wrong in it.
    fn report(&mut self) {
        if let Some(e) = self.last_error.take() {
            tracing::warn!(
                endpoint = %self.endpoint,
                "trace export failed ({e}); requests are unaffected, spans of that batch are lost (switchyard_trace_spans_failed_total)"
            );
        }
        let dropped = self.counters.dropped.load(Ordering::Relaxed);
        if dropped > self.logged_dropped {
            tracing::warn!(
                endpoint = %self.endpoint,
                dropped = dropped - self.logged_dropped,
                "trace spans dropped: the export queue was full (a slow or unreachable collector, or telemetry.queue_size too small)"
            );
            self.logged_dropped = dropped;
        }
    }
}
