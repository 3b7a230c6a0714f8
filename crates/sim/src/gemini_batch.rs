//! Gemini batch mode with inline requests, simulated:
//! `POST /v1beta/models/{model}:batchGenerateContent` answers a long-running operation named
//! `batches/{id}`; `GET /v1beta/batches/{id}` reports it (`metadata.state`, `done`, and once
//! done `response.inlinedResponses.inlinedResponses`: one `{response | error, metadata}` per
//! request, in request order); `POST /v1beta/batches/{id}:cancel` cancels it. Each request is
//! answered by the simulated `generateContent` when the batch is created (`batch_jobs`).

use crate::Sim;
use crate::batch_jobs::{self, Answer, Phase, View};
use crate::common::json_status;
use crate::gemini::{check_key, error};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const BATCH_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/// The inline requests (`batch.inputConfig.requests.requests`, camelCase or snake_case as
/// Google's JSON mapping accepts), or what is wrong.
fn requests(body: &[u8]) -> Result<Vec<(Value, Value)>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("Invalid JSON payload received. {e}"))?;
    let batch = &v["batch"];
    let input = match batch.get("inputConfig") {
        Some(i) => i,
        None => &batch["input_config"],
    };
    let all = input["requests"]["requests"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or("* BatchGenerateContentRequest.batch.input_config: requests are not specified")?;
    all.iter()
        .map(|r| match r.get("request").filter(|q| q.is_object()) {
            Some(q) => Ok((q.clone(), r.get("metadata").cloned().unwrap_or(Value::Null))),
            None => Err("* InlinedRequest.request: request is not specified".to_string()),
        })
        .collect()
}

fn state(v: &View) -> &'static str {
    match (v.phase, v.cancelled) {
        (Phase::Running, _) => "BATCH_STATE_RUNNING",
        (_, true) => "BATCH_STATE_CANCELLED",
        (_, false) => "BATCH_STATE_SUCCEEDED",
    }
}

/// The operation for the batch; its output once it is done.
fn operation(v: &View) -> Value {
    let name = format!("batches/{}", v.id);
    let (ok, failed, _) = v.counts();
    let done = v.phase != Phase::Running;
    let stats = if done {
        json!({"requestCount": v.answers.len().to_string(), "successfulRequestCount": ok.to_string(),
               "failedRequestCount": failed.to_string()})
    } else {
        json!({"requestCount": v.answers.len().to_string(), "pendingRequestCount": v.answers.len().to_string()})
    };
    let mut op = json!({"name": name, "metadata": {"@type": BATCH_TYPE, "model": format!("models/{}", v.model),
        "displayName": "batch", "name": name, "state": state(v), "batchStats": stats}});
    if done {
        let inlined: Vec<Value> = v
            .answers
            .iter()
            .filter_map(|(meta, answer)| {
                let (status, body) = answer.as_ref()?;
                Some(if (200..300).contains(status) {
                    json!({"response": body, "metadata": meta})
                } else {
                    json!({"error": body["error"], "metadata": meta})
                })
            })
            .collect();
        op["done"] = json!(true);
        op["response"] =
            json!({"@type": OUTPUT_TYPE, "inlinedResponses": {"inlinedResponses": inlined}});
    }
    op
}

fn not_found(id: &str) -> Response {
    error(404, "NOT_FOUND", &format!("Batch batches/{id} not found."))
}

/// `models/{model}:batchGenerateContent` (the key already checked by the caller).
pub(crate) async fn create(sim: &Arc<Sim>, model: &str, body: &Bytes) -> Response {
    let requests = match requests(body) {
        Ok(r) => r,
        Err(message) => return error(400, "INVALID_ARGUMENT", &message),
    };
    let call = format!("{model}:generateContent");
    let mut answers = Vec::with_capacity(requests.len());
    for (request, metadata) in requests {
        let line = Bytes::from(request.to_string());
        let resp = crate::gemini::generate(sim, &call, &HashMap::new(), &line).await;
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        answers.push(Answer {
            key: metadata,
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        });
    }
    let v = batch_jobs::create(sim, "", model, answers);
    json_status(StatusCode::OK, &operation(&v))
}

/// `GET /v1beta/batches/{id}`.
pub async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check_key(&sim, &headers, &q) {
        return r;
    }
    match batch_jobs::poll(&sim, &id) {
        Some(v) => json_status(StatusCode::OK, &operation(&v)),
        None => not_found(&id),
    }
}

/// `POST /v1beta/batches/{id}:cancel`: an empty answer, as Google's `Empty`.
pub async fn cancel(
    State(sim): State<Arc<Sim>>,
    Path(call): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check_key(&sim, &headers, &q) {
        return r;
    }
    let Some(id) = call.strip_suffix(":cancel") else {
        return error(
            404,
            "NOT_FOUND",
            &format!("batches/{call} is not a method."),
        );
    };
    match batch_jobs::cancel(&sim, id) {
        Some(_) => json_status(StatusCode::OK, &json!({})),
        None => not_found(id),
    }
}
