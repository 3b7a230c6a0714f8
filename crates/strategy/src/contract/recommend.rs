//! Recommending a commitment level from daily on-demand spend, the way cloud commitment tools
//! (savings-plan recommenders) do it.
//!
//! For each lookback of 7, 30 and 60 days ending on the last day of the series:
//!
//! 1. candidates are the P10, P20, …, P90 of the window's daily on-demand spend (days without an
//!    entry count as $0); candidate `level` means "commit enough to cover `level` of on-demand
//!    spend a day", a daily commitment `k = level × (1 − discount)`;
//! 2. each candidate is simulated on the window as a use-it-or-lose-it daily commitment that
//!    buys the discount, with usage above it paid on-demand (the savings-plan model):
//!    `cost_day = k + max(0, u_day − level)`, `savings = Σ u_day − Σ cost_day`;
//! 3. candidates that do not save money are dropped; the best saver is the lookback's result
//!    (a lookback with no saver recommends no commitment).
//!
//! The recommendation is the **lowest** lookback result, so a stale long window cannot cause
//! over-commitment after usage fell, and a short spike cannot either. Savings as a function of
//! `k` are concave with value 0 at `k = 0`, so a level below one that saves on a window also
//! saves on it: the recommendation never loses money on any lookback window. It is converted
//! to a monthly commitment as `k × 365 / 12`, rounded *down* to the cent (lower is safe, by the
//! same argument). A monthly pool wastes no more than daily buckets, so the real contract
//! saves at least what is shown.

use super::montecarlo::rank;
use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::BTreeMap;
use switchyard_primitives::Money;

/// Lookback windows, in days.
pub const LOOKBACKS: [u32; 3] = [7, 30, 60];
/// Candidate percentiles of daily spend.
pub const PERCENTILES: [u32; 9] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub percentile: u32,
    /// Daily on-demand spend the commitment covers (the percentile's value).
    pub daily_on_demand: Money,
    /// `daily_on_demand × (1 − discount)`.
    pub daily_commitment: Money,
    /// `daily_commitment × 365 / 12`, rounded down to the cent.
    pub monthly_commitment: Money,
    /// Savings over the lookback window versus paying on-demand.
    pub window_savings: Money,
    pub saves: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lookback {
    pub days: u32,
    /// `false` when the series spans fewer days than the lookback.
    pub available: bool,
    pub candidates: Vec<Candidate>,
    /// The candidate saving the most (ties: the lower commitment); `None` if none saves.
    pub best: Option<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub discount: Decimal,
    pub term_months: u32,
    /// What to commit per month (billed dollars); zero means "do not commit".
    pub monthly_commitment: Money,
    /// The lookback whose result was lowest and so set the recommendation.
    pub binding_lookback_days: Option<u32>,
    /// Measured on the longest available lookback, per average month (365/12 days).
    pub expected_monthly_savings: Money,
    /// `expected_monthly_savings × term_months`.
    pub expected_term_savings: Money,
    /// Savings / on-demand spend over the longest available lookback.
    pub expected_savings_rate: Decimal,
    pub lookbacks: Vec<Lookback>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecommendError {
    #[error("discount is {0}; it must be above 0 and below 1 (e.g. 0.20)")]
    Discount(Decimal),
    #[error("term_months is {0}; it must be between 1 and 120")]
    Term(u32),
    #[error("daily[{index}] is {amount}; costs cannot be negative")]
    Negative { index: usize, amount: Money },
    #[error(
        "the usage history covers {0} day(s); a recommendation needs at least {min} (the shortest lookback) — record or import more usage, then ask again",
        min = LOOKBACKS[0]
    )]
    TooShort(i64),
}

/// Recommends a monthly commitment bought at `discount` for `term_months`.
///
/// `daily` covers the days from its first entry to its last (days between without an entry are
/// $0); it must not be padded before the history began (see
/// [`crate::spend::covered_daily_series`]): a lookback longer than that span is unavailable and
/// takes no part in the recommendation.
pub fn recommend(
    daily: &[(NaiveDate, Money)],
    discount: Decimal,
    term_months: u32,
) -> Result<Recommendation, RecommendError> {
    if discount <= Decimal::ZERO || discount >= Decimal::ONE {
        return Err(RecommendError::Discount(discount));
    }
    if !(1..=120).contains(&term_months) {
        return Err(RecommendError::Term(term_months));
    }
    let series = by_day(daily)?;
    let keep = Decimal::ONE - discount;
    let lookbacks: Vec<Lookback> = LOOKBACKS
        .iter()
        .map(|&d| lookback(&series, d, keep))
        .collect();
    let binding = lookbacks
        .iter()
        .filter(|l| l.available)
        .min_by_key(|l| {
            l.best
                .as_ref()
                .map_or(Money::ZERO, |c| c.monthly_commitment)
        })
        .ok_or(RecommendError::TooShort(series.span()))?;
    let monthly = binding
        .best
        .as_ref()
        .map_or(Money::ZERO, |c| c.monthly_commitment);
    let expected = expected_savings(&series, &lookbacks, monthly, keep);
    Ok(Recommendation {
        discount,
        term_months,
        monthly_commitment: monthly,
        binding_lookback_days: Some(binding.days),
        expected_monthly_savings: expected.per_month,
        expected_term_savings: expected.per_month * Decimal::from(term_months),
        expected_savings_rate: expected.rate,
        lookbacks,
    })
}

struct Expected {
    per_month: Money,
    rate: Decimal,
}

/// `monthly` measured on the longest available lookback, scaled to an average month.
fn expected_savings(
    series: &Series,
    lookbacks: &[Lookback],
    monthly: Money,
    keep: Decimal,
) -> Expected {
    let days = lookbacks
        .iter()
        .rev()
        .find(|l| l.available)
        .map_or(LOOKBACKS[0], |l| l.days);
    let window = series.window(days);
    let level = Money(monthly.0 * Decimal::from(12) / Decimal::from(365) / keep);
    let on_demand: Money = window.iter().copied().sum();
    let savings = on_demand - window_cost(&window, level, keep);
    let per_day = savings.0 / Decimal::from(days);
    Expected {
        per_month: Money((per_day * Decimal::from(365) / Decimal::from(12)).round_dp(2)),
        rate: if on_demand.is_zero() {
            Decimal::ZERO
        } else {
            (savings.0 / on_demand.0).round_dp(6)
        },
    }
}

/// Cost of a window under a daily commitment covering `level` of on-demand spend a day.
pub(crate) fn window_cost(window: &[Money], level: Money, keep: Decimal) -> Money {
    window
        .iter()
        .map(|&u| level * keep + (u - level).max(Money::ZERO))
        .sum()
}

fn lookback(series: &Series, days: u32, keep: Decimal) -> Lookback {
    if series.span() < i64::from(days) {
        return Lookback {
            days,
            available: false,
            candidates: Vec::new(),
            best: None,
        };
    }
    let window = series.window(days);
    let mut sorted = window.clone();
    sorted.sort();
    let candidates: Vec<Candidate> = PERCENTILES
        .iter()
        .map(|&p| candidate(&window, &sorted, p, keep))
        .collect();
    // Highest savings; among equal savings the lower commitment (it risks less).
    let best = candidates
        .iter()
        .filter(|c| c.saves)
        .max_by(|a, b| {
            a.window_savings
                .cmp(&b.window_savings)
                .then(b.monthly_commitment.cmp(&a.monthly_commitment))
        })
        .cloned();
    Lookback {
        days,
        available: true,
        candidates,
        best,
    }
}

/// The `percentile` of the (sorted) window as a candidate, simulated on the window.
fn candidate(window: &[Money], sorted: &[Money], percentile: u32, keep: Decimal) -> Candidate {
    let level = sorted
        .get(rank(sorted.len(), percentile))
        .copied()
        .unwrap_or_default();
    let on_demand: Money = window.iter().copied().sum();
    let savings = on_demand - window_cost(window, level, keep);
    let monthly = (level.0 * keep * Decimal::from(365) / Decimal::from(12))
        .round_dp_with_strategy(2, RoundingStrategy::ToZero);
    Candidate {
        percentile,
        daily_on_demand: level,
        daily_commitment: level * keep,
        monthly_commitment: Money(monthly),
        window_savings: savings,
        saves: savings > Money::ZERO && monthly > Decimal::ZERO,
    }
}

/// Daily spend keyed by day (duplicates summed), with its first and last day.
struct Series {
    days: BTreeMap<NaiveDate, Money>,
}

fn by_day(daily: &[(NaiveDate, Money)]) -> Result<Series, RecommendError> {
    let mut days = BTreeMap::new();
    for (index, &(day, amount)) in daily.iter().enumerate() {
        if amount < Money::ZERO {
            return Err(RecommendError::Negative { index, amount });
        }
        *days.entry(day).or_insert(Money::ZERO) += amount;
    }
    Ok(Series { days })
}

impl Series {
    /// Days from the first to the last entry, inclusive (0 when empty).
    fn span(&self) -> i64 {
        match (self.days.first_key_value(), self.days.last_key_value()) {
            (Some((first, _)), Some((last, _))) => (*last - *first).num_days() + 1,
            _ => 0,
        }
    }

    /// The last `n` calendar days' spend, oldest first; missing days are $0.
    fn window(&self, n: u32) -> Vec<Money> {
        let Some((&last, _)) = self.days.last_key_value() else {
            return Vec::new();
        };
        (0..u64::from(n))
            .rev()
            .filter_map(|back| last.checked_sub_days(Days::new(back)))
            .map(|d| self.days.get(&d).copied().unwrap_or_default())
            .collect()
    }
}
