//! Admission and settlement: the budget and rate-limit rules.
//!
//! Everything for one key happens under its mutex, so a check and the reservation it permits
//! are one atomic step: with a hard budget `B`, `spent + reserved <= B` holds at every instant
//! as long as each request settles at no more than its worst case.

use crate::governor::{KeyCell, KeyHandle};
use crate::state::KeyState;
use crate::{Governor, Period};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use switchyard_primitives::Money;

/// What a request may cost, known before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    pub prompt_tokens: u64,
    /// The most the request can cost (prompt plus the largest completion it may produce).
    pub worst_case_usd: Money,
}

/// An admitted request: its reservation and what is left, for response headers.
#[derive(Debug)]
pub struct Admission {
    pub reservation: Reservation,
    /// The smallest amount left across the key's budgets after this reservation (never
    /// below zero).
    pub remaining_budget_usd: Option<Money>,
    pub remaining_requests: Option<u64>,
    pub remaining_tokens: Option<u64>,
    /// Soft budgets this request may exceed.
    pub warnings: Vec<String>,
}

/// Which rate limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimit {
    Requests,
    Tokens,
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RateLimit::Requests => "requests",
            RateLimit::Tokens => "tokens",
        })
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("rate limit of {max} {limit} per minute reached; retry after {retry_after:?}")]
    RateLimited {
        limit: RateLimit,
        max: u64,
        retry_after: Duration,
    },
    #[error(
        "the prompt has {prompt_tokens} tokens but the key allows {tpm} tokens per minute; shorten it or raise the key's tpm"
    )]
    TooLarge { prompt_tokens: u64, tpm: u64 },
    #[error(
        "shared governance state (Redis) did not answer, so this request's limits cannot be checked across the fleet (`[fleet] fail_closed` is set, or the key has a hard budget and Redis is slow rather than down); retry after {retry_after:?}"
    )]
    Unavailable { retry_after: Duration },
    #[error(
        "the key's {period} budget of ${limit} would be exceeded (spent ${spent}, ${reserved} in flight); it resets at {resets_at}"
    )]
    Budget {
        period: Period,
        limit: Money,
        spent: Money,
        reserved: Money,
        resets_at: DateTime<Utc>,
        retry_after: Duration,
    },
}

/// Worst-case spend held against a key's budgets while its request runs.
///
/// [`settle`](Self::settle) it with the actual cost; dropping it unsettled releases the hold
/// and charges nothing (the request never reached a provider, or its cost is unknown).
#[must_use = "settle the reservation with the request's actual cost"]
#[derive(Debug)]
pub struct Reservation {
    hold: Hold,
}

/// Where the hold lives: this process's counters, the fleet's (Redis), or this replica's
/// share while Redis is unreachable.
#[derive(Debug)]
pub(crate) enum Hold {
    Local(LocalHold),
    Shared(crate::fleet::SharedHold),
    Fallback(crate::fleet::FallbackHold),
}

impl Reservation {
    pub(crate) fn new(hold: Hold) -> Self {
        Reservation { hold }
    }

    /// The in-process hold, for the fleet's fallback share which wraps it.
    pub(crate) fn into_local(self) -> Option<LocalHold> {
        match self.hold {
            Hold::Local(h) => Some(h),
            _ => None,
        }
    }

    /// Replaces the hold with the actual cost and tokens, counted in the periods containing
    /// `now`.
    pub fn settle(self, actual_usd: Money, actual_tokens: u64, now: DateTime<Utc>) {
        match self.hold {
            Hold::Local(h) => h.settle(actual_usd, actual_tokens, now),
            Hold::Shared(h) => h.settle(actual_usd, actual_tokens, now),
            Hold::Fallback(h) => h.settle(actual_usd, actual_tokens, now),
        }
    }
}

/// A hold on a key's in-process counters.
pub(crate) struct LocalHold {
    cell: Arc<KeyCell>,
    worst_case: Money,
    prompt_tokens: u64,
    /// Budget periods this reservation holds money against.
    periods: [bool; 3],
    settled: bool,
}

impl fmt::Debug for LocalHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalHold")
            .field("key_id", &self.cell.id)
            .field("worst_case", &self.worst_case)
            .field("prompt_tokens", &self.prompt_tokens)
            .finish()
    }
}

impl LocalHold {
    pub(crate) fn settle(mut self, actual_usd: Money, actual_tokens: u64, now: DateTime<Utc>) {
        self.settled = true;
        let mut state = self.cell.lock();
        self.release(&mut state);
        for period in Period::ALL {
            if state.budgets[period.index()].is_some() {
                state.counter(period, now).spent += actual_usd;
            }
        }
        if let Some(w) = &mut state.tokens {
            w.record(now, actual_tokens);
        }
    }

    /// Drops the hold. Holds are not tied to a period, so no rollover is needed here.
    fn release(&self, state: &mut KeyState) {
        for period in Period::ALL {
            if !self.periods[period.index()] {
                continue;
            }
            if let Some(c) = &mut state.budgets[period.index()] {
                c.reserved = if c.reserved > self.worst_case {
                    c.reserved - self.worst_case
                } else {
                    Money::ZERO
                };
            }
        }
        if let Some(w) = &mut state.tokens {
            w.release(self.prompt_tokens);
        }
    }
}

impl Drop for LocalHold {
    fn drop(&mut self) {
        if !self.settled {
            tracing::debug!(key_id = %self.cell.id, "reservation dropped unsettled; released without charge");
            let mut state = self.cell.lock();
            self.release(&mut state);
        }
    }
}

impl Governor {
    /// Checks the key's rate limits and budgets for a request and, if it fits, reserves its
    /// worst case and counts it. Nothing is counted when it is refused.
    pub fn admit(
        &self,
        key: &KeyHandle,
        now: DateTime<Utc>,
        demand: Demand,
    ) -> Result<Admission, Denied> {
        admit_cell(&key.cell, key.info(), now, demand)
    }
}

/// A hold of nothing (a key without budgets or limits admitted by the fleet).
pub(crate) fn empty_hold(key: &KeyHandle) -> LocalHold {
    LocalHold {
        cell: key.cell.clone(),
        worst_case: Money::ZERO,
        prompt_tokens: 0,
        periods: [false; 3],
        settled: false,
    }
}

/// Admission against one set of in-process counters under `info`'s limits (the key's own,
/// or its fleet share while Redis is unreachable).
pub(crate) fn admit_cell(
    cell: &Arc<KeyCell>,
    info: &crate::KeyInfo,
    now: DateTime<Utc>,
    demand: Demand,
) -> Result<Admission, Denied> {
    let worst = demand.worst_case_usd;
    let mut state = cell.lock();
    state.check_rates(now, demand.prompt_tokens)?;
    let warnings = state.check_budgets(info, now, worst)?;
    let (periods, remaining_budget_usd) = state.hold(info, now, worst);
    if let Some(r) = &mut state.requests {
        r.take(now);
    }
    if let Some(w) = &mut state.tokens {
        w.reserve(demand.prompt_tokens);
    }
    let remaining_requests = state.requests.as_ref().map(|r| r.remaining(now));
    let remaining_tokens = state.tokens.as_mut().map(|w| w.remaining(now));
    drop(state);
    let hold = LocalHold {
        cell: cell.clone(),
        worst_case: worst,
        prompt_tokens: demand.prompt_tokens,
        periods,
        settled: false,
    };
    Ok(Admission {
        reservation: Reservation::new(Hold::Local(hold)),
        remaining_budget_usd,
        remaining_requests,
        remaining_tokens,
        warnings,
    })
}

impl KeyHandle {
    /// Tokens the key's `tpm` window can still take now (settled in the last minute and in
    /// flight subtracted); `None` without a `tpm` limit. A request whose prompt is surely
    /// below this needs no exact count: an estimate is admitted the same way, and settlement
    /// records the real usage.
    pub fn token_headroom(&self, now: DateTime<Utc>) -> Option<u64> {
        self.cell.lock().tokens.as_mut().map(|w| w.remaining(now))
    }
}

#[cfg(test)]
#[path = "governor_tests.rs"]
mod tests;
