//! The server's fleet tasks (only with `[fleet]`): reconcile the shared budget counters with
//! this replica's ledger at start and every `fleet.reconcile_interval_ms`, share circuit
//! breaker openings every 250 ms (so one replica's opening is seen by all within a second),
//! and leave the live set on a graceful stop so the other replicas' fallback shares grow.

use switchyard_gateway::Gateway;

/// Reconciles now and then every interval; returns at once without `[fleet]`.
pub(crate) async fn reconcile(gateway: Gateway) {
    let Some(every) = gateway.fleet_reconcile_interval() else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match gateway.reconcile_fleet().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                budgets = n,
                "fleet: budget counters differ from the ledger (see /v1/status)"
            ),
            Err(e) => tracing::debug!(error = %e, "fleet: reconcile skipped"),
        }
    }
}

/// Shares breaker openings with the fleet every 250 ms; returns at once without `[fleet]`.
pub(crate) async fn breakers(gateway: Gateway) {
    if gateway.fleet_reconcile_interval().is_none() {
        return;
    }
    let mut seen = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        gateway.sync_breakers(&mut seen).await;
    }
}

/// Waits for the next key-change notice, or forever without `[fleet]` (the poll decides).
pub(crate) async fn key_change(changes: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    match changes {
        Some(rx) => {
            if rx.changed().await.is_err() {
                *changes = None;
            }
        }
        None => std::future::pending().await,
    }
}
