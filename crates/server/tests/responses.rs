//! OpenAI Responses API clients (`POST /v1/responses`) reaching a Responses-speaking OpenAI
//! target (passthrough, byte-preserving) and chat-dialect targets (OpenAI-compatible,
//! Anthropic, Gemini) by translation, whole and streamed; errors in OpenAI's shape.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::start;
use serde_json::{Value, json};
use switchyard_ledger::RecordKind;

const SIM: &str = "seed = 9\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.openai]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
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
name = "native"
targets = [{ provider = "openai", model = "gpt-4o-mini" }]
[[routes]]
name = "via-chat"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes]]
name = "via-anthropic"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "via-gemini"
targets = [{ provider = "google", model = "gemini-2.5-flash" }]
"#;

const TRANSLATED: [&str; 3] = ["via-chat", "via-anthropic", "via-gemini"];

/// (event name, data) of every frame of an SSE body.
fn frames(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let event = f
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_default();
            let data = f.lines().find_map(|l| l.strip_prefix("data: "));
            let data = data.map_or(Value::Null, |d| {
                serde_json::from_str(d).unwrap_or(Value::Null)
            });
            (event.to_string(), data)
        })
        .collect()
}

fn output_text(v: &Value) -> String {
    v["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "message")
        .flat_map(|i| i["content"].as_array().unwrap().iter())
        .filter_map(|p| p["text"].as_str())
        .collect()
}

#[tokio::test]
async fn every_target_answers_in_the_responses_shape_and_the_ledger_says_responses() {
    let h = start(SIM, GATEWAY).await;
    for route in ["native"].into_iter().chain(TRANSLATED) {
        let body = json!({"model": route, "instructions": "Be brief.", "input": "Hello there", "max_output_tokens": 50});
        let a = h.post("/v1/responses", &body).await;
        assert_eq!(a.status, 200, "{route}: {}", a.text());
        let v = a.json();
        assert_eq!(v["object"], "response", "{route}");
        assert_eq!(v["status"], "completed", "{route}");
        assert!(!output_text(&v).is_empty(), "{route}: {v}");
        assert!(v["usage"]["input_tokens"].as_u64().unwrap() > 0, "{route}");
        assert!(
            v["usage"]["input_tokens_details"]["cached_tokens"].is_u64(),
            "{route}"
        );
    }
    let recs = h.finish().await;
    assert_eq!(recs.len(), 4);
    assert!(
        recs.iter()
            .all(|r| r.kind == RecordKind::Responses && r.status == 200)
    );
    assert!(recs.iter().all(|r| r.usage.input > 0 && !r.usage_estimated));
}

#[tokio::test]
async fn the_native_passthrough_sends_the_body_with_only_model_rewritten() {
    let h = start(SIM, GATEWAY).await;
    let sent = br#"{"model":"native","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"tools":[{"type":"web_search"}],"vendor_x":{"keep":1.50}}"#;
    let a = h.post_with("/v1/responses", sent.to_vec(), &[]).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let last = h.get(&format!("{}/sim/last", h.sim)).await.text();
    assert_eq!(
        last,
        r#"{"model":"gpt-4o-mini","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"tools":[{"type":"web_search"}],"vendor_x":{"keep":1.50}}"#
    );
    assert!(a.json()["id"].as_str().unwrap().starts_with("resp_sim"));
    h.finish().await;
}

#[tokio::test]
async fn translated_streams_emit_the_typed_event_sequence() {
    let h = start(SIM, GATEWAY).await;
    for route in ["native"].into_iter().chain(TRANSLATED) {
        let body =
            json!({"model": route, "input": "Stream me", "stream": true, "max_output_tokens": 40});
        let a = h.post("/v1/responses", &body).await;
        assert_eq!(a.status, 200, "{route}: {}", a.text());
        let f = frames(&a.text());
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "response.created", "{route}: {names:?}");
        assert_eq!(names[1], "response.in_progress", "{route}");
        assert!(
            names.contains(&"response.output_text.delta"),
            "{route}: {names:?}"
        );
        assert_eq!(
            *names.last().unwrap(),
            "response.completed",
            "{route}: {names:?}"
        );
        for (i, (_, d)) in f.iter().enumerate() {
            assert_eq!(d["sequence_number"], i as u64, "{route}");
        }
        let done = &f.last().unwrap().1["response"];
        let deltas: String = f
            .iter()
            .filter(|(n, _)| n == "response.output_text.delta")
            .map(|(_, d)| d["delta"].as_str().unwrap())
            .collect();
        assert_eq!(output_text(done), deltas, "{route}");
        assert!(
            done["usage"]["output_tokens"].as_u64().unwrap() > 0,
            "{route}"
        );
    }
    let recs = h.finish().await;
    assert!(
        recs.iter()
            .all(|r| r.streamed && r.usage.completion_total() > 0),
        "{recs:?}"
    );
}

#[tokio::test]
async fn a_function_call_round_trip_works_on_every_target() {
    let h = start(SIM, GATEWAY).await;
    let tools = json!([{"type": "function", "name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    for route in ["native"].into_iter().chain(TRANSLATED) {
        let first =
            json!({"model": route, "input": "Weather in Oslo?", "tools": tools, "store": false});
        let v = h.post("/v1/responses", &first).await.json();
        let call = v["output"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["type"] == "function_call")
            .unwrap_or_else(|| panic!("{route}: {v}"))
            .clone();
        assert_eq!(call["name"], "get_weather", "{route}");
        let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
        assert!(args["city"].is_string(), "{route}: {args}");
        let second = json!({"model": route, "tools": tools, "store": false, "input": [
            {"role": "user", "content": "Weather in Oslo?"},
            call,
            {"type": "function_call_output", "call_id": call["call_id"], "output": "{\"temp\":3}"}
        ]});
        let a = h.post("/v1/responses", &second).await;
        assert_eq!(a.status, 200, "{route}: {}", a.text());
        assert!(!output_text(&a.json()).is_empty(), "{route}: {}", a.text());
    }
    h.finish().await;
}

#[tokio::test]
async fn bad_input_gets_a_400_in_openai_shape_naming_the_field() {
    let h = start(SIM, GATEWAY).await;
    let cases = [
        (
            json!({"model": "via-chat", "input": [{"type": "bogus"}]}),
            "input[0].type",
        ),
        (
            json!({"model": "via-chat", "input": [{"type": "function_call_output", "call_id": "call_nope", "output": "1"}]}),
            "input",
        ),
        (
            json!({"model": "via-chat", "input": [{"role": "user", "content": [{"type": "input_text"}]}]}),
            "input[0].content[0].text",
        ),
        (json!({"model": "via-chat"}), "input"),
    ];
    for (body, param) in cases {
        let a = h.post("/v1/responses", &body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text());
        let e = &a.json()["error"];
        assert_eq!(e["type"], "invalid_request_error", "{body}");
        assert_eq!(e["param"], param, "{body}: {e}");
    }
    // A built-in tool is passed through to OpenAI but refused, by name, by a chat target.
    for route in TRANSLATED {
        let body = json!({"model": route, "input": "x", "tools": [{"type": "file_search"}]});
        let a = h.post("/v1/responses", &body).await;
        assert_eq!(a.status, 400, "{route}: {}", a.text());
        assert!(a.text().contains("file_search"), "{route}: {}", a.text());
    }
    h.finish().await;
}

/// `reasoning.effort` on a Gemini target becomes the thinking budget Google documents for it;
/// a client's own `thinkingConfig` wins; an effort with no documented budget sets none.
#[tokio::test]
async fn reasoning_effort_becomes_a_gemini_thinking_budget() {
    let h = start(SIM, GATEWAY).await;
    let cases = [
        (
            json!({"reasoning": {"effort": "high"}}),
            json!({"thinkingBudget": 24576}),
        ),
        (
            json!({"reasoning": {"effort": "none"}}),
            json!({"thinkingBudget": 0}),
        ),
        (json!({"reasoning": {"effort": "minimal"}}), Value::Null),
        (
            json!({"reasoning": {"effort": "low"}, "thinkingConfig": {"thinkingBudget": 77}}),
            json!({"thinkingBudget": 77}),
        ),
    ];
    for (extra, expected) in cases {
        let mut body = json!({"model": "via-gemini", "input": "Think", "store": false});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let a = h.post("/v1/responses", &body).await;
        assert_eq!(a.status, 200, "{extra}: {}", a.text());
        let last: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
        assert_eq!(
            last["generationConfig"]["thinkingConfig"], expected,
            "{extra}: {last}"
        );
    }
    h.finish().await;
}
