//! Metrics read off bills: the cost to exit at each month, when renegotiation triggers fire,
//! and break-even utilisation.

use super::billing::{MonthBill, Totals, bill};
use super::capacity::Profile;
use super::montecarlo::Plan;
use super::schedule::Schedule;
use super::terms::{ExitFee, Offer};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use switchyard_primitives::Money;

/// Leaving at the end of contract month `month` (on the P50 path).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExitPoint {
    pub month: u32,
    pub date: NaiveDate,
    /// Everything charged through this month: usage, prepayments, true-ups, reserved fees.
    pub spent_to_date: Money,
    /// Commitment still unpaid after this month (the exit fee's base).
    pub unpaid_commitment: Money,
    /// The early-termination fee: `fixed_usd`, or `fraction_of_remaining × unpaid`, or — with
    /// a commitment and no `exit_fee` clause — the whole unpaid commitment.
    pub fee: Money,
    /// `spent_to_date + fee`: the contract's whole cost if left here.
    pub total_if_exit: Money,
}

/// A renegotiation trigger and the first month (on the P50 path) it fires, if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerHit {
    pub when_monthly_spend_usd_above: Money,
    pub action: String,
    pub month: Option<u32>,
    pub date: Option<NaiveDate>,
}

/// One [`ExitPoint`] per early exit: after month 1, …, after month `term − 1`.
pub(crate) fn exit_points(offer: &Offer, bills: &[MonthBill]) -> Vec<ExitPoint> {
    let mut spent = Money::ZERO;
    let mut out = Vec::new();
    let early = bills.len().saturating_sub(1);
    for b in &bills[..early] {
        spent += b.cost;
        let unpaid = b.unpaid_commitment;
        let fee = match &offer.exit_fee {
            Some(ExitFee::Fixed(x)) => *x,
            Some(ExitFee::FractionOfRemaining(f)) => unpaid * *f,
            None if offer.has_commitment() => unpaid,
            None => Money::ZERO,
        };
        out.push(ExitPoint {
            month: b.month,
            date: b.date,
            spent_to_date: spent,
            unpaid_commitment: unpaid,
            fee,
            total_if_exit: spent + fee,
        });
    }
    out
}

/// Triggers fire the first month on-demand-equivalent spend is strictly above the threshold:
/// they track usage milestones, not dates or what the contract happens to bill.
pub(crate) fn trigger_hits(offer: &Offer, bills: &[MonthBill]) -> Vec<TriggerHit> {
    offer
        .triggers
        .iter()
        .map(|t| {
            let hit = bills.iter().find(|b| b.on_demand > t.above);
            TriggerHit {
                when_monthly_spend_usd_above: t.above,
                action: t.action.clone(),
                month: hit.map(|b| b.month),
                date: hit.map(|b| b.date),
            }
        })
        .collect()
}

/// The utilisation at which the offer costs exactly what on-demand would: found by bisection
/// on a flat monthly usage `x` for `cost(x) − term × x = 0`, then read as commitment
/// utilisation (reserved utilisation for reserved-only offers) at that usage. `None` for
/// offers that commit to nothing or never beat on-demand. Rounded to 6 places.
pub(crate) fn break_even(offer: &Offer, plan: &Plan, profile: Option<&Profile>) -> Option<Decimal> {
    if !offer.has_commitment() {
        return None;
    }
    let term = Decimal::from(offer.term_months);
    let excess = |x: Decimal| -> (Decimal, Vec<MonthBill>) {
        let bills = bill(offer, &plan.flat(Money(x)), profile);
        let cost = Totals::of(&bills).cost.0;
        (cost - term * x, bills)
    };
    // At zero usage the cost is what the offer commits to; the crossing lies beyond its
    // monthly average.
    let mut hi = (excess(Decimal::ZERO).0 / term).max(Decimal::ONE);
    let limit = Decimal::from(1_000_000_000_000_000u64);
    while excess(hi).0 > Decimal::ZERO {
        hi *= Decimal::TWO;
        if hi > limit {
            return None;
        }
    }
    let mut lo = Decimal::ZERO;
    let tolerance = hi * Decimal::new(1, 18);
    while hi - lo > tolerance {
        let mid = (lo + hi) / Decimal::TWO;
        if excess(mid).0 > Decimal::ZERO {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let totals = Totals::of(&excess(hi).1);
    let committed = Schedule::new(offer, &plan.flat(Money::ZERO)).committed();
    let utilisation = if committed > Money::ZERO {
        totals.drawn.0 / committed.0
    } else if totals.reserved_fees > Money::ZERO {
        Decimal::ONE - totals.reserved_unused.0 / totals.reserved_fees.0
    } else {
        return None;
    };
    Some(utilisation.round_dp(6))
}
