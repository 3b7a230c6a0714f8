//! Governance end to end: the admin API, virtual keys, 401/403/429 in both dialects, budget
//! reservations under concurrency, rate limits, rotation and revocation, the ledger's key and
//! team.

mod common;

use common::{Harness, MASTER, chat, start_with};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

const SIM: &str = "seed = 2\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

/// One OpenAI-priced route (gpt-4o-mini) and one other.
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
[[routes]]
name = "other"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
"#;

const ENV: &[(&str, &str)] = &[("SWITCHYARD_MASTER_KEY", MASTER)];

fn master() -> String {
    format!("Bearer {MASTER}")
}

/// Creates a key through the admin API; returns (id, secret).
async fn create(h: &Harness, spec: Value) -> (String, String) {
    let r = h
        .call(
            "POST",
            "/admin/keys",
            &[("authorization", &master())],
            Some(&spec),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let secret = v["key"].as_str().unwrap_or_default().to_string();
    assert!(secret.starts_with("sk-sy-"), "{v}");
    (
        v["key_info"]["id"].as_str().unwrap_or_default().to_string(),
        secret,
    )
}

async fn chat_as(h: &Harness, key: &str, route: &str, text: &str) -> common::Answer {
    let auth = format!("Bearer {key}");
    h.post_with(
        "/v1/chat/completions",
        chat(route, text).to_string().into_bytes(),
        &[("authorization", &auth)],
    )
    .await
}

#[tokio::test]
async fn the_admin_api_needs_the_master_key_and_is_off_without_one() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    let r = h.call("GET", "/admin/keys", &[], None).await;
    assert_eq!(r.status, 404);
    assert!(r.text().contains("SWITCHYARD_MASTER_KEY"));
    // No keys: the gateway is open, as before.
    let a = h.post("/v1/chat/completions", &chat("chat", "hi")).await;
    assert_eq!(a.status, 200);
    h.finish().await;

    let h = start_with(SIM, GATEWAY, ENV).await;
    let r = h.call("GET", "/admin/keys", &[], None).await;
    assert_eq!(r.status, 401);
    let r = h
        .call(
            "GET",
            "/admin/keys",
            &[("authorization", "Bearer sy-not-the-master-key-00000")],
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    let r = h
        .call("GET", "/admin/keys", &[("x-api-key", MASTER)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Strategy data is behind the master key too.
    let r = h.call("GET", "/v1/strategy/spend", &[], None).await;
    assert_eq!(r.status, 401);
    h.finish().await;
}

#[tokio::test]
async fn keys_gate_both_dialects_and_are_recorded_with_their_team() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let (id, secret) = create(
        &h,
        json!({"name": "support bot", "team": "support", "workload": "triage", "allowed_routes": ["chat"]}),
    )
    .await;
    // The secret is shown once: never in listings, never in the database file.
    let list = h
        .call("GET", "/admin/keys", &[("authorization", &master())], None)
        .await;
    assert!(!list.text().contains(&secret));
    assert!(list.text().contains(&id));

    // No key, a wrong key: 401 in OpenAI's shape…
    let a = h.post("/v1/chat/completions", &chat("chat", "hi")).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.json()["error"]["code"], "invalid_api_key");
    let a = chat_as(
        &h,
        "sk-sy-wrongwrongwrongwrongwrongwrongwrongwrong",
        "chat",
        "hi",
    )
    .await;
    assert_eq!(a.status, 401);
    // …and in Anthropic's, with either header.
    let body =
        json!({"model": "chat", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]});
    let a = h.post("/v1/messages", &body).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.json()["type"], "error");
    assert_eq!(a.json()["error"]["type"], "authentication_error");
    let a = h
        .post_with(
            "/v1/messages",
            body.to_string().into_bytes(),
            &[("x-api-key", &secret)],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());

    // The right key on the right route; 403 elsewhere, in each dialect.
    let a = chat_as(&h, &secret, "chat", "hello").await;
    assert_eq!(a.status, 200, "{}", a.text());
    let a = chat_as(&h, &secret, "other", "hello").await;
    assert_eq!(a.status, 403, "{}", a.text());
    assert_eq!(a.json()["error"]["code"], "route_not_allowed");
    let mut other = body.clone();
    other["model"] = json!("other");
    let a = h
        .post_with(
            "/v1/messages",
            other.to_string().into_bytes(),
            &[("x-api-key", &secret)],
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json()["error"]["type"], "permission_error");

    let ledger = std::fs::read(&h.ledger).unwrap_or_default();
    assert!(
        !ledger.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is not in the ledger file"
    );
    let recs = h.finish().await;
    let mine: Vec<_> = recs
        .iter()
        .filter(|r| r.key_id.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(mine.len(), 4, "two answered, two refused with 403");
    assert!(mine.iter().all(|r| r.team.as_deref() == Some("support")));
    assert!(
        mine.iter()
            .filter(|r| r.status == 200)
            .all(|r| r.workload.as_deref() == Some("triage"))
    );
}

#[tokio::test]
async fn rotation_and_revocation_take_effect_at_once() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let (id, old) = create(&h, json!({"team": "a"})).await;
    assert_eq!(chat_as(&h, &old, "chat", "1").await.status, 200);
    let r = h
        .call(
            "POST",
            &format!("/admin/keys/{id}/rotate"),
            &[("authorization", &master())],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let new = r.json()["key"].as_str().unwrap_or_default().to_string();
    assert_ne!(new, old);
    assert_eq!(chat_as(&h, &old, "chat", "2").await.status, 401);
    assert_eq!(chat_as(&h, &new, "chat", "3").await.status, 200);
    let r = h
        .call(
            "DELETE",
            &format!("/admin/keys/{id}"),
            &[("authorization", &master())],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let a = chat_as(&h, &new, "chat", "4").await;
    assert_eq!(a.status, 401);
    assert!(a.text().contains("revoked"));
    // Revoking the last key does not open the gateway to callers without a key.
    let a = h.post("/v1/chat/completions", &chat("chat", "5")).await;
    assert_eq!(a.status, 401);
    // Unknown ids are a 404; invalid settings a 400 naming the field.
    let r = h
        .call(
            "POST",
            "/admin/keys/key_nope/rotate",
            &[("authorization", &master())],
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = h
        .call(
            "POST",
            "/admin/keys",
            &[("authorization", &master())],
            Some(&json!({"rpm": 0})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("rpm"));
    h.finish().await;
}

#[tokio::test]
async fn a_request_rate_limit_answers_429_with_retry_after_and_counts_down() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let (_, secret) = create(&h, json!({"rpm": 3})).await;
    let mut remaining = Vec::new();
    for i in 0..3 {
        let a = chat_as(&h, &secret, "chat", &format!("q{i}")).await;
        assert_eq!(a.status, 200);
        remaining.push(a.header("x-ratelimit-remaining-requests"));
    }
    assert_eq!(
        remaining,
        [Some("2".into()), Some("1".into()), Some("0".into())]
    );
    let a = chat_as(&h, &secret, "chat", "one too many").await;
    assert_eq!(a.status, 429, "{}", a.text());
    assert_eq!(a.json()["error"]["code"], "rate_limit_exceeded");
    let retry: u64 = a
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=20).contains(&retry), "{retry}");
    h.finish().await;
}

/// 100 concurrent requests against a hard budget a few requests wide: the spend the ledger
/// records for the key never passes the budget, because every admission reserved its worst
/// case first and each actual cost is below it.
#[tokio::test]
async fn a_hard_budget_holds_under_100_concurrent_requests() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    // gpt-4o-mini: $0.15 in / $0.60 out per million. max_tokens = 200 and a short prompt make
    // a worst case of about $0.000124; a budget of $0.002 admits about 16 at once.
    let (id, secret) = create(
        &h,
        json!({"team": "race", "budgets": [{"period": "day", "limit_usd": "0.002"}]}),
    )
    .await;
    let base = h.base.clone();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let url = format!("{base}/v1/chat/completions");
        let auth = format!("Bearer {secret}");
        tasks.push(tokio::spawn(async move {
            let client = switchyard_providers::HttpClient::new(&Default::default()).ok()?;
            let body = json!({"model": "chat", "max_tokens": 200,
                "messages": [{"role": "user", "content": format!("Write a line about number {i}.")}]});
            let r = client
                .post_json(&url, &[("authorization", auth.as_str())], body.to_string())
                .await
                .ok()?;
            let code = serde_json::from_slice::<Value>(&r.body).ok()?["error"]["code"]
                .as_str()
                .map(str::to_string);
            Some((r.status, code))
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.ok().flatten() {
            Some((200, _)) => ok += 1,
            Some((429, Some(code))) if code == "budget_exceeded" => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
    // The admin view agrees with the ledger: nothing left in flight, spend within budget.
    let r = h
        .call(
            "GET",
            &format!("/admin/keys/{id}"),
            &[("authorization", &master())],
            None,
        )
        .await;
    let usage = &r.json()["usage"]["budgets"][0];
    assert_eq!(usage["reserved_usd"], "0", "{usage}");
    let recs = h.finish().await;
    let spent: Decimal = recs
        .iter()
        .filter(|r| r.key_id.as_deref() == Some(id.as_str()))
        .filter_map(|r| r.cost_usd.map(|c| c.0))
        .sum();
    let budget = Decimal::from_str("0.002").unwrap_or_default();
    assert!(spent <= budget, "spent {spent} > budget {budget}");
    assert!(spent > Decimal::ZERO);
    assert_eq!(
        recs.iter()
            .filter(|r| r.error_class.as_deref() == Some("budget_exceeded"))
            .count(),
        refused
    );
}

#[tokio::test]
async fn a_soft_budget_warns_in_a_header_and_still_serves() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let (_, secret) = create(
        &h,
        json!({"budgets": [{"period": "month", "limit_usd": "0.000001", "hard": false}]}),
    )
    .await;
    let a = chat_as(&h, &secret, "chat", "hello").await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.header("x-switchyard-budget-warning").is_some());
    assert_eq!(
        a.header("x-switchyard-budget-remaining-usd").as_deref(),
        Some("0")
    );
    h.finish().await;
}

#[tokio::test]
async fn a_key_created_by_another_process_is_picked_up() {
    let gw = format!("{GATEWAY}[admin]\nkey_poll_ms = 100\n");
    let h = start_with(SIM, &gw, ENV).await;
    // As `switchyard keys create` would: straight into the ledger file.
    let store = switchyard_governance::KeyStore::open(&h.ledger).unwrap();
    let (_, secret) = store
        .create(
            switchyard_governance::KeySpec::default(),
            chrono::Utc::now(),
        )
        .unwrap();
    drop(store);
    let mut status = 0;
    for _ in 0..30 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = chat_as(&h, &secret, "chat", "hi").await.status;
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200);
    // And now keys are enforced for everyone.
    assert_eq!(
        h.post("/v1/chat/completions", &chat("chat", "hi"))
            .await
            .status,
        401
    );
    h.finish().await;
}

#[tokio::test]
async fn patch_changes_only_the_given_settings_and_refuses_bad_ones() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let (id, secret) = create(&h, json!({"team": "a", "rpm": 100})).await;
    let auth = master();
    let r = h
        .call(
            "PATCH",
            &format!("/admin/keys/{id}"),
            &[("authorization", &auth)],
            Some(&json!({"rpm": 1})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["team"], "a", "untouched settings stay");
    assert_eq!(r.json()["rpm"], 1);
    // The new limit applies at once.
    assert_eq!(chat_as(&h, &secret, "chat", "1").await.status, 200);
    assert_eq!(chat_as(&h, &secret, "chat", "2").await.status, 429);
    for bad in [
        json!({"rpm": "fast"}),
        json!({"colour": "red"}),
        json!([1, 2]),
    ] {
        let r = h
            .call(
                "PATCH",
                &format!("/admin/keys/{id}"),
                &[("authorization", &auth)],
                Some(&bad),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    h.finish().await;
}
