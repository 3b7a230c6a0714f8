//! `POST /v1/messages`: clients speaking Anthropic's Messages API.
//!
//! The request is parsed into canonical types (validating it) and sent to the route's targets
//! as `Payload::Messages`, the client's raw body alongside. An Anthropic target sends the raw
//! body on with only `model` rewritten and answers untranslated (`Dialect::Anthropic`): the
//! answer is forwarded byte for byte, its usage read in passing (see `passthrough`). A Gemini
//! target's stream also arrives as `Dialect::Anthropic`: its adapter reads Gemini's chunks
//! into canonical stream events and renders them as Anthropic's events, once, so it is teed
//! like a passthrough stream. Every other answer is in OpenAI's shape, so usage, pricing, the
//! stream tee and the ledger work exactly as for OpenAI clients; only at the end is that
//! answer turned into Anthropic's shape: a Messages response, or Anthropic's event sequence
//! translated from the teed OpenAI stream, event by event (an OpenAI-dialect upstream's
//! stream is translated once too: OpenAI chunks → Anthropic events).

use super::{Codec, Shape};
use crate::answered::{Answered, Whole};
use crate::cache::{entry::Entry, replay};
use crate::error::GatewayError;
use crate::observe::{self, Dialect as EvalDialect};
use crate::passthrough::{self, AnthropicReader};
use crate::reply::ReplyBody;
use crate::reply::{Reply, RequestContext};
use crate::reserve::PromptBound;
use crate::stream::{OpenAiReader, Tee, TeeStream};
use crate::tokens;
use bytes::{Bytes, BytesMut};
use futures_util::stream::{Stream, StreamExt};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use switchyard_ledger::RecordKind;
use switchyard_primitives::TokenUsage;
use switchyard_protocol::FieldError;
use switchyard_protocol::anthropic::from_openai::{
    ToAnthropic, messages_response, parse_openai_response,
};
use switchyard_protocol::anthropic::ingress::{parse_count_request, parse_request};
use switchyard_protocol::canonical::{Block, ChatRequest, ResponseFormat};
use switchyard_protocol::openai::{completion_text, usage_of};
use switchyard_protocol::sse::{SseEvent, SseFramer};
use switchyard_providers::{Dialect, Payload, ProviderResponse, ResponseBody};

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

pub(crate) struct Messages;

impl Codec for Messages {
    const KIND: RecordKind = RecordKind::Chat;
    const OBSERVED: Option<EvalDialect> = Some(EvalDialect::Anthropic);
    type Request<'b> = ChatRequest;

    fn parse(body: &Bytes) -> Result<ChatRequest, FieldError> {
        parse_request(body)
    }

    fn model(req: &ChatRequest) -> &str {
        &req.model
    }

    fn shape(req: &ChatRequest, body_len: usize) -> Shape {
        let features = features(req);
        Shape {
            bound: PromptBound::of_canonical(body_len, req),
            max_output: req.max_tokens,
            demand: tokens::Demand {
                body_len,
                max_output: req.max_tokens,
                stream: req.stream,
                tools: !req.tools.is_empty(),
                vision: features.contains("vision"),
                json_schema: matches!(req.response_format, ResponseFormat::JsonSchema { .. }),
            },
            streamed: req.stream,
            features,
            prefix: crate::prompt_cache::canonical_prefix(req),
        }
    }

    fn prompt_tokens(req: &ChatRequest) -> u64 {
        tokens::count_canonical_prompt(req)
    }

    fn payload<'a>(req: &'a ChatRequest, body: &'a Bytes, ctx: &'a RequestContext) -> Payload<'a> {
        Payload::Messages {
            raw: body,
            canonical: req,
            beta: ctx.anthropic_beta.as_deref(),
        }
    }

    fn cache_request<'r>(
        req: &'r ChatRequest,
    ) -> Option<(Cow<'r, ChatRequest>, Option<&'r RawValue>)> {
        Some((Cow::Borrowed(req), None))
    }

    /// Reported under the name the client asked for, as a translated live answer is.
    fn replay(entry: &Entry, req: &ChatRequest, ask: replay::Ask<'_>) -> (&'static str, ReplyBody) {
        let ask = replay::Ask {
            model: &req.model,
            ..ask
        };
        if req.stream {
            let body = replay::anthropic_stream(entry, &ask);
            let once = futures_util::stream::iter([Ok(body)]);
            ("text/event-stream", ReplyBody::Stream(Box::pin(once)))
        } else {
            (
                "application/json",
                ReplyBody::Full(replay::anthropic_whole(entry, &ask)),
            )
        }
    }

    fn answer(
        a: Answered<'_>,
        req: &ChatRequest,
        response: ProviderResponse,
    ) -> Result<Reply, GatewayError> {
        match (response.dialect, response.body) {
            (Dialect::Anthropic, ResponseBody::Full(bytes)) => {
                Ok(passthrough_whole(a, req, response.content_type, bytes))
            }
            (Dialect::Anthropic, ResponseBody::Stream(s)) => Ok(a.stream(200, |setup| {
                Box::pin(Tee::new(s, AnthropicReader::default(), setup))
            })),
            (_, ResponseBody::Full(bytes)) => translate_whole(a, req, bytes),
            (_, ResponseBody::Stream(s)) => {
                let model = req.model.clone();
                Ok(a.stream(200, |setup| {
                    // Anthropic's message_delta carries the usage: keep the usage chunk.
                    let reader = OpenAiReader {
                        drop_usage_chunk: false,
                    };
                    Box::pin(AnthropicEvents {
                        inner: TeeStream::new(s, reader, setup),
                        framer: SseFramer::new(),
                        scratch: Vec::new(),
                        tr: ToAnthropic::new(Some(model)),
                        ended: false,
                    })
                }))
            }
        }
    }
}

/// `POST /v1/messages/count_tokens`: the prompt's tokens under `o200k_base`, without calling
/// any upstream.
pub(crate) fn count_tokens(body: &[u8]) -> Result<u64, FieldError> {
    parse_count_request(body).map(|req| tokens::count_canonical_prompt(&req))
}

/// An Anthropic target's whole answer, forwarded byte for byte.
fn passthrough_whole(
    mut a: Answered<'_>,
    req: &ChatRequest,
    content_type: Option<String>,
    bytes: Bytes,
) -> Reply {
    let usage = passthrough::whole_usage(req, &bytes);
    a.mark_usage_read();
    a.finish_whole(
        usage,
        Whole {
            status: 200,
            content_type: content_type.or_else(|| Some("application/json".into())),
            observed: observe::Output::Anthropic(bytes.clone()),
            body: bytes,
        },
    )
}

/// Another dialect's whole answer (in OpenAI's shape), rewritten as a Messages response.
fn translate_whole(
    mut a: Answered<'_>,
    req: &ChatRequest,
    bytes: Bytes,
) -> Result<Reply, GatewayError> {
    let usage = match usage_of(&bytes) {
        Some(u) => (u.to_tokens(), false),
        None => (
            TokenUsage {
                input: tokens::count_canonical_prompt(req),
                output: tokens::count(&completion_text(&bytes)),
                ..Default::default()
            },
            true,
        ),
    };
    a.mark_usage_read();
    let mut answer =
        parse_openai_response(&bytes).map_err(|e: FieldError| GatewayError::UpstreamFailed {
            route: a.route_name().to_string(),
            timed_out: false,
            summary: e.message,
        })?;
    answer.model = req.model.clone();
    let rendered = Bytes::from(messages_response(&answer));
    a.mark_rendered();
    Ok(a.finish_whole(
        usage,
        Whole {
            status: 200,
            content_type: Some("application/json".into()),
            observed: observe::Output::OpenAi(bytes),
            body: rendered,
        },
    ))
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
