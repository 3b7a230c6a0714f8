//! The `o200k_base` tokenizer (~45 MiB of tables) stays out of memory until a count is really
//! needed: keyed traffic with budgets, an rpm limit and a tpm limit far from its edge never
//! loads it; a prompt whose byte bound could cross the tpm limit does.
//!
//! Its own test binary: whether the tokenizer is loaded is process-wide state.

mod common;

use common::{Harness, MASTER, start_with};
use serde_json::{Value, json};

const SIM: &str = "seed = 2\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
"#;

async fn key(h: &Harness, spec: Value) -> String {
    h.create_key(&spec).await
}

/// A system prompt and a user message of about 2.5 KB, as a real chat sends.
fn realistic_chat() -> Vec<u8> {
    let system = "You are a careful support assistant for an online bookshop. ".repeat(12);
    let user = "My order arrived with a damaged cover; what are my options? ".repeat(30);
    json!({"model": "chat", "max_tokens": 300, "messages": [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ]})
    .to_string()
    .into_bytes()
}

async fn send(h: &Harness, secret: &str) -> u16 {
    let auth = format!("Bearer {secret}");
    let r = h
        .post_with(
            "/v1/chat/completions",
            realistic_chat(),
            &[("authorization", &auth)],
        )
        .await;
    r.status
}

#[tokio::test]
async fn the_tokenizer_loads_only_when_a_tpm_limit_is_near_its_edge() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let roomy = key(
        &h,
        json!({"budgets": [{"period": "day", "limit_usd": "100"}], "rpm": 100000, "tpm": 10000000}),
    )
    .await;
    for _ in 0..5 {
        assert_eq!(send(&h, &roomy).await, 200);
    }
    assert!(
        !switchyard_gateway::tokens::loaded(),
        "budgets, rpm and a roomy tpm must not load the tokenizer"
    );
    // 2.5 KB of prompt could exceed 2,000 tokens by its byte bound: counted exactly (about
    // 500 tokens), so it is admitted, and the tokenizer is loaded for it.
    let tight = key(&h, json!({"tpm": 2000})).await;
    assert_eq!(send(&h, &tight).await, 200);
    assert!(switchyard_gateway::tokens::loaded());
    h.finish().await;
}
