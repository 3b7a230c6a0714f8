//! Streams translated through canonical stream events (issue #15's hub): an Anthropic client
//! on a Gemini target gets Anthropic's event sequence — thinking, then tool calls — rendered
//! once from Gemini's chunks, with the reasoning tokens, first-output time and the client's
//! model name intact; an OpenAI client on the same target gets OpenAI chunks from the same
//! reader.

mod common;

use common::{sse_data, start};
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
"#;

fn tools() -> Value {
    json!([{"name": "get_weather", "input_schema": {"type": "object",
        "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
}

#[tokio::test]
async fn an_anthropic_client_on_gemini_gets_thinking_then_tool_use_blocks_rendered_once() {
    let h = start(SIM, GATEWAY).await;
    let ask = json!({"model": "g3", "max_tokens": 1024, "stream": true,
        "tool_choice": {"type": "any"}, "tools": tools(),
        "thinkingConfig": {"includeThoughts": true},
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}]});
    let a = h.post("/v1/messages", &ask).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let body = a.text();
    assert!(!body.contains("chat.completion.chunk") && !body.contains("[DONE]"));
    let events: Vec<Value> = sse_data(&body)
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let starts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "content_block_start")
        .map(|e| e["content_block"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(starts.first(), Some(&"thinking"), "{starts:?}");
    assert!(starts.contains(&"tool_use"), "{starts:?}");
    assert_eq!(
        events[0]["message"]["model"], "g3",
        "the client's model name"
    );
    let delta = &events[events.len() - 2];
    assert_eq!(delta["type"], "message_delta");
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    let thinking = delta["usage"]["output_tokens_details"]["thinking_tokens"]
        .as_u64()
        .unwrap();
    assert!(thinking > 0, "{delta}");
    assert_eq!(events.last().unwrap()["type"], "message_stop");
    let recs = h.finish().await;
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert!(
        r.streamed && !r.usage_estimated && r.error_class.is_none(),
        "{r:?}"
    );
    assert_eq!(
        r.usage.reasoning, thinking,
        "the ledger keeps the reasoning tokens"
    );
    assert!(r.usage.output > 0 && r.usage.input > 0, "{r:?}");
    assert!(
        r.ttft_ms.is_some(),
        "first output seen in the rendered stream"
    );
}

#[tokio::test]
async fn an_openai_client_on_gemini_gets_chunks_and_no_usage_chunk_it_did_not_ask_for() {
    let h = start(SIM, GATEWAY).await;
    for wants_usage in [false, true] {
        let mut ask = json!({"model": "g3", "stream": true,
            "messages": [{"role": "user", "content": "Hello there"}]});
        if wants_usage {
            ask["stream_options"] = json!({"include_usage": true});
        }
        let a = h.post("/v1/chat/completions", &ask).await;
        assert_eq!(a.status, 200, "{}", a.text());
        let data = sse_data(&a.text());
        assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
        let chunks: Vec<Value> = data[..data.len() - 1]
            .iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        assert!(
            chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk")
        );
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let usage_chunks = chunks.iter().filter(|c| c["usage"].is_object()).count();
        assert_eq!(usage_chunks, usize::from(wants_usage), "{chunks:?}");
    }
    let recs = h.finish().await;
    assert!(
        recs.iter()
            .all(|r| !r.usage_estimated && r.usage.output > 0)
    );
}
