//! Anthropic thinking signatures across Responses turns: the signature the Anthropic sim seals
//! its thinking with reaches the Responses client in the reasoning item's `encrypted_content`
//! (`swy1:<signature>`), and the next turn, sending that item back with the tool result, reaches
//! the upstream as a `thinking` block carrying the same signature, whole and streamed.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::start;
use serde_json::{Value, json};

const SIM: &str = "seed = 9\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "via-anthropic"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
"#;

/// The final response object of an SSE body (`response.completed`'s).
fn completed(body: &str) -> Value {
    body.split("\n\n")
        .filter_map(|f| f.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|d| d["type"] == "response.completed")
        .unwrap_or_else(|| panic!("no response.completed in {body}"))["response"]
        .clone()
}

fn item<'v>(output: &'v Value, kind: &str) -> &'v Value {
    output["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} item in {output}"))
}

#[tokio::test]
async fn a_thinking_signature_travels_back_to_anthropic_on_the_next_turn() {
    let h = start(SIM, GATEWAY).await;
    let tools = json!([{"type": "function", "name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let thinking = json!({"type": "enabled", "budget_tokens": 1024});
    for stream in [false, true] {
        let first = json!({"model": "via-anthropic", "input": "Weather in Oslo?", "tools": tools,
            "thinking": thinking, "store": false, "stream": stream});
        let a = h.post("/v1/responses", &first).await;
        assert_eq!(a.status, 200, "stream={stream}: {}", a.text());
        let answer = match stream {
            true => completed(&a.text()),
            false => a.json(),
        };
        let reasoning = item(&answer, "reasoning").clone();
        let sealed = reasoning["encrypted_content"].as_str().unwrap().to_string();
        let signature = sealed.strip_prefix("swy1:").unwrap().to_string();
        assert!(!signature.is_empty(), "stream={stream}: {reasoning}");
        let call = item(&answer, "function_call").clone();

        let second = json!({"model": "via-anthropic", "tools": tools, "thinking": thinking,
            "store": false, "stream": stream, "input": [
            {"role": "user", "content": "Weather in Oslo?"},
            reasoning,
            call,
            {"type": "function_call_output", "call_id": call["call_id"], "output": "{\"temp\":3}"}
        ]});
        let b = h.post("/v1/responses", &second).await;
        assert_eq!(b.status, 200, "stream={stream}: {}", b.text());
        let last: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
        let assistant = &last["messages"][1];
        assert_eq!(assistant["role"], "assistant", "{last}");
        assert_eq!(assistant["content"][0]["type"], "thinking", "{last}");
        assert_eq!(assistant["content"][0]["signature"], signature, "{last}");
        assert_eq!(assistant["content"][1]["type"], "tool_use", "{last}");
        assert_eq!(assistant["content"][1]["id"], call["call_id"], "{last}");
    }
    h.finish().await;
}
