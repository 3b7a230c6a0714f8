//! `POST /v1/messages`: clients speaking Anthropic's Messages API.
//!
//! The request is parsed into canonical types (validating it) and sent to the route's targets
//! as `Payload::Messages`, the client's raw body alongside. An Anthropic target sends the raw
//! body on with only `model` rewritten and answers untranslated (`Dialect::Anthropic`): the
//! answer is forwarded byte for byte, its usage read in passing (see `passthrough`). Every
//! other target answers in OpenAI's shape, so usage, pricing, the stream tee and the ledger
//! work exactly as for OpenAI clients; only at the end is that answer turned into Anthropic's
//! shape: a Messages response, or Anthropic's event sequence translated from the teed OpenAI
//! stream, event by event.

use crate::Admitted;
use crate::error::GatewayError;
use crate::observe::{self, Dialect as EvalDialect, Observation};
use crate::passthrough::{self, AnthropicReader};
use crate::pipeline::{Begun, Reply, ReplyBody, ReplyMeta, RequestContext};
use crate::record::{self, Outcome};
use crate::stream::{OpenAiReader, Tee, TeeSetup, TeeStream};
use crate::{Gateway, tokens};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{Stream, StreamExt};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use switchyard_catalog::ModelEntry;
use switchyard_ledger::{Record, RecordKind};
use switchyard_primitives::TokenUsage;
use switchyard_protocol::FieldError;
use switchyard_protocol::anthropic::from_openai::{
    ToAnthropic, messages_response, parse_openai_response,
};
use switchyard_protocol::anthropic::ingress::{parse_count_request, parse_request};
use switchyard_protocol::canonical::{Block, ChatRequest, ResponseFormat};
use switchyard_protocol::openai::{completion_text, usage_of};
use switchyard_protocol::sse::{SseEvent, SseFramer};
use switchyard_providers::{Dialect, Payload, ResponseBody};

/// The features a canonical request uses, as the ledger records them.
fn features(req: &ChatRequest) -> String {
    let mut f = Vec::new();
    if !req.tools.is_empty() {
        f.push("tools");
    }
    match req.response_format {
        ResponseFormat::JsonSchema { .. } => f.push("json_schema"),
        ResponseFormat::JsonObject => f.push("json_object"),
        ResponseFormat::Text => {}
    }
    if req
        .messages
        .iter()
        .flat_map(|t| &t.content)
        .any(|b| matches!(b, Block::Image { .. }))
    {
        f.push("vision");
    }
    f.join(",")
}

impl Gateway {
    /// `POST /v1/messages/count_tokens`: the prompt's tokens under `o200k_base`, without
    /// calling any upstream (an estimate for non-OpenAI models; Anthropic's own count differs
    /// by the family ratio in docs/strategy.md).
    pub fn count_tokens(&self, ctx: &RequestContext, body: &[u8]) -> Result<u64, GatewayError> {
        let req = self.parse(ctx, RecordKind::Chat, || parse_count_request(body))?;
        Ok(tokens::count_canonical_prompt(&req))
    }

    /// `POST /v1/messages` (Anthropic dialect).
    pub async fn messages(&self, ctx: &RequestContext, body: Bytes) -> Result<Reply, GatewayError> {
        let req = self.parse(ctx, RecordKind::Chat, || parse_request(&body))?;
        // Counted at most once, by whichever needs it first (the tpm limit or the fit check).
        let prompt = std::cell::OnceCell::new();
        let prompt_tokens = || *prompt.get_or_init(|| tokens::count_canonical_prompt(&req));
        let Begun {
            route,
            admitted,
            limits,
            eval,
            mut rec,
        } = self.begin(
            ctx,
            RecordKind::Chat,
            &req.model,
            crate::governance::Ask {
                prompt_tokens,
                bound: crate::reserve::PromptBound::of_canonical(body.len(), &req),
                max_output: req.max_tokens,
            },
        )?;
        rec.streamed = req.stream;
        rec.features = features(&req);
        let payload = Payload::Messages {
            raw: &body,
            canonical: &req,
            beta: ctx.anthropic_beta.as_deref(),
        };
        let needs = tokens::Demand {
            body_len: body.len(),
            max_output: req.max_tokens,
            stream: req.stream,
            tools: !req.tools.is_empty(),
            vision: rec.features.contains("vision"),
            json_schema: matches!(req.response_format, ResponseFormat::JsonSchema { .. }),
        }
        .needs(&route, prompt_tokens);
        let success = match route.execute(payload, &needs).await {
            Ok(s) => s,
            Err(ex) => return Err(self.fail(rec, &route.name, ex, ctx)),
        };
        let (target, upstream) = self.accept(&route, &success, &mut rec);
        let answered = Answered {
            ctx,
            req: &req,
            request_body: &body,
            rec,
            pricing: target.meta.pricing.clone(),
            upstream,
            admitted,
            eval,
            meta: ReplyMeta {
                route: route.name.clone(),
                provider: target.provider.name().to_string(),
                model: target.model.clone(),
                overhead: Duration::ZERO,
                cost: None,
                dropped: success.response.dropped.clone(),
                limits,
            },
        };
        let response = success.response;
        match (response.dialect, response.body) {
            (Dialect::Anthropic, ResponseBody::Full(bytes)) => {
                Ok(self.passthrough_whole(answered, response.content_type, bytes))
            }
            (Dialect::Anthropic, ResponseBody::Stream(s)) => {
                let (setup, meta) = self.tee_setup(answered);
                let tee = Tee::new(s, AnthropicReader::default(), setup);
                Ok(stream_reply(meta, Box::pin(tee)))
            }
            (_, ResponseBody::Full(bytes)) => self.translate_whole(answered, &bytes),
            (_, ResponseBody::Stream(s)) => {
                let model = req.model.clone();
                let (setup, meta) = self.tee_setup(answered);
                // Anthropic's message_delta carries the usage: keep the usage chunk.
                let reader = OpenAiReader {
                    drop_usage_chunk: false,
                };
                let events = AnthropicEvents {
                    inner: TeeStream::new(s, reader, setup),
                    framer: SseFramer::new(),
                    scratch: Vec::new(),
                    tr: ToAnthropic::new(Some(model)),
                    ended: false,
                };
                Ok(stream_reply(meta, Box::pin(events)))
            }
        }
    }

    /// An Anthropic target's whole answer, forwarded byte for byte.
    fn passthrough_whole(
        &self,
        mut a: Answered<'_>,
        content_type: Option<String>,
        bytes: Bytes,
    ) -> Reply {
        let (usage, estimated) = passthrough::whole_usage(a.req, &bytes);
        let (body, plan) = (a.request_body.clone(), a.eval.take());
        let (meta, rec) = a.complete(usage, estimated);
        if let Some(plan) = plan {
            let answer = observe::Answer {
                dialect: EvalDialect::Anthropic,
                body,
                output: observe::Output::Anthropic(bytes.clone()),
            };
            plan.finished(answer, &rec);
        }
        self.recorder().record(rec);
        Reply {
            status: 200,
            content_type: content_type.or_else(|| Some("application/json".into())),
            meta,
            body: ReplyBody::Full(bytes),
        }
    }

    /// Another dialect's whole answer (in OpenAI's shape), rewritten as a Messages response.
    fn translate_whole(&self, mut a: Answered<'_>, bytes: &[u8]) -> Result<Reply, GatewayError> {
        let (usage, estimated) = match usage_of(bytes) {
            Some(u) => (u.to_tokens(), false),
            None => (
                TokenUsage {
                    input: tokens::count_canonical_prompt(a.req),
                    output: tokens::count(&completion_text(bytes)),
                    ..Default::default()
                },
                true,
            ),
        };
        let mut answer =
            parse_openai_response(bytes).map_err(|e: FieldError| GatewayError::UpstreamFailed {
                route: a.meta.route.clone(),
                timed_out: false,
                summary: e.message,
            })?;
        answer.model = a.req.model.clone();
        let (body, plan) = (a.request_body.clone(), a.eval.take());
        let (meta, rec) = a.complete(usage, estimated);
        if let Some(plan) = plan {
            let answer = observe::Answer {
                dialect: EvalDialect::Anthropic,
                body,
                output: observe::Output::OpenAi(Bytes::copy_from_slice(bytes)),
            };
            plan.finished(answer, &rec);
        }
        self.recorder().record(rec);
        Ok(Reply {
            status: 200,
            content_type: Some("application/json".into()),
            meta,
            body: ReplyBody::Full(Bytes::from(messages_response(&answer))),
        })
    }

    /// What a stream tee needs to finish the record, and the reply's headers.
    fn tee_setup(&self, a: Answered<'_>) -> (TeeSetup, ReplyMeta) {
        let overhead = a.ctx.received.elapsed().saturating_sub(a.upstream);
        let setup = TeeSetup {
            recorder: self.recorder().clone(),
            record: a.rec,
            pricing: a.pricing,
            request_body: a.request_body.clone(),
            received: a.ctx.received,
            header_overhead: overhead,
            admitted: a.admitted,
            on_finish: crate::pipeline::on_finish(a.eval, EvalDialect::Anthropic, a.request_body),
        };
        let meta = ReplyMeta { overhead, ..a.meta };
        (setup, meta)
    }
}

/// Everything known once a target has answered, for whichever way the answer goes back.
struct Answered<'a> {
    ctx: &'a RequestContext,
    req: &'a ChatRequest,
    request_body: &'a Bytes,
    rec: Record,
    pricing: Option<Arc<ModelEntry>>,
    /// Time spent waiting on upstreams.
    upstream: Duration,
    /// The caller's budget hold, settled with the actual cost.
    admitted: Admitted,
    /// What evaluation sampled this request for.
    eval: Option<Box<dyn Observation>>,
    /// The reply's headers; overhead and cost are filled in at the end.
    meta: ReplyMeta,
}

impl Answered<'_> {
    /// Prices a whole answer's usage into the record; returns the reply's headers and the
    /// record to hand to the recorder.
    fn complete(self, usage: TokenUsage, estimated: bool) -> (ReplyMeta, Record) {
        let Answered {
            ctx,
            mut rec,
            pricing,
            upstream,
            meta,
            mut admitted,
            ..
        } = self;
        let latency = ctx.received.elapsed();
        let overhead = latency.saturating_sub(upstream);
        let priced = record::complete(
            &mut rec,
            pricing.as_deref(),
            Outcome {
                usage,
                estimated,
                latency,
                ttft: None,
                overhead,
            },
        );
        admitted.settle(priced.as_ref().map(|p| p.cost), usage.total());
        let meta = ReplyMeta {
            overhead,
            cost: priced.map(|p| p.cost),
            ..meta
        };
        (meta, rec)
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

fn stream_reply(meta: ReplyMeta, body: ByteStream) -> Reply {
    Reply {
        status: 200,
        content_type: Some("text/event-stream".into()),
        meta,
        body: ReplyBody::Stream(body),
    }
}

/// The teed OpenAI stream re-framed as Anthropic's event sequence.
struct AnthropicEvents {
    inner: TeeStream,
    framer: SseFramer,
    scratch: Vec<SseEvent>,
    tr: ToAnthropic,
    ended: bool,
}

impl Stream for AnthropicEvents {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            let frames = match this.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    this.framer.push(&chunk, &mut this.scratch);
                    let mut frames = Vec::new();
                    for ev in this.scratch.drain(..) {
                        frames.extend(this.tr.push_data(&ev.data));
                    }
                    frames
                }
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => {
                    this.ended = true;
                    this.tr.finish()
                }
            };
            if !frames.is_empty() {
                let mut out = BytesMut::new();
                for f in frames {
                    out.extend_from_slice(f.as_bytes());
                }
                return Poll::Ready(Some(Ok(out.freeze())));
            }
        }
    }
}
