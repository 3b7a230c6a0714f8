//! Validated contract terms: what an [`Offer`] promises and what it costs to hold.
//!
//! These types are only built by [`super::parse_offers`] (or by tests and callers that construct
//! them directly); every invariant listed on a field was checked there. All fractions are
//! decimals in `[0, 1)` unless a field says otherwise.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use switchyard_primitives::Money;

/// One offer from a vendor (or the on-demand baseline), compared side by side with the others.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    pub name: String,
    /// Whose spend the offer covers (`"*"` = all providers). Informational: the caller passes
    /// the matching usage.
    pub provider: String,
    /// First day of the first contract month (always the 1st of a month).
    pub start: NaiveDate,
    /// 1 ..= 120.
    pub term_months: u32,
    pub commit: Option<Commit>,
    /// Marginal volume discounts on monthly on-demand-equivalent spend, sorted by `above`.
    pub tiers: Vec<Tier>,
    /// `None` with a commitment means leaving early owes all of the unpaid commitment.
    pub exit_fee: Option<ExitFee>,
    pub reserved: Option<Reserved>,
    pub mix: UsageMix,
    pub triggers: Vec<Trigger>,
}

/// Committed spend per period, in discounted (billed) dollars.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commit {
    /// Commitment per period before escalation; > 0.
    pub amount: Money,
    pub period: Period,
    /// Fraction off on-demand for usage drawn against the commitment; `[0, 1)`.
    pub discount: Decimal,
    pub kind: CommitKind,
    /// Fraction off on-demand for usage above the commitment (defaults to `discount`).
    pub overage_discount: Decimal,
    pub rollover: Option<Rollover>,
    /// The commitment grows by this fraction each contract year; `[0, 1]`.
    pub escalation_per_year: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month,
    Year,
}

impl Period {
    /// Contract months per period.
    pub fn months(self) -> u32 {
        match self {
            Period::Month => 1,
            Period::Year => 12,
        }
    }
}

/// How an unmet commitment is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitKind {
    /// Usage is billed monthly at the discounted rate; any shortfall is invoiced (trued up)
    /// at the end of the period.
    Minimum,
    /// The whole period's commitment is prepaid at its start and drawn down by usage.
    Drawdown,
}

/// Unused commitment carried into the next period as a credit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollover {
    /// Fraction of the period's unused commitment carried over; `[0, 1]`.
    pub fraction: Decimal,
    pub cap: Option<Money>,
}

/// A marginal volume tier: spend above `above` (up to the next tier) gets `discount`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tier {
    pub above: Money,
    pub discount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitFee {
    Fixed(Money),
    /// Fraction (`[0, 1]`) of the commitment still unpaid when leaving.
    FractionOfRemaining(Decimal),
}

/// Reserved capacity (provisioned throughput) billed by the hour whether used or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reserved {
    pub units: u32,
    pub hourly_per_unit: Money,
    pub tokens_per_minute_per_unit: u64,
    /// Fraction off on-demand for usage that overflows the capacity.
    pub overflow_discount: Decimal,
}

impl Reserved {
    /// Tokens one hour of the reservation can serve: units × tokens/minute × 60.
    pub fn tokens_per_hour(&self) -> Decimal {
        Decimal::from(self.units)
            * Decimal::from(self.tokens_per_minute_per_unit)
            * Decimal::from(60)
    }

    /// The fixed fee for `hours` hours: units × hourly rate × hours.
    pub fn fee(&self, hours: u32) -> Money {
        self.hourly_per_unit * (Decimal::from(self.units) * Decimal::from(hours))
    }
}

/// How usage splits between the standard, batch and priority tiers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageMix {
    pub batch_share: Decimal,
    pub batch_discount: Decimal,
    pub priority_share: Decimal,
    /// Fraction added to on-demand for priority usage; `>= 0`.
    pub priority_premium: Decimal,
}

impl UsageMix {
    /// List cost per dollar of standard on-demand usage:
    /// `1 − batch_share × batch_discount + priority_share × priority_premium`.
    pub fn factor(&self) -> Decimal {
        Decimal::ONE - self.batch_share * self.batch_discount
            + self.priority_share * self.priority_premium
    }
}

/// A renegotiation milestone: fires the first month on-demand-equivalent spend exceeds `above`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub above: Money,
    pub action: String,
}

impl Offer {
    /// Plain pay-as-you-go at on-demand prices over the given window: the baseline.
    pub fn on_demand(start: NaiveDate, term_months: u32) -> Offer {
        Offer {
            name: "on-demand".to_string(),
            provider: "*".to_string(),
            start,
            term_months,
            commit: None,
            tiers: Vec::new(),
            exit_fee: None,
            reserved: None,
            mix: UsageMix::default(),
            triggers: Vec::new(),
        }
    }

    /// Whether the offer binds the buyer to pay something regardless of usage.
    pub fn has_commitment(&self) -> bool {
        self.commit.is_some() || self.reserved.is_some()
    }

    /// The deepest discount any dollar of usage can get, stacking the layers the simulator
    /// applies in turn (batch tier, volume tier, commitment or overage rate):
    /// `1 − (1 − batch) × (1 − deepest tier) × (1 − max(commit, overage))`.
    /// `None` for reserved capacity, whose fixed fee has no per-dollar bound.
    pub fn best_discount(&self) -> Option<Decimal> {
        if self.reserved.is_some() {
            return None;
        }
        let batch = if self.mix.batch_share > Decimal::ZERO {
            self.mix.batch_discount
        } else {
            Decimal::ZERO
        };
        let tier = self
            .tiers
            .iter()
            .map(|t| t.discount)
            .max()
            .unwrap_or_default();
        let commit = self
            .commit
            .as_ref()
            .map(|c| c.discount.max(c.overage_discount))
            .unwrap_or_default();
        let keep = (Decimal::ONE - batch) * (Decimal::ONE - tier) * (Decimal::ONE - commit);
        Some(Decimal::ONE - keep)
    }
}
