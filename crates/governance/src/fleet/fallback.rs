//! Enforcement while Redis is unreachable or slow: each key gets in-process counters whose
//! limits are this replica's share of what the fleet had left as Redis last reported it
//! (`(limit - last seen used) / live replicas` per budget; for `rpm`, a bucket of `rpm /
//! live replicas` holding `(requests the shared bucket had left) / live replicas`; `tpm`
//! divided, at least 1), checked by the same code as in-process governance.
//!
//! A share lives until Redis reports on the key again (the next shared admission), not just
//! until the outage ends, so a Redis that keeps timing out now and then cannot hand out a
//! fresh full share at each hiccup. What was admitted and settled under a share is added to
//! Redis when it is back, before shared admission resumes: spend to each budget period,
//! requests to the shared `rpm` bucket, tokens to the `tpm` window's one-second buckets
//! (those still inside its minute). An admission that timed out may have counted in Redis as
//! well; it is charged here, and its settlement goes to Redis under its own reservation,
//! which releases what it held there and gives back the `rpm` slot it took (see `settle`;
//! a key with only an `rpm` limit has its slot given back from the call's late reply, see
//! `late`).

use super::prepared::Prepared;
use super::settle::{Settle, SharedHold};
use super::shared::{Ask, requests_left};
use super::{Inner, lock};
use crate::admit::{Hold, LocalHold, Reservation, admit_cell};
use crate::governor::KeyCell;
use crate::state::left;
use crate::{Admission, Denied, KeyHandle, KeyInfo, Period};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use switchyard_primitives::Money;

/// What Redis last reported for each key: `spent + reserved` per period with the period's
/// start, and the `rpm` bucket's arrival time: what a share is cut from.
#[derive(Default)]
pub(crate) struct Known(HashMap<String, KnownKey>);

#[derive(Default, Clone, Copy)]
pub(crate) struct KnownKey {
    budgets: [Option<(i64, Money)>; 3],
    tat_ms: Option<i64>,
}

/// The local shares and what Redis has not seen yet.
#[derive(Default)]
pub(crate) struct Outage {
    /// key id → its share, and whether it was cut cautiously (while Redis was only slow).
    shares: HashMap<String, (Arc<KeyCell>, KeyInfo, bool)>,
    /// (key id, period, period start ms) → spend settled under a local share.
    deferred: HashMap<(String, Period, i64), Money>,
    /// key id → (its rpm bucket's name, rpm, requests admitted locally).
    taken: HashMap<String, (String, u32, u64)>,
    /// (tpm window's name, unix second) → tokens settled under a local share.
    tokens: HashMap<(String, i64), u64>,
    /// Settlements that could not reach Redis; resent when it is back (which also ends
    /// their leases early).
    settles: Vec<Settle>,
    deferred_count: u64,
}

/// What Redis has to be told when it is back.
pub(crate) struct Leftover {
    pub(crate) spend: Vec<((String, Period, i64), Money)>,
    pub(crate) taken: Vec<(String, (String, u32, u64))>,
    pub(crate) tokens: Vec<((String, i64), u64)>,
    pub(crate) settles: Vec<Settle>,
}

impl Leftover {
    /// Nothing to add to Redis but settlements.
    pub(crate) fn only_settles(&self) -> bool {
        self.spend.is_empty() && self.taken.is_empty() && self.tokens.is_empty()
    }
}

impl Outage {
    pub(crate) fn deferred_count(&self) -> u64 {
        self.deferred_count
    }

    /// Hands over what Redis has not seen (Redis is back). The shares stay until Redis
    /// reports on their key again.
    pub(crate) fn end(&mut self) -> Leftover {
        self.deferred_count = 0;
        Leftover {
            spend: self.deferred.drain().collect(),
            taken: self.taken.drain().collect(),
            tokens: self.tokens.drain().collect(),
            settles: std::mem::take(&mut self.settles),
        }
    }

    /// Puts back what could not be flushed yet.
    pub(crate) fn restore(&mut self, left: Leftover) {
        for (k, m) in left.spend {
            *self.deferred.entry(k).or_default() += m;
            self.deferred_count += 1;
        }
        for (k, (name, rpm, n)) in left.taken {
            self.taken.entry(k).or_insert((name, rpm, 0)).2 += n;
        }
        for (k, n) in left.tokens {
            *self.tokens.entry(k).or_default() += n;
        }
        self.deferred_count += left.settles.len() as u64;
        self.settles.extend(left.settles);
    }

    /// Tokens settled at `at` into the `tpm` window `tpm` (its one-second bucket).
    fn add_tokens(&mut self, tpm: &str, tokens: u64, at: DateTime<Utc>) {
        if tokens > 0 {
            let second = at.timestamp_millis().div_euclid(1000);
            *self.tokens.entry((tpm.to_owned(), second)).or_default() += tokens;
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

/// A hold on this replica's share; its settlement also goes to Redis: as deferred spend, or,
/// for an admission that timed out, through its own reservation (`shadow`).
#[derive(Debug)]
pub(crate) struct FallbackHold {
    local: LocalHold,
    shadow: Option<SharedHold>,
    fleet: Weak<Inner>,
    key: Arc<Prepared>,
    /// The key has a `tpm` limit: its settled tokens go to the shared window too.
    tpm: bool,
}

impl FallbackHold {
    pub(crate) fn settle(self, actual_usd: Money, actual_tokens: u64, now: DateTime<Utc>) {
        self.local.settle(actual_usd, actual_tokens, now);
        match self.shadow {
            Some(h) => h.settle(actual_usd, actual_tokens, now),
            None => {
                if let Some(fleet) = self.fleet.upgrade() {
                    let periods: Vec<Period> = self.key.budgets.iter().map(|b| b.period).collect();
                    let mut outage = lock(&fleet.outage);
                    outage.add(&self.key.key_id, &periods, actual_usd, now);
                    if self.tpm {
                        outage.add_tokens(&self.key.tpm, actual_tokens, now);
                    }
                }
            }
        }
    }
}

impl Inner {
    /// Records what Redis reported for a key, for the next outage's shares, and ends the
    /// key's current share (Redis now knows everything it counted).
    pub(crate) fn remember(
        &self,
        key: &Prepared,
        counters: &[(Money, Money)],
        tat_ms: Option<i64>,
        now: DateTime<Utc>,
    ) {
        {
            let mut known = lock(&self.known);
            let entry = match known.0.get_mut(&key.key_id) {
                Some(e) => e,
                None => known.0.entry(key.key_id.clone()).or_default(),
            };
            for (i, &(spent, reserved)) in counters.iter().enumerate() {
                if let Some(b) = key.budgets.get(i) {
                    let start = key.window(i, now).start_ms;
                    entry.budgets[b.period.index()] = Some((start, spent + reserved));
                }
            }
            if tat_ms.is_some() {
                entry.tat_ms = tat_ms;
            }
        }
        if self.shares_live.load(Ordering::Relaxed) {
            let mut outage = lock(&self.outage);
            outage.shares.remove(&key.key_id);
            if outage.shares.is_empty() {
                self.shares_live.store(false, Ordering::Relaxed);
            }
        }
    }

    /// Settlements Redis did not take: kept until it is back. `sent`: their pipeline went
    /// out and timed out, so they may have run; resent, they count only if their lease is
    /// still held (never twice; one whose lease expired meanwhile is left to the reconcile
    /// with the ledger).
    pub(crate) fn defer(&self, mut batch: Vec<Settle>, sent: bool) {
        if batch.is_empty() {
            return;
        }
        if sent {
            for s in &mut batch {
                s.resend = true;
            }
        }
        let mut outage = lock(&self.outage);
        outage.deferred_count += batch.len() as u64;
        outage.settles.extend(batch);
    }

    /// Admission against this replica's share of the key's budgets and limits.
    pub(crate) fn admit_share(
        self: &Arc<Self>,
        ask: &Ask<'_>,
        shadow: Option<SharedHold>,
    ) -> Result<Admission, Denied> {
        let Ask {
            key,
            p,
            now,
            demand,
        } = ask;
        let (key, now, demand) = (*key, *now, *demand);
        let cautious = !self.link.is_down();
        let (cell, info) = {
            let mut outage = lock(&self.outage);
            let share = match outage.shares.get(key.id()) {
                // A cautious share gives way once the outage is confirmed.
                Some(s) if !s.2 || cautious => (s.0.clone(), s.1.clone()),
                _ => {
                    let (cell, info) = self.share_of(key, now, cautious);
                    let out = (cell.clone(), info.clone());
                    outage
                        .shares
                        .insert(key.id().to_owned(), (cell, info, cautious));
                    out
                }
            };
            self.shares_live.store(true, Ordering::Relaxed);
            share
        };
        let admission = admit_cell(&cell, &info, now, demand)?;
        if let Some(rpm) = key.info().spec.rpm {
            let mut outage = lock(&self.outage);
            let entry = outage
                .taken
                .entry(key.id().to_owned())
                .or_insert_with(|| (p.rpm.clone(), rpm, 0));
            entry.2 += 1;
        }
        let Admission {
            reservation,
            remaining_budget_usd,
            remaining_requests,
            remaining_tokens,
            warnings,
        } = admission;
        let Some(local) = reservation.into_local() else {
            return Err(Denied::Unavailable {
                retry_after: self.opts.heartbeat,
            });
        };
        let hold = FallbackHold {
            local,
            shadow,
            fleet: Arc::downgrade(self),
            key: p.clone(),
            tpm: key.info().spec.tpm.is_some(),
        };
        Ok(Admission {
            reservation: Reservation::new(Hold::Fallback(hold)),
            remaining_budget_usd,
            remaining_requests,
            remaining_tokens,
            warnings,
        })
    }

    /// The key's settings with this replica's share as its limits, and fresh counters.
    /// `cautious` (Redis is slow, not confirmed down): the `rpm` share starts empty and only
    /// refills, since the calls that timed out may be counting in Redis right now.
    fn share_of(
        &self,
        key: &KeyHandle,
        now: DateTime<Utc>,
        cautious: bool,
    ) -> (Arc<KeyCell>, KeyInfo) {
        let replicas = self.replicas();
        let mut info = key.info().clone();
        let known = lock(&self.known).0.get(key.id()).copied();
        for b in &mut info.spec.budgets {
            let start = b.period.start(now).timestamp_millis();
            let used = match known.and_then(|k| k.budgets[b.period.index()]) {
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
        let loaded = info
            .spec
            .budgets
            .iter()
            .map(|b| (b.period, Money::ZERO))
            .collect();
        let cell = Arc::new(KeyCell::new(&info, loaded, now));
        if let Some(rpm) = key.info().spec.rpm {
            // What the shared bucket had left, not a full bucket: a share handed out while
            // the fleet's minute is half used must not add a second minute's worth. A key
            // this replica never saw in Redis may have used its whole minute elsewhere: its
            // share starts empty and refills at its rate.
            let free = match known.and_then(|k| k.tat_ms) {
                Some(tat) if !cautious => requests_left(rpm, Some(tat), now) / replicas,
                _ => 0,
            };
            if let Some(bucket) = &mut cell.lock().requests {
                bucket.set_free(free, now);
            }
        }
        tracing::info!(key_id = %key.id(), replicas, "fleet: local share set");
        (cell, info)
    }
}
