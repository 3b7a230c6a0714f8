//! Budget reservations are an upper bound for every target's tokenizer: a prompt that
//! `o200k_base` counts small but an Anthropic upstream bills large (8,000 dashes: 131 o200k
//! tokens, about 2,000 billed) cannot overrun a hard budget, however many requests race.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{Harness, MASTER, start_with};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

/// The sim's Anthropic endpoint bills a character-count estimate (four characters a token),
/// so 8,000 dashes cost about 2,000 input tokens there. A little latency keeps the requests
/// in flight together.
const SIM: &str = "seed = 3\n[defaults]\nttft_ms = 50\ntokens_per_second = 0\n";

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
"#;

const BUDGET: &str = "0.05";

async fn key_with_budget(h: &Harness) -> (String, String) {
    let spec = json!({"budgets": [{"period": "day", "limit_usd": BUDGET}]});
    let r = h
        .call(
            "POST",
            "/admin/keys",
            &[("authorization", &format!("Bearer {MASTER}"))],
            Some(&spec),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    (
        v["key_info"]["id"].as_str().unwrap().to_string(),
        v["key"].as_str().unwrap().to_string(),
    )
}

/// Sends `n` requests at once on `path` with `body`; returns (answered, refused for budget).
async fn race(h: &Harness, secret: &str, path: &str, body: &Value, n: usize) -> (usize, usize) {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let url = format!("{}{path}", h.base);
        let auth = format!("Bearer {secret}");
        let body = body.to_string();
        tasks.push(tokio::spawn(async move {
            let client = switchyard_providers::HttpClient::new(&Default::default()).unwrap();
            let r = client
                .post_json(&url, &[("authorization", auth.as_str())], body)
                .await
                .unwrap();
            (r.status, String::from_utf8_lossy(&r.body).into_owned())
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (200, _) => ok += 1,
            (429, b) if b.contains("budget") => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    (ok, refused)
}

async fn spend_stays_within_the_budget(path: &str, body: Value) {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let (id, secret) = key_with_budget(&h).await;
    let (ok, refused) = race(&h, &secret, path, &body, 120).await;
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
    let recs = h.finish().await;
    let mine: Vec<_> = recs
        .iter()
        .filter(|r| r.key_id.as_deref() == Some(id.as_str()) && r.status == 200)
        .collect();
    // The upstream billed far more than o200k counts: this is the case being pinned.
    assert!(
        mine.iter().all(|r| r.usage.input >= 1_900),
        "{:?}",
        mine[0].usage
    );
    let spent: Decimal = mine.iter().filter_map(|r| r.cost_usd.map(|c| c.0)).sum();
    eprintln!("{path}: {ok} answered, {refused} refused, spent ${spent} of ${BUDGET}");
    let budget = Decimal::from_str(BUDGET).unwrap();
    assert!(
        spent <= budget,
        "spent ${spent} of a ${BUDGET} hard budget over {ok} answers"
    );
}

#[tokio::test]
async fn a_prompt_the_o200k_tokenizer_undercounts_cannot_overrun_a_hard_budget() {
    let body = json!({"model": "claude", "max_tokens": 16,
        "messages": [{"role": "user", "content": "-".repeat(8_000)}]});
    spend_stays_within_the_budget("/v1/chat/completions", body).await;
}

#[tokio::test]
async fn the_same_holds_for_anthropic_clients_on_the_messages_passthrough() {
    let body = json!({"model": "claude", "max_tokens": 16,
        "messages": [{"role": "user", "content": "-".repeat(8_000)}]});
    spend_stays_within_the_budget("/v1/messages", body).await;
}
