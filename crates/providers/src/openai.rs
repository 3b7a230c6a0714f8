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
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
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
    /// Parsed once: URL parsing (with IDNA) costs more per request than one might think.
    chat_url: reqwest::Url,
    embeddings_url: reqwest::Url,
    /// Authentication and extra headers, built and validated once; the key is marked sensitive.
    headers: HeaderMap,
}

impl OpenAiCompatible {
    /// Fails when the base URL or a configured header is not valid.
    pub fn new(s: OpenAiSettings, client: reqwest::Client) -> Result<Self, String> {
        let base = s.base_url.trim_end_matches('/');
        let parse = |u: String| {
            reqwest::Url::parse(&u)
                .map_err(|e| format!("base_url {:?} is not a URL: {e}", s.base_url))
        };
        let chat_url = parse(format!("{base}/chat/completions"))?;
        let embeddings_url = parse(format!("{base}/embeddings"))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (k, v) in &s.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("{k:?} is not a valid header name"))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| format!("the value of header {k} is not valid"))?;
            headers.insert(name, value);
        }
        if let Some(key) = &s.api_key {
            let (name, text) = match s.azure {
                Some(_) => (HeaderName::from_static("api-key"), key.expose().to_string()),
                None => (AUTHORIZATION, format!("Bearer {}", key.expose())),
            };
            let mut value = HeaderValue::from_str(&text).map_err(|_| {
                "the API key contains characters not allowed in a header".to_string()
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(OpenAiCompatible {
            chat_url,
            embeddings_url,
            headers,
            s,
            client,
        })
    }

    fn url(&self, req: &ProviderRequest<'_>) -> Result<reqwest::Url, ProviderError> {
        let (path, plain) = match req.payload {
            Payload::Chat(_) => ("chat/completions", &self.chat_url),
            Payload::Embedding(_) => ("embeddings", &self.embeddings_url),
        };
        let Some(az) = &self.s.azure else {
            return Ok(plain.clone());
        };
        let deployment = az
            .deployments
            .get(req.model)
            .map_or(req.model, String::as_str);
        let url = format!(
            "{}/openai/deployments/{}/{path}?api-version={}",
            self.s.base_url.trim_end_matches('/'),
            deployment,
            az.api_version
        );
        reqwest::Url::parse(&url).map_err(|e| ProviderError::Connect {
            provider: self.s.name.clone(),
            message: format!("bad deployment URL: {e}"),
        })
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
            .post(self.url(&req)?)
            .headers(self.headers.clone())
            .body(body);
        if stream {
            rb = rb.header("accept", "text/event-stream");
        } else {
            rb = rb.timeout(self.s.timeout);
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
        return seconds(ms / 1000.0);
    }
    h.get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(seconds)
}

/// A hostile or broken upstream may send `inf`, `NaN` or `1e30`: clamp to a day, never panic.
fn seconds(s: f64) -> Option<Duration> {
    if !s.is_finite() || s < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(s.min(86_400.0)).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_survives_hostile_values() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "1500")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1e30")])),
            Some(Duration::from_secs(86_400))
        );
        for bad in ["inf", "NaN", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", bad)])),
                None,
                "{bad}"
            );
        }
        assert_eq!(retry_after(&headers(&[("retry-after-ms", "inf")])), None);
    }

    #[test]
    fn invalid_base_url_and_headers_are_refused_up_front() {
        let s = |base: &str, headers: Vec<(String, String)>| OpenAiSettings {
            name: "p".into(),
            kind: ProviderKind::OpenAiCompatible,
            base_url: base.into(),
            api_key: Some(Secret::new("k")),
            azure: None,
            headers,
            timeout: Duration::from_secs(1),
        };
        let client = crate::shared_client(&Default::default()).unwrap();
        assert!(OpenAiCompatible::new(s("not a url", vec![]), client.clone()).is_err());
        assert!(
            OpenAiCompatible::new(
                s("http://h/v1", vec![("bad name".into(), "v".into())]),
                client.clone()
            )
            .is_err()
        );
        let ok = OpenAiCompatible::new(
            s(
                "http://h/v1/",
                vec![("OpenAI-Organization".into(), "org".into())],
            ),
            client,
        )
        .unwrap();
        assert_eq!(ok.chat_url.as_str(), "http://h/v1/chat/completions");
        assert!(ok.headers.get(AUTHORIZATION).unwrap().is_sensitive());
    }
}
