//! Rounding money for people and for machine-readable output, one policy for every command
//! and endpoint (`--json` of the CLI, `/v1/strategy/*`):
//!
//! - totals (a cost, a spend, savings, a commitment, a bill) to the **cent**, written with two
//!   decimals (`"1015.78"`);
//! - per-unit figures (per request, per 1k requests, per token, per million tokens) to **6
//!   decimals** (`"0.015330"`);
//! - other decimals (shares, rates, deltas as fractions, HHI) to at most 6 decimals.
//!
//! Always half away from zero (never truncated, never banker's). Computation stays exact: only
//! what is written out is rounded. Strings stay strings and numbers stay numbers, so a field
//! keeps one JSON type. Fields are recognised by name (the engine's structs use a small,
//! stable vocabulary); maps keyed by a provider or workload take their parent's name.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use std::str::FromStr;
use switchyard_primitives::Money;

/// To the cent, half away from zero, with two decimals.
pub fn cents(m: Money) -> Decimal {
    let mut d = m
        .decimal()
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(2);
    d
}

/// To 6 decimals, half away from zero, with six decimals: per-request and per-token figures.
pub fn unit(m: Money) -> Decimal {
    let mut d = m
        .decimal()
        .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(6);
    d
}

/// A fraction or index to at most 6 decimals, trailing zeros dropped.
pub fn ratio(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// Rounds `parts` to `dp` decimals so that they add up to their exact sum rounded the same
/// way, for a table whose column and total must agree (a reader adds the rows up). Largest
/// remainder: every part is first rounded down, then the units still missing from the rounded
/// total go to the parts that lost the most (ties to the earlier part). Each part stays within
/// one unit of its exact value.
pub fn apportion(parts: &[Decimal], dp: u32) -> Vec<Decimal> {
    let unit = Decimal::new(1, dp);
    let total: Decimal = parts.iter().sum();
    let target = total.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let mut out: Vec<Decimal> = parts
        .iter()
        .map(|p| p.round_dp_with_strategy(dp, RoundingStrategy::ToNegativeInfinity))
        .collect();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        (parts[b] - out[b])
            .cmp(&(parts[a] - out[a]))
            .then(a.cmp(&b))
    });
    let missing = ((target - out.iter().sum::<Decimal>()) / unit).round();
    let missing = usize::try_from(missing.mantissa()).unwrap_or(0);
    for &i in order.iter().take(missing) {
        out[i] += unit;
    }
    for d in &mut out {
        d.rescale(dp);
    }
    out
}

/// [`apportion`] for money: cents that add up to the rounded total.
pub fn apportion_cents(parts: &[Money]) -> Vec<Money> {
    let exact: Vec<Decimal> = parts.iter().map(|m| m.decimal()).collect();
    apportion(&exact, 2).into_iter().map(Money::new).collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Total,
    Unit,
    /// Told to be a fraction or index: 6 decimals, numbers included.
    Ratio,
    /// Guessed not to be money: decimal strings to 6 decimals, numbers left alone (scores,
    /// latencies and counts need no rounding policy).
    Other,
}

/// What a field holds, for a caller that knows better than a guess from its name: a field
/// called `cost_usd` is a total in one report and a per-request figure in another, and a
/// `cost_delta` is a fraction, not dollars.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Figure {
    /// A total: to the cent.
    Total,
    /// A per-request, per-item or per-token figure: 6 decimals.
    Unit,
    /// A fraction, rate or index: at most 6 decimals.
    Ratio,
}

impl From<Figure> for Kind {
    fn from(f: Figure) -> Self {
        match f {
            Figure::Total => Kind::Total,
            Figure::Unit => Kind::Unit,
            Figure::Ratio => Kind::Ratio,
        }
    }
}

/// A field's path and what it holds. The path names object keys joined by `/` (arrays are
/// transparent: `results/candidate/cost_usd` is every result's), `*` matches any key. The
/// figure applies to the field and everything inside it (a distribution's `mean`, `p50`, …),
/// whatever their names.
pub type Hint<'a> = (&'a str, Figure);

/// Maps whose keys are names (providers, workloads) and whose values take the map's kind.
const NAMED_MAPS: [&str; 2] = ["weekly_by_provider", "workload_vendor_hhi"];

/// Per-unit figures: 6 decimals.
const UNIT: [&str; 4] = ["per_request", "per_1k", "per_million", "per_token"];
/// Fractions and rates, even where the name also says "cost" (`cost_delta_pct`).
const NOT_MONEY: [&str; 6] = [
    "pct",
    "rate",
    "utilisation",
    "share",
    "measured",
    "discount",
];
/// Totals: to the cent.
const MONEY: [&str; 23] = [
    "cost",
    "spend",
    "usd",
    "savings",
    "commitment",
    "on_demand",
    "fee",
    "waste",
    "overage",
    "drawn",
    "prepaid",
    "rolled_over",
    "expired",
    "true_up",
    "spent",
    "annualized",
    "baseline",
    "scenario",
    "delta",
    "increase",
    "stays",
    "committed",
    "pay_as_you_go",
];
/// Totals whose names say nothing of money.
const MONEY_EXACT: [&str; 6] = [
    "now",
    "reserved_unused",
    "total_if_exit",
    "last_30d",
    "previous_30d",
    "weekly_by_provider",
];

fn kind(key: &str) -> Kind {
    let k = key.to_ascii_lowercase();
    if UNIT.iter().any(|u| k.contains(u)) {
        Kind::Unit
    } else if NOT_MONEY.iter().any(|n| k.contains(n)) {
        Kind::Other
    } else if MONEY.iter().any(|m| k.contains(m)) || MONEY_EXACT.contains(&k.as_str()) {
        Kind::Total
    } else {
        Kind::Other
    }
}

/// Rounds every decimal in `v` by the policy above, guessing each field's kind from its name.
pub fn round_json(v: &mut Value) {
    round_json_with(v, &[]);
}

/// Rounds every decimal in `v`, told what the fields at `hints` hold; the rest by name.
pub fn round_json_with(v: &mut Value, hints: &[Hint<'_>]) {
    let mut walker = Walker {
        hints,
        path: Vec::new(),
    };
    walker.walk(v, Kind::Other, false);
}

struct Walker<'h> {
    hints: &'h [Hint<'h>],
    path: Vec<String>,
}

impl Walker<'_> {
    fn hinted(&self) -> Option<Kind> {
        self.hints
            .iter()
            .find(|(p, _)| {
                let segs: Vec<&str> = p.split('/').collect();
                segs.len() == self.path.len()
                    && segs
                        .iter()
                        .zip(&self.path)
                        .all(|(s, k)| *s == "*" || s == k)
            })
            .map(|(_, f)| Kind::from(*f))
    }

    /// `fixed`: `k` was told (a hint) or inherited from a named map, so names inside the
    /// value do not change it.
    fn walk(&mut self, v: &mut Value, k: Kind, fixed: bool) {
        match v {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    self.path.push(key.clone());
                    let (ck, cf) = match self.hinted() {
                        Some(h) => (h, true),
                        None if fixed => (k, true),
                        None => (kind(key), NAMED_MAPS.contains(&key.as_str())),
                    };
                    self.walk(child, ck, cf);
                    self.path.pop();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.walk(i, k, fixed)),
            Value::String(s) => {
                if let Some(r) = round_text(s, k) {
                    *s = r;
                }
            }
            Value::Number(n) if k != Kind::Other && n.is_f64() => round_number(n, k),
            _ => {}
        }
    }
}

fn round_number(n: &mut serde_json::Number, k: Kind) {
    if let Some(f) = n.as_f64() {
        let dp = if k == Kind::Total { 2 } else { 6 };
        let scale = 10f64.powi(dp);
        let r = (f * scale).round() / scale;
        if let Some(num) = serde_json::Number::from_f64(r) {
            *n = num;
        }
    }
}

/// The rounded text of a decimal string; `None` when `s` is not a plain decimal.
fn round_text(s: &str, k: Kind) -> Option<String> {
    let looks_decimal = !s.is_empty()
        && s.trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
    if !looks_decimal {
        return None;
    }
    let d = Decimal::from_str(s).ok()?;
    Some(match k {
        Kind::Total => cents(Money(d)).to_string(),
        Kind::Unit => unit(Money(d)).to_string(),
        Kind::Ratio | Kind::Other => ratio(d).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_money_is_rounded_to_the_cent_and_unit_figures_to_six_decimals() {
        let mut v = serde_json::json!({
            "total_cost": "2907.60493336",
            "rows": [{
                "cost": "1727.249816",
                "cost_per_request": "0.0153297579366840325543830376",
                "cost_per_1k_requests": "15.329757936684032554383037600",
                "share": "0.594045565194445760190213409",
                "key": "code-review",
                "period": "2026-11",
            }],
            "weekly_by_provider": {"2026-W40": {"openai": "273.2149420", "together": "0.00003204"}},
            "workload_vendor_hhi": {"support": "9969.31"},
            "delta_pct": "-0.40123456789",
            "monthly_commitment": "2000",
            "half": "0.125",
            "cost_usd_float": 0.12345,
        });
        round_json(&mut v);
        assert_eq!(v["total_cost"], "2907.60");
        let r = &v["rows"][0];
        assert_eq!(r["cost"], "1727.25");
        assert_eq!(r["cost_per_request"], "0.015330");
        assert_eq!(r["cost_per_1k_requests"], "15.329758");
        assert_eq!(r["share"], "0.594046");
        assert_eq!(
            (r["key"].as_str(), r["period"].as_str()),
            (Some("code-review"), Some("2026-11"))
        );
        assert_eq!(v["weekly_by_provider"]["2026-W40"]["openai"], "273.21");
        assert_eq!(v["weekly_by_provider"]["2026-W40"]["together"], "0.00");
        assert_eq!(v["workload_vendor_hhi"]["support"], "9969.31");
        assert_eq!(v["delta_pct"], "-0.401235");
        assert_eq!(v["monthly_commitment"], "2000.00");
        assert_eq!(v["half"], "0.125");
        assert_eq!(v["cost_usd_float"], 0.12);
        // Half away from zero, never truncated.
        assert_eq!(
            unit(Money::from_str("0.0000125").unwrap()).to_string(),
            "0.000013"
        );
        assert_eq!(
            cents(Money::from_str("-0.125").unwrap()).to_string(),
            "-0.13"
        );
    }

    #[test]
    fn a_field_told_what_it_holds_is_rounded_as_that_not_as_its_name_suggests() {
        let mut v = serde_json::json!({
            "results": [{"candidate": {"cost_usd": 0.000123456, "latency_ms": 12.3456789}}],
            "deltas": {
                "candidate_cost_usd": 1.23456,
                "cost_delta": -0.384615384,
                "cost_per_item": {"n": 3, "mean": 0.0004115, "p50": 0.00041149},
            },
            "spent_usd": 2.345,
        });
        let hints = [
            ("results/*/cost_usd", Figure::Unit),
            ("deltas/cost_delta", Figure::Ratio),
            ("deltas/cost_per_item", Figure::Unit),
        ];
        round_json_with(&mut v, &hints);
        // By name alone `cost_usd` would be cents (0.00) and `cost_delta` dollars (-0.38).
        assert_eq!(v["results"][0]["candidate"]["cost_usd"], 0.000123);
        assert_eq!(v["results"][0]["candidate"]["latency_ms"], 12.3456789);
        assert_eq!(v["deltas"]["cost_delta"], -0.384615);
        assert_eq!(v["deltas"]["cost_per_item"]["mean"], 0.000412);
        assert_eq!(v["deltas"]["cost_per_item"]["p50"], 0.000411);
        assert_eq!(v["deltas"]["cost_per_item"]["n"], 3);
        // Unhinted fields still go by name: totals to the cent.
        assert_eq!(v["deltas"]["candidate_cost_usd"], 1.23);
        assert_eq!(v["spent_usd"], 2.35);
    }

    #[test]
    fn apportioned_parts_add_up_to_the_rounded_total_each_within_a_cent() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        // Rounded alone: 1727.25 + 1015.78 + 128.05 + 18.17 + 10.17 + 8.19 = 2907.61, but the
        // total is 2907.60.
        let parts = [
            d("1727.2498"),
            d("1015.7791"),
            d("128.0462"),
            d("18.1712"),
            d("10.1657"),
            d("8.1901"),
        ];
        let total: Decimal = parts.iter().sum();
        assert_eq!(cents(Money(total)).to_string(), "2907.60");
        let naive: Decimal = parts.iter().map(|p| cents(Money(*p))).sum();
        assert_eq!(naive.to_string(), "2907.61");
        let a = apportion(&parts, 2);
        assert_eq!(a.iter().sum::<Decimal>().to_string(), "2907.60");
        for (x, p) in a.iter().zip(&parts) {
            assert!((*x - *p).abs() < d("0.01"), "{x} from {p}");
        }
        // Shares of 100 %: 59.4 + 34.9 + 4.4 + 0.6 + 0.3 + 0.3 = 99.9 rounded alone.
        let shares: Vec<Decimal> = parts.iter().map(|p| *p / total).collect();
        let s = apportion(&shares, 3);
        assert_eq!(s.iter().sum::<Decimal>().to_string(), "1.000");
        assert!(apportion(&[], 2).is_empty());
    }
}
