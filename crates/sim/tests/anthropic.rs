//! The Anthropic Messages simulator, driven through the router in-process.

mod support;

use axum::Router;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Reply, config_with, post, send};
use switchyard_sim::{SimConfig, router};

const V: (&str, &str) = ("anthropic-version", "2023-06-01");

async fn messages(app: &Router, body: Value) -> Reply {
    send(app, post("/v1/messages", &[V], &body)).await
}

fn hello(model: &str) -> Value {
    json!({"model": model, "max_tokens": 64,
        "messages": [{"role": "user", "content": "Say hello to the team."}]})
}

fn weather_tools() -> Value {
    json!([
        {"name": "get_weather", "description": "Weather for a city",
         "input_schema": {"type": "object", "properties": {"city": {"type": "string"},
            "days": {"type": "integer"}}, "required": ["city"]}},
        {"name": "get_time", "description": "Local time",
         "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}}}
    ])
}

/// Event names and data payloads of an SSE body.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let line = |prefix: &str| {
                f.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .unwrap_or_else(|| panic!("no {prefix:?} in frame {f:?}"))
                    .to_string()
            };
            let data = serde_json::from_str(&line("data: "))
                .unwrap_or_else(|e| panic!("bad data in frame {f:?}: {e}"));
            (line("event: "), data)
        })
        .collect()
}

#[tokio::test]
async fn text_answer_has_the_message_shape() {
    let app = router(SimConfig::instant());
    let r = messages(&app, hello("claude-sonnet-4-5")).await;
    assert_eq!(r.status, 200);
    let m = r.json();
    assert!(m["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(
        (m["type"].as_str(), m["role"].as_str()),
        (Some("message"), Some("assistant"))
    );
    assert_eq!(m["model"], "claude-sonnet-4-5");
    assert_eq!(m["content"][0]["type"], "text");
    assert!(!m["content"][0]["text"].as_str().unwrap().is_empty());
    assert!(["end_turn", "max_tokens"].contains(&m["stop_reason"].as_str().unwrap()));
    assert!(m["stop_sequence"].is_null());
    let u = &m["usage"];
    assert!(u["input_tokens"].as_u64().unwrap() > 0 && u["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(u["cache_creation_input_tokens"], 0);
    assert_eq!(u["cache_read_input_tokens"], 0);
    assert_eq!(u["cache_creation"]["ephemeral_5m_input_tokens"], 0);
    assert_eq!(u["cache_creation"]["ephemeral_1h_input_tokens"], 0);
}

#[tokio::test]
async fn headers_and_required_fields_are_checked() {
    let app = router(SimConfig {
        api_key: Some("k".into()),
        ..SimConfig::instant()
    });
    let body = hello("m");
    let r = send(&app, post("/v1/messages", &[("x-api-key", "k")], &body)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["type"], "error");
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert!(r.json()["request_id"].is_string());
    let r = send(
        &app,
        post("/v1/messages", &[V, ("x-api-key", "nope")], &body),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["type"].as_str()),
        (401, Some("authentication_error"))
    );
    let r = send(
        &app,
        post("/v1/messages", &[V, ("authorization", "Bearer k")], &body),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn invalid_requests_are_rejected() {
    let app = router(SimConfig {
        api_key: Some("k".into()),
        ..SimConfig::instant()
    });
    let body = hello("m");
    let mut no_max = body.clone();
    no_max.as_object_mut().unwrap().remove("max_tokens");
    let r = send(
        &app,
        post("/v1/messages", &[V, ("x-api-key", "k")], &no_max),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_tokens")
    );
    let mut thinking = body.clone();
    thinking["thinking"] = json!({"type": "enabled", "budget_tokens": 4096});
    let r = send(
        &app,
        post("/v1/messages", &[V, ("x-api-key", "k")], &thinking),
    )
    .await;
    assert_eq!(r.status, 400, "budget must be below max_tokens");
    let mut five = body.clone();
    let marked = json!({"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}});
    five["messages"][0]["content"] = json!(vec![marked; 5]);
    let r = send(&app, post("/v1/messages", &[V, ("x-api-key", "k")], &five)).await;
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maximum of 4")
    );
}

#[tokio::test]
async fn tools_are_called_then_answered() {
    let app = router(SimConfig::instant());
    let mut req = hello("m");
    req["tools"] = weather_tools();
    let m = messages(&app, req.clone()).await.json();
    assert_eq!(m["stop_reason"], "tool_use");
    let call = &m["content"][0];
    assert_eq!(
        (call["type"].as_str(), call["name"].as_str()),
        (Some("tool_use"), Some("get_weather"))
    );
    assert!(call["id"].as_str().unwrap().starts_with("toolu_"));
    assert!(call["input"]["city"].is_string() && call["input"]["days"].is_i64());
    assert_eq!(m["content"].as_array().unwrap().len(), 1);
    // The tool's result comes back as a user turn: now the model answers in text.
    req["messages"].as_array_mut().unwrap().extend([
        json!({"role": "assistant", "content": [call]}),
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
            "content": "Sunny, 21C"}]}),
    ]);
    let m = messages(&app, req).await.json();
    assert_eq!(m["content"][0]["type"], "text");
    assert_ne!(m["stop_reason"], "tool_use");
}

#[tokio::test]
async fn parallel_prompts_call_the_first_two_tools() {
    let app = router(SimConfig::instant());
    let mut req = hello("m");
    req["messages"][0]["content"] = json!("Check weather and time in parallel.");
    req["tools"] = weather_tools();
    let m = messages(&app, req.clone()).await.json();
    let names: Vec<&str> = m["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["get_weather", "get_time"]);
    req["tool_choice"] = json!({"type": "auto", "disable_parallel_tool_use": true});
    assert_eq!(
        messages(&app, req).await.json()["content"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn stream_sends_the_full_event_sequence() {
    let app = router(SimConfig::instant());
    let whole = messages(&app, hello("m")).await.json();
    let mut req = hello("m");
    req["stream"] = json!(true);
    let r = messages(&app, req).await;
    assert_eq!(r.headers["content-type"], "text/event-stream");
    let ev = events(r.text());
    let deltas = ev
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .count();
    assert!(deltas > 0);
    let mut want = vec!["message_start", "content_block_start", "ping"];
    want.extend(std::iter::repeat_n("content_block_delta", deltas));
    want.extend(["content_block_stop", "message_delta", "message_stop"]);
    let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, want);
    for (name, data) in &ev {
        assert_eq!(data["type"], name.as_str());
    }
    let text: String = ev
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, whole["content"][0]["text"].as_str().unwrap());
    assert!(
        ev[0].1["message"]["usage"]["input_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    let end = &ev[ev.len() - 2].1;
    assert_eq!(end["delta"]["stop_reason"], whole["stop_reason"]);
    assert_eq!(
        end["usage"]["output_tokens"],
        whole["usage"]["output_tokens"]
    );
}

#[tokio::test]
async fn stream_of_thinking_then_tool_use() {
    let app = router(SimConfig::instant());
    let mut req = hello("m");
    req["tools"] = weather_tools();
    req["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    req["max_tokens"] = json!(2048);
    req["stream"] = json!(true);
    let ev = events(messages(&app, req).await.text());
    let starts: Vec<&str> = ev
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| d["content_block"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["thinking", "tool_use"]);
    let kinds: Vec<&str> = ev
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, d)| d["delta"]["type"].as_str().unwrap())
        .collect();
    let first_json = kinds.iter().position(|k| *k == "input_json_delta").unwrap();
    assert_eq!(kinds[first_json - 1], "signature_delta");
    assert!(
        kinds[..first_json - 1]
            .iter()
            .all(|k| *k == "thinking_delta")
    );
    let json: String = ev
        .iter()
        .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
        .collect();
    let input: Value = serde_json::from_str(&json).unwrap();
    assert!(input["city"].is_string());
    assert_eq!(ev.iter().filter(|(n, _)| n == "ping").count(), 1);
    assert_eq!(ev[ev.len() - 2].1["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn cache_writes_a_prefix_then_reads_it() {
    let app = router(SimConfig::instant());
    let long = "Company policy: be precise and cite the ledger. ".repeat(100);
    let mut req = hello("m");
    // Too short a prefix is not cached at all.
    req["system"] =
        json!([{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]);
    let short = messages(&app, req.clone()).await.json()["usage"].clone();
    assert_eq!(short["cache_creation_input_tokens"], 0);
    req["system"] = json!([{"type": "text", "text": long, "cache_control": {"type": "ephemeral"}}]);
    let first = messages(&app, req.clone()).await.json()["usage"].clone();
    let written = first["cache_creation_input_tokens"].as_u64().unwrap();
    assert!(written > 1000, "{first}");
    assert_eq!(first["cache_read_input_tokens"], 0);
    assert_eq!(
        first["cache_creation"]["ephemeral_5m_input_tokens"],
        written
    );
    req["messages"][0]["content"] = json!("A different question now.");
    let second = messages(&app, req.clone()).await.json()["usage"].clone();
    assert_eq!(second["cache_read_input_tokens"], written);
    assert_eq!(second["cache_creation_input_tokens"], 0);
    assert!(second["input_tokens"].as_u64().unwrap() < 20);
    // A one-hour breakpoint on a new prefix is written to the 1h bucket.
    req["system"][0]["text"] = json!(format!("{long} v2"));
    req["system"][0]["cache_control"]["ttl"] = json!("1h");
    let third = messages(&app, req).await.json()["usage"].clone();
    assert_eq!(
        third["cache_creation"]["ephemeral_1h_input_tokens"],
        third["cache_creation_input_tokens"]
    );
    assert_eq!(third["cache_creation"]["ephemeral_5m_input_tokens"], 0);
}

#[tokio::test]
async fn thinking_comes_first_and_counts_as_output() {
    let app = router(SimConfig::instant());
    let mut req = hello("m");
    req["max_tokens"] = json!(4096);
    let plain = messages(&app, req.clone()).await.json();
    req["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let m = messages(&app, req).await.json();
    let thinking = &m["content"][0];
    assert_eq!(thinking["type"], "thinking");
    assert!(!thinking["thinking"].as_str().unwrap().is_empty());
    assert!(!thinking["signature"].as_str().unwrap().is_empty());
    assert_eq!(m["content"][1]["type"], "text");
    assert!(m["usage"]["output_tokens"].as_u64() > plain["usage"]["output_tokens"].as_u64());
}

#[tokio::test]
async fn stop_sequences_end_the_answer() {
    let app = router(SimConfig::instant());
    let full = messages(&app, hello("m")).await.json();
    let text = full["content"][0]["text"].as_str().unwrap().to_string();
    let word = format!(" {}", text.split(' ').nth(2).unwrap());
    let mut req = hello("m");
    req["stop_sequences"] = json!([word]);
    let m = messages(&app, req).await.json();
    assert_eq!(
        (m["stop_reason"].as_str(), m["stop_sequence"].as_str()),
        (Some("stop_sequence"), Some(word.as_str()))
    );
}

async fn fault(model: &str, tweak: impl FnOnce(&mut switchyard_sim::Behaviour)) -> Reply {
    let app = router(config_with(model, tweak));
    messages(&app, hello(model)).await
}

#[tokio::test]
async fn faults_use_anthropic_errors() {
    let r = fault("m", |b| {
        b.rate_429 = 1.0;
        b.retry_after_s = 7;
    })
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(r.json()["error"]["type"], "rate_limit_error");
    let r = fault("m", |b| b.error_rate = 1.0).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["type"].as_str()),
        (500, Some("api_error"))
    );
    let r = fault("claude-overloaded", |b| b.error_rate = 1.0).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["type"].as_str()),
        (529, Some("overloaded_error"))
    );
    let r = fault("m", |b| b.omit_usage = true).await;
    assert!(r.json()["usage"]["output_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn timeouts_hold_the_request() {
    let app = router(config_with("m", |b| b.timeout_rate = 1.0));
    let held = tokio::time::timeout(Duration::from_millis(200), messages(&app, hello("m"))).await;
    assert!(held.is_err());
}

#[tokio::test]
async fn disconnects_cut_the_stream() {
    let app = router(config_with("m", |b| b.disconnect_rate = 1.0));
    let mut req = hello("m");
    req["stream"] = json!(true);
    let r = messages(&app, req).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_err());
}
