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

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Total,
    Unit,
    Other,
}

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

/// Rounds every decimal in `v` by the policy above.
pub fn round_json(v: &mut Value) {
    walk(v, Kind::Other);
}

fn walk(v: &mut Value, k: Kind) {
    match v {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let ck = if NAMED_MAPS.contains(&key.as_str()) && child.is_object() {
                    // The values of a named map take the map's kind, whatever their keys.
                    walk_named(child, kind(key));
                    continue;
                } else {
                    kind(key)
                };
                walk(child, ck);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, k)),
        Value::String(s) => {
            if let Some(r) = round_text(s, k) {
                *s = r;
            }
        }
        Value::Number(n) if k != Kind::Other && n.is_f64() => {
            if let Some(f) = n.as_f64() {
                let dp = if k == Kind::Total { 2 } else { 6 };
                let scale = 10f64.powi(dp);
                let r = (f * scale).round() / scale;
                if let Some(num) = serde_json::Number::from_f64(r) {
                    *n = num;
                }
            }
        }
        _ => {}
    }
}

fn walk_named(v: &mut Value, k: Kind) {
    match v {
        Value::Object(map) => map.values_mut().for_each(|c| walk_named(c, k)),
        other => walk(other, k),
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
        Kind::Other => ratio(d).to_string(),
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
}
