//! Connection handling against slow and greedy clients: header, body and idle timeouts, the
//! connection cap, and an oversized body written whole before the answer is read.

mod common;

use common::raw::{closed_within, connect, read_answer, request};
use common::{chat, start};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

const SIM: &str = r#"
seed = 1
[defaults]
ttft_ms = 0
tokens_per_second = 0
"#;

const GATEWAY: &str = r#"
[server]
max_body_bytes = 4096
header_timeout_ms = 300
body_timeout_ms = 400
idle_timeout_ms = 500
MORE
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
price_provider = "openai"
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
"#;

/// The config with `more` in `[server]`; a key given there replaces the default above.
fn gateway(more: &str) -> String {
    let mut text = GATEWAY.to_string();
    for line in more.lines() {
        if let Some((key, _)) = line.split_once(" = ") {
            if let Some(old) = text.lines().find(|l| l.starts_with(key)) {
                text = text.replace(old, "");
            }
        }
    }
    text.replace("MORE", more)
}

/// Sends `bytes` one at a time, `every` apart, until the server closes the connection;
/// returns how long that took (or `None` if it never did within 3 s).
async fn trickle(base: String, bytes: Vec<u8>, every: Duration) -> Option<Duration> {
    let mut s = connect(&base).await;
    let start = Instant::now();
    for b in bytes.iter().cycle() {
        if s.write_all(&[*b]).await.is_err() {
            return Some(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(3) {
            return None;
        }
        if closed_within(&mut s, every).await {
            return Some(start.elapsed());
        }
    }
    None
}

#[tokio::test]
async fn two_hundred_clients_trickling_headers_are_closed_after_the_header_timeout_and_others_are_served()
 {
    let h = start(SIM, &gateway("")).await;
    let head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\nx-pad: aaaaaaaaaaaaaaaaaaaaaaaa"
        .to_vec();
    let slow: Vec<_> = (0..200)
        .map(|_| {
            tokio::spawn(trickle(
                h.base.clone(),
                head.clone(),
                Duration::from_millis(50),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ok = h.post("/v1/chat/completions", &chat("chat", "hi")).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    for t in slow {
        let took = t
            .await
            .unwrap()
            .expect("a trickling client was never disconnected");
        assert!(took < Duration::from_millis(1500), "closed after {took:?}");
    }
    h.finish().await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let h = start(SIM, &gateway("")).await;
    let mut s = connect(&h.base).await;
    assert!(closed_within(&mut s, Duration::from_millis(1500)).await);
    h.finish().await;
}

#[tokio::test]
async fn a_client_trickling_its_body_gets_a_408_in_its_dialect_after_the_body_timeout() {
    let h = start(SIM, &gateway("")).await;
    for (path, anthropic) in [("/v1/chat/completions", false), ("/v1/messages", true)] {
        let s = connect(&h.base).await;
        let (mut r, mut w) = s.into_split();
        let head = format!("POST {path} HTTP/1.1\r\nhost: t\r\ncontent-length: 200\r\n\r\n{{");
        w.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let trickler = tokio::spawn(async move {
            while w.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let answer = tokio::time::timeout(Duration::from_secs(2), read_answer(&mut r))
            .await
            .expect("no answer to a trickled body within 2 s")
            .expect("the connection closed without an answer");
        trickler.abort();
        assert!(started.elapsed() >= Duration::from_millis(350));
        assert_eq!(answer.status, 408, "{path}");
        let v = answer.json();
        if anthropic {
            assert_eq!(v["type"], "error", "{v}");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("body_timeout_ms")
            );
        } else {
            assert_eq!(v["error"]["code"], "request_timeout", "{v}");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("body_timeout_ms")
            );
        }
    }
    h.finish().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let h = start(SIM, &gateway("header_timeout_ms = 5000")).await;
    let mut s = connect(&h.base).await;
    s.write_all(&request("GET", "/healthz", "")).await.unwrap();
    let first = read_answer(&mut s).await.unwrap();
    assert_eq!(first.status, 200);
    // Still open before the idle timeout: a second request on it is served.
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.write_all(&request("GET", "/healthz", "")).await.unwrap();
    assert_eq!(read_answer(&mut s).await.unwrap().status, 200);
    let idle_from = Instant::now();
    assert!(closed_within(&mut s, Duration::from_millis(2000)).await);
    let idle = idle_from.elapsed();
    // The idle timeout (500 ms) applies, not the header timeout (5 s).
    assert!(
        idle >= Duration::from_millis(400) && idle < Duration::from_millis(1500),
        "{idle:?}"
    );
    h.finish().await;
}

#[tokio::test]
async fn connections_past_max_connections_wait_and_are_served_once_one_closes() {
    let h = start(
        SIM,
        &gateway("max_connections = 2\nheader_timeout_ms = 600"),
    )
    .await;
    let mut held = vec![connect(&h.base).await, connect(&h.base).await];
    for s in &mut held {
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_answer(s).await.unwrap().status, 200);
    }
    // Both slots are taken by idle keep-alive connections: a third waits, unanswered.
    let mut third = connect(&h.base).await;
    third
        .write_all(&request("GET", "/healthz", ""))
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(200), read_answer(&mut third)).await;
    assert!(
        early.is_err(),
        "a third connection was served past max_connections = 2"
    );
    drop(held.pop());
    let late = tokio::time::timeout(Duration::from_secs(2), read_answer(&mut third))
        .await
        .expect("the waiting connection was not served after a slot freed")
        .unwrap();
    assert_eq!(late.status, 200);
    h.finish().await;
}

#[tokio::test]
async fn an_oversized_body_written_whole_before_reading_gets_the_413_not_a_reset() {
    let h = start(SIM, &gateway("")).await;
    let big = format!(
        "{{\"model\":\"chat\",\"x\":\"{}\"}}",
        "a".repeat(12 * 1024 * 1024)
    );
    for path in ["/v1/chat/completions", "/v1/messages"] {
        // Content-Length declared: refused before buffering, but the body is drained.
        let mut s = connect(&h.base).await;
        s.write_all(&request("POST", path, &big))
            .await
            .expect("the gateway reset the upload");
        let a = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut s))
            .await
            .unwrap()
            .expect("no 413 after writing the whole body");
        assert_eq!(a.status, 413, "{path}");
        assert_eq!(a.header("connection"), Some("close"));
        assert!(
            a.json().to_string().contains("max_body_bytes"),
            "{:?}",
            a.json()
        );
        // Chunked: the limit is found while reading; the rest is drained too.
        let mut s = connect(&h.base).await;
        let head = format!("POST {path} HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n");
        let mut body = head.into_bytes();
        for piece in big.as_bytes().chunks(64 * 1024) {
            body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        s.write_all(&body)
            .await
            .expect("the gateway reset the chunked upload");
        let a = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut s))
            .await
            .unwrap()
            .expect("no 413 after writing the whole chunked body");
        assert_eq!(a.status, 413, "{path} chunked");
        // `Expect: 100-continue`: refused at once, and the client is not invited to upload.
        let mut s = connect(&h.base).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: t\r\nexpect: 100-continue\r\ncontent-length: 99999999\r\n\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let a = tokio::time::timeout(Duration::from_secs(2), read_answer(&mut s))
            .await
            .unwrap()
            .expect("no 413 for an oversized Expect: 100-continue upload");
        assert_eq!(a.status, 413, "{path} expect");
    }
    h.finish().await;
}
