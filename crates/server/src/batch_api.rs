//! The batch API's HTTP edge (OpenAI's `/v1/files` and `/v1/batches`): authenticate the
//! caller as for `/v1/models`, read the body (an upload under `[batch] max_file_bytes`, not
//! `max_body_bytes`; the form parsed by `multipart`), call `switchyard_batch::Batches`, render
//! in OpenAI's shapes and error dialect. The service reaches handlers as an axum `Extension`
//! that [`crate::run`] installs.

use crate::admin::presented_key;
use crate::openai::{REQUEST_ID, context, json, put, render_error};
use crate::{body, multipart};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchyard_batch::{BatchError, Batches, Principal, Upload};
use switchyard_gateway::{Caller, Gateway, GatewayError, RequestContext};
use switchyard_protocol::openai::ErrorBody;

/// Room for the form's boundaries and part headers around the file itself.
const FORM_OVERHEAD: usize = 64 * 1024;

/// The authenticated caller, or the 401 to answer.
fn who(gw: &Gateway, headers: &HeaderMap) -> Result<(RequestContext, Principal), Box<Response>> {
    let mut ctx = context(headers);
    if let Err(e) = gw.check_caller(&mut ctx, presented_key(headers)) {
        return Err(Box::new(render_error(&ctx, &e)));
    }
    let who = Principal {
        owner: ctx.key_id.clone(),
        sees_all: matches!(ctx.caller, Caller::Master),
    };
    Ok((ctx, who))
}

fn render(ctx: &RequestContext, result: Result<serde_json::Value, BatchError>) -> Response {
    let mut resp = match result {
        Ok(v) => json(StatusCode::OK, v.to_string()),
        Err(e) => batch_error(&e),
    };
    put(resp.headers_mut(), REQUEST_ID, ctx.request_id.as_str());
    resp
}

fn batch_error(e: &BatchError) -> Response {
    let body = ErrorBody::new(e.kind(), None, e.param().map(str::to_string), e.to_string());
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_json(),
    )
        .into_response()
}

fn invalid(param: &'static str, message: String) -> BatchError {
    BatchError::Invalid {
        message,
        param: Some(param),
    }
}

/// `POST /v1/files`: `multipart/form-data` with `purpose=batch` and `file`.
pub async fn upload(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (ctx, who) = match who(&gw, &headers) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let result = match read_upload(&headers, body, b.max_file_bytes()).await {
        Ok(up) => b.upload(&who, up).await,
        Err(e) => Err(e),
    };
    render(&ctx, result)
}

async fn read_upload(headers: &HeaderMap, body: Body, limit: usize) -> Result<Upload, BatchError> {
    let form = "Send multipart/form-data with the fields purpose=batch and file (as the OpenAI SDKs' files.create does).";
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multipart::boundary(ct).ok_or_else(|| invalid("file", form.to_string()))?;
    let bytes = match body::read(headers, body, limit.saturating_add(FORM_OVERHEAD)).await {
        Ok(b) => b,
        Err(GatewayError::BodyTooLarge { .. }) => return Err(BatchError::TooLarge { limit }),
        Err(e) => return Err(invalid("file", e.to_string())),
    };
    let parts = multipart::parse(&bytes, &boundary)
        .map_err(|e| invalid("file", format!("The form cannot be read: {e}. {form}")))?;
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let purpose = field("purpose")
        .map(|p| String::from_utf8_lossy(p.data).trim().to_string())
        .ok_or_else(|| invalid("purpose", format!("The form has no purpose field. {form}")))?;
    let file = field("file")
        .ok_or_else(|| invalid("file", format!("The form has no file field. {form}")))?;
    if file.data.len() > limit {
        return Err(BatchError::TooLarge { limit });
    }
    let filename: String = file
        .filename
        .as_deref()
        .unwrap_or("upload.jsonl")
        .chars()
        .take(256)
        .collect();
    Ok(Upload {
        purpose,
        filename,
        content: bytes.slice_ref(file.data),
    })
}

/// `GET /v1/files/{id}`.
pub async fn get_file(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match who(&gw, &headers) {
        Ok((ctx, who)) => render(&ctx, b.file(&who, &id).await),
        Err(r) => *r,
    }
}

/// `DELETE /v1/files/{id}`.
pub async fn delete_file(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match who(&gw, &headers) {
        Ok((ctx, who)) => render(&ctx, b.delete_file(&who, &id).await),
        Err(r) => *r,
    }
}

/// `GET /v1/files/{id}/content`: the file's bytes as uploaded or produced.
pub async fn file_content(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (ctx, who) = match who(&gw, &headers) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let mut resp = match b.content(&who, &id).await {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        Err(e) => batch_error(&e),
    };
    put(resp.headers_mut(), REQUEST_ID, ctx.request_id.as_str());
    resp
}

/// `POST /v1/batches`.
pub async fn create_batch(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (ctx, who) = match who(&gw, &headers) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let result = match body::read(&headers, body, gw.max_body_bytes()).await {
        Ok(bytes) => b.create(&who, &bytes).await,
        Err(e) => return render_error(&ctx, &e),
    };
    render(&ctx, result)
}

/// `GET /v1/batches/{id}`.
pub async fn get_batch(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match who(&gw, &headers) {
        Ok((ctx, who)) => render(&ctx, b.get(&who, &id).await),
        Err(r) => *r,
    }
}

/// `POST /v1/batches/{id}/cancel`.
pub async fn cancel_batch(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match who(&gw, &headers) {
        Ok((ctx, who)) => render(&ctx, b.cancel(&who, &id).await),
        Err(r) => *r,
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/batches?after=&limit=`.
pub async fn list_batches(
    State(gw): State<Gateway>,
    Extension(b): Extension<Batches>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    match who(&gw, &headers) {
        Ok((ctx, who)) => render(&ctx, b.list(&who, q.after, q.limit).await),
        Err(r) => *r,
    }
}
