//! Deprecation exposure: workloads running on models whose retirement is announced.
//!
//! For each (workload, model) with traffic in the last 30 days of history: days left until
//! retirement, traffic and spend at risk, and the successor's cost delta computed from the
//! workload's real token mix — both sides priced at today's catalog prices, with the
//! long-context tier chosen by the average prompt. Where evaluation measured the successor on
//! the workload's real traffic (replay or shadow), that measured delta is the figure instead,
//! priced on the recorded spend, with the catalog estimate kept beside it.

use crate::lockin::Evidence;
use crate::source::History;
use crate::spend::add_usage;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use switchyard_catalog::Catalog;
use switchyard_primitives::{Money, TokenUsage};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exposure {
    pub workload: String,
    pub provider: String,
    pub model: String,
    pub deprecation_announced: Option<NaiveDate>,
    pub retirement: Option<NaiveDate>,
    /// Negative once retired.
    pub days_left: Option<i64>,
    pub requests_30d: u64,
    pub spend_30d: Money,
    /// spend_30d (to the cent) × 365 / 30.
    pub annualized_spend: Money,
    pub successor: Option<String>,
    /// The same 30 days at the successor: measured where evaluation measured it (the recorded
    /// spend × (1 + the measured delta)), else its tokens at the successor's current prices.
    pub successor_cost_30d: Option<Money>,
    /// successor − current, on the same basis.
    pub cost_delta_30d: Option<Money>,
    pub cost_delta_pct: Option<Decimal>,
    /// Where the successor's figures come from: "measured on …" or "catalog estimate".
    pub cost_basis: String,
    /// The catalog estimate of the delta, kept beside a measured one.
    pub catalog_cost_delta_pct: Option<Decimal>,
}

/// Where evaluation measured the successor's cost on the workload's traffic, replaces the
/// catalog estimate with it (the same rule as a lock-in alternative's cost).
fn apply_measured(e: &mut Exposure, evidence: &[Evidence]) {
    let Some(successor) = e.successor.as_deref() else {
        return;
    };
    let key = format!("{}/{successor}", e.provider);
    let measured = evidence
        .iter()
        .filter(|ev| ev.workload == e.workload && ev.covers(&key))
        .find_map(|ev| Some((ev.cost_delta.and_then(Decimal::from_f64_retain)?, ev)));
    if let Some((d, ev)) = measured {
        let d = crate::rounding::ratio(d);
        let cost = Money::new(e.spend_30d.decimal() * (Decimal::ONE + d));
        e.successor_cost_30d = Some(cost);
        e.cost_delta_30d = Some(cost - e.spend_30d);
        e.cost_delta_pct = Some(d);
        e.cost_basis = format!("measured on {}", ev.source);
    }
}

/// Every exposure, most urgent first, the successor priced by `evidence` where it measured it.
pub fn exposures_with(
    h: &History,
    catalog: &Catalog,
    today: NaiveDate,
    evidence: &[Evidence],
) -> Vec<Exposure> {
    let mut out = exposures(h, catalog, today);
    for e in &mut out {
        apply_measured(e, evidence);
    }
    out
}

/// A 30-day spend a year: the spend *as printed* (to the cent) × 365 / 30, so a reader who
/// checks the row gets the same figure.
pub fn annualize(spend_30d: Money) -> Money {
    let year = crate::rounding::cents(spend_30d) * Decimal::from(365) / Decimal::from(30);
    Money::new(crate::rounding::cents(Money::new(year)))
}

/// Every exposure, most urgent first, the successor priced from the catalog.
pub fn exposures(h: &History, catalog: &Catalog, today: NaiveDate) -> Vec<Exposure> {
    let mut mix: BTreeMap<(String, String, String), (u64, TokenUsage, Money)> = BTreeMap::new();
    for r in h.recent(30) {
        let e = mix
            .entry((r.workload.clone(), r.provider.clone(), r.model.clone()))
            .or_default();
        e.0 += r.requests;
        add_usage(&mut e.1, &r.usage);
        e.2 += r.cost;
    }
    let mut out = Vec::new();
    for ((workload, provider, model), (requests, usage, spend)) in mix {
        let Some(entry) = catalog.get(&provider, &model) else {
            continue;
        };
        if entry.retirement.is_none() && entry.deprecation_announced.is_none() {
            continue;
        }
        let current = entry.price_at(today).cost_for_requests(&usage, requests);
        let successor = entry.successor.as_ref().and_then(|s| {
            catalog
                .get(&provider, s)
                .or_else(|| catalog.find(s).into_iter().next())
        });
        let successor_cost =
            successor.map(|s| s.price_at(today).cost_for_requests(&usage, requests));
        let delta = successor_cost.map(|c| c - current);
        out.push(Exposure {
            days_left: entry.retirement.map(|r| (r - today).num_days()),
            deprecation_announced: entry.deprecation_announced,
            retirement: entry.retirement,
            requests_30d: requests,
            annualized_spend: annualize(spend),
            spend_30d: spend,
            successor: entry.successor.clone(),
            successor_cost_30d: successor_cost,
            cost_delta_pct: delta
                .filter(|_| !current.is_zero())
                .map(|d| (d.decimal() / current.decimal()).round_dp(4).normalize()),
            catalog_cost_delta_pct: delta
                .filter(|_| !current.is_zero())
                .map(|d| (d.decimal() / current.decimal()).round_dp(4).normalize()),
            cost_basis: crate::lockin::CATALOG_ESTIMATE.into(),
            cost_delta_30d: delta,
            workload,
            provider,
            model,
        });
    }
    out.sort_by_key(|e| {
        (
            e.days_left.unwrap_or(i64::MAX),
            std::cmp::Reverse(e.spend_30d),
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spend::tests::row;
    use std::str::FromStr;

    const CATALOG: &str = r#"
[[model]]
id = "old"
provider = "p"
context_window = 1000
deprecation_announced = "2026-10-01"
retirement = "2026-12-31"
successor = "new"
[[model.prices]]
effective_from = "2025-01-01"
input = "2"
output = "8"
[[model]]
id = "new"
provider = "p"
context_window = 1000
[[model.prices]]
effective_from = "2025-01-01"
input = "1"
output = "4"
[[model]]
id = "steady"
provider = "p"
context_window = 1000
[[model.prices]]
effective_from = "2025-01-01"
input = "1"
output = "1"
"#;

    #[test]
    fn exposure_prices_the_successor_on_the_real_token_mix() {
        let mut c = Catalog::default();
        c.merge_toml(CATALOG, "t").unwrap();
        let h = History {
            rows: vec![
                row("2026-11-20", "w", ("p", "old"), 1000, "0.30"),
                row("2026-11-20", "w", ("p", "steady"), 5, "0.01"),
            ],
            ..Default::default()
        };
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let e = exposures(&h, &c, today);
        assert_eq!(e.len(), 1, "only the deprecated model is exposed");
        let e = &e[0];
        // 1000 requests × (100 in, 10 out) = 100,000 in + 10,000 out.
        // old: 0.1 × 2 + 0.01 × 8 = 0.28; new: 0.1 × 1 + 0.01 × 4 = 0.14; delta −0.14 = −50 %.
        assert_eq!(e.days_left, Some(34));
        assert_eq!(e.successor_cost_30d.unwrap().to_string(), "0.14");
        assert_eq!(e.cost_delta_30d.unwrap().to_string(), "-0.14");
        assert_eq!(e.cost_delta_pct.unwrap().to_string(), "-0.5");
        // 0.30 × 365 / 30 = 3.65
        assert_eq!(e.annualized_spend.to_string(), "3.65");
    }

    #[test]
    fn a_successor_measured_on_the_workloads_traffic_is_priced_by_the_measurement_not_the_catalog()
    {
        let mut c = Catalog::default();
        c.merge_toml(CATALOG, "t").unwrap();
        let h = History {
            rows: vec![row("2026-11-20", "w", ("p", "old"), 1000, "0.30")],
            ..Default::default()
        };
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        // The catalog says −50 %; shadow traffic measured +177 %.
        let ev = Evidence {
            workload: "w".into(),
            candidate: "p/new".into(),
            passed: true,
            samples: 60,
            mean_diff: 0.0,
            ci_low: 0.0,
            ci_high: 0.0,
            cost_delta: Some(1.77),
            source: "shadow traffic".into(),
            baseline: None,
        };
        let e = &exposures_with(&h, &c, today, &[ev])[0];
        assert_eq!(e.cost_delta_pct.unwrap().to_string(), "1.77");
        // 0.30 recorded × 2.77 = 0.831.
        assert_eq!(e.successor_cost_30d.unwrap().to_string(), "0.831");
        assert_eq!(e.cost_delta_30d.unwrap().to_string(), "0.531");
        assert_eq!(e.cost_basis, "measured on shadow traffic");
        assert_eq!(e.catalog_cost_delta_pct.unwrap().to_string(), "-0.5");
    }

    #[test]
    fn the_annualized_spend_is_the_printed_30_day_spend_times_365_over_30() {
        // 5.9055 prints as $5.91; 5.91 × 365 / 30 = 71.905 → $71.91 (the exact 5.9055 would
        // give $71.85, which no reader can get from the row).
        assert_eq!(
            annualize(Money::from_str("5.9055").unwrap()).to_string(),
            "71.91"
        );
    }
}
