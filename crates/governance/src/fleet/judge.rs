//! Who judges an admission: Redis while the link is up, else this replica's local share
//! (see `fallback`), or nobody (`fail_closed`, or a hard budget while the link is only
//! suspect). A request the cautious `rpm` share of a suspect link refuses waits for the probe
//! and asks Redis again, so a short stall costs a rate-limited key no admission.

use super::late::rpm_only;
use super::prepared::Prepared;
use super::settle::SharedHold;
use super::shared::Ask;
use super::{Fleet, FleetMode, Inner};
use crate::admit::{Hold, Reservation};
use crate::{Admission, Demand, Denied, KeyHandle, RateLimit};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

impl Fleet {
    /// Checks the key's limits and budgets for the whole fleet and, if the request fits,
    /// holds its worst case: one round trip to Redis (which also carries the settlements
    /// queued meanwhile). When Redis is unreachable or slow the replica's local share
    /// decides instead, or (`fail_closed`) the request is refused as [`Denied::Unavailable`].
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
        let ask = Ask {
            key,
            p: Prepared::of(&self.inner.opts.prefix, key),
            now,
            demand,
        };
        let hard = spec.budgets.iter().any(|b| b.hard);
        let (outcome, again) = self.attempt(&ask, hard).await;
        // The cautious `rpm` share of a suspect link refuses nearly everything; a short stall
        // must not cost the key its minute: a request it refused before asking Redis waits
        // for the probe (as a hard budget does) and asks Redis if it answered.
        if again && refused_for_requests(&outcome) && !self.inner.link.is_down() {
            self.inner
                .link
                .settle_within(self.inner.settle_wait())
                .await;
            if self.inner.link.is_up() {
                return self.attempt(&ask, hard).await.0;
            }
        }
        outcome
    }

    /// One try: through Redis while the link is up, else (or when the call failed or timed
    /// out) against the local share; true when the local share judged it without Redis
    /// having been asked (worth asking once the probe answers).
    async fn attempt(&self, ask: &Ask<'_>, hard: bool) -> (Result<Admission, Denied>, bool) {
        // A hard budget is not judged locally while the link is only suspect (see
        // `admit_locally`): such a request first waits for the probe to settle it.
        if hard && self.inner.mode() == FleetMode::Suspect {
            self.inner
                .link
                .settle_within(self.inner.settle_wait())
                .await;
        }
        if !self.inner.link.is_up() {
            return (self.inner.admit_locally(ask, None), true);
        }
        let seq = NEXT_SEQ.fetch_add(1, Ordering::Relaxed);
        let mut parked = None;
        let Some(reply) = self.inner.run_admit(ask, seq, &mut parked).await else {
            // A hard budget is not judged locally while the link is suspect: the request
            // waits for its own call's reply (as long as a probe may take), so a short
            // stall has Redis judge it once, as if it had not been late.
            let waited = match parked.take_if(|_| hard) {
                Some(call) => {
                    let max = self.inner.settle_wait();
                    if let Some(reply) = self.inner.late_reply(call, max).await {
                        return (self.inner.decide(ask, (reply, seq)), false);
                    }
                    true
                }
                None => false,
            };
            // Timed out or failed: it may still have counted in Redis, so it is charged
            // locally as well and settled in Redis under its sequence number.
            if hard && !waited && self.inner.mode() == FleetMode::Suspect {
                self.inner
                    .link
                    .settle_within(self.inner.settle_wait())
                    .await;
            }
            let local = self.inner.admit_locally(ask, Some(seq));
            return self.judge_late(ask, seq, local, parked).await;
        };
        (self.inner.decide(ask, (reply, seq)), false)
    }

    /// An `rpm`-only admission that timed out is still running (`parked`): if the local
    /// share refused the request, its own call's reply decides (waited for as long as a
    /// probe may take), so Redis judges it once, as if it had not been late. Admitted
    /// locally (or no reply in time), the call is left to give its slot back if it took one.
    /// True when no reply decided but the link is up again: the call did not run (a server
    /// that lost its scripts) or may still, and asking Redis anew counts the request once.
    async fn judge_late(
        &self,
        ask: &Ask<'_>,
        seq: u64,
        local: Result<Admission, Denied>,
        parked: Option<crate::fleet::late::LateCall>,
    ) -> (Result<Admission, Denied>, bool) {
        let Some(call) = parked else {
            return (local, false);
        };
        if !refused_for_requests(&local) {
            call.reap();
            return (local, false);
        }
        match self.inner.late_reply(call, self.inner.settle_wait()).await {
            Some(reply) => (self.inner.decide(ask, (reply, seq)), false),
            None => (local, self.inner.link.is_up()),
        }
    }
}

/// A refusal for the key's `rpm` limit.
fn refused_for_requests(outcome: &Result<Admission, Denied>) -> bool {
    matches!(
        outcome,
        Err(Denied::RateLimited {
            limit: RateLimit::Requests,
            ..
        })
    )
}

impl Inner {
    /// How long a hard-budget request waits for a suspect link's probe: the probe's own
    /// bound (a connect and one operation).
    fn settle_wait(&self) -> std::time::Duration {
        self.opts.op_timeout + self.opts.connect_timeout
    }

    /// Local enforcement while Redis is out or slow, or the `fail_closed` refusal. `shadow`
    /// is the sequence number of an admission that timed out: whatever it may hold in Redis
    /// is released (and its spend counted there) when this request settles.
    pub(crate) fn admit_locally(
        self: &Arc<Self>,
        ask: &Ask<'_>,
        shadow: Option<u64>,
    ) -> Result<Admission, Denied> {
        let tpm = ask.key.info().spec.tpm.is_some();
        // A key with only an `rpm` limit holds nothing in Redis to settle: a slot its
        // timed-out call took is given back when the late reply comes (see `late`).
        let shadow = shadow
            .filter(|_| rpm_only(ask.key).is_none())
            .map(|seq| SharedHold::new(self, ask.p.clone(), tpm, seq).timed_out());
        // A hard budget is not judged locally while Redis is only slow: the calls that timed
        // out may still be spending the same budget in Redis.
        let hard = ask.key.info().spec.budgets.iter().any(|b| b.hard);
        let mode = self.mode();
        if mode == FleetMode::Refusing || (mode == FleetMode::Suspect && hard) {
            self.unavailable_refusals.fetch_add(1, Ordering::Relaxed);
            return Err(Denied::Unavailable {
                retry_after: self.opts.heartbeat,
            });
        }
        // A refusal drops `shadow`, which releases its hold in Redis, if it took one.
        let admission = self.admit_share(ask, shadow)?;
        self.fallback_admissions.fetch_add(1, Ordering::Relaxed);
        Ok(admission)
    }
}
