//! `GET /v1/dashboard/session` (who signed in) and `GET /v1/dashboard/keys`: each key's
//! settings, budgets and limits as counted now (as `GET /admin/keys` shows them) with its
//! spend today and over 30 days from the rollup (`switchyard ledger summary --by key`). A
//! virtual key sees its own only. Creating, rotating and revoking stay with `/admin/keys`.

use super::params::{Query, only};
use super::read::{blocking, to_json};
use super::viewer::{Viewer, identify};
use axum::extract::{Query as Q, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use switchyard_gateway::Gateway;
use switchyard_ledger::{Dimension, Location, SummaryQuery};
use switchyard_primitives::Money;

pub async fn session(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    match identify(&gw, &headers) {
        Ok(Viewer::Master) => crate::openai::json(
            axum::http::StatusCode::OK,
            json!({"view": "master"}).to_string(),
        ),
        Ok(Viewer::Key(id)) => crate::openai::json(
            axum::http::StatusCode::OK,
            json!({"view": "key", "key_id": id}).to_string(),
        ),
        Err(r) => *r,
    }
}

/// Spend per key since `since`, from the rollup.
fn spend_by_key(gw: &Gateway, since: chrono::NaiveDate) -> Result<HashMap<String, Money>, String> {
    let store = Location::from(gw.ledger_path())
        .open_existing()
        .map_err(|e| e.to_string())?;
    let q = SummaryQuery {
        by: Dimension::Key,
        since: Some(since),
        include_shadow: false,
    };
    let rows = store.summary(&q).map_err(|e| e.to_string())?;
    Ok(rows.into_iter().map(|r| (r.key, r.cost_usd)).collect())
}

pub async fn keys(State(gw): State<Gateway>, headers: HeaderMap, Q(q): Q<Query>) -> Response {
    let viewer = match identify(&gw, &headers).and_then(|v| only(&q, &[]).map(|()| v)) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    blocking(move || {
        let today = Utc::now().date_naive();
        let (day, month) = (
            spend_by_key(&gw, today)?,
            spend_by_key(&gw, today - Duration::days(29))?,
        );
        let keys = match &viewer {
            Viewer::Master => gw.list_keys().map_err(|e| e.to_string())?,
            Viewer::Key(id) => vec![gw.get_key(id).map_err(|e| e.to_string())?],
        };
        let data: Vec<Value> = keys
            .iter()
            .map(|k| {
                let mut v = serde_json::to_value(k).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert(
                        "usage".into(),
                        serde_json::to_value(gw.key_usage(&k.id)).unwrap_or_default(),
                    );
                    o.insert(
                        "spend_today".into(),
                        json!(day.get(&k.id).copied().unwrap_or(Money::ZERO)),
                    );
                    o.insert(
                        "spend_30d".into(),
                        json!(month.get(&k.id).copied().unwrap_or(Money::ZERO)),
                    );
                }
                v
            })
            .collect();
        to_json(&json!({"data": data}))
    })
    .await
}
