//! Money in `eval run --format json` and `eval readiness --json`, rounded by the one policy
//! ([`switchyard_strategy::rounding`]), told what each field holds: a result's `cost_usd` is
//! one request's cost (6 decimals), the run's totals are cents, and `cost_delta` is a
//! fraction. Field names alone would guess the first and the last wrong. The eval store keeps
//! the exact figures; only what is printed is rounded.

use serde::Serialize;
use switchyard_strategy::rounding::{Figure, Hint, round_json_with};

/// What the figures of a replay report (`switchyard_gateway::replay::RunReport`) are.
pub const RUN_FIGURES: [Hint<'static>; 9] = [
    ("results/candidate/cost_usd", Figure::Unit),
    ("results/baseline/cost_usd", Figure::Unit),
    ("deltas/candidate_cost_usd", Figure::Total),
    ("deltas/baseline_cost_usd", Figure::Total),
    ("deltas/cost_delta", Figure::Ratio),
    ("deltas/cost_per_item", Figure::Unit),
    ("spent_usd", Figure::Total),
    // Latencies, not money (a name with "delta" would read as dollars): to the microsecond.
    ("deltas/latency_delta_ms", Figure::Ratio),
    ("margin", Figure::Ratio),
];

/// What the figures of the readiness evidence (`switchyard_strategy::lockin::Evidence`) are.
pub const READINESS_FIGURES: [Hint<'static>; 1] = [("cost_delta", Figure::Ratio)];

/// `value` as pretty JSON with its money rounded as `hints` say.
pub fn rounded<T: Serialize>(value: &T, hints: &[Hint<'_>]) -> serde_json::Result<String> {
    let mut v = serde_json::to_value(value)?;
    round_json_with(&mut v, hints);
    serde_json::to_string_pretty(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn eval_run_json_prints_per_request_costs_to_six_decimals_totals_to_cents_and_the_delta_as_a_fraction()
     {
        let report = json!({
            "results": [{
                "candidate": {"cost_usd": 0.000_123_456_7, "latency_ms": 81.25},
                "baseline": {"cost_usd": 0.000_318_449_9},
            }],
            "deltas": {
                "candidate_cost_usd": 0.012_345_67,
                "baseline_cost_usd": 0.031_844_99,
                "cost_delta": -0.612_345_678_9,
                "cost_per_item": {"n": 100, "mean": -0.000_194_993_2},
                "latency_delta_ms": {"mean": 12.345_678_9},
            },
            "spent_usd": 0.044_190_66,
        });
        let v: serde_json::Value =
            serde_json::from_str(&rounded(&report, &RUN_FIGURES).unwrap()).unwrap();
        assert_eq!(v["results"][0]["candidate"]["cost_usd"], 0.000123);
        assert_eq!(v["results"][0]["baseline"]["cost_usd"], 0.000318);
        assert_eq!(v["results"][0]["candidate"]["latency_ms"], 81.25);
        assert_eq!(v["deltas"]["candidate_cost_usd"], 0.01);
        assert_eq!(v["deltas"]["baseline_cost_usd"], 0.03);
        assert_eq!(v["deltas"]["cost_delta"], -0.612346);
        assert_eq!(v["deltas"]["cost_per_item"]["mean"], -0.000195);
        assert_eq!(v["deltas"]["cost_per_item"]["n"], 100);
        assert_eq!(v["deltas"]["latency_delta_ms"]["mean"], 12.345679);
        assert_eq!(v["spent_usd"], 0.04);
    }

    #[test]
    fn eval_readiness_json_keeps_the_cost_delta_a_fraction_not_cents() {
        let ev = json!([{"candidate": "openai/gpt-6-luna", "cost_delta": 1.767_185_821_697_100_1,
                         "mean_diff": 0.0, "samples": 60}]);
        let v: serde_json::Value =
            serde_json::from_str(&rounded(&ev, &READINESS_FIGURES).unwrap()).unwrap();
        assert_eq!(v[0]["cost_delta"], 1.767186);
        assert_eq!(v[0]["samples"], 60);
    }
}
