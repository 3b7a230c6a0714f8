//! Routing strategies and resilience through the simulator's fault injection: a half-failing
//! target, weights, capability- and context-aware lowest cost, slow first tokens, 429 storms,
//! timeouts, a provider going down and coming back, and hot reload under load.

mod common;

use common::{Harness, MASTER, chat, start, start_with};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use switchyard_ledger::AttemptOutcome;

const SIM: &str = "seed = 11\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

/// Three made-up models priced and described by a catalog file of the test's own.
const CATALOG: &str = r#"
[[model]]
id = "tiny"
provider = "sim"
creator = "sim"
family = "sim"
kind = "chat"
context_window = 2000
max_output = 500
source = "test"
[model.capabilities]
tools = false
vision = false
json_schema = false
[[model.prices]]
effective_from = "2024-01-01"
input = "0.05"
output = "0.10"

[[model]]
id = "mid"
provider = "sim"
creator = "sim"
family = "sim"
kind = "chat"
context_window = 16000
max_output = 4000
source = "test"
[model.capabilities]
tools = true
vision = false
json_schema = false
[[model.prices]]
effective_from = "2024-01-01"
input = "1.00"
output = "2.00"

[[model]]
id = "big"
provider = "sim"
creator = "sim"
family = "sim"
kind = "chat"
context_window = 200000
max_output = 16000
source = "test"
[model.capabilities]
tools = true
vision = true
json_schema = true
[[model.prices]]
effective_from = "2024-01-01"
input = "5.00"
output = "15.00"
"#;

fn model_of(a: &common::Answer) -> String {
    a.header("x-switchyard-model").unwrap_or_default()
}

async fn status(h: &Harness) -> Value {
    let s = h.call("GET", "/v1/status", &[], None).await;
    assert_eq!(s.status, 200, "{}", s.text());
    s.json()
}

fn breaker(status: &Value, route: &str, model: &str) -> String {
    status["routes"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == route))
        .and_then(|r| r["targets"].as_array())
        .and_then(|ts| ts.iter().find(|t| t["model"] == model))
        .and_then(|t| t["breaker"].as_str())
        .unwrap_or("missing")
        .to_string()
}

#[tokio::test]
async fn a_target_failing_half_its_requests_is_invisible_and_its_breaker_opens_then_closes() {
    let sim = format!("{SIM}[models.flaky]\nerror_rate = 0.5\n");
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[breaker]
window_s = 60
min_requests = 6
error_ratio = 0.3
cooldown_s = 1
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "chat"
retries = 0
targets = [{ provider = "sim", model = "flaky" }, { provider = "sim", model = "steady" }]
"#;
    let h = start(&sim, gw).await;
    let mut opened = false;
    for i in 0..60 {
        let a = h
            .post("/v1/chat/completions", &chat("chat", &format!("q{i}")))
            .await;
        assert_eq!(a.status, 200, "request {i}: {}", a.text());
        if breaker(&status(&h).await, "chat", "flaky") == "open" {
            opened = true;
            break;
        }
    }
    assert!(opened, "the breaker should open at a 50% error rate");
    // Open: the flaky target is not called at all.
    let before = h.sim_count("flaky").await;
    for i in 0..5 {
        let a = h
            .post("/v1/chat/completions", &chat("chat", &format!("open{i}")))
            .await;
        assert_eq!(a.status, 200);
        assert_eq!(model_of(&a), "steady");
    }
    assert_eq!(h.sim_count("flaky").await, before);
    // The provider recovers; after the cooldown a probe goes through and closes it.
    h.sim_behaviour("flaky", &json!({"error_rate": 0.0})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(breaker(&status(&h).await, "chat", "flaky"), "half_open");
    let a = h.post("/v1/chat/completions", &chat("chat", "probe")).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        model_of(&a),
        "flaky",
        "the probe went to the recovered target"
    );
    assert_eq!(breaker(&status(&h).await, "chat", "flaky"), "closed");
    let recs = h.finish().await;
    assert!(recs.iter().all(|r| r.status == 200));
    assert!(
        recs.iter()
            .any(|r| r.attempts.len() == 2 && r.attempts[0].outcome == AttemptOutcome::ServerError),
        "failed attempts are in the ledger"
    );
}

#[tokio::test]
async fn weighted_routing_matches_its_weights() {
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "ab"
strategy = "weighted"
targets = [
  { provider = "sim", model = "stable", weight = 80 },
  { provider = "sim", model = "canary", weight = 20 },
]
"#;
    let h = start(SIM, gw).await;
    let n = 400;
    let mut counts: HashMap<String, u32> = HashMap::new();
    for i in 0..n {
        let a = h
            .post("/v1/chat/completions", &chat("ab", &format!("q{i}")))
            .await;
        assert_eq!(a.status, 200);
        *counts.entry(model_of(&a)).or_default() += 1;
    }
    let canary = f64::from(counts.get("canary").copied().unwrap_or(0));
    // Binomial(400, 0.2): mean 80, standard deviation 8; allow 4 of them.
    assert!((canary - 80.0).abs() <= 32.0, "{counts:?}");
    h.finish().await;
}

fn cost_gateway(dir_catalog: &str) -> String {
    format!(
        r#"
[ledger]
flush_interval_ms = 10000
[catalog]
files = ["{dir_catalog}"]
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "cheap"
strategy = "lowest-cost"
targets = [
  {{ provider = "sim", model = "big", price_as = "sim/big" }},
  {{ provider = "sim", model = "tiny", price_as = "sim/tiny" }},
  {{ provider = "sim", model = "mid", price_as = "sim/mid" }},
]
"#
    )
}

/// Writes the test catalog to a file of its own for each caller: the tests in
/// this binary run in parallel, and a shared path was truncated by one test
/// while another's gateway was reading it.
fn write_catalog() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("switchyard-cat-{}-{n}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("temp dir {}: {e}", dir.display());
    }
    let path = dir.join("catalog.toml");
    if let Err(e) = std::fs::write(&path, CATALOG) {
        panic!("write {}: {e}", path.display());
    }
    path.display().to_string()
}

#[tokio::test]
async fn lowest_cost_picks_the_cheapest_target_that_can_serve_the_request() {
    let h = start(SIM, &cost_gateway(&write_catalog())).await;
    let tool = json!([{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]);
    // Plain text: the cheapest.
    let a = h.post("/v1/chat/completions", &chat("cheap", "hi")).await;
    assert_eq!(model_of(&a), "tiny");
    for i in 0..10 {
        // Tools: never the tool-less tiny model, whatever it costs.
        let mut body = chat("cheap", &format!("use the tool {i}"));
        body["tools"] = tool.clone();
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{}", a.text());
        assert_eq!(model_of(&a), "mid");
        // JSON schema output: only big has it.
        let mut body = chat("cheap", &format!("as json {i}"));
        body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}});
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{}", a.text());
        assert_eq!(model_of(&a), "big");
    }
    // A prompt beyond tiny's and mid's context windows goes to big without calling them.
    let long = "The quarterly report covers revenue, costs and hiring plans. ".repeat(2000);
    let a = h.post("/v1/chat/completions", &chat("cheap", &long)).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(model_of(&a), "big");
    assert_eq!(
        h.sim_count("tiny").await,
        1,
        "only the plain request reached tiny"
    );
    h.finish().await;
}

#[tokio::test]
async fn a_prompt_that_fits_no_target_is_a_400_naming_the_context_window() {
    let gw = format!(
        r#"
[ledger]
flush_interval_ms = 10000
[catalog]
files = ["{}"]
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "small"
targets = [{{ provider = "sim", model = "tiny", price_as = "sim/tiny" }}]
"#,
        write_catalog()
    );
    let h = start(SIM, &gw).await;
    let long = "Every clause of the contract is restated here in full. ".repeat(400);
    let a = h.post("/v1/chat/completions", &chat("small", &long)).await;
    assert_eq!(a.status, 400, "{}", a.text());
    let e = &a.json()["error"];
    assert_eq!(e["code"], "context_length_exceeded");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("context window")
    );
    // Anthropic clients get the same refusal in their shape.
    let a = h
        .post(
            "/v1/messages",
            &json!({"model": "small", "max_tokens": 50, "messages": [{"role": "user", "content": long}]}),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(a.json()["type"], "error");
    assert_eq!(h.sim_count("tiny").await, 0);
    h.finish().await;
}

/// Pulls "the prompt is about N tokens and max_tokens asks for M more: S in all" apart.
fn demand_figures(message: &str) -> (u64, u64, u64) {
    let num = |after: &str, before: &str| -> u64 {
        let start = message.find(after).map_or(0, |i| i + after.len());
        let end = message[start..].find(before).map_or(start, |i| start + i);
        message[start..end].replace(',', "").parse().unwrap_or(0)
    };
    (
        num("the prompt is about ", " tokens"),
        num("asks for ", " more"),
        num("more: ", " in all"),
    )
}

#[tokio::test]
async fn the_context_fit_error_names_the_prompt_and_max_tokens_apart_in_both_dialects() {
    let gw = format!(
        r#"
[ledger]
flush_interval_ms = 10000
[catalog]
files = ["{}"]
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "small"
targets = [{{ provider = "sim", model = "tiny", price_as = "sim/tiny" }}]
"#,
        write_catalog()
    );
    let h = start(SIM, &gw).await;
    // The prompt alone fits tiny's 2,000-token window; with max_tokens it does not.
    let prompt = "Every clause of the contract is restated here. ".repeat(100);
    let mut body = chat("small", &prompt);
    body["max_tokens"] = json!(1500);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 400, "{}", a.text());
    let openai = a.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let anthropic = h
        .post(
            "/v1/messages",
            &json!({"model": "small", "max_tokens": 1500, "messages": [{"role": "user", "content": prompt}]}),
        )
        .await;
    assert_eq!(anthropic.status, 400, "{}", anthropic.text());
    assert_eq!(anthropic.json()["error"]["type"], "invalid_request_error");
    let anthropic = anthropic.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    for message in [&openai, &anthropic] {
        let (p, out, all) = demand_figures(message);
        assert!(p > 0 && p < 2_000, "the prompt alone fits: {message}");
        assert_eq!((out, all), (1_500, p + 1_500), "{message}");
        assert!(
            message.contains(
                "over the 2,000-token context window of every target on the route (sim/tiny)"
            ),
            "{message}"
        );
        assert!(
            message.contains(&format!("Lower max_tokens to at most {}", 2_000 - p)),
            "{message}"
        );
    }
    assert_eq!(h.sim_count("tiny").await, 0);
    h.finish().await;
}

#[tokio::test]
async fn a_slow_first_token_falls_back_before_the_client_sees_a_byte() {
    let sim = format!("{SIM}[models.sluggish]\nttft_ms = 3000\n");
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "fast"
targets = [
  { provider = "sim", model = "sluggish", ttft_timeout_ms = 200 },
  { provider = "sim", model = "quick" },
]
"#;
    let h = start(&sim, gw).await;
    let mut body = chat("fast", "stream me");
    body["stream"] = json!(true);
    let started = Instant::now();
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(model_of(&a), "quick");
    assert!(a.text().contains("[DONE]"));
    let recs = h.finish().await;
    let outcomes: Vec<_> = recs[0].attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [AttemptOutcome::Timeout, AttemptOutcome::Ok]);
}

#[tokio::test]
async fn a_total_timeout_moves_on_and_a_single_slow_target_is_a_504() {
    let sim = format!("{SIM}[models.stuck]\nttft_ms = 5000\n");
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "two"
targets = [{ provider = "sim", model = "stuck", timeout_ms = 300 }, { provider = "sim", model = "ok" }]
[[routes]]
name = "one"
retries = 0
targets = [{ provider = "sim", model = "stuck", timeout_ms = 300 }]
"#;
    let h = start(&sim, gw).await;
    let a = h.post("/v1/chat/completions", &chat("two", "hi")).await;
    assert_eq!(a.status, 200);
    assert_eq!(model_of(&a), "ok");
    let started = Instant::now();
    let a = h.post("/v1/chat/completions", &chat("one", "hi")).await;
    assert_eq!(a.status, 504, "{}", a.text());
    assert!(started.elapsed() < Duration::from_secs(2));
    h.finish().await;
}

#[tokio::test]
async fn a_429_storm_is_waited_out_when_retry_after_is_short() {
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "busy"
retries = 3
max_retry_after_ms = 2000
targets = [{ provider = "sim", model = "busy" }]
"#;
    let h = start(SIM, gw).await;
    h.sim_behaviour("busy", &json!({"rate_429": 1.0, "retry_after_s": 1}))
        .await;
    let sim = h.sim.clone();
    // The storm passes after 300 ms.
    let calm = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let client = switchyard_providers::HttpClient::new(&Default::default()).ok();
        if let Some(c) = client {
            let _ = c
                .fetch(
                    http::Request::delete(format!("{sim}/sim/behaviour/busy"))
                        .body(http_body_util::Full::new(bytes::Bytes::new()))
                        .expect("request"),
                )
                .await;
        }
    });
    let started = Instant::now();
    let a = h.post("/v1/chat/completions", &chat("busy", "hi")).await;
    calm.await.ok();
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After (1 s) was honoured"
    );
    let recs = h.finish().await;
    let outcomes: Vec<_> = recs[0].attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [AttemptOutcome::RateLimited, AttemptOutcome::Ok]);
}

#[tokio::test]
async fn a_provider_going_down_trips_the_breaker_fails_fast_and_recovers() {
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[breaker]
min_requests = 3
error_ratio = 0.5
cooldown_s = 1
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "solo"
retries = 0
targets = [{ provider = "sim", model = "solo" }]
"#;
    let h = start(SIM, gw).await;
    let a = h.post("/v1/chat/completions", &chat("solo", "up")).await;
    assert_eq!(a.status, 200);
    h.sim_behaviour("solo", &json!({"error_rate": 1.0})).await;
    // One success and two failures: 3 requests in the window, 2/3 failed ≥ 0.5 → open.
    for _ in 0..2 {
        let a = h.post("/v1/chat/completions", &chat("solo", "down")).await;
        assert_eq!(a.status, 502);
    }
    // Open: answered at once with 503 and Retry-After, the provider left alone.
    let calls = h.sim_count("solo").await;
    let a = h.post("/v1/chat/completions", &chat("solo", "down")).await;
    assert_eq!(a.status, 503, "{}", a.text());
    assert_eq!(a.json()["error"]["code"], "circuit_open");
    assert_eq!(a.header("retry-after").as_deref(), Some("1"));
    assert_eq!(h.sim_count("solo").await, calls);
    // Back up: after the cooldown the probe succeeds and traffic flows again.
    h.sim_behaviour("solo", &json!({"error_rate": 0.0})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        let a = h.post("/v1/chat/completions", &chat("solo", "back")).await;
        assert_eq!(a.status, 200, "{}", a.text());
    }
    assert_eq!(breaker(&status(&h).await, "solo", "solo"), "closed");
    let recs = h.finish().await;
    assert_eq!(
        recs.iter()
            .filter(|r| r.error_class.as_deref() == Some("circuit_open"))
            .count(),
        1
    );
}

#[tokio::test]
async fn hot_reload_under_load_drops_nothing_and_a_bad_config_changes_nothing() {
    let sim = "seed = 5\n[defaults]\nttft_ms = 40\ntokens_per_second = 0\n";
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "live"
targets = [{ provider = "sim", model = "before" }]
"#;
    let h = start_with(sim, gw, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let base = h.base.clone();
    let load = tokio::spawn(async move {
        let client = switchyard_providers::HttpClient::new(&Default::default()).expect("client");
        let mut tasks = Vec::new();
        for i in 0..200 {
            let client = client.clone();
            let url = format!("{base}/v1/chat/completions");
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(i * 3)).await;
                let body = json!({"model": "live", "messages": [{"role": "user", "content": format!("n{i}")}]});
                client
                    .post_json(&url, &[], body.to_string())
                    .await
                    .map(|r| r.status)
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.ok().and_then(|r| r.ok()));
        }
        statuses
    });
    tokio::time::sleep(Duration::from_millis(250)).await;
    let text = std::fs::read_to_string(&h.config_file).unwrap_or_default();
    std::fs::write(&h.config_file, text.replace("\"before\"", "\"after\"")).ok();
    let auth = format!("Bearer {MASTER}");
    let r = h
        .call("POST", "/admin/reload", &[("authorization", &auth)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["config_generation"], 2);
    let statuses = load.await.unwrap_or_default();
    assert_eq!(statuses.len(), 200);
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "every request in flight across the reload succeeded: {statuses:?}"
    );
    let a = h.post("/v1/chat/completions", &chat("live", "now")).await;
    assert_eq!(model_of(&a), "after");

    // A broken file is refused and the running config stays.
    std::fs::write(&h.config_file, "[[routes]]\nname = \"x\"\n").ok();
    let r = h
        .call("POST", "/admin/reload", &[("authorization", &auth)], None)
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("previous configuration stays"));
    let a = h.post("/v1/chat/completions", &chat("live", "still")).await;
    assert_eq!(a.status, 200);
    assert_eq!(model_of(&a), "after");
    // Without the master key there is no reload.
    let r = h.call("POST", "/admin/reload", &[], None).await;
    assert_eq!(r.status, 401);
    let recs = h.finish().await;
    assert_eq!(recs.iter().filter(|r| r.status == 200).count(), 202);
}

#[tokio::test]
async fn least_latency_sends_most_traffic_to_the_faster_target() {
    let sim = "seed = 3\n[defaults]\ntokens_per_second = 0\n[models.slow]\nttft_ms = 120\n[models.fast]\nttft_ms = 10\n";
    let gw = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "quick"
strategy = "least-latency"
targets = [{ provider = "sim", model = "slow" }, { provider = "sim", model = "fast" }]
"#;
    let h = start(sim, gw).await;
    let mut counts: HashMap<String, u32> = HashMap::new();
    for i in 0..20 {
        let a = h
            .post("/v1/chat/completions", &chat("quick", &format!("q{i}")))
            .await;
        assert_eq!(a.status, 200);
        *counts.entry(model_of(&a)).or_default() += 1;
    }
    // Each is measured once (never-measured targets go first), then the faster one wins.
    assert_eq!(counts.get("slow"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("fast"), Some(&19), "{counts:?}");
    let s = status(&h).await;
    let targets = &s["routes"][0]["targets"];
    assert_eq!(s["routes"][0]["strategy"], "least-latency");
    assert!(targets[0]["latency_ewma_ms"].as_f64() > targets[1]["latency_ewma_ms"].as_f64());
    h.finish().await;
}
