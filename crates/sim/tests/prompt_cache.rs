//! The simulated prompt caches: Anthropic's breakpoints (per-model minimum, TTL split,
//! streams) and OpenAI's automatic prefix caching (1024 tokens, 128-token steps,
//! `prompt_cache_key`).

mod support;

use axum::Router;
use serde_json::{Value, json};
use support::{Reply, post, send};
use switchyard_sim::{SimConfig, router};

const V: (&str, &str) = ("anthropic-version", "2023-06-01");

async fn messages(app: &Router, body: &Value) -> Reply {
    send(app, post("/v1/messages", &[V], body)).await
}

async fn chat(app: &Router, body: &Value) -> Reply {
    send(app, post("/v1/chat/completions", &[], body)).await
}

/// A system prompt of about `tokens` simulator tokens, marked as a breakpoint.
fn marked_system(model: &str, tokens: usize) -> Value {
    json!({"model": model, "max_tokens": 32,
        "system": [{"type": "text", "text": "Cite the ledger. ".repeat(tokens / 4),
            "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Hello?"}]})
}

fn openai(prompt: &str) -> Value {
    json!({"model": "gpt-4o-mini", "max_tokens": 16,
        "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": "Hi"}]})
}

#[tokio::test]
async fn anthropic_minimum_depends_on_the_model() {
    let app = router(SimConfig::instant());
    // ~2,000 tokens: above Sonnet 4.5's 1024, below Haiku 4.5's 4096.
    let sonnet = messages(&app, &marked_system("claude-sonnet-4-5", 2000))
        .await
        .json();
    assert!(
        sonnet["usage"]["cache_creation_input_tokens"]
            .as_u64()
            .unwrap()
            > 1024
    );
    let haiku = messages(&app, &marked_system("claude-haiku-4-5", 2000))
        .await
        .json();
    assert_eq!(haiku["usage"]["cache_creation_input_tokens"], 0);
    let again = messages(&app, &marked_system("claude-haiku-4-5", 2000))
        .await
        .json();
    assert_eq!(again["usage"]["cache_read_input_tokens"], 0);
}

#[tokio::test]
async fn anthropic_stream_reports_the_cache_read_in_message_start() {
    let app = router(SimConfig::instant());
    let mut body = marked_system("claude-sonnet-4-5", 1600);
    body["system"][0]["cache_control"]["ttl"] = json!("1h");
    let first = messages(&app, &body).await.json()["usage"].clone();
    let written = first["cache_creation"]["ephemeral_1h_input_tokens"]
        .as_u64()
        .unwrap();
    assert!(written > 1024 && first["cache_creation"]["ephemeral_5m_input_tokens"] == 0);
    body["stream"] = json!(true);
    let sse = messages(&app, &body).await;
    let start = sse
        .text()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|e| e["type"] == "message_start")
        .unwrap_or_default();
    assert_eq!(
        start["message"]["usage"]["cache_read_input_tokens"],
        written
    );
    assert_eq!(start["message"]["usage"]["cache_creation_input_tokens"], 0);
}

#[tokio::test]
async fn openai_caches_a_repeated_prefix_in_128_token_steps() {
    let app = router(SimConfig::instant());
    let prompt = "The refund policy covers enterprise customers. ".repeat(120);
    let first = chat(&app, &openai(&prompt)).await.json()["usage"].clone();
    assert_eq!(first["prompt_tokens_details"]["cached_tokens"], 0);
    let second = chat(&app, &openai(&prompt)).await.json()["usage"].clone();
    let cached = second["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    assert!(cached >= 1024 && (cached - 1024) % 128 == 0, "{second}");
    assert!(cached <= second["prompt_tokens"].as_u64().unwrap());
    // A short prompt is never cached.
    let short = openai("Be brief.");
    chat(&app, &short).await;
    let again = chat(&app, &short).await.json()["usage"].clone();
    assert_eq!(again["prompt_tokens_details"]["cached_tokens"], 0);
}

#[tokio::test]
async fn openai_prompt_cache_keys_keep_entries_apart() {
    let app = router(SimConfig::instant());
    let prompt = "Classify the ticket by product area and urgency. ".repeat(120);
    let mut a = openai(&prompt);
    a["prompt_cache_key"] = json!("team-a");
    chat(&app, &a).await;
    let mut b = a.clone();
    b["prompt_cache_key"] = json!("team-b");
    let other = chat(&app, &b).await.json()["usage"].clone();
    assert_eq!(other["prompt_tokens_details"]["cached_tokens"], 0);
    let same = chat(&app, &a).await.json()["usage"].clone();
    assert!(
        same["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap()
            >= 1024
    );
}

#[tokio::test]
async fn openai_stream_reports_cached_tokens_in_the_final_usage_chunk() {
    let app = router(SimConfig::instant());
    let prompt = "Summarise the incident report for the on-call team. ".repeat(120);
    chat(&app, &openai(&prompt)).await;
    let mut body = openai(&prompt);
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let sse = chat(&app, &body).await;
    let usage = sse
        .text()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find_map(|c| c.get("usage").filter(|u| !u.is_null()).cloned())
        .unwrap_or_default();
    assert!(
        usage["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap()
            >= 1024
    );
}
