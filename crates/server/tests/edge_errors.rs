//! Every error a client can receive is JSON in its dialect: wrong methods, unknown paths,
//! and the heads hyper refuses before any handler runs (control characters, long targets,
//! huge headers).

mod common;

use common::raw::{Raw, connect, exchange, read_answer, request};
use common::start;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const SIM: &str = "seed = 1\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
"#;

/// The error message, asserting the body has the dialect's shape.
fn message(a: &Raw, anthropic: bool) -> String {
    assert_eq!(a.header("content-type"), Some("application/json"), "{a:?}");
    let v = a.json();
    if anthropic {
        assert_eq!(v["type"], "error", "{v}");
        assert!(v["error"]["type"].is_string(), "{v}");
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    } else {
        assert!(v["error"]["type"].is_string(), "{v}");
        assert!(v["error"].get("param").is_some(), "{v}");
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

const PATHS: [(&str, bool); 2] = [("/v1/chat/completions", false), ("/v1/messages", true)];

#[tokio::test]
async fn a_wrong_method_gets_405_json_in_the_callers_dialect_with_allow() {
    let h = start(SIM, GATEWAY).await;
    let cases = [
        ("GET", "/v1/chat/completions", false, "POST"),
        ("PUT", "/v1/embeddings", false, "POST"),
        ("GET", "/v1/messages", true, "POST"),
        ("DELETE", "/v1/messages/count_tokens", true, "POST"),
        ("POST", "/v1/models", false, "GET"),
        ("POST", "/healthz", false, "GET"),
        ("PUT", "/admin/keys", false, "GET"),
    ];
    for (method, path, anthropic, allowed) in cases {
        let a = exchange(&h.base, &request(method, path, "")).await.unwrap();
        assert_eq!(a.status, 405, "{method} {path}");
        assert!(a.header("allow").unwrap().contains(allowed), "{a:?}");
        let m = message(&a, anthropic);
        assert!(m.contains(method) && m.contains(allowed), "{m}");
    }
    h.finish().await;
}

#[tokio::test]
async fn a_control_character_in_a_header_gets_400_json_in_the_callers_dialect() {
    let h = start(SIM, GATEWAY).await;
    for (path, anthropic) in PATHS {
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: t\r\nx-bad: a\x01b\r\ncontent-length: 2\r\n\r\n{{}}"
        );
        let a = exchange(&h.base, head.as_bytes())
            .await
            .expect("no answer at all");
        assert_eq!(a.status, 400, "{path}");
        assert!(message(&a, anthropic).contains("header"));
        assert_eq!(a.header("connection"), Some("close"));
    }
    h.finish().await;
}

#[tokio::test]
async fn a_long_target_gets_414_and_one_over_the_head_limit_431_json_in_the_callers_dialect() {
    let h = start(SIM, GATEWAY).await;
    for (path, anthropic) in PATHS {
        for (len, status) in [(20_000, 414), (70_000, 431)] {
            let head = format!(
                "GET {path}?q={} HTTP/1.1\r\nhost: t\r\n\r\n",
                "a".repeat(len)
            );
            let a = exchange(&h.base, head.as_bytes())
                .await
                .expect("no answer at all");
            assert_eq!(a.status, status, "{path} {len}");
            assert!(message(&a, anthropic).contains("request body"));
        }
    }
    h.finish().await;
}

#[tokio::test]
async fn headers_over_the_limit_get_431_json_in_the_callers_dialect() {
    let h = start(SIM, GATEWAY).await;
    for (path, anthropic) in PATHS {
        let huge = format!(
            "POST {path} HTTP/1.1\r\nhost: t\r\nx-big: {}\r\n\r\n",
            "b".repeat(70_000)
        );
        let many: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
        let many = format!("POST {path} HTTP/1.1\r\nhost: t\r\n{many}\r\n");
        for head in [huge, many] {
            let a = exchange(&h.base, head.as_bytes())
                .await
                .expect("no answer at all");
            assert_eq!(a.status, 431, "{path}");
            assert!(message(&a, anthropic).contains("headers"));
        }
    }
    h.finish().await;
}

#[tokio::test]
async fn a_malformed_head_on_a_keep_alive_connection_still_gets_json() {
    let h = start(SIM, GATEWAY).await;
    let mut s = connect(&h.base).await;
    s.write_all(&request("GET", "/healthz", "")).await.unwrap();
    let first = read_answer(&mut s).await.unwrap();
    assert_eq!(first.status, 200);
    s.write_all(b"POST /v1/messages HTTP/1.1\r\nhost: t\r\nx-bad: \x7f\x00\r\n\r\n")
        .await
        .unwrap();
    let a = tokio::time::timeout(Duration::from_secs(2), read_answer(&mut s))
        .await
        .unwrap()
        .expect("no answer to the second, malformed head");
    assert_eq!(a.status, 400);
    message(&a, true);
    h.finish().await;
}

#[tokio::test]
async fn the_404_lists_every_client_endpoint_including_messages_in_the_callers_dialect() {
    let h = start(SIM, GATEWAY).await;
    let a = exchange(&h.base, &request("GET", "/v1/nope", ""))
        .await
        .unwrap();
    assert_eq!(a.status, 404);
    let m = message(&a, false);
    for endpoint in [
        "POST /v1/chat/completions",
        "POST /v1/embeddings",
        "POST /v1/messages",
        "POST /v1/messages/count_tokens",
        "GET /v1/models",
    ] {
        assert!(m.contains(endpoint), "{endpoint} missing from: {m}");
    }
    assert_eq!(
        m,
        format!(
            "Unknown endpoint /v1/nope. This gateway serves {}.",
            switchyard_server::client_endpoints()
        )
    );
    let a = exchange(&h.base, &request("POST", "/v1/messages/nope", "{}"))
        .await
        .unwrap();
    assert_eq!(a.status, 404);
    assert!(message(&a, true).contains("POST /v1/messages"));
    h.finish().await;
}
