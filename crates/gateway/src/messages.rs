//! `POST /v1/messages`: clients speaking Anthropic's Messages API.
//!
//! The request is parsed into canonical types and sent to the route's targets as
//! `Payload::Canonical`; every adapter answers in OpenAI's shape, so usage, pricing, the stream
//! tee and the ledger work exactly as for OpenAI clients. Only at the end is the answer turned
//! into Anthropic's shape: a Messages response, or Anthropic's event sequence translated from
//! the teed OpenAI stream, event by event.

use crate::error::GatewayError;
use crate::pipeline::{KeyLimits, Reply, ReplyBody, ReplyMeta, RequestContext};
use crate::record::{self, Outcome};
use crate::stream::{TeeSetup, TeeStream};
use crate::{Gateway, tokens};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{Stream, StreamExt};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use switchyard_ledger::RecordKind;
use switchyard_primitives::TokenUsage;
use switchyard_protocol::FieldError;
use switchyard_protocol::anthropic::from_openai::{
    ToAnthropic, messages_response, parse_openai_response,
};
use switchyard_protocol::anthropic::ingress::parse_request;
use switchyard_protocol::canonical::{Block, ChatRequest, ResponseFormat};
use switchyard_protocol::openai::{completion_text, usage_of};
use switchyard_protocol::sse::{SseEvent, SseFramer};
use switchyard_providers::{Payload, ResponseBody};

/// count_tokens bodies carry no `max_tokens`; the Messages validation requires it.
fn parse_request_for_count(body: &[u8]) -> Result<ChatRequest, FieldError> {
    let mut v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| FieldError::body(format!("The request body is not valid JSON: {e}.")))?;
    if let Some(o) = v.as_object_mut() {
        o.entry("max_tokens").or_insert(serde_json::json!(1));
    }
    parse_request(v.to_string().as_bytes())
}

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
        let req = parse_request_for_count(body).map_err(|e| {
            self.reject(ctx, RecordKind::Chat, None, GatewayError::InvalidRequest(e))
        })?;
        Ok(tokens::count_canonical_prompt(&req))
    }

    /// `POST /v1/messages` (Anthropic dialect).
    pub async fn messages(&self, ctx: &RequestContext, body: Bytes) -> Result<Reply, GatewayError> {
        let req = match parse_request(&body) {
            Ok(r) => r,
            Err(e) => {
                return Err(self.reject(
                    ctx,
                    RecordKind::Chat,
                    None,
                    GatewayError::InvalidRequest(e),
                ));
            }
        };
        let route = self.resolve(ctx, RecordKind::Chat, &req.model)?;
        let mut admitted = self.admit(
            ctx,
            RecordKind::Chat,
            &route,
            || tokens::count_canonical_prompt(&req),
            req.max_tokens,
        )?;
        let limits = KeyLimits::of(&admitted);
        let mut rec = self.draft(ctx, &route, RecordKind::Chat);
        rec.streamed = req.stream;
        rec.features = features(&req);
        let needs = tokens::Demand {
            body_len: body.len(),
            max_output: req.max_tokens,
            stream: req.stream,
            tools: !req.tools.is_empty(),
            vision: rec.features.contains("vision"),
            json_schema: matches!(req.response_format, ResponseFormat::JsonSchema { .. }),
        }
        .needs(&route, || tokens::count_canonical_prompt(&req));
        let success = match route.execute(Payload::Canonical(&req), &needs).await {
            Ok(s) => s,
            Err(ex) => return Err(self.fail(rec, &route.name, ex, ctx)),
        };
        let (target, upstream) = self.accept(&route, &success, &mut rec);
        let dropped = success.response.dropped.clone();
        let meta = |overhead, cost| ReplyMeta {
            route: route.name.clone(),
            provider: target.provider.name().to_string(),
            model: target.model.clone(),
            overhead,
            cost,
            dropped: dropped.clone(),
            limits: limits.clone(),
        };
        match success.response.body {
            ResponseBody::Full(bytes) => {
                let (usage, estimated) = match usage_of(&bytes) {
                    Some(u) => (u.to_tokens(), false),
                    None => (
                        TokenUsage {
                            input: tokens::count_canonical_prompt(&req),
                            output: tokens::count(&completion_text(&bytes)),
                            ..Default::default()
                        },
                        true,
                    ),
                };
                let mut answer = parse_openai_response(&bytes).map_err(|e: FieldError| {
                    GatewayError::UpstreamFailed {
                        route: route.name.clone(),
                        timed_out: false,
                        summary: e.message,
                    }
                })?;
                answer.model = req.model.clone();
                let latency = ctx.received.elapsed();
                let overhead = latency.saturating_sub(upstream);
                let priced = record::complete(
                    &mut rec,
                    target.meta.pricing.as_deref(),
                    Outcome {
                        usage,
                        estimated,
                        latency,
                        ttft: None,
                        overhead,
                    },
                );
                admitted.settle(priced.as_ref().map(|p| p.cost), usage.total());
                let reply_meta = meta(overhead, priced.map(|p| p.cost));
                self.recorder().record(rec);
                Ok(Reply {
                    status: 200,
                    content_type: Some("application/json".into()),
                    meta: reply_meta,
                    body: ReplyBody::Full(Bytes::from(messages_response(&answer))),
                })
            }
            ResponseBody::Stream(upstream_stream) => {
                let overhead = ctx.received.elapsed().saturating_sub(upstream);
                let tee = TeeStream::new(
                    upstream_stream,
                    TeeSetup {
                        recorder: self.recorder().clone(),
                        record: rec,
                        pricing: target.meta.pricing.clone(),
                        // Anthropic's message_delta carries the usage: keep the usage chunk.
                        drop_usage_chunk: false,
                        request_body: body.clone(),
                        received: ctx.received,
                        header_overhead: overhead,
                        admitted,
                    },
                );
                let events = AnthropicEvents {
                    inner: tee,
                    framer: SseFramer::new(),
                    scratch: Vec::new(),
                    tr: ToAnthropic::new(Some(req.model.clone())),
                    ended: false,
                };
                Ok(Reply {
                    status: 200,
                    content_type: Some("text/event-stream".into()),
                    meta: meta(overhead, None),
                    body: ReplyBody::Stream(Box::pin(events)),
                })
            }
        }
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
