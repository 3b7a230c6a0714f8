//! The server's fleet tasks (only with `[fleet]`): reconcile the shared budget counters with
//! this replica's ledger at start and every `fleet.reconcile_interval_ms`, and leave the live
//! set on a graceful stop so the other replicas' fallback shares grow at once.

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
