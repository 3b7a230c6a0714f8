//! `GET /v1/dashboard/traffic` (the operator's view): request rate, errors and latency per
//! route and per target over the window, from the hourly rollup (the same figures as
//! `switchyard ledger summary --by route` and `--by model`), and each target's breaker as
//! the gateway holds it now. `GET /v1/dashboard/requests`: recent requests, filtered and
//! paged (a virtual key sees its own only); never a prompt or an answer.

use super::params::{Query, days, only, recent};
use super::read::{to_json, with_ledger};
use super::viewer::{identify, master_only};
use axum::extract::{Query as Q, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde_json::json;
use switchyard_gateway::Gateway;
use switchyard_ledger::{Dimension, Store, SummaryQuery, SummaryRow};

fn rows(store: &dyn Store, by: Dimension, days: u32) -> Result<Vec<serde_json::Value>, String> {
    let since = Utc::now().date_naive() - Duration::days(i64::from(days) - 1);
    let q = SummaryQuery {
        by,
        since: Some(since),
        include_shadow: false,
    };
    // The rate over the time the window has lasted so far (today is not over yet).
    let start = since
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default();
    let minutes = ((Utc::now() - start).num_seconds() as f64 / 60.0).max(1.0);
    let out = store.summary(&q).map_err(|e| e.to_string())?;
    out.iter()
        .map(|r: &SummaryRow| {
            let mut v = to_json(r)?;
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "requests_per_min".into(),
                    json!(r.requests as f64 / minutes),
                );
                let rate = if r.requests == 0 {
                    0.0
                } else {
                    r.errors as f64 / r.requests as f64
                };
                o.insert("error_rate".into(), json!(rate));
            }
            Ok(v)
        })
        .collect()
}

pub async fn traffic(State(gw): State<Gateway>, headers: HeaderMap, Q(q): Q<Query>) -> Response {
    let days = match master_only(&gw, &headers).and_then(|()| {
        only(&q, &["days"])?;
        days(&q, 1)
    }) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let status = gw.status_json();
    with_ledger(&gw, move |store| {
        Ok(json!({
            "days": days,
            "routes": rows(store, Dimension::Route, days)?,
            "targets": rows(store, Dimension::Model, days)?,
            "live": status.get("routes").cloned().unwrap_or_default(),
        }))
    })
    .await
}

pub async fn requests(State(gw): State<Gateway>, headers: HeaderMap, Q(q): Q<Query>) -> Response {
    let checked = identify(&gw, &headers).and_then(|v| Ok((v, recent(&gw, &q)?)));
    let (viewer, mut query) = match checked {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if let Some(own) = viewer.key_id() {
        // A virtual key's filter is its own id, whatever `key` asked for.
        query.key_id = Some(own.to_string());
    }
    // Unrounded: one request's cost is often under a cent.
    with_ledger(&gw, move |store| {
        let page = store.recent(&query).map_err(|e| e.to_string())?;
        serde_json::to_value(&page).map_err(|e| e.to_string())
    })
    .await
}
