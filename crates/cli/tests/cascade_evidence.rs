//! The quality evidence behind a cascade: on a ledger seeded with cascade records and an eval
//! store seeded with a replay run, `ledger summary` and `strategy report` show, per cheaper
//! tier, the replay's verdict against the top tier (win/tie/loss, interval, n), or the exact
//! `switchyard eval` commands when there is none.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[expect(dead_code, reason = "the ledger builders in common serve cli.rs")]
mod common;

use chrono::Utc;
use common::{run, scratch};
use std::path::Path;
use std::str::FromStr;
use switchyard_ledger::{Attempt, AttemptOutcome, CascadeMark, Record, RecordKind};
use switchyard_primitives::{Money, TokenUsage};

const CONFIG: &str = r#"
[ledger]
path = "ledger.db"
[providers.oai]
kind = "openai-compatible"
base_url = "http://127.0.0.1:9/v1"
price_provider = "openai"
[[routes]]
name = "classify"
workload = "tickets"
strategy = "cascade"
targets = [{ provider = "oai", model = "gpt-4o" }, { provider = "oai", model = "gpt-4o-mini" }]
[[routes.cascade.checks]]
type = "min-length"
chars = 2
[[routes]]
name = "triage"
workload = "triage"
strategy = "cascade"
targets = [{ provider = "oai", model = "gpt-4o-mini" }, { provider = "oai", model = "gpt-4o" }]
[routes.cascade]
order = "config"
[[routes.cascade.checks]]
type = "min-length"
chars = 2
"#;

fn record(n: usize, tier: u32) -> Record {
    let model = if tier == 1 { "gpt-4o-mini" } else { "gpt-4o" };
    Record {
        request_id: format!("c{n}"),
        ts: Utc::now() - chrono::Duration::hours(n as i64 + 1),
        kind: RecordKind::Chat,
        workload: Some("tickets".into()),
        tags: Vec::new(),
        key_id: None,
        team: None,
        route: "classify".into(),
        provider: Some("oai".into()),
        model: Some(model.into()),
        attempts: vec![Attempt {
            provider: "oai".into(),
            model: model.into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 300,
            error: None,
        }],
        status: 200,
        error_class: None,
        streamed: false,
        shadow: false,
        features: String::new(),
        usage: TokenUsage {
            input: 1_000,
            output: 10,
            ..TokenUsage::default()
        },
        cost_usd: Some(Money::from_str("0.001").unwrap()),
        price_version: None,
        latency_ms: 310.0,
        ttft_ms: None,
        overhead_us: 45,
        usage_estimated: false,
        request_count: 1,
        source: "gateway".into(),
        prefix: None,
        cascade: Some(CascadeMark {
            tier,
            baseline_usd: Some(Money::from_str("0.01").unwrap()),
            judged_usd: None,
        }),
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

fn seed(dir: &Path) {
    std::fs::write(dir.join("sy.toml"), CONFIG).unwrap();
    let jsonl: String = (0..4)
        .map(|n| serde_json::to_string(&record(n, if n == 0 { 2 } else { 1 })).unwrap() + "\n")
        .collect();
    std::fs::write(dir.join("history.jsonl"), jsonl).unwrap();
    let r = run(
        dir,
        &["ledger", "import", "history.jsonl", "--config", "sy.toml"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let store = switchyard_evalstore::open(&dir.join("ledger-eval.db")).unwrap();
    let run = |candidate: &str, baseline: &str, ci: (f64, f64)| switchyard_evalstore::RunRecord {
        id: format!("run-{candidate}-{baseline}"),
        created: Utc::now(),
        dataset_id: "tickets@v1".into(),
        workload: Some("tickets".into()),
        candidate: candidate.into(),
        baseline: baseline.into(),
        verdict: "PASS".into(),
        report: serde_json::json!({"summary": {"n": 64, "mean_diff": (ci.0 + ci.1) / 2.0,
            "ci_low": ci.0, "ci_high": ci.1}, "deltas": {"cost_delta": -0.9}}),
    };
    store
        .save_run(&run("oai/gpt-4o-mini", "oai/gpt-4o", (0.01, 0.05)))
        .unwrap();
}

#[test]
fn ledger_summary_and_strategy_report_show_each_cheaper_tiers_evidence_against_the_top_tier() {
    let dir = scratch();
    seed(&dir);
    let r = run(&dir, &["ledger", "summary", "--config", "sy.toml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let section = r
        .stdout
        .split("cascade quality evidence")
        .nth(1)
        .unwrap_or_default();
    // `order = "cost"` (the default): gpt-4o-mini is tried first whatever the config's order.
    let classify = section
        .lines()
        .find(|l| l.starts_with("classify"))
        .unwrap_or_default();
    assert!(classify.contains("1 oai/gpt-4o-mini"), "{section}");
    assert!(
        classify.contains(
            "win: proven on 64 samples (replay of tickets@v1 vs oai/gpt-4o; score Δ +0.030, 95% CI [+0.010, +0.050])"
        ),
        "{section}"
    );
    let triage = section
        .lines()
        .find(|l| l.starts_with("triage"))
        .unwrap_or_default();
    assert!(
        triage.contains("no evidence yet — run `switchyard eval dataset create --workload triage --name triage && switchyard eval run --dataset triage --candidate oai/gpt-4o-mini --baseline oai/gpt-4o`"),
        "{section}"
    );
    // Escalation: one of the four went to the top tier.
    assert!(r.stdout.contains("25.0%"), "{}", r.stdout);
    let r = run(
        &dir,
        &["ledger", "summary", "--config", "sy.toml", "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["cascade_quality"][0]["tiers"][0]["evidence"]["samples"],
        64
    );

    for format in ["md", "html"] {
        let r = run(
            &dir,
            &[
                "strategy", "report", "--config", "sy.toml", "--format", format,
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("Cascade routes"), "{}", r.stdout);
        assert!(
            r.stdout
                .contains("win: proven on 64 samples (replay of tickets@v1 vs oai/gpt-4o"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("no evidence yet — run "), "{}", r.stdout);
    }
}
