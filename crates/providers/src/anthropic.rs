//! Anthropic's Messages API as a provider.
//!
//! Anthropic clients (`Payload::Messages`) get a lossless passthrough: their body is re-emitted
//! member for member with only `model` rewritten (thinking signatures, `cache_control`
//! placement and fields this version does not know all survive), their `anthropic-beta`
//! header joins the configured headers, and the answer — whole or streamed — comes back
//! byte for byte, marked `Dialect::Anthropic`.
//!
//! When the route asks for prompt caching (`ProviderRequest::prompt_cache`), breakpoints are
//! added to either body where the client placed none (`anthropic::breakpoints`): spliced into
//! the passthrough body as text, set on the canonical request otherwise; one-hour breakpoints
//! bring the extended-TTL beta flag.
//!
//! Every other client's request becomes canonical, then an Anthropic body (`x-api-key`,
//! `anthropic-version`). A Responses client's answer comes back untranslated
//! (`Dialect::Anthropic`: its codec reads Anthropic's shape into canonical form once); any
//! other client's comes back in OpenAI's shape — whole, or as a stream of
//! `chat.completion.chunk` events translated incrementally from Anthropic's event sequence
//! through canonical stream events (tool-call deltas keep their index; thinking arrives as
//! `reasoning_content`). Usage keeps
//! cache reads and writes apart (see `canonical::PromptDetails`), so the ledger prices each at
//! its own rate.

use crate::common::{
    collect_until, error_body, error_message, fixed_headers, forward, now_secs, send_until,
    translate,
};
use crate::openai::{retry_after, truncate};
use crate::{
    Dialect, HttpClient, Payload, Provider, ProviderError, ProviderKind, ProviderRequest,
    ProviderResponse, ResponseBody, SendFuture,
};
use bytes::Bytes;
use http::Uri;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http_body_util::Full;
use hyper::body::Incoming;
use std::time::Duration;
use switchyard_primitives::Secret;
use switchyard_protocol::anthropic::breakpoints::{self, CacheTtl, EXTENDED_TTL_BETA};
use switchyard_protocol::anthropic::stream::{StreamOptions, ToOpenAi};
use switchyard_protocol::anthropic::{MessagesRequest, parse_response, place_raw};
use switchyard_protocol::canonical::openai_completion;
use switchyard_protocol::openai::RawObject;

/// The API version this adapter speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone)]
pub struct AnthropicSettings {
    pub name: String,
    /// Without `/v1` (e.g. `https://api.anthropic.com`).
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
}

/// One request's upstream body and how to treat its answer.
pub(crate) struct Outgoing<'a> {
    pub(crate) body: Vec<u8>,
    stream: bool,
    dropped: Vec<String>,
    /// The answer goes back untranslated (an Anthropic client's request).
    passthrough: bool,
    beta: Option<&'a str>,
    /// One-hour breakpoints were added: the extended-TTL beta flag goes with them.
    long_ttl: bool,
}

pub struct Anthropic {
    pub(crate) s: AnthropicSettings,
    pub(crate) client: HttpClient,
    /// `{base}/v1/messages`; the batch endpoints sit under it.
    pub(crate) url: Uri,
    pub(crate) headers: HeaderMap,
}

impl Anthropic {
    pub fn new(s: AnthropicSettings, client: HttpClient) -> Result<Self, String> {
        let url = format!(
            "{}/v1/messages",
            s.base_url.trim_end_matches('/').trim_end_matches("/v1")
        );
        let url: Uri = match url.parse::<Uri>() {
            Ok(u) if u.scheme().is_some() && u.authority().is_some() => u,
            _ => {
                return Err(format!(
                    "base_url {:?} must be an absolute http:// or https:// URL",
                    s.base_url
                ));
            }
        };
        let version = (
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(ANTHROPIC_VERSION),
        );
        let key = s
            .api_key
            .as_ref()
            .map(|k| (HeaderName::from_static("x-api-key"), k.expose().to_string()));
        let headers = fixed_headers(&s.headers, &[version], key)?;
        Ok(Anthropic {
            s,
            client,
            url,
            headers,
        })
    }

    fn unsupported(&self, message: String) -> ProviderError {
        ProviderError::Unsupported {
            provider: self.s.name.clone(),
            message,
        }
    }

    /// What to send for `req`. An Anthropic client's body goes on member for member with only
    /// `model` rewritten, and its answer comes back untranslated; anything else is made
    /// canonical, written as a Messages body, and answered in OpenAI's shape.
    pub(crate) fn outgoing<'a>(
        &self,
        req: &ProviderRequest<'a>,
    ) -> Result<Outgoing<'a>, ProviderError> {
        if let Payload::Messages {
            raw,
            canonical,
            beta,
        } = req.payload
        {
            let raw = RawObject::parse(raw).map_err(|e| self.unsupported(e.message))?;
            let mut body = raw.with_model(Some(req.model));
            let cache = req.prompt_cache;
            let placed = cache
                .anthropic
                .and_then(|ttl| place_raw(&body, ttl, cache.min_tokens));
            let long_ttl = placed.is_some() && cache.anthropic == Some(CacheTtl::OneHour);
            if let Some(marked) = placed {
                body = marked;
            }
            return Ok(Outgoing {
                body,
                stream: canonical.stream,
                dropped: Vec::new(),
                passthrough: true,
                beta,
                long_ttl,
            });
        }
        let (mut canonical, dropped) = match req.payload.canonical(req.model, req.allow_drop) {
            None => {
                return Err(self.unsupported(
                    "Anthropic has no embeddings API; route embeddings to another provider".into(),
                ));
            }
            Some(c) => c.map_err(|e| self.unsupported(e.message))?,
        };
        let cache = req.prompt_cache;
        let placed = cache.anthropic.map_or(0, |ttl| {
            breakpoints::place(&mut canonical, ttl, cache.min_tokens)
        });
        Ok(Outgoing {
            body: MessagesRequest::from(&canonical).to_json(),
            stream: canonical.stream,
            dropped,
            passthrough: false,
            beta: None,
            long_ttl: placed > 0 && cache.anthropic == Some(CacheTtl::OneHour),
        })
    }

    fn request(&self, out: &mut Outgoing<'_>) -> Result<http::Request<Full<Bytes>>, ProviderError> {
        let (stream, beta) = (out.stream, out.beta);
        let mut request = http::Request::post(self.url.clone())
            .body(Full::new(Bytes::from(std::mem::take(&mut out.body))))
            .map_err(|e| ProviderError::Connect {
                provider: self.s.name.clone(),
                message: e.to_string(),
            })?;
        let headers = request.headers_mut();
        *headers = self.headers.clone();
        if stream {
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        // The client's beta flags join any the config sets; an invalid value is not forwarded.
        if let Some(beta) = beta.and_then(|b| HeaderValue::from_str(b).ok()) {
            headers.append(HeaderName::from_static("anthropic-beta"), beta);
        }
        let has_ttl_beta = headers
            .get_all("anthropic-beta")
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains(EXTENDED_TTL_BETA)));
        if out.long_ttl && !has_ttl_beta {
            headers.append(
                HeaderName::from_static("anthropic-beta"),
                HeaderValue::from_static(EXTENDED_TTL_BETA),
            );
        }
        Ok(request)
    }

    async fn send_inner(
        &self,
        req: ProviderRequest<'_>,
    ) -> Result<ProviderResponse, ProviderError> {
        let mut out = self.outgoing(&req)?;
        let request = self.request(&mut out)?;
        let Outgoing {
            stream,
            dropped,
            passthrough,
            ..
        } = out;
        let deadline = tokio::time::Instant::now() + self.s.timeout;
        let limit = (self.s.name.as_str(), self.s.timeout);
        let resp = send_until(&self.client, request, deadline, limit).await?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.status_error(resp).await);
        }
        // A Responses client's answer is rendered once, by its codec, from Anthropic's own
        // shape (`anthropic::to_events` for a stream): it is not translated here.
        let untranslated = matches!(req.payload, Payload::Responses(_));
        if passthrough || untranslated {
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(ProviderResponse {
                status,
                content_type,
                body: self.untranslated(resp, stream, deadline).await?,
                dialect: Dialect::Anthropic,
                dropped,
            });
        }
        let created = now_secs();
        let body = if stream {
            let tr = ToOpenAi::new(StreamOptions {
                created,
                include_usage: true,
                model: None,
            });
            ResponseBody::Stream(translate(resp.into_body(), self.s.name.clone(), tr))
        } else {
            let bytes = collect_until(resp.into_body(), deadline, limit).await?;
            let parsed = parse_response(&bytes).map_err(|e| ProviderError::Stream {
                provider: self.s.name.clone(),
                message: e.message,
            })?;
            ResponseBody::Full(Bytes::from(openai_completion(&parsed, created)))
        };
        Ok(ProviderResponse {
            status,
            content_type: Some("application/json".into()),
            body,
            dialect: Dialect::OpenAi,
            dropped,
        })
    }

    /// The answer as Anthropic sent it: every byte, whole or as it streams.
    async fn untranslated(
        &self,
        resp: http::Response<Incoming>,
        stream: bool,
        deadline: tokio::time::Instant,
    ) -> Result<ResponseBody, ProviderError> {
        Ok(if stream {
            ResponseBody::Stream(forward(resp.into_body(), self.s.name.clone()))
        } else {
            let limit = (self.s.name.as_str(), self.s.timeout);
            ResponseBody::Full(collect_until(resp.into_body(), deadline, limit).await?)
        })
    }

    async fn status_error(&self, resp: http::Response<Incoming>) -> ProviderError {
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let body = error_body(resp.into_body()).await;
        // Anthropic's shape: {"type":"error","error":{"type":…,"message":…}}.
        let message = error_message(&body, self.s.api_key.as_ref());
        // 529 (overloaded) is Anthropic's transient 5xx.
        ProviderError::Status {
            provider: self.s.name.clone(),
            status,
            retry_after,
            message: truncate(message.trim(), 300),
            body,
        }
    }
}

impl Provider for Anthropic {
    fn name(&self) -> &str {
        &self.s.name
    }

    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn dialect(&self) -> Dialect {
        Dialect::Anthropic
    }

    fn send<'a>(&'a self, req: ProviderRequest<'a>) -> SendFuture<'a> {
        Box::pin(self.send_inner(req))
    }

    /// batch: Message Batches (`anthropic_batch.rs`).
    fn native_batch(&self) -> Option<&dyn crate::NativeBatch> {
        Some(self)
    }
}
