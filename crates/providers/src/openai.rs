//! OpenAI and every OpenAI-compatible server (Mistral, Groq, DeepSeek, Together, vLLM,
//! llama.cpp, Ollama), plus Azure OpenAI's deployment URLs and `api-key` header.
//!
//! Same dialect in and out: the client's body is re-emitted member for member with only
//! `model` rewritten and, on streams, `stream_options.include_usage` forced on.

use crate::HttpClient;
use crate::common::{collect_until, error_body, error_message, fixed_headers, forward, send_until};
use crate::{
    Dialect, Payload, Provider, ProviderError, ProviderKind, ProviderRequest, ProviderResponse,
    ResponseBody, SendFuture,
};
use bytes::Bytes;
use http::Uri;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http_body_util::Full;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::time::Duration;
use switchyard_primitives::Secret;
use switchyard_protocol::openai::UpstreamBody;

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
    /// The server speaks OpenAI's Responses API (`/responses`): Responses clients are passed
    /// through to it untranslated. OpenAI's own API does; compatible servers are not assumed to.
    pub responses_api: bool,
}

pub struct OpenAiCompatible {
    pub(crate) s: OpenAiSettings,
    pub(crate) client: HttpClient,
    /// Parsed once: URL parsing (with IDNA) costs more per request than one might think.
    chat_url: Uri,
    embeddings_url: Uri,
    responses_url: Uri,
    /// Authentication and extra headers, built and validated once; the key is marked sensitive.
    pub(crate) headers: HeaderMap,
}

impl OpenAiCompatible {
    /// Fails when the base URL or a configured header is not valid.
    pub fn new(s: OpenAiSettings, client: HttpClient) -> Result<Self, String> {
        let base = s.base_url.trim_end_matches('/');
        let parse = |u: String| match u.parse::<Uri>() {
            Ok(uri) if uri.scheme().is_some() && uri.authority().is_some() => Ok(uri),
            Ok(_) => Err(format!(
                "base_url {:?} must be an absolute http:// or https:// URL",
                s.base_url
            )),
            Err(e) => Err(format!("base_url {:?} is not a URL: {e}", s.base_url)),
        };
        let chat_url = parse(format!("{base}/chat/completions"))?;
        let embeddings_url = parse(format!("{base}/embeddings"))?;
        let responses_url = parse(format!("{base}/responses"))?;
        let key = s.api_key.as_ref().map(|key| match s.azure {
            Some(_) => (HeaderName::from_static("api-key"), key.expose().to_string()),
            None => (AUTHORIZATION, format!("Bearer {}", key.expose())),
        });
        let headers = fixed_headers(&s.headers, &[], key)?;
        Ok(OpenAiCompatible {
            chat_url,
            embeddings_url,
            responses_url,
            headers,
            s,
            client,
        })
    }

    fn url(&self, req: &ProviderRequest<'_>) -> Result<Uri, ProviderError> {
        let (path, plain) = match req.payload {
            Payload::Chat(_) | Payload::Canonical(_) | Payload::Messages { .. } => {
                ("chat/completions", &self.chat_url)
            }
            Payload::Embedding(_) => ("embeddings", &self.embeddings_url),
            Payload::Responses(_) if self.s.responses_api => ("responses", &self.responses_url),
            Payload::Responses(_) => ("chat/completions", &self.chat_url),
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
        url.parse::<Uri>().map_err(|e| ProviderError::Connect {
            provider: self.s.name.clone(),
            message: format!("bad deployment URL: {e}"),
        })
    }

    /// The upstream body, whether it streams, and the features dropped to write it.
    pub(crate) fn body(
        &self,
        req: &ProviderRequest<'_>,
    ) -> Result<(Vec<u8>, bool, Vec<String>), ProviderError> {
        let omit_model = self.s.azure.is_some();
        // Only OpenAI's own API takes `prompt_cache_key`; compatible servers may refuse an
        // unknown member (Groq and Mistral do), and caching there is theirs to manage.
        let cache_key = req
            .prompt_cache
            .openai_key
            .filter(|_| self.s.kind == ProviderKind::OpenAi);
        Ok(match req.payload {
            Payload::Chat(c) => (
                c.upstream_body(UpstreamBody {
                    model: req.model,
                    ask_usage: true,
                    omit_model,
                    cache_key,
                }),
                c.stream,
                Vec::new(),
            ),
            Payload::Embedding(e) => (e.upstream_body(req.model, omit_model), false, Vec::new()),
            Payload::Responses(r) if self.s.responses_api => {
                let model = (!omit_model).then_some(req.model);
                (r.raw.with_model(model), r.canonical.stream, Vec::new())
            }
            Payload::Canonical(_) | Payload::Messages { .. } | Payload::Responses(_) => {
                let c = match req.payload.canonical(req.model, req.allow_drop) {
                    Some(Ok((c, _))) => c,
                    Some(Err(e)) => return Err(self.unsupported(e.message)),
                    None => return Err(self.unsupported("this payload has no chat form".into())),
                };
                let mut c = c;
                add_cache_key(&mut c, cache_key);
                let body = switchyard_protocol::anthropic::to_openai::openai_request(&c);
                let refused: Vec<&String> = body
                    .dropped
                    .iter()
                    .filter(|d| !req.allow_drop.iter().any(|a| a == *d || a == "*"))
                    .collect();
                if !refused.is_empty() {
                    let names: Vec<&str> = refused.iter().map(|s| s.as_str()).collect();
                    return Err(ProviderError::Unsupported {
                        provider: self.s.name.clone(),
                        message: format!(
                            "{} cannot be carried to an OpenAI-dialect target; remove them, choose another route, or let the route drop them (`allow_drop`)",
                            names.join(", ")
                        ),
                    });
                }
                (body.json, c.stream, body.dropped)
            }
        })
    }

    async fn send_inner(
        &self,
        req: ProviderRequest<'_>,
    ) -> Result<ProviderResponse, ProviderError> {
        let (body, stream, dropped) = self.body(&req)?;
        let mut request = http::Request::post(self.url(&req)?)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| self.connect_error(e.to_string()))?;
        *request.headers_mut() = self.headers.clone();
        if stream {
            request
                .headers_mut()
                .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        // The limit covers the answer's headers for a stream, the whole answer otherwise.
        let deadline = tokio::time::Instant::now() + self.s.timeout;
        let resp = send_until(
            &self.client,
            request,
            deadline,
            (&self.s.name, self.s.timeout),
        )
        .await?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !(200..300).contains(&status) {
            return Err(self.status_error(resp).await);
        }
        let body = if stream {
            ResponseBody::Stream(forward(resp.into_body(), self.s.name.clone()))
        } else {
            let limit = (self.s.name.as_str(), self.s.timeout);
            ResponseBody::Full(collect_until(resp.into_body(), deadline, limit).await?)
        };
        let dialect = match req.payload {
            Payload::Responses(_) if self.s.responses_api => Dialect::Responses,
            _ => Dialect::OpenAi,
        };
        Ok(ProviderResponse {
            status,
            content_type,
            body,
            dialect,
            dropped,
        })
    }

    fn unsupported(&self, message: String) -> ProviderError {
        ProviderError::Unsupported {
            provider: self.s.name.clone(),
            message,
        }
    }

    fn connect_error(&self, message: String) -> ProviderError {
        ProviderError::Connect {
            provider: self.s.name.clone(),
            message,
        }
    }

    async fn status_error(&self, resp: http::Response<Incoming>) -> ProviderError {
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let body = error_body(resp.into_body()).await;
        let message = error_message(&body, self.s.api_key.as_ref());
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

    /// batch: OpenAI itself has the Batch API; compatible servers and Azure are not assumed to.
    fn native_batch(&self) -> Option<&dyn crate::NativeBatch> {
        (self.s.kind == ProviderKind::OpenAi).then_some(self as &dyn crate::NativeBatch)
    }
}

/// `Retry-After` in seconds (or OpenAI's `retry-after-ms`). HTTP dates are not used by LLM APIs.
pub(crate) fn retry_after(h: &HeaderMap) -> Option<Duration> {
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

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Adds the route's `prompt_cache_key` to a translated request unless the client passed one.
fn add_cache_key(c: &mut switchyard_protocol::canonical::ChatRequest, key: Option<&str>) {
    let Some(key) = key else { return };
    if c.extra.iter().any(|(k, _)| k == "prompt_cache_key") {
        return;
    }
    if let Ok(v) = serde_json::value::to_raw_value(key) {
        c.extra.push(("prompt_cache_key".to_string(), v));
    }
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
            responses_api: false,
        };
        let client = HttpClient::new(&Default::default()).unwrap();
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
        assert_eq!(ok.chat_url.to_string(), "http://h/v1/chat/completions");
        assert!(ok.headers.get(AUTHORIZATION).unwrap().is_sensitive());
    }
}
