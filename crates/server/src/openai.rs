//! The OpenAI-compatible ingress: `/v1/chat/completions`, `/v1/embeddings`, `/v1/responses`,
//! `/v1/models`, and the OpenAI error renderer.

use crate::admin::presented_key;
use crate::body;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchyard_gateway::{
    Endpoint, Gateway, GatewayError, Incoming, Reply, ReplyBody, RequestContext,
};
use switchyard_protocol::openai::ErrorBody;

pub const REQUEST_ID: &str = "x-switchyard-request-id";

/// A header's value as text, when present and ASCII.
pub(crate) fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn context(headers: &HeaderMap) -> RequestContext {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let workload = text("x-switchyard-workload").map(|w| w.chars().take(128).collect());
    let tags = text("x-switchyard-tags")
        .map(RequestContext::parse_tags)
        .unwrap_or_default();
    let mut ctx = RequestContext::new(workload, tags);
    ctx.cache = switchyard_gateway::cache::Directive::from_headers(
        text("cache-control"),
        text("x-switchyard-cache"),
    );
    ctx
}

pub async fn chat(State(gw): State<Gateway>, headers: HeaderMap, body: Body) -> Response {
    serve(&gw, Endpoint::ChatCompletions, &headers, body).await
}

pub async fn embeddings(State(gw): State<Gateway>, headers: HeaderMap, body: Body) -> Response {
    serve(&gw, Endpoint::Embeddings, &headers, body).await
}

/// `POST /v1/responses`: OpenAI's Responses API, errors in OpenAI's shape (the Responses API
/// uses the same one).
pub async fn responses(State(gw): State<Gateway>, headers: HeaderMap, body: Body) -> Response {
    serve(&gw, Endpoint::Responses, &headers, body).await
}

/// One call into the gateway's pipeline, which authenticates, reads the body and records
/// every refusal as a call to `endpoint`; the answer or error rendered in OpenAI's dialect.
async fn serve(gw: &Gateway, endpoint: Endpoint, headers: &HeaderMap, body: Body) -> Response {
    let mut ctx = context(headers);
    let incoming = Incoming {
        endpoint,
        key: presented_key(headers),
        traceparent: header(headers, "traceparent"),
        tracestate: header(headers, "tracestate"),
        body: body::read(headers, body, gw.max_body_bytes()),
    };
    let result = gw.serve(&mut ctx, incoming).await;
    render(&ctx, result)
}

pub async fn models(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    let mut ctx = context(&headers);
    if let Err(e) = gw.check_caller(&mut ctx, presented_key(&headers)) {
        return render_error(&ctx, &e);
    }
    let data: Vec<serde_json::Value> = gw
        .route_names()
        .iter()
        .map(|n| serde_json::json!({"id": n, "object": "model", "created": 0, "owned_by": "switchyard"}))
        .collect();
    json(
        StatusCode::OK,
        serde_json::json!({"object": "list", "data": data}).to_string(),
    )
}

pub async fn ready(State(gw): State<Gateway>) -> Response {
    if gw.is_ready() {
        json(StatusCode::OK, r#"{"status":"ready"}"#.to_string())
    } else {
        json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"stopping"}"#.to_string(),
        )
    }
}

pub(crate) fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn render(ctx: &RequestContext, result: Result<Reply, GatewayError>) -> Response {
    match result {
        Ok(reply) => render_reply(ctx, reply),
        Err(e) => render_error(ctx, &e),
    }
}

pub(crate) fn put(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

pub(crate) fn render_reply(ctx: &RequestContext, reply: Reply) -> Response {
    let streaming = matches!(reply.body, ReplyBody::Stream(_));
    let mut resp = match reply.body {
        ReplyBody::Full(b) => Response::new(Body::from(b)),
        ReplyBody::Stream(s) => Response::new(Body::from_stream(s)),
    };
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    let content_type = reply.content_type.as_deref().unwrap_or(if streaming {
        "text/event-stream"
    } else {
        "application/json"
    });
    put(h, "content-type", content_type);
    if streaming {
        put(h, "cache-control", "no-cache");
        put(h, "x-accel-buffering", "no");
    }
    put(h, REQUEST_ID, ctx.request_id.as_str());
    put(h, "x-switchyard-route", &reply.meta.route);
    put(h, "x-switchyard-provider", &reply.meta.provider);
    put(h, "x-switchyard-model", &reply.meta.model);
    put(
        h,
        "x-switchyard-overhead-us",
        &reply.meta.overhead.as_micros().to_string(),
    );
    if let Some(tier) = reply.meta.cascade_tier {
        put(h, "x-switchyard-cascade-tier", &tier.to_string());
    }
    if let Some(c) = reply.meta.cache {
        put(h, "x-switchyard-cache", c.as_str());
        if let Some(s) = c.similarity() {
            put(h, "x-switchyard-cache-similarity", &s);
        }
    }
    if !reply.meta.dropped.is_empty() {
        put(h, "x-switchyard-dropped", &reply.meta.dropped.join(","));
    }
    if let Some(c) = reply.meta.cost {
        put(h, "x-switchyard-cost-usd", &c.display_rounded());
    }
    let limits = &reply.meta.limits;
    if let Some(n) = limits.requests_remaining {
        put(h, "x-ratelimit-remaining-requests", &n.to_string());
    }
    if let Some(n) = limits.tokens_remaining {
        put(h, "x-ratelimit-remaining-tokens", &n.to_string());
    }
    if let Some(m) = limits.budget_remaining {
        put(h, "x-switchyard-budget-remaining-usd", &m.display_rounded());
    }
    if !limits.warnings.is_empty() {
        put(
            h,
            "x-switchyard-budget-warning",
            &limits.warnings.join("; "),
        );
    }
    resp
}

/// OpenAI's error shape: `{"error":{"message","type","param","code"}}`.
pub fn render_error(ctx: &RequestContext, e: &GatewayError) -> Response {
    let (kind, code) = e.openai_type_and_code();
    let body = ErrorBody::new(kind, code, e.param().map(str::to_string), e.to_string());
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (status, Body::from(body.to_json())).into_response();
    let h = resp.headers_mut();
    put(h, "content-type", "application/json");
    put(h, REQUEST_ID, ctx.request_id.as_str());
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
