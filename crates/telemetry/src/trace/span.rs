//! A request's spans, built from its ledger record and note: the server span (GenAI
//! semantic-convention attributes plus Switchyard's) and a client span per upstream attempt.
//!
//! Timing is the request's own: the server span runs from arrival (`Record::ts`) for the
//! record's wall time (`latency_ms`, to the last byte of a stream). Attempts ran one after
//! another in the execute stage; each lasts its measured time and they are laid end to end
//! from the stage's start (arrival plus the stage times before it). Without stage times (a
//! request that failed inside the pipeline) they are laid back from the request's end, where
//! the last attempt's failure ended it.

use super::{Content, Item};
use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SpanData, SpanEvents, SpanLinks};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_ledger::{Attempt, AttemptOutcome, RecordKind};

/// Attribute values longer than this are cut (captured content only).
const MAX_CONTENT_BYTES: usize = 16 * 1024;

pub(crate) struct Builder {
    content: Arc<dyn Content>,
    capture: bool,
    ids: RandomIdGenerator,
    scope: InstrumentationScope,
}

/// The GenAI `gen_ai.operation.name`: a Responses API request is a chat operation, as the
/// metrics' `gen_ai_operation_name` label counts it.
fn operation(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Chat | RecordKind::Responses => "chat",
        RecordKind::Embedding => "embeddings",
    }
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64((v.max(0.0)) / 1000.0)
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_CONTENT_BYTES {
        let mut end = MAX_CONTENT_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

impl Builder {
    pub(crate) fn new(content: Arc<dyn Content>, capture: bool) -> Self {
        Builder {
            content,
            capture,
            ids: RandomIdGenerator::default(),
            scope: InstrumentationScope::builder("switchyard")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        }
    }

    pub(crate) fn spans(&self, item: &Item) -> Vec<SpanData> {
        let r = &item.record;
        let note = &item.note;
        let start: SystemTime = r.ts.into();
        let end = start + ms(r.latency_ms);
        let state = note
            .parent
            .as_ref()
            .map(|p| p.state.clone())
            .unwrap_or_default();
        let ctx = SpanContext::new(
            note.trace_id,
            self.ids.new_span_id(),
            TraceFlags::SAMPLED,
            false,
            state.clone(),
        );
        let op = operation(r.kind);
        let mut request = SpanData {
            span_context: ctx.clone(),
            parent_span_id: note.parent.as_ref().map_or(SpanId::INVALID, |p| p.span_id),
            parent_span_is_remote: note.parent.is_some(),
            span_kind: SpanKind::Server,
            name: format!("{op} {}", r.route).into(),
            start_time: start,
            end_time: end,
            attributes: self.request_attributes(item, op),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: status(r.status, r.error_class.as_deref()),
            instrumentation_scope: self.scope.clone(),
        };
        let at = note
            .finish
            .get()
            .and_then(|f| f.execute_at)
            .map(|d| start + d);
        let laid = lay_out(&r.attempts, at, end);
        let mut spans = Vec::with_capacity(r.attempts.len() + 1);
        for (i, (a, times)) in r.attempts.iter().zip(laid).enumerate() {
            let parent = (&ctx, op);
            spans.push(self.attempt(parent, i + 1, a, times));
        }
        // The request span's end is never before its last child's.
        if let Some(last) = spans.iter().map(|s| s.end_time).max() {
            request.end_time = request.end_time.max(last);
        }
        spans.insert(0, request);
        spans
    }

    /// The client span of attempt `n`, a child of the request span `parent`.
    fn attempt(
        &self,
        (parent, op): (&SpanContext, &'static str),
        n: usize,
        a: &Attempt,
        (from, to): (SystemTime, SystemTime),
    ) -> SpanData {
        let ctx = SpanContext::new(
            parent.trace_id(),
            self.ids.new_span_id(),
            TraceFlags::SAMPLED,
            false,
            parent.trace_state().clone(),
        );
        SpanData {
            span_context: ctx,
            parent_span_id: parent.span_id(),
            parent_span_is_remote: false,
            span_kind: SpanKind::Client,
            name: format!("{op} {}", a.model).into(),
            start_time: from,
            end_time: to,
            attributes: attempt_attributes(op, n, a),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: match a.outcome {
                AttemptOutcome::Ok => Status::Unset,
                o => Status::error(o.as_str()),
            },
            instrumentation_scope: self.scope.clone(),
        }
    }

    fn request_attributes(&self, item: &Item, op: &'static str) -> Vec<KeyValue> {
        let r = &item.record;
        let mut a = vec![
            KeyValue::new("gen_ai.operation.name", op),
            KeyValue::new("gen_ai.request.model", r.route.clone()),
            KeyValue::new("switchyard.route", r.route.clone()),
            KeyValue::new("switchyard.request_id", r.request_id.clone()),
            KeyValue::new("http.response.status_code", i64::from(r.status)),
            KeyValue::new("switchyard.attempts", r.attempts.len() as i64),
            KeyValue::new("switchyard.streamed", r.streamed),
            KeyValue::new("switchyard.overhead_us", r.overhead_us as i64),
        ];
        let opt = |a: &mut Vec<KeyValue>, k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                a.push(KeyValue::new(k, v.clone()));
            }
        };
        opt(&mut a, "gen_ai.provider.name", &r.provider);
        opt(&mut a, "gen_ai.response.model", &r.model);
        opt(&mut a, "switchyard.workload", &r.workload);
        opt(&mut a, "switchyard.team", &r.team);
        opt(&mut a, "switchyard.key_id", &r.key_id);
        opt(&mut a, "error.type", &r.error_class);
        accounting(r, &mut a);
        self.reply_attributes(item, &mut a);
        a
    }

    /// What only the reply knows: the cache's answer, stage times, finish reasons, content.
    fn reply_attributes(&self, item: &Item, a: &mut Vec<KeyValue>) {
        let r = &item.record;
        let finish = item.note.finish.get();
        let cache = match (&r.cache, finish.and_then(|f| f.cache)) {
            (Some(kind), _) if kind == "semantic" => Some("hit_semantic"),
            (Some(_), _) => Some("hit"),
            (None, c) => c,
        };
        if let Some(c) = cache {
            a.push(KeyValue::new("switchyard.cache", c));
        }
        let Some(f) = finish else { return };
        for (key, took) in &f.stages {
            a.push(KeyValue::new(*key, took.as_micros() as i64));
        }
        let reasons = match (&f.answer, item.note.stream_finish.get()) {
            (Some(body), _) => self.content.finish_reasons(body),
            (None, Some(streamed)) => streamed.clone(),
            (None, None) => Vec::new(),
        };
        if !reasons.is_empty() {
            let v: Vec<StringValue> = reasons.into_iter().map(StringValue::from).collect();
            a.push(KeyValue::new(
                "gen_ai.response.finish_reasons",
                Value::Array(Array::String(v)),
            ));
        }
        if !self.capture {
            return;
        }
        if let Some(input) = item.note.prompt.get().and_then(|b| self.content.input(b)) {
            a.push(KeyValue::new("gen_ai.input.messages", cut(input)));
        }
        if let Some(output) = f.answer.as_ref().and_then(|b| self.content.output(b)) {
            a.push(KeyValue::new("gen_ai.output.messages", cut(output)));
        }
    }
}

/// Tokens, money and timing from the record.
fn accounting(r: &switchyard_ledger::Record, a: &mut Vec<KeyValue>) {
    let u = &r.usage;
    if r.provider.is_some() || r.cache.is_some() {
        a.push(KeyValue::new(
            "gen_ai.usage.input_tokens",
            u.prompt_total() as i64,
        ));
        a.push(KeyValue::new(
            "gen_ai.usage.output_tokens",
            (u.output + u.reasoning) as i64,
        ));
    }
    if let Some(c) = r.cost_usd {
        a.push(KeyValue::new(
            "switchyard.cost_usd",
            c.decimal().to_string(),
        ));
    }
    if let Some(s) = r.saved_usd {
        a.push(KeyValue::new(
            "switchyard.saved_usd",
            s.decimal().to_string(),
        ));
    }
    if let Some(t) = r.ttft_ms {
        a.push(KeyValue::new("switchyard.ttft_ms", t));
    }
    if r.shadow {
        a.push(KeyValue::new("switchyard.shadow", true));
    }
}

fn status(code: u16, error: Option<&str>) -> Status {
    if code >= 500 {
        Status::error(error.unwrap_or("error").to_string())
    } else {
        Status::Unset
    }
}

/// Each attempt's (start, end): end to end from `at`, else back from `end`.
fn lay_out(
    attempts: &[Attempt],
    at: Option<SystemTime>,
    end: SystemTime,
) -> Vec<(SystemTime, SystemTime)> {
    let took = |a: &Attempt| Duration::from_millis(a.latency_ms);
    match at {
        Some(mut t) => attempts
            .iter()
            .map(|a| {
                let span = (t, t + took(a));
                t = span.1;
                span
            })
            .collect(),
        None => {
            let mut t = end;
            let mut out: Vec<_> = attempts
                .iter()
                .rev()
                .map(|a| {
                    let from = t.checked_sub(took(a)).unwrap_or(t);
                    let span = (from, t);
                    t = from;
                    span
                })
                .collect();
            out.reverse();
            out
        }
    }
}

fn attempt_attributes(op: &'static str, n: usize, a: &Attempt) -> Vec<KeyValue> {
    let mut v = vec![
        KeyValue::new("gen_ai.operation.name", op),
        KeyValue::new("gen_ai.provider.name", a.provider.clone()),
        KeyValue::new("gen_ai.request.model", a.model.clone()),
        KeyValue::new("switchyard.attempt", n as i64),
        KeyValue::new("switchyard.attempt.outcome", a.outcome.as_str()),
    ];
    if let Some(s) = a.status {
        v.push(KeyValue::new("http.response.status_code", i64::from(s)));
    }
    if a.outcome != AttemptOutcome::Ok {
        v.push(KeyValue::new("error.type", a.outcome.as_str()));
    }
    v
}
