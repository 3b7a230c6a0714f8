//! Integration tests: the gateway in front of the simulator, over real HTTP on free ports.

mod common;

use common::{SECRET, chat, records, sse_data, start};
use serde_json::{Value, json};
use switchyard_ledger::AttemptOutcome;

const SIM: &str = r#"
seed = 1
api_key = "sk-test-secret-0123456789"
[defaults]
ttft_ms = 0
tokens_per_second = 0
[models."always-500"]
error_rate = 1.0
[models."always-429"]
rate_429 = 1.0
retry_after_s = 7
[models."hangs"]
timeout_rate = 1.0
[models."cuts"]
disconnect_rate = 1.0
[models."llamacpp"]
omit_usage = true
"#;

const GATEWAY: &str = r#"
[server]
max_body_bytes = 4096
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
timeout_ms = 300
[providers.wrongkey]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[providers.down]
kind = "openai-compatible"
base_url = "http://127.0.0.1:9/v1"
[providers.azure]
kind = "azure"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
deployments = { "gpt-4o-mini" = "prod-mini" }

[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"

[[routes]]
name = "claude"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "chat"
workload = "support"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "fallback"
targets = [{ provider = "down", model = "x" }, { provider = "sim", model = "always-500" }, { provider = "sim", model = "gpt-4o" }]
[[routes]]
name = "limited"
targets = [{ provider = "sim", model = "always-429" }, { provider = "sim", model = "always-429" }]
[[routes]]
name = "slow"
targets = [{ provider = "sim", model = "hangs" }]
[[routes]]
name = "broken"
targets = [{ provider = "sim", model = "always-500" }]
[[routes]]
name = "cuts"
targets = [{ provider = "sim", model = "cuts" }]
[[routes]]
name = "local"
targets = [{ provider = "sim", model = "llamacpp", price_as = "local/llama-3.1-8b-instruct" }]
[[routes]]
name = "unauthorized"
targets = [{ provider = "wrongkey", model = "gpt-4o-mini" }]
[[routes]]
name = "azure"
targets = [{ provider = "azure", model = "gpt-4o-mini" }]
[[routes]]
name = "reasoner"
targets = [{ provider = "sim", model = "gpt-5-mini" }]
[[routes]]
name = "embed"
targets = [{ provider = "sim", model = "text-embedding-3-small" }]
"#;

#[tokio::test]
async fn chat_answers_with_headers_cost_and_one_ledger_record() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post_with(
            "/v1/chat/completions",
            chat("chat", "Hello there").to_string().into_bytes(),
            &[
                ("x-switchyard-tags", "team=payments, env=prod"),
                ("x-switchyard-workload", "checkout"),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        a.json()["choices"][0]["message"]["content"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert_eq!(a.header("x-switchyard-route").as_deref(), Some("chat"));
    assert_eq!(a.header("x-switchyard-provider").as_deref(), Some("sim"));
    assert_eq!(
        a.header("x-switchyard-model").as_deref(),
        Some("gpt-4o-mini")
    );
    let overhead: u64 = a
        .header("x-switchyard-overhead-us")
        .unwrap()
        .parse()
        .unwrap();
    assert!(overhead < 1_000_000);
    let cost = a.header("x-switchyard-cost-usd").unwrap();
    let id = a.header("x-switchyard-request-id").unwrap();

    let recs = h.finish().await;
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.request_id, id);
    assert_eq!(
        r.workload.as_deref(),
        Some("checkout"),
        "the header overrides the route's workload"
    );
    assert_eq!(
        r.tags,
        vec![
            ("team".to_string(), "payments".to_string()),
            ("env".to_string(), "prod".to_string())
        ]
    );
    assert_eq!(
        r.team.as_deref(),
        Some("payments"),
        "the team tag attributes the request"
    );
    assert_eq!(r.cost_usd.unwrap().to_string(), cost);
    assert!(
        r.price_version
            .as_deref()
            .unwrap()
            .starts_with("openai/gpt-4o-mini@")
    );
    assert!(r.usage.input > 0 && r.usage.output > 0 && !r.usage_estimated);
    assert_eq!(r.overhead_us, overhead);
}

#[tokio::test]
async fn unknown_fields_pass_through_and_model_is_rewritten() {
    let h = start(SIM, GATEWAY).await;
    let body = json!({"model": "chat", "messages": [{"role": "user", "content": "hi", "x_note": {"a": [1, "é"]}}],
        "top_k": 40, "metadata": {"k": "v"}, "seed": 3});
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json()["system_fingerprint"],
        "fp_sim",
        "response fields pass back untouched"
    );
    let upstream: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
    assert_eq!(upstream["model"], "gpt-4o-mini");
    assert_eq!(upstream["top_k"], 40);
    assert_eq!(upstream["messages"][0]["x_note"], json!({"a": [1, "é"]}));
    assert!(
        upstream.get("stream_options").is_none(),
        "non-streamed requests are not given stream_options"
    );
    let recs = h.finish().await;
    assert_eq!(
        recs[0].workload.as_deref(),
        Some("support"),
        "route default workload"
    );
    assert!(recs[0].features.contains("param:top_k"));
}

#[tokio::test]
async fn falls_back_past_connect_errors_and_5xx_recording_every_attempt() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post("/v1/chat/completions", &chat("fallback", "hi"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("x-switchyard-model").as_deref(), Some("gpt-4o"));
    let recs = h.finish().await;
    let outcomes: Vec<_> = recs[0].attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [
            AttemptOutcome::Connect,
            AttemptOutcome::ServerError,
            AttemptOutcome::Ok
        ]
    );
    assert_eq!(recs[0].attempts[1].status, Some(500));
}

#[tokio::test]
async fn all_targets_rate_limited_gives_429_with_retry_after() {
    let h = start(SIM, GATEWAY).await;
    let a = h.post("/v1/chat/completions", &chat("limited", "hi")).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after").as_deref(), Some("7"));
    assert_eq!(a.json()["error"]["code"], "rate_limit_exceeded");
    let recs = h.finish().await;
    assert_eq!(recs[0].status, 429);
    // Retry-After (7 s) is longer than the route's max_retry_after (5 s by default): no retry
    // round, the client gets the 429 and decides.
    assert_eq!(recs[0].attempts.len(), 2);
}

#[tokio::test]
async fn upstream_failures_map_to_502_and_504_summarising_attempts() {
    let h = start(SIM, GATEWAY).await;
    let a = h.post("/v1/chat/completions", &chat("broken", "hi")).await;
    assert_eq!(a.status, 502);
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("sim/always-500") && msg.contains("HTTP 500"),
        "{msg}"
    );
    let a = h.post("/v1/chat/completions", &chat("slow", "hi")).await;
    assert_eq!(a.status, 504, "{}", a.text());
    assert_eq!(a.json()["error"]["code"], "upstream_timeout");
    let recs = h.finish().await;
    let classes: Vec<_> = recs
        .iter()
        .map(|r| r.error_class.clone().unwrap())
        .collect();
    assert_eq!(classes, ["upstream_error", "upstream_timeout"]);
}

#[tokio::test]
async fn bad_requests_get_openai_errors_naming_the_field_and_are_recorded() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post_with("/v1/chat/completions", b"{not json".to_vec(), &[])
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["type"], "invalid_request_error");
    let a = h.post("/v1/chat/completions", &json!({"model": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": 9})).await;
    assert_eq!(
        (a.status, a.json()["error"]["param"].as_str()),
        (400, Some("temperature"))
    );
    let a = h.post("/v1/chat/completions", &chat("nope", "x")).await;
    assert_eq!(a.status, 404);
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("fallback") && msg.contains("embed"),
        "lists the valid routes: {msg}"
    );
    let a = h
        .post_with("/v1/chat/completions", vec![b' '; 5000], &[])
        .await;
    assert_eq!(a.status, 413);
    assert_eq!(a.json()["error"]["code"], "request_too_large");
    let a = h.post("/v1/nothing", &json!({})).await;
    assert_eq!(a.status, 404);
    let recs = h.finish().await;
    let statuses: Vec<_> = recs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 400, 404, 413]);
}

#[tokio::test]
async fn secrets_never_reach_the_client_or_the_ledger() {
    let h = start(SIM, GATEWAY).await;
    // The sim echoes a presented key in its 401; this route sends none, the Azure one sends
    // the real key in `api-key` and succeeds.
    let a = h
        .post("/v1/chat/completions", &chat("unauthorized", "hi"))
        .await;
    assert_eq!(
        a.status, 502,
        "the gateway's own credentials failing is not the client's 401"
    );
    let a = h.post("/v1/chat/completions", &chat("azure", "hi")).await;
    assert_eq!(
        a.status,
        200,
        "azure deployment URL and api-key header work: {}",
        a.text()
    );
    let stats = h.get(&format!("{}/sim/stats", h.sim)).await.json();
    assert_eq!(
        stats["prod-mini"], 1,
        "the deployment name is used: {stats}"
    );
    let ledger = h.ledger.clone();
    let recs = h.finish().await;
    assert_eq!(recs.len(), 2);
    let dump = std::fs::read(&ledger).unwrap();
    let hay = String::from_utf8_lossy(&dump);
    assert!(!hay.contains(SECRET));
    assert!(
        recs.iter()
            .all(|r| !serde_json::to_string(r).unwrap().contains(SECRET))
    );
}

#[tokio::test]
async fn upstream_error_echoing_the_key_is_scrubbed() {
    let sim = SIM.replace(
        "api_key = \"sk-test-secret-0123456789\"",
        "api_key = \"something-else\"",
    );
    let h = start(&sim, GATEWAY).await;
    let a = h.post("/v1/chat/completions", &chat("chat", "hi")).await;
    assert_eq!(a.status, 502);
    assert!(a.text().contains("HTTP 401"), "{}", a.text());
    assert!(!a.text().contains(SECRET), "{}", a.text());
    assert!(a.text().contains("[redacted]"), "{}", a.text());
    let recs = h.finish().await;
    assert!(!serde_json::to_string(&recs).unwrap().contains(SECRET));
}

#[tokio::test]
async fn stream_is_forwarded_without_the_usage_chunk_the_client_did_not_ask_for() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("chat", "Tell me a story");
    body["stream"] = json!(true);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    let data = sse_data(&a.text());
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| !c["choices"].as_array().unwrap().is_empty()),
        "no usage-only chunk"
    );
    let upstream: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
    assert_eq!(
        upstream["stream_options"]["include_usage"], true,
        "usage was requested upstream"
    );
    let recs = h.finish().await;
    let r = &recs[0];
    assert!(r.streamed && !r.usage_estimated && r.usage.output > 0);
    assert!(r.ttft_ms.is_some() && r.cost_usd.is_some());
}

#[tokio::test]
async fn stream_with_include_usage_keeps_the_usage_chunk() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("chat", "Tell me a story");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let a = h.post("/v1/chat/completions", &body).await;
    let data = sse_data(&a.text());
    let last: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    assert!(last["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    h.finish().await;
}

#[tokio::test]
async fn mid_stream_disconnect_ends_with_an_error_event_and_is_recorded() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("cuts", "Tell me a long story");
    body["stream"] = json!(true);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200);
    let data = sse_data(&a.text());
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "upstream_stream_error");
    let recs = h.finish().await;
    assert_eq!(recs[0].error_class.as_deref(), Some("stream_error"));
    assert_eq!(recs[0].attempts[0].outcome, AttemptOutcome::StreamError);
    assert!(
        recs[0].usage_estimated,
        "no usage arrived, so it was counted"
    );
}

#[tokio::test]
async fn missing_usage_is_counted_with_a_tokenizer_and_marked_estimated() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post(
            "/v1/chat/completions",
            &chat("local", "Count these words please"),
        )
        .await;
    assert_eq!(a.status, 200);
    assert!(a.json().get("usage").is_none());
    let mut body = chat("local", "Stream please");
    body["stream"] = json!(true);
    let s = h.post("/v1/chat/completions", &body).await;
    assert_eq!(s.status, 200);
    let recs = h.finish().await;
    for r in &recs {
        assert!(r.usage_estimated);
        assert!(r.usage.input >= 4 && r.usage.output > 0, "{:?}", r.usage);
        assert_eq!(
            r.cost_usd.unwrap().to_string(),
            "0",
            "priced as a local model"
        );
    }
}

#[tokio::test]
async fn embeddings_and_models_list() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post(
            "/v1/embeddings",
            &json!({"model": "embed", "input": ["a", "b"], "dimensions": 8}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        a.json()["data"][1]["embedding"].as_array().unwrap().len(),
        8
    );
    let m = h.get(&format!("{}/v1/models", h.base)).await.json();
    let ids: Vec<_> = m["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"chat".to_string()) && ids.contains(&"embed".to_string()));
    let ready = h.get(&format!("{}/readyz", h.base)).await;
    assert_eq!(ready.status, 200);
    let recs = h.finish().await;
    assert_eq!(recs[0].kind, switchyard_ledger::RecordKind::Embedding);
    assert!(recs[0].usage.input > 0 && recs[0].cost_usd.is_some());
}

#[tokio::test]
async fn graceful_stop_records_every_request_even_with_a_long_flush_interval() {
    let h = start(SIM, GATEWAY).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = h.client.clone();
        let url = format!("{}/v1/chat/completions", h.base);
        tasks.push(tokio::spawn(async move {
            client
                .post_json(&url, &[], chat("chat", &format!("n{i}")).to_string())
                .await
                .unwrap()
                .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let ledger = h.ledger.clone();
    let recs = h.finish().await;
    assert_eq!(
        recs.len(),
        40,
        "flush_interval is 10 s; shutdown must commit everything"
    );
    assert_eq!(records(&ledger).len(), 40);
}

#[tokio::test]
async fn a_stopping_gateway_is_not_ready_and_refuses_new_requests_with_503() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.begin_shutdown();
    assert_eq!(h.get(&format!("{}/readyz", h.base)).await.status, 503);
    let a = h.post("/v1/chat/completions", &chat("chat", "hi")).await;
    assert_eq!(a.status, 503);
    assert_eq!(a.header("retry-after").as_deref(), Some("1"));
    let recs = h.finish().await;
    assert_eq!(recs[0].error_class.as_deref(), Some("shutting_down"));
}

#[tokio::test]
async fn strategy_api_is_off_by_default_and_serves_spend_when_enabled() {
    let h = start(SIM, GATEWAY).await;
    assert_eq!(
        h.get(&format!("{}/v1/strategy/spend", h.base)).await.status,
        404
    );
    h.finish().await;

    let h = start(SIM, &format!("{GATEWAY}\n[strategy]\napi = true\n")).await;
    for _ in 0..3 {
        assert_eq!(
            h.post("/v1/chat/completions", &chat("chat", "hi"))
                .await
                .status,
            200
        );
    }
    h.gateway.recorder().flush();
    let a = h
        .get(&format!("{}/v1/strategy/spend?by=provider", h.base))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!(v["rows"][0]["key"], "sim");
    assert_eq!(v["rows"][0]["requests"], 3);
    // Money as in the CLI's --json: totals to the cent, per-request figures to 6 decimals.
    let decimals = |s: &serde_json::Value| {
        s.as_str()
            .and_then(|s| s.split_once('.'))
            .map(|(_, f)| f.len())
    };
    assert_eq!(decimals(&v["total_cost"]), Some(2), "{v}");
    assert_eq!(decimals(&v["rows"][0]["cost"]), Some(2), "{v}");
    assert_eq!(decimals(&v["rows"][0]["cost_per_request"]), Some(6), "{v}");
    let bad = h
        .get(&format!("{}/v1/strategy/spend?by=color", h.base))
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown dimension")
    );
    let r = h.get(&format!("{}/v1/strategy/report", h.base)).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["workloads"].is_array());
    // The savings ledger rides along: the same "hi" three times on a route without a cache
    // is two uncached duplicates still on the table.
    let levers = &r.json()["levers"];
    assert_eq!(levers["periods"][0]["period"], "last 30 days", "{levers}");
    assert_eq!(levers["on_the_table"]["duplicates"], 2, "{levers}");
    h.finish().await;
}

#[tokio::test]
async fn cached_and_reasoning_tokens_are_priced_at_their_own_rates() {
    let h = start(
        SIM,
        &GATEWAY.replace("max_body_bytes = 4096", "max_body_bytes = 65536"),
    )
    .await;
    // ~1,250 prompt tokens: asked twice, the sim serves the second from its prompt cache (in
    // 128-token steps from 1024), and reports reasoning tokens for gpt-5 models.
    let long = "Summarise the refund policy for enterprise customers in detail. ".repeat(75);
    for _ in 0..2 {
        let a = h
            .post("/v1/chat/completions", &chat("reasoner", &long))
            .await;
        assert_eq!(a.status, 200, "{}", a.text());
    }
    let mut recs = h.finish().await;
    recs.sort_by_key(|r| r.ts);
    let recs = &recs[1..];
    let u = recs[0].usage;
    assert!(
        u.cached_input >= 512 && u.reasoning > 0 && u.output > 0,
        "{u:?}"
    );
    let catalog = switchyard_catalog::Catalog::bundled().unwrap();
    let p = catalog
        .get("openai", "gpt-5-mini")
        .unwrap()
        .price_at(recs[0].ts.date_naive())
        .clone();
    let per_m = |tokens: u64, price: switchyard_primitives::Money| {
        price.decimal() * rust_decimal::Decimal::from(tokens)
            / rust_decimal::Decimal::from(1_000_000)
    };
    let expected = per_m(u.input, p.input)
        + per_m(u.cached_input, p.cached_input.unwrap())
        + per_m(u.output, p.output)
        + per_m(u.reasoning, p.reasoning.unwrap_or(p.output));
    assert_eq!(
        recs[0].cost_usd.unwrap().decimal().normalize(),
        expected.normalize()
    );
    assert!(
        p.cached_input.unwrap() < p.input,
        "the cached rate is the cheaper one"
    );
}
