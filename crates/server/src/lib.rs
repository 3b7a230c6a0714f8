//! Layer 5: the HTTP edge (axum over hyper's HTTP/1). One ingress module per dialect, one
//! error renderer per dialect, and [`run`], which serves a [`Gateway`] on any listener until
//! told to stop.
//!
//! Handlers extract, call the gateway, render. Business rules live in the gateway.
//! Layers, outside in: [`conn`] (connection cap, header/body/idle timeouts, requests in
//! flight; the socket wrapped by [`tap`], which turns hyper's own bodiless 400/414/431 into
//! JSON), [`edge`] (503 while stopping, every error as JSON in the caller's dialect), the
//! route table in [`routes`], the handlers.
//! Accepted sockets get `TCP_NODELAY`: without it small keep-alive responses stall on
//! Nagle's algorithm and delayed ACKs (~40 ms each).

mod admin;
mod anthropic;
mod batch_api;
mod body;
mod conn;
mod edge;
mod fleet;
mod hot;
mod metrics;
mod multipart;
mod openai;
mod responses_api;
mod routes;
mod strategy_api;
mod tap;
mod ui;

pub use routes::{app, client_endpoints, operator_routes};

use conn::{InFlight, Limits, Shared, Stop};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use switchyard_gateway::Gateway;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

/// Serves until `shutdown` resolves, then stops gracefully:
///
/// 1. `/readyz` turns 503 and every new request (on a new or a pooled connection) gets 503
///    with `Retry-After` and `Connection: close`; the listener keeps accepting.
/// 2. Requests in flight, streams included, finish; the server waits for them (and at
///    least `[server] shutdown_delay_ms`), for at most `grace`.
/// 3. The listener closes, idle connections close, and [`run`] returns. The caller then shuts
///    the recorder down, which commits every record.
pub async fn run(
    listener: TcpListener,
    gateway: Gateway,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let limits = Limits::of(&gateway);
    let in_flight = Arc::new(InFlight::default());
    // batch: the batch API's state is in the ledger file; unfinished batches resume now.
    let batches = switchyard_batch::Batches::open(gateway.clone(), gateway.batch_config().clone())
        .map_err(std::io::Error::other)?;
    match batches.resume().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(batches = n, "resuming unfinished batches"),
        Err(e) => tracing::error!(error = %e, "cannot resume unfinished batches"),
    }
    let shared = Shared {
        router: app(gateway.clone(), batches.clone()),
        gateway: gateway.clone(),
        limits,
        in_flight: in_flight.clone(),
        hot: true,
    };
    // metrics: `[metrics] listen` gets its own listener, kept until this function returns.
    let _metrics = metrics::start(&gateway).await?;
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(Stop::Run);
    let acceptor = tokio::spawn(conn::accept(listener, shared, permits.clone(), stop_rx));
    let _stop_watcher = AbortOnDrop(tokio::spawn(watch_keys(gateway.clone())));
    let _stop_reconcile = AbortOnDrop(tokio::spawn(fleet::reconcile(gateway.clone())));
    let _stop_breakers = AbortOnDrop(tokio::spawn(fleet::breakers(gateway.clone())));
    shutdown.await;
    gateway.leave_fleet().await;
    let deadline = Instant::now() + grace;
    gateway.begin_shutdown();
    tracing::info!(
        grace_s = grace.as_secs_f64(),
        "stopping: /readyz and new requests answer 503; draining in-flight requests"
    );
    let min_delay = tokio::time::sleep(gateway.server_config().shutdown_delay.min(grace));
    let settled = async {
        min_delay.await;
        in_flight.settled().await;
    };
    if tokio::time::timeout_at(deadline, settled).await.is_err() {
        tracing::warn!("grace period over with requests still in flight; closing them");
    }
    // Lines still pending stay so in the ledger file and run after the next start.
    batches.stop();
    let _ = stop_tx.send(Stop::Drain);
    let _ = acceptor.await;
    // Idle connections close at once, a request racing the stop finishes; bounded by grace.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let closed = permits.acquire_many(all);
    if tokio::time::timeout_at(
        deadline.max(Instant::now() + Duration::from_secs(1)),
        closed,
    )
    .await
    .is_err()
    {
        let _ = stop_tx.send(Stop::Abort);
    }
    Ok(())
}

/// Picks up key changes made by another process (`switchyard keys …` on the same ledger),
/// polled every `key_poll`, and at once when a fleet replica announces one.
async fn watch_keys(gateway: Gateway) {
    let mut tick = tokio::time::interval(gateway.key_poll());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut changes = gateway.fleet_key_changes();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = fleet::key_change(&mut changes) => {}
        }
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
