//! Layer 5: the HTTP edge (axum). One ingress module per dialect, one error renderer per
//! dialect, and [`run`], which serves a [`Gateway`] on any listener until told to stop.
//!
//! Handlers extract, call the gateway, render. Business rules live in the gateway.
//! Accepted sockets get `TCP_NODELAY`: without it small keep-alive responses stall on
//! Nagle's algorithm and delayed ACKs (~40 ms each).

mod admin;
mod anthropic;
mod body;
mod openai;
mod strategy_api;

use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use std::future::{Future, IntoFuture};
use std::time::Duration;
use switchyard_gateway::Gateway;
use tokio::net::TcpListener;

/// The full route table.
pub fn app(gateway: Gateway) -> Router {
    let strategy = Router::new()
        .route("/v1/strategy/spend", get(strategy_api::spend))
        .route("/v1/strategy/lockin", get(strategy_api::lockin))
        .route("/v1/strategy/deprecations", get(strategy_api::deprecations))
        .route("/v1/strategy/report", get(strategy_api::report))
        .route_layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            strategy_api::guard,
        ));
    Router::new()
        .route("/v1/chat/completions", post(openai::chat))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/messages/count_tokens", post(anthropic::count_tokens))
        .route("/v1/models", get(openai::models))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(openai::ready))
        .route("/v1/status", get(admin::status))
        .route("/admin/status", get(admin::admin_status))
        .route("/admin/reload", post(admin::reload))
        .route("/admin/keys", post(admin::create_key).get(admin::list_keys))
        .route(
            "/admin/keys/{id}",
            get(admin::get_key)
                .patch(admin::update_key)
                .delete(admin::revoke_key),
        )
        .route("/admin/keys/{id}/rotate", post(admin::rotate_key))
        .route("/admin/keys/{id}/revoke", post(admin::revoke_key))
        .merge(strategy)
        .fallback(openai::not_found)
        .with_state(gateway)
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests (streams
/// included) finish for up to `grace`, and returns. The caller then shuts the recorder down,
/// which commits every record.
pub async fn run(
    listener: TcpListener,
    gateway: Gateway,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let gw = gateway.clone();
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let watcher = tokio::spawn(watch_keys(gateway.clone()));
    let server = axum::serve(listener, app(gateway))
        .with_graceful_shutdown(async move {
            shutdown.await;
            gw.begin_shutdown();
            let _ = stopping_tx.send(());
        })
        .into_future();
    tokio::pin!(server);
    let _stop_watcher = AbortOnDrop(watcher);
    tokio::select! {
        r = &mut server => r,
        _ = stopping_rx => {
            tracing::info!(grace_s = grace.as_secs(), "draining in-flight requests");
            match tokio::time::timeout(grace, server).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!("grace period over; closing remaining connections");
                    Ok(())
                }
            }
        }
    }
}

/// Picks up key changes made by another process (`switchyard keys …` on the same ledger).
async fn watch_keys(gateway: Gateway) {
    let mut tick = tokio::time::interval(gateway.key_poll());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let gw = gateway.clone();
        match tokio::task::spawn_blocking(move || gw.refresh_keys()).await {
            Ok(Ok(true)) => tracing::info!("virtual keys reloaded"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the virtual keys"),
            Err(_) => {}
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
