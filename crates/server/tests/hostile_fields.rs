//! Hostile and invalid request bodies through the HTTP API, in both dialects: fields the
//! gateway models are refused with a 400 naming them (OpenAI's `param`, the path in
//! Anthropic's message) before anything reaches an upstream; bodies of many members or deep
//! nesting are refused at once; client strings reach the ledger bounded and escaped.

mod common;

use common::{Answer, Harness, start};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SIM: &str = "seed = 3\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

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
name = "chat"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes]]
name = "embed"
targets = [{ provider = "oai", model = "text-embedding-3-small" }]
[[routes]]
name = "claude"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "claude-via-openai"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
"#;

/// `base` with `patch`'s members set over it.
fn merged(base: Value, patch: Value) -> Value {
    let mut body = base;
    if let (Some(b), Some(p)) = (body.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

fn chat(patch: Value) -> Value {
    merged(
        json!({"model": "chat", "messages": [{"role": "user", "content": "hi"}]}),
        patch,
    )
}

fn message(route: &str, patch: Value) -> Value {
    merged(
        json!({"model": route, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}),
        patch,
    )
}

/// Asserts an OpenAI-shaped 400 whose `param` is `param`.
fn assert_openai_400(a: &Answer, param: &str, what: &str) {
    assert_eq!(a.status, 400, "{what}: {}", a.text());
    let e = &a.json()["error"];
    assert_eq!(e["type"], "invalid_request_error", "{what}: {}", a.text());
    assert_eq!(e["param"], param, "{what}: {}", a.text());
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// Asserts an Anthropic-shaped 400 whose message names `path`.
fn assert_anthropic_400(a: &Answer, path: &str, what: &str) {
    assert_eq!(a.status, 400, "{what}: {}", a.text());
    let v = a.json();
    assert_eq!(v["type"], "error", "{what}: {}", a.text());
    assert_eq!(v["error"]["type"], "invalid_request_error", "{what}");
    let msg = v["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains(path), "{what}: {msg}");
}

async fn upstream_calls(h: &Harness) -> u64 {
    h.sim_count("gpt-4o-mini").await
        + h.sim_count("text-embedding-3-small").await
        + h.sim_count("claude-sonnet-4-5").await
}

#[tokio::test]
async fn invalid_openai_fields_are_refused_with_their_param_and_never_forwarded() {
    let h = start(SIM, GATEWAY).await;
    let image = |part: Value| json!({"messages": [{"role": "user", "content": [part]}]});
    let cases = [
        (chat(json!({"logit_bias": "x"})), "logit_bias"),
        (chat(json!({"logit_bias": {"50256": 500}})), "logit_bias"),
        (
            chat(json!({"logprobs": true, "top_logprobs": 21})),
            "top_logprobs",
        ),
        (chat(json!({"top_logprobs": 2})), "top_logprobs"),
        (
            chat(image(json!({"type": "image_url"}))),
            "messages[0].content[0].image_url",
        ),
        (
            chat(image(json!({"type": "image_url", "image_url": {"url": 7}}))),
            "messages[0].content[0].image_url.url",
        ),
        (
            chat(image(
                json!({"type": "image_url", "image_url": {"url": "u", "detail": "max"}}),
            )),
            "messages[0].content[0].image_url.detail",
        ),
        (
            chat(json!({"messages": [{"role": "assistant", "tool_calls": "x"}]})),
            "messages[0].tool_calls",
        ),
        (chat(json!({"user": 12})), "user"),
        (chat(json!({"model": "ch\u{0}at"})), "model"),
    ];
    for (body, param) in cases {
        let a = h.post("/v1/chat/completions", &body).await;
        assert_openai_400(&a, param, &body.to_string());
    }
    let embed = |patch: Value| merged(json!({"model": "embed", "input": "x"}), patch);
    let cases = [
        (embed(json!({"input": ""})), "input"),
        (embed(json!({"input": []})), "input"),
        (embed(json!({"input": ["a", ""]})), "input[1]"),
        (embed(json!({"user": {"id": 1}})), "user"),
    ];
    for (body, param) in cases {
        let a = h.post("/v1/embeddings", &body).await;
        assert_openai_400(&a, param, &body.to_string());
    }
    let huge_role = chat(json!({"messages": [{"role": "r".repeat(1_000_000), "content": "x"}]}));
    let a = h.post("/v1/chat/completions", &huge_role).await;
    assert_openai_400(&a, "messages[0]", "a megabyte-long role");
    assert!(
        a.body.len() < 2_000,
        "the quote is bounded: {} bytes",
        a.body.len()
    );
    assert_eq!(upstream_calls(&h).await, 0, "nothing invalid was forwarded");
    let ok = h
        .post(
            "/v1/chat/completions",
            &chat(json!({"logprobs": true, "top_logprobs": 2, "logit_bias": {"50256": -100}})),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    h.finish().await;
}

#[tokio::test]
async fn invalid_anthropic_fields_are_refused_by_path_on_every_route() {
    let h = start(SIM, GATEWAY).await;
    for route in ["claude", "claude-via-openai"] {
        let cases = [
            (
                json!({"tools": [{"name": "get weather", "input_schema": {"type": "object"}}]}),
                "tools[0].name",
            ),
            (
                json!({"tools": [{"name": "f", "input_schema": "x"}]}),
                "tools[0].input_schema",
            ),
            (json!({"top_k": 0}), "top_k"),
            (json!({"model": format!("{route}\u{0}")}), "model"),
        ];
        for (patch, path) in cases {
            let body = message(route, patch);
            let a = h.post("/v1/messages", &body).await;
            assert_anthropic_400(&a, path, &body.to_string());
            let count = h.post("/v1/messages/count_tokens", &body).await;
            assert_anthropic_400(&count, path, &format!("count_tokens {body}"));
        }
    }
    assert_eq!(upstream_calls(&h).await, 0, "nothing invalid was forwarded");
    h.finish().await;
}

#[tokio::test]
async fn count_tokens_refuses_repeated_top_level_members() {
    let h = start(SIM, GATEWAY).await;
    let body = br#"{"model":"claude","messages":[{"role":"user","content":"hi"}],"model":"other"}"#;
    let a = h
        .post_with("/v1/messages/count_tokens", body.to_vec(), &[])
        .await;
    assert_anthropic_400(&a, "`model` appears more than once", "repeated model");
    let ok = br#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#;
    let a = h
        .post_with("/v1/messages/count_tokens", ok.to_vec(), &[])
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.json()["input_tokens"].as_u64().is_some_and(|n| n > 0));
    h.finish().await;
}

/// `{"model":…,"k0":0,…}` with `n` members after `prefix`'s.
fn many_members(prefix: &str, n: usize) -> Vec<u8> {
    let mut s = format!("{{{prefix}");
    for i in 0..n {
        s.push_str(&format!(",\"k{i}\":0"));
    }
    s.push('}');
    s.into_bytes()
}

#[tokio::test]
async fn a_body_of_300k_members_is_refused_at_once_on_every_endpoint() {
    let h = start(SIM, GATEWAY).await;
    let endpoints = [
        (
            "/v1/chat/completions",
            r#""model":"chat","messages":[{"role":"user","content":"hi"}]"#,
            false,
        ),
        ("/v1/embeddings", r#""model":"embed","input":"x""#, false),
        (
            "/v1/messages",
            r#""model":"claude","max_tokens":8,"messages":[{"role":"user","content":"hi"}]"#,
            true,
        ),
        (
            "/v1/messages/count_tokens",
            r#""model":"claude","messages":[{"role":"user","content":"hi"}]"#,
            true,
        ),
    ];
    for (path, prefix, anthropic) in endpoints {
        let body = many_members(prefix, 300_000);
        assert!(body.len() > 3_000_000 && body.len() < 4 * 1024 * 1024);
        let started = Instant::now();
        let a = h.post_with(path, body, &[]).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{path} took {took:?}");
        let limit = "more than 256 top-level members";
        if anthropic {
            assert_anthropic_400(&a, limit, path);
        } else {
            assert_eq!(a.status, 400, "{path}: {}", a.text());
            assert!(
                a.json()["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(limit)
            );
        }
        let deep = format!(
            "{{{prefix},\"x\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let a = h.post_with(path, deep.into_bytes(), &[]).await;
        assert_eq!(a.status, 400, "{path}: {}", a.text());
        assert!(
            a.text().contains("deeper than 64 levels"),
            "{path}: {}",
            a.text()
        );
    }
    h.finish().await;
}

#[tokio::test]
async fn huge_and_control_character_names_leave_small_bounded_ledger_rows() {
    let h = start(SIM, GATEWAY).await;
    let huge = "m".repeat(4_000_000);
    for _ in 0..3 {
        let a = h
            .post("/v1/chat/completions", &chat(json!({"model": huge})))
            .await;
        assert_eq!(a.status, 404, "{}", &a.text()[..200.min(a.text().len())]);
        assert!(
            a.body.len() < 2_000,
            "the echo is bounded: {} bytes",
            a.body.len()
        );
        assert_eq!(a.json()["error"]["param"], "model");
    }
    let a = h
        .post("/v1/messages", &message(&format!("{huge}\u{0}"), json!({})))
        .await;
    assert_anthropic_400(
        &a,
        "`model` contains the control character U+0000",
        "NUL model",
    );
    assert!(a.body.len() < 2_000);
    let a = h
        .post_with(
            "/v1/chat/completions",
            chat(json!({})).to_string().into_bytes(),
            &[("x-switchyard-workload", "batch\tjobs")],
        )
        .await;
    assert_openai_400(&a, "x-switchyard-workload", "tab in workload");
    let long_tag = format!("team=core,note={}", "n".repeat(5_000));
    let a = h
        .post_with(
            "/v1/chat/completions",
            chat(json!({})).to_string().into_bytes(),
            &[("x-switchyard-tags", long_tag.as_str())],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let ledger = h.ledger.clone();
    let records = h.finish().await;
    assert_eq!(records.len(), 6);
    for r in &records {
        assert!(r.route.len() <= 256, "route of {} bytes", r.route.len());
        assert!(!r.route.contains('\0'));
        assert!(r.tags.iter().all(|(k, v)| k.len() <= 64 && v.len() <= 256));
    }
    assert!(
        records
            .iter()
            .any(|r| r.route.ends_with('…') && r.status == 404)
    );
    let size: u64 = ["ledger.db", "ledger.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(ledger.with_file_name(f)).ok())
        .map(|m| m.len())
        .sum();
    assert!(size < 2_000_000, "the ledger holds {size} bytes");
}
