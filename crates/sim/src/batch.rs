//! OpenAI's Batch API, simulated: `POST /v1/files` (multipart, `purpose=batch`),
//! `POST /v1/batches`, `GET /v1/batches/{id}`, `GET /v1/files/{id}/content`.
//!
//! A batch is answered when it is created: each line goes through the simulated chat or
//! embeddings endpoint (so faults, latency and usage are the same as for a live call, and each
//! line counts in `/sim/stats` under its model); `GET /v1/batches/{id}` then reports it
//! `in_progress` for the first `batch_polls` polls (default 0), `completed` with its output file
//! after. `/sim/stats` counts batches under `"batches"`.

use crate::Sim;
use crate::chat::{authorized, error, json_response};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Files (content by id) and batches (the batch object by id).
#[derive(Default)]
pub(crate) struct Batches {
    files: HashMap<String, Bytes>,
    batches: HashMap<String, Value>,
    /// Polls each batch has had (it is `in_progress` for the first `batch_polls`).
    polls: HashMap<String, u32>,
    next: u64,
}

impl Batches {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}sim{}", self.next)
    }
}

fn with<T>(sim: &Sim, f: impl FnOnce(&mut Batches) -> T) -> T {
    let mut b = sim.batches.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut b)
}

fn refused(status: StatusCode, message: &str) -> Response {
    error(status, "invalid_request_error", None, message)
}

/// The bytes of the form field `file`.
fn file_field(body: &[u8]) -> Option<&[u8]> {
    let at = find(body, b"name=\"file\"", 0)?;
    let start = find(body, b"\r\n\r\n", at)? + 4;
    let end = find(body, b"\r\n--", start)?;
    Some(&body[start..end])
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

pub async fn upload(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&sim, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided.",
        );
    }
    let Some(content) = file_field(&body) else {
        return refused(StatusCode::BAD_REQUEST, "The form has no file field.");
    };
    let content = body.slice_ref(content);
    let bytes = content.len();
    let id = with(&sim, |b| {
        let id = b.id("file-");
        b.files.insert(id.clone(), content);
        id
    });
    json_response(
        &json!({"id": id, "object": "file", "bytes": bytes, "created_at": 0,
        "filename": "batch.jsonl", "purpose": "batch", "status": "processed"}),
    )
}

pub async fn content(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match with(&sim, |b| b.files.get(&id).cloned()) {
        Some(c) => ([(header::CONTENT_TYPE, "application/octet-stream")], c).into_response(),
        None => refused(StatusCode::NOT_FOUND, "No such File object."),
    }
}

/// The batch: `in_progress` (no output yet) for its first `batch_polls` polls, then `completed`.
pub async fn retrieve(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let wait = sim.config.batch_polls;
    let found = with(&sim, |b| {
        let seen = b.polls.entry(id.clone()).or_default();
        *seen = seen.saturating_add(1);
        let early = *seen <= wait;
        b.batches.get(&id).cloned().map(|v| (v, early))
    });
    match found {
        Some((mut v, true)) => {
            v["status"] = json!("in_progress");
            v["output_file_id"] = Value::Null;
            json_response(&v)
        }
        Some((v, false)) => json_response(&v),
        None => refused(StatusCode::NOT_FOUND, "No such Batch object."),
    }
}

/// `POST /v1/batches/{id}/cancel`: `cancelled` at once; the lines already answered (all of
/// them, here) stay in the output file.
pub async fn cancel(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    sim.count("batch_cancels");
    let found = with(&sim, |b| {
        b.polls.insert(id.clone(), u32::MAX);
        b.batches.get_mut(&id).map(|v| {
            v["status"] = json!("cancelled");
            v.clone()
        })
    });
    match found {
        Some(v) => json_response(&v),
        None => refused(StatusCode::NOT_FOUND, "No such Batch object."),
    }
}

/// Creates the batch and answers every line at once.
pub async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&sim, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided.",
        );
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
    let file = req["input_file_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let endpoint = req["endpoint"].as_str().unwrap_or_default().to_string();
    let Some(input) = with(&sim, |b| b.files.get(&file).cloned()) else {
        return refused(StatusCode::NOT_FOUND, "No such File object.");
    };
    sim.count("batches");
    let mut out = Vec::new();
    let text = String::from_utf8_lossy(&input).into_owned();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_default();
        let line_body = Bytes::from(v["body"].to_string());
        let resp = if endpoint == "/v1/embeddings" {
            crate::embeddings::openai(State(sim.clone()), headers.clone(), line_body).await
        } else {
            crate::chat::openai(State(sim.clone()), headers.clone(), line_body).await
        };
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let entry = json!({"id": format!("batch_req_{}", out.len()), "custom_id": v["custom_id"],
            "response": {"status_code": status, "request_id": "sim", "body": answer}, "error": null});
        out.push(entry.to_string());
    }
    let output = Bytes::from(out.join("\n") + "\n");
    let batch = with(&sim, |b| {
        let out_id = b.id("file-");
        b.files.insert(out_id.clone(), output);
        let id = b.id("batch_");
        let v = json!({"id": id, "object": "batch", "endpoint": endpoint, "input_file_id": file,
            "completion_window": "24h", "status": "completed", "output_file_id": out_id,
            "error_file_id": null, "created_at": 0,
            "request_counts": {"total": out.len(), "completed": out.len(), "failed": 0}});
        b.batches.insert(id, v.clone());
        v
    });
    let mut created = batch;
    created["status"] = json!("validating");
    json_response(&created)
}
