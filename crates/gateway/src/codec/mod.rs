//! One ingress codec per endpoint dialect: what `Pipeline::run` needs that differs between
//! `/v1/chat/completions` ([`openai::Chat`]), `/v1/embeddings` ([`embeddings::Embeddings`]),
//! `/v1/messages` ([`anthropic::Messages`]) and `/v1/responses` ([`responses::Responses`]): parse the body into the request the providers
//! take, describe what admission and the fit check need, and turn the upstream's answer into
//! the client's (a whole answer or a stream). Errors are rendered at the edge, one renderer
//! per dialect (`switchyard-server`), from the same [`GatewayError`].
//!
//! Must never know the stage order or the ledger; it calls back into [`Answered`] for the
//! shared stages (price, settle, observe, record).

pub(crate) mod anthropic;
pub(crate) mod embeddings;
pub(crate) mod openai;
mod openai_plain;
pub(crate) mod responses;
mod responses_stream;

use crate::answered::Answered;
use crate::cache::{entry::Entry, replay};
use crate::error::GatewayError;
use crate::observe::Dialect;
use crate::reply::{Reply, ReplyBody, RequestContext};
use crate::reserve::PromptBound;
use crate::tokens;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::borrow::Cow;
use switchyard_ledger::RecordKind;
use switchyard_protocol::FieldError;
use switchyard_protocol::canonical::ChatRequest;
use switchyard_providers::{Payload, ProviderResponse};

/// What admission and the router need to know about a parsed request.
pub(crate) struct Shape {
    /// The upper bound on the prompt's tokens that budgets reserve against.
    pub bound: PromptBound,
    /// The client's output limit, if it set one.
    pub max_output: Option<u64>,
    /// What the fit check asks of each target.
    pub demand: tokens::Demand,
    pub streamed: bool,
    /// The features the ledger records (`tools,vision,…`).
    pub features: String,
    /// The fingerprint of the stable prefix (system prompt and tools), for the ledger.
    pub prefix: Option<switchyard_ledger::PromptPrefix>,
}

/// An endpoint's dialect at the gateway's edge.
pub(crate) trait Codec: 'static {
    /// What the ledger records the request as.
    const KIND: RecordKind;
    /// The dialect an observer sees the request in; `None`: never observed.
    const OBSERVED: Option<Dialect>;
    /// The parsed request, borrowing the body where it can.
    type Request<'b>;

    fn parse(body: &Bytes) -> Result<Self::Request<'_>, FieldError>;
    /// The route the client asked for.
    fn model<'r>(req: &'r Self::Request<'_>) -> &'r str;
    fn shape(req: &Self::Request<'_>, body_len: usize) -> Shape;
    /// What the ledger's duplicate finder compares (`crate::fingerprint`): by default the
    /// body as sent.
    fn fingerprint(_req: &Self::Request<'_>, body: &Bytes) -> switchyard_ledger::Fingerprint {
        crate::fingerprint::of_body(body)
    }
    /// The prompt's exact tokens (the `tpm` limit); called at most once, only when needed.
    fn prompt_tokens(req: &Self::Request<'_>) -> u64;
    /// The tokens the fit check compares with each target's window (`prompt` is the memoised
    /// [`Codec::prompt_tokens`]).
    fn fit_tokens(_req: &Self::Request<'_>, prompt: &dyn Fn() -> u64) -> u64 {
        prompt()
    }
    fn payload<'a>(
        req: &'a Self::Request<'_>,
        body: &'a Bytes,
        ctx: &'a RequestContext,
    ) -> Payload<'a>;
    /// The request as the exact cache keys it: canonical, plus OpenAI's `seed`, which the
    /// canonical form does not carry. `None`: not cacheable (this endpoint, or a feature the
    /// canonical form cannot express). Only called on cache-enabled routes.
    fn cache_request<'r>(
        _req: &'r Self::Request<'_>,
    ) -> Option<(Cow<'r, ChatRequest>, Option<&'r RawValue>)> {
        None
    }
    /// The request as the exact cache keys it without a canonical copy of the prompt, when
    /// its conversation is plain text ([`crate::cache::key::Talk::Plain`]); `None`: use
    /// [`Codec::cache_request`]. The key is the same either way. Only called on cache-enabled
    /// routes without a semantic cache (which reads the canonical turns).
    fn cache_plain<'r>(_req: &'r Self::Request<'_>) -> Option<crate::cache::key::Plain<'r>> {
        None
    }
    /// A stored answer as this endpoint's client wants it: content type and body.
    fn replay(
        entry: &Entry,
        _req: &Self::Request<'_>,
        ask: replay::Ask<'_>,
    ) -> (&'static str, ReplyBody) {
        let body = replay::openai_whole(entry, &ask);
        ("application/json", ReplyBody::Full(body))
    }
    /// The upstream's answer as the client's: read usage, render, and finish the record
    /// through `a`.
    fn answer(
        a: Answered<'_>,
        req: &Self::Request<'_>,
        response: ProviderResponse,
    ) -> Result<Reply, GatewayError>;
}
