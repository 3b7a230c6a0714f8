//! `[fleet]` in the gateway: the shared admission the pipeline awaits, the key-change notices
//! the server's key watcher listens to, breaker openings shared with the other replicas, the periodic reconcile of the shared budget counters
//! with this replica's ledger, and the fleet's part of `/v1/status`. Without `[fleet]` each of
//! these is a no-op and nothing here touches the request path.

use crate::Gateway;
use crate::TargetMeta;
use crate::admission::Door;
use crate::error::GatewayError;
use crate::governance::{Admitted, Caller};
use crate::pipeline::RequestContext;
use chrono::Utc;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use switchyard_governance::LedgerSpend;
use switchyard_router::Route;
use tokio::sync::watch;

impl Gateway {
    /// With `[fleet]`: the shared admission (one Redis round trip) of a demand
    /// [`admit_deferring`](Self::admit_deferring) left pending; otherwise `admitted` as it is.
    pub(crate) async fn admit_shared(
        &self,
        ctx: &RequestContext,
        kind: switchyard_ledger::RecordKind,
        route: &Route<TargetMeta>,
        mut admitted: Admitted,
    ) -> Result<Admitted, GatewayError> {
        let Some(demand) = admitted.pending.take() else {
            return Ok(admitted);
        };
        let (Some(fleet), Caller::Key(key)) = (&self.governance().fleet, &ctx.caller) else {
            return Ok(admitted);
        };
        let decided = fleet.admit(key, Utc::now(), demand).await;
        self.admission(Door { ctx, kind, route }, key, decided)
    }

    /// The fleet's key-change version (it moves when any replica changes a key), or `None`
    /// without `[fleet]`.
    pub fn fleet_key_changes(&self) -> Option<watch::Receiver<u64>> {
        self.governance().fleet.as_ref().map(|f| f.key_changes())
    }

    /// How often [`reconcile_fleet`](Self::reconcile_fleet) should run; `None` without
    /// `[fleet]`.
    pub fn fleet_reconcile_interval(&self) -> Option<Duration> {
        self.governance()
            .fleet
            .as_ref()
            .map(|f| f.options().reconcile_every)
    }

    /// Raises the fleet's budget counters to this replica's ledger where the ledger saw more,
    /// and records the drift; the number of budgets that drifted. Reads the ledger on the
    /// blocking pool.
    pub async fn reconcile_fleet(&self) -> Result<usize, String> {
        let Some(fleet) = self.governance().fleet.clone() else {
            return Ok(0);
        };
        let gw = self.clone();
        let now = Utc::now();
        let readings = tokio::task::spawn_blocking(move || {
            let gov = gw.governance();
            let spend = LedgerSpend::at(&gov.ledger).map_err(|e| e.to_string())?;
            switchyard_governance::fleet::readings(&gov.governor, &spend, now)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        match fleet.reconcile(&readings, now).await {
            Some(drift) => Ok(drift.len()),
            None => Err("redis is unreachable; the counters reconcile when it is back".into()),
        }
    }

    /// Leaves the fleet's live set (a graceful stop), so the other replicas' shares grow.
    pub async fn leave_fleet(&self) {
        if let Some(fleet) = &self.governance().fleet {
            fleet.leave().await;
        }
    }

    /// Shares circuit breakers with the fleet (the server runs it every 250 ms): announces the
    /// breakers this replica opened since the last call (`seen`: each breaker's own openings
    /// then), and opens here those another replica opened. Does nothing without `[fleet]`.
    pub async fn sync_breakers(&self, seen: &mut HashMap<String, u64>) {
        let Some(fleet) = &self.governance().fleet else {
            return;
        };
        let (now, instant) = (Utc::now(), Instant::now());
        for (label, health) in self.inner.health.entries() {
            let snap = health.snapshot(instant);
            let before = seen.insert(label.clone(), snap.opened_total);
            let opened_here = before.is_some_and(|b| snap.opened_total > b);
            if let (true, Some(left)) = (opened_here, snap.retry_in) {
                let until = now + chrono::TimeDelta::from_std(left).unwrap_or_default();
                fleet.announce_breaker(&label, until).await;
            }
        }
        for (label, left) in fleet.open_breakers(now).await.unwrap_or_default() {
            if let Some(health) = self.inner.health.find(&label) {
                health.force_open(instant, left);
            }
        }
    }

    /// The fleet's state for `/v1/status`; `None` without `[fleet]`.
    pub(crate) fn fleet_status_json(&self) -> Option<serde_json::Value> {
        let fleet = self.governance().fleet.as_ref()?;
        serde_json::to_value(fleet.status()).ok()
    }
}
