//! The operator's strategy and evaluation views: `GET /v1/dashboard/shock` (the price-shock
//! simulator: one provider's prices × a factor, each workload's extra cost and its proven
//! or candidate move, by [`switchyard_strategy::report::shock`], the engine behind the
//! report's doubling plan), `GET /v1/dashboard/report` (the vendor-strategy report as
//! Markdown or HTML, as `switchyard strategy report` writes it) and
//! `GET /v1/dashboard/evaluation` (datasets, latest replay runs, shadow results and readiness
//! over the window `switchyard eval readiness` uses).
//! Lock-in and deprecations come from `/v1/strategy/*` as they are.

use super::params::{Query, bad, only};
use super::read::{Answer, blocking, to_json};
use super::viewer::master_only;
use axum::extract::{Query as Q, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rust_decimal::Decimal;
use std::str::FromStr;
use switchyard_gateway::Gateway;
use switchyard_ledger::Location;
use switchyard_strategy::{History, lockin, readiness, report};

/// The history of the last 30 days' traffic and what the engine needs beside it.
struct Loaded {
    history: History,
    catalog: std::sync::Arc<switchyard_catalog::Catalog>,
    evidence: Vec<lockin::Evidence>,
    today: chrono::NaiveDate,
}

fn load(gw: &Gateway) -> Result<Loaded, String> {
    let store = Location::from(gw.ledger_path())
        .open_existing()
        .map_err(|e| e.to_string())?;
    Ok(Loaded {
        history: History::load(store.as_ref(), None).map_err(|e| e.to_string())?,
        catalog: gw.catalog(),
        evidence: readiness::load_evidence(&gw.eval_store_path()),
        today: Utc::now().date_naive(),
    })
}

fn factor(q: &Query) -> Result<Decimal, Box<Response>> {
    q.get("factor")
        .map_or(Ok(Decimal::from(2)), |s| {
            Decimal::from_str(s).map_err(|_| ())
        })
        .ok()
        .filter(|f| *f > Decimal::ZERO && *f <= Decimal::from(100))
        .ok_or_else(|| {
            bad(
                "factor",
                "must be a number above 0 and at most 100 (2 doubles the prices)",
            )
        })
}

pub async fn shock(State(gw): State<Gateway>, headers: HeaderMap, Q(q): Q<Query>) -> Response {
    let checked = master_only(&gw, &headers).and_then(|()| {
        only(&q, &["provider", "factor"])?;
        let provider = q.get("provider").filter(|p| !p.is_empty()).cloned();
        let provider = provider
            .ok_or_else(|| bad("provider", "is required: the provider whose prices change"))?;
        if !gw.catalog().models().iter().any(|m| m.provider == provider) {
            return Err(bad(
                "provider",
                &format!("the catalog has no provider {provider:?}"),
            ));
        }
        Ok((provider, factor(&q)?))
    });
    let (provider, factor) = match checked {
        Ok(c) => c,
        Err(r) => return *r,
    };
    blocking(move || {
        let l = load(&gw)?;
        let lockins = lockin::score_all(
            &l.history,
            &l.catalog,
            &lockin::EffortModel::default(),
            l.today,
            &l.evidence,
        );
        to_json(&report::shock(
            &l.history,
            &l.catalog,
            l.today,
            (&provider, factor, &lockins),
        ))
    })
    .await
}

/// The report's data, as `switchyard strategy report` builds it without a contracts file.
fn build_report(gw: &Gateway) -> Result<report::ReportData, String> {
    let l = load(gw)?;
    let store = Location::from(gw.ledger_path())
        .open_existing()
        .map_err(|e| e.to_string())?;
    let levers = store
        .levers(&l.catalog, l.today, &gw.batchable())
        .map_err(|e| e.to_string())?;
    let opts = report::ReportOptions {
        evidence: l.evidence,
        levers: Some(levers),
        ..Default::default()
    };
    Ok(report::build(&l.history, &l.catalog, l.today, &opts))
}

pub async fn report(State(gw): State<Gateway>, headers: HeaderMap, Q(q): Q<Query>) -> Response {
    let checked = master_only(&gw, &headers).and_then(|()| {
        only(&q, &["format"])?;
        match q.get("format").map_or("markdown", String::as_str) {
            f @ ("markdown" | "html") => Ok(f == "html"),
            _ => Err(bad("format", "must be markdown or html")),
        }
    });
    let html = match checked {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let done = tokio::task::spawn_blocking(move || {
        let data = build_report(&gw)?;
        let md = report::render_markdown(&data, &[]);
        Ok::<_, String>(if html {
            report::render_html(&data, &md)
        } else {
            md
        })
    })
    .await;
    match done {
        Ok(Ok(text)) => download(text, html),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the strategy report failed");
            crate::admin::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                &format!("The report could not be built: {e}"),
            )
        }
        Err(_) => crate::admin::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "The report could not be built; see the gateway log.",
        ),
    }
}

/// The document as an attachment named for its format.
fn download(text: String, html: bool) -> Response {
    let (kind, name) = if html {
        (
            "text/html; charset=utf-8",
            "attachment; filename=\"vendor-strategy.html\"",
        )
    } else {
        (
            "text/markdown; charset=utf-8",
            "attachment; filename=\"vendor-strategy.md\"",
        )
    };
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    r
}

fn evaluation_json(gw: &Gateway) -> Answer {
    let path = gw.eval_store_path();
    if !switchyard_evalstore::exists(&path) {
        return Ok(serde_json::json!({"datasets": [], "runs": [], "shadow": [], "readiness": []}));
    }
    let store = switchyard_evalstore::open(&path).map_err(|e| e.to_string())?;
    // The window `switchyard eval readiness` reads shadow results over.
    let since = Utc::now() - chrono::Duration::days(readiness::SHADOW_WINDOW_DAYS);
    let runs: Vec<serde_json::Value> = store
        .latest_runs()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| serde_json::json!({
            "id": r.id, "created": r.created, "dataset_id": r.dataset_id, "workload": r.workload,
            "candidate": r.candidate, "baseline": r.baseline, "verdict": r.verdict,
            "summary": r.report.get("summary").cloned().unwrap_or_default(),
        }))
        .collect();
    // Unrounded: scores and intervals are fractions, as `eval readiness --json` keeps them.
    Ok(serde_json::json!({
        "datasets": store.datasets().map_err(|e| e.to_string())?,
        "runs": runs,
        "shadow": store.shadow_stats(since).map_err(|e| e.to_string())?,
        "readiness": readiness::readiness(store.as_ref(), since, switchyard_eval::DEFAULT_MARGIN).map_err(|e| e.to_string())?,
    }))
}

pub async fn evaluation(State(gw): State<Gateway>, headers: HeaderMap, Q(q): Q<Query>) -> Response {
    if let Err(r) = master_only(&gw, &headers).and_then(|()| only(&q, &[])) {
        return *r;
    }
    blocking(move || evaluation_json(&gw)).await
}
