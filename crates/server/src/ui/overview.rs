//! `GET /v1/dashboard/overview`: spend today, over 7 and 30 days and the monthly run rate;
//! spend per day stacked by provider, workload or team; requests, error rate, latency
//! quantiles, gateway overhead; savings by lever. Read from the hourly rollup (and, for the
//! quantiles, the last 24 hours of requests on the `requests_ts` index), never a full scan.

use super::params::{Query, bad, days, only};
use super::read::{Answer, to_json, with_ledger};
use super::viewer::{Viewer, identify};
use axum::extract::{Query as Q, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use switchyard_catalog::Catalog;
use switchyard_gateway::Gateway;
use switchyard_ledger::dashboard::{Quantiles, SeriesPoint, SeriesQuery};
use switchyard_ledger::{Dimension, Savings, Store, Window};
use switchyard_primitives::Money;

/// The figures of the overview page.
#[derive(Debug, Serialize)]
struct Overview {
    today: NaiveDate,
    by: &'static str,
    /// The key the figures are restricted to (a virtual key's view).
    key_id: Option<String>,
    spend_today: Money,
    spend_7d: Money,
    spend_30d: Money,
    /// The last 7 days' spend per day × 30.
    run_rate_monthly: Money,
    /// Over the `days` shown.
    requests: u64,
    errors: u64,
    error_rate: f64,
    avg_overhead_us: f64,
    /// Over the last 24 hours.
    latency_24h: Quantiles,
    series: Vec<SeriesPoint>,
    /// Over the `days` shown; the master key's view only.
    savings: Option<Savings>,
}

fn dimension(q: &Query) -> Result<(Dimension, &'static str), Box<Response>> {
    match q.get("by").map_or("provider", String::as_str) {
        "provider" => Ok((Dimension::Provider, "provider")),
        "workload" => Ok((Dimension::Workload, "workload")),
        "team" => Ok((Dimension::Team, "team")),
        _ => Err(bad("by", "must be provider, workload or team")),
    }
}

pub async fn overview(State(gw): State<Gateway>, headers: HeaderMap, Q(q): Q<Query>) -> Response {
    let checked = identify(&gw, &headers).and_then(|v| {
        only(&q, &["by", "days"])?;
        Ok((v, dimension(&q)?, days(&q, 30)?))
    });
    let (viewer, (by, by_name), days) = match checked {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let catalog = gw.catalog();
    with_ledger(&gw, move |store| {
        compute(store, &catalog, &viewer, ((by, by_name), days))
    })
    .await
}

/// Spend from day `d` on, summed from the series' points.
fn spend_from(points: &[SeriesPoint], d: NaiveDate) -> Money {
    let from = d.format("%Y-%m-%d").to_string();
    points
        .iter()
        .filter(|p| p.day >= from)
        .map(|p| p.cost_usd)
        .sum()
}

/// `part / whole`, 0 for nothing.
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The savings ledger as `switchyard ledger summary` prints it (every lever, priced); the
/// operator's only.
fn savings(
    store: &dyn Store,
    catalog: &Catalog,
    viewer: &Viewer,
    from: NaiveDate,
) -> Result<Option<Savings>, String> {
    match viewer {
        Viewer::Master => store
            .savings_report(catalog, &Window::since(Some(from)))
            .map(|r| Some(r.savings))
            .map_err(|e| e.to_string()),
        Viewer::Key(_) => Ok(None),
    }
}

fn compute(
    store: &dyn Store,
    catalog: &Catalog,
    viewer: &Viewer,
    (by, days): ((Dimension, &'static str), u32),
) -> Answer {
    let today = Utc::now().date_naive();
    let shown = today - Duration::days(i64::from(days) - 1);
    let key_id = viewer.key_id().map(str::to_string);
    let q = SeriesQuery {
        by: by.0,
        since: shown.min(today - Duration::days(29)),
        key_id: key_id.clone(),
    };
    let all = store.series(&q).map_err(|e| e.to_string())?;
    let spend_7d = spend_from(&all, today - Duration::days(6));
    let shown_label = shown.format("%Y-%m-%d").to_string();
    let series: Vec<SeriesPoint> = all
        .iter()
        .filter(|p| p.day >= shown_label)
        .cloned()
        .collect();
    let sum = |f: fn(&SeriesPoint) -> u64| series.iter().map(f).sum::<u64>();
    let (requests, errors) = (sum(|p| p.requests), sum(|p| p.errors));
    let from_ms = (Utc::now() - Duration::hours(24)).timestamp_millis();
    to_json(&Overview {
        today,
        by: by.1,
        spend_today: spend_from(&all, today),
        spend_7d,
        spend_30d: spend_from(&all, today - Duration::days(29)),
        run_rate_monthly: (spend_7d * (Decimal::from(30) / Decimal::from(7))).round_cents(),
        requests,
        errors,
        error_rate: ratio(errors, requests),
        avg_overhead_us: ratio(sum(|p| p.overhead_us_sum), sum(|p| p.overhead_count)),
        latency_24h: store
            .latency(from_ms, key_id.as_deref())
            .map_err(|e| e.to_string())?,
        savings: savings(store, catalog, viewer, shown)?,
        series,
        key_id,
    })
}
