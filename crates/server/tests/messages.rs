//! Anthropic-dialect clients (`POST /v1/messages`) reaching OpenAI-, Anthropic- and
//! Gemini-dialect targets through the same route table.

mod common;

use common::start;
use serde_json::{Value, json};

const SIM: &str = "seed = 9\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.\"always-500\"]\nerror_rate = 1.0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.oai]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[providers.google]
kind = "gemini"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "via-openai"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes]]
name = "via-anthropic"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "via-gemini"
targets = [{ provider = "google", model = "gemini-2.5-flash" }]
[[routes]]
name = "via-openai-lenient"
allow_drop = ["top_k"]
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes]]
name = "broken"
targets = [{ provider = "oai", model = "always-500" }]
"#;

const ROUTES: [&str; 3] = ["via-openai", "via-anthropic", "via-gemini"];

fn message(route: &str, text: &str) -> Value {
    json!({"model": route, "max_tokens": 200, "system": "Be brief.", "messages": [{"role": "user", "content": text}]})
}

/// (event name, data) of every frame of an Anthropic SSE body.
fn frames(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let event = f
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_default()
                .to_string();
            let data = f
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map_or(Value::Null, |d| {
                    serde_json::from_str(d).unwrap_or(Value::Null)
                });
            (event, data)
        })
        .collect()
}

#[tokio::test]
async fn every_target_dialect_answers_in_anthropic_shape() {
    let h = start(SIM, GATEWAY).await;
    for route in ROUTES {
        let a = h.post("/v1/messages", &message(route, "Hello there")).await;
        assert_eq!(a.status, 200, "{route}: {}", a.text());
        let v = a.json();
        assert_eq!(v["type"], "message", "{route}");
        // Translated answers echo the client's model name; an Anthropic target's answer is
        // passed through untouched, with the upstream's.
        let model = if route == "via-anthropic" {
            "claude-sonnet-4-5"
        } else {
            route
        };
        assert_eq!(v["model"], model, "{route}");
        assert!(
            v["id"].as_str().unwrap().starts_with("msg_")
                && !v["id"].as_str().unwrap().starts_with("msg_msg_"),
            "{route}"
        );
        assert_eq!(v["content"][0]["type"], "text", "{route}");
        assert_eq!(v["stop_reason"], "end_turn", "{route}");
        assert!(v["usage"]["output_tokens"].as_u64().unwrap() > 0, "{route}");
    }
    let recs = h.finish().await;
    assert_eq!(recs.len(), 3);
    assert!(
        recs.iter()
            .all(|r| r.cost_usd.is_some() && !r.usage_estimated)
    );
}

#[tokio::test]
async fn streams_follow_anthropics_event_order_on_every_target() {
    let h = start(SIM, GATEWAY).await;
    for route in ROUTES {
        let mut body = message(route, "Tell me a story");
        body["stream"] = json!(true);
        let a = h.post("/v1/messages", &body).await;
        assert_eq!(a.status, 200, "{route}");
        let f = frames(&a.text());
        let names: Vec<&str> = f.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(names.first(), Some(&"message_start"), "{route}: {names:?}");
        assert_eq!(
            &names[names.len() - 2..],
            ["message_delta", "message_stop"],
            "{route}: {names:?}"
        );
        assert!(
            names.contains(&"content_block_start") && names.contains(&"content_block_stop"),
            "{route}: {names:?}"
        );
        for (e, d) in &f {
            assert_eq!(
                d["type"].as_str(),
                Some(e.as_str()),
                "{route}: every data carries its event's type"
            );
        }
        let delta = &f[f.len() - 2].1;
        assert_eq!(delta["delta"]["stop_reason"], "end_turn", "{route}");
        assert!(
            delta["usage"]["output_tokens"].as_u64().unwrap() > 0,
            "{route}"
        );
    }
    let recs = h.finish().await;
    assert!(
        recs.iter().all(|r| r.streamed && r.usage.output > 0),
        "{recs:?}"
    );
}

#[tokio::test]
async fn tools_round_trip_in_anthropic_blocks() {
    let h = start(SIM, GATEWAY).await;
    let tools = json!([{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    for route in ROUTES {
        let mut body = message(route, "Weather in Paris?");
        body["tools"] = tools.clone();
        let v = h.post("/v1/messages", &body).await.json();
        assert_eq!(v["stop_reason"], "tool_use", "{route}: {v}");
        let call = v["content"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "tool_use")
            .unwrap()
            .clone();
        assert_eq!(call["name"], "get_weather", "{route}");
        assert!(call["input"]["city"].is_string(), "{route}");
        let follow = json!({"model": route, "max_tokens": 200, "tools": tools, "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [call.clone()]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "18 C"}]}
        ]});
        let v = h.post("/v1/messages", &follow).await.json();
        assert_eq!(v["stop_reason"], "end_turn", "{route}: {v}");
        assert_eq!(v["content"][0]["type"], "text", "{route}");
    }
    h.finish().await;
}

#[tokio::test]
async fn errors_come_back_in_anthropics_shape() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post(
            "/v1/messages",
            &json!({"model": "via-openai", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["type"], "error");
    assert_eq!(a.json()["error"]["type"], "invalid_request_error");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_tokens")
    );
    let a = h.post("/v1/messages", &message("nope", "x")).await;
    assert_eq!(
        (a.status, a.json()["error"]["type"].as_str()),
        (404, Some("not_found_error"))
    );
    let a = h.post("/v1/messages", &message("broken", "x")).await;
    assert_eq!(
        (a.status, a.json()["error"]["type"].as_str()),
        (502, Some("api_error"))
    );
    assert!(a.header("request-id").is_some());
    h.finish().await;
}

#[tokio::test]
async fn count_tokens_counts_the_prompt_without_an_upstream() {
    let h = start(SIM, GATEWAY).await;
    let short = h.post("/v1/messages/count_tokens", &json!({"model": "via-openai", "messages": [{"role": "user", "content": "hello world"}]})).await;
    assert_eq!(short.status, 200, "{}", short.text());
    let long = h.post("/v1/messages/count_tokens", &json!({"model": "via-openai", "system": "Be brief.", "messages": [{"role": "user", "content": "hello world ".repeat(50)}]})).await;
    let (a, b) = (
        short.json()["input_tokens"].as_u64().unwrap(),
        long.json()["input_tokens"].as_u64().unwrap(),
    );
    // "hello world" is 2 tokens + 3 per message + 3 priming = 8; the long one is far larger.
    assert_eq!(a, 8);
    assert!(b > 100, "{b}");
    let bad = h
        .post(
            "/v1/messages/count_tokens",
            &json!({"model": "x", "messages": "nope"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.json()["type"].as_str()),
        (400, Some("error"))
    );
    h.finish().await;
}

#[tokio::test]
async fn anthropic_only_parameters_are_refused_on_openai_targets_unless_the_route_drops_them() {
    let h = start(SIM, GATEWAY).await;
    let mut body = message("via-openai", "hi");
    body["top_k"] = json!(5);
    let a = h.post("/v1/messages", &body).await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(a.json()["type"], "error");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("top_k")
    );
    body["model"] = json!("via-openai-lenient");
    let ok = h.post("/v1/messages", &body).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("x-switchyard-dropped").as_deref(), Some("top_k"));
    let upstream: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
    assert!(upstream.get("top_k").is_none());
    h.finish().await;
}
