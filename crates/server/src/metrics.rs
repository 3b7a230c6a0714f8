//! `GET /metrics`: the Prometheus scrape (`[metrics]`). On the main listener, or, with
//! `[metrics] listen`, on a listener of its own that serves nothing else (same accept loop,
//! timeouts and connection cap, a cap of [`MAX_CONNECTIONS`], no model endpoints). With
//! `token_env`, a scrape must present `Authorization: Bearer <token>`; anything else is a 401
//! in OpenAI's error shape that names what to send, never what was expected.

use crate::admin::error;
use crate::conn::{self, InFlight, Limits, Shared, Stop};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use switchyard_gateway::Gateway;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connections the metrics listener serves at once (scrapers are few).
const MAX_CONNECTIONS: usize = 16;

fn unauthorized(message: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "authentication_error", message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"switchyard-metrics\""),
    );
    r
}

/// The scrape, on whichever listener serves it.
async fn scrape(gw: &Gateway, headers: &HeaderMap) -> Response {
    if let Some(token) = gw.metrics_token() {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        match presented {
            None => {
                return unauthorized(
                    "/metrics needs the scrape token: send it as `Authorization: Bearer <token>` (the value of the variable [metrics] token_env names; in Prometheus, `authorization: { credentials_file: … }`).",
                );
            }
            Some(t) if !switchyard_gateway::secret_eq(t, token.expose()) => {
                return unauthorized(
                    "/metrics needs the scrape token as `Authorization: Bearer <token>`; the token presented is not it.",
                );
            }
            Some(_) => {}
        }
    }
    let Some(text) = gw.metrics_text() else {
        return off();
    };
    (
        [(header::CONTENT_TYPE, switchyard_telemetry::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

fn off() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found_error",
        "Metrics are off: add a [metrics] section to the config (see docs/configuration.md) and restart.",
    )
}

/// `GET /metrics` on the main listener.
pub async fn main_listener(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    match gw.metrics_config().map(|m| m.listen) {
        None => off(),
        Some(Some(addr)) => error(
            StatusCode::NOT_FOUND,
            "not_found_error",
            &format!("Metrics are served on their own listener, {addr}, not on this one."),
        ),
        Some(None) => scrape(&gw, &headers).await,
    }
}

async fn own_listener(State(gw): State<Gateway>, headers: HeaderMap) -> Response {
    scrape(&gw, &headers).await
}

async fn only_metrics() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found_error",
        "This listener serves only GET /metrics.",
    )
}

/// Binds `[metrics] listen` and serves `/metrics` there until the returned sender is dropped
/// or told to stop. `None` when metrics share the main listener (or are off).
pub(crate) async fn start(
    gw: &Gateway,
) -> std::io::Result<Option<(SocketAddr, watch::Sender<Stop>)>> {
    let Some(addr) = gw.metrics_config().and_then(|m| m.listen) else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on [metrics] listen {addr}: {e}"),
        )
    })?;
    let bound = listener.local_addr()?;
    let router = Router::new()
        .route("/metrics", axum::routing::get(own_listener))
        .fallback(only_metrics)
        .with_state(gw.clone());
    let mut limits = Limits::of(gw);
    limits.max_connections = MAX_CONNECTIONS;
    let shared = Shared {
        router,
        gateway: gw.clone(),
        limits,
        in_flight: Arc::new(InFlight::default()),
        hot: false,
    };
    let (tx, rx) = watch::channel(Stop::Run);
    tokio::spawn(conn::accept(
        listener,
        shared,
        Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        rx,
    ));
    tracing::info!(listen = %bound, "metrics on their own listener");
    Ok(Some((bound, tx)))
}
