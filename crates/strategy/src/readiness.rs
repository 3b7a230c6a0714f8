//! Migration readiness: what evaluation has proven, per (workload, candidate), from the eval
//! store — the newest replay run's verdict, and shadow traffic scored against production over
//! a window — as [`Evidence`] for lock-in scoring and the report.

use crate::lockin::Evidence;
use chrono::{DateTime, Utc};
use std::path::Path;
use switchyard_eval::{StatsOptions, paired, verdict};
use switchyard_evalstore::{Store, StoreError};

/// Shadow results older than this do not count.
pub const SHADOW_WINDOW_DAYS: i64 = 30;

/// Every (workload, candidate) with evidence: the newest replay run, and the shadow results
/// since `since` judged with `margin`.
pub fn readiness(
    store: &dyn Store,
    since: DateTime<Utc>,
    margin: f64,
) -> Result<Vec<Evidence>, StoreError> {
    let mut out = Vec::new();
    for run in store.latest_runs()? {
        let r = &run.report;
        let f = |p: &str| {
            r.pointer(p)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0)
        };
        out.push(Evidence {
            workload: run.workload.clone().unwrap_or_default(),
            candidate: run.candidate.clone(),
            passed: run.verdict == "PASS",
            samples: f("/summary/n") as usize,
            mean_diff: f("/summary/mean_diff"),
            ci_low: f("/summary/ci_low"),
            ci_high: f("/summary/ci_high"),
            cost_delta: r
                .pointer("/deltas/cost_delta")
                .and_then(serde_json::Value::as_f64),
            source: format!("replay of {} vs {}", run.dataset_id, run.baseline),
            baseline: Some(run.baseline.clone()),
        });
    }
    for s in store.shadow_stats(since)? {
        let Ok(summary) = paired(
            &s.candidate_scores,
            &s.primary_scores,
            StatsOptions::default(),
        ) else {
            continue;
        };
        let v = verdict(&summary, margin);
        out.push(Evidence {
            workload: s.workload.clone().unwrap_or_default(),
            candidate: s.candidate.clone(),
            passed: v.passed(),
            samples: summary.n,
            mean_diff: summary.mean_diff,
            ci_low: summary.ci_low,
            ci_high: summary.ci_high,
            cost_delta: (s.primary_cost_usd > 0.0)
                .then(|| s.candidate_cost_usd / s.primary_cost_usd - 1.0),
            source: "shadow traffic".into(),
            baseline: None,
        });
    }
    Ok(out)
}

/// The evidence in the eval store at `path` (a file or a `postgres://` URL); none when there
/// is no store (or it cannot be read, which is logged).
pub fn load_evidence(path: &Path) -> Vec<Evidence> {
    if !switchyard_evalstore::exists(path) {
        return Vec::new();
    }
    let since = Utc::now() - chrono::Duration::days(SHADOW_WINDOW_DAYS);
    match switchyard_evalstore::open(path)
        .and_then(|s| readiness(s.as_ref(), since, switchyard_eval::DEFAULT_MARGIN))
    {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read evaluation evidence");
            Vec::new()
        }
    }
}
