//! `POST /v1/chat/completions`: OpenAI's chat dialect, forwarded losslessly; a whole answer
//! comes back as the upstream sent it, a stream through the tee with an [`OpenAiReader`].

use super::{Codec, Shape};
use crate::answered::{Answered, Whole};
use crate::cache::{entry::Entry, replay};
use crate::error::GatewayError;
use crate::observe::{self, Dialect};
use crate::reply::ReplyBody;
use crate::reply::{Reply, RequestContext};
use crate::reserve::PromptBound;
use crate::stream::{OpenAiReader, TeeStream};
use crate::tokens;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::borrow::Cow;
use switchyard_ledger::RecordKind;
use switchyard_primitives::TokenUsage;
use switchyard_protocol::openai::{ChatRequest, completion_text, usage_of};
use switchyard_protocol::{Feature, FieldError, canonical};
use switchyard_providers::{Payload, ProviderResponse, ResponseBody};

pub(crate) struct Chat;

impl Codec for Chat {
    const KIND: RecordKind = RecordKind::Chat;
    const OBSERVED: Option<Dialect> = Some(Dialect::OpenAi);
    type Request<'b> = ChatRequest<'b>;

    fn parse(body: &Bytes) -> Result<ChatRequest<'_>, FieldError> {
        ChatRequest::parse(body)
    }

    fn model<'r>(req: &'r ChatRequest<'_>) -> &'r str {
        &req.model
    }

    fn shape(req: &ChatRequest<'_>, body_len: usize) -> Shape {
        Shape {
            bound: PromptBound::of_chat(body_len, req),
            max_output: req.max_output_tokens,
            demand: tokens::Demand {
                body_len,
                max_output: req.max_output_tokens,
                stream: req.stream,
                tools: req.has_tools(),
                vision: req.features.contains(&Feature::Vision),
                json_schema: req.features.contains(&Feature::JsonSchema),
            },
            streamed: req.stream,
            features: req.features.to_csv(),
            prefix: crate::prompt_cache::openai_prefix(req),
        }
    }

    fn fingerprint(req: &ChatRequest<'_>, _: &Bytes) -> switchyard_ledger::Fingerprint {
        crate::fingerprint::of_chat(req)
    }

    fn prompt_tokens(req: &ChatRequest<'_>) -> u64 {
        tokens::count_chat_prompt(req.messages.len(), req.prompt_texts())
    }

    fn payload<'a>(req: &'a ChatRequest<'_>, _: &'a Bytes, _: &'a RequestContext) -> Payload<'a> {
        Payload::Chat(req)
    }

    fn cache_request<'r>(
        req: &'r ChatRequest<'_>,
    ) -> Option<(Cow<'r, canonical::ChatRequest>, Option<&'r RawValue>)> {
        let (c, _) = canonical::ChatRequest::from_openai(req, &[]).ok()?;
        Some((Cow::Owned(c), req.raw().get("seed")))
    }

    fn cache_plain<'r>(req: &'r ChatRequest<'_>) -> Option<crate::cache::key::Plain<'r>> {
        super::openai_plain::plain(req)
    }

    fn replay(
        entry: &Entry,
        req: &ChatRequest<'_>,
        ask: replay::Ask<'_>,
    ) -> (&'static str, ReplyBody) {
        if req.stream {
            let ask = replay::Ask {
                include_usage: req.client_wants_usage,
                ..ask
            };
            let body = replay::openai_stream(entry, &ask);
            let once = futures_util::stream::iter([Ok(body)]);
            ("text/event-stream", ReplyBody::Stream(Box::pin(once)))
        } else {
            let body = replay::openai_whole(entry, &ask);
            ("application/json", ReplyBody::Full(body))
        }
    }

    fn answer(
        mut a: Answered<'_>,
        req: &ChatRequest<'_>,
        response: ProviderResponse,
    ) -> Result<Reply, GatewayError> {
        match response.body {
            ResponseBody::Full(bytes) => {
                let usage = match usage_of(&bytes) {
                    Some(u) => (u.to_tokens(), false),
                    None => (estimate(req, &bytes), true),
                };
                a.mark_usage_read();
                Ok(a.finish_whole(
                    usage,
                    Whole {
                        status: response.status,
                        content_type: response.content_type,
                        observed: observe::Output::OpenAi(bytes.clone()),
                        body: bytes,
                    },
                ))
            }
            ResponseBody::Stream(upstream) => {
                let status = response.status;
                Ok(a.stream(status, |setup| {
                    let reader = OpenAiReader {
                        drop_usage_chunk: !req.client_wants_usage,
                    };
                    Box::pin(TeeStream::new(upstream, reader, setup))
                }))
            }
        }
    }
}

/// Usage of a whole answer whose upstream reported none.
fn estimate(req: &ChatRequest<'_>, response: &[u8]) -> TokenUsage {
    TokenUsage {
        input: tokens::count_chat_prompt(req.messages.len(), req.prompt_texts()),
        output: tokens::count(&completion_text(response)),
        ..Default::default()
    }
}
