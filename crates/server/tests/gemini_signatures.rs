//! Gemini 3 thought signatures through the gateway: OpenAI and Anthropic clients complete a
//! tool round trip against a Gemini 3 target (which signs its calls and refuses a replayed
//! call without its signature), whole and streamed, because the signature travels in the
//! tool-call id and is restored on the way back; ids a Gemini target did not sign still work.

#![expect(
    clippy::unwrap_used,
    reason = "integration tests: a failed step should fail the test loudly"
)]

mod common;

use common::{Harness, sse_data, start};
use serde_json::{Value, json};

const SIM: &str = "seed = 5\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.google]
kind = "gemini"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "g3"
targets = [{ provider = "google", model = "gemini-3.5-flash" }]
[[routes]]
name = "g25"
targets = [{ provider = "google", model = "gemini-2.5-flash" }]
"#;

/// A tool-call id every SDK keeps and Anthropic's `tool_use` id pattern accepts.
fn assert_portable(id: &str) {
    assert!(
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "{id:?} is not ^[a-zA-Z0-9_-]+$"
    );
}

/// What Gemini received last: the replayed call's part must carry a signature.
async fn replayed_signature(h: &Harness) -> Option<String> {
    let last = h.get(&format!("{}/sim/last", h.sim)).await.json();
    last["contents"]
        .as_array()?
        .iter()
        .filter(|c| c["role"] == "model")
        .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
        .find(|p| p.get("functionCall").is_some())?
        .get("thoughtSignature")?
        .as_str()
        .map(str::to_string)
}

fn openai_ask(route: &str, stream: bool) -> Value {
    json!({"model": route, "stream": stream, "tool_choice": "required",
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]})
}

/// The (id, name, arguments) of the first tool call of an OpenAI answer, whole or streamed.
fn openai_call(body: &str, stream: bool) -> (String, String, String) {
    if !stream {
        let v: Value = serde_json::from_str(body).unwrap();
        let c = &v["choices"][0]["message"]["tool_calls"][0];
        let s = |v: &Value| v.as_str().unwrap().to_string();
        return (
            s(&c["id"]),
            s(&c["function"]["name"]),
            s(&c["function"]["arguments"]),
        );
    }
    let (mut id, mut name, mut args) = (String::new(), String::new(), String::new());
    for d in sse_data(body).iter().filter(|d| *d != "[DONE]") {
        let chunk: Value = serde_json::from_str(d).unwrap();
        for c in chunk["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["index"] == 0)
        {
            id.push_str(c["id"].as_str().unwrap_or_default());
            name.push_str(c["function"]["name"].as_str().unwrap_or_default());
            args.push_str(c["function"]["arguments"].as_str().unwrap_or_default());
        }
    }
    (id, name, args)
}

async fn openai_round_trip(h: &Harness, stream: bool) {
    let ask = openai_ask("g3", stream);
    let a = h.post("/v1/chat/completions", &ask).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let (id, name, args) = openai_call(&a.text(), stream);
    assert_portable(&id);
    let mut follow = ask.clone();
    follow["tool_choice"] = json!("auto");
    let messages = follow["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": id, "type": "function", "function": {"name": name, "arguments": args}}]}));
    messages.push(json!({"role": "tool", "tool_call_id": id, "content": "{\"temp\": 18}"}));
    let b = h.post("/v1/chat/completions", &follow).await;
    assert_eq!(b.status, 200, "stream={stream}: {}", b.text());
    assert!(
        replayed_signature(h).await.is_some_and(|s| s.len() > 40),
        "the signature went back with the call"
    );
}

#[tokio::test]
async fn an_openai_client_completes_a_gemini_3_tool_round_trip_whole_and_streamed() {
    let h = start(SIM, GATEWAY).await;
    openai_round_trip(&h, false).await;
    openai_round_trip(&h, true).await;
    h.finish().await;
}

fn anthropic_ask(stream: bool) -> Value {
    json!({"model": "g3", "max_tokens": 1024, "stream": stream, "tool_choice": {"type": "any"},
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        "tools": [{"name": "get_weather", "input_schema": {"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}}]})
}

/// The assistant content of an Anthropic answer, whole or rebuilt from its events.
fn anthropic_content(body: &str, stream: bool) -> Vec<Value> {
    if !stream {
        let v: Value = serde_json::from_str(body).unwrap();
        return v["content"].as_array().unwrap().clone();
    }
    let mut blocks: Vec<(Value, String)> = Vec::new();
    for d in sse_data(body) {
        let ev: Value = serde_json::from_str(&d).unwrap();
        match ev["type"].as_str().unwrap_or_default() {
            "content_block_start" => blocks.push((ev["content_block"].clone(), String::new())),
            "content_block_delta" => {
                let (block, json) = blocks.last_mut().unwrap();
                match ev["delta"]["type"].as_str().unwrap_or_default() {
                    "input_json_delta" => {
                        json.push_str(ev["delta"]["partial_json"].as_str().unwrap())
                    }
                    "text_delta" => {
                        let t = format!(
                            "{}{}",
                            block["text"].as_str().unwrap_or_default(),
                            ev["delta"]["text"].as_str().unwrap()
                        );
                        block["text"] = json!(t);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    blocks
        .into_iter()
        .map(|(mut b, json)| {
            if b["type"] == "tool_use" && !json.is_empty() {
                b["input"] = serde_json::from_str(&json).unwrap();
            }
            b
        })
        .collect()
}

async fn anthropic_round_trip(h: &Harness, stream: bool) {
    let ask = anthropic_ask(stream);
    let a = h.post("/v1/messages", &ask).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let content: Vec<Value> = anthropic_content(&a.text(), stream)
        .into_iter()
        .filter(|b| b["type"] == "tool_use" || b["type"] == "text")
        .collect();
    let call = content.iter().find(|b| b["type"] == "tool_use").unwrap();
    let id = call["id"].as_str().unwrap().to_string();
    assert_portable(&id);
    let mut follow = ask.clone();
    follow["tool_choice"] = json!({"type": "auto"});
    let messages = follow["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": content}));
    messages.push(json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": id, "content": "18 degrees"}]}));
    let b = h.post("/v1/messages", &follow).await;
    assert_eq!(b.status, 200, "stream={stream}: {}", b.text());
    assert!(replayed_signature(h).await.is_some_and(|s| s.len() > 40));
}

#[tokio::test]
async fn an_anthropic_client_completes_a_gemini_3_tool_round_trip_whole_and_streamed() {
    let h = start(SIM, GATEWAY).await;
    anthropic_round_trip(&h, false).await;
    anthropic_round_trip(&h, true).await;
    h.finish().await;
}

#[tokio::test]
async fn foreign_or_tampered_tool_call_ids_are_sent_without_a_signature() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post("/v1/chat/completions", &openai_ask("g3", false))
        .await;
    let (id, name, args) = openai_call(&a.text(), false);
    let tampered = format!("{}x", &id[..id.len() - 1]);
    for (route, call_id, status) in [
        // A foreign id on a model that does not check: fine.
        ("g25", "toolu_01A09q90qw90lq917835lq9".to_string(), 200),
        // A tampered id: no signature is restored, and Gemini 3 says so in its own words.
        ("g3", tampered, 400),
    ] {
        let mut follow = openai_ask(route, false);
        follow["tool_choice"] = json!("auto");
        let messages = follow["messages"].as_array_mut().unwrap();
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": "18"}));
        let b = h.post("/v1/chat/completions", &follow).await;
        assert_eq!(b.status, status, "{route}: {}", b.text());
        assert_eq!(replayed_signature(&h).await, None, "{route}");
        if status == 400 {
            let message = b.json()["error"]["message"].as_str().unwrap().to_string();
            assert!(message.contains("thought_signature"), "{message}");
        }
    }
    h.finish().await;
}
