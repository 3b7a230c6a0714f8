//! Simulating offers: bill every Monte Carlo usage path, summarise the distribution, and read
//! exit costs and trigger months off the median (P50) path.

use super::billing::{MonthBill, Totals, bill};
use super::capacity::Profile;
use super::inputs::{GrowthModel, SimError, SimOptions, UsageHistory};
use super::metrics::{ExitPoint, TriggerHit, break_even, exit_points, trigger_hits};
use super::montecarlo::{Plan, rank};
use super::schedule::Schedule;
use super::terms::Offer;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use switchyard_primitives::Money;

/// Ratios and mean amounts are rounded to this many decimal places.
const PLACES: u32 = 6;

/// One offer's simulated outcome over its term. Amounts are totals over the term; "expected"
/// means the mean over paths; P5/P50/P95 are nearest-rank percentiles over paths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferResult {
    pub name: String,
    pub provider: String,
    /// The on-demand baseline added by [`compare`].
    pub baseline: bool,
    pub start: NaiveDate,
    pub term_months: u32,
    pub paths: u32,
    pub seed: u64,
    /// Expected on-demand-equivalent cost of the usage.
    pub on_demand_cost: Money,
    pub expected_cost: Money,
    pub p5_cost: Money,
    pub p50_cost: Money,
    pub p95_cost: Money,
    /// `on_demand_cost − expected_cost`.
    pub expected_savings: Money,
    /// `(on_demand_cost − expected_cost) / on_demand_cost` (0 when there is no usage).
    pub effective_savings_rate: Decimal,
    /// Commitment over the term, after escalation and proration (reserved fees excluded).
    pub committed: Money,
    /// Expected commitment drawn / committed; `None` without a commitment.
    pub utilisation: Option<Decimal>,
    pub reserved_fees: Money,
    /// Expected tokens served by the reservation / its capacity; `None` without one.
    pub reserved_utilisation: Option<Decimal>,
    /// Expected unused commitment that expired, plus the unused share of reserved fees.
    pub waste: Money,
    /// P95 of billed usage above the commitment.
    pub overage_p95: Money,
    pub break_even_utilisation: Option<Decimal>,
    pub exit: Vec<ExitPoint>,
    pub triggers: Vec<TriggerHit>,
    /// The month-by-month bill of the P50 path.
    pub p50_months: Vec<MonthBill>,
}

/// Simulates `offer` over `opts.paths` usage paths.
pub fn simulate(
    offer: &Offer,
    usage: &UsageHistory,
    growth: &GrowthModel,
    opts: &SimOptions,
) -> Result<OfferResult, SimError> {
    growth.check()?;
    if opts.paths == 0 {
        return Err(SimError::NoPaths);
    }
    let plan = Plan::new(offer, usage)?;
    let run = Run {
        offer,
        profile: profile(offer, usage, &plan)?,
        plan,
        opts,
    };
    let paths: Vec<Totals> = (0..opts.paths)
        .map(|p| Totals::of(&run.bills(growth, p)))
        .collect();
    let summary = Summary::of(&paths);
    let p50_months = run.bills(growth, summary.p50_path);
    Ok(run.result(&summary, p50_months))
}

/// One offer laid over the usage, ready to bill paths.
struct Run<'a> {
    offer: &'a Offer,
    plan: Plan,
    profile: Option<Profile>,
    opts: &'a SimOptions,
}

impl Run<'_> {
    fn bills(&self, growth: &GrowthModel, path: u32) -> Vec<MonthBill> {
        let months = self.plan.path(growth, self.opts.seed, path);
        bill(self.offer, &months, self.profile.as_ref())
    }

    fn result(&self, summary: &Summary, p50_months: Vec<MonthBill>) -> OfferResult {
        let (offer, mean) = (self.offer, &summary.mean);
        let committed = Schedule::new(offer, &self.plan.flat(Money::ZERO)).committed();
        let savings = mean.on_demand - mean.cost;
        OfferResult {
            name: offer.name.clone(),
            provider: offer.provider.clone(),
            baseline: false,
            start: offer.start,
            term_months: offer.term_months,
            paths: self.opts.paths,
            seed: self.opts.seed,
            on_demand_cost: round(mean.on_demand),
            expected_cost: round(mean.cost),
            p5_cost: summary.p5,
            p50_cost: summary.p50,
            p95_cost: summary.p95,
            expected_savings: round(savings),
            effective_savings_rate: ratio(savings, mean.on_demand).unwrap_or_default(),
            committed,
            utilisation: offer
                .commit
                .as_ref()
                .and_then(|_| ratio(mean.drawn, committed)),
            reserved_fees: round(mean.reserved_fees),
            reserved_utilisation: offer.reserved.as_ref().and_then(|_| {
                ratio(mean.reserved_unused, mean.reserved_fees).map(|unused| Decimal::ONE - unused)
            }),
            waste: round(mean.waste()),
            overage_p95: summary.overage_p95,
            break_even_utilisation: break_even(offer, &self.plan, self.profile.as_ref()),
            exit: exit_points(offer, &p50_months),
            triggers: trigger_hits(offer, &p50_months),
            p50_months,
        }
    }
}

/// The on-demand baseline (over the first offer's window), then every offer in order, all on
/// the same usage paths. An empty `offers` gives an empty result.
pub fn compare(
    offers: &[Offer],
    usage: &UsageHistory,
    growth: &GrowthModel,
    opts: &SimOptions,
) -> Result<Vec<OfferResult>, SimError> {
    let Some(first) = offers.first() else {
        return Ok(Vec::new());
    };
    let mut baseline = simulate(
        &Offer::on_demand(first.start, first.term_months),
        usage,
        growth,
        opts,
    )?;
    baseline.baseline = true;
    let mut out = vec![baseline];
    for offer in offers {
        out.push(simulate(offer, usage, growth, opts)?);
    }
    Ok(out)
}

/// The hourly profile an offer with reserved capacity needs, tied to the last observed month.
fn profile(offer: &Offer, usage: &UsageHistory, plan: &Plan) -> Result<Option<Profile>, SimError> {
    if offer.reserved.is_none() {
        return Ok(None);
    }
    let tokens = usage
        .hourly_tokens
        .as_ref()
        .ok_or_else(|| SimError::MissingHourlyTokens {
            offer: offer.name.clone(),
        })?;
    Profile::new(tokens, plan.last())
        .map(Some)
        .ok_or_else(|| SimError::UnscalableProfile {
            offer: offer.name.clone(),
        })
}

/// The distribution of path totals.
struct Summary {
    mean: Totals,
    p5: Money,
    p50: Money,
    p95: Money,
    overage_p95: Money,
    /// The path whose total cost is the P50: exits and triggers are read off it.
    p50_path: u32,
}

impl Summary {
    fn of(runs: &[Totals]) -> Summary {
        let n = runs.len();
        let mut by_cost: Vec<(Money, u32)> =
            runs.iter().zip(0u32..).map(|(t, p)| (t.cost, p)).collect();
        by_cost.sort();
        let mut overages: Vec<Money> = runs.iter().map(|t| t.overage).collect();
        overages.sort();
        let at = |percent| by_cost.get(rank(n, percent)).copied().unwrap_or_default();
        let count = Decimal::from(n.max(1));
        let avg = |f: fn(&Totals) -> Money| Money(runs.iter().map(f).sum::<Money>().0 / count);
        Summary {
            mean: Totals {
                on_demand: avg(|t| t.on_demand),
                cost: avg(|t| t.cost),
                overage: avg(|t| t.overage),
                drawn: avg(|t| t.drawn),
                expired: avg(|t| t.expired),
                reserved_fees: avg(|t| t.reserved_fees),
                reserved_unused: avg(|t| t.reserved_unused),
            },
            p5: at(5).0,
            p50: at(50).0,
            p95: at(95).0,
            overage_p95: overages.get(rank(n, 95)).copied().unwrap_or_default(),
            p50_path: at(50).1,
        }
    }
}

fn round(m: Money) -> Money {
    Money(m.0.round_dp(PLACES))
}

/// `a / b` rounded, or `None` when `b` is zero.
fn ratio(a: Money, b: Money) -> Option<Decimal> {
    (!b.is_zero()).then(|| (a.0 / b.0).round_dp(PLACES))
}
