//! Reserved capacity against an hourly token profile: how much traffic overflows, how much of
//! the reservation is used.
//!
//! The hourly token totals describe the *shape* of traffic over a representative window; the
//! window is taken to represent the reference month (the last observed month). A month whose
//! on-demand-equivalent cost is `U` is modelled as the same window with every hour scaled by
//! `s = U / reference`. With capacity `C` tokens per hour:
//!
//! - overflow tokens = Σ_h max(0, s·t_h − C); served tokens = Σ_h min(s·t_h, C);
//! - overflow fraction = overflow / Σ_h s·t_h (the share of the month's usage billed
//!   pay-as-you-go);
//! - utilisation = served / (C × hours in the window).
//!
//! Hours are kept sorted (largest first) with prefix sums, so one month costs a binary search,
//! not a pass over the window: that keeps 2,000 Monte Carlo paths cheap.

use rust_decimal::Decimal;
use switchyard_primitives::Money;

/// A representative window of hourly token totals, tied to the month it represents.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// Tokens per hour, largest first.
    sorted: Vec<Decimal>,
    /// `prefix[k]` = tokens of the `k` busiest hours; `prefix[n]` = the window's total.
    prefix: Vec<Decimal>,
    /// On-demand-equivalent cost of the month the window represents; > 0.
    reference: Money,
}

/// How a month's traffic fits the reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fit {
    pub overflow_fraction: Decimal,
    pub utilisation: Decimal,
}

impl Profile {
    /// `None` when the window is empty or carries no tokens, or the reference month cost
    /// nothing: then the window cannot be scaled to other months.
    pub fn new(hourly_tokens: &[u64], reference: Money) -> Option<Profile> {
        if reference.0 <= Decimal::ZERO {
            return None;
        }
        let mut sorted: Vec<Decimal> = hourly_tokens.iter().map(|&t| Decimal::from(t)).collect();
        sorted.sort_by(|a, b| b.cmp(a));
        let mut prefix = Vec::with_capacity(sorted.len() + 1);
        let mut sum = Decimal::ZERO;
        prefix.push(sum);
        for t in &sorted {
            sum = sum.checked_add(*t)?;
            prefix.push(sum);
        }
        (sum > Decimal::ZERO).then_some(Profile {
            sorted,
            prefix,
            reference,
        })
    }

    /// The fit of a month costing `on_demand` to `capacity` tokens per hour (> 0).
    pub fn fit(&self, on_demand: Money, capacity: Decimal) -> Fit {
        let n = self.sorted.len();
        let total = self.prefix[n];
        let Some(s) = on_demand
            .0
            .checked_div(self.reference.0)
            .filter(|s| *s > Decimal::ZERO)
        else {
            return Fit {
                overflow_fraction: Decimal::ZERO,
                utilisation: Decimal::ZERO,
            };
        };
        // Hours whose scaled traffic exceeds capacity are a prefix of the sorted window; an
        // overflowing product is, a fortiori, above capacity.
        let k = self
            .sorted
            .partition_point(|t| t.checked_mul(s).is_none_or(|v| v > capacity));
        let k_dec = Decimal::from(k);
        // overflow / (s·total) = (prefix[k] − k·C/s) / total, which never forms s·t for a busy
        // hour, so it cannot overflow.
        let busy_cut = if k == 0 {
            Decimal::ZERO
        } else {
            capacity
                .checked_div(s)
                .and_then(|c| c.checked_mul(k_dec))
                .unwrap_or(Decimal::MAX)
                .min(self.prefix[k])
        };
        let overflow_fraction = (self.prefix[k] - busy_cut) / total;
        // Quiet hours fit, so s × their tokens ≤ (n − k)·C: no overflow here either.
        let served = s * (total - self.prefix[k]) + k_dec * capacity;
        let utilisation = (served / (capacity * Decimal::from(n))).min(Decimal::ONE);
        Fit {
            overflow_fraction,
            utilisation,
        }
    }
}
