//! An upstream that takes the request and then drops the connection (a TCP reset with
//! SO_LINGER 0, or a plain close) before answering: the attempt is recorded as a reset, not as
//! "could not connect", and the client is told the request may have been processed.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{chat, start};
use switchyard_ledger::AttemptOutcome;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const SIM: &str = r#"
seed = 1
[defaults]
ttft_ms = 0
tokens_per_second = 0
"#;

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.dropper]
kind = "openai-compatible"
base_url = "DROPPER_URL/v1"
timeout_ms = 5000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
price_provider = "openai"
[[routes]]
name = "dropped"
targets = [{ provider = "dropper", model = "gpt-4o-mini" }]
[[routes]]
name = "dropped-then-sim"
targets = [{ provider = "dropper", model = "gpt-4o-mini" }, { provider = "sim", model = "gpt-4o-mini" }]
"#;

/// How the fake upstream ends each connection once it has read the whole request.
#[derive(Clone, Copy)]
enum Drop {
    Reset,
    Close,
}

/// A raw TCP upstream that reads each request (headers and `Content-Length` body) and then
/// drops the connection without a byte of answer. Returns its base URL.
async fn dropping_upstream(how: Drop) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_request(&mut sock).await;
                if let Drop::Reset = how {
                    sock.set_zero_linger().unwrap();
                }
                drop(sock);
            });
        }
    });
    url
}

async fn read_request(sock: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return;
            }
        }
    }
}

async fn one_request(how: Drop, route: &str) -> (common::Answer, Vec<switchyard_ledger::Record>) {
    let upstream = dropping_upstream(how).await;
    let h = start(SIM, &GATEWAY.replace("DROPPER_URL", &upstream)).await;
    let a = h.post("/v1/chat/completions", &chat(route, "hi")).await;
    (a, h.finish().await)
}

#[tokio::test]
async fn a_reset_after_the_request_was_sent_is_recorded_as_a_reset_not_a_connect_error() {
    let (a, recs) = one_request(Drop::Reset, "dropped").await;
    assert_eq!(a.status, 502, "{}", a.text());
    let message = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("dropped the connection after the request was sent")
            && message.contains("may have processed"),
        "{message}"
    );
    assert!(!message.contains("could not connect"), "{message}");
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].attempts[0].outcome, AttemptOutcome::Reset);
    let attempt_error = recs[0].attempts[0].error.clone().unwrap_or_default();
    assert!(
        attempt_error.contains("dropped the connection"),
        "{attempt_error}"
    );
}

#[tokio::test]
async fn a_close_before_the_answer_is_recorded_as_a_reset_too() {
    let (a, recs) = one_request(Drop::Close, "dropped").await;
    assert_eq!(a.status, 502, "{}", a.text());
    assert_eq!(recs[0].attempts[0].outcome, AttemptOutcome::Reset);
}

#[tokio::test]
async fn a_reset_target_falls_through_to_the_next_one() {
    let (a, recs) = one_request(Drop::Reset, "dropped-then-sim").await;
    assert_eq!(a.status, 200, "{}", a.text());
    let outcomes: Vec<_> = recs[0].attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [AttemptOutcome::Reset, AttemptOutcome::Ok]);
}
