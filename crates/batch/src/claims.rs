//! The lease on the lines this process runs: how long a claim holds, the task that renews it
//! while the process lives, and the periodic look for batches whose lines a dead runner left
//! claimed (taken over once the lease has run out).
//!
//! A crashed replica's lines in flight wait at most [`LEASE`] before another replica (or the
//! restarted process, which is a new owner) runs them; a graceful stop releases them at once.
//! The same tick carries a cancel made through another replica to this one's runners (their
//! own flag is set when the database says `cancelling`), so they stop starting lines within
//! [`RENEW`] rather than at the end of their chunk.

use crate::{Batches, lock};
use std::sync::atomic::Ordering;
use std::time::Duration;
use switchyard_ledger::batch::Claim;

/// How long a claim holds without renewal.
pub(crate) const LEASE: Duration = Duration::from_secs(30);
/// How often a living process renews its claims: a third of the lease, so two renewals may
/// fail before a claim lapses.
const RENEW: Duration = Duration::from_secs(10);
/// Lines one claim takes: small enough that replicas share a large batch, large enough that
/// a provider batch groups many lines.
pub(crate) const CHUNK: usize = 256;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// This process's claim, leased from now.
pub(crate) fn claim(b: &Batches) -> Claim {
    let now_ms = now_ms();
    Claim {
        owner: b.inner.owner.clone(),
        now_ms,
        lease_until_ms: now_ms + LEASE.as_millis() as i64,
    }
}

/// Renews this process's claims every [`RENEW`], and every [`LEASE`] starts a runner for any
/// unfinished batch without one here (the runner takes only lines no live lease holds).
pub(crate) async fn keep(b: Batches) {
    let mut tick = tokio::time::interval(RENEW);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since_adopt = Duration::ZERO;
    loop {
        tick.tick().await;
        let c = claim(&b);
        if let Err(e) = b.db(move |s| s.renew_claims(&c)).await {
            tracing::warn!(error = %e, "cannot renew batch line claims; retrying");
        }
        notice_cancels(&b).await;
        since_adopt += RENEW;
        if since_adopt >= LEASE {
            since_adopt = Duration::ZERO;
            if let Err(e) = b.adopt().await {
                tracing::warn!(error = %e, "cannot look for unfinished batches; retrying");
            }
        }
    }
}

/// Sets the cancel flag of each batch running here that the database says is cancelling.
async fn notice_cancels(b: &Batches) {
    let running: Vec<(String, std::sync::Arc<std::sync::atomic::AtomicBool>)> =
        lock(&b.inner.running)
            .iter()
            .map(|(id, flag)| (id.clone(), flag.clone()))
            .collect();
    for (id, flag) in running {
        let key = id.clone();
        match b.db(move |s| s.job(&key)).await {
            Ok(Some(j)) if j.status == "cancelling" => flag.store(true, Ordering::Release),
            Ok(_) => {}
            Err(e) => tracing::warn!(batch = %id, error = %e, "cannot read a batch's status"),
        }
    }
}
