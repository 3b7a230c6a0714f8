//! Query strings of the dashboard API, parsed into the ledger's query types. A malformed
//! value is a 400 that names the parameter and says what it takes; an unknown parameter is
//! refused too, so a typo never silently widens a filter.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use switchyard_gateway::Gateway;
use switchyard_ledger::dashboard::{RecentQuery, StatusFilter};

pub type Query = HashMap<String, String>;

/// Rows of the time range one recent-requests page reads at most (newest first): a filter
/// that matches rarely answers in bounded time (about 50 ms on a 10M-record SQLite ledger,
/// docs/benchmarks.md) with a partial page whose cursor searches on.
const SCAN_BUDGET: u32 = 50_000;

/// A 400 naming `param`.
pub fn bad(param: &str, message: &str) -> Box<Response> {
    let body = serde_json::json!({"error": {
        "message": format!("`{param}`: {message}"),
        "type": "invalid_request_error", "param": param, "code": null,
    }});
    Box::new(crate::openai::json(
        StatusCode::BAD_REQUEST,
        body.to_string(),
    ))
}

/// Refuses parameters outside `known`.
pub fn only(q: &Query, known: &[&str]) -> Result<(), Box<Response>> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(bad(
            k,
            &format!(
                "unknown parameter; this endpoint takes {}",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// `days`: 1..=366, `default` when absent.
pub fn days(q: &Query, default: u32) -> Result<u32, Box<Response>> {
    match q.get("days") {
        None => Ok(default),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=366).contains(d))
            .ok_or_else(|| bad("days", "must be a whole number of days from 1 to 366")),
    }
}

/// A time given as RFC 3339 (`2026-12-01T10:00:00Z`) or a UTC day (`2026-12-01`, its start).
fn instant(param: &str, s: &str) -> Result<DateTime<Utc>, Box<Response>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            bad(
                param,
                "must be a date (YYYY-MM-DD) or an RFC 3339 time (2026-12-01T10:00:00Z)",
            )
        })
}

fn status(s: &str) -> Result<StatusFilter, Box<Response>> {
    match s {
        "ok" => Ok(StatusFilter::Ok),
        "error" => Ok(StatusFilter::Error),
        code => code
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(StatusFilter::Code)
            .ok_or_else(|| {
                bad(
                    "status",
                    "must be ok, error or an HTTP status code (100-599)",
                )
            }),
    }
}

/// The recent-requests filters; `route` must be a configured route.
pub fn recent(gw: &Gateway, q: &Query) -> Result<RecentQuery, Box<Response>> {
    only(
        q,
        &[
            "route", "workload", "team", "key", "status", "from", "until", "limit", "after",
        ],
    )?;
    let text = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let route = text("route");
    if let Some(r) = &route {
        let names = gw.route_names();
        if !names.contains(r) {
            return Err(bad(
                "route",
                &format!("no route {r:?}; the routes are {}", names.join(", ")),
            ));
        }
    }
    let limit = match q.get("limit") {
        None => 50,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=500).contains(l))
            .ok_or_else(|| bad("limit", "must be a whole number from 1 to 500"))?,
    };
    let ms = |k: &str| -> Result<Option<i64>, Box<Response>> {
        text(k)
            .map(|s| instant(k, &s).map(|t| t.timestamp_millis()))
            .transpose()
    };
    Ok(RecentQuery {
        route,
        workload: text("workload"),
        team: text("team"),
        key_id: text("key"),
        status: text("status").map(|s| status(&s)).transpose()?,
        from_ms: ms("from")?,
        until_ms: ms("until")?,
        after: text("after")
            .map(|s| s.parse().map_err(|e: String| bad("after", &e)))
            .transpose()?,
        limit,
        scan_budget: Some(SCAN_BUDGET),
    })
}
