//! Anthropic's Messages API as a provider for OpenAI-dialect clients.
//!
//! The client's OpenAI request becomes canonical, then an Anthropic body (`x-api-key`,
//! `anthropic-version`); the answer comes back in OpenAI's shape — whole, or as a stream of
//! `chat.completion.chunk` events translated incrementally from Anthropic's event sequence
//! (tool-call deltas keep their index; thinking arrives as `reasoning_content`). Usage keeps
//! cache reads and writes apart (see `canonical::PromptDetails`), so the ledger prices each at
//! its own rate.

use crate::client::describe;
use crate::openai::{retry_after, truncate};
use crate::{
    Dialect, HttpClient, Payload, Provider, ProviderError, ProviderKind, ProviderRequest,
    ProviderResponse, ResponseBody, SendFuture,
};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::Uri;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, BodyStream, Full, Limited};
use hyper::body::Incoming;
use std::time::Duration;
use switchyard_primitives::Secret;
use switchyard_protocol::anthropic::stream::{StreamOptions, ToOpenAi};
use switchyard_protocol::anthropic::{MessagesRequest, parse_response};
use switchyard_protocol::canonical::{self, openai_completion};
use switchyard_protocol::sse::SseFramer;

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
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(ANTHROPIC_VERSION),
        );
        for (k, v) in &s.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("{k:?} is not a valid header name"))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| format!("the value of header {k} is not valid"))?;
            headers.insert(name, value);
        }
        if let Some(key) = &s.api_key {
            let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
                "the API key contains characters not allowed in a header".to_string()
            })?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static("x-api-key"), value);
        }
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
        let Payload::Chat(chat) = req.payload else {
            return Err(self.unsupported(
                "Anthropic has no embeddings API; route embeddings to another provider".into(),
            ));
        };
        let mut canonical =
            canonical::ChatRequest::try_from(chat).map_err(|e| self.unsupported(e.message))?;
        canonical.model = req.model.to_string();
        let body = MessagesRequest::from(&canonical).to_json();
        let mut request = http::Request::post(self.url.clone())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ProviderError::Connect {
                provider: self.s.name.clone(),
                message: e.to_string(),
            })?;
        *request.headers_mut() = self.headers.clone();
        if chat.stream {
            request
                .headers_mut()
                .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        let deadline = tokio::time::Instant::now() + self.s.timeout;
        let resp = match tokio::time::timeout_at(deadline, self.client.send(request)).await {
            Err(_) => return Err(self.timeout()),
            Ok(Err(e)) => {
                return Err(ProviderError::Connect {
                    provider: self.s.name.clone(),
                    message: describe(&e),
                });
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.status_error(resp).await);
        }
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = if chat.stream {
            ResponseBody::Stream(translate(resp.into_body(), self.s.name.clone(), created))
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
        let capped = Limited::new(resp.into_body(), 64 * 1024).collect();
        let body = match tokio::time::timeout(Duration::from_secs(10), capped).await {
            Ok(Ok(c)) => c.to_bytes(),
            _ => Bytes::new(),
        };
        // Anthropic's shape: {"type":"error","error":{"type":…,"message":…}}.
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        let message = match &self.s.api_key {
            Some(k) => k.scrub(&message),
            None => message,
        };
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

/// Anthropic SSE in, OpenAI SSE out, event by event. Usage is always requested from the
/// translator (the gateway drops the usage chunk when the client did not ask for it).
fn translate(
    body: Incoming,
    provider: String,
    created: u64,
) -> futures_util::stream::BoxStream<'static, Result<Bytes, ProviderError>> {
    let mut framer = SseFramer::new();
    let mut tr = ToOpenAi::new(StreamOptions {
        created,
        include_usage: true,
        model: None,
    });
    let mut events = Vec::new();
    let mut done_sent = false;
    BodyStream::new(body)
        .filter_map(move |frame| {
            let item = match frame {
                Err(e) => Some(Err(ProviderError::Stream {
                    provider: provider.clone(),
                    message: describe(&e),
                })),
                Ok(f) => f.into_data().ok().and_then(|chunk| {
                    framer.push(&chunk, &mut events);
                    let mut out = BytesMut::new();
                    for ev in events.drain(..) {
                        for payload in tr.push_data(&ev.data) {
                            out.extend_from_slice(b"data: ");
                            out.extend_from_slice(payload.as_bytes());
                            out.extend_from_slice(b"\n\n");
                        }
                    }
                    if tr.is_done() && !done_sent {
                        done_sent = true;
                        out.extend_from_slice(b"data: [DONE]\n\n");
                    }
                    (!out.is_empty()).then(|| Ok(out.freeze()))
                }),
            };
            std::future::ready(item)
        })
        .boxed()
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
