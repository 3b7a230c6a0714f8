//! Running a dashboard read: the ledger opened on the blocking pool (SQLite and PostgreSQL
//! calls block), the figures as JSON with money rounded as the CLI's `--json` rounds it.

use crate::admin::error;
use crate::openai::json;
use axum::http::StatusCode;
use axum::response::Response;
use switchyard_gateway::Gateway;
use switchyard_ledger::{Location, Store};

/// What a read returns: the JSON to send, or a message for a 500.
pub type Answer = Result<serde_json::Value, String>;

/// Runs `f` on the ledger on the blocking pool and renders its answer.
pub async fn with_ledger<F>(gw: &Gateway, f: F) -> Response
where
    F: FnOnce(&dyn Store) -> Answer + Send + 'static,
{
    let location = Location::from(gw.ledger_path());
    let task = tokio::task::spawn_blocking(move || {
        let store = location.open_existing().map_err(|e| e.to_string())?;
        f(store.as_ref())
    });
    finish(task.await)
}

/// Runs `f` on the blocking pool (the strategy engine, the eval store) and renders its answer.
pub async fn blocking<F>(f: F) -> Response
where
    F: FnOnce() -> Answer + Send + 'static,
{
    finish(tokio::task::spawn_blocking(f).await)
}

fn finish(done: Result<Answer, tokio::task::JoinError>) -> Response {
    match done {
        Ok(answer) => render(answer),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "The dashboard read failed; see the gateway log.",
        ),
    }
}

/// The answer as a 200, or its failure as a 500 that says what went wrong.
pub fn render(answer: Answer) -> Response {
    match answer {
        Ok(v) => json(StatusCode::OK, v.to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "dashboard read failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                &format!("The dashboard could not read its figures: {e}"),
            )
        }
    }
}

/// `v` as JSON, money rounded as in the CLI's `--json`.
pub fn to_json<T: serde::Serialize>(v: &T) -> Answer {
    let mut v = serde_json::to_value(v).map_err(|e| e.to_string())?;
    switchyard_strategy::rounding::round_json(&mut v);
    Ok(v)
}
