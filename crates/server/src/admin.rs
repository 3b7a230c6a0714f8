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

fn key_error(e: &switchyard_gateway::KeyOpError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = match e.status() {
        404 => "not_found_error",
        400 => "invalid_request_error",
        _ => "api_error",
    };
    error(status, kind, &e.to_string())
}

fn parse_spec(body: &[u8]) -> Result<switchyard_gateway::KeySpec, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &format!("The key settings are not valid: {e}."),
        ))
    })
}

/// A key's settings and, for a loaded key, its budgets and limits as counted now.
fn key_json(gw: &Gateway, info: &switchyard_gateway::KeyInfo) -> serde_json::Value {
    let mut v = serde_json::to_value(info).unwrap_or_default();
    if let (Some(o), Some(u)) = (v.as_object_mut(), gw.key_usage(&info.id)) {
        o.insert("usage".into(), serde_json::to_value(u).unwrap_or_default());
    }
    v
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
    let spec = match parse_spec(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match tokio::task::spawn_blocking(move || gw.create_key(spec)).await {
        Ok(Ok((info, secret))) => {
            tracing::info!(key_id = %info.id, team = ?info.spec.team, "virtual key created");
            json(
                StatusCode::CREATED,
                json!({
                    "key": secret,
                    "key_info": info,
                    "note": "Store the key now: it is shown only once. Only its hash is kept.",
                })
                .to_string(),
            )
        }
        Ok(Err(e)) => key_error(&e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "key creation failed",
        ),
    }
}

/// `GET /admin/keys`.
pub async fn list_keys(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    let g = gw.clone();
    match tokio::task::spawn_blocking(move || g.list_keys()).await {
        Ok(Ok(keys)) => {
            let data: Vec<_> = keys.iter().map(|k| key_json(&gw, k)).collect();
            json(StatusCode::OK, json!({"data": data}).to_string())
        }
        Ok(Err(e)) => key_error(&e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "listing failed",
        ),
    }
}

/// `GET /admin/keys/{id}`.
pub async fn get_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    let g = gw.clone();
    match tokio::task::spawn_blocking(move || g.get_key(&id)).await {
        Ok(Ok(info)) => json(StatusCode::OK, key_json(&gw, &info).to_string()),
        Ok(Err(e)) => key_error(&e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "lookup failed",
        ),
    }
}

/// `PATCH /admin/keys/{id}`: the members given replace the key's settings; the rest stay.
pub async fn update_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: bytes::Bytes,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    let patch: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(serde_json::Value::Object(o)) => serde_json::Value::Object(o),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "The body must be a JSON object of the settings to change.",
            );
        }
    };
    let g = gw.clone();
    let done = tokio::task::spawn_blocking(move || {
        let current = g.get_key(&id)?;
        let mut merged = serde_json::to_value(&current.spec).unwrap_or_default();
        if let (Some(m), Some(p)) = (merged.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                m.insert(k.clone(), v.clone());
            }
        }
        Ok::<_, switchyard_gateway::KeyOpError>((id, merged))
    })
    .await;
    let (id, merged) = match done {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return key_error(&e),
        Err(_) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "update failed",
            );
        }
    };
    let spec = match parse_spec(merged.to_string().as_bytes()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let g = gw.clone();
    match tokio::task::spawn_blocking(move || g.update_key(&id, spec)).await {
        Ok(Ok(info)) => json(StatusCode::OK, key_json(&gw, &info).to_string()),
        Ok(Err(e)) => key_error(&e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "update failed",
        ),
    }
}

/// `POST /admin/keys/{id}/rotate`: a new secret, shown once; the old one stops working.
pub async fn rotate_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    match tokio::task::spawn_blocking(move || gw.rotate_key(&id)).await {
        Ok(Ok((info, secret))) => {
            tracing::info!(key_id = %info.id, "virtual key rotated");
            json(
                StatusCode::OK,
                json!({
                    "key": secret,
                    "key_info": info,
                    "note": "Store the new key now: it is shown only once. The old key no longer works.",
                })
                .to_string(),
            )
        }
        Ok(Err(e)) => key_error(&e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "rotation failed",
        ),
    }
}

/// `POST /admin/keys/{id}/revoke` and `DELETE /admin/keys/{id}`.
pub async fn revoke_key(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    if let Some(r) = refuse_unless_master(&gw, &headers) {
        return r;
    }
    match tokio::task::spawn_blocking(move || gw.revoke_key(&id)).await {
        Ok(Ok(info)) => {
            tracing::info!(key_id = %info.id, "virtual key revoked");
            json(
                StatusCode::OK,
                json!({"revoked": true, "key_info": info}).to_string(),
            )
        }
        Ok(Err(e)) => key_error(&e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "revocation failed",
        ),
    }
}
