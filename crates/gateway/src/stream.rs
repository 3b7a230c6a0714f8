//! The stream tee: upstream SSE bytes go to the client event by event as they arrive, while
//! usage and time to first token are read in passing.
//!
//! One [`Tee`] serves every dialect the gateway forwards untranslated; an [`EventReader`]
//! knows what one dialect's events say ([`OpenAiReader`] here, `AnthropicReader` in
//! `passthrough`). Pricing and the ledger record are shared by all of them.
//!
//! Invariants:
//! - Nothing is buffered beyond one partial event; each upstream chunk's complete events are
//!   forwarded as soon as that chunk is read, byte for byte.
//! - OpenAI: the usage-only chunk the gateway asked for is dropped when the client did not ask.
//! - A broken upstream ends the stream with an error event in the client's dialect, never a
//!   silent cut.
//! - Exactly one ledger record is written: at the end, on error, or when the client goes away
//!   (the stream is dropped unfinished).

use crate::content_chunk::ContentTemplate;
use crate::deferred::Deferred;
use crate::record::{self, Outcome};
use crate::tokens;
use bytes::{Bytes, BytesMut};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use switchyard_catalog::ModelEntry;
use switchyard_ledger::{AttemptOutcome, Record, Recorder};
use switchyard_primitives::TokenUsage;
use switchyard_protocol::openai::{ChatRequest, ChunkView, ErrorBody, chunk_may_report_usage};
use switchyard_protocol::sse::{SseEvent, SseFramer};
use switchyard_providers::ProviderError;

/// Everything the tee needs to finish the record.
pub(crate) struct TeeSetup {
    pub recorder: Recorder,
    pub record: Record,
    pub pricing: Option<Arc<ModelEntry>>,
    /// The route's baseline target's price, on a cost-aware route.
    pub baseline: Option<Arc<ModelEntry>>,
    /// The client's body, re-parsed only if the upstream reports no usage.
    pub request_body: Bytes,
    pub received: Instant,
    pub header_overhead: Duration,
    /// The key's budget hold, settled with the stream's actual cost when it ends.
    pub admitted: crate::Admitted,
    /// Runs once with the finished record and the streamed answer (capture, shadow traffic).
    pub on_finish: Option<OnFinish>,
    /// A cache miss on a cache-enabled route: the events are folded into the answer as they
    /// pass, and a stream that ends complete is stored. `None` everywhere else (no work).
    pub cache: Option<crate::cache::Pending>,
    /// The request's trace: the finish reasons are read from the events as they pass and
    /// handed to it at the end. `None` (tracing off or not sampled): no work.
    pub trace: Option<Arc<switchyard_telemetry::trace::Note>>,
}

/// What a finished stream hands to evaluation: its record and its answer.
pub(crate) type OnFinish = Box<dyn FnOnce(&Record, switchyard_eval::Output) + Send>;

/// What the tee has read so far.
#[derive(Default)]
pub(crate) struct Progress {
    pub usage: Option<TokenUsage>,
    /// Output text, for an estimate when the upstream reports no usage.
    pub text: String,
    pub first_output: Option<Instant>,
    /// An error the upstream announced in the stream itself; the record says it broke.
    pub upstream_error: Option<String>,
    /// Keep the answer apart (content, and tool calls by index) for evaluation; only when
    /// this request was sampled, so the usual stream pays nothing for it.
    pub keep_answer: bool,
    pub answer: String,
    /// (name, arguments) of each streamed tool call, by index.
    pub calls: Vec<(String, String)>,
    /// The answer folded for the exact cache (cache-enabled routes only).
    fold: Option<crate::cache::entry::StreamFold>,
    /// Events after the first output that report no usage, kept undecoded: their text is
    /// only needed if the stream ends without usage, which is rare (see [`Deferred`]).
    deferred: Deferred,
    /// The stream's first plain content chunk, when every chunk's text is read (fold or
    /// kept answer): later chunks of its shape are read without a parse.
    template: Option<ContentTemplate>,
    processing: Duration,
    /// Finish reasons seen, for the trace (`Some` only when the request is traced).
    finish_reasons: Option<Vec<String>>,
}

impl Progress {
    /// The streamed answer: content and tool calls when they were kept, else the text read.
    fn output(&mut self) -> switchyard_eval::Output {
        self.deferred.decode_into(&mut self.text);
        let text = if self.answer.is_empty() && self.calls.is_empty() {
            self.text.clone()
        } else {
            self.answer.clone()
        };
        switchyard_eval::Output {
            text,
            tool_calls: self
                .calls
                .iter()
                .map(|(name, args)| {
                    let arguments = serde_json::from_str(args)
                        .unwrap_or_else(|_| serde_json::Value::String(args.clone()));
                    switchyard_eval::ToolCall::new(name.clone(), arguments)
                })
                .collect(),
        }
    }
}

/// What one dialect's stream events say.
pub(crate) trait EventReader: Send + Unpin + 'static {
    /// Reads one event into `p`; returns whether to forward it.
    fn inspect(&mut self, ev: &SseEvent, p: &mut Progress) -> bool;
    /// The frame that tells the client the stream broke after it began.
    fn error_event(&self, message: &str) -> Bytes;
    /// The events are Anthropic's (else OpenAI chunks), for the cache's fold.
    const ANTHROPIC: bool = false;
}

/// Reads OpenAI `chat.completion.chunk` events.
pub(crate) struct OpenAiReader {
    /// The client did not ask for the usage-only chunk the gateway requested.
    pub(crate) drop_usage_chunk: bool,
}

/// The tee of an OpenAI-dialect stream.
pub(crate) type TeeStream = Tee<OpenAiReader>;

pub(crate) struct Tee<R: EventReader> {
    inner: BoxStream<'static, Result<Bytes, ProviderError>>,
    reader: R,
    framer: SseFramer,
    events: Vec<SseEvent>,
    pending: Option<Bytes>,
    setup: Option<TeeSetup>,
    progress: Progress,
    ended: bool,
}

/// How the stream ended, for the record.
enum End {
    Complete,
    Broken(String),
    ClientGone,
}

impl<R: EventReader> Tee<R> {
    pub(crate) fn new(
        inner: BoxStream<'static, Result<Bytes, ProviderError>>,
        reader: R,
        setup: TeeSetup,
    ) -> Self {
        Tee {
            inner,
            reader,
            framer: SseFramer::new(),
            events: Vec::new(),
            pending: None,
            progress: Progress {
                keep_answer: setup.on_finish.is_some(),
                finish_reasons: setup.trace.as_ref().map(|_| Vec::new()),
                fold: setup
                    .cache
                    .as_ref()
                    .map(|_| crate::cache::entry::StreamFold::new(R::ANTHROPIC)),
                ..Progress::default()
            },
            setup: Some(setup),
            ended: false,
        }
    }

    /// Frames a chunk; returns the bytes to forward (complete events, minus any dropped).
    fn process(&mut self, chunk: &[u8]) -> Option<Bytes> {
        let started = Instant::now();
        self.framer.push(chunk, &mut self.events);
        let mut out = BytesMut::new();
        for ev in self.events.drain(..) {
            // Anthropic events are translated for the fold; OpenAI chunks are folded by
            // `inspect` from the one parse it makes of them.
            if R::ANTHROPIC
                && let Some(f) = &mut self.progress.fold
            {
                f.push(&ev.data);
            }
            if let Some(reasons) = &mut self.progress.finish_reasons {
                reasons.extend(crate::traces::event_finish_reasons(
                    ev.data.as_bytes(),
                    R::ANTHROPIC,
                ));
            }
            if self.reader.inspect(&ev, &mut self.progress) {
                out.extend_from_slice(&ev.raw);
            }
        }
        self.progress.processing += started.elapsed();
        (!out.is_empty()).then(|| out.freeze())
    }

    /// Prices the usage and hands the record to the recorder; only the first call does.
    fn finish(&mut self, end: End) {
        let Some(setup) = self.setup.take() else {
            return;
        };
        let TeeSetup {
            recorder,
            mut record,
            pricing,
            baseline,
            request_body,
            received,
            header_overhead,
            mut admitted,
            on_finish,
            cache,
            trace,
        } = setup;
        let (usage, estimated) = match self.progress.usage {
            Some(u) => (u, false),
            None => {
                let p = &mut self.progress;
                p.deferred.decode_into(&mut p.text);
                // A cut stream is estimated from bytes: counting it would load the
                // tokenizer's ~45 MiB the first time a client hangs up.
                let exact = !matches!(end, End::ClientGone);
                let mut u = estimate(&request_body, &p.text, exact);
                u.output += tokens::estimate(p.deferred.overflow);
                (u, true)
            }
        };
        let ttft = self
            .progress
            .first_output
            .map(|t| t.duration_since(received));
        let outcome = Outcome {
            usage,
            estimated,
            latency: received.elapsed(),
            ttft,
            overhead: header_overhead + self.progress.processing,
        };
        let priced = record::complete(&mut record, pricing.as_deref(), outcome);
        record::price_baseline(&mut record, baseline.as_deref());
        admitted.settle(priced.map(|p| p.cost), usage.total());
        let end = match (end, self.progress.upstream_error.take()) {
            (End::Complete, Some(message)) => End::Broken(message),
            (end, _) => end,
        };
        let complete = matches!(end, End::Complete);
        match end {
            End::Complete => {}
            End::Broken(message) => {
                record.error_class = Some("stream_error".into());
                if let Some(a) = record.attempts.last_mut() {
                    a.outcome = AttemptOutcome::StreamError;
                    a.error = Some(message);
                }
            }
            End::ClientGone => {
                record.error_class = Some("client_disconnected".into());
                if let Some(a) = record.attempts.last_mut() {
                    a.outcome = AttemptOutcome::Cancelled;
                }
            }
        }
        if let (true, Some(pending), Some(fold)) = (complete, cache, self.progress.fold.take()) {
            let by = (record.provider.as_deref(), record.model.as_deref());
            pending.store_stream(fold.finish(), (by.0.unwrap_or(""), by.1.unwrap_or("")));
        }
        if let Some(f) = on_finish {
            f(&record, self.progress.output());
        }
        if let (Some(note), Some(reasons)) = (trace, self.progress.finish_reasons.take()) {
            note.set_finish_reasons(reasons);
        }
        recorder.record(record);
    }
}

impl EventReader for OpenAiReader {
    fn inspect(&mut self, ev: &SseEvent, p: &mut Progress) -> bool {
        inspect(ev, p, self.drop_usage_chunk)
    }

    fn error_event(&self, message: &str) -> Bytes {
        error_event(message)
    }
}

/// Reads one event; returns whether to forward it.
///
/// Once the first output has been seen, an event that cannot report usage (a byte search,
/// [`chunk_may_report_usage`]) is not decoded: its data is deferred, decoded only if its
/// text is ever needed. A sampled request decodes every event (its answer is kept).
fn inspect(ev: &SseEvent, p: &mut Progress, drop_usage: bool) -> bool {
    if ev.data.is_empty() || ev.data == "[DONE]" {
        return true;
    }
    let reads_all = p.keep_answer || p.fold.is_some();
    if !reads_all && p.first_output.is_some() && !chunk_may_report_usage(&ev.data) {
        p.deferred.push(&ev.data);
        return true;
    }
    if let Some(text) = p.template.as_ref().and_then(|t| t.text_of(&ev.data)) {
        // What the parse below would do with a content-only chunk.
        p.text.push_str(text);
        if p.keep_answer {
            p.answer.push_str(text);
        }
        if let Some(f) = &mut p.fold {
            f.push_text(text);
        }
        return true;
    }
    let Ok(chunk) = serde_json::from_str::<ChunkView>(&ev.data) else {
        return true; // not a chunk we understand (an upstream error event, a comment): pass it on
    };
    if reads_all && p.template.is_none() {
        p.template = ContentTemplate::learn(&ev.data, &chunk);
    }
    for c in &chunk.choices {
        if let Some(d) = &c.delta {
            let before = p.text.len();
            d.append_text(&mut p.text);
            if p.first_output.is_none() && d.has_output() {
                p.first_output = Some(Instant::now());
                p.deferred.envelope = ev.data.len().saturating_sub(p.text.len() - before);
            }
            if p.keep_answer {
                keep_answer(d, p);
            }
        }
    }
    if let Some(u) = &chunk.usage {
        p.usage = Some(u.to_tokens());
    }
    if let Some(f) = &mut p.fold {
        f.push_view(&chunk);
    }
    !(drop_usage && chunk.is_usage_only())
}

/// Content into `answer`, tool-call deltas into `calls` by their index.
fn keep_answer(d: &switchyard_protocol::openai::ChunkDelta<'_>, p: &mut Progress) {
    if let Some(c) = &d.content {
        p.answer.push_str(c);
    }
    for (pos, call) in d.tool_calls.iter().flatten().enumerate() {
        let i = call.index.unwrap_or(pos);
        if i >= 128 {
            continue;
        }
        if p.calls.len() <= i {
            p.calls.resize(i + 1, (String::new(), String::new()));
        }
        if let Some(f) = &call.function {
            if let Some(n) = &f.name {
                p.calls[i].0.push_str(n);
            }
            if let Some(a) = &f.arguments {
                p.calls[i].1.push_str(a);
            }
        }
    }
}

/// The usage of a stream that reported none: counted with the tokenizer when `exact`, else
/// four bytes a token (the request body's bytes bound its prompt's).
fn estimate(request_body: &[u8], completion: &str, exact: bool) -> TokenUsage {
    if !exact {
        return TokenUsage {
            input: tokens::estimate(request_body.len() as u64),
            output: tokens::estimate(completion.len() as u64),
            ..Default::default()
        };
    }
    // The body is the client's: OpenAI's chat dialect, else Anthropic's, else Responses.
    let input = ChatRequest::parse(request_body)
        .map(|r| tokens::count_chat_prompt(r.messages.len(), r.prompt_texts()))
        .or_else(|_| {
            switchyard_protocol::anthropic::ingress::parse_request(request_body)
                .map(|c| tokens::count_canonical_prompt(&c))
        })
        .or_else(|_| {
            switchyard_protocol::responses::parse(request_body)
                .map(|r| tokens::count_canonical_prompt(&r.canonical))
        })
        .unwrap_or(0);
    TokenUsage {
        input,
        output: tokens::count(completion),
        ..Default::default()
    }
}

/// The event that tells an OpenAI client the stream failed after it began.
fn error_event(message: &str) -> Bytes {
    let body = ErrorBody::new(
        "server_error",
        Some("upstream_stream_error"),
        None,
        format!("The upstream stream broke after it began: {message}"),
    );
    let mut b = BytesMut::from(&b"data: "[..]);
    b.extend_from_slice(&body.to_json());
    b.extend_from_slice(b"\n\n");
    b.freeze()
}

impl<R: EventReader> Stream for Tee<R> {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(b) = this.pending.take() {
                return Poll::Ready(Some(Ok(b)));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match this.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.pending = this.process(&chunk),
                Poll::Ready(Some(Err(e))) => {
                    let message = e.to_string();
                    this.pending = Some(this.reader.error_event(&message));
                    this.ended = true;
                    this.finish(End::Broken(message));
                }
                Poll::Ready(None) => {
                    this.pending = this.framer.finish().map(|ev| ev.raw);
                    this.ended = true;
                    this.finish(End::Complete);
                }
            }
        }
    }
}

impl<R: EventReader> Drop for Tee<R> {
    fn drop(&mut self) {
        self.finish(End::ClientGone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::entry::StreamFold;

    fn ev(data: &str) -> SseEvent {
        SseEvent {
            raw: Bytes::from(format!("data: {data}\n\n")),
            event: None,
            data: data.to_string(),
        }
    }

    fn chunk(delta: &str, finish: &str) -> String {
        format!(
            r#"{{"choices":[{{"delta":{delta},"finish_reason":{finish},"index":0}}],"created":1,"id":"c","model":"m","object":"chat.completion.chunk","usage":null}}"#
        )
    }

    /// The stream a miss folds: role chunk, plain and escaped content, a finish, usage.
    fn stream() -> Vec<String> {
        let mut s = vec![chunk(r#"{"role":"assistant","content":""}"#, "null")];
        for t in ["Hello", ", wor", r"ld\n", "é!", r#"\"q\""#, " end"] {
            s.push(chunk(&format!(r#"{{"content":"{t}"}}"#), "null"));
        }
        s.push(chunk("{}", r#""stop""#));
        s.push(
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10}}"#
                .into(),
        );
        s
    }

    #[test]
    fn a_folded_stream_read_through_the_template_equals_one_parsed_chunk_by_chunk() {
        let mut p = Progress {
            fold: Some(StreamFold::new(false)),
            ..Progress::default()
        };
        for data in stream() {
            assert!(inspect(&ev(&data), &mut p, false));
        }
        assert!(
            p.template.is_some(),
            "learnt from the first plain content chunk"
        );
        let mut parsed = StreamFold::new(false);
        for data in stream() {
            parsed.push(&data);
        }
        let by = ("sim", "m");
        let tee = p.fold.take().unwrap().finish().finish(by).unwrap();
        let want = parsed.finish().finish(by).unwrap();
        assert_eq!(tee, want);
        assert_eq!(tee.text, "Hello, world\né!\"q\" end");
        assert_eq!(p.text, tee.text, "the tee's own text read too");
        assert_eq!(p.usage.map(|u| u.output), Some(7));
    }
}
