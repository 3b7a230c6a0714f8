//! Enforcement while Redis is unreachable: each key gets, for the outage, in-process counters
//! whose limits are this replica's share of what the fleet had left (`(limit - last seen
//! used) / live replicas`; `rpm` and `tpm` divided the same way, at least 1), checked by the
//! same code as in-process governance. Spend settled meanwhile is kept as deferred spend per
//! budget period and added to Redis when it is back.

use super::shared::Settle;
use super::{Inner, lock};
use crate::admit::{Hold, LocalHold, Reservation, admit_cell};
use crate::governor::KeyCell;
use crate::state::left;
use crate::{Admission, Demand, Denied, KeyHandle, KeyInfo, Period};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use switchyard_primitives::Money;

/// Each key's `spent + reserved` per period as Redis last reported it, with the period's
/// start: what a share is cut from.
#[derive(Default)]
pub(crate) struct Known(HashMap<String, [Option<(i64, Money)>; 3]>);

/// The current outage's shares and the spend not yet in Redis.
#[derive(Default)]
pub(crate) struct Outage {
    shares: HashMap<String, (Arc<KeyCell>, KeyInfo)>,
    /// (key id, period, period start ms) → spend settled under a local share.
    deferred: HashMap<(String, Period, i64), Money>,
    /// Settlements of holds taken in Redis that could not reach it; resent when it is back
    /// (which also ends their leases early).
    settles: Vec<Settle>,
    deferred_count: u64,
}

/// What an outage leaves for Redis when it ends.
pub(crate) struct Leftover {
    pub(crate) spend: Vec<((String, Period, i64), Money)>,
    pub(crate) settles: Vec<Settle>,
}

impl Outage {
    pub(crate) fn deferred_count(&self) -> u64 {
        self.deferred_count
    }

    /// Ends the outage's shares (Redis is back) and hands over what Redis has not seen.
    pub(crate) fn end(&mut self) -> Leftover {
        self.shares.clear();
        self.deferred_count = 0;
        Leftover {
            spend: self.deferred.drain().collect(),
            settles: std::mem::take(&mut self.settles),
        }
    }

    /// Puts back spend that could not be flushed yet.
    pub(crate) fn restore(&mut self, entries: Vec<((String, Period, i64), Money)>) {
        for (k, m) in entries {
            *self.deferred.entry(k).or_default() += m;
            self.deferred_count += 1;
        }
    }

    fn add(&mut self, key_id: &str, periods: &[Period], actual: Money, at: DateTime<Utc>) {
        self.deferred_count += 1;
        if actual.is_zero() {
            return;
        }
        for &p in periods {
            let start = p.start(at).timestamp_millis();
            *self
                .deferred
                .entry((key_id.to_owned(), p, start))
                .or_default() += actual;
        }
    }
}

/// A hold on this replica's share; its settlement is also deferred spend for Redis.
#[derive(Debug)]
pub(crate) struct FallbackHold {
    local: LocalHold,
    fleet: Weak<Inner>,
    key_id: String,
    periods: Vec<Period>,
}

impl FallbackHold {
    pub(crate) fn settle(self, actual_usd: Money, actual_tokens: u64, now: DateTime<Utc>) {
        self.local.settle(actual_usd, actual_tokens, now);
        if let Some(fleet) = self.fleet.upgrade() {
            lock(&fleet.outage).add(&self.key_id, &self.periods, actual_usd, now);
        }
    }
}

impl Inner {
    /// Records what Redis reported for a key, for the next outage's shares.
    pub(crate) fn remember(
        &self,
        key_id: &str,
        budgets: &[crate::Budget],
        counters: &[(Money, Money)],
        now: DateTime<Utc>,
    ) {
        let mut known = lock(&self.known);
        let entry = known.0.entry(key_id.to_owned()).or_default();
        for (b, &(spent, reserved)) in budgets.iter().zip(counters) {
            let start = b.period.start(now).timestamp_millis();
            entry[b.period.index()] = Some((start, spent + reserved));
        }
    }

    /// Settlements the settlement task could not send: kept until Redis is back.
    pub(crate) fn defer(&self, batch: Vec<Settle>) {
        let mut outage = lock(&self.outage);
        outage.deferred_count += batch.len() as u64;
        outage.settles.extend(batch);
    }

    /// Admission against this replica's share of the key's budgets and limits.
    pub(crate) fn admit_share(
        self: &Arc<Self>,
        key: &KeyHandle,
        now: DateTime<Utc>,
        demand: Demand,
    ) -> Result<Admission, Denied> {
        let (cell, info) = {
            let mut outage = lock(&self.outage);
            let (cell, info) = outage
                .shares
                .entry(key.id().to_owned())
                .or_insert_with(|| self.share_of(key, now));
            (cell.clone(), info.clone())
        };
        let admission = admit_cell(&cell, &info, now, demand)?;
        let Admission {
            reservation,
            remaining_budget_usd,
            remaining_requests,
            remaining_tokens,
            warnings,
        } = admission;
        let hold = reservation.into_local().map(|local| FallbackHold {
            local,
            fleet: Arc::downgrade(self),
            key_id: key.id().to_owned(),
            periods: key.info().spec.budgets.iter().map(|b| b.period).collect(),
        });
        let reservation = match hold {
            Some(h) => Reservation::new(Hold::Fallback(h)),
            None => {
                return Err(Denied::Unavailable {
                    retry_after: self.opts.heartbeat,
                });
            }
        };
        Ok(Admission {
            reservation,
            remaining_budget_usd,
            remaining_requests,
            remaining_tokens,
            warnings,
        })
    }

    /// The key's settings with this replica's share as its limits, and fresh counters.
    fn share_of(&self, key: &KeyHandle, now: DateTime<Utc>) -> (Arc<KeyCell>, KeyInfo) {
        let replicas = self.replicas();
        let mut info = key.info().clone();
        let known = lock(&self.known).0.get(key.id()).copied();
        for b in &mut info.spec.budgets {
            let start = b.period.start(now).timestamp_millis();
            let used = match known.and_then(|k| k[b.period.index()]) {
                Some((s, used)) if s == start => used,
                // Never seen in Redis this period: what the ledger said at load.
                _ => key.cell.lock().counter(b.period, now).spent,
            };
            let rest = left(b.limit_usd, used).decimal();
            b.limit_usd = Money::new(rest / rust_decimal::Decimal::from(replicas));
        }
        let divide = |n: u64| n.div_ceil(replicas).max(1);
        info.spec.rpm = info
            .spec
            .rpm
            .map(|r| u32::try_from(divide(u64::from(r))).unwrap_or(r));
        info.spec.tpm = info.spec.tpm.map(divide);
        tracing::info!(key_id = %key.id(), replicas, "fleet: local share set for the outage");
        let loaded = info
            .spec
            .budgets
            .iter()
            .map(|b| (b.period, Money::ZERO))
            .collect();
        (Arc::new(KeyCell::new(&info, loaded, now)), info)
    }
}
