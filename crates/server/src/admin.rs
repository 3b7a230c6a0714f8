//! `/admin/*`: the operator's API, behind the master key (`Authorization: Bearer` or
//! `x-api-key`). With no master key configured it answers 404 and says how to turn it on.
//! Errors use OpenAI's shape.

use crate::openai::json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use switchyard_gateway::{Gateway, KeyInfo, KeyOpError, KeySpec};

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
        Some(k) if switchyard_gateway::secret_eq(k, master.expose()) => None,
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

/// `GET /admin/status`: the master key only.
pub async fn admin_status(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    json(StatusCode::OK, gw.status_json().to_string())
}

/// `GET /v1/status`: any caller the gateway would serve (a valid key once keys exist).
pub async fn status(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    let mut ctx = crate::openai::context(&headers);
    if let Err(e) = gw.check_caller(&mut ctx, presented_key(&headers)) {
        return crate::openai::render_error(&ctx, &e);
    }
    json(StatusCode::OK, gw.status_json().to_string())
}

fn key_error(e: &KeyOpError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = match e.status() {
        404 => "not_found_error",
        400 => "invalid_request_error",
        _ => "api_error",
    };
    error(status, kind, &e.to_string())
}

/// Runs a key operation (SQLite) on the blocking pool; its error in the admin API's shape.
async fn key_op<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, KeyOpError> + Send + 'static,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match tokio::task::spawn_blocking(op).await {
        Ok(Ok(v)) => ok(v),
        Ok(Err(e)) => key_error(&e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "The key operation failed; see the gateway log.",
        ),
    }
}

fn spec_of(v: serde_json::Value) -> Result<KeySpec, KeyOpError> {
    serde_json::from_value(v)
        .map_err(|e| KeyOpError::Invalid(format!("The key settings are not valid: {e}.")))
}

/// A key's settings and, for a loaded key, its budgets and limits as counted now.
fn key_json(gw: &Gateway, info: &KeyInfo) -> serde_json::Value {
    let mut v = serde_json::to_value(info).unwrap_or_default();
    if let (Some(o), Some(u)) = (v.as_object_mut(), gw.key_usage(&info.id)) {
        o.insert("usage".into(), serde_json::to_value(u).unwrap_or_default());
    }
    v
}

/// The body as a JSON object, or the 400 to send.
fn object_body(body: &[u8]) -> Result<serde_json::Value, Box<Response>> {
    match serde_json::from_slice(body) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        _ => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "The body must be a JSON object of key settings.",
        ))),
    }
}

type KeyId = axum::extract::Path<String>;

/// The one response that carries a key's secret (creation, rotation).
fn issued(status: StatusCode, info: &KeyInfo, secret: &str, note: &str) -> Response {
    json(
        status,
        json!({"key": secret, "key_info": info, "note": note}).to_string(),
    )
}

/// `POST /admin/keys`: creates a key. The secret is in this response and nowhere else.
pub async fn create_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    let v = match object_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    key_op(
        move || gw.create_key(spec_of(v)?),
        |(info, secret): (KeyInfo, String)| {
            tracing::info!(key_id = %info.id, team = ?info.spec.team, "virtual key created");
            issued(
                StatusCode::CREATED,
                &info,
                &secret,
                "Store the key now: it is shown only once. Only its hash is kept.",
            )
        },
    )
    .await
}

/// `GET /admin/keys`.
pub async fn list_keys(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    let g = gw.clone();
    key_op(
        move || g.list_keys(),
        |keys| {
            let data: Vec<_> = keys.iter().map(|k| key_json(&gw, k)).collect();
            json(StatusCode::OK, json!({"data": data}).to_string())
        },
    )
    .await
}

/// `GET /admin/keys/{id}`.
pub async fn get_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): KeyId,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    let g = gw.clone();
    key_op(
        move || g.get_key(&id),
        |info| json(StatusCode::OK, key_json(&gw, &info).to_string()),
    )
    .await
}

/// `PATCH /admin/keys/{id}`: the members given replace the key's settings; the rest stay.
pub async fn update_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): KeyId,
    body: bytes::Bytes,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    let patch = match object_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let g = gw.clone();
    key_op(
        move || {
            let mut merged = serde_json::to_value(g.get_key(&id)?.spec).unwrap_or_default();
            if let (Some(m), Some(p)) = (merged.as_object_mut(), patch.as_object()) {
                for (k, v) in p {
                    m.insert(k.clone(), v.clone());
                }
            }
            g.update_key(&id, spec_of(merged)?)
        },
        |info| json(StatusCode::OK, key_json(&gw, &info).to_string()),
    )
    .await
}

/// `POST /admin/keys/{id}/rotate`: a new secret, shown once; the old one stops working.
pub async fn rotate_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): KeyId,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    key_op(
        move || gw.rotate_key(&id),
        |(info, secret): (KeyInfo, String)| {
            tracing::info!(key_id = %info.id, "virtual key rotated");
            issued(
                StatusCode::OK,
                &info,
                &secret,
                "Store the new key now: it is shown only once. The old key no longer works.",
            )
        },
    )
    .await
}

/// `POST /admin/keys/{id}/revoke` and `DELETE /admin/keys/{id}`.
pub async fn revoke_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): KeyId,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    key_op(
        move || gw.revoke_key(&id),
        |info: KeyInfo| {
            tracing::info!(key_id = %info.id, "virtual key revoked");
            json(
                StatusCode::OK,
                json!({"revoked": true, "key_info": info}).to_string(),
            )
        },
    )
    .await
}
