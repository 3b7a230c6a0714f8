//! Admission through Redis: the admit script's command, built straight from the key's
//! [`Prepared`] names and integer arguments, sent in one pipeline behind the settlements
//! queued meanwhile (see [`settle`](super::settle)), and its all-integer reply turned into an
//! [`Admission`] or a [`Denied`] (with the same rules and messages as in-process).

use super::late::{Late, LateCall, rpm_only};
use super::prepared::{Prepared, Window};
use super::scripts::ADMIT_SCRIPT;
use super::settle::SharedHold;
use super::{Inner, nano, usd};
use crate::admit::{Hold, Reservation};
use crate::limiter::to_std;
use crate::state::left;
use crate::{Admission, Demand, Denied, KeyHandle, RateLimit};
use chrono::{DateTime, TimeDelta, Utc};
use redis::Value;
use std::sync::Arc;
use std::time::Duration;
use switchyard_primitives::Money;

/// One admission's question: the key, its prepared names, when and how much.
pub(crate) struct Ask<'a> {
    pub(crate) key: &'a KeyHandle,
    pub(crate) p: Arc<Prepared>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) demand: Demand,
}

/// The admit script's reply: a status code and up to 8 integers.
pub(crate) struct Reply {
    code: i64,
    nums: [i64; 8],
    len: usize,
}

impl Reply {
    fn parse(v: &Value) -> Option<Reply> {
        let Value::Array(items) = v else { return None };
        let (first, rest) = items.split_first()?;
        let mut reply = Reply {
            code: int(first)?,
            nums: [0; 8],
            len: 0,
        };
        for (slot, item) in reply.nums.iter_mut().zip(rest) {
            *slot = int(item)?;
            reply.len += 1;
        }
        Some(reply)
    }

    fn nums(&self) -> &[i64] {
        &self.nums[..self.len]
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

/// A pipeline that returns every command's reply, errors included, so one command's
/// `NOSCRIPT` does not hide the others' replies.
pub(crate) fn script_pipe() -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    pipe
}

/// Whether a reply in a pipeline is the server saying it does not know the script.
fn is_noscript(v: &Value) -> bool {
    matches!(v, Value::ServerError(e) if e.kind() == Some(redis::ServerErrorKind::NoScript))
}

impl Inner {
    /// The admit command (`EVALSHA` with the key's names, integers as integers).
    fn admit_cmd(&self, ask: &Ask<'_>, seq: u64) -> redis::Cmd {
        let (key, p, now, demand) = (ask.key, &ask.p, ask.now, ask.demand);
        let spec = &key.info().spec;
        let windows: Vec<Window> = (0..p.budgets.len()).map(|i| p.window(i, now)).collect();
        let now_ms = now.timestamp_millis();
        let lease_ms = i64::try_from(self.opts.lease.as_millis()).unwrap_or(i64::MAX / 4);
        let mut cmd = ADMIT_SCRIPT.start(4 + windows.len());
        cmd.arg(&p.lease).arg(&p.leases).arg(&p.rpm).arg(&p.tpm);
        for w in &windows {
            cmd.arg(&*w.hash);
        }
        cmd.arg(now_ms)
            .arg(&self.opts.replica_id)
            .arg(seq)
            .arg(now_ms + lease_ms)
            .arg(nano(demand.worst_case_usd))
            .arg(demand.prompt_tokens)
            .arg(spec.rpm.unwrap_or(0))
            .arg(spec.tpm.unwrap_or(0))
            .arg(lease_ms + 60_000);
        for (b, w) in p.budgets.iter().zip(&windows) {
            cmd.arg(b.limit_nano)
                .arg(i64::from(b.hard))
                .arg(w.ttl_ms(now_ms));
        }
        cmd
    }

    /// Sends the queued settlements and the admission in one pipeline; the admission's reply,
    /// or `None` when Redis did not answer in time (the settlements are then deferred). The
    /// admission of a key with only an `rpm` limit that timed out is left running in
    /// `parked` (see [`Late`]).
    pub(crate) async fn run_admit(
        self: &Arc<Self>,
        ask: &Ask<'_>,
        seq: u64,
        parked: &mut Option<LateCall>,
    ) -> Option<Reply> {
        let settles = self.take_settles();
        let mut pipe = script_pipe();
        for s in &settles {
            pipe.add_command(self.settle_cmd(s));
        }
        pipe.add_command(self.admit_cmd(ask, seq));
        // Whose late reply is worth reading: a key with only an `rpm` limit (to give its
        // slot back) or with a hard budget (the request waits for it; see `judge`).
        let spec = &ask.key.info().spec;
        let rpm = rpm_only(ask.key);
        let late = (rpm.is_some() || spec.budgets.iter().any(|b| b.hard))
            .then(|| Late::new(self, ask.p.clone(), rpm));
        let Some(replies) = self.send_all(&pipe, late.map(|l| (l, parked))).await else {
            self.defer(settles, true);
            return None;
        };
        let reply = replies.last().and_then(Reply::parse);
        if reply.is_none() {
            self.link
                .failed("the admit script gave an unexpected reply");
        }
        reply
    }

    /// The reply of an admission that answered late, if it came within `max` (else the call
    /// is reaped: its slot is given back if it admitted).
    pub(crate) async fn late_reply(&self, call: LateCall, max: Duration) -> Option<Reply> {
        call.wait(max).await.as_ref().and_then(Reply::parse)
    }

    /// Runs a pipeline of script calls (built by [`script_pipe`]) within the operation
    /// timeout; the reply of each, or `None` when Redis did not answer. Commands the server
    /// refused with `NOSCRIPT` (its script cache was emptied by a restart) did not run: the
    /// scripts are loaded and exactly those are sent again. `late`: the pipeline ends with
    /// the admission of a key with only an `rpm` limit, whose reply is still read if it
    /// comes too late (see [`Late`]): then it is parked in the slot given with it.
    pub(crate) async fn send_all(
        &self,
        pipe: &redis::Pipeline,
        mut late: Option<(Late, &mut Option<LateCall>)>,
    ) -> Option<Vec<Value>> {
        let first = late.as_mut().map(|(l, p)| (l.clone(), &mut **p));
        let mut replies = self.query(pipe, first).await?;
        let missing: Vec<usize> = (0..replies.len())
            .filter(|&i| is_noscript(&replies[i]))
            .collect();
        if missing.is_empty() {
            return Some(replies);
        }
        let mut load = redis::pipe();
        for s in super::scripts::all() {
            load.add_command(s.load_cmd()).ignore();
        }
        let mut conn = self.conn.clone();
        let loaded = tokio::time::timeout(self.opts.op_timeout, load.exec_async(&mut conn)).await;
        self.link.outcome(loaded, self.opts.op_timeout)?;
        let mut again = script_pipe();
        for (i, c) in pipe.cmd_iter().enumerate() {
            if missing.contains(&i) {
                again.add_command(c.clone());
            }
        }
        for (i, v) in missing.into_iter().zip(self.query(&again, late).await?) {
            replies[i] = v;
        }
        Some(replies)
    }

    async fn query(
        &self,
        pipe: &redis::Pipeline,
        late: Option<(Late, &mut Option<LateCall>)>,
    ) -> Option<Vec<Value>> {
        let mut conn = self.conn.clone();
        let outcome = match late {
            None => {
                let call = pipe.query_async::<Vec<Value>>(&mut conn);
                tokio::time::timeout(self.opts.op_timeout, call).await
            }
            Some((late, parked)) => {
                let pipe = pipe.clone();
                let call = async move { pipe.query_async::<Vec<Value>>(&mut conn).await };
                late.query(call, self.opts.op_timeout, parked).await
            }
        };
        self.link.outcome(outcome, self.opts.op_timeout)
    }

    /// The admit script's reply as an admission or a refusal.
    pub(crate) fn decide(
        self: &Arc<Self>,
        ask: &Ask<'_>,
        (reply, seq): (Reply, u64),
    ) -> Result<Admission, Denied> {
        let (key, p, now, demand) = (ask.key, &ask.p, ask.now, ask.demand);
        let spec = &key.info().spec;
        let nums = reply.nums();
        match reply.code {
            0 => {
                let counters = pairs(nums.get(2..).unwrap_or_default());
                let tat = spec.rpm.and(nums.first().copied());
                self.remember(p, &counters, tat, now);
                Ok(self.admitted(ask, (nums, &counters), seq))
            }
            1 => Err(Denied::RateLimited {
                limit: RateLimit::Requests,
                max: u64::from(spec.rpm.unwrap_or(0)),
                retry_after: ms(nums.first()),
            }),
            2 => Err(Denied::RateLimited {
                limit: RateLimit::Tokens,
                max: spec.tpm.unwrap_or(0),
                retry_after: ms(nums.first()),
            }),
            3 => Err(Denied::TooLarge {
                prompt_tokens: demand.prompt_tokens,
                tpm: spec.tpm.unwrap_or(0),
            }),
            _ => {
                let counters = pairs(nums);
                self.remember(p, &counters, None, now);
                Err(budget_denial(key, &counters, now, demand.worst_case_usd))
            }
        }
    }

    fn admitted(
        self: &Arc<Self>,
        ask: &Ask<'_>,
        (nums, counters): (&[i64], &[(Money, Money)]),
        seq: u64,
    ) -> Admission {
        let (key, now) = (ask.key, ask.now);
        let spec = &key.info().spec;
        let mut warnings = Vec::new();
        let mut smallest: Option<Money> = None;
        for (b, &(spent, reserved)) in spec.budgets.iter().zip(counters) {
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
        let hold = if !spec.budgets.is_empty() || tpm {
            SharedHold::new(self, ask.p.clone(), tpm, seq)
        } else {
            SharedHold::none()
        };
        Admission {
            reservation: Reservation::new(Hold::Shared(hold)),
            remaining_budget_usd: smallest,
            remaining_requests,
            remaining_tokens,
            warnings,
        }
    }
}

/// Of several exhausted hard budgets, the one that resets last (as in-process).
fn budget_denial(
    key: &KeyHandle,
    counters: &[(Money, Money)],
    now: DateTime<Utc>,
    worst: Money,
) -> Denied {
    let mut denial: Option<Denied> = None;
    for (b, &(spent, reserved)) in key.info().spec.budgets.iter().zip(counters) {
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
pub(crate) fn requests_left(rpm: u32, tat_ms: Option<i64>, now: DateTime<Utc>) -> u64 {
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

fn ms(v: Option<&i64>) -> Duration {
    to_std(TimeDelta::milliseconds(v.copied().unwrap_or(1_000).max(0)))
}
