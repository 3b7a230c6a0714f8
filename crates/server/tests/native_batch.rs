//! Anthropic Message Batches and Gemini batch mode behind `/v1/batches`, end to end against
//! the simulator: lines translated from OpenAI chat into each dialect and answered back as
//! OpenAI batch output lines at the catalog's batch discount, a restart that polls the same
//! provider batch again, a cancel that keeps what the provider had processed, and lines the
//! provider batch errors falling back to the pipeline or landing in the error file.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a malformed answer should fail the test loudly"
)]

mod common;

use common::batch::{call, line, lines_of, submit, wait};
use common::{Harness, start_against, start_with};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::time::Duration;
use switchyard_ledger::Record;

const SIM: &str = "seed = 5\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n\
[models.claude-broken]\nerror_rate = 1.0\n[models.gemini-broken]\nerror_rate = 1.0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 50
[batch]
concurrency = 1
poll_interval_ms = 20
[breaker]
min_requests = 1000
[providers.anthropic]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[providers.google]
kind = "gemini"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
[[routes]]
name = "claude"
targets = [{ provider = "anthropic", model = "claude-haiku-4-5" }]
[[routes]]
name = "flash"
targets = [{ provider = "google", model = "gemini-2.5-flash" }]
[[routes]]
name = "claude-then-sim"
targets = [{ provider = "anthropic", model = "claude-broken" }, { provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "flash-then-sim"
targets = [{ provider = "google", model = "gemini-broken" }, { provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "claude-alone"
retries = 0
targets = [{ provider = "anthropic", model = "claude-broken" }]
"#;

/// Submits `lines` as a chat batch; returns its id.
async fn start_batch(h: &Harness, lines: &[String]) -> String {
    let b = submit(h, None, lines, "/v1/chat/completions").await;
    b["id"].as_str().unwrap().to_string()
}

async fn sim_stats(h: &Harness) -> Value {
    h.get(&format!("{}/sim/stats", h.sim)).await.json()
}

/// Waits until the simulator has received `n` provider batches.
async fn until_submitted(h: &Harness, n: u64) {
    for _ in 0..400 {
        if sim_stats(h).await["batches"] == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the provider batch was never submitted");
}

fn answered(recs: &[Record]) -> Vec<&Record> {
    recs.iter().filter(|r| r.batch && r.status == 200).collect()
}

/// Two good lines and a bad one on `route`: one provider batch of `provider` for the good
/// ones, answered as OpenAI chat completions, recorded at half the live list price with the
/// other half as the batch saving.
async fn lines_go_through_the_provider_batch_at_half_price(route: &str, provider: &str) {
    let h = start_with(SIM, GATEWAY, &[]).await;
    let bad = line("bad", route, "x").replace(
        r#""messages":[{"content":"x","role":"user"}]"#,
        r#""messages":"nope""#,
    );
    let lines = [
        line("n1", route, "same question"),
        line("n2", route, "same question"),
        bad,
    ];
    let id = start_batch(&h, &lines).await;
    let done = wait(&h, None, &id, &["completed"]).await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 3, "completed": 2, "failed": 1}),
        "{done}"
    );
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    let ids: Vec<&Value> = out.iter().map(|l| &l["custom_id"]).collect();
    assert_eq!(ids, [&json!("n1"), &json!("n2")]);
    let body = &out[0]["response"]["body"];
    assert_eq!(body["object"], "chat.completion", "{body}");
    assert!(
        body["choices"][0]["message"]["content"].is_string(),
        "{body}"
    );
    assert!(
        body["usage"]["prompt_tokens"].as_u64().unwrap() > 0,
        "{body}"
    );
    let errors = lines_of(&h, None, &done["error_file_id"]).await;
    assert_eq!(errors[0]["custom_id"], "bad");
    assert_eq!(sim_stats(&h).await["batches"], 1, "one provider batch");
    let live = h
        .post(
            "/v1/chat/completions",
            &common::chat(route, "same question"),
        )
        .await;
    assert_eq!(live.status, 200, "{}", live.text());
    let recs = h.finish().await;
    let native = answered(&recs);
    assert_eq!(native.len(), 2, "{recs:?}");
    let list = recs.iter().find(|r| !r.batch && r.status == 200).unwrap();
    assert_eq!(native[0].usage, list.usage);
    assert_eq!(native[0].provider.as_deref(), Some(provider));
    let half = list.cost_usd.unwrap().decimal() / Decimal::from(2);
    assert!(half > Decimal::ZERO);
    assert_eq!(native[0].cost_usd.unwrap().decimal(), half);
    assert_eq!(native[0].saved_usd.unwrap().decimal(), half);
}

#[tokio::test]
async fn anthropic_lines_go_through_message_batches_at_half_the_list_price() {
    lines_go_through_the_provider_batch_at_half_price("claude", "anthropic").await;
}

#[tokio::test]
async fn gemini_lines_go_through_batch_mode_at_half_the_list_price() {
    lines_go_through_the_provider_batch_at_half_price("flash", "google").await;
}

/// A gateway stopped while the provider batch runs; the next one polls the same batch and
/// each line is answered upstream exactly once.
async fn a_restart_polls_the_same_provider_batch(route: &str, model: &str) {
    let sim_toml = SIM.replace("seed = 5\n", "seed = 5\nbatch_polls = 40\n");
    let mut h = start_with(&sim_toml, GATEWAY, &[]).await;
    let lines: Vec<String> = (0..3)
        .map(|i| line(&format!("p{i}"), route, "later"))
        .collect();
    let id = start_batch(&h, &lines).await;
    until_submitted(&h, 1).await;
    let (sim, dir) = (h.sim.clone(), h.dir.clone());
    let stop_sim = h.keep_sim();
    let first = h.finish().await;
    assert!(answered(&first).is_empty(), "answered before the stop");

    let h = start_against(sim, stop_sim, GATEWAY, &[], dir).await;
    let done = wait(&h, None, &id, &["completed"]).await;
    assert_eq!(done["request_counts"]["completed"], 3, "{done}");
    let stats = sim_stats(&h).await;
    assert_eq!(stats["batches"], 1, "resubmitted: {stats}");
    assert_eq!(stats[model], 3, "each line answered once upstream: {stats}");
    assert_eq!(answered(&h.finish().await).len(), 3);
}

#[tokio::test]
async fn a_restart_mid_anthropic_batch_polls_it_again_and_never_resubmits() {
    a_restart_polls_the_same_provider_batch("claude", "claude-haiku-4-5").await;
}

#[tokio::test]
async fn a_restart_mid_gemini_batch_polls_it_again_and_never_resubmits() {
    a_restart_polls_the_same_provider_batch("flash", "gemini-2.5-flash").await;
}

/// A cancel while the provider batch runs cancels it upstream; the simulator had processed
/// the first of three requests: that one is recorded and in the output file, the other two
/// are `batch_cancelled` and never run through the pipeline.
async fn cancelling_keeps_what_the_provider_processed(route: &str) {
    let sim_toml = SIM.replace("seed = 5\n", "seed = 5\nbatch_polls = 100000\n");
    let h = start_with(&sim_toml, GATEWAY, &[]).await;
    let lines: Vec<String> = (0..3)
        .map(|i| line(&format!("k{i}"), route, "stop me"))
        .collect();
    let id = start_batch(&h, &lines).await;
    until_submitted(&h, 1).await;
    let c = call(&h, "POST", &format!("/v1/batches/{id}/cancel"), None, None).await;
    assert_eq!(c.status, 200, "{}", c.text());
    let done = wait(&h, None, &id, &["cancelled"]).await;
    assert_eq!(sim_stats(&h).await["batch_cancels"], 1);
    assert_eq!(
        done["request_counts"],
        json!({"total": 3, "completed": 1, "failed": 2}),
        "{done}"
    );
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    assert_eq!(out[0]["custom_id"], "k0");
    let errors = lines_of(&h, None, &done["error_file_id"]).await;
    let codes: Vec<&Value> = errors.iter().map(|l| &l["error"]["code"]).collect();
    assert_eq!(
        codes,
        [&json!("batch_cancelled"), &json!("batch_cancelled")]
    );
    let recs = h.finish().await;
    let kept = answered(&recs);
    assert_eq!(
        kept.len(),
        1,
        "only the processed line is recorded: {recs:?}"
    );
    assert!(
        kept[0].saved_usd.is_some(),
        "answered by the provider batch"
    );
}

#[tokio::test]
async fn cancelling_an_anthropic_batch_keeps_its_processed_lines_and_cancels_the_rest() {
    cancelling_keeps_what_the_provider_processed("claude").await;
}

#[tokio::test]
async fn cancelling_a_gemini_batch_keeps_its_processed_lines_and_cancels_the_rest() {
    cancelling_keeps_what_the_provider_processed("flash").await;
}

#[tokio::test]
async fn lines_the_provider_batch_errors_fall_back_to_the_pipeline_or_land_in_the_error_file() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    let lines = [
        line("a-fallback", "claude-then-sim", "first"),
        line("g-fallback", "flash-then-sim", "second"),
        line("a-alone", "claude-alone", "third"),
    ];
    let id = start_batch(&h, &lines).await;
    let done = wait(&h, None, &id, &["completed"]).await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 3, "completed": 2, "failed": 1}),
        "{done}"
    );
    let stats = sim_stats(&h).await;
    assert_eq!(stats["batches"], 2, "one provider batch each: {stats}");
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    let ids: Vec<&Value> = out.iter().map(|l| &l["custom_id"]).collect();
    assert_eq!(ids, [&json!("a-fallback"), &json!("g-fallback")]);
    // No target of its route answers: the pipeline's own answer, as a live call would get.
    let errors = lines_of(&h, None, &done["error_file_id"]).await;
    assert_eq!(errors[0]["custom_id"], "a-alone");
    assert_eq!(errors[0]["response"]["status_code"], 502, "{}", errors[0]);
    let recs = h.finish().await;
    let ran = answered(&recs);
    assert_eq!(ran.len(), 2, "{recs:?}");
    for r in ran {
        // Answered by the pipeline's next target at list price: no batch saving.
        assert_eq!(r.provider.as_deref(), Some("sim"));
        assert_eq!(r.saved_usd, None);
    }
}
