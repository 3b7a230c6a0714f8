//! The deterministic engine: one path of monthly on-demand-equivalent usage → one [`MonthBill`]
//! per contract month. Monte Carlo, break-even and exit costs all run through here.
//!
//! Each month's usage passes through the offer's layers in a fixed order (docs/contracts.md
//! gives the formulas):
//!
//! 1. **mix**: list cost `L = U × (1 − batch_share·batch_discount + priority_share·premium)`;
//! 2. **reserved capacity**: a fixed fee; only the overflow share `f` of `L` continues, at
//!    `(1 − overflow_discount)`;
//! 3. **tiers**: the marginal tier saving on `U`, scaled by the share of `U` still billed;
//! 4. **commitment**: the remainder `D` is valued at `D × (1 − discount)` and drawn from any
//!    rolled-over credit, then from the period's commitment; the rest is overage, billed at
//!    `(1 − overage_discount)` of its on-demand value. Without a commitment `D` is paid as is.

use super::capacity::Profile;
use super::schedule::Schedule;
use super::terms::{CommitKind, Offer, Tier};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use switchyard_primitives::Money;

/// One contract month's input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Month {
    pub date: NaiveDate,
    pub on_demand: Money,
}

/// What one contract month costs and why. Amounts are in billed dollars unless named
/// `on_demand`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MonthBill {
    /// 1-based contract month.
    pub month: u32,
    pub date: NaiveDate,
    /// On-demand-equivalent cost of the month's usage.
    pub on_demand: Money,
    pub reserved_fee: Money,
    pub reserved_utilisation: Option<Decimal>,
    /// The reserved fee's unused share: fee × (1 − utilisation).
    pub reserved_unused: Money,
    /// Usage billed without a commitment (offers with no `[commit]`).
    pub pay_as_you_go: Money,
    /// Commitment consumed by usage, at the committed rate (includes `drawn_from_rollover`).
    pub drawn: Money,
    pub drawn_from_rollover: Money,
    /// Usage above the commitment, billed at the overage rate.
    pub overage: Money,
    /// Drawdown: the period's commitment, prepaid at its start.
    pub prepaid: Money,
    /// Minimum: the period's shortfall, invoiced at its end.
    pub true_up: Money,
    pub rolled_over: Money,
    /// Commitment that expired unused at the end of a period.
    pub expired: Money,
    /// Everything charged this month.
    pub cost: Money,
    /// Commitment (and reserved fees) still unpaid after this month: what an exit fee is
    /// measured against.
    pub unpaid_commitment: Money,
}

/// Sums over a path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Totals {
    pub on_demand: Money,
    pub cost: Money,
    pub overage: Money,
    pub drawn: Money,
    pub expired: Money,
    pub reserved_fees: Money,
    pub reserved_unused: Money,
}

impl Totals {
    pub fn of(bills: &[MonthBill]) -> Totals {
        let mut t = Totals::default();
        for b in bills {
            t.on_demand += b.on_demand;
            t.cost += b.cost;
            t.overage += b.overage;
            t.drawn += b.drawn;
            t.expired += b.expired;
            t.reserved_fees += b.reserved_fee;
            t.reserved_unused += b.reserved_unused;
        }
        t
    }

    /// Unused commitment plus the unused share of reserved fees, in dollars.
    pub fn waste(&self) -> Money {
        self.expired + self.reserved_unused
    }
}

/// The commitment's running state within and between periods.
#[derive(Debug, Default)]
struct Balance {
    /// This period's commitment not yet drawn.
    fresh: Money,
    /// Rolled over from the previous period; drawn first, expires at this period's end.
    credit: Money,
}

/// Bills every month of `months` (one per contract month, in order).
pub(crate) fn bill(offer: &Offer, months: &[Month], profile: Option<&Profile>) -> Vec<MonthBill> {
    let mut engine = Engine {
        offer,
        schedule: Schedule::new(offer, months),
        profile,
        balance: Balance::default(),
    };
    let minimum = offer
        .commit
        .as_ref()
        .is_some_and(|c| c.kind == CommitKind::Minimum);
    let mut out = Vec::with_capacity(months.len());
    for (m, input) in (0u32..).zip(months) {
        let mut b = MonthBill {
            month: m + 1,
            date: input.date,
            on_demand: input.on_demand,
            ..MonthBill::default()
        };
        let discountable = engine.usage_layers(m, &mut b);
        if offer.commit.is_some() {
            engine.commit_month(m, discountable, &mut b);
        } else {
            b.pay_as_you_go = discountable;
        }
        b.cost = b.reserved_fee + b.pay_as_you_go + b.overage + b.prepaid + b.true_up;
        if minimum {
            // Minimum commitments bill usage as it happens; rolled-over credit was paid for
            // in the period that produced it.
            b.cost += b.drawn - b.drawn_from_rollover;
        }
        b.unpaid_commitment = engine.schedule.unpaid_after(m, engine.balance.fresh);
        out.push(b);
    }
    out
}

/// Marginal tier saving on `u` (like tax brackets): the spend between one tier's `above` and
/// the next one's gets that tier's discount.
pub(crate) fn tier_saving(tiers: &[Tier], u: Money) -> Money {
    let mut saving = Money::ZERO;
    for (i, t) in tiers.iter().enumerate() {
        let top = tiers.get(i + 1).map_or(u.0, |next| next.above.0.min(u.0));
        if top > t.above.0 {
            saving += Money(top - t.above.0) * t.discount;
        }
    }
    saving
}

struct Engine<'a> {
    offer: &'a Offer,
    schedule: Schedule,
    profile: Option<&'a Profile>,
    balance: Balance,
}

impl Engine<'_> {
    /// Steps 1–3: fills the reserved fields; returns the on-demand value `D` left for step 4.
    fn usage_layers(&self, m: u32, b: &mut MonthBill) -> Money {
        let u = b.on_demand;
        let mut share = self.offer.mix.factor();
        if let Some(r) = &self.offer.reserved {
            // Without a profile nothing can be placed on the reservation: a conservative
            // fallback, unreachable through `simulate`, which requires the profile.
            let fit = self.profile.map(|p| p.fit(u, r.tokens_per_hour()));
            let (overflow, utilisation) = fit.map_or((Decimal::ONE, Decimal::ZERO), |f| {
                (f.overflow_fraction, f.utilisation)
            });
            let fee = self.schedule.fee(m);
            b.reserved_fee = fee;
            b.reserved_utilisation = Some(utilisation);
            b.reserved_unused = fee * (Decimal::ONE - utilisation);
            share = share * overflow * (Decimal::ONE - r.overflow_discount);
        }
        u * share - tier_saving(&self.offer.tiers, u) * share
    }

    /// Step 4 for one month: opens/closes periods, draws, bills overage.
    fn commit_month(&mut self, m: u32, discountable: Money, b: &mut MonthBill) {
        let Some(c) = &self.offer.commit else { return };
        let balance = &mut self.balance;
        if let Some(amount) = self.schedule.opens(m) {
            balance.fresh = amount;
            if c.kind == CommitKind::Drawdown {
                b.prepaid = amount;
            }
        }
        let keep = Decimal::ONE - c.discount;
        let value = discountable * keep;
        let from_credit = value.min(balance.credit);
        balance.credit = balance.credit - from_credit;
        let from_fresh = (value - from_credit).min(balance.fresh);
        balance.fresh = balance.fresh - from_fresh;
        b.drawn_from_rollover = from_credit;
        b.drawn = from_credit + from_fresh;
        let uncovered = value - b.drawn;
        if uncovered > Money::ZERO {
            // Back to on-demand dollars (keep > 0: discounts are < 1), then at the overage rate.
            b.overage = Money(uncovered.0 / keep) * (Decimal::ONE - c.overage_discount);
        }
        if !self.schedule.closes(m) {
            return;
        }
        let unused = balance.fresh;
        let rolled = match (&c.rollover, self.schedule.is_last(m)) {
            (Some(r), false) => {
                let carried = unused * r.fraction;
                r.cap.map_or(carried, |cap| carried.min(cap))
            }
            _ => Money::ZERO,
        };
        if c.kind == CommitKind::Minimum {
            b.true_up = unused;
        }
        b.rolled_over = rolled;
        b.expired = unused - rolled + balance.credit;
        *balance = Balance {
            fresh: Money::ZERO,
            credit: rolled,
        };
    }
}
