//! The JSON shapes of OpenAI's files and batches API, as the official SDKs read them: the file
//! object, the batch object (status, `request_counts`, timestamps in Unix seconds), lists, and
//! the lines of output and error files.

use serde_json::{Value, json};
use switchyard_ledger::batch::{FileRow, JobRow};

/// `{"id","object":"file","bytes","created_at","filename","purpose","status"}`.
pub fn file(f: &FileRow) -> Value {
    json!({
        "id": f.id,
        "object": "file",
        "bytes": f.bytes,
        "created_at": f.created_at,
        "filename": f.filename,
        "purpose": f.purpose,
        "status": "processed",
        "status_details": null,
        "expires_at": null,
    })
}

pub fn file_deleted(id: &str) -> Value {
    json!({"id": id, "object": "file", "deleted": true})
}

/// The batch object.
pub fn batch(j: &JobRow) -> Value {
    let metadata = j
        .metadata
        .as_deref()
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
        .unwrap_or(Value::Null);
    let errors = j
        .errors
        .as_deref()
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
        .unwrap_or(Value::Null);
    let s = &j.stamps;
    json!({
        "id": j.id,
        "object": "batch",
        "endpoint": j.endpoint,
        "errors": errors,
        "input_file_id": j.input_file_id,
        "completion_window": j.completion_window,
        "status": j.status,
        "output_file_id": j.output_file_id,
        "error_file_id": j.error_file_id,
        "created_at": j.created_at,
        "in_progress_at": s.in_progress_at,
        "expires_at": j.expires_at,
        "finalizing_at": s.finalizing_at,
        "completed_at": s.completed_at,
        "failed_at": s.failed_at,
        "expired_at": s.expired_at,
        "cancelling_at": s.cancelling_at,
        "cancelled_at": s.cancelled_at,
        "request_counts": {
            "total": j.counts.total,
            "completed": j.counts.completed,
            "failed": j.counts.failed,
        },
        "metadata": metadata,
    })
}

/// A cursor page: `{"object":"list","data","first_id","last_id","has_more"}`.
pub fn list(items: &[JobRow], has_more: bool) -> Value {
    json!({
        "object": "list",
        "data": items.iter().map(batch).collect::<Vec<_>>(),
        "first_id": items.first().map(|j| j.id.clone()),
        "last_id": items.last().map(|j| j.id.clone()),
        "has_more": has_more,
    })
}

/// An error-file line for a line that never ran (refused at creation, cancelled, expired).
/// `line` is the input file's line number, so the client can find what to fix.
pub fn error_line(line: u64, custom_id: Option<&str>, code: &str, message: &str) -> String {
    json!({
        "id": format!("batch_req_line{line}"),
        "custom_id": custom_id,
        "response": null,
        "error": {"code": code, "message": format!("line {line}: {message}"), "line": line},
    })
    .to_string()
}

/// What one line's request got back.
pub struct Answer<'a> {
    pub line: u64,
    pub custom_id: &'a str,
    pub request_id: &'a str,
    pub status: u16,
    pub body: Value,
}

/// An output-file line (a 2xx) or an error-file line (any other status; `error` then names
/// the code and the line number as well).
pub fn answer_line(a: &Answer<'_>) -> String {
    let error = if (200..300).contains(&a.status) {
        Value::Null
    } else {
        let code = a.body["error"]["code"]
            .as_str()
            .or(a.body["error"]["type"].as_str())
            .unwrap_or("request_failed")
            .to_string();
        let message = a.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string();
        json!({"code": code, "message": format!("line {}: {message}", a.line), "line": a.line})
    };
    json!({
        "id": format!("batch_{}", a.request_id),
        "custom_id": a.custom_id,
        "response": {"status_code": a.status, "request_id": a.request_id, "body": a.body},
        "error": error,
    })
    .to_string()
}
