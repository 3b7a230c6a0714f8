//! `/v1/strategy/*`: the strategy engine's figures as JSON, for dashboards.
//!
//! Spend data is sensitive: with a master key set, these endpoints require it (like
//! `/admin`); without one they are served only when `[strategy] api = true` (a local,
//! single-user setup). The work runs on the blocking pool (SQLite reads), never on the
//! request path of the gateway itself.

use crate::openai::json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use switchyard_gateway::Gateway;
use switchyard_ledger::Location;
use switchyard_protocol::openai::ErrorBody;
use switchyard_strategy::{History, deprecations, lockin, report, spend};

type Params = Query<HashMap<String, String>>;

/// The gate in front of every strategy endpoint.
pub async fn guard(
    State(gw): State<Gateway>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if gw.master_key().is_some() {
        if let Some(refusal) = crate::admin::refuse_unless_master(&gw, req.headers()) {
            return refusal;
        }
    } else if !gw.strategy_api() {
        return error(
            StatusCode::NOT_FOUND,
            "The strategy API is off: set a master key (SWITCHYARD_MASTER_KEY) to serve it behind that key, or `[strategy] api = true` to serve it openly on a trusted machine."
                .into(),
        );
    }
    next.run(req).await
}

fn error(status: StatusCode, message: String) -> Response {
    let body = ErrorBody::new("invalid_request_error", None, None, message);
    json(
        status,
        String::from_utf8_lossy(&body.to_json()).into_owned(),
    )
}

/// Loads the history and runs `f` on the blocking pool; errors become JSON errors.
async fn with_history<F>(gw: Gateway, since: Option<&String>, f: F) -> Response
where
    F: FnOnce(
            &History,
            &switchyard_catalog::Catalog,
            chrono::NaiveDate,
        ) -> Result<serde_json::Value, String>
        + Send
        + 'static,
{
    let since = match since
        .map(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .transpose()
    {
        Ok(s) => s,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "`since` must be a date written YYYY-MM-DD.".into(),
            );
        }
    };
    let task = tokio::task::spawn_blocking(move || {
        let store = Location::from(gw.ledger_path())
            .open_existing()
            .map_err(|e| e.to_string())?;
        let h = History::load(store.as_ref(), since).map_err(|e| e.to_string())?;
        f(&h, &gw.catalog(), chrono::Utc::now().date_naive())
    });
    match task.await {
        Ok(Ok(v)) => json(StatusCode::OK, v.to_string()),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The strategy computation failed; see the gateway log.".into(),
        ),
    }
}

/// `v` as JSON, money rounded as in the CLI's `--json` (`switchyard_strategy::rounding`).
fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, String> {
    let mut v = serde_json::to_value(v).map_err(|e| e.to_string())?;
    switchyard_strategy::rounding::round_json(&mut v);
    Ok(v)
}

pub async fn spend(State(gw): State<Gateway>, Query(q): Params) -> Response {
    let by = match q
        .get("by")
        .map_or(Ok(spend::Dimension::Workload), |s| s.parse())
    {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let period = match q
        .get("period")
        .map_or(Ok(spend::Period::Total), |s| s.parse())
    {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    with_history(gw, q.get("since"), move |h, _, _| {
        to_json(&spend::report(h, by, period))
    })
    .await
}

pub async fn lockin(State(gw): State<Gateway>, Query(q): Params) -> Response {
    let store = gw.eval_store_path();
    with_history(gw, q.get("since"), move |h, c, today| {
        let evidence = switchyard_strategy::readiness::load_evidence(&store);
        to_json(&lockin::score_all(
            h,
            c,
            &lockin::EffortModel::default(),
            today,
            &evidence,
        ))
    })
    .await
}

pub async fn deprecations(State(gw): State<Gateway>, Query(q): Params) -> Response {
    let store = gw.eval_store_path();
    with_history(gw, q.get("since"), move |h, c, today| {
        let evidence = switchyard_strategy::readiness::load_evidence(&store);
        to_json(&deprecations::exposures_with(h, c, today, &evidence))
    })
    .await
}

pub async fn report(State(gw): State<Gateway>, Query(q): Params) -> Response {
    let owner = q.get("owner").cloned().unwrap_or_default();
    let store = gw.eval_store_path();
    let (ledger, batchable) = (Location::from(gw.ledger_path()), gw.batchable());
    with_history(gw, q.get("since"), move |h, c, today| {
        // The savings ledger: the ledger crate's figures, the same `strategy report` shows.
        let ledger = ledger.open_existing().map_err(|e| e.to_string())?;
        let levers = Some(
            ledger
                .levers(c, today, &batchable)
                .map_err(|e| e.to_string())?,
        );
        let opts = report::ReportOptions {
            owner,
            evidence: switchyard_strategy::readiness::load_evidence(&store),
            levers,
            ..Default::default()
        };
        to_json(&report::build(h, c, today, &opts))
    })
    .await
}
