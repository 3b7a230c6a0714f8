//! Anthropic client (`POST /v1/messages`) → Anthropic target: a lossless passthrough. The body
//! reaches the upstream member for member with only `model` rewritten, and the answer (whole or
//! streamed) reaches the client byte for byte, thinking signatures and redacted thinking
//! included, while the ledger still gets every token kind priced.

#![expect(
    clippy::unwrap_used,
    reason = "integration tests: a failed step should fail the test loudly"
)]

mod common;

use common::{Harness, SECRET, start};
use serde_json::{Value, json};
use switchyard_gateway::Gateway;
use switchyard_ledger::{AttemptOutcome, Record};

const SIM: &str = "seed = 11\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.\"claude-flaky\"]\ndisconnect_rate = 1.0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "via-anthropic"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "flaky"
targets = [{ provider = "claude", model = "claude-flaky" }]
"#;

/// The sim answers a `redacted_thinking` block when the prompt holds this and thinking is on.
const REDACT: &str = "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB";

/// A Messages body as raw text, so the test controls every byte: thinking on, an earlier turn
/// with a signed thinking block and redacted thinking, a `cache_control` breakpoint (1 h) on a
/// long system prompt when `cached`, odd spacing and number forms inside values, and members
/// no version of Switchyard models.
fn body(route: &str, stream: bool, cached: bool) -> String {
    let policy = "Refunds are accepted within 30 days of delivery. ".repeat(120);
    let cache = if cached {
        r#", "cache_control": {"type": "ephemeral", "ttl": "1h"}"#
    } else {
        ""
    };
    format!(
        r#"{{"model":"{route}","future_param":{{"x": [1, 2.50, 1e3], "y" : null}},"max_tokens":4096,"thinking":{{"type": "enabled", "budget_tokens": 2048}},"system":[{{"type": "text", "text": "{policy}"{cache}}}],"messages":[{{"role": "user", "content": "Hi"}}, {{"role": "assistant", "content": [{{"type": "thinking", "thinking": "greet back", "signature": "EqQBCkYIARgCKkBsig=="}}, {{"type": "redacted_thinking", "data": "EmwKAhgBEgyRedacted=="}}, {{"type": "text", "text": "Hello!"}}]}}, {{"role": "user", "content": [{{"type": "text", "text": "What is the refund window? {REDACT}"}}]}}],"stream":{stream}}}"#
    )
}

/// What the upstream must receive: the client's bytes with only `model` renamed.
fn upstream_body(client: &str, route: &str) -> String {
    client.replacen(
        &format!(r#""model":"{route}""#),
        r#""model":"claude-sonnet-4-5""#,
        1,
    )
}

async fn last_upstream_body(h: &Harness) -> String {
    h.get(&format!("{}/sim/last", h.sim)).await.text()
}

/// Byte equality, reported by the first differing offset rather than two long dumps.
fn assert_same(got: &str, want: &str, what: &str) {
    if got != want {
        let at = got
            .bytes()
            .zip(want.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        let near = |s: &str| {
            s.get(at.saturating_sub(40)..(at + 80).min(s.len()))
                .unwrap_or("")
                .to_string()
        };
        panic!(
            "{what}: differs at byte {at} (lengths {} and {})\n got: …{}…\nwant: …{}…",
            got.len(),
            want.len(),
            near(got),
            near(want)
        );
    }
}

/// The sim's own answer to `body`, asked directly (no gateway in between).
async fn ask_sim(h: &Harness, body: &str) -> String {
    let r = h
        .client
        .post_json(
            &format!("{}/v1/messages", h.sim),
            &[("x-api-key", SECRET), ("anthropic-version", "2023-06-01")],
            body.as_bytes().to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    String::from_utf8(r.body.to_vec()).unwrap()
}

/// The record's cost is the catalog's price of exactly the usage recorded.
fn assert_priced(gateway: &Gateway, rec: &Record) {
    let catalog = gateway.catalog();
    let entry = catalog.get("anthropic", "claude-sonnet-4-5").unwrap();
    let priced = entry.cost_at(&rec.usage, rec.ts);
    assert_eq!(rec.cost_usd, Some(priced.cost), "{rec:?}");
    assert_eq!(
        rec.price_version.as_deref(),
        Some(priced.price_version.as_str())
    );
    assert!(!rec.usage_estimated);
}

#[tokio::test]
async fn whole_answers_pass_through_byte_for_byte_with_signatures_and_redacted_thinking() {
    let h = start(SIM, GATEWAY).await;
    let client = body("via-anthropic", false, true);
    let a = h
        .post_with("/v1/messages", client.clone().into_bytes(), &[])
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let sent = last_upstream_body(&h).await;
    assert_same(
        &sent,
        &upstream_body(&client, "via-anthropic"),
        "only `model` is rewritten; unknown members, earlier thinking and cache_control reach the upstream as sent",
    );
    let upstream: Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(
        upstream["system"][0]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );

    // Asked again directly, the sim plans the same content; only the id and (now that the
    // prefix is cached) the usage differ. With those two patched in, the gateway's answer must
    // be the sim's serialisation, byte for byte.
    let got = a.json();
    let mut expected: Value = serde_json::from_str(&ask_sim(&h, &sent).await).unwrap();
    expected["id"] = got["id"].clone();
    expected["usage"] = got["usage"].clone();
    assert_same(
        &a.text(),
        &serde_json::to_string(&expected).unwrap(),
        "the answer is the upstream's",
    );
    let content = got["content"].as_array().unwrap();
    let kinds: Vec<&str> = content
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[..2], ["thinking", "redacted_thinking"], "{kinds:?}");
    let signature = content[0]["signature"].as_str().unwrap();
    let data = content[1]["data"].as_str().unwrap();
    assert!(a.text().contains(&format!(r#""signature":"{signature}""#)));
    assert!(a.text().contains(&format!(r#""data":"{data}""#)));
    assert!(
        got["id"].as_str().unwrap().starts_with("msg_sim"),
        "the upstream's id"
    );
    assert_eq!(got["model"], "claude-sonnet-4-5");
    assert_eq!(
        got["usage"]["service_tier"], "standard",
        "unknown fields survive"
    );

    let usage = got["usage"].clone();
    let gateway = h.gateway.clone();
    let recs = h.finish().await;
    assert_eq!(recs.len(), 1);
    let rec = &recs[0];
    let n = |k: &str| usage[k].as_u64().unwrap();
    assert!(n("cache_creation_input_tokens") > 1024, "{usage}");
    assert_eq!(
        (
            rec.usage.input,
            rec.usage.cached_input,
            rec.usage.cache_write,
            rec.usage.cache_write_1h,
            rec.usage.completion_total(),
        ),
        (
            n("input_tokens"),
            n("cache_read_input_tokens"),
            n("cache_creation_input_tokens"),
            usage["cache_creation"]["ephemeral_1h_input_tokens"]
                .as_u64()
                .unwrap(),
            n("output_tokens"),
        ),
        "every token kind of Anthropic's usage lands in the ledger"
    );
    let thinking = usage["output_tokens_details"]["thinking_tokens"]
        .as_u64()
        .unwrap();
    assert!(thinking > 0 && thinking < n("output_tokens"), "{usage}");
    assert_eq!(
        (rec.usage.reasoning, rec.usage.output),
        (thinking, n("output_tokens") - thinking),
        "reported thinking tokens are recorded as reasoning, not output"
    );
    assert_eq!(
        rec.usage.cache_write_1h, rec.usage.cache_write,
        "a 1 h breakpoint"
    );
    assert_priced(&gateway, rec);
    assert_eq!(rec.provider.as_deref(), Some("claude"));
}

/// (event name, data) of every frame of an Anthropic SSE body.
fn frames(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let field = |name: &str| {
                f.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_default()
                    .to_string()
            };
            let data = serde_json::from_str(&field("data: ")).unwrap_or(Value::Null);
            (field("event: "), data)
        })
        .collect()
}

#[tokio::test]
async fn streams_pass_through_event_for_event_and_the_ledger_reads_their_usage() {
    let h = start(SIM, GATEWAY).await;
    let client = body("via-anthropic", true, false);
    let a = h
        .post_with("/v1/messages", client.clone().into_bytes(), &[])
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        a.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    let sent = last_upstream_body(&h).await;
    assert_same(
        &sent,
        &upstream_body(&client, "via-anthropic"),
        "the upstream body",
    );

    // The sim's own stream for the same body differs only in the message id.
    let got = a.text();
    let direct = ask_sim(&h, &sent).await;
    let id_of = |s: &str| {
        frames(s)[0].1["message"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_same(
        &got,
        &direct.replace(&id_of(&direct), &id_of(&got)),
        "the stream is the upstream's",
    );

    let f = frames(&got);
    let names: Vec<&str> = f.iter().map(|(e, _)| e.as_str()).collect();
    assert!(names.contains(&"ping"), "pings are forwarded: {names:?}");
    let signature = f
        .iter()
        .find(|(_, d)| d["delta"]["type"] == "signature_delta")
        .map(|(_, d)| d["delta"]["signature"].as_str().unwrap().to_string())
        .unwrap();
    assert!(signature.len() > 40);
    let redacted = f
        .iter()
        .find(|(_, d)| d["content_block"]["type"] == "redacted_thinking")
        .unwrap();
    assert!(
        redacted.1["content_block"]["data"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    let start_usage = f[0].1["message"]["usage"].clone();
    let end_usage = f
        .iter()
        .find(|(e, _)| e == "message_delta")
        .map(|(_, d)| d["usage"].clone())
        .unwrap();

    let gateway = h.gateway.clone();
    let recs = h.finish().await;
    let rec = &recs[0];
    assert!(rec.streamed && rec.error_class.is_none(), "{rec:?}");
    assert_eq!(
        rec.usage.input,
        start_usage["input_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        rec.usage.completion_total(),
        end_usage["output_tokens"].as_u64().unwrap(),
        "message_delta's cumulative output wins over message_start's"
    );
    let thinking = end_usage["output_tokens_details"]["thinking_tokens"]
        .as_u64()
        .unwrap();
    assert_eq!(
        rec.usage.reasoning, thinking,
        "the streamed thinking tokens are recorded as reasoning"
    );
    assert!(rec.usage.output > 1);
    assert!(rec.ttft_ms.is_some());
    assert_priced(&gateway, rec);
}

#[tokio::test]
async fn a_broken_passthrough_stream_ends_with_an_anthropic_error_event() {
    let h = start(SIM, GATEWAY).await;
    let a = h
        .post_with("/v1/messages", body("flaky", true, false).into_bytes(), &[])
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let f = frames(&a.text());
    assert_eq!(f[0].0, "message_start", "the stream began untouched");
    let (event, data) = f.last().unwrap();
    assert_eq!(event, "error", "{f:?}");
    assert_eq!(data["type"], "error");
    assert_eq!(data["error"]["type"], "api_error");
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("broke after it began")
    );
    assert!(!f.iter().any(|(e, _)| e == "message_stop"));
    let recs = h.finish().await;
    assert_eq!(recs[0].error_class.as_deref(), Some("stream_error"));
    assert_eq!(
        recs[0].attempts.last().map(|a| a.outcome),
        Some(AttemptOutcome::StreamError)
    );
    assert!(!recs[0].usage_estimated, "message_start's usage was read");
}

#[tokio::test]
async fn the_clients_anthropic_beta_header_reaches_the_upstream() {
    let h = start(SIM, GATEWAY).await;
    let beta = "interleaved-thinking-2025-05-14,future-flag-2030-01-01";
    let a = h
        .post_with(
            "/v1/messages",
            body("via-anthropic", false, false).into_bytes(),
            &[("anthropic-beta", beta)],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let seen = h.get(&format!("{}/sim/last_headers", h.sim)).await.json();
    assert_eq!(seen["anthropic-beta"], beta);
    assert_eq!(
        seen["anthropic-version"], "2023-06-01",
        "the gateway's own version"
    );
    let plain = h
        .post_with(
            "/v1/messages",
            body("via-anthropic", false, false).into_bytes(),
            &[],
        )
        .await;
    assert_eq!(plain.status, 200);
    let seen = h.get(&format!("{}/sim/last_headers", h.sim)).await.json();
    assert!(seen.get("anthropic-beta").is_none(), "{seen}");
    h.finish().await;
}
