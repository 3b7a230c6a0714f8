//! Google's Gemini API (`generateContent`) as a provider.
//!
//! The client's request becomes canonical, then a Gemini body posted to
//! `{base}/v1beta/models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`) with
//! the key in `x-goog-api-key`. A Responses client's answer comes back untranslated
//! (`Dialect::Gemini`), for its codec to read once; any other comes back in OpenAI's shape when whole, and a
//! stream is read into canonical stream events and rendered once in the client's dialect:
//! `chat.completion.chunk` events, or Anthropic's event sequence for an Anthropic client
//! (`Dialect::Anthropic`, teed by the gateway like an Anthropic upstream's). Usage splits Gemini's inclusive
//! prompt count into uncached and cached input, and thoughts into reasoning, so the ledger
//! prices each at its own rate. Embeddings go through `:batchEmbedContents` and come back in OpenAI's
//! shape (Google reports no usage there; the gateway counts the tokens).

use crate::client::describe;
use crate::common::{error_body, fixed_headers, forward, now_secs, send_until, translate};
use crate::openai::{retry_after, truncate};
use crate::{
    Dialect, HttpClient, Payload, Provider, ProviderError, ProviderKind, ProviderRequest,
    ProviderResponse, ResponseBody, SendFuture,
};
use bytes::Bytes;
use http::Uri;
use http::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Deserialize;
use std::time::Duration;
use switchyard_primitives::Secret;
use switchyard_protocol::canonical::{self, openai_completion};
use switchyard_protocol::gemini::stream::{StreamOptions, ToAnthropic, ToOpenAi};
use switchyard_protocol::gemini::{GenerateContentRequest, parse_response};

/// The API version path this adapter speaks.
mod embed;

pub const GEMINI_API_VERSION: &str = "v1beta";

#[derive(Debug, Clone)]
pub struct GeminiSettings {
    pub name: String,
    /// Without the version path (e.g. `https://generativelanguage.googleapis.com`).
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
}

pub struct Gemini {
    pub(crate) s: GeminiSettings,
    pub(crate) client: HttpClient,
    /// `{base}/v1beta/models/`, to which `{model}:{method}` is appended per request.
    pub(crate) models_url: String,
    pub(crate) headers: HeaderMap,
}

impl Gemini {
    pub fn new(s: GeminiSettings, client: HttpClient) -> Result<Self, String> {
        let base = s
            .base_url
            .trim_end_matches('/')
            .trim_end_matches(GEMINI_API_VERSION)
            .trim_end_matches('/');
        let models_url = format!("{base}/{GEMINI_API_VERSION}/models/");
        match models_url.parse::<Uri>() {
            Ok(u) if u.scheme().is_some() && u.authority().is_some() => {}
            _ => {
                return Err(format!(
                    "base_url {:?} must be an absolute http:// or https:// URL",
                    s.base_url
                ));
            }
        }
        let headers = headers(&s)?;
        Ok(Gemini {
            s,
            client,
            models_url,
            headers,
        })
    }

    fn unsupported(&self, message: String) -> ProviderError {
        ProviderError::Unsupported {
            provider: self.s.name.clone(),
            message,
        }
    }

    /// The method URL for `model` (a leading `models/` is accepted and dropped).
    fn url(&self, model: &str, stream: bool) -> Result<Uri, ProviderError> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        format!("{}{model}:{method}", self.models_url)
            .parse::<Uri>()
            .map_err(|_| {
                self.unsupported(format!(
                    "the model name {model:?} cannot be used in a Gemini URL; check the route's target model"
                ))
            })
    }

    /// The HTTP request for a chat: canonical, then Gemini's body, posted to the model's URL.
    fn request(
        &self,
        canonical: &canonical::ChatRequest,
        model: &str,
    ) -> Result<http::Request<Full<Bytes>>, ProviderError> {
        let body = GenerateContentRequest::try_from(canonical)
            .map_err(|e| self.unsupported(e.message))?
            .to_json();
        let mut request = http::Request::post(self.url(model, canonical.stream)?)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ProviderError::Connect {
                provider: self.s.name.clone(),
                message: e.to_string(),
            })?;
        *request.headers_mut() = self.headers.clone();
        if canonical.stream {
            request
                .headers_mut()
                .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        Ok(request)
    }

    async fn send_inner(
        &self,
        req: ProviderRequest<'_>,
    ) -> Result<ProviderResponse, ProviderError> {
        if let Payload::Embedding(e) = req.payload {
            return self.embed(e, req.model).await;
        }
        let (canonical, dropped) = match req.payload.canonical(req.model, req.allow_drop) {
            None => {
                return Err(self.unsupported("this payload has no Gemini form".into()));
            }
            Some(c) => c.map_err(|e| self.unsupported(e.message))?,
        };
        let chat = &canonical;
        let request = self.request(chat, req.model)?;
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
        if let Payload::Responses(_) = req.payload {
            return self
                .untranslated(resp, chat.stream, deadline, dropped)
                .await;
        }
        if chat.stream {
            return Ok(self.stream(resp.into_body(), &req.payload, status, dropped));
        }
        let bytes = self.collect(resp, deadline).await?;
        let parsed = parse_response(&bytes).map_err(|e| ProviderError::Stream {
            provider: self.s.name.clone(),
            message: e.message,
        })?;
        Ok(ProviderResponse {
            status,
            content_type: Some("application/json".into()),
            body: ResponseBody::Full(Bytes::from(openai_completion(&parsed, created))),
            dialect: Dialect::OpenAi,
            dropped,
        })
    }

    /// A Responses client's answer as Gemini sent it (`Dialect::Gemini`): its codec reads
    /// Gemini's shape into canonical form once (`gemini::to_events` for a stream).
    async fn untranslated(
        &self,
        resp: http::Response<Incoming>,
        stream: bool,
        deadline: tokio::time::Instant,
        dropped: Vec<String>,
    ) -> Result<ProviderResponse, ProviderError> {
        let status = resp.status().as_u16();
        let (content_type, body) = if stream {
            let body = forward(resp.into_body(), self.s.name.clone());
            ("text/event-stream", ResponseBody::Stream(body))
        } else {
            let bytes = self.collect(resp, deadline).await?;
            ("application/json", ResponseBody::Full(bytes))
        };
        Ok(ProviderResponse {
            status,
            content_type: Some(content_type.into()),
            body,
            dialect: Dialect::Gemini,
            dropped,
        })
    }

    /// The stream in the client's dialect, translated once through canonical events: an
    /// Anthropic client (`Payload::Messages`) gets Anthropic's event sequence under the model
    /// name it asked for, every other client OpenAI chunks (with the usage chunk, which the
    /// gateway's tee drops when the client did not ask for it).
    fn stream(
        &self,
        body: Incoming,
        payload: &Payload<'_>,
        status: u16,
        dropped: Vec<String>,
    ) -> ProviderResponse {
        let provider = self.s.name.clone();
        let (body, dialect) = match payload {
            Payload::Messages { canonical, .. } => {
                let tr = ToAnthropic::new(Some(canonical.model.clone()));
                (translate(body, provider, tr), Dialect::Anthropic)
            }
            _ => {
                let tr = ToOpenAi::new(StreamOptions {
                    created: now_secs(),
                    include_usage: true,
                    model: None,
                });
                (translate(body, provider, tr), Dialect::OpenAi)
            }
        };
        ProviderResponse {
            status,
            content_type: Some("text/event-stream".into()),
            body: ResponseBody::Stream(body),
            dialect,
            dropped,
        }
    }

    /// A non-streamed answer's bytes, read within the deadline.
    async fn collect(
        &self,
        resp: http::Response<Incoming>,
        deadline: tokio::time::Instant,
    ) -> Result<Bytes, ProviderError> {
        match tokio::time::timeout_at(deadline, resp.into_body().collect()).await {
            Err(_) => Err(self.timeout()),
            Ok(Err(e)) => Err(ProviderError::Stream {
                provider: self.s.name.clone(),
                message: describe(&e),
            }),
            Ok(Ok(c)) => Ok(c.to_bytes()),
        }
    }

    fn timeout(&self) -> ProviderError {
        ProviderError::Timeout {
            provider: self.s.name.clone(),
            after: self.s.timeout,
        }
    }

    async fn status_error(&self, resp: http::Response<Incoming>) -> ProviderError {
        let status = resp.status().as_u16();
        let header_delay = retry_after(resp.headers());
        let body = error_body(resp.into_body()).await;
        let parsed = serde_json::from_slice::<ErrorEnvelope>(&body).ok();
        let message = parsed
            .as_ref()
            .map(|p| p.error.describe())
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        let message = match &self.s.api_key {
            Some(k) => k.scrub(&message),
            None => message,
        };
        // Google sends no Retry-After header on 429; the delay is in a RetryInfo detail.
        let retry_after =
            header_delay.or_else(|| parsed.as_ref().and_then(|p| p.error.retry_delay()));
        // Google answers a bad key with 400 INVALID_ARGUMENT; it is classified as the 401 it
        // is, so the router treats it as the gateway's credentials, not the client's request.
        let bad_key = status == 400 && parsed.is_some_and(|p| p.error.is_bad_key());
        ProviderError::Status {
            provider: self.s.name.clone(),
            status: if bad_key { 401 } else { status },
            retry_after,
            message: truncate(message.trim(), 300),
            body,
        }
    }
}

/// JSON content, the configured extras, and the key in `x-goog-api-key`.
fn headers(s: &GeminiSettings) -> Result<HeaderMap, String> {
    let key = s.api_key.as_ref().map(|k| {
        (
            HeaderName::from_static("x-goog-api-key"),
            k.expose().to_string(),
        )
    });
    fixed_headers(&s.headers, &[], key)
}

/// Google's error shape: `{"error":{"code","message","status","details"}}`.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GoogleError,
}

#[derive(Deserialize)]
struct GoogleError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorDetail {
    #[serde(default)]
    retry_delay: Option<String>,
    /// `ErrorInfo.reason`, e.g. `API_KEY_INVALID`.
    #[serde(default)]
    reason: Option<String>,
}

impl GoogleError {
    fn describe(&self) -> String {
        if self.status.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.status, self.message)
        }
    }

    fn is_bad_key(&self) -> bool {
        self.details
            .iter()
            .any(|d| d.reason.as_deref() == Some("API_KEY_INVALID"))
            || self.message.starts_with("API key not valid")
    }

    /// `RetryInfo.retryDelay`, a protobuf duration such as `"7s"` or `"1.5s"`.
    fn retry_delay(&self) -> Option<Duration> {
        let text = self.details.iter().find_map(|d| d.retry_delay.as_deref())?;
        let secs: f64 = text.strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && (0.0..=3600.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
    }
}

impl Provider for Gemini {
    fn name(&self) -> &str {
        &self.s.name
    }

    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn dialect(&self) -> Dialect {
        Dialect::Gemini
    }

    fn send<'a>(&'a self, req: ProviderRequest<'a>) -> SendFuture<'a> {
        Box::pin(self.send_inner(req))
    }

    /// batch: batch mode with inline requests (`gemini_batch.rs`).
    fn native_batch(&self) -> Option<&dyn crate::NativeBatch> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(json: &str) -> GoogleError {
        serde_json::from_str::<ErrorEnvelope>(json).unwrap().error
    }

    #[test]
    fn retry_delay_is_read_from_retry_info() {
        let e = error(
            r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota",
               "details":[{"@type":"x"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#,
        );
        assert_eq!(e.retry_delay(), Some(Duration::from_secs(7)));
        assert_eq!(e.describe(), "RESOURCE_EXHAUSTED: quota");
    }

    #[test]
    fn a_rejected_key_is_recognised_by_reason_or_message() {
        let by_reason = error(
            r#"{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"x",
               "details":[{"reason":"API_KEY_INVALID"}]}}"#,
        );
        assert!(by_reason.is_bad_key());
        assert!(
            error(r#"{"error":{"message":"API key not valid. Please pass a valid API key."}}"#)
                .is_bad_key()
        );
        assert!(!error(r#"{"error":{"message":"contents is not specified"}}"#).is_bad_key());
    }

    #[test]
    fn hostile_retry_delays_are_ignored() {
        for d in ["-1s", "1e9s", "NaNs", "7"] {
            let e = error(&format!(
                r#"{{"error":{{"message":"m","details":[{{"retryDelay":"{d}"}}]}}}}"#
            ));
            assert_eq!(e.retry_delay(), None, "{d}");
        }
    }
}
