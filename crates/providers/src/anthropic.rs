//! Anthropic's Messages API as a provider for OpenAI-dialect clients.
//!
//! The client's OpenAI request becomes canonical, then an Anthropic body (`x-api-key`,
//! `anthropic-version`); the answer comes back in OpenAI's shape — whole, or as a stream of
//! `chat.completion.chunk` events translated incrementally from Anthropic's event sequence
//! (tool-call deltas keep their index; thinking arrives as `reasoning_content`). Usage keeps
//! cache reads and writes apart (see `canonical::PromptDetails`), so the ledger prices each at
//! its own rate.

use crate::client::describe;
use crate::common::{error_body, error_message, fixed_headers, now_secs, send_until, translate};
use crate::openai::{retry_after, truncate};
use crate::{
    Dialect, HttpClient, Provider, ProviderError, ProviderKind, ProviderRequest, ProviderResponse,
    ResponseBody, SendFuture,
};
use bytes::Bytes;
use http::Uri;
use http::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::time::Duration;
use switchyard_primitives::Secret;
use switchyard_protocol::anthropic::stream::{StreamOptions, ToOpenAi};
use switchyard_protocol::anthropic::{MessagesRequest, parse_response};
use switchyard_protocol::canonical::openai_completion;

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

pub struct Anthropic {
    s: AnthropicSettings,
    client: HttpClient,
    url: Uri,
    headers: HeaderMap,
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

    async fn send_inner(
        &self,
        req: ProviderRequest<'_>,
    ) -> Result<ProviderResponse, ProviderError> {
        let (canonical, dropped) = match req.payload.canonical(req.model, req.allow_drop) {
            None => {
                return Err(self.unsupported(
                    "Anthropic has no embeddings API; route embeddings to another provider".into(),
                ));
            }
            Some(c) => c.map_err(|e| self.unsupported(e.message))?,
        };
        let stream = canonical.stream;
        let body = MessagesRequest::from(&canonical).to_json();
        let mut request = http::Request::post(self.url.clone())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ProviderError::Connect {
                provider: self.s.name.clone(),
                message: e.to_string(),
            })?;
        *request.headers_mut() = self.headers.clone();
        if stream {
            request
                .headers_mut()
                .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        let deadline = tokio::time::Instant::now() + self.s.timeout;
        let resp = send_until(
            &self.client,
            request,
            deadline,
            (&self.s.name, self.s.timeout),
        )
        .await?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.status_error(resp).await);
        }
        let created = now_secs();
        let body = if stream {
            {
                let tr = ToOpenAi::new(StreamOptions {
                    created,
                    include_usage: true,
                    model: None,
                });
                ResponseBody::Stream(translate(resp.into_body(), self.s.name.clone(), tr))
            }
        } else {
            let bytes = match tokio::time::timeout_at(deadline, resp.into_body().collect()).await {
                Err(_) => return Err(self.timeout()),
                Ok(Err(e)) => {
                    return Err(ProviderError::Stream {
                        provider: self.s.name.clone(),
                        message: describe(&e),
                    });
                }
                Ok(Ok(c)) => c.to_bytes(),
            };
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
            dropped,
        })
    }

    fn timeout(&self) -> ProviderError {
        ProviderError::Timeout {
            provider: self.s.name.clone(),
            after: self.s.timeout,
        }
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
}
