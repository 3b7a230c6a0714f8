use super::*;
use crate::source::DailyRow;
use std::str::FromStr;

const CATALOG: &str = r#"
[[model]]
id = "a"
provider = "p"
creator = "acme"
family = "gpt-4o"
context_window = 8000
retirement = "2027-01-15"
[model.capabilities]
tools = true
[[model.prices]]
effective_from = "2025-01-01"
input = "1"
output = "2"
[[model]]
id = "cheap"
provider = "q"
creator = "other"
family = "gpt-4o"
context_window = 8000
[model.capabilities]
tools = true
[[model.prices]]
effective_from = "2025-01-01"
input = "0.5"
output = "1"
[[model]]
id = "notools"
provider = "q"
creator = "other"
context_window = 100000
[[model.prices]]
effective_from = "2025-01-01"
input = "0.1"
output = "0.1"
[[model]]
id = "small"
provider = "r"
creator = "third"
context_window = 10
[model.capabilities]
tools = true
[[model.prices]]
effective_from = "2025-01-01"
input = "0.1"
output = "0.1"
"#;

fn setup() -> (History, Catalog) {
    let mut c = Catalog::default();
    c.merge_toml(CATALOG, "t").unwrap();
    let row = DailyRow {
        day: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        workload: "w".into(),
        provider: "p".into(),
        model: "a".into(),
        team: "t".into(),
        requests: 100,
        errors: 0,
        usage: TokenUsage {
            input: 1_000_000,
            cached_input: 10,
            output: 1_000_000,
            ..Default::default()
        },
        cost: Money::from_str("3").unwrap(),
    };
    let mut profile = WorkloadProfile {
        workload: "w".into(),
        max_prompt_tokens: 5000,
        requests: 100,
        ..Default::default()
    };
    profile.features.insert("tools".into());
    profile.features.insert("param:top_k".into());
    let h = History {
        rows: vec![row],
        profiles: [("w".to_string(), profile)].into_iter().collect(),
        ..Default::default()
    };
    (h, c)
}

#[test]
fn score_adds_explained_factors() {
    let (h, c) = setup();
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let l = &score_all(&h, &c, &EffortModel::default(), today, &[])[0];
    let pts: Vec<u32> = l.factors.iter().map(|f| f.points).collect();
    // features: tools 5 + prompt caching 10 + one provider param 5 = 20;
    // alternatives: only q/cheap qualifies (notools lacks tools, small's window < 5000) → 1 → 18;
    // evaluation: unproven 15; deprecation: retires in 49 days ≤ 90 → 10; share: 100 % → 10.
    assert_eq!(pts, [20, 18, 15, 10, 10]);
    assert_eq!(l.score, 73);
    assert_eq!(l.alternatives.len(), 1);
    // cheap: 1M × 0.5 + 1M × 1 (+10 cached at 0.5) ≈ 1.5 against 3.00 at a's prices → −50 %.
    assert_eq!(
        l.alternatives[0].cost_delta_pct.unwrap().to_string(),
        "-0.5"
    );
    // effort: base 0.5 + tools 0.5 + caching 1.0 + one param 0.25 + unproven eval 1.0 = 3.25 weeks.
    assert_eq!(l.effort_weeks, 3.25);
}

#[test]
fn effort_weights_can_be_overridden() {
    let (h, c) = setup();
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let effort: EffortModel = toml::from_str("base = 2.0\nunproven_evaluation = 0.0").unwrap();
    assert_eq!(
        score_all(&h, &c, &effort, today, &[])[0].effort_weeks,
        2.0 + 0.5 + 1.0 + 0.25
    );
}

#[test]
fn evaluation_evidence_proves_an_alternative_and_lowers_the_score() {
    let (h, c) = setup();
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let proven = Evidence {
        workload: "w".into(),
        candidate: "q/cheap".into(),
        passed: true,
        samples: 120,
        mean_diff: 0.01,
        ci_low: -0.012,
        ci_high: 0.031,
        cost_delta: Some(-0.38),
        source: "replay".into(),
        baseline: None,
    };
    let l = &score_all(
        &h,
        &c,
        &EffortModel::default(),
        today,
        std::slice::from_ref(&proven),
    )[0];
    let readiness = l
        .factors
        .iter()
        .find(|f| f.name == "evaluation readiness")
        .unwrap();
    assert_eq!(readiness.points, 0);
    assert!(
        readiness.why.contains("proven on 120 samples"),
        "{}",
        readiness.why
    );
    assert_eq!(l.score, 73 - 15);
    assert!(l.alternatives[0].readiness.starts_with("proven"));
    // effort: the unproven evaluation (1.0 week) becomes the proven one (0.25).
    assert_eq!(l.effort_weeks, 3.25 - 1.0 + 0.25);

    // A failed evaluation is evidence too, but proves nothing.
    let failed = Evidence {
        passed: false,
        ..proven.clone()
    };
    let l = &score_all(&h, &c, &EffortModel::default(), today, &[failed])[0];
    let readiness = l
        .factors
        .iter()
        .find(|f| f.name == "evaluation readiness")
        .unwrap();
    assert_eq!(readiness.points, 10);
    assert!(l.alternatives[0].readiness.starts_with("not proven"));

    // A candidate outside the catalog (a self-hosted model) is listed with its measured delta.
    let local = Evidence {
        candidate: "local/smollm2".into(),
        ..proven
    };
    let l = &score_all(&h, &c, &EffortModel::default(), today, &[local])[0];
    let alt = l
        .alternatives
        .iter()
        .find(|a| a.model == "local/smollm2")
        .unwrap();
    assert_eq!(alt.cost_delta_pct.unwrap().to_string(), "-0.38");
    assert_eq!(l.alternatives[0].model, "local/smollm2", "proven first");
}
