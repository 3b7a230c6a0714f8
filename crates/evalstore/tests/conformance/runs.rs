//! Replay runs (the newest per workload and candidate) and shadow results (grouped for
//! readiness).

use crate::backend::Backend;
use crate::captures::{at, capture};
use chrono::{DateTime, Utc};
use serde_json::json;
use switchyard_evalstore::copy::{Row, Table};
use switchyard_evalstore::{CaptureQuery, Entry, RunRecord, ShadowResult};

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
        request_id: None,
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

/// What the capture writer's spool relies on: a batch appended again (a replay after a crash
/// between the commit and the spool's truncation) writes nothing twice, captures by id and
/// shadow results by request id; shadow results without one are never merged.
fn an_appended_batch_sent_again_writes_nothing_twice(b: &mut Backend) {
    let keyed = |id: &str, score: f64| ShadowResult {
        request_id: Some(id.into()),
        ..shadow(at(2, 0), Some("support"), "groq/llama", score)
    };
    let batch = vec![
        Entry::Capture(capture("c1", at(2, 1), Some("support"))),
        Entry::Shadow(keyed("req_s1", 0.5)),
        Entry::Capture(capture("c2", at(2, 2), Some("support"))),
        Entry::Shadow(keyed("req_s2", 1.0)),
        Entry::Shadow(shadow(at(2, 3), Some("support"), "groq/llama", 0.25)),
    ];
    assert_eq!(b.store.append(&batch).unwrap(), 5);
    let mut again = batch[..4].to_vec();
    again.push(Entry::Capture(capture("c3", at(2, 4), None)));
    assert_eq!(b.store.append(&again).unwrap(), 1, "only c3 is new");
    let s = b.reopen();
    assert_eq!(s.capture_count().unwrap(), 3);
    assert_eq!(s.count(Table::ShadowResults).unwrap(), 3);
    let stats = s.shadow_stats(at(1, 0)).unwrap();
    assert_eq!(stats[0].candidate_scores, [0.5, 1.0, 0.25]);
    assert_eq!(
        s.captures(&CaptureQuery::default()).unwrap()[2],
        capture("c1", at(2, 1), Some("support"))
    );
    // The request id reads back (a copy carries it on).
    let page = s.page(Table::ShadowResults, None, 10).unwrap();
    let ids: Vec<Option<String>> = page
        .iter()
        .map(|r| match r {
            Row::Shadow { result, .. } => result.request_id.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [Some("req_s1".into()), Some("req_s2".into()), None]);
    assert!(
        b.raw("INSERT INTO shadow_results (ts_ms, route, primary_model, candidate, primary_score, candidate_score, primary_latency_ms, candidate_latency_ms, detail, request_id) VALUES (0, 'r', 'm', 'c', 1, 1, 1, 1, '', 'req_s1')")
            .is_err(),
        "the database itself refuses a second result under one request id"
    );
}

crate::conformance!(
    the_newest_run_of_each_workload_and_candidate_is_read,
    shadow_results_are_grouped_per_workload_and_candidate_since_a_time,
    an_appended_batch_sent_again_writes_nothing_twice,
);
