//! The outermost HTTP layer: what every answer has in common, whatever produced it.
//!
//! - While the gateway stops, every request except `/healthz` and `/readyz` gets 503 with
//!   `Retry-After` ([`refuse_when_stopping`], or the pipeline itself for model requests, which
//!   records the refusal), and every answer carries `Connection: close`, so pooled keep-alive
//!   connections leave instead of breaking later.
//! - A request target over [`MAX_URI_BYTES`] gets 414.
//! - Every error answer is JSON in the caller's dialect: an error a layer below produced
//!   without a JSON body (axum's 405, an extractor's text rejection) is re-rendered here,
//!   keeping its status and headers (`Allow`, `Retry-After`).
//!
//! The dialect follows the path: Anthropic's shape under `/v1/messages`, OpenAI's elsewhere.

use crate::{anthropic, openai};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use switchyard_gateway::{Gateway, GatewayError, RequestContext};
use switchyard_protocol::openai::ErrorBody;

/// The error shape a caller understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
}

impl Dialect {
    /// Anthropic under `/v1/messages` (and below it), OpenAI everywhere else.
    pub fn of_path(path: &str) -> Dialect {
        match path.strip_prefix("/v1/messages") {
            Some(rest) if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') => {
                Dialect::Anthropic
            }
            _ => Dialect::OpenAi,
        }
    }
}

/// A gateway error in `dialect`'s shape.
pub fn render(dialect: Dialect, e: &GatewayError) -> Response {
    let ctx = RequestContext::new(None, Vec::new());
    match dialect {
        Dialect::OpenAi => openai::render_error(&ctx, e),
        Dialect::Anthropic => anthropic::render_error(&ctx, e),
    }
}

/// The JSON error body for an answer the gateway's own errors do not model (405, 414, …).
pub fn error_json(dialect: Dialect, status: StatusCode, message: &str) -> Vec<u8> {
    match dialect {
        Dialect::Anthropic => {
            switchyard_protocol::anthropic::error::error_body(status.as_u16(), message)
        }
        Dialect::OpenAi => {
            let kind = if status.is_server_error() {
                "server_error"
            } else {
                "invalid_request_error"
            };
            ErrorBody::new(kind, Some(code_of(status)), None, message.to_string()).to_json()
        }
    }
}

/// OpenAI's `code` for an edge status.
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request",
        404 => "unknown_url",
        405 => "method_not_allowed",
        408 => "request_timeout",
        411 => "length_required",
        413 => "request_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        431 => "headers_too_large",
        503 => "unavailable",
        s if s >= 500 => "server_error",
        _ => "invalid_request",
    }
}

/// A JSON error answer with `status` and `message` in `dialect`'s shape.
pub fn error_response(dialect: Dialect, status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        error_json(dialect, status, message),
    )
        .into_response()
}

/// The longest request target (path and query) served; longer ones get 414. No endpoint
/// takes data in the query, so this is generous.
pub const MAX_URI_BYTES: usize = 16 * 1024;

/// The stop rule for one endpoint (a route layer): 503 while the gateway stops. The model
/// endpoints do not need it: the pipeline refuses them itself, and records the refusal.
pub async fn refuse_when_stopping(State(gw): State<Gateway>, req: Request, next: Next) -> Response {
    if gw.is_ready() {
        return next.run(req).await;
    }
    render(
        Dialect::of_path(req.uri().path()),
        &GatewayError::ShuttingDown,
    )
}

/// The middleware around everything: the URI limit, `Connection: close` while stopping, and
/// the JSON-errors rule above.
pub async fn guard(State(gw): State<Gateway>, req: Request, next: Next) -> Response {
    let dialect = Dialect::of_path(req.uri().path());
    if let Some(refusal) = refuse_long_target(dialect, req.uri()) {
        return refusal;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    finish(&gw, dialect, (&method, &path), resp).await
}

/// 414 for a request target (path and query) over [`MAX_URI_BYTES`].
pub fn refuse_long_target(dialect: Dialect, uri: &axum::http::Uri) -> Option<Response> {
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len());
    (target > MAX_URI_BYTES).then(|| {
        let message = format!(
            "The request target is {target} bytes, over the {MAX_URI_BYTES}-byte limit. Send the data in the request body instead."
        );
        error_response(dialect, StatusCode::URI_TOO_LONG, &message)
    })
}

/// What every answer gets on its way out, whoever produced it: a bare error re-rendered as
/// JSON in `dialect` (`request` is the method and path it names), and `Connection: close`
/// while stopping or after a refused body.
pub async fn finish(
    gw: &Gateway,
    dialect: Dialect,
    request: (&Method, &str),
    mut resp: Response,
) -> Response {
    if needs_json(&resp) {
        resp = as_json(dialect, request.0, request.1, resp).await;
    }
    // A body too slow or too large may be partly unread: the connection cannot be reused.
    let body_refused = matches!(
        resp.status(),
        StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE
    );
    if !gw.is_ready() || body_refused {
        close(&mut resp);
    }
    resp
}

fn close(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// An error answer whose body is not JSON (empty, or an extractor's plain text).
fn needs_json(resp: &Response) -> bool {
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    (status.is_client_error() || status.is_server_error()) && !json
}

/// Re-renders a bare error answer as JSON in `dialect`, keeping its status and headers.
async fn as_json(dialect: Dialect, method: &Method, path: &str, resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let message = match parts.status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("another method")
                .to_string();
            format!("{path} does not accept {method}; use {allowed}.")
        }
        status => detail(status, body).await,
    };
    let bytes = error_json(dialect, parts.status, &message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// The text a lower layer gave (bounded), or the status's own reason when it gave none.
async fn detail(status: StatusCode, body: Body) -> String {
    const MAX: usize = 512;
    let text = http_body_util::Limited::new(body, 4096)
        .collect()
        .await
        .map(|c| String::from_utf8_lossy(&c.to_bytes()).trim().to_string())
        .unwrap_or_default();
    let text: String = text.chars().take(MAX).collect();
    if text.is_empty() {
        let reason = status.canonical_reason().unwrap_or("Error");
        format!("{reason} ({}).", status.as_u16())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_paths_speak_anthropic_and_the_rest_openai() {
        assert_eq!(Dialect::of_path("/v1/messages"), Dialect::Anthropic);
        assert_eq!(
            Dialect::of_path("/v1/messages/count_tokens"),
            Dialect::Anthropic
        );
        assert_eq!(Dialect::of_path("/v1/messagesx"), Dialect::OpenAi);
        assert_eq!(Dialect::of_path("/v1/chat/completions"), Dialect::OpenAi);
        assert_eq!(Dialect::of_path("/admin/keys"), Dialect::OpenAi);
    }
}
