//! A key's counters: spend and holds per budget period, and its rate limiters.

use crate::admit::{Denied, RateLimit};
use crate::limiter::{RequestBucket, TokenRefusal, TokenWindow, to_std};
use crate::{KeyInfo, Period};
use chrono::{DateTime, Utc};
use switchyard_primitives::Money;

/// Spend counted for one budget's current period.
#[derive(Debug, Clone)]
pub(crate) struct BudgetCounter {
    pub(crate) period_start: DateTime<Utc>,
    pub(crate) spent: Money,
    pub(crate) reserved: Money,
}

impl BudgetCounter {
    /// Starts a new period's count when `now` has passed into it.
    fn roll(&mut self, period: Period, now: DateTime<Utc>) {
        let start = period.start(now);
        if start > self.period_start {
            self.period_start = start;
            self.spent = Money::ZERO;
        }
    }
}

/// A key's counters.
pub(crate) struct KeyState {
    pub(crate) budgets: [Option<BudgetCounter>; 3],
    pub(crate) requests: Option<RequestBucket>,
    pub(crate) tokens: Option<TokenWindow>,
}

impl KeyState {
    pub(crate) fn new(info: &KeyInfo, loaded: Vec<(Period, Money)>, now: DateTime<Utc>) -> Self {
        let mut state = KeyState {
            budgets: [None, None, None],
            requests: None,
            tokens: None,
        };
        state.reconcile(info, loaded, now);
        state
    }

    /// Budget periods of `info` this state has no counter for yet.
    pub(crate) fn missing_periods(&self, info: &KeyInfo) -> Vec<Period> {
        let budgets = info.spec.budgets.iter();
        budgets
            .map(|b| b.period)
            .filter(|p| self.budgets[p.index()].is_none())
            .collect()
    }

    /// Adapts the counters to (possibly changed) settings, keeping what still applies.
    pub(crate) fn reconcile(
        &mut self,
        info: &KeyInfo,
        loaded: Vec<(Period, Money)>,
        now: DateTime<Utc>,
    ) {
        let mut kept: [Option<BudgetCounter>; 3] = [None, None, None];
        for b in &info.spec.budgets {
            kept[b.period.index()] = self.budgets[b.period.index()].take();
        }
        for (period, spent) in loaded {
            kept[period.index()].get_or_insert(BudgetCounter {
                period_start: period.start(now),
                spent,
                reserved: Money::ZERO,
            });
        }
        self.budgets = kept;
        self.requests = match (info.spec.rpm, self.requests.take()) {
            (Some(rpm), Some(b)) if b.rpm == rpm => Some(b),
            (rpm, _) => rpm.map(RequestBucket::new),
        };
        self.tokens = match (info.spec.tpm, self.tokens.take()) {
            (Some(tpm), Some(mut w)) => {
                w.tpm = tpm;
                Some(w)
            }
            (tpm, _) => tpm.map(TokenWindow::new),
        };
    }

    /// The counter of `period`, rolled forward to `now`.
    pub(crate) fn counter(&mut self, period: Period, now: DateTime<Utc>) -> &mut BudgetCounter {
        let c = self.budgets[period.index()].get_or_insert_with(|| BudgetCounter {
            period_start: period.start(now),
            spent: Money::ZERO,
            reserved: Money::ZERO,
        });
        c.roll(period, now);
        c
    }

    pub(crate) fn check_rates(
        &mut self,
        now: DateTime<Utc>,
        prompt_tokens: u64,
    ) -> Result<(), Denied> {
        if let Some(b) = &self.requests {
            b.check(now).map_err(|retry_after| Denied::RateLimited {
                limit: RateLimit::Requests,
                max: u64::from(b.rpm),
                retry_after,
            })?;
        }
        if let Some(w) = &mut self.tokens {
            w.check(now, prompt_tokens).map_err(|r| match r {
                TokenRefusal::Wait(retry_after) => Denied::RateLimited {
                    limit: RateLimit::Tokens,
                    max: w.tpm,
                    retry_after,
                },
                TokenRefusal::TooLarge => Denied::TooLarge {
                    prompt_tokens,
                    tpm: w.tpm,
                },
            })?;
        }
        Ok(())
    }

    /// Soft-budget warnings if every hard budget has room for `worst` more, else the refusal
    /// (of several exhausted budgets, the one that resets last).
    pub(crate) fn check_budgets(
        &mut self,
        info: &KeyInfo,
        now: DateTime<Utc>,
        worst: Money,
    ) -> Result<Vec<String>, Denied> {
        let mut denial: Option<Denied> = None;
        let mut warnings = Vec::new();
        for b in &info.spec.budgets {
            let c = self.counter(b.period, now);
            if c.spent + c.reserved + worst <= b.limit_usd {
                continue;
            }
            let resets_at = b.period.next_start(now);
            if !b.hard {
                warnings.push(format!(
                    "soft {} budget of ${} exceeded: spent ${}, ${} in flight; resets at {resets_at}",
                    b.period,
                    b.limit_usd,
                    c.spent,
                    c.reserved + worst
                ));
            } else if !matches!(&denial, Some(Denied::Budget { resets_at: r, .. }) if *r >= resets_at)
            {
                denial = Some(Denied::Budget {
                    period: b.period,
                    limit: b.limit_usd,
                    spent: c.spent,
                    reserved: c.reserved,
                    resets_at,
                    retry_after: to_std(resets_at - now),
                });
            }
        }
        denial.map_or(Ok(warnings), Err)
    }

    /// Holds `worst` against every budget of the key; returns the periods held and the
    /// smallest amount left.
    pub(crate) fn hold(
        &mut self,
        info: &KeyInfo,
        now: DateTime<Utc>,
        worst: Money,
    ) -> ([bool; 3], Option<Money>) {
        let mut periods = [false; 3];
        let mut smallest: Option<Money> = None;
        for b in &info.spec.budgets {
            let c = self.counter(b.period, now);
            c.reserved += worst;
            periods[b.period.index()] = true;
            let l = left(b.limit_usd, c.spent + c.reserved);
            smallest = Some(smallest.map_or(l, |r| r.min(l)));
        }
        (periods, smallest)
    }
}

/// `limit - used`, never below zero.
pub(crate) fn left(limit: Money, used: Money) -> Money {
    if used >= limit {
        Money::ZERO
    } else {
        limit - used
    }
}
