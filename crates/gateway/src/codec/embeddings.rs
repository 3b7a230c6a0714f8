//! `POST /v1/embeddings`: OpenAI's embeddings dialect; always a whole answer, never observed.

use super::{Codec, Shape};
use crate::answered::{Answered, Whole};
use crate::error::GatewayError;
use crate::observe::{self, Dialect};
use crate::reply::{Reply, RequestContext};
use crate::reserve::PromptBound;
use crate::tokens;
use bytes::Bytes;
use switchyard_ledger::RecordKind;
use switchyard_primitives::TokenUsage;
use switchyard_protocol::FieldError;
use switchyard_protocol::openai::{EmbeddingRequest, usage_of};
use switchyard_providers::{Payload, ProviderResponse, ResponseBody};

pub(crate) struct Embeddings;

impl Codec for Embeddings {
    const KIND: RecordKind = RecordKind::Embedding;
    const OBSERVED: Option<Dialect> = None;
    type Request<'b> = EmbeddingRequest<'b>;

    fn parse(body: &Bytes) -> Result<EmbeddingRequest<'_>, FieldError> {
        EmbeddingRequest::parse(body)
    }

    fn model<'r>(req: &'r EmbeddingRequest<'_>) -> &'r str {
        &req.model
    }

    fn shape(_: &EmbeddingRequest<'_>, body_len: usize) -> Shape {
        Shape {
            bound: PromptBound::of_bytes(body_len),
            max_output: Some(0),
            demand: tokens::Demand {
                body_len,
                max_output: None,
                stream: false,
                tools: false,
                vision: false,
                json_schema: false,
            },
            streamed: false,
            features: String::new(),
            prefix: None,
        }
    }

    fn prompt_tokens(req: &EmbeddingRequest<'_>) -> u64 {
        req.texts.iter().map(|t| tokens::count(t)).sum::<u64>() + req.pretokenized
    }

    /// Each input is embedded on its own: the longest must fit the window.
    fn fit_tokens(req: &EmbeddingRequest<'_>, _: &dyn Fn() -> u64) -> u64 {
        req.texts
            .iter()
            .map(|t| tokens::count(t))
            .max()
            .unwrap_or(0)
    }

    fn payload<'a>(
        req: &'a EmbeddingRequest<'_>,
        _: &'a Bytes,
        _: &'a RequestContext,
    ) -> Payload<'a> {
        Payload::Embedding(req)
    }

    fn answer(
        mut a: Answered<'_>,
        req: &EmbeddingRequest<'_>,
        response: ProviderResponse,
    ) -> Result<Reply, GatewayError> {
        let ResponseBody::Full(bytes) = response.body else {
            return Err(a.refuse("the upstream streamed an embeddings answer"));
        };
        let usage = match usage_of(&bytes) {
            Some(u) => (u.to_tokens(), false),
            None => {
                let input = Self::prompt_tokens(req);
                let usage = TokenUsage {
                    input,
                    ..Default::default()
                };
                (usage, true)
            }
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
}
