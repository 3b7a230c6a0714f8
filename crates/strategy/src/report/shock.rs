//! "If our main vendor doubled its prices tomorrow": per affected workload, what staying would
//! cost, the plan, and the candidates still to prove.
//!
//! A move is worth listing only where it costs less than staying at the shocked price, and it
//! belongs to the *plan* only once evaluation has proven it (a replay PASS, or shadow traffic
//! that clears the margin — [`crate::readiness`], carried on each lock-in alternative).
//! Cheaper but unproven alternatives are *candidates to evaluate*, each with the command that
//! would prove it. Alternatives from the shocked vendor are priced at the shocked price too.

use crate::lockin::{Alternative, LockIn};
use crate::scenario::{self, Change, Scenario};
use crate::source::History;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use switchyard_catalog::Catalog;
use switchyard_primitives::Money;

/// The price factor of the shock.
const FACTOR: i64 = 2;
/// Candidates to evaluate listed per workload, cheapest first.
const CANDIDATES: usize = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoublingPlan {
    pub vendor: String,
    /// Extra cost per month if nothing moves.
    pub monthly_increase: Money,
    /// Every workload the shock makes dearer, the dearest first.
    #[serde(default)]
    pub workloads: Vec<ShockLine>,
}

/// One workload under the shock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShockLine {
    pub workload: String,
    /// Cost per month at today's prices.
    pub now: Money,
    /// Cost per month if it stays, at the shocked price.
    pub if_it_stays: Money,
    /// The cheapest proven move that costs less than staying: the plan.
    pub plan: Option<Move>,
    /// Cheaper than staying but unproven (never the plan's move), cheapest first.
    pub candidates: Vec<Move>,
    /// Why it stays, when there is no plan.
    pub stay: Option<String>,
}

/// A possible move and what it would cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    pub to: String,
    /// Cost per month after the move (the shocked price for the vendor's own models).
    pub monthly_cost: Money,
    /// What evaluation showed, or "unproven".
    pub evidence: String,
    /// Where `monthly_cost` comes from: measured on the workload's traffic, or the catalog.
    #[serde(default)]
    pub cost_basis: String,
    /// The command that would prove it (candidates only).
    pub prove_with: Option<String>,
}

/// The plan for `vendor` doubling its prices from `today`.
pub fn doubling(
    h: &History,
    catalog: &Catalog,
    today: NaiveDate,
    (vendor, lockins): (&str, &[LockIn]),
) -> DoublingPlan {
    shock(h, catalog, today, (vendor, Decimal::from(FACTOR), lockins))
}

/// The plan for `vendor` multiplying its prices by `factor` from `today` (the dashboard's
/// price-shock simulator; [`doubling`] is the factor 2).
pub fn shock(
    h: &History,
    catalog: &Catalog,
    today: NaiveDate,
    (vendor, factor, lockins): (&str, Decimal, &[LockIn]),
) -> DoublingPlan {
    let shock = Scenario {
        name: format!("{vendor} prices ×{factor}"),
        horizon_months: 1,
        changes: vec![Change::Price {
            provider: vendor.to_string(),
            factor,
            from: today,
        }],
        origins: Vec::new(),
    };
    let r = scenario::run(h, catalog, &shock, today);
    let mut workloads: Vec<ShockLine> = r
        .workloads
        .iter()
        .filter(|w| w.delta > Money::ZERO)
        .map(|w| {
            let alts = lockins
                .iter()
                .find(|l| l.workload == w.workload)
                .map_or(&[][..], |l| l.alternatives.as_slice());
            line(
                &w.workload,
                (w.baseline, w.scenario),
                (vendor, factor),
                alts,
            )
        })
        .collect();
    workloads.sort_by_key(|w| std::cmp::Reverse(w.if_it_stays - w.now));
    DoublingPlan {
        vendor: vendor.to_string(),
        monthly_increase: r.total_delta,
        workloads,
    }
}

fn line(
    workload: &str,
    (now, if_it_stays): (Money, Money),
    shocked: (&str, Decimal),
    alts: &[Alternative],
) -> ShockLine {
    let mut priced = priced_moves(alts, now, shocked);
    priced.sort_by(|(a, _), (b, _)| a.monthly_cost.cmp(&b.monthly_cost).then(a.to.cmp(&b.to)));
    let cheapest = priced.first().map(|(m, _)| m.clone());
    let cheaper = priced
        .into_iter()
        .filter(|(m, _)| m.monthly_cost < if_it_stays);
    let (proven, unproven): (Vec<_>, Vec<_>) = cheaper.partition(|(_, proven)| *proven);
    let plan = proven.into_iter().next().map(|(m, _)| m);
    let candidates: Vec<Move> = unproven
        .into_iter()
        .map(|(m, _)| m)
        .filter(|m| {
            plan.as_ref()
                .is_none_or(|p| m.monthly_cost < p.monthly_cost)
        })
        .take(CANDIDATES)
        .map(|m| Move {
            prove_with: Some(format!(
                "switchyard eval run --dataset {workload} --candidate {}",
                m.to
            )),
            ..m
        })
        .collect();
    let stay = plan
        .is_none()
        .then(|| stay_reason(cheapest.as_ref(), !candidates.is_empty()));
    ShockLine {
        workload: workload.to_string(),
        now,
        if_it_stays,
        plan,
        candidates,
        stay,
    }
}

/// Every alternative not failed by evaluation, priced per month, with whether it is proven.
fn priced_moves(alts: &[Alternative], now: Money, shocked: (&str, Decimal)) -> Vec<(Move, bool)> {
    // Evaluated and failed: neither the plan nor a candidate.
    let failed = |a: &Alternative| !a.proven && a.readiness != "unproven";
    alts.iter()
        .filter(|a| !failed(a))
        .filter_map(|a| {
            let m = Move {
                to: a.model.clone(),
                monthly_cost: monthly_cost(a, now, shocked)?,
                evidence: a.readiness.clone(),
                cost_basis: a.cost_basis.clone(),
                prove_with: None,
            };
            Some((m, a.proven))
        })
        .collect()
}

/// Why a workload without a plan stays.
fn stay_reason(cheapest: Option<&Move>, has_candidates: bool) -> String {
    match (cheapest, has_candidates) {
        (None, _) => "no viable alternative".to_string(),
        (Some(_), true) => "nothing cheaper is proven yet: evaluate the candidates below".into(),
        (Some(c), false) => format!(
            "the cheapest alternative, {}, costs {} a month, more than staying",
            c.to,
            crate::report::usd(c.monthly_cost)
        ),
    }
}

/// Cost per month after moving to `a` ([`Alternative::monthly_cost`]: measured where evaluation
/// measured it, else the catalog estimate); the shocked vendor's own models at the shocked
/// price. `None` for a candidate nothing prices.
fn monthly_cost(a: &Alternative, now: Money, (vendor, shock): (&str, Decimal)) -> Option<Money> {
    let base = a.monthly_cost(now)?;
    let factor = if a.model.starts_with(&format!("{vendor}/")) {
        shock
    } else {
        Decimal::ONE
    };
    Some((base * factor).round_cents())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn alt(model: &str, cost: &str, proven: bool) -> Alternative {
        Alternative {
            model: model.into(),
            creator: String::new(),
            cost_30d: Money::from_str(cost).unwrap(),
            cost_delta_pct: None,
            cost_basis: crate::lockin::CATALOG_ESTIMATE.into(),
            catalog_cost_delta_pct: None,
            readiness: if proven {
                "proven on 50 samples"
            } else {
                "unproven"
            }
            .into(),
            proven,
        }
    }

    #[test]
    fn a_move_dearer_than_staying_at_the_shocked_price_is_not_listed_and_the_row_says_stay() {
        // search-indexing: $2.71 now, $5.42 if it stays; mistral-embed would cost $14.93.
        let now = (
            Money::from_str("2.71").unwrap(),
            Money::from_str("5.42").unwrap(),
        );
        let l = line(
            "search-indexing",
            now,
            ("openai", Decimal::from(FACTOR)),
            &[alt("mistral/mistral-embed", "14.93", true)],
        );
        assert!(l.plan.is_none() && l.candidates.is_empty());
        assert_eq!(
            l.stay.as_deref(),
            Some(
                "the cheapest alternative, mistral/mistral-embed, costs $14.93 a month, more than staying"
            )
        );
    }

    #[test]
    fn only_a_proven_move_is_the_plan_and_cheaper_unproven_ones_are_candidates_with_the_eval_command()
     {
        let now = (
            Money::from_str("100").unwrap(),
            Money::from_str("200").unwrap(),
        );
        let alts = [
            alt("g/cheap", "20", false),
            alt("m/proven", "60", true),
            alt("m/dearer-unproven", "80", false),
            // The vendor's own model doubles too: 2 × 90 = 180 < 200, but unproven.
            alt("openai/own", "90", false),
            alt("x/too-dear", "250", false),
        ];
        let l = line("support", now, ("openai", Decimal::from(FACTOR)), &alts);
        let plan = l.plan.as_ref().unwrap();
        assert_eq!(
            (plan.to.as_str(), plan.monthly_cost.to_string()),
            ("m/proven", "60".into())
        );
        // Only candidates cheaper than the plan are worth evaluating.
        let c: Vec<&str> = l.candidates.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(c, ["g/cheap"]);
        assert_eq!(
            l.candidates[0].prove_with.as_deref(),
            Some("switchyard eval run --dataset support --candidate g/cheap")
        );
        // Without the proven one: it stays, and the two cheapest unproven are candidates.
        let l = line(
            "support",
            now,
            ("openai", Decimal::from(FACTOR)),
            &[alts[0].clone(), alts[2].clone(), alts[3].clone()],
        );
        assert!(l.plan.is_none());
        let c: Vec<(&str, String)> = l
            .candidates
            .iter()
            .map(|m| (m.to.as_str(), m.monthly_cost.to_string()))
            .collect();
        assert_eq!(
            c,
            [("g/cheap", "20".into()), ("m/dearer-unproven", "80".into())]
        );
        assert!(l.stay.unwrap().contains("nothing cheaper is proven"));
    }

    #[test]
    fn the_shock_factor_prices_the_vendors_own_alternatives_and_no_other() {
        let now = (
            Money::from_str("100").unwrap(),
            Money::from_str("300").unwrap(),
        );
        let alts = [alt("openai/own", "90", false), alt("g/other", "95", false)];
        let l = line("support", now, ("openai", Decimal::from(3)), &alts);
        let c: Vec<(&str, String)> = l
            .candidates
            .iter()
            .map(|m| (m.to.as_str(), m.monthly_cost.to_string()))
            .collect();
        // 3 × 90 = 270 (still under 300), the other vendor's 95 unchanged.
        assert_eq!(c, [("g/other", "95".into()), ("openai/own", "270".into())]);
    }
}
