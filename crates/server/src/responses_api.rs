//! The Responses API's stored-response endpoints: `GET`/`DELETE /v1/responses/{id}`,
//! `GET /v1/responses/{id}/input_items`, `POST /v1/responses/{id}/cancel` and
//! `POST /v1/responses/input_tokens`. Each authenticates the caller, then asks the gateway,
//! which scopes every read to the caller's key; errors in OpenAI's shape.

use crate::admin::presented_key;
use crate::body;
use crate::openai::{context, json, render_error};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use switchyard_gateway::{Gateway, GatewayError, Page, RequestContext};

/// The caller's context, authenticated, or the error response.
fn caller(gw: &Gateway, headers: &HeaderMap) -> Result<RequestContext, Box<Response>> {
    let mut ctx = context(headers);
    match gw.check_caller(&mut ctx, presented_key(headers)) {
        Ok(()) => Ok(ctx),
        Err(e) => Err(Box::new(render_error(&ctx, &e))),
    }
}

fn answer(ctx: &RequestContext, result: Result<String, GatewayError>) -> Response {
    match result {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => render_error(ctx, &e),
    }
}

pub async fn get(
    State(gw): State<Gateway>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match caller(&gw, &headers) {
        Ok(ctx) => answer(&ctx, gw.stored_response(&ctx, &id).await),
        Err(r) => *r,
    }
}

pub async fn delete(
    State(gw): State<Gateway>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match caller(&gw, &headers) {
        Ok(ctx) => answer(&ctx, gw.delete_response(&ctx, &id).await),
        Err(r) => *r,
    }
}

pub async fn cancel(
    State(gw): State<Gateway>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match caller(&gw, &headers) {
        Ok(ctx) => answer(&ctx, gw.cancel_response(&ctx, &id).await),
        Err(r) => *r,
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
    order: Option<String>,
    after: Option<String>,
}

pub async fn input_items(
    State(gw): State<Gateway>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let ctx = match caller(&gw, &headers) {
        Ok(ctx) => ctx,
        Err(r) => return *r,
    };
    let ascending = match q.order.as_deref() {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            let e = GatewayError::InvalidRequest(switchyard_protocol::FieldError::new(
                "order",
                "`order` must be asc or desc.",
            ));
            return render_error(&ctx, &e);
        }
    };
    let page = Page {
        limit: q.limit,
        ascending,
        after: q.after.as_deref(),
    };
    answer(&ctx, gw.stored_input_items(&ctx, &id, page).await)
}

pub async fn input_tokens(State(gw): State<Gateway>, headers: HeaderMap, body: Body) -> Response {
    let ctx = match caller(&gw, &headers) {
        Ok(ctx) => ctx,
        Err(r) => return *r,
    };
    let result = match body::read(&headers, body, gw.max_body_bytes()).await {
        Ok(bytes) => gw.responses_input_tokens(&ctx, bytes).await,
        Err(e) => Err(e),
    };
    answer(
        &ctx,
        result.map(|n| format!(r#"{{"object":"response.input_tokens","input_tokens":{n}}}"#)),
    )
}
