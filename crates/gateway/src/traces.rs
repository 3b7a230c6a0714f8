//! The gateway's side of `[telemetry]`: the tracer started at assembly (its tap beside the
//! metrics' on the recorder), the OTLP exporter's HTTP client (the providers' hyper-util +
//! rustls client, driven on the gateway's runtime), what a request tells its trace (the
//! client's `traceparent`, the prompt for content capture, the reply's stage times, cache
//! outcome and whole answer), and how answers are read for finish reasons and content.
//!
//! With tracing off every hook is one `Option` check; nothing here runs.

use crate::cache::Outcome;
use crate::config::TelemetryConfig;
use crate::reply::{Reply, ReplyBody, RequestContext};
use crate::stages::Stage;
use crate::{Config, Gateway, GatewayError};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use switchyard_eval::redact::Redactor;
use switchyard_ledger::{Record, Tap};
use switchyard_telemetry::trace::{Content, Finish, Options, Parent, Traces};

mod client;
mod content;

pub(crate) use content::event_finish_reasons;

/// Starts the tracer when `[telemetry]` is on. A tracer that cannot start (no async runtime,
/// a redaction pattern that does not compile) is a warning: requests are served untraced.
pub(crate) fn start(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Option<Traces> {
    let t = config.telemetry.as_ref()?;
    match try_start(t, config, env) {
        Ok(traces) => Some(traces),
        Err(e) => {
            tracing::warn!("traces are off: {e}");
            None
        }
    }
}

fn try_start(
    t: &TelemetryConfig,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Traces, String> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "the OTLP exporter needs the server's async runtime".to_string())?;
    let redactor = Redactor::new(&config.eval.redact_patterns).map_err(|e| e.to_string())?;
    let headers = t
        .headers_env
        .iter()
        .filter_map(|(name, var)| Some((name.clone(), env(var)?.trim().to_string())))
        .collect();
    let options = Options {
        endpoint: t.traces_url.clone(),
        service_name: t.service_name.clone(),
        service_version: env!("CARGO_PKG_VERSION").to_string(),
        sampling_ratio: t.sampling_ratio,
        headers,
        export_timeout: t.export_timeout,
        batch_size: t.batch_size,
        batch_interval: t.batch_interval,
        queue_size: t.queue_size,
        capture_content: t.capture_content,
    };
    let http = client::Otlp::new(runtime, t.export_timeout)?;
    let content: Arc<dyn Content> = Arc::new(content::Dialects { redactor });
    Traces::start(options, Arc::new(http), content)
}

/// The recorder takes one tap: the metrics' and the tracer's, each when on.
pub(crate) fn tap(metrics: Option<Arc<dyn Tap>>, traces: Option<&Traces>) -> Option<Arc<dyn Tap>> {
    match (metrics, traces.map(Traces::tap)) {
        (Some(m), Some(t)) => Some(Arc::new(Both(m, t))),
        (m, t) => m.or(t),
    }
}

struct Both(Arc<dyn Tap>, Arc<dyn Tap>);

impl Tap for Both {
    fn record(&self, record: &Record) {
        self.0.record(record);
        self.1.record(record);
    }

    fn committed(&self, records: usize, took: Duration) {
        self.0.committed(records, took);
        self.1.committed(records, took);
    }
}

/// `switchyard.stage.{stage}_us`, spelled out so no key is formatted per span.
fn stage_key(s: Stage) -> &'static str {
    match s {
        Stage::Authenticate => "switchyard.stage.authenticate_us",
        Stage::ReadBody => "switchyard.stage.read_body_us",
        Stage::Parse => "switchyard.stage.parse_us",
        Stage::Resolve => "switchyard.stage.resolve_us",
        Stage::Cache => "switchyard.stage.cache_us",
        Stage::Admit => "switchyard.stage.admit_us",
        Stage::Sample => "switchyard.stage.sample_us",
        Stage::Execute => "switchyard.stage.execute_us",
        Stage::ReadUsage => "switchyard.stage.read_usage_us",
        Stage::Settle => "switchyard.stage.settle_us",
        Stage::Render => "switchyard.stage.render_us",
        Stage::Observe => "switchyard.stage.observe_us",
        Stage::Record => "switchyard.stage.record_us",
    }
}

fn cache_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Hit => "hit",
        Outcome::SemanticHit { .. } => "hit_semantic",
        Outcome::Miss => "miss",
        Outcome::Bypass => "bypass",
    }
}

impl Gateway {
    /// The tracer, when `[telemetry]` is on and started.
    pub fn traces(&self) -> Option<&Traces> {
        self.inner.traces.as_ref()
    }

    /// A request has arrived with these W3C headers: decides whether it is traced.
    pub(crate) fn begin_trace(
        &self,
        ctx: &mut RequestContext,
        traceparent: Option<&str>,
        tracestate: Option<&str>,
    ) {
        let Some(traces) = self.traces() else { return };
        let parent = traceparent.and_then(|p| Parent::parse(p, tracestate));
        ctx.trace = traces.begin(&ctx.request_id.to_string(), parent);
    }

    /// The body, kept for content capture when that is on.
    pub(crate) fn trace_prompt(&self, ctx: &RequestContext, body: &Bytes) {
        if let (Some(note), Some(t)) = (&ctx.trace, self.traces()) {
            if t.captures_content() {
                note.set_prompt(body.clone());
            }
        }
    }

    /// What the reply tells the request's trace (stage times, cache, a whole answer).
    pub(crate) fn finish_trace(&self, ctx: &RequestContext, reply: &Result<Reply, GatewayError>) {
        let Some(note) = &ctx.trace else { return };
        let Ok(reply) = reply else {
            note.finish(Finish::default());
            return;
        };
        let meta = &reply.meta;
        let before = Stage::ALL.iter().take_while(|s| **s != Stage::Execute);
        let execute_at = before.map(|s| meta.stages.get(*s)).sum();
        let ran = meta.stages.get(Stage::Execute) > Duration::ZERO;
        note.finish(Finish {
            execute_at: ran.then_some(execute_at),
            stages: meta
                .stages
                .iter()
                .filter(|(_, d)| !d.is_zero())
                .map(|(s, d)| (stage_key(s), d))
                .collect(),
            cache: meta.cache.map(cache_name),
            answer: match &reply.body {
                ReplyBody::Full(b) => Some(b.clone()),
                ReplyBody::Stream(_) => None,
            },
        });
    }
}
