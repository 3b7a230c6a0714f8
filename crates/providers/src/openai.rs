//! OpenAI and every OpenAI-compatible server (Mistral, Groq, DeepSeek, Together, vLLM,
//! llama.cpp, Ollama), plus Azure OpenAI's deployment URLs and `api-key` header.
//!
//! Same dialect in and out: the client's body is re-emitted member for member with only
//! `model` rewritten and, on streams, `stream_options.include_usage` forced on.

use crate::{
    Dialect, Payload, Provider, ProviderError, ProviderKind, ProviderRequest, ProviderResponse,
    ResponseBody, SendFuture,
};
use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;
use switchyard_primitives::Secret;
use switchyard_protocol::openai::{ErrorBody, UpstreamBody};

/// Azure OpenAI specifics.
#[derive(Debug, Clone)]
pub struct AzureSettings {
    pub api_version: String,
    /// Model name → deployment name; a model without an entry uses its own name.
    pub deployments: HashMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    pub name: String,
    pub kind: ProviderKind,
    /// Up to and including `/v1` (or the Azure resource endpoint).
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub azure: Option<AzureSettings>,
    /// Extra static headers (e.g. `OpenAI-Organization`).
    pub headers: Vec<(String, String)>,
    /// Limit for a whole non-streamed answer, or for a stream's first byte.
    pub timeout: Duration,
}

pub struct OpenAiCompatible {
    s: OpenAiSettings,
    client: reqwest::Client,
    chat_url: String,
    embeddings_url: String,
}

impl OpenAiCompatible {
    pub fn new(s: OpenAiSettings, client: reqwest::Client) -> Self {
        let base = s.base_url.trim_end_matches('/');
        OpenAiCompatible {
            chat_url: format!("{base}/chat/completions"),
            embeddings_url: format!("{base}/embeddings"),
            s,
            client,
        }
    }

    fn url(&self, req: &ProviderRequest<'_>) -> String {
        let (path, plain) = match req.payload {
            Payload::Chat(_) => ("chat/completions", &self.chat_url),
            Payload::Embedding(_) => ("embeddings", &self.embeddings_url),
        };
        match &self.s.azure {
            None => plain.clone(),
            Some(az) => {
                let deployment = az
                    .deployments
                    .get(req.model)
                    .map_or(req.model, String::as_str);
                format!(
                    "{}/openai/deployments/{}/{path}?api-version={}",
                    self.s.base_url.trim_end_matches('/'),
                    deployment,
                    az.api_version
                )
            }
        }
    }

    fn body(&self, req: &ProviderRequest<'_>) -> (Vec<u8>, bool) {
        let omit_model = self.s.azure.is_some();
        match req.payload {
            Payload::Chat(c) => (
                c.upstream_body(UpstreamBody {
                    model: req.model,
                    ask_usage: true,
                    omit_model,
                }),
                c.stream,
            ),
            Payload::Embedding(e) => (e.upstream_body(req.model, omit_model), false),
        }
    }

    async fn send_inner(
        &self,
        req: ProviderRequest<'_>,
    ) -> Result<ProviderResponse, ProviderError> {
        let (body, stream) = self.body(&req);
        let mut rb = self
            .client
            .post(self.url(&req))
            .header("content-type", "application/json")
            .body(body);
        if stream {
            rb = rb.header("accept", "text/event-stream");
        } else {
            rb = rb.timeout(self.s.timeout);
        }
        if let Some(key) = &self.s.api_key {
            rb = match self.s.azure {
                Some(_) => rb.header("api-key", key.expose()),
                None => rb.bearer_auth(key.expose()),
            };
        }
        for (k, v) in &self.s.headers {
            rb = rb.header(k, v);
        }
        let resp = match tokio::time::timeout(self.s.timeout, rb.send()).await {
            Err(_) => return Err(self.timeout()),
            Ok(Err(e)) => return Err(self.transport_error(&e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !(200..300).contains(&status) {
            return Err(self.status_error(resp).await);
        }
        let body = if stream {
            let name = self.s.name.clone();
            ResponseBody::Stream(
                resp.bytes_stream()
                    .map(move |r| {
                        r.map_err(|e| ProviderError::Stream {
                            provider: name.clone(),
                            message: describe(&e),
                        })
                    })
                    .boxed(),
            )
        } else {
            ResponseBody::Full(resp.bytes().await.map_err(|e| self.transport_error(&e))?)
        };
        Ok(ProviderResponse {
            status,
            content_type,
            body,
        })
    }

    fn timeout(&self) -> ProviderError {
        ProviderError::Timeout {
            provider: self.s.name.clone(),
            after: self.s.timeout,
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> ProviderError {
        if e.is_timeout() {
            return self.timeout();
        }
        let message = describe(e);
        if e.is_body() || e.is_decode() {
            ProviderError::Stream {
                provider: self.s.name.clone(),
                message,
            }
        } else {
            ProviderError::Connect {
                provider: self.s.name.clone(),
                message,
            }
        }
    }

    async fn status_error(&self, resp: reqwest::Response) -> ProviderError {
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        // Error bodies are small; cap what is read so a hostile upstream cannot exhaust memory.
        let body = read_capped(resp, 64 * 1024).await;
        let message = serde_json::from_slice::<ErrorBody>(&body)
            .map(|b| b.error.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
        let message = match &self.s.api_key {
            Some(k) => k.scrub(&message),
            None => message,
        };
        ProviderError::Status {
            provider: self.s.name.clone(),
            status,
            retry_after,
            message: truncate(message.trim(), 300),
            body,
        }
    }
}

impl Provider for OpenAiCompatible {
    fn name(&self) -> &str {
        &self.s.name
    }

    fn kind(&self) -> ProviderKind {
        self.s.kind
    }

    fn dialect(&self) -> Dialect {
        Dialect::OpenAi
    }

    fn send<'a>(&'a self, req: ProviderRequest<'a>) -> SendFuture<'a> {
        Box::pin(self.send_inner(req))
    }
}

/// The reqwest error chain as text; URLs carry no credentials here (keys travel in headers).
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// `Retry-After` in seconds (or OpenAI's `retry-after-ms`). HTTP dates are not used by LLM APIs.
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = h
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    h.get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Bytes {
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= cap {
            break;
        }
    }
    Bytes::from(buf)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
