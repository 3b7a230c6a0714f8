//! An OpenAI client reaching an Anthropic target: the answer, the stream, tools, prompt-cache
//! pricing and refused features, through the simulator's Anthropic Messages endpoint.

mod common;

use common::{chat, sse_data, start};
use serde_json::{Value, json};

const SIM: &str = "seed = 3\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "claude"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "claude-lenient"
allow_drop = ["logprobs", "top_logprobs"]
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
"#;

#[tokio::test]
async fn openai_request_gets_an_openai_answer_from_anthropic() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("claude", "Hello there");
    body["messages"] = json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!(v["object"], "chat.completion");
    assert!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(a.header("x-switchyard-provider").as_deref(), Some("claude"));
    let upstream: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
    assert_eq!(
        upstream["system"][0]["text"], "Be brief.",
        "system moved to Anthropic's field"
    );
    assert!(
        upstream["max_tokens"].as_u64().is_some(),
        "max_tokens is always sent"
    );
    let recs = h.finish().await;
    assert!(
        recs[0]
            .price_version
            .as_deref()
            .unwrap()
            .starts_with("anthropic/claude-sonnet-4-5@")
    );
    assert!(!recs[0].usage_estimated);
}

#[tokio::test]
async fn streams_translate_to_openai_chunks_with_usage() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("claude", "Tell me a story");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200);
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
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(!text.is_empty());
    let usage = &chunks.last().unwrap()["usage"];
    assert!(usage["completion_tokens"].as_u64().unwrap() > 0);
    let recs = h.finish().await;
    assert!(recs[0].streamed && !recs[0].usage_estimated && recs[0].usage.output > 0);
    assert!(recs[0].ttft_ms.is_some());
}

#[tokio::test]
async fn tool_calls_come_back_as_openai_tool_calls() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("claude", "What is the weather in Paris?");
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let call = &a.json()["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(args["city"].is_string());
    assert_eq!(a.json()["choices"][0]["finish_reason"], "tool_calls");
    h.finish().await;
}

#[tokio::test]
async fn cache_writes_and_reads_are_priced_at_their_own_rates() {
    let h = start(SIM, GATEWAY).await;
    let long = "The policy document describes refunds, shipping and returns in detail. ".repeat(80);
    let body = json!({"model": "claude", "messages": [{"role": "user", "content": [
        {"type": "text", "text": long, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "What is the refund window?"}
    ]}]});
    for _ in 0..2 {
        assert_eq!(h.post("/v1/chat/completions", &body).await.status, 200);
    }
    let recs = h.finish().await;
    let (first, second) = (&recs[0], &recs[1]);
    assert!(
        first.usage.cache_write > 1000,
        "first sighting writes the cache: {:?}",
        first.usage
    );
    assert!(
        second.usage.cached_input > 1000 && second.usage.cache_write == 0,
        "then reads it: {:?}",
        second.usage
    );
    // Sonnet 4.5: writes at 1.25× input, reads at 0.1× input, so the first costs more.
    assert!(first.cost_usd.unwrap() > second.cost_usd.unwrap());
}

#[tokio::test]
async fn features_anthropic_cannot_honour_are_refused_naming_the_field() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("claude", "hi");
    body["logprobs"] = json!(true);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("logprobs"),
        "{}",
        a.text()
    );
    let e = h
        .post("/v1/embeddings", &json!({"model": "claude", "input": "x"}))
        .await;
    assert_eq!(e.status, 400);
    h.finish().await;
}

#[tokio::test]
async fn a_route_may_allow_dropping_and_then_says_what_it_dropped() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("claude-lenient", "hi");
    body["logprobs"] = json!(true);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        a.header("x-switchyard-dropped").as_deref(),
        Some("logprobs")
    );
    let plain = h
        .post("/v1/chat/completions", &chat("claude-lenient", "hi"))
        .await;
    assert!(
        plain.header("x-switchyard-dropped").is_none(),
        "nothing dropped, no header"
    );
    body["n"] = json!(2);
    let refused = h.post("/v1/chat/completions", &body).await;
    assert_eq!(
        refused.status, 400,
        "only the listed features may be dropped"
    );
    assert!(refused.text().contains("`n`"), "{}", refused.text());
    h.finish().await;
}

#[tokio::test]
async fn anthropic_thinking_tokens_are_reasoning_tokens_for_openai_clients_and_the_ledger() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("claude", "Think it through: is 91 prime?");
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let usage = a.json()["usage"].clone();
    let reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
        .as_u64()
        .unwrap();
    assert!(reasoning > 0, "{usage}");
    assert!(usage["completion_tokens"].as_u64().unwrap() > reasoning);

    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let last: Value = sse_data(&a.text())
        .iter()
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .rfind(|c| !c["usage"].is_null())
        .unwrap();
    let streamed = last["usage"]["completion_tokens_details"]["reasoning_tokens"]
        .as_u64()
        .unwrap();
    assert!(streamed > 0, "{last}");

    let recs = h.finish().await;
    assert_eq!(recs.len(), 2);
    for (rec, want) in recs.iter().zip([reasoning, streamed]) {
        assert_eq!(rec.usage.reasoning, want, "{rec:?}");
        assert!(rec.usage.output > 0);
    }
}
