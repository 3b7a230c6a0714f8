//! Replay runs (the newest per workload and candidate) and shadow results (grouped for
//! readiness).

use crate::backend::Backend;
use crate::captures::at;
use chrono::{DateTime, Utc};
use serde_json::json;
use switchyard_evalstore::{RunRecord, ShadowResult};

pub fn run(id: &str, created: DateTime<Utc>, workload: Option<&str>, candidate: &str) -> RunRecord {
    RunRecord {
        id: id.into(),
        created,
        dataset_id: "support@v1".into(),
        workload: workload.map(str::to_string),
        candidate: candidate.into(),
        baseline: "openai/gpt-4o".into(),
        verdict: "PASS".into(),
        report: json!({"summary": {"n": 40, "mean_diff": 0.01, "ci_low": -0.01}, "id": id}),
    }
}

pub fn shadow(
    ts: DateTime<Utc>,
    workload: Option<&str>,
    candidate: &str,
    score: f64,
) -> ShadowResult {
    ShadowResult {
        ts,
        workload: workload.map(str::to_string),
        route: "chat".into(),
        primary_model: "gpt-4o".into(),
        candidate: candidate.into(),
        primary_score: 1.0,
        candidate_score: score,
        primary_cost_usd: Some(0.002),
        candidate_cost_usd: None,
        primary_latency_ms: 100.0,
        candidate_latency_ms: 80.5,
        detail: "exact".into(),
    }
}

fn the_newest_run_of_each_workload_and_candidate_is_read(b: &mut Backend) {
    let s = &b.store;
    s.save_run(&run("r1", at(1, 0), Some("support"), "groq/llama"))
        .unwrap();
    s.save_run(&run("r2", at(2, 0), Some("support"), "groq/llama"))
        .unwrap();
    s.save_run(&run("r3", at(1, 0), None, "groq/llama"))
        .unwrap();
    s.save_run(&run("r4", at(3, 0), None, "groq/llama"))
        .unwrap();
    s.save_run(&run("r5", at(1, 0), Some("billing"), "anthropic/haiku"))
        .unwrap();
    assert!(
        s.save_run(&run("r5", at(4, 0), None, "x")).is_err(),
        "run ids are unique"
    );
    let latest = b.reopen().latest_runs().unwrap();
    let got: Vec<&str> = latest.iter().map(|r| r.id.as_str()).collect();
    // No workload sorts first, as on either backend.
    assert_eq!(got, ["r4", "r5", "r2"]);
    assert_eq!(
        latest[2],
        run("r2", at(2, 0), Some("support"), "groq/llama")
    );
}

fn shadow_results_are_grouped_per_workload_and_candidate_since_a_time(b: &mut Backend) {
    let s = &b.store;
    s.insert_shadow(&shadow(at(1, 0), Some("support"), "groq/llama", 0.5))
        .unwrap();
    s.insert_shadow(&shadow(at(3, 0), Some("support"), "groq/llama", 0.75))
        .unwrap();
    s.insert_shadow(&shadow(at(2, 0), Some("support"), "groq/llama", 1.0))
        .unwrap();
    s.insert_shadow(&shadow(at(2, 0), None, "groq/llama", 0.25))
        .unwrap();
    s.insert_shadow(&shadow(at(2, 0), Some("support"), "anthropic/haiku", 0.0))
        .unwrap();
    let stats = b.reopen().shadow_stats(at(2, 0)).unwrap();
    let keys: Vec<(Option<&str>, &str)> = stats
        .iter()
        .map(|s| (s.workload.as_deref(), s.candidate.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            (None, "groq/llama"),
            (Some("support"), "anthropic/haiku"),
            (Some("support"), "groq/llama")
        ]
    );
    let g = &stats[2];
    assert_eq!(
        g.candidate_scores,
        [1.0, 0.75],
        "in time order, since the cut"
    );
    assert_eq!(g.primary_scores, [1.0, 1.0]);
    assert!((g.primary_cost_usd - 0.004).abs() < 1e-12);
    assert_eq!(g.candidate_cost_usd, 0.0);
    assert_eq!(g.candidate_latency_ms, [80.5, 80.5]);
    assert_eq!(g.last, Some(at(3, 0)));
}

crate::conformance!(
    the_newest_run_of_each_workload_and_candidate_is_read,
    shadow_results_are_grouped_per_workload_and_candidate_since_a_time,
);
