//! Layer 2: providers — talking to upstream model APIs over HTTP.
//!
//! Owns the [`Provider`] trait, the adapters (OpenAI and every OpenAI-compatible server,
//! Azure OpenAI, Anthropic Messages, Gemini `generateContent`), their native batch APIs
//! ([`NativeBatch`]: OpenAI, Anthropic Message Batches, Gemini batch mode), the shared HTTP
//! client, and the classified [`ProviderError`].
//! Must never know about routing, pricing, budgets or the ledger.

mod anthropic;
mod anthropic_batch;
mod batch;
mod client;
mod common;
mod error;
mod gemini;
mod gemini_batch;
mod kind;
mod openai;
mod openai_batch;

pub use anthropic::{ANTHROPIC_VERSION, Anthropic, AnthropicSettings};
pub use gemini::{GEMINI_API_VERSION, Gemini, GeminiSettings};
pub use openai::AzureSettings;

pub use batch::{BatchEndpoint, BatchFuture, BatchItem, LineResult, NativeBatch, UpstreamBatch};
pub use client::{HttpClient, HttpSettings, WholeResponse};
pub use error::{ErrorClass, ProviderError};
pub use kind::ProviderKind;
pub use openai::{OpenAiCompatible, OpenAiSettings};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::future::Future;
use std::pin::Pin;
pub use switchyard_protocol::anthropic::breakpoints::CacheTtl;
use switchyard_protocol::canonical;
use switchyard_protocol::openai::{ChatRequest, EmbeddingRequest};

/// The wire dialect a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
    Gemini,
    /// OpenAI's Responses API: only an answer's shape (a target speaking it natively answers
    /// `Payload::Responses` untranslated), never a provider's.
    Responses,
}

/// What to send: a parsed client request and the provider's name for the model.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    Chat(&'a ChatRequest<'a>),
    Embedding(&'a EmbeddingRequest<'a>),
    /// A chat from a client of another dialect (e.g. Anthropic's Messages API), already
    /// canonical. Every adapter answers it in OpenAI's shape, like `Chat`.
    Canonical(&'a canonical::ChatRequest),
    /// A chat from an Anthropic Messages client: its body as received and its canonical parse.
    /// The Anthropic adapter sends `raw` on with only `model` rewritten and answers in
    /// Anthropic's shape, untranslated (the response's `dialect` says so); every other adapter
    /// uses `canonical` exactly as for `Canonical`.
    Messages {
        raw: &'a [u8],
        canonical: &'a canonical::ChatRequest,
        /// The client's `anthropic-beta` header, forwarded on the passthrough only.
        beta: Option<&'a str>,
    },
    /// A Responses API client's request: its raw members and canonical parse. An OpenAI
    /// adapter whose server speaks the Responses API sends the raw body to `/responses` with
    /// only `model` rewritten and answers untranslated (`Dialect::Responses`); every other
    /// adapter uses the canonical form, refusing what it cannot carry
    /// (`Request::untranslatable`).
    Responses(&'a switchyard_protocol::responses::Request<'a>),
}

impl Payload<'_> {
    /// The chat as canonical types with `model` set, and the features dropped on the way;
    /// `None` for embeddings.
    pub(crate) fn canonical(
        &self,
        model: &str,
        allow_drop: &[String],
    ) -> Option<Result<(canonical::ChatRequest, Vec<String>), switchyard_protocol::FieldError>>
    {
        let (mut c, dropped) = match self {
            Payload::Chat(view) => match canonical::ChatRequest::from_openai(view, allow_drop) {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            },
            Payload::Canonical(c) | Payload::Messages { canonical: c, .. } => {
                ((*c).clone(), Vec::new())
            }
            Payload::Responses(r) => match &r.untranslatable {
                Some(e) => return Some(Err(e.clone())),
                None => (r.canonical.clone(), Vec::new()),
            },
            Payload::Embedding(_) => return None,
        };
        c.model = model.to_string();
        Some(Ok((c, dropped)))
    }
}

/// Provider prompt caching asked for by the route: breakpoints on Anthropic targets, a
/// `prompt_cache_key` on OpenAI ones. Adapters of other providers ignore it (Gemini caches
/// implicitly). `Default` asks for nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PromptCache<'a> {
    /// Anthropic targets: add `cache_control` breakpoints with this TTL where the client
    /// placed none (see `switchyard_protocol::anthropic::breakpoints`).
    pub anthropic: Option<CacheTtl>,
    /// The target model's minimum cacheable prefix, in tokens (from the catalog).
    pub min_tokens: u64,
    /// OpenAI targets: the `prompt_cache_key` to send when the client set none.
    pub openai_key: Option<&'a str>,
}

#[derive(Clone, Copy)]
pub struct ProviderRequest<'a> {
    pub payload: Payload<'a>,
    /// The upstream model name (or Azure model, mapped to its deployment by the adapter).
    pub model: &'a str,
    /// Features the route lets an adapter drop when its dialect cannot honour them
    /// (`"*"`: any); everything else is refused.
    pub allow_drop: &'a [String],
    pub prompt_cache: PromptCache<'a>,
}

/// The upstream's answer, its body either whole or as a stream of raw bytes.
pub struct ProviderResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: ResponseBody,
    /// The wire shape of `body`: `OpenAi` (every adapter translates into it), except
    /// `Anthropic` for an Anthropic target's untranslated answer to `Payload::Messages`,
    /// `Responses` for a Responses-speaking target's answer to `Payload::Responses`, and an
    /// Anthropic or Gemini target's own shape (`Anthropic`, `Gemini`) for its answer to
    /// `Payload::Responses`, which the Responses codec reads into canonical form once.
    pub dialect: Dialect,
    /// Features dropped under the route's `allow_drop`, for the client to be told.
    pub dropped: Vec<String>,
}

pub enum ResponseBody {
    Full(Bytes),
    Stream(BoxStream<'static, Result<Bytes, ProviderError>>),
}

pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ProviderResponse, ProviderError>> + Send + 'a>>;

/// An upstream model API.
///
/// `send` returns `Ok` only for a 2xx answer; every failure is classified so the router can
/// decide whether another target may be tried.
pub trait Provider: Send + Sync + 'static {
    /// The configured name (`openai`, `my-vllm`, …).
    fn name(&self) -> &str;
    fn kind(&self) -> ProviderKind;
    fn dialect(&self) -> Dialect;
    fn send<'a>(&'a self, req: ProviderRequest<'a>) -> SendFuture<'a>;

    /// The provider's native batch API, if it has one Switchyard speaks.
    fn native_batch(&self) -> Option<&dyn NativeBatch> {
        None
    }
}
