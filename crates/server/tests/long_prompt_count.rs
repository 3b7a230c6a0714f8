//! A long prompt (a body over 32 KiB) that a `tpm` limit near its edge must count exactly is
//! tokenised on the blocking pool, not on an async worker: the count still gates admission
//! the same way, admitting what fits the window and refusing what does not.

mod common;

use common::{Harness, MASTER, start_with};
use serde_json::{Value, json};

const SIM: &str = "seed = 3\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

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

/// About 40 KB of prompt that `o200k_base` reads as about 8,000 tokens (one a word).
fn long_chat() -> Vec<u8> {
    let user = " word".repeat(8_000);
    let body = json!({"model": "chat", "max_tokens": 10, "messages": [
        {"role": "user", "content": user},
    ]})
    .to_string()
    .into_bytes();
    assert!(
        body.len() > 32 * 1024,
        "long enough to be counted off the workers"
    );
    body
}

async fn send(h: &Harness, secret: &str) -> (u16, String) {
    let auth = format!("Bearer {secret}");
    let r = h
        .post_with(
            "/v1/chat/completions",
            long_chat(),
            &[("authorization", &auth)],
        )
        .await;
    (r.status, r.text())
}

#[tokio::test]
async fn a_long_prompt_near_a_tpm_edge_is_counted_exactly_and_still_gates() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    // 40 KB could be 40,000 tokens by its byte bound, over this window: the exact count
    // (~8,000) fits, so the request is admitted.
    let fits = key(&h, json!({"tpm": 20_000})).await;
    let (status, text) = send(&h, &fits).await;
    assert_eq!(status, 200, "{text}");
    // Here the exact count does not fit the window: refused with a 429, as before.
    let tight = key(&h, json!({"tpm": 5_000})).await;
    let (status, text) = send(&h, &tight).await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("rate_limit_exceeded"), "{text}");
    h.finish().await;
}
