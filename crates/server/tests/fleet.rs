//! Two gateways ("replicas") sharing one ledger and, through `[fleet]`, one Redis (the shared
//! one on 127.0.0.1:6379, under a random prefix deleted at the end): a hard budget holds for
//! both together, and a key change made on one reaches the other within a second by the
//! key-change notice alone (the store poll is set to an hour), and a circuit breaker opened
//! by one is open on the other within a second.

mod common;

use common::{Harness, MASTER, chat, start_against, start_with};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Every answer takes 500 ms, so concurrent requests are all in flight at once.
const SLOW_SIM: &str = "seed = 3\n[defaults]\nttft_ms = 500\ntokens_per_second = 0\n";
const FAST_SIM: &str = "seed = 3\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const ENV: &[(&str, &str)] = &[("SWITCHYARD_MASTER_KEY", MASTER)];

fn gateway_toml(prefix: &str) -> String {
    format!(
        r#"
[breaker]
min_requests = 3
error_ratio = 0.5
cooldown_s = 30
[ledger]
flush_interval_ms = 50
[admin]
key_poll_ms = 3600000
[fleet]
redis_url = "redis://127.0.0.1:6379"
prefix = "{prefix}"
heartbeat_ms = 200
[providers.sim]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "chat"
targets = [{{ provider = "sim", model = "gpt-4o-mini" }}]
"#
    )
}

/// Deletes the test's keys from the shared Redis when dropped.
struct Prefix(String);

impl Prefix {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Prefix(format!(
            "switchyard:test:fleet:{}-{nanos}:",
            std::process::id()
        ))
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(mut conn) =
            redis::Client::open("redis://127.0.0.1:6379").and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<u64> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// Replica A (with the sim) and replica B on A's ledger and sim.
async fn two_replicas(prefix: &Prefix, sim: &str) -> (Harness, Harness) {
    let toml = gateway_toml(&prefix.0);
    let a = start_with(sim, &toml, ENV).await;
    let b = start_against(a.sim.clone(), None, &toml, ENV, a.dir.clone()).await;
    (a, b)
}

async fn admin(h: &Harness, method: &str, path: &str, body: Option<&Value>) -> common::Answer {
    let auth = format!("Bearer {MASTER}");
    h.call(method, path, &[("authorization", &auth)], body)
        .await
}

async fn ask(h: &Harness, secret: &str, max_tokens: u64) -> (u16, Option<String>) {
    let auth = format!("Bearer {secret}");
    let mut body = chat("chat", "Say one word.");
    body["max_tokens"] = json!(max_tokens);
    let r = h
        .post_with(
            "/v1/chat/completions",
            body.to_string().into_bytes(),
            &[("authorization", &auth)],
        )
        .await;
    let code = r.json()["error"]["code"].as_str().map(str::to_string);
    (r.status, code)
}

/// Asks until `want` answers, for at most `within`; how long it took.
async fn until(h: &Harness, secret: &str, want: u16, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if ask(h, secret, 5).await.0 == want {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_together_admit_only_what_one_hard_budget_holds() {
    let prefix = Prefix::new();
    let (a, b) = two_replicas(&prefix, SLOW_SIM).await;
    // Worst case of one request: 10,000 output tokens at $0.60/M = $0.006 plus a tiny prompt,
    // so $0.010 holds one request in flight, never two, whichever replica takes them.
    let spec = json!({"budgets": [{"period": "day", "limit_usd": "0.010"}]});
    let r = admin(&a, "POST", "/admin/keys", Some(&spec)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let secret = r.json()["key"].as_str().unwrap_or_default().to_string();
    assert!(
        until(&b, &secret, 200, Duration::from_secs(2))
            .await
            .is_some()
    );
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (base, secret) = (
            if i % 2 == 0 { &a } else { &b }.base.clone(),
            secret.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = switchyard_providers::HttpClient::new(&Default::default()).ok()?;
            let body = json!({"model": "chat", "max_tokens": 10_000,
                "messages": [{"role": "user", "content": "Say one word."}]});
            let auth = format!("Bearer {secret}");
            let r = client
                .post_json(
                    &format!("{base}/v1/chat/completions"),
                    &[("authorization", auth.as_str())],
                    body.to_string(),
                )
                .await
                .ok()?;
            let code = serde_json::from_slice::<Value>(&r.body).ok()?["error"]["code"]
                .as_str()
                .map(str::to_string);
            Some((r.status, code))
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.ok().flatten());
    }
    let ok = answers
        .iter()
        .filter(|a| matches!(a, Some((200, _))))
        .count();
    let refused = answers
        .iter()
        .filter(|a| matches!(a, Some((429, Some(c))) if c == "budget_exceeded"))
        .count();
    assert_eq!((ok, refused), (1, 9), "{answers:?}");
    // The hold is settled (asynchronously): the budget admits a request again.
    assert!(
        until(&b, &secret, 200, Duration::from_secs(2))
            .await
            .is_some()
    );
    let status = admin(&a, "GET", "/v1/status", None).await.json();
    assert_eq!(status["fleet"]["mode"], "shared", "{status}");
    assert_eq!(status["fleet"]["fallback_admissions"], 0, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_created_and_revoked_on_one_replica_takes_effect_on_the_other_within_a_second() {
    let prefix = Prefix::new();
    let (a, b) = two_replicas(&prefix, FAST_SIM).await;
    let r = admin(&a, "POST", "/admin/keys", Some(&json!({"rpm": 1000}))).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let secret = r.json()["key"].as_str().unwrap_or_default().to_string();
    let id = r.json()["key_info"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let seen = until(&b, &secret, 200, Duration::from_secs(1)).await;
    assert!(seen.is_some(), "B accepted the new key within 1 s");
    let r = admin(&a, "POST", &format!("/admin/keys/{id}/revoke"), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let refused = until(&b, &secret, 401, Duration::from_secs(1)).await;
    assert!(refused.is_some(), "B refused the revoked key within 1 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_opened_by_one_replica_is_open_on_the_other_within_a_second() {
    let prefix = Prefix::new();
    let (a, b) = two_replicas(&prefix, FAST_SIM).await;
    a.sim_behaviour("gpt-4o-mini", &json!({"error_rate": 1.0}))
        .await;
    for _ in 0..4 {
        let r = a.post("/v1/chat/completions", &chat("chat", "hi")).await;
        assert!(r.status >= 500, "{}", r.text());
    }
    let breaker = |v: &Value| v["routes"][0]["targets"][0]["breaker"].clone();
    let status = admin(&a, "GET", "/v1/status", None).await.json();
    assert_eq!(breaker(&status), "open", "{status}");
    let start = Instant::now();
    let mut seen = false;
    while start.elapsed() < Duration::from_secs(1) && !seen {
        seen = breaker(&admin(&b, "GET", "/v1/status", None).await.json()) == "open";
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(seen, "B's breaker opened within 1 s");
    let calls = a.sim_count("gpt-4o-mini").await;
    let r = b.post("/v1/chat/completions", &chat("chat", "hi")).await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "circuit_open");
    assert_eq!(
        a.sim_count("gpt-4o-mini").await,
        calls,
        "B called no provider"
    );
}

#[tokio::test]
async fn a_reload_that_changes_fleet_keeps_the_running_fleet_and_says_so() {
    let prefix = Prefix::new();
    let toml = gateway_toml(&prefix.0);
    let h = start_with(FAST_SIM, &toml, ENV).await;
    let text = std::fs::read_to_string(&h.config_file).unwrap_or_default();
    std::fs::write(
        &h.config_file,
        text.replace("heartbeat_ms = 200", "heartbeat_ms = 300"),
    )
    .ok();
    let r = admin(&h, "POST", "/admin/reload", None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text()
            .contains("[fleet] takes effect at the next restart"),
        "{}",
        r.text()
    );
    let status = admin(&h, "GET", "/v1/status", None).await.json();
    assert_eq!(status["fleet"]["mode"], "shared", "{status}");
}
