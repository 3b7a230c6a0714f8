//! What the simulator is given besides the offers: usage history, a growth model, options;
//! and what can be wrong with them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use switchyard_primitives::Money;

/// Observed on-demand-equivalent spend of the workload the offers would cover.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageHistory {
    /// `(month, on-demand-equivalent cost)`; any day of a month names that month, and several
    /// entries for one month are added together. Order does not matter.
    pub monthly: Vec<(NaiveDate, Money)>,
    /// Tokens per hour over a representative window of the *last observed month* (e.g. its
    /// busiest week). Required by offers with reserved capacity; ignored otherwise.
    pub hourly_tokens: Option<Vec<u64>>,
}

/// Month-over-month growth of on-demand-equivalent spend: each forecast month multiplies the
/// previous one by `1 + g`, `g ~ Normal(mean, volatility)` drawn independently per month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GrowthModel {
    /// Expected monthly growth, e.g. `0.05` for +5 %/month; in `(−1, 1]`.
    pub monthly_growth_mean: Decimal,
    /// Standard deviation of monthly growth, e.g. `0.10`; in `[0, 1]`.
    pub monthly_growth_volatility: Decimal,
}

/// Monte Carlo settings. The same seed gives the same result, and every offer in one call
/// sees the same usage paths (common random numbers), so differences between offers are
/// differences in terms, not in luck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SimOptions {
    /// Number of usage paths; at least 1. Default 2,000.
    pub paths: u32,
    pub seed: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            paths: 2_000,
            seed: 0x5EED_C0DE,
        }
    }
}

/// Why a simulation could not run. Each message names the input field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("usage.monthly is empty; give at least the last month's on-demand-equivalent cost")]
    EmptyHistory,
    #[error("usage.monthly[{index}] is {amount}; costs cannot be negative")]
    NegativeUsage { index: usize, amount: Money },
    #[error(
        "usage.monthly has no total for {month}, which offer {offer:?} covers and which is not \
         after the last observed month; add it (0 if there was no usage)"
    )]
    HistoryGap { offer: String, month: NaiveDate },
    #[error(
        "usage.hourly_tokens is required: offer {offer:?} reserves capacity, and overflow can \
         only be measured against hourly token totals"
    )]
    MissingHourlyTokens { offer: String },
    #[error(
        "usage.hourly_tokens cannot be scaled for offer {offer:?}: the window has no tokens or the \
         last observed month cost $0"
    )]
    UnscalableProfile { offer: String },
    #[error("growth.{field} is {value}; it must be {rule}")]
    Growth {
        field: &'static str,
        value: Decimal,
        rule: &'static str,
    },
    #[error("options.paths is 0; simulate at least 1 path (2,000 is the default)")]
    NoPaths,
    #[error("offer {offer:?}: start + term_months is past the last representable date")]
    DateOutOfRange { offer: String },
}

impl GrowthModel {
    pub(crate) fn check(&self) -> Result<(), SimError> {
        let (mean, vol) = (self.monthly_growth_mean, self.monthly_growth_volatility);
        if mean <= -Decimal::ONE || mean > Decimal::ONE {
            return Err(SimError::Growth {
                field: "monthly_growth_mean",
                value: mean,
                rule: "above -1 and at most 1 (e.g. 0.05 for +5 %/month)",
            });
        }
        if vol < Decimal::ZERO || vol > Decimal::ONE {
            return Err(SimError::Growth {
                field: "monthly_growth_volatility",
                value: vol,
                rule: "between 0 and 1 (e.g. 0.10)",
            });
        }
        Ok(())
    }
}
