//! The dashboard tests' gateway and ledger: a master key, one virtual key, and 40 requests
//! over 12 days on two routes (`tests/dashboard.rs`, `tests/dashboard_strategy.rs`).

use super::{Answer, Harness, MASTER, start_with};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use std::str::FromStr;
use switchyard_ledger::{Attempt, AttemptOutcome, Location, Record, RecordKind};
use switchyard_primitives::{Money, TokenUsage};

pub const SIM: &str = "seed = 2\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

pub const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.openai]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[providers.anthropic]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "chat"
targets = [{ provider = "openai", model = "gpt-4o-mini" }]
[[routes]]
name = "rag"
targets = [{ provider = "anthropic", model = "claude-haiku-4-5" }]
"#;

pub const ENV: &[(&str, &str)] = &[("SWITCHYARD_MASTER_KEY", MASTER)];

pub fn usd(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

/// A request `days_ago` days back (at most a minute ago today), on `route`, for `key`.
pub fn record(n: u32, days_ago: i64, route: &str, key: &str) -> Record {
    let (provider, model) = match route {
        "rag" => ("anthropic", "claude-haiku-4-5"),
        _ => ("openai", "gpt-4o-mini"),
    };
    let ts = Utc::now() - Duration::days(days_ago) - Duration::seconds(i64::from(n) + 60);
    Record {
        request_id: format!("req-{n}"),
        ts,
        kind: RecordKind::Chat,
        workload: Some(if route == "rag" { "search" } else { "support" }.into()),
        tags: vec![],
        key_id: Some(key.into()),
        team: Some("payments".into()),
        route: route.into(),
        provider: Some(provider.into()),
        model: Some(model.into()),
        attempts: vec![Attempt {
            provider: provider.into(),
            model: model.into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 10,
            error: None,
        }],
        status: if n % 5 == 0 { 502 } else { 200 },
        error_class: (n % 5 == 0).then(|| "upstream".into()),
        streamed: false,
        shadow: false,
        features: String::new(),
        usage: TokenUsage {
            input: 1000,
            output: 200,
            ..Default::default()
        },
        cost_usd: Some(usd("0.0125") * rust_decimal::Decimal::from(n % 3 + 1)),
        price_version: None,
        latency_ms: f64::from(10 * (n % 10 + 1)),
        ttft_ms: None,
        overhead_us: 50,
        usage_estimated: false,
        request_count: 1,
        source: "gateway".into(),
        prefix: None,
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

/// A gateway with a master key, one virtual key (its id and secret), and 40 requests over
/// 12 days: even ones on `chat` for the virtual key, odd ones on `rag` for `key_other`.
pub async fn seeded() -> (Harness, String, String) {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let r = h
        .call(
            "POST",
            "/admin/keys",
            &[("authorization", &bearer(MASTER))],
            Some(&json!({"name": "mine"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (id, secret) = (
        r.json()["key_info"]["id"].as_str().unwrap().to_string(),
        r.json()["key"].as_str().unwrap().to_string(),
    );
    let rows: Vec<Record> = (0..40u32)
        .map(|n| match n % 2 {
            0 => record(n, i64::from(n % 12), "chat", &id),
            _ => record(n, i64::from(n % 12), "rag", "key_other"),
        })
        .collect();
    let mut store = Location::from(h.ledger.as_path()).open().unwrap();
    assert_eq!(store.append(&rows).unwrap(), 40);
    (h, id, secret)
}

pub fn bearer(k: &str) -> String {
    format!("Bearer {k}")
}

pub async fn get(h: &Harness, path: &str, key: Option<&str>) -> Answer {
    let auth = key.map(bearer).unwrap_or_default();
    let headers: Vec<(&str, &str)> = key
        .map(|_| ("authorization", auth.as_str()))
        .into_iter()
        .collect();
    h.call("GET", path, &headers, None).await
}

pub async fn ok(h: &Harness, path: &str, key: &str) -> Value {
    let r = get(h, path, Some(key)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

pub fn money(v: &Value) -> Money {
    usd(v.as_str().unwrap_or_else(|| panic!("not money: {v}")))
}

pub fn store(h: &Harness) -> Box<dyn switchyard_ledger::Store> {
    Location::from(h.ledger.as_path()).open_existing().unwrap()
}
