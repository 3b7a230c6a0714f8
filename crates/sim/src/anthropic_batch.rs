//! Anthropic's Message Batches API, simulated: `POST /v1/messages/batches`
//! (`requests: [{custom_id, params}]`), `GET /v1/messages/batches/{id}`,
//! `GET /v1/messages/batches/{id}/results` (JSONL) and `POST /v1/messages/batches/{id}/cancel`,
//! with the key and `anthropic-version` checked as for `/v1/messages`. Each request is answered
//! by the simulated Messages endpoint when the batch is created (`batch_jobs`); its result is
//! `succeeded` with that message, `errored` with that error, or `canceled`.

use crate::Sim;
use crate::anthropic::{check_headers, error};
use crate::batch_jobs::{self, Answer, Phase, View};
use crate::common::json_status;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// Anthropic's limit on requests per batch.
const MAX_REQUESTS: usize = 100_000;

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found_error",
        &format!("message batch {id} not found"),
    )
}

/// `custom_id`: 1 to 64 letters, digits, `_` or `-`, as Anthropic requires.
fn valid_custom_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The requests, or what is wrong with them.
fn requests(body: &[u8]) -> Result<Vec<(String, Value)>, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("There was an error parsing the body: {e}"))?;
    let all = v["requests"].as_array().ok_or("requests: Field required")?;
    if all.is_empty() || all.len() > MAX_REQUESTS {
        return Err(format!("requests: between 1 and {MAX_REQUESTS} items"));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(all.len());
    for (i, r) in all.iter().enumerate() {
        let id = r["custom_id"].as_str().unwrap_or_default();
        if !valid_custom_id(id) {
            return Err(format!(
                "requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            ));
        }
        if !seen.insert(id) {
            return Err(format!(
                "Duplicate custom_id {id:?}: each custom_id must be unique within a batch"
            ));
        }
        if !r["params"].is_object() {
            return Err(format!("requests.{i}.params: Field required"));
        }
        out.push((id.to_string(), r["params"].clone()));
    }
    Ok(out)
}

/// The message batch object; `origin` (`http://host`) makes the results URL absolute.
fn object(v: &View, origin: &str) -> Value {
    let (succeeded, errored, canceled) = v.counts();
    let ended = v.phase == Phase::Ended;
    let processing = if ended { 0 } else { v.answers.len() };
    let at = "2026-01-01T00:00:00Z";
    json!({"id": v.id, "type": "message_batch",
        "processing_status": match v.phase { Phase::Running => "in_progress", Phase::Canceling => "canceling", Phase::Ended => "ended" },
        "request_counts": {"processing": processing,
            "succeeded": if ended { succeeded } else { 0 },
            "errored": if ended { errored } else { 0 },
            "canceled": if ended { canceled } else { 0 }, "expired": 0},
        "ended_at": ended.then_some(at), "created_at": at, "expires_at": "2026-01-02T00:00:00Z",
        "archived_at": null, "cancel_initiated_at": v.cancelled.then_some(at),
        "results_url": ended.then(|| format!("{origin}/v1/messages/batches/{}/results", v.id))})
}

fn origin(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    format!("http://{}", host.unwrap_or("127.0.0.1"))
}

pub async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = check_headers(&sim, &headers) {
        return r;
    }
    let requests = match requests(&body) {
        Ok(r) => r,
        Err(message) => return bad_request(&message),
    };
    let mut answers = Vec::with_capacity(requests.len());
    for (id, params) in requests {
        let line = Bytes::from(params.to_string());
        let resp = crate::anthropic::messages(State(sim.clone()), headers.clone(), line).await;
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        answers.push(Answer {
            key: json!(id),
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        });
    }
    let v = batch_jobs::create(&sim, "msgbatch_", "", answers);
    json_status(StatusCode::OK, &object(&v, &origin(&headers)))
}

pub async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check_headers(&sim, &headers) {
        return r;
    }
    match batch_jobs::poll(&sim, &id) {
        Some(v) => json_status(StatusCode::OK, &object(&v, &origin(&headers))),
        None => not_found(&id),
    }
}

pub async fn cancel(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check_headers(&sim, &headers) {
        return r;
    }
    match batch_jobs::cancel(&sim, &id) {
        Some(v) => json_status(StatusCode::OK, &object(&v, &origin(&headers))),
        None => not_found(&id),
    }
}

/// The results, one JSONL line per request, once the batch has ended.
pub async fn results(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check_headers(&sim, &headers) {
        return r;
    }
    let Some(v) = batch_jobs::peek(&sim, &id) else {
        return not_found(&id);
    };
    if v.phase != Phase::Ended {
        return bad_request(&format!(
            "Results for message batch {id} are not available until processing ends."
        ));
    }
    let mut out = String::new();
    for (key, answer) in &v.answers {
        let result = match answer {
            Some((s, body)) if (200..300).contains(s) => {
                json!({"type": "succeeded", "message": body})
            }
            Some((_, body)) => json!({"type": "errored", "error": body}),
            None => json!({"type": "canceled"}),
        };
        out.push_str(&json!({"custom_id": key, "result": result}).to_string());
        out.push('\n');
    }
    ([(header::CONTENT_TYPE, "application/binary")], out).into_response()
}
