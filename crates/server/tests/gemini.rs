//! An OpenAI client reaching a Gemini target: the answer, the stream, tools, and cached and
//! thinking tokens priced in the ledger, through the simulator's `generateContent` endpoint.

mod common;

use common::{chat, sse_data, start};
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
name = "flash"
targets = [{ provider = "google", model = "gemini-2.5-flash" }]
[[routes]]
name = "pro"
targets = [{ provider = "google", model = "gemini-2.5-pro" }]
"#;

/// Parses every chunk of an OpenAI stream, checking it ends with `[DONE]`.
#[expect(clippy::unwrap_used, reason = "a malformed chunk should fail the test")]
fn chunks(body: &str) -> Vec<Value> {
    let data = sse_data(body);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{body}");
    data.iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn openai_request_gets_an_openai_answer_from_gemini() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("flash", "Hello there");
    body["messages"] = json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]);
    body["max_tokens"] = json!(200);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!(v["object"], "chat.completion");
    assert!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(a.header("x-switchyard-provider").as_deref(), Some("google"));
    let upstream: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
    assert_eq!(
        upstream["systemInstruction"]["parts"][0]["text"],
        "Be brief."
    );
    assert_eq!(upstream["contents"][0]["role"], "user");
    assert_eq!(upstream["generationConfig"]["maxOutputTokens"], 200);
    let recs = h.finish().await;
    assert!(
        recs[0]
            .price_version
            .as_deref()
            .unwrap()
            .starts_with("gemini/gemini-2.5-flash@"),
        "{:?}",
        recs[0].price_version
    );
    assert!(!recs[0].usage_estimated && recs[0].cost_usd.is_some());
}

#[tokio::test]
async fn streams_translate_to_openai_chunks_with_usage() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("flash", "Tell me a story");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let chunks = chunks(&a.text());
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(!text.is_empty());
    let finish = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect::<Vec<_>>();
    assert_eq!(finish.len(), 1, "one finish chunk");
    let usage = &chunks.last().unwrap()["usage"];
    assert!(usage["completion_tokens"].as_u64().unwrap() > 0);
    let recs = h.finish().await;
    assert!(recs[0].streamed && !recs[0].usage_estimated && recs[0].usage.output > 0);
    assert!(recs[0].ttft_ms.is_some());
}

#[tokio::test]
async fn tool_calls_come_back_as_openai_tool_calls_and_results_go_back_by_name() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("flash", "What is the weather in Paris?");
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}}]);
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let message = a.json()["choices"][0]["message"].clone();
    let call = &message["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(args["city"].is_string());
    assert_eq!(a.json()["choices"][0]["finish_reason"], "tool_calls");
    let upstream: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
    let decl = &upstream["tools"][0]["functionDeclarations"][0];
    assert!(decl["parameters"].get("additionalProperties").is_none());

    body["messages"] = json!([
        {"role": "user", "content": "What is the weather in Paris?"},
        message,
        {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees"}
    ]);
    let b = h.post("/v1/chat/completions", &body).await;
    assert_eq!(b.status, 200, "{}", b.text());
    let upstream: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
    let response = &upstream["contents"][2]["parts"][0]["functionResponse"];
    assert_eq!(response["name"], "get_weather");
    assert_eq!(response["response"]["result"], "18 degrees");
    h.finish().await;
}

#[tokio::test]
async fn streamed_tool_calls_keep_their_index() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("flash", "What is the weather in Paris?");
    body["stream"] = json!(true);
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    body["tool_choice"] = json!("required");
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let chunks = chunks(&a.text());
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert!(!calls.is_empty());
    assert_eq!(calls[0]["index"], 0);
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    h.finish().await;
}

#[tokio::test]
async fn cached_and_thinking_tokens_reach_the_ledger_priced() {
    let h = start(SIM, GATEWAY).await;
    let long =
        "The policy document describes refunds, shipping and returns in detail. ".repeat(200);
    let mut body = chat("pro", &format!("{long}\nWhat is the refund window?"));
    body["thinkingConfig"] = json!({"includeThoughts": true});
    // The sim's implicit cache serves a prefix it has seen: ask twice.
    let first = h.post("/v1/chat/completions", &body).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let a = h.post("/v1/chat/completions", &body).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert!(
        v["usage"]["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        v["choices"][0]["message"]["reasoning_content"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let mut recs = h.finish().await;
    recs.sort_by_key(|r| r.ts);
    let recs = &recs[1..];
    let (u, cost) = (&recs[0].usage, recs[0].cost_usd.unwrap());
    assert!(
        u.cached_input >= 1024 && u.input > 0 && u.reasoning > 0,
        "{u:?}"
    );
    assert!(
        recs[0]
            .price_version
            .as_deref()
            .unwrap()
            .starts_with("gemini/gemini-2.5-pro@")
    );
    // Gemini 2.5 Pro: input $1.25, cached $0.125, output and reasoning $10 per million.
    let expected = (u.input as f64 * 1.25
        + u.cached_input as f64 * 0.125
        + (u.output + u.reasoning) as f64 * 10.0)
        / 1e6;
    let actual: f64 = cost.to_string().trim_start_matches('$').parse().unwrap();
    assert!((actual - expected).abs() < 1e-9, "{actual} vs {expected}");
}

#[tokio::test]
async fn embeddings_go_through_batch_embed_contents_and_are_counted() {
    let h = start(SIM, GATEWAY).await;
    let e = h
        .post(
            "/v1/embeddings",
            &json!({"model": "flash", "input": ["first text", "second text"]}),
        )
        .await;
    assert_eq!(e.status, 200, "{}", e.text());
    let v = e.json();
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(
        v["data"][0]["embedding"].as_array().map(Vec::len),
        Some(768)
    );
    assert_ne!(v["data"][0]["embedding"], v["data"][1]["embedding"]);
    // What Gemini received: one request per input, in Gemini's shape.
    let last = h.get(&format!("{}/sim/last", h.sim)).await.json();
    assert_eq!(
        last["requests"][1]["content"]["parts"][0]["text"],
        "second text"
    );
    // Token ids cannot be sent to Gemini.
    let t = h
        .post(
            "/v1/embeddings",
            &json!({"model": "flash", "input": [1, 2, 3]}),
        )
        .await;
    assert_eq!(t.status, 400, "{}", t.text());
    let recs = h.finish().await;
    let rec = &recs[0];
    assert!(
        rec.usage_estimated,
        "Google reports no usage for embeddings"
    );
    assert_eq!(rec.usage.input, 4);
}

#[tokio::test]
async fn embedding_dimensions_become_gemini_output_dimensionality() {
    let h = start(SIM, GATEWAY).await;
    let e = h
        .post(
            "/v1/embeddings",
            &json!({"model": "flash", "input": ["first text", "second text"], "dimensions": 256}),
        )
        .await;
    assert_eq!(e.status, 200, "{}", e.text());
    let v = e.json();
    for item in v["data"].as_array().unwrap() {
        assert_eq!(item["embedding"].as_array().map(Vec::len), Some(256));
    }
    let last = h.get(&format!("{}/sim/last", h.sim)).await.json();
    for r in last["requests"].as_array().unwrap() {
        assert_eq!(r["outputDimensionality"], 256, "{last}");
    }
    h.finish().await;
}

#[tokio::test]
async fn gemini_embeddings_honour_base64_encoding() {
    let h = start(SIM, GATEWAY).await;
    let e = h
        .post(
            "/v1/embeddings",
            &json!({"model": "flash", "input": "text", "dimensions": 8, "encoding_format": "base64"}),
        )
        .await;
    assert_eq!(e.status, 200, "{}", e.text());
    let encoded = e.json()["data"][0]["embedding"].clone();
    // Eight little-endian f32s: 32 bytes, 44 base64 characters with padding.
    assert_eq!(encoded.as_str().map(str::len), Some(44), "{encoded}");
    h.finish().await;
}

#[tokio::test]
async fn upstream_errors_are_classified() {
    let h = start(SIM, GATEWAY).await;
    let mut body = chat("flash", "hi");
    body["messages"] = json!([{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/render?id=7"}}]}]);
    let i = h.post("/v1/chat/completions", &body).await;
    assert_eq!(i.status, 400, "{}", i.text());
    assert!(i.text().contains("base64 data URL"), "{}", i.text());
    h.finish().await;
}

const FAULTY_SIM: &str = "seed = 5\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.\"gemini-always-429\"]\nrate_429 = 1.0\nretry_after_s = 7\n";

/// A simulator expecting another key than the one the gateway sends.
const OTHER_KEY_SIM: &str = "seed = 5\napi_key = \"another-key\"\n[defaults]\nttft_ms = 0\n";

const FAULTY_GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.google]
kind = "gemini"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "limited"
targets = [{ provider = "google", model = "gemini-always-429" }]
"#;

#[tokio::test]
async fn google_errors_are_classified() {
    let h = start(FAULTY_SIM, FAULTY_GATEWAY).await;
    let a = h.post("/v1/chat/completions", &chat("limited", "hi")).await;
    assert_eq!(a.status, 429, "{}", a.text());
    assert_eq!(a.header("retry-after").as_deref(), Some("7"));
    h.finish().await;
    // Google's 400 "API key not valid" is the gateway's credential problem, not the client's.
    let h = start(OTHER_KEY_SIM, FAULTY_GATEWAY).await;
    let b = h.post("/v1/chat/completions", &chat("limited", "hi")).await;
    assert_eq!(b.status, 502, "{}", b.text());
    assert!(!b.text().contains("sk-test-secret"), "{}", b.text());
    h.finish().await;
}
