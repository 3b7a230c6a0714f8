//! `/admin/*`: the operator's API, behind the master key (`Authorization: Bearer` or
//! `x-api-key`). With no master key configured it answers 404 and says how to turn it on.
//! Errors use OpenAI's shape.

use crate::openai::json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use switchyard_gateway::Gateway;

/// The key a caller presented, from `Authorization: Bearer …` or `x-api-key`.
pub(crate) fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    bearer
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// Constant-time equality, so the comparison does not reveal how much of a guess was right.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    json(
        status,
        json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
            .to_string(),
    )
}

/// The refusal to send, unless the caller presented the master key.
pub(crate) fn refuse_unless_master(gw: &Gateway, headers: &HeaderMap) -> Option<Response> {
    let Some(master) = gw.master_key() else {
        return Some(error(
            StatusCode::NOT_FOUND,
            "not_found_error",
            "The admin API is disabled: no master key is set. Set the environment variable named by [admin] master_key_env (default SWITCHYARD_MASTER_KEY) to a secret of 16+ characters and restart.",
        ));
    };
    match presented_key(headers) {
        Some(k) if same_secret(k, master.expose()) => None,
        Some(_) => Some(error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "The admin API needs the master key; the key presented is not it.",
        )),
        None => Some(error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "The admin API needs the master key: send it as `Authorization: Bearer <key>`.",
        )),
    }
}

/// `POST /admin/reload`.
pub async fn reload(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    match gw.reload_from_source() {
        Ok(done) => json(
            StatusCode::OK,
            json!({
                "reloaded": true,
                "config_generation": done.generation,
                "routes": done.routes,
                "notes": done.notes,
            })
            .to_string(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "reload rejected; the previous configuration stays in force");
            error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                &format!("Reload rejected; the previous configuration stays in force. {e}"),
            )
        }
    }
}

/// `GET /admin/status` (and `GET /v1/status`).
pub async fn status(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    if gw.master_key().is_some()
        && let Some(r) = refuse_unless_master(&gw, &headers)
    {
        return r;
    }
    json(StatusCode::OK, gw.status_json().to_string())
}
