//! What every adapter shares: fixed headers built once, bounded error-body reads, whole-body
//! reads under a deadline, same-dialect stream forwarding, and the incremental translation of a
//! foreign-dialect stream into the client's (reader → canonical events → renderer).

use crate::ProviderError;
use crate::client::describe;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, BodyStream, Limited};
use hyper::body::Incoming;
use std::time::Duration;
use switchyard_primitives::Secret;
use switchyard_protocol::canonical::translate::{Read, Render, Translator};
use switchyard_protocol::sse::SseFramer;

/// JSON content type, the configured extra headers, any fixed ones, and the key under
/// `key_header` (marked sensitive, so it never reaches a log). Fails on an invalid header.
pub(crate) fn fixed_headers(
    extra: &[(String, String)],
    fixed: &[(HeaderName, HeaderValue)],
    key: Option<(HeaderName, String)>,
) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in fixed {
        headers.insert(name.clone(), value.clone());
    }
    for (k, v) in extra {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("{k:?} is not a valid header name"))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| format!("the value of header {k} is not valid"))?;
        headers.insert(name, value);
    }
    if let Some((name, text)) = key {
        let mut value = HeaderValue::from_str(&text)
            .map_err(|_| "the API key contains characters not allowed in a header".to_string())?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(headers)
}

/// An upstream error body: at most 64 KiB, within 10 s, so a hostile or trickling upstream can
/// neither exhaust memory nor hold the request.
pub(crate) async fn error_body(body: Incoming) -> Bytes {
    match tokio::time::timeout(
        Duration::from_secs(10),
        Limited::new(body, 64 * 1024).collect(),
    )
    .await
    {
        Ok(Ok(c)) => c.to_bytes(),
        _ => Bytes::new(),
    }
}

/// `error.message` of a JSON error body (OpenAI, Anthropic and Google all nest it there), else
/// the body as text; the key scrubbed either way.
pub(crate) fn error_message(body: &[u8], key: Option<&Secret>) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    match key {
        Some(k) => k.scrub(&message),
        None => message,
    }
}

/// Sends `request` and waits for the answer's headers until `deadline`; a timeout or a
/// transport failure becomes the matching classified error for `provider`.
pub(crate) async fn send_until(
    client: &crate::HttpClient,
    request: http::Request<http_body_util::Full<Bytes>>,
    deadline: tokio::time::Instant,
    (provider, timeout): (&str, Duration),
) -> Result<http::Response<Incoming>, ProviderError> {
    match tokio::time::timeout_at(deadline, client.send(request)).await {
        Err(_) => Err(ProviderError::Timeout {
            provider: provider.to_string(),
            after: timeout,
        }),
        Ok(Err(e)) => Err(transport_error(provider, &e)),
        Ok(Ok(r)) => Ok(r),
    }
}

/// A failed send, classified by how far it got: the connector failing means nothing reached
/// the upstream (`Connect`); any later failure (a reset, or the peer closing before the
/// answer's headers) happened with the request on the wire (`Reset`).
fn transport_error(provider: &str, e: &hyper_util::client::legacy::Error) -> ProviderError {
    let provider = provider.to_string();
    let message = describe(e);
    if e.is_connect() {
        ProviderError::Connect { provider, message }
    } else {
        ProviderError::Reset { provider, message }
    }
}

/// A whole answer's body, read until `deadline`.
pub(crate) async fn collect_until(
    body: Incoming,
    deadline: tokio::time::Instant,
    (provider, timeout): (&str, Duration),
) -> Result<Bytes, ProviderError> {
    match tokio::time::timeout_at(deadline, body.collect()).await {
        Err(_) => Err(ProviderError::Timeout {
            provider: provider.to_string(),
            after: timeout,
        }),
        Ok(Err(e)) => Err(ProviderError::Stream {
            provider: provider.to_string(),
            message: describe(&e),
        }),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// A same-dialect stream: the upstream's bytes as they arrive, untouched; a transport failure
/// mid-stream becomes a classified error for the gateway's tee to report.
pub(crate) fn forward(
    body: Incoming,
    provider: String,
) -> BoxStream<'static, Result<Bytes, ProviderError>> {
    BodyStream::new(body)
        .filter_map(move |frame| {
            let item = match frame {
                Ok(f) => f.into_data().ok().map(Ok),
                Err(e) => Some(Err(ProviderError::Stream {
                    provider: provider.clone(),
                    message: describe(&e),
                })),
            };
            std::future::ready(item)
        })
        .boxed()
}

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Foreign SSE in, the client's dialect out: each upstream chunk's complete events are read
/// into canonical stream events and rendered at once (`Translator::push_framed`, which also
/// writes the dialect's end frame, OpenAI's `data: [DONE]`, after the last). An upstream that
/// ends without saying it was done is closed in the client's dialect's way
/// (`Translator::finish_framed`); a transport failure ends the stream with the error.
pub(crate) fn translate<R: Read, W: Render>(
    body: Incoming,
    provider: String,
    tr: Translator<R, W>,
) -> BoxStream<'static, Result<Bytes, ProviderError>> {
    let state = Translating {
        body: BodyStream::new(body),
        framer: SseFramer::new(),
        events: Vec::new(),
        tr,
        provider,
        ended: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        let item = s.next().await?;
        Some((item, s))
    })
    .boxed()
}

struct Translating<R, W> {
    body: BodyStream<Incoming>,
    framer: SseFramer,
    events: Vec<switchyard_protocol::sse::SseEvent>,
    tr: Translator<R, W>,
    provider: String,
    ended: bool,
}

impl<R: Read, W: Render> Translating<R, W> {
    /// The next bytes to send, `None` once the stream is over.
    async fn next(&mut self) -> Option<Result<Bytes, ProviderError>> {
        while !self.ended {
            let mut out = Vec::new();
            match self.body.next().await {
                None => {
                    self.ended = true;
                    if let Some(ev) = self.framer.finish() {
                        self.tr.push_framed(&ev.data, &mut out);
                    }
                    self.tr.finish_framed(&mut out);
                }
                Some(Err(e)) => {
                    self.ended = true;
                    return Some(Err(ProviderError::Stream {
                        provider: self.provider.clone(),
                        message: describe(&e),
                    }));
                }
                Some(Ok(frame)) => {
                    let Ok(chunk) = frame.into_data() else {
                        continue;
                    };
                    self.framer.push(&chunk, &mut self.events);
                    for ev in self.events.drain(..) {
                        self.tr.push_framed(&ev.data, &mut out);
                    }
                }
            }
            if !out.is_empty() {
                return Some(Ok(Bytes::from(out)));
            }
        }
        None
    }
}
