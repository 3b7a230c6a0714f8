//! The exact response cache through the gateway, against the simulated providers: hit, miss
//! and bypass; OpenAI and Anthropic clients sharing entries; streamed and whole replays;
//! scopes, TTLs and the client's directives; what is never stored; the ledger's `cache` and
//! `saved_usd` with the budget and rate-limit rules; a failing store.

mod common;

use common::{Harness, sse_data, start};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchyard_cache::{Key, Store, StoreError, StoreFuture, StoreState};

const SIM: &str = "seed = 3\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.\"always-500\"]\nerror_rate = 1.0\n[models.\"cut\"]\ndisconnect_rate = 1.0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.oai]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "cached"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
ttl = "10m"
scope = "global"
[[routes]]
name = "by-team"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "team"
[[routes]]
name = "by-key"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "key"
[[routes]]
name = "short"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
ttl = 1
scope = "global"
[[routes]]
name = "warm"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "global"
allow_temperature = true
[[routes]]
name = "claude"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[routes.cache]
scope = "global"
[[routes]]
name = "claude-lengths"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[routes.cache]
scope = "global"
allow_length = true
[[routes]]
name = "broken"
targets = [{ provider = "oai", model = "always-500" }]
[routes.cache]
scope = "global"
[[routes]]
name = "cut"
targets = [{ provider = "oai", model = "cut" }]
[routes.cache]
scope = "global"
[[routes]]
name = "embed"
targets = [{ provider = "oai", model = "text-embedding-3-small" }]
[routes.cache]
scope = "global"
[[routes]]
name = "plain"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
"#;

fn chat(route: &str, text: &str) -> Value {
    json!({"model": route, "temperature": 0, "max_tokens": 50,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]})
}

fn message(route: &str, text: &str) -> Value {
    json!({"model": route, "temperature": 0, "max_tokens": 50, "system": "Be brief.",
        "messages": [{"role": "user", "content": text}]})
}

fn with_tools(mut body: Value) -> Value {
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    body
}

fn anthropic_tools(mut body: Value) -> Value {
    body["tools"] = json!([{"name": "get_weather", "description": "Weather for a city",
        "input_schema": {"properties": {"city": {"type": "string"}}, "type": "object"}}]);
    body
}

async fn send(h: &Harness, path: &str, body: &Value, headers: &[(&str, &str)]) -> common::Answer {
    h.post_with(path, body.to_string().into_bytes(), headers)
        .await
}

/// The cache header of a request, after asserting it succeeded.
async fn cache_of(h: &Harness, path: &str, body: &Value, headers: &[(&str, &str)]) -> String {
    let a = send(h, path, body, headers).await;
    assert_eq!(a.status, 200, "{}", a.text());
    a.header("x-switchyard-cache").unwrap_or_default()
}

/// Entries are written in the background: waits until `body` is a hit.
async fn until_hit(h: &Harness, path: &str, body: &Value) -> common::Answer {
    for _ in 0..100 {
        let a = send(h, path, body, &[]).await;
        if a.header("x-switchyard-cache").as_deref() == Some("hit") {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let a = send(h, path, body, &[]).await;
    panic!(
        "never became a hit: {:?} {}",
        a.header("x-switchyard-cache"),
        a.text()
    );
}

#[tokio::test]
async fn a_repeated_request_is_a_hit_served_without_the_provider_and_recorded_with_its_saving() {
    let h = start(SIM, GATEWAY).await;
    let body = chat("cached", "What is a cache?");
    let first = send(&h, "/v1/chat/completions", &body, &[]).await;
    assert_eq!(first.header("x-switchyard-cache").as_deref(), Some("miss"));
    let hit = until_hit(&h, "/v1/chat/completions", &body).await;
    assert_eq!(
        hit.json()["choices"][0]["message"]["content"],
        first.json()["choices"][0]["message"]["content"]
    );
    for n in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        assert_eq!(
            hit.json()["usage"][n],
            first.json()["usage"][n],
            "the original usage is replayed"
        );
    }
    assert_eq!(hit.header("x-switchyard-cost-usd").as_deref(), Some("0"));
    assert_eq!(
        h.sim_count("gpt-4o-mini").await,
        1,
        "the hit never reached the provider"
    );
    let plain = cache_of(&h, "/v1/chat/completions", &chat("plain", "x"), &[]).await;
    assert_eq!(plain, "", "a route without a cache says nothing about one");
    let records = h.finish().await;
    let miss = records
        .iter()
        .find(|r| r.route == "cached" && r.cache.is_none())
        .unwrap();
    let hit = records
        .iter()
        .find(|r| r.cache.as_deref() == Some("exact"))
        .unwrap();
    assert!(hit.cost_usd.unwrap().is_zero());
    assert_eq!(
        hit.saved_usd, miss.cost_usd,
        "the saving is the original answer's cost"
    );
    assert!(!hit.saved_usd.unwrap().is_zero());
    assert_eq!(hit.usage.total(), 0, "no tokens were processed for the hit");
    assert_eq!(hit.model.as_deref(), Some("gpt-4o-mini"));
}

#[tokio::test]
async fn openai_and_anthropic_clients_asking_the_same_thing_share_one_entry() {
    let h = start(SIM, GATEWAY).await;
    let first = send(&h, "/v1/chat/completions", &chat("cached", "Share me"), &[]).await;
    assert_eq!(first.status, 200);
    let a = until_hit(&h, "/v1/messages", &message("cached", "Share me")).await;
    let v = a.json();
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["model"], "cached",
        "an Anthropic client sees the name it asked for"
    );
    assert_eq!(
        v["content"][0]["text"],
        first.json()["choices"][0]["message"]["content"]
    );
    assert_eq!(h.sim_count("gpt-4o-mini").await, 1);
    // And the other way round, on an Anthropic target.
    // (A limit the answer stays under: length stops are not stored on this route.)
    let mut m = message("claude", "Other way");
    m["max_tokens"] = json!(2000);
    let mut c = chat("claude", "Other way");
    c["max_tokens"] = json!(2000);
    let m = send(&h, "/v1/messages", &m, &[]).await;
    assert_eq!(m.status, 200, "{}", m.text());
    assert_eq!(m.json()["stop_reason"], "end_turn");
    let o = until_hit(&h, "/v1/chat/completions", &c).await;
    assert_eq!(
        o.json()["choices"][0]["message"]["content"],
        m.json()["content"][0]["text"]
    );
    assert_eq!(h.sim_count("claude-sonnet-4-5").await, 1);
}

#[tokio::test]
async fn a_streamed_hit_replays_as_sse_in_both_dialects_with_tool_calls_and_usage() {
    let h = start(SIM, GATEWAY).await;
    let body = with_tools(chat("cached", "Weather in Paris?"));
    let first = send(&h, "/v1/chat/completions", &body, &[]).await;
    let call = first.json()["choices"][0]["message"]["tool_calls"][0].clone();
    assert_eq!(call["function"]["name"], "get_weather", "{}", first.text());
    until_hit(&h, "/v1/chat/completions", &body).await;

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let a = send(&h, "/v1/chat/completions", &streamed, &[]).await;
    assert_eq!(a.header("x-switchyard-cache").as_deref(), Some("hit"));
    assert!(
        a.header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let data = sse_data(&a.text());
    let chunks: Vec<Value> = data
        .iter()
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let tool = chunks
        .iter()
        .find_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0).cloned())
        .unwrap();
    assert_eq!(tool["id"], call["id"]);
    assert_eq!(tool["function"]["arguments"], call["function"]["arguments"]);
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    let usage = chunks.iter().find(|c| c["usage"].is_object()).unwrap();
    assert_eq!(
        usage["usage"]["total_tokens"],
        first.json()["usage"]["total_tokens"]
    );
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    streamed.as_object_mut().unwrap().remove("stream_options");
    let no_usage = send(&h, "/v1/chat/completions", &streamed, &[]).await;
    assert!(
        !no_usage.text().contains("prompt_tokens"),
        "usage only when asked for"
    );

    let mut m = anthropic_tools(message("cached", "Weather in Paris?"));
    m["stream"] = json!(true);
    let a = send(&h, "/v1/messages", &m, &[]).await;
    assert_eq!(
        a.header("x-switchyard-cache").as_deref(),
        Some("hit"),
        "{}",
        a.text()
    );
    let text = a.text();
    let start = text.find("event: message_start").unwrap();
    let tool_use = text.find("\"tool_use\"").unwrap();
    let stop = text.find("event: message_stop").unwrap();
    assert!(start < tool_use && tool_use < stop, "{text}");
    assert!(text.contains("\"stop_reason\":\"tool_use\""));
    assert_eq!(h.sim_count("gpt-4o-mini").await, 1);
}

#[tokio::test]
async fn a_non_streamed_request_is_served_from_a_streamed_answer_in_either_dialect() {
    let h = start(SIM, GATEWAY).await;
    let mut streamed = chat("cached", "Stream me first");
    streamed["stream"] = json!(true);
    let s = send(&h, "/v1/chat/completions", &streamed, &[]).await;
    assert_eq!(s.header("x-switchyard-cache").as_deref(), Some("miss"));
    let text: String = sse_data(&s.text())
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let whole = until_hit(
        &h,
        "/v1/chat/completions",
        &chat("cached", "Stream me first"),
    )
    .await;
    assert_eq!(
        whole.json()["choices"][0]["message"]["content"],
        text.as_str()
    );
    // An Anthropic passthrough stream folds too.
    let mut m = message("claude", "Anthropic stream");
    m["stream"] = json!(true);
    let live = send(&h, "/v1/messages", &m, &[]).await;
    assert_eq!(live.status, 200);
    let hit = until_hit(&h, "/v1/messages", &message("claude", "Anthropic stream")).await;
    assert_eq!(hit.json()["type"], "message");
    assert_eq!(h.sim_count("claude-sonnet-4-5").await, 1);
}

#[tokio::test]
async fn a_team_or_key_scoped_entry_never_serves_another_team_or_key() {
    let h = start(SIM, GATEWAY).await;
    let body = chat("by-team", "Team secret");
    let a = [("x-switchyard-tags", "team=a")];
    let b = [("x-switchyard-tags", "team=b")];
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &body, &a).await,
        "miss"
    );
    for _ in 0..100 {
        if cache_of(&h, "/v1/chat/completions", &body, &a).await == "hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &body, &b).await,
        "miss"
    );

    let spec = |team: &str| switchyard_governance::KeySpec {
        team: Some(team.into()),
        ..Default::default()
    };
    let (_, ka) = h.gateway.create_key(spec("a")).unwrap();
    let (_, kb) = h.gateway.create_key(spec("a")).unwrap();
    let (auth_a, auth_b) = (format!("Bearer {ka}"), format!("Bearer {kb}"));
    let body = chat("by-key", "Key secret");
    let with = |auth: &str| [("authorization", auth.to_string())];
    let ha = with(&auth_a);
    let ha: Vec<(&str, &str)> = ha.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let hb = with(&auth_b);
    let hb: Vec<(&str, &str)> = hb.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &body, &ha).await,
        "miss"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &body, &ha).await,
        "hit"
    );
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &body, &hb).await,
        "miss",
        "another key of the same team does not see a key-scoped entry"
    );
}

#[tokio::test]
async fn an_entry_expires_after_its_ttl() {
    let h = start(SIM, GATEWAY).await;
    let body = chat("short", "Brief");
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &body, &[]).await,
        "miss"
    );
    until_hit(&h, "/v1/chat/completions", &body).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &body, &[]).await,
        "miss"
    );
}

#[tokio::test]
async fn no_cache_refreshes_no_store_and_off_bypass_and_refresh_goes_upstream() {
    let h = start(SIM, GATEWAY).await;
    let p = "/v1/chat/completions";
    let body = chat("cached", "Directive");
    let off = [("x-switchyard-cache", "off")];
    let no_store = [("cache-control", "no-store")];
    assert_eq!(cache_of(&h, p, &body, &no_store).await, "bypass");
    assert_eq!(cache_of(&h, p, &body, &off).await, "bypass");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        cache_of(&h, p, &body, &[]).await,
        "miss",
        "no-store wrote nothing"
    );
    until_hit(&h, p, &body).await;
    assert_eq!(
        cache_of(&h, p, &body, &off).await,
        "bypass",
        "off does not read either"
    );
    let before = h.sim_count("gpt-4o-mini").await;
    assert_eq!(
        cache_of(&h, p, &body, &[("cache-control", "no-cache")]).await,
        "miss"
    );
    assert_eq!(
        cache_of(&h, p, &body, &[("x-switchyard-cache", "refresh")]).await,
        "miss"
    );
    assert_eq!(
        h.sim_count("gpt-4o-mini").await,
        before + 2,
        "refreshes go upstream"
    );
    assert_eq!(
        cache_of(&h, p, &body, &[]).await,
        "hit",
        "and leave an entry"
    );
}

#[tokio::test]
async fn errors_cut_streams_and_length_stops_are_not_stored_unless_the_route_allows_lengths() {
    let h = start(SIM, GATEWAY).await;
    let p = "/v1/chat/completions";
    let mut calls = Vec::new();
    for _ in 0..2 {
        let a = send(&h, p, &chat("broken", "fail"), &[]).await;
        assert_eq!(a.status, 502);
        calls.push(h.sim_count("always-500").await);
    }
    assert_eq!(
        calls[1],
        2 * calls[0],
        "an error is not stored: the second call goes upstream too"
    );
    let mut cut = chat("cut", "cut me");
    cut["stream"] = json!(true);
    let mut calls = Vec::new();
    for _ in 0..2 {
        let a = send(&h, p, &cut, &[]).await;
        assert_ne!(a.header("x-switchyard-cache").as_deref(), Some("hit"));
        tokio::time::sleep(Duration::from_millis(30)).await;
        calls.push(h.sim_count("cut").await);
    }
    assert_eq!(calls[1], 2 * calls[0], "a cut stream is not an answer");
    let mut long = message("claude", "Tell me a long story about caches");
    long["max_tokens"] = json!(1);
    for _ in 0..2 {
        let a = send(&h, "/v1/messages", &long, &[]).await;
        assert_eq!(a.json()["stop_reason"], "max_tokens", "{}", a.text());
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(
        h.sim_count("claude-sonnet-4-5").await,
        2,
        "length stops are not stored"
    );
    long["model"] = json!("claude-lengths");
    send(&h, "/v1/messages", &long, &[]).await;
    until_hit(&h, "/v1/messages", &long).await;
}

#[tokio::test]
async fn temperature_above_zero_is_cached_only_where_the_route_allows_it() {
    let h = start(SIM, GATEWAY).await;
    let p = "/v1/chat/completions";
    let mut warm = chat("cached", "Creative");
    warm["temperature"] = json!(0.7);
    assert_eq!(cache_of(&h, p, &warm, &[]).await, "bypass");
    warm.as_object_mut().unwrap().remove("temperature");
    assert_eq!(
        cache_of(&h, p, &warm, &[]).await,
        "bypass",
        "the default temperature is 1"
    );
    warm["model"] = json!("warm");
    assert_eq!(cache_of(&h, p, &warm, &[]).await, "miss");
    until_hit(&h, p, &warm).await;
}

#[tokio::test]
async fn a_hit_consumes_the_request_rate_but_no_token_budget() {
    let h = start(SIM, GATEWAY).await;
    let spec = switchyard_governance::KeySpec {
        rpm: Some(3),
        tpm: Some(100_000),
        budgets: vec![switchyard_governance::Budget {
            period: switchyard_governance::Period::Day,
            limit_usd: "10".parse().unwrap(),
            hard: true,
        }],
        ..Default::default()
    };
    let (info, secret) = h.gateway.create_key(spec).unwrap();
    let auth = format!("Bearer {secret}");
    let hdr = [("authorization", auth.as_str())];
    let body = chat("cached", "Rate me");
    let first = send(&h, "/v1/chat/completions", &body, &hdr).await;
    assert_eq!(first.status, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let tokens_after_miss = h
        .gateway
        .key_usage(&info.id)
        .unwrap()
        .tokens_remaining
        .unwrap();
    let hit = send(&h, "/v1/chat/completions", &body, &hdr).await;
    assert_eq!(hit.header("x-switchyard-cache").as_deref(), Some("hit"));
    assert_eq!(
        hit.header("x-ratelimit-remaining-requests").as_deref(),
        Some("1")
    );
    let tokens_after_hit: u64 = hit
        .header("x-ratelimit-remaining-tokens")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        tokens_after_hit, tokens_after_miss,
        "the hit held no tokens"
    );
    send(&h, "/v1/chat/completions", &body, &hdr).await;
    let refused = send(&h, "/v1/chat/completions", &body, &hdr).await;
    assert_eq!(refused.status, 429, "hits count against rpm");
    let usage = h.gateway.key_usage(&info.id).unwrap();
    let records = h.finish().await;
    let miss_cost = records
        .iter()
        .find(|r| r.cache.is_none() && r.status == 200)
        .and_then(|r| r.cost_usd)
        .unwrap();
    assert_eq!(
        usage.budgets[0].spent_usd, miss_cost,
        "only the miss is charged"
    );
    assert!(
        usage.budgets[0].reserved_usd.is_zero(),
        "no hold is left behind"
    );
}

/// A store whose every operation fails, as a Redis that is down would.
struct Down;

impl Store for Down {
    fn get<'a>(&'a self, _: &'a Key) -> StoreFuture<'a, Option<bytes::Bytes>> {
        Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) })
    }
    fn put<'a>(&'a self, _: &'a Key, _: bytes::Bytes, _: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) })
    }
    fn remove<'a>(&'a self, _: &'a Key) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) })
    }
    fn state(&self) -> StoreState {
        StoreState {
            kind: "down",
            healthy: false,
            entries: None,
            bytes: None,
            evictions: 0,
            last_error: Some("connection refused".into()),
        }
    }
}

#[tokio::test]
async fn a_failing_store_never_fails_a_request_and_shows_in_status() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_cache_store(Arc::new(Down));
    let body = chat("cached", "Store is down");
    for _ in 0..3 {
        assert_eq!(
            cache_of(&h, "/v1/chat/completions", &body, &[]).await,
            "miss"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h.sim_count("gpt-4o-mini").await, 3);
    let status = h.get(&format!("{}/v1/status", h.base)).await.json();
    assert_eq!(status["cache"]["store"], "down");
    assert_eq!(status["cache"]["healthy"], false);
    assert!(status["cache"]["failures"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn malformed_cache_configuration_is_refused_naming_each_field() {
    let text = GATEWAY
        .replace("SIM_URL", "http://127.0.0.1:9")
        .replace("ttl = \"10m\"", "ttl = -5")
        .replace("scope = \"team\"", "scope = \"tenant\"")
        + "[cache]\nurl = \"memcached://localhost\"\n";
    let errs = switchyard_gateway::Config::from_toml(&text).unwrap_err();
    let paths: Vec<&str> = errs.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["routes[0].cache.ttl", "routes[1].cache.scope", "cache.url"],
        "{errs}"
    );
}

#[tokio::test]
async fn an_embeddings_batch_with_known_inputs_sends_only_the_rest_and_reassembles_in_order() {
    let h = start(SIM, GATEWAY).await;
    let p = "/v1/embeddings";
    let first = send(
        &h,
        p,
        &json!({"model": "embed", "input": ["alpha", "beta"]}),
        &[],
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("x-switchyard-cache").as_deref(), Some("miss"));
    let f = first.json();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mixed = send(
        &h,
        p,
        &json!({"model": "embed", "input": ["beta", "gamma", "alpha"]}),
        &[],
    )
    .await;
    assert_eq!(mixed.status, 200, "{}", mixed.text());
    let m = mixed.json();
    let index: Vec<u64> = m["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["index"].as_u64().unwrap())
        .collect();
    assert_eq!(index, [0, 1, 2], "in the client's order");
    assert_eq!(
        m["data"][0]["embedding"], f["data"][1]["embedding"],
        "beta from the cache"
    );
    assert_eq!(
        m["data"][2]["embedding"], f["data"][0]["embedding"],
        "alpha from the cache"
    );
    assert!(
        m["usage"]["prompt_tokens"].as_u64().unwrap()
            > f["usage"]["prompt_tokens"].as_u64().unwrap()
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let calls = h.sim_count("text-embedding-3-small").await;
    let all = send(
        &h,
        p,
        &json!({"model": "embed", "input": ["gamma", "beta"]}),
        &[],
    )
    .await;
    assert_eq!(all.header("x-switchyard-cache").as_deref(), Some("hit"));
    assert_eq!(
        all.json()["data"][0]["embedding"],
        m["data"][1]["embedding"]
    );
    assert_eq!(
        h.sim_count("text-embedding-3-small").await,
        calls,
        "no provider call"
    );
    let records = h.finish().await;
    let embeds: Vec<_> = records.iter().filter(|r| r.route == "embed").collect();
    assert_eq!(embeds.len(), 3);
    assert!(embeds[0].cache.is_none());
    assert_eq!(embeds[1].cache.as_deref(), Some("exact"), "partly served");
    assert!(
        !embeds[1].cost_usd.unwrap().is_zero(),
        "the upstream part is charged"
    );
    assert!(!embeds[1].saved_usd.unwrap().is_zero());
    assert!(embeds[2].cost_usd.unwrap().is_zero());
}

/// A store in which every key collides: whatever was written last is found under any key, as
/// an entry planted by a crafted lookup-digest collision would be.
struct OneSlot(switchyard_cache::MemoryStore);

const SLOT: Key = Key([0; 32]);

impl Store for OneSlot {
    fn get<'a>(&'a self, _: &'a Key) -> StoreFuture<'a, Option<bytes::Bytes>> {
        self.0.get(&SLOT)
    }
    fn put<'a>(&'a self, _: &'a Key, value: bytes::Bytes, ttl: Duration) -> StoreFuture<'a, ()> {
        self.0.put(&SLOT, value, ttl)
    }
    fn remove<'a>(&'a self, _: &'a Key) -> StoreFuture<'a, ()> {
        self.0.remove(&SLOT)
    }
    fn state(&self) -> StoreState {
        self.0.state()
    }
}

#[tokio::test]
async fn an_entry_planted_under_another_requests_key_is_never_served_on_a_shared_or_another_scope()
{
    let h = start(SIM, GATEWAY).await;
    h.gateway
        .set_cache_store(Arc::new(OneSlot(switchyard_cache::MemoryStore::new(
            1 << 20,
        ))));
    let planted = chat("cached", "What is the capital of France?");
    let first = send(&h, "/v1/chat/completions", &planted, &[]).await;
    assert_eq!(first.status, 200);
    until_hit(&h, "/v1/chat/completions", &planted).await;
    let upstream = h.sim_count("gpt-4o-mini").await;

    // `global`: another request finds the planted entry under its key; the check digest
    // differs, so it is a miss answered by the provider.
    let victim = chat("cached", "How do I reset my password?");
    let a = send(&h, "/v1/chat/completions", &victim, &[]).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("x-switchyard-cache").as_deref(), Some("miss"));
    assert_ne!(
        a.json()["choices"][0]["message"]["content"],
        first.json()["choices"][0]["message"]["content"]
    );
    assert_eq!(h.sim_count("gpt-4o-mini").await, upstream + 1);

    // Another scope (team b finds team a's entry for the same question): a miss too.
    let team = chat("by-team", "Team question");
    let ta = [("x-switchyard-tags", "team=a")];
    let tb = [("x-switchyard-tags", "team=b")];
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &team, &ta).await,
        "miss"
    );
    for _ in 0..100 {
        if cache_of(&h, "/v1/chat/completions", &team, &ta).await == "hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        cache_of(&h, "/v1/chat/completions", &team, &tb).await,
        "miss"
    );

    let status = h.get(&format!("{}/v1/status", h.base)).await.json();
    assert!(
        status["cache"]["refused"].as_u64().unwrap() >= 2,
        "{}",
        status["cache"]
    );
}

#[tokio::test]
async fn openai_and_anthropic_clients_asking_the_same_uncached_thing_count_as_duplicates() {
    let h = start(SIM, &format!("{GATEWAY}\n[strategy]\napi = true\n")).await;
    let off = [("x-switchyard-cache", "off")];
    let question = "Duplicate me";
    let a = send(&h, "/v1/chat/completions", &chat("cached", question), &off).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("x-switchyard-cache").as_deref(), Some("bypass"));
    // The same question from an Anthropic client, its JSON in another key order.
    let m = r#"{"messages":[{"content":"Duplicate me","role":"user"}],"system":"Be brief.","max_tokens":50,"temperature":0,"model":"cached"}"#;
    let b = h
        .post_with("/v1/messages", m.as_bytes().to_vec(), &off)
        .await;
    assert_eq!(b.status, 200, "{}", b.text());
    // A different question is not a duplicate.
    let c = send(&h, "/v1/chat/completions", &chat("cached", "Other"), &off).await;
    assert_eq!(c.status, 200);
    h.gateway.recorder().flush();
    let r = h.get(&format!("{}/v1/strategy/report", h.base)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let levers = &r.json()["levers"];
    assert_eq!(levers["on_the_table"]["duplicates"], 1, "{levers}");
    h.finish().await;
}
