//! Reconciling the fleet's budget counters with the ledger (on start and every
//! `reconcile_every`): each budget's `spent` in Redis is raised to the ledger's figure for the
//! period when the ledger saw more (Redis restarted empty, or lost writes), never lowered (the
//! ledger is written in batches and lags, and with one ledger per replica it sees only its own
//! spend). The difference is drift, logged and shown in `/v1/status`.

use super::scripts::RECONCILE_SCRIPT;
use super::{Fleet, budget_ttl_ms, lock, nano, usd};
use crate::{Governor, Period, SpendError, SpendSource};
use chrono::{DateTime, Utc};
use serde::Serialize;
use switchyard_primitives::Money;

/// Most drifting budgets kept for `/v1/status` (largest first).
const MAX_REPORTED: usize = 20;

/// The ledger's spend for one budget's current period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub key_id: String,
    pub period: Period,
    pub ledger_usd: Money,
}

/// One budget whose Redis counter and ledger disagreed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub key_id: String,
    pub period: Period,
    /// `spent` in Redis before reconciling.
    pub redis_usd: Money,
    pub ledger_usd: Money,
    /// `redis - ledger`: above zero is spend the ledger has not (yet) recorded; below zero
    /// was missing from Redis and has been added.
    pub drift_usd: Money,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    pub(crate) at: Option<DateTime<Utc>>,
    pub(crate) drift: Vec<Drift>,
}

/// The ledger's spend for every budget of every loaded key (blocking: call it off the async
/// workers).
pub fn readings(
    governor: &Governor,
    spend: &dyn SpendSource,
    now: DateTime<Utc>,
) -> Result<Vec<Reading>, SpendError> {
    let mut out = Vec::new();
    for key in governor.handles() {
        for b in &key.info().spec.budgets {
            out.push(Reading {
                key_id: key.id().to_owned(),
                period: b.period,
                ledger_usd: spend.spent_since(key.id(), b.period.start(now))?,
            });
        }
    }
    Ok(out)
}

impl Fleet {
    /// Raises each budget's counter to the ledger's figure where the ledger saw more, and
    /// records the drift; `None` when Redis is unreachable (nothing changed).
    pub async fn reconcile(&self, readings: &[Reading], now: DateTime<Utc>) -> Option<Vec<Drift>> {
        let i = &self.inner;
        // Just after an outage the other replicas may not have added the spend they counted
        // locally yet, while the ledger already holds it: raising the counter to the ledger
        // now would count that spend twice once they do. Wait three heartbeats.
        // And while Redis is out (a reconcile reaching a Redis that just came back, before
        // the heartbeat added this replica's outage spend, would do the same).
        let recent = lock(&i.recovered_at).is_some_and(|t| t.elapsed() < i.opts.heartbeat * 3);
        if recent || !i.link.is_up() {
            return None;
        }
        if readings.is_empty() {
            // No budgets to compare (and an empty pipeline is an error to Redis).
            *lock(&i.report) = Report {
                at: Some(now),
                drift: Vec::new(),
            };
            return Some(Vec::new());
        }
        let mut pipe = redis::pipe();
        for r in readings {
            let key = i.budget_key(&r.key_id, r.period, now);
            let args = [
                "0".to_owned(),
                nano(r.ledger_usd).to_string(),
                budget_ttl_ms(r.period, now).to_string(),
            ];
            pipe.add_command(RECONCILE_SCRIPT.cmd(&[key], &args));
        }
        let before: Vec<String> = i.pipeline(&pipe, i.opts.op_timeout * 4).await?;
        let mut drift: Vec<Drift> = readings
            .iter()
            .zip(before)
            .filter_map(|(r, spent)| {
                let redis_usd = usd(spent.parse().unwrap_or(0));
                let drift_usd = Money::new(redis_usd.decimal() - r.ledger_usd.decimal());
                (!drift_usd.is_zero()).then(|| Drift {
                    key_id: r.key_id.clone(),
                    period: r.period,
                    redis_usd,
                    ledger_usd: r.ledger_usd,
                    drift_usd,
                })
            })
            .collect();
        drift.sort_by(|a, b| {
            b.drift_usd
                .decimal()
                .abs()
                .cmp(&a.drift_usd.decimal().abs())
        });
        for d in drift
            .iter()
            .filter(|d| d.drift_usd.decimal().is_sign_negative())
        {
            tracing::warn!(key_id = %d.key_id, period = %d.period, redis = %d.redis_usd, ledger = %d.ledger_usd,
                "fleet: budget counter was below the ledger; raised to the ledger's spend");
        }
        *lock(&i.report) = Report {
            at: Some(now),
            drift: drift.iter().take(MAX_REPORTED).cloned().collect(),
        };
        Some(drift)
    }
}
