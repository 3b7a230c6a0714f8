//! Admission and settlement through Redis: the arguments of the admit script, its reply
//! turned into an [`Admission`] or a [`Denied`] (with the same rules and messages as
//! in-process), and the settlement queue drained by one background task.

use super::scripts::{ADMIT_SCRIPT, SETTLE_SCRIPT};
use super::{Fleet, FleetMode, Inner, budget_ttl_ms, nano, usd};
use crate::admit::{Hold, Reservation};
use crate::limiter::to_std;
use crate::state::left;
use crate::{Admission, Budget, Demand, Denied, KeyHandle, Period, RateLimit};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use switchyard_primitives::Money;
use tokio::sync::mpsc;

/// Most settlements sent in one pipeline.
const SETTLE_BATCH: usize = 256;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A hold in Redis, settled (or released when dropped) through the settlement queue.
#[derive(Debug)]
pub(crate) struct SharedHold {
    settle: Option<Settle>,
    tx: mpsc::UnboundedSender<Settle>,
}

/// One queued settlement.
#[derive(Debug, Clone)]
pub(crate) struct Settle {
    pub(crate) key_id: String,
    res_id: String,
    pub(crate) periods: Vec<Period>,
    tpm: bool,
    pub(crate) actual: Money,
    tokens: u64,
    pub(crate) at: DateTime<Utc>,
}

impl SharedHold {
    pub(crate) fn settle(mut self, actual_usd: Money, actual_tokens: u64, now: DateTime<Utc>) {
        if let Some(mut s) = self.settle.take() {
            s.actual = actual_usd;
            s.tokens = if s.tpm { actual_tokens } else { 0 };
            s.at = now;
            let _ = self.tx.send(s);
        }
    }
}

impl Drop for SharedHold {
    fn drop(&mut self) {
        // Unsettled: release the hold without charge (the lease would, later).
        if let Some(mut s) = self.settle.take() {
            s.at = Utc::now();
            let _ = self.tx.send(s);
        }
    }
}

impl Fleet {
    /// Checks the key's limits and budgets for the whole fleet and, if the request fits,
    /// holds its worst case: one round trip to Redis. When Redis is unreachable the
    /// replica's local share decides instead, or (`fail_closed`) the request is refused as
    /// [`Denied::Unavailable`].
    pub async fn admit(
        &self,
        key: &KeyHandle,
        now: DateTime<Utc>,
        demand: Demand,
    ) -> Result<Admission, Denied> {
        let spec = &key.info().spec;
        if spec.budgets.is_empty() && spec.rpm.is_none() && spec.tpm.is_none() {
            return Ok(Admission {
                reservation: Reservation::new(Hold::Local(crate::admit::empty_hold(key))),
                remaining_budget_usd: None,
                remaining_requests: None,
                remaining_tokens: None,
                warnings: Vec::new(),
            });
        }
        if !self.inner.link.is_down() {
            if let Some(reply) = self.run_admit(key, now, demand).await {
                return self.inner.decide(key, now, demand, reply);
            }
        }
        self.inner.admit_locally(key, now, demand)
    }

    async fn run_admit(
        &self,
        key: &KeyHandle,
        now: DateTime<Utc>,
        demand: Demand,
    ) -> Option<Vec<String>> {
        let i = &self.inner;
        let id = key.id();
        let spec = &key.info().spec;
        let mut keys = vec![
            i.key_of(id, "lease"),
            i.key_of(id, "leases"),
            i.key_of(id, "rpm"),
            i.key_of(id, "tpm"),
        ];
        let now_ms = now.timestamp_millis();
        let lease_ms = i64::try_from(i.opts.lease.as_millis()).unwrap_or(i64::MAX / 4);
        let res_id = format!(
            "{}:{}",
            i.opts.replica_id,
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        );
        let mut args = vec![
            now_ms.to_string(),
            res_id,
            (now_ms + lease_ms).to_string(),
            nano(demand.worst_case_usd).to_string(),
            demand.prompt_tokens.to_string(),
            spec.rpm.unwrap_or(0).to_string(),
            spec.tpm.unwrap_or(0).to_string(),
            (lease_ms + 60_000).to_string(),
        ];
        for b in &spec.budgets {
            keys.push(i.budget_key(id, b.period, now));
            args.push(nano(b.limit_usd).to_string());
            args.push(if b.hard { "1" } else { "0" }.into());
            args.push(budget_ttl_ms(b.period, now).to_string());
        }
        let mut conn = i.conn.clone();
        let call = ADMIT_SCRIPT.run::<Vec<String>>(&mut conn, &keys, &args);
        let outcome = tokio::time::timeout(i.opts.op_timeout, call).await;
        let mut reply = i.link.outcome(outcome, i.opts.op_timeout)?;
        // The reservation id travels back in the reply's place for the hold.
        reply.push(args.swap_remove(1));
        Some(reply)
    }
}

impl Inner {
    /// The admit script's reply as an admission or a refusal.
    fn decide(
        self: &Arc<Self>,
        key: &KeyHandle,
        now: DateTime<Utc>,
        demand: Demand,
        mut reply: Vec<String>,
    ) -> Result<Admission, Denied> {
        let res_id = reply.pop().unwrap_or_default();
        let spec = &key.info().spec;
        let nums: Vec<i64> = reply.iter().skip(1).map(|v| parse_num(v)).collect();
        match reply.first().map(String::as_str) {
            Some("ok") => {
                let counters = pairs(nums.get(2..).unwrap_or_default());
                self.remember(key.id(), &spec.budgets, &counters, now);
                Ok(self.admitted(key, now, (nums, counters), res_id))
            }
            Some("rpm") => Err(Denied::RateLimited {
                limit: RateLimit::Requests,
                max: u64::from(spec.rpm.unwrap_or(0)),
                retry_after: ms(nums.first()),
            }),
            Some("tpm") => Err(Denied::RateLimited {
                limit: RateLimit::Tokens,
                max: spec.tpm.unwrap_or(0),
                retry_after: ms(nums.first()),
            }),
            Some("tpm_large") => Err(Denied::TooLarge {
                prompt_tokens: demand.prompt_tokens,
                tpm: spec.tpm.unwrap_or(0),
            }),
            _ => {
                let counters = pairs(&nums);
                self.remember(key.id(), &spec.budgets, &counters, now);
                Err(budget_denial(
                    &spec.budgets,
                    &counters,
                    now,
                    demand.worst_case_usd,
                ))
            }
        }
    }

    fn admitted(
        self: &Arc<Self>,
        key: &KeyHandle,
        now: DateTime<Utc>,
        (nums, counters): (Vec<i64>, Vec<(Money, Money)>),
        res_id: String,
    ) -> Admission {
        let spec = &key.info().spec;
        let mut warnings = Vec::new();
        let mut smallest: Option<Money> = None;
        for (b, &(spent, reserved)) in spec.budgets.iter().zip(&counters) {
            let l = left(b.limit_usd, spent + reserved);
            smallest = Some(smallest.map_or(l, |s| s.min(l)));
            if !b.hard && spent + reserved > b.limit_usd {
                warnings.push(format!(
                    "soft {} budget of ${} exceeded: spent ${spent}, ${reserved} in flight; resets at {}",
                    b.period,
                    b.limit_usd,
                    b.period.next_start(now)
                ));
            }
        }
        let remaining_requests = spec
            .rpm
            .map(|rpm| requests_left(rpm, nums.first().copied(), now));
        let remaining_tokens = spec.tpm.map(|tpm| {
            tpm.saturating_sub(u64::try_from(nums.get(1).copied().unwrap_or(0)).unwrap_or(0))
        });
        let tpm = spec.tpm.is_some();
        let holds = !spec.budgets.is_empty() || tpm;
        let settle = holds.then(|| Settle {
            key_id: key.id().to_owned(),
            res_id,
            periods: spec.budgets.iter().map(|b| b.period).collect(),
            tpm,
            actual: Money::ZERO,
            tokens: 0,
            at: now,
        });
        let hold = SharedHold {
            settle,
            tx: self.settle_tx.clone(),
        };
        Admission {
            reservation: Reservation::new(Hold::Shared(hold)),
            remaining_budget_usd: smallest,
            remaining_requests,
            remaining_tokens,
            warnings,
        }
    }

    /// Local enforcement while Redis is out, or the `fail_closed` refusal.
    fn admit_locally(
        self: &Arc<Self>,
        key: &KeyHandle,
        now: DateTime<Utc>,
        demand: Demand,
    ) -> Result<Admission, Denied> {
        if self.mode() == FleetMode::Refusing {
            self.unavailable_refusals.fetch_add(1, Ordering::Relaxed);
            return Err(Denied::Unavailable {
                retry_after: self.opts.heartbeat,
            });
        }
        let admission = self.admit_share(key, now, demand)?;
        self.fallback_admissions.fetch_add(1, Ordering::Relaxed);
        Ok(admission)
    }
}

/// Of several exhausted hard budgets, the one that resets last (as in-process).
fn budget_denial(
    budgets: &[Budget],
    counters: &[(Money, Money)],
    now: DateTime<Utc>,
    worst: Money,
) -> Denied {
    let mut denial: Option<Denied> = None;
    for (b, &(spent, reserved)) in budgets.iter().zip(counters) {
        if !b.hard || spent + reserved + worst <= b.limit_usd {
            continue;
        }
        let resets_at = b.period.next_start(now);
        if !matches!(&denial, Some(Denied::Budget { resets_at: r, .. }) if *r >= resets_at) {
            denial = Some(Denied::Budget {
                period: b.period,
                limit: b.limit_usd,
                spent,
                reserved,
                resets_at,
                retry_after: to_std(resets_at - now),
            });
        }
    }
    denial.unwrap_or(Denied::Unavailable {
        retry_after: Duration::from_secs(1),
    })
}

/// Whole requests the fleet's bucket would still admit, from its new arrival time.
fn requests_left(rpm: u32, tat_ms: Option<i64>, now: DateTime<Utc>) -> u64 {
    let per = 60_000.0 / f64::from(rpm.max(1));
    let used = tat_ms.map_or(0, |t| (t - now.timestamp_millis()).clamp(0, 60_000));
    let free = (60_000 - used) as f64;
    ((free / per).floor() as u64).min(u64::from(rpm))
}

fn pairs(nums: &[i64]) -> Vec<(Money, Money)> {
    nums.chunks_exact(2)
        .map(|p| (usd(p[0]), usd(p[1].max(0))))
        .collect()
}

/// The script's numbers are integers, or a fractional arrival time.
fn parse_num(v: &str) -> i64 {
    v.parse::<i64>()
        .or_else(|_| v.parse::<f64>().map(|f| f.ceil() as i64))
        .unwrap_or(0)
}

fn ms(v: Option<&i64>) -> Duration {
    to_std(TimeDelta::milliseconds(v.copied().unwrap_or(1_000).max(0)))
}

/// Sends queued settlements, pipelined, until the fleet is dropped. A batch Redis did not
/// take is kept as deferred spend (counted into Redis when it is back); its holds expire
/// with their leases.
pub(crate) fn spawn_settler(inner: Weak<Inner>, mut rx: mpsc::UnboundedReceiver<Settle>) {
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < SETTLE_BATCH {
                match rx.try_recv() {
                    Ok(s) => batch.push(s),
                    Err(_) => break,
                }
            }
            let Some(inner) = inner.upgrade() else { return };
            if inner.link.is_down() || !send_batch(&inner, &batch).await {
                inner.defer(batch);
            }
        }
    });
}

async fn send_batch(inner: &Inner, batch: &[Settle]) -> bool {
    let mut pipe = redis::pipe();
    for s in batch {
        let keys = settle_keys(inner, s);
        let mut args = vec![
            s.res_id.clone(),
            nano(s.actual).to_string(),
            s.tokens.to_string(),
            s.at.timestamp_millis().to_string(),
        ];
        args.extend(
            s.periods
                .iter()
                .map(|p| budget_ttl_ms(*p, s.at).to_string()),
        );
        pipe.add_command(SETTLE_SCRIPT.cmd(&keys, &args)).ignore();
    }
    inner
        .pipeline::<()>(&pipe, inner.opts.op_timeout)
        .await
        .is_some()
}

fn settle_keys(inner: &Inner, s: &Settle) -> Vec<String> {
    let mut keys = vec![
        inner.key_of(&s.key_id, "lease"),
        inner.key_of(&s.key_id, "leases"),
        inner.key_of(&s.key_id, "tpm"),
    ];
    keys.extend(
        s.periods
            .iter()
            .map(|p| inner.budget_key(&s.key_id, *p, s.at)),
    );
    keys
}
