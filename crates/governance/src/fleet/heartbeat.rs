//! The heartbeat: every `heartbeat` the replica refreshes its entry in the live set, learns
//! how many replicas are live and the key-change version (the polling fallback for the
//! pub/sub notice), and, being the one operation tried while Redis is down, probes it. The
//! beat that finds Redis back reloads the scripts, adds the spend settled meanwhile, and ends
//! the outage's local shares.

use super::scripts::{HEARTBEAT_SCRIPT, RECONCILE_SCRIPT};
use super::{Inner, lock, nano};
use crate::Period;
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use switchyard_primitives::Money;

pub(crate) fn spawn(inner: Weak<Inner>) {
    tokio::spawn(async move {
        let Some(every) = inner.upgrade().map(|i| i.opts.heartbeat) else {
            return;
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            beat(&inner, Utc::now()).await;
        }
    });
}

/// One heartbeat; true when Redis answered.
pub(crate) async fn beat(inner: &Arc<Inner>, now: DateTime<Utc>) -> bool {
    let now_ms = now.timestamp_millis();
    let stale_ms = i64::try_from(inner.opts.heartbeat.as_millis() * 3).unwrap_or(i64::MAX / 4);
    let keys = [inner.replicas_key(), inner.keys_version_key()];
    let args = [
        inner.opts.replica_id.clone(),
        now_ms.to_string(),
        (now_ms - stale_ms).to_string(),
    ];
    let mut conn = inner.conn.clone();
    let call = HEARTBEAT_SCRIPT.run::<Vec<String>>(&mut conn, &keys, &args);
    let outcome = tokio::time::timeout(inner.opts.op_timeout, call).await;
    let Some(reply) = inner.link.outcome(outcome, inner.opts.op_timeout) else {
        tracing::warn!(
            replicas = inner.replicas(),
            fallback_admissions = inner.fallback_admissions.load(Ordering::Relaxed),
            error = inner.link.last_error().unwrap_or_default(),
            "fleet: redis still unreachable; enforcing this replica's share locally"
        );
        return false;
    };
    let count = reply
        .first()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    inner.replicas.store(count.max(1), Ordering::Relaxed);
    let version = reply
        .get(1)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    inner.keys_version.send_if_modified(|v| {
        let changed = *v != version;
        *v = version;
        changed
    });
    if inner.link.succeeded() {
        recover(inner).await;
    }
    true
}

/// Redis is back: deferred settlements resent, deferred spend added (pipelines reload the
/// scripts a restart emptied).
async fn recover(inner: &Inner) {
    let left = lock(&inner.outage).end();
    for s in left.settles {
        let _ = inner.settle_tx.send(s);
    }
    let entries = left.spend;
    if entries.is_empty() {
        return;
    }
    if flush(inner, &entries).await {
        tracing::info!(
            budgets = entries.len(),
            "fleet: spend settled during the outage added to redis"
        );
    } else {
        lock(&inner.outage).restore(entries);
    }
}

/// Adds deferred spend to each budget hash it belongs to (the reconcile script, no ledger
/// figure).
async fn flush(inner: &Inner, entries: &[((String, Period, i64), Money)]) -> bool {
    let mut pipe = redis::pipe();
    for ((key_id, period, start), amount) in entries {
        let key = inner.key_of(key_id, &format!("b:{period}:{start}"));
        let args = [
            nano(*amount).to_string(),
            "-1".to_owned(),
            super::budget_ttl_ms(*period, Utc::now()).to_string(),
        ];
        pipe.add_command(RECONCILE_SCRIPT.cmd(&[key], &args))
            .ignore();
    }
    inner
        .pipeline::<()>(&pipe, inner.opts.op_timeout)
        .await
        .is_some()
}
