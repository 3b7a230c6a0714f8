//! Evaluation on the gateway: capture (sampling, limits, redaction, streams), shadow traffic
//! (mirrored after the answer, recorded as shadow spend, scored, bounded, never failing the
//! client), replay with a verdict, and readiness feeding lock-in.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a setup failure should fail the test loudly"
)]

mod common;

use common::{Harness, chat, start};
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_eval::{DatasetItem, Expected, ScorerSpec, StatsOptions};
use switchyard_evalstore::{CaptureQuery, Store};
use switchyard_evaluation::{Dataset, ReplayOptions, replay};

const SIM: &str =
    "seed = 9\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.broken]\nerror_rate = 1.0\n";

fn gateway(extra: &str) -> String {
    gateway_with("", extra)
}

fn gateway_with(eval_extra: &str, extra: &str) -> String {
    format!(
        r#"
[ledger]
flush_interval_ms = 10000
[eval]
path = "TEST_DIR/eval.db"
{eval_extra}
[providers.sim]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
{extra}
"#
    )
}

fn store(h: &Harness) -> Box<dyn Store> {
    switchyard_evalstore::open(&h.dir.join("eval.db")).expect("eval store")
}

/// Waits until the status page shows `n` shadow calls done (sent or failed).
async fn shadows_done(h: &Harness, n: u64) -> Value {
    for _ in 0..100 {
        let s = h.call("GET", "/v1/status", &[], None).await.json();
        let e = &s["evaluation"];
        if e["shadow_sent"].as_u64().unwrap_or(0) + e["shadow_failed"].as_u64().unwrap_or(0) >= n {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("shadow calls did not finish");
}

#[tokio::test]
async fn capture_samples_by_policy_redacts_before_storage_and_covers_streams() {
    let h = start(
        SIM,
        &gateway(
            r#"
[[routes]]
name = "support"
workload = "support"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
[routes.capture]
rate = 1.0
max_per_day = 3
workloads = ["support"]
"#,
        ),
    )
    .await;
    let secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    let prompt =
        format!("My email is jane.doe@example.com, card 4111 1111 1111 1111, key {secret}");
    // Another workload (by header) is not captured.
    let other = h
        .post_with(
            "/v1/chat/completions",
            chat("support", "not me").to_string().into_bytes(),
            &[("x-switchyard-workload", "billing")],
        )
        .await;
    assert_eq!(other.status, 200);
    let a = h
        .post("/v1/chat/completions", &chat("support", &prompt))
        .await;
    assert_eq!(a.status, 200);
    let mut body = chat("support", "stream this one");
    body["stream"] = json!(true);
    let s = h.post("/v1/chat/completions", &body).await;
    assert_eq!(s.status, 200);
    for i in 0..3 {
        h.post(
            "/v1/chat/completions",
            &chat("support", &format!("extra {i}")),
        )
        .await;
    }
    h.gateway.flush_eval();
    let caps = store(&h)
        .captures(&CaptureQuery::default())
        .expect("captures");
    assert_eq!(caps.len(), 3, "max_per_day = 3");
    assert!(
        caps.iter()
            .all(|c| c.workload.as_deref() == Some("support"))
    );
    let streamed = caps
        .iter()
        .find(|c| c.request["stream"] == json!(true))
        .expect("the stream was captured");
    assert!(
        !streamed.output_text.is_empty(),
        "a stream's text is captured"
    );
    let sensitive = caps
        .iter()
        .find(|c| c.request.to_string().contains("My email"))
        .expect("the sensitive request was captured");
    let text = sensitive.request.to_string();
    assert!(
        text.contains("[EMAIL]") && text.contains("[CARD]") && text.contains("[SECRET]"),
        "{text}"
    );
    let dir = h.dir.clone();
    h.finish().await;
    // Nothing sensitive anywhere in the store's files.
    for f in ["eval.db", "eval.db-wal"] {
        let bytes = std::fs::read(dir.join(f)).unwrap_or_default();
        for needle in ["jane.doe@example.com", "4111 1111 1111 1111", secret] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} leaked into {f}"
            );
        }
    }
}

#[tokio::test]
async fn nothing_is_captured_unless_the_config_turns_it_on() {
    let h = start(
        SIM,
        &gateway(
            r#"
[[routes]]
name = "plain"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
"#,
        ),
    )
    .await;
    let a = h
        .post("/v1/chat/completions", &chat("plain", "hello"))
        .await;
    assert_eq!(a.status, 200);
    let dir = h.dir.clone();
    h.finish().await;
    assert!(
        !dir.join("eval.db").exists(),
        "no eval store is even created"
    );
}

#[tokio::test]
async fn shadow_traffic_is_mirrored_recorded_as_shadow_and_scored_without_touching_the_answer() {
    let h = start(
        SIM,
        &gateway(
            r#"
[[routes]]
name = "prod"
workload = "support"
targets = [{ provider = "sim", model = "gpt-4o" }]
[[routes.shadow]]
provider = "sim"
model = "gpt-4o-mini"
rate = 1.0
[[routes]]
name = "plain"
targets = [{ provider = "sim", model = "gpt-4o" }]
"#,
        ),
    )
    .await;
    for i in 0..12 {
        let q = format!("question {i}");
        let a = h.post("/v1/chat/completions", &chat("prod", &q)).await;
        let b = h.post("/v1/chat/completions", &chat("plain", &q)).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("x-switchyard-model").as_deref(), Some("gpt-4o"));
        // Same answer as a route without shadowing: the mirror alters nothing.
        assert_eq!(
            a.json()["choices"][0]["message"]["content"],
            b.json()["choices"][0]["message"]["content"]
        );
    }
    let e = shadows_done(&h, 12).await;
    assert_eq!(e["shadow_sent"], 12, "{e}");
    h.gateway.flush_eval();
    let path = h.dir.join("eval.db");
    let recs = h.finish().await;
    let shadows: Vec<_> = recs.iter().filter(|r| r.shadow).collect();
    assert_eq!(shadows.len(), 12);
    assert!(
        shadows
            .iter()
            .all(|r| r.model.as_deref() == Some("gpt-4o-mini")
                && r.cost_usd.is_some()
                && r.workload.as_deref() == Some("support"))
    );
    assert_eq!(recs.iter().filter(|r| !r.shadow).count(), 24);
    // Readiness: 12 paired samples of (support, sim/gpt-4o-mini), cheaper than production.
    let ev = switchyard_strategy::readiness::load_evidence(&path);
    let e = ev
        .iter()
        .find(|e| e.candidate == "sim/gpt-4o-mini")
        .expect("evidence");
    assert_eq!((e.workload.as_str(), e.samples), ("support", 12));
    assert!(e.cost_delta.is_some_and(|d| d < -0.5), "{e:?}");
    assert!(
        !e.passed,
        "token overlap with a different model's answer is far from 1"
    );
}

#[tokio::test]
async fn a_failing_shadow_never_fails_the_client_and_concurrency_is_bounded() {
    let h = start(
        SIM,
        &gateway_with(
            "shadow_concurrency = 1",
            r#"
[[routes]]
name = "prod"
targets = [{ provider = "sim", model = "gpt-4o" }]
[[routes.shadow]]
provider = "sim"
model = "broken"
rate = 1.0
"#,
        ),
    )
    .await;
    let base = h.base.clone();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = format!("{base}/v1/chat/completions");
        tasks.push(tokio::spawn(async move {
            let c = switchyard_providers::HttpClient::new(&Default::default()).ok()?;
            let body = json!({"model": "prod", "messages": [{"role": "user", "content": format!("q{i}")}]});
            c.post_json(&url, &[], body.to_string()).await.ok().map(|r| r.status)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.ok().flatten(), Some(200));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = h.call("GET", "/v1/status", &[], None).await.json();
    let e = &s["evaluation"];
    let failed = e["shadow_failed"].as_u64().unwrap_or(0);
    let busy = e["shadow_skipped_busy"].as_u64().unwrap_or(0);
    assert_eq!(failed + busy, 20, "{e}");
    assert!(failed >= 1);
    let recs = h.finish().await;
    assert_eq!(
        recs.iter().filter(|r| !r.shadow && r.status == 200).count(),
        20
    );
    assert!(
        recs.iter()
            .filter(|r| r.shadow)
            .all(|r| r.error_class.as_deref() == Some("shadow_error"))
    );
}

fn items(answers: &[(String, String)]) -> Vec<DatasetItem> {
    answers
        .iter()
        .enumerate()
        .map(|(i, (q, a))| DatasetItem {
            id: format!("item-{i}"),
            input: json!({"messages": [{"role": "user", "content": q}]}),
            expected: Some(Expected(json!(a))),
            reference_output: Some(a.clone()),
            reference_tool_calls: Vec::new(),
            reference_cost_usd: Some(0.0001),
            reference_latency_ms: Some(100.0),
            tags: Vec::new(),
            scorers: Vec::new(),
        })
        .collect()
}

fn dataset(answers: &[(String, String)]) -> Dataset<'static> {
    Dataset {
        name: "tickets@v1",
        items: items(answers),
        scorers: &[],
    }
}

fn opts(candidate: &str, baseline: Option<&str>) -> ReplayOptions {
    ReplayOptions {
        candidate: candidate.into(),
        baseline: baseline.map(str::to_string),
        concurrency: 4,
        max_spend: "5.00".parse().expect("money"),
        scorers: vec![
            serde_json::from_value::<ScorerSpec>(json!({"type": "exact"})).expect("spec"),
        ],
        margin: -0.02,
        stats: StatsOptions {
            resamples: 2000,
            ..StatsOptions::default()
        },
        workload: Some("support".into()),
        embedding_route: None,
    }
}

/// A production route and two candidates: the same model, and another.
const REPLAY_ROUTES: &str = r#"
[[routes]]
name = "current"
targets = [{ provider = "sim", model = "gpt-4o" }]
[[routes]]
name = "same"
targets = [{ provider = "sim", model = "gpt-4o" }]
[[routes]]
name = "other"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
"#;

/// `n` questions (`{i}` in `template` numbered) and the answers the `current` route gave, as
/// a capture would have recorded them.
async fn production_answers(h: &Harness, template: &str, n: usize) -> Vec<(String, String)> {
    let mut answers = Vec::new();
    for i in 0..n {
        let q = template.replace("{i}", &i.to_string());
        let a = h.post("/v1/chat/completions", &chat("current", &q)).await;
        let text = a.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        answers.push((q, text));
    }
    answers
}

#[tokio::test]
async fn replay_passes_an_equivalent_candidate_fails_a_different_one_and_stops_at_the_cap() {
    let h = start(SIM, &gateway(REPLAY_ROUTES)).await;
    let answers =
        production_answers(&h, "Summarise ticket {i} for the on-call engineer.", 30).await;
    let none = |_: usize, _: usize| {};
    let same = replay(&h.gateway, dataset(&answers), &opts("same", None), &none)
        .await
        .expect("replay");
    assert!(same.verdict.passed(), "{:?}", same.verdict);
    assert_eq!((same.paired, same.summary.ties), (30, 30));
    assert!(same.deltas.candidate_latency_ms.is_some());

    let other = replay(
        &h.gateway,
        dataset(&answers),
        &opts("other", Some("current")),
        &none,
    )
    .await
    .expect("replay");
    assert!(!other.verdict.passed());
    assert_eq!(other.summary.losses, 30);
    assert!(
        other.verdict.reason.contains("worse"),
        "{}",
        other.verdict.reason
    );
    assert!(
        other.deltas.cost_delta.is_some_and(|d| d < 0.0),
        "gpt-4o-mini is cheaper"
    );

    let mut capped = opts("other", Some("current"));
    capped.max_spend = "0.0000001".parse().expect("money");
    capped.concurrency = 1;
    let r = replay(&h.gateway, dataset(&answers), &capped, &none)
        .await
        .expect("replay");
    assert!(r.stopped.is_some());
    assert!(r.paired < 30);

    // A run without any scorer is refused up front rather than scored as a pass.
    let mut bare = opts("same", None);
    bare.scorers.clear();
    let err = replay(&h.gateway, dataset(&answers), &bare, &none)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("no scorer"));
    let recs = h.finish().await;
    // Replays are evaluation spend.
    assert_eq!(recs.iter().filter(|r| !r.shadow).count(), 30);
    assert!(recs.iter().filter(|r| r.shadow).count() >= 30 + 60);
}

#[tokio::test]
async fn a_streamed_answer_is_captured_with_its_tool_calls() {
    let h = start(
        SIM,
        &gateway(
            r#"
[[routes]]
name = "agent"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
[routes.capture]
rate = 1.0
"#,
        ),
    )
    .await;
    let mut body = chat("agent", "What is the weather in Paris?");
    body["stream"] = json!(true);
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    h.gateway.flush_eval();
    let caps = store(&h)
        .captures(&CaptureQuery::default())
        .expect("captures");
    assert_eq!(caps.len(), 1);
    let calls = caps[0].tool_calls.as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 1, "{:?}", caps[0]);
    assert_eq!(calls[0]["name"], "get_weather");
    assert!(
        calls[0]["arguments"]["city"].is_string(),
        "arguments parsed as JSON: {calls:?}"
    );
    h.finish().await;
}

#[tokio::test]
async fn without_an_expected_value_the_captured_answer_is_the_reference() {
    let h = start(SIM, &gateway(REPLAY_ROUTES)).await;
    let answers = production_answers(&h, "Classify ticket {i}.", 20).await;
    let unlabelled = |answers: &[(String, String)]| {
        let mut d = dataset(answers);
        for it in &mut d.items {
            it.expected = None;
        }
        d
    };
    let none = |_: usize, _: usize| {};
    let same = replay(&h.gateway, unlabelled(&answers), &opts("same", None), &none)
        .await
        .expect("replay");
    assert!(same.verdict.passed(), "{:?}", same.verdict);
    assert_eq!(
        same.summary.mean_baseline, 1.0,
        "the reference scores itself 1"
    );
    let other = replay(
        &h.gateway,
        unlabelled(&answers),
        &opts("other", None),
        &none,
    )
    .await
    .expect("replay");
    assert!(!other.verdict.passed());
    h.finish().await;
}
