//! The Anthropic-compatible ingress: `POST /v1/messages`, with errors in Anthropic's shape
//! `{"type":"error","error":{"type","message"}}`.
//!
//! The key may come as `x-api-key` or `Authorization: Bearer` (the current official SDK sends
//! the latter); it is checked against the virtual keys once any exist, and never logged.

use crate::admin::presented_key;
use crate::body;
use crate::openai::{REQUEST_ID, context, put, render_reply};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use switchyard_gateway::{Endpoint, Gateway, GatewayError, Incoming, RequestContext};
use switchyard_ledger::RecordKind;
use switchyard_protocol::anthropic::error::error_body;

pub async fn messages(State(gw): State<Gateway>, headers: HeaderMap, body: Body) -> Response {
    let mut ctx = context(&headers);
    ctx.anthropic_beta = headers
        .get("anthropic-beta")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let incoming = Incoming {
        endpoint: Endpoint::Messages,
        key: presented_key(&headers),
        traceparent: crate::openai::header(&headers, "traceparent"),
        tracestate: crate::openai::header(&headers, "tracestate"),
        body: body::read(&headers, body, gw.max_body_bytes()),
    };
    match gw.serve(&mut ctx, incoming).await {
        Ok(reply) => render_reply(&ctx, reply),
        Err(e) => render_error(&ctx, &e),
    }
}

pub async fn count_tokens(State(gw): State<Gateway>, headers: HeaderMap, body: Body) -> Response {
    let mut ctx = context(&headers);
    if let Err(e) = gw.check_caller(&mut ctx, presented_key(&headers)) {
        return render_error(&ctx, &e);
    }
    let result = match body::read(&headers, body, gw.max_body_bytes()).await {
        Ok(bytes) => gw.count_tokens(&ctx, &bytes),
        Err(e) => Err(gw.reject(&ctx, RecordKind::Chat, None, e)),
    };
    match result {
        Ok(n) => crate::openai::json(StatusCode::OK, format!("{{\"input_tokens\":{n}}}")),
        Err(e) => render_error(&ctx, &e),
    }
}

/// Anthropic's error shape, with the status and the message the gateway chose.
pub fn render_error(ctx: &RequestContext, e: &GatewayError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (status, Body::from(error_body(e.status(), &e.to_string()))).into_response();
    let h = resp.headers_mut();
    put(h, "content-type", "application/json");
    put(h, REQUEST_ID, ctx.request_id.as_str());
    put(h, "request-id", ctx.request_id.as_str());
    if let Some(route) = e.route() {
        put(h, "x-switchyard-route", route);
    }
    if let Some(ra) = e.retry_after() {
        put(
            h,
            "retry-after",
            &ra.as_secs_f64().ceil().max(1.0).to_string(),
        );
    }
    resp
}
