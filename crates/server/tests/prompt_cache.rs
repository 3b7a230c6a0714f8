//! Provider prompt caching through the gateway, against the simulator: a route's
//! `[routes.prompt_cache]` adds Anthropic breakpoints (passthrough and translated) and OpenAI's
//! `prompt_cache_key`, and the repeated request is billed as a cache read in the ledger.

mod common;

use common::{Harness, chat, start};
use serde_json::{Value, json};
use switchyard_ledger::Record;

const SIM: &str = "seed = 5\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[server]
max_body_bytes = 262144
[ledger]
flush_interval_ms = 10000
[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[providers.openai]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[providers.compatible]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
[[routes]]
name = "review"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[routes.prompt_cache]
anthropic = "5m"
[[routes]]
name = "review-1h"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[routes.prompt_cache]
anthropic = "1h"
[[routes]]
name = "plain"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "classify"
targets = [{ provider = "openai", model = "gpt-4o-mini" }]
[routes.prompt_cache]
openai_key = true
[[routes]]
name = "classify-compatible"
targets = [{ provider = "compatible", model = "gpt-4o-mini" }]
[routes.prompt_cache]
openai_key = true
"#;

/// About 1,500 tokens of stable instructions.
fn policy() -> String {
    "Review the change for correctness, security and clarity; cite the line. ".repeat(80)
}

fn messages_body(route: &str, question: &str) -> Value {
    json!({"model": route, "max_tokens": 64, "system": policy(),
        "messages": [{"role": "user", "content": question}]})
}

async fn messages(h: &Harness, body: &Value) -> Value {
    let a = h
        .post_with("/v1/messages", body.to_string().into_bytes(), &[])
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()
}

async fn upstream(h: &Harness) -> Value {
    h.get(&format!("{}/sim/last", h.sim)).await.json()
}

/// The records in the order the requests were made.
async fn in_order(h: Harness) -> Vec<Record> {
    let mut recs = h.finish().await;
    recs.sort_by_key(|r| r.ts);
    recs
}

#[tokio::test]
async fn anthropic_passthrough_repeat_is_billed_as_a_cache_read() {
    let h = start(SIM, GATEWAY).await;
    let first = messages(&h, &messages_body("review", "Is this safe?")).await;
    let sent = upstream(&h).await;
    assert_eq!(
        sent["system"][0]["cache_control"],
        json!({"type": "ephemeral"})
    );
    assert_eq!(
        sent["system"][0]["text"],
        policy(),
        "the string became one marked block"
    );
    assert!(
        first["usage"]["cache_creation_input_tokens"]
            .as_u64()
            .unwrap()
            > 1024
    );
    let second = messages(&h, &messages_body("review", "And is it clear?")).await;
    assert!(second["usage"]["cache_read_input_tokens"].as_u64().unwrap() > 1024);
    let recs = in_order(h).await;
    assert!(recs[0].usage.cache_write > 1024 && recs[0].usage.cached_input == 0);
    assert!(recs[1].usage.cached_input > 1024 && recs[1].usage.cache_write == 0);
    assert!(
        recs[1].cost_usd.unwrap() < recs[0].cost_usd.unwrap(),
        "a read costs a tenth of input, a write 1.25x"
    );
}

#[tokio::test]
async fn a_conversation_reads_what_its_previous_turn_wrote() {
    let h = start(SIM, GATEWAY).await;
    let history = "Earlier context about the module under review. ".repeat(100);
    let turn = |extra: &[Value]| {
        let mut msgs = vec![
            json!({"role": "user", "content": history}),
            json!({"role": "assistant", "content": "Noted."}),
            json!({"role": "user", "content": "First question?"}),
        ];
        msgs.extend_from_slice(extra);
        json!({"model": "review", "max_tokens": 64, "messages": msgs})
    };
    let first = messages(&h, &turn(&[])).await;
    assert!(
        first["usage"]["cache_creation_input_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    let next = [
        json!({"role": "assistant", "content": "An answer."}),
        json!({"role": "user", "content": "Second question?"}),
    ];
    let second = messages(&h, &turn(&next)).await;
    let read = second["usage"]["cache_read_input_tokens"].as_u64().unwrap();
    assert!(read > 1024, "the whole first turn is read back: {second}");
    h.finish().await;
}

#[tokio::test]
async fn openai_client_on_anthropic_gets_one_hour_breakpoints_and_a_cache_read() {
    let h = start(SIM, GATEWAY).await;
    let body = |q: &str| {
        let mut b = chat("review-1h", q);
        b["messages"] =
            json!([{"role": "system", "content": policy()}, {"role": "user", "content": q}]);
        b
    };
    let a = h.post("/v1/chat/completions", &body("Is this safe?")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let sent = upstream(&h).await;
    assert_eq!(sent["system"][0]["cache_control"]["ttl"], "1h");
    let headers = h.get(&format!("{}/sim/last_headers", h.sim)).await.json();
    assert!(
        headers["anthropic-beta"]
            .as_str()
            .is_some_and(|b| b.contains("extended-cache-ttl-2025-04-11"))
    );
    let b = h.post("/v1/chat/completions", &body("Is it clear?")).await;
    let cached = b.json()["usage"]["prompt_tokens_details"]["cached_tokens"].clone();
    assert!(cached.as_u64().unwrap() > 1024, "{}", b.text());
    let recs = in_order(h).await;
    assert!(recs[0].usage.cache_write_1h > 1024, "{:?}", recs[0].usage);
    assert!(recs[1].usage.cached_input > 1024 && recs[1].usage.cache_write == 0);
}

#[tokio::test]
async fn a_route_without_prompt_cache_sends_the_body_unmarked_and_records_the_repeat() {
    let h = start(SIM, GATEWAY).await;
    let first = messages(&h, &messages_body("plain", "Is this safe?")).await;
    assert_eq!(first["usage"]["cache_creation_input_tokens"], 0);
    assert_eq!(upstream(&h).await["system"], policy());
    messages(&h, &messages_body("plain", "Is it clear?")).await;
    let recs = in_order(h).await;
    let prefix = recs[0].prefix.unwrap();
    assert!(prefix.tokens > 1024);
    assert_eq!(
        recs[1].prefix,
        Some(prefix),
        "same system prompt, same fingerprint"
    );
    assert_eq!(
        recs[1].usage.cached_input, 0,
        "sent uncached: what the report flags"
    );
}

#[tokio::test]
async fn openai_target_gets_a_prompt_cache_key_and_the_repeat_is_a_cache_read() {
    let h = start(SIM, GATEWAY).await;
    let body = |q: &str| {
        let mut b = chat("classify", q);
        b["messages"] =
            json!([{"role": "system", "content": policy()}, {"role": "user", "content": q}]);
        b
    };
    let post = |q: &'static str| {
        let b = body(q).to_string().into_bytes();
        let h = &h;
        async move {
            h.post_with(
                "/v1/chat/completions",
                b,
                &[("x-switchyard-workload", "triage")],
            )
            .await
        }
    };
    assert_eq!(post("Ticket one").await.status, 200);
    let key = upstream(&h).await["prompt_cache_key"].clone();
    assert!(
        key.as_str()
            .is_some_and(|k| k.starts_with("sy-") && !k.contains("triage"))
    );
    let second = post("Ticket two").await;
    assert_eq!(
        upstream(&h).await["prompt_cache_key"],
        key,
        "same workload, same key"
    );
    let cached = second.json()["usage"]["prompt_tokens_details"]["cached_tokens"].clone();
    assert!(cached.as_u64().unwrap() >= 1024, "{}", second.text());
    let mut own = body("Ticket three");
    own["prompt_cache_key"] = json!("client-key");
    assert_eq!(h.post("/v1/chat/completions", &own).await.status, 200);
    assert_eq!(upstream(&h).await["prompt_cache_key"], "client-key");
    let recs = in_order(h).await;
    assert_eq!(recs[0].usage.cached_input, 0);
    assert!(recs[1].usage.cached_input >= 1024);
    assert!(recs[1].cost_usd.unwrap() < recs[0].cost_usd.unwrap());
}

#[tokio::test]
async fn an_openai_compatible_server_never_gets_a_prompt_cache_key() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post("/v1/chat/completions", &chat("classify-compatible", "Hi"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(upstream(&h).await.get("prompt_cache_key").is_none());
    h.finish().await;
}
