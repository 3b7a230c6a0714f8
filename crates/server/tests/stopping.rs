//! A graceful stop as clients see it: during the grace period new connections and pooled
//! keep-alive connections get a 503 in their dialect with `Retry-After` and
//! `Connection: close`, `/readyz` is 503, and the request in flight finishes.

mod common;

use common::raw::{connect, exchange, read_answer, request};
use common::{chat, start};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const SIM: &str = r#"
seed = 1
[defaults]
ttft_ms = 0
tokens_per_second = 0
[models."slow"]
ttft_ms = 1500
tokens_per_second = 0
[models."endless"]
ttft_ms = 20000
tokens_per_second = 0
"#;

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
price_provider = "openai"
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "slow"
targets = [{ provider = "sim", model = "slow" }]
[[routes]]
name = "endless"
targets = [{ provider = "sim", model = "endless" }]
"#;

fn assert_stopping(a: &common::raw::Raw, anthropic: bool) {
    assert_eq!(a.status, 503, "{:?}", a);
    assert_eq!(a.header("retry-after"), Some("1"));
    assert_eq!(a.header("connection"), Some("close"));
    let v = a.json();
    if anthropic {
        assert_eq!(v["type"], "error", "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("shutting down")
        );
    } else {
        assert_eq!(v["error"]["code"], "shutting_down", "{v}");
    }
}

#[tokio::test]
async fn during_the_grace_period_new_and_pooled_connections_get_503_with_retry_after_and_readyz_is_503()
 {
    let mut h = start(SIM, GATEWAY).await;
    // A keep-alive connection in the client's pool, used once before the stop.
    let mut pooled = connect(&h.base).await;
    let body = chat("chat", "hi").to_string();
    pooled
        .write_all(&request("POST", "/v1/chat/completions", &body))
        .await
        .unwrap();
    assert_eq!(read_answer(&mut pooled).await.unwrap().status, 200);
    // A request in flight across the stop.
    let base = h.base.clone();
    let slow = chat("slow", "take your time").to_string();
    let in_flight = tokio::spawn(async move {
        exchange(&base, &request("POST", "/v1/chat/completions", &slow)).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let ready = exchange(&h.base, &request("GET", "/readyz", ""))
        .await
        .unwrap();
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["status"], "stopping");

    pooled
        .write_all(&request("POST", "/v1/chat/completions", &body))
        .await
        .unwrap();
    let on_pooled = read_answer(&mut pooled)
        .await
        .expect("the pooled connection broke");
    assert_stopping(&on_pooled, false);

    let messages = serde_json::json!({"model": "chat", "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}]})
    .to_string();
    let fresh = exchange(&h.base, &request("POST", "/v1/messages", &messages))
        .await
        .expect("a new connection was refused during the grace period");
    assert_stopping(&fresh, true);
    let models = exchange(&h.base, &request("GET", "/v1/models", ""))
        .await
        .unwrap();
    assert_stopping(&models, false);

    let finished = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was cut");
    assert_eq!(finished.status, 200, "{:?}", finished);
    // Nothing left in flight: the server returns without waiting out the 10 s grace.
    tokio::time::timeout(Duration::from_secs(2), async {
        while !h.server_done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the server did not stop once the in-flight request finished");
    let records = h.finish().await;
    assert!(
        records.iter().any(|r| r.route == "slow"),
        "the in-flight record was lost"
    );
}

#[tokio::test]
async fn shutdown_delay_keeps_answering_503_before_the_port_closes() {
    let gateway = format!("[server]\nshutdown_delay_ms = 600\n{GATEWAY}");
    let mut h = start(SIM, &gateway).await;
    h.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = exchange(&h.base, &request("GET", "/readyz", ""))
        .await
        .unwrap();
    assert_eq!(ready.status, 503);
    assert!(!h.server_done());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        h.server_done(),
        "the server outlived shutdown_delay_ms with nothing in flight"
    );
    h.finish().await;
}

#[tokio::test]
async fn a_request_still_running_when_the_grace_period_ends_is_cut_and_the_server_returns() {
    let gateway = format!("[server]\nshutdown_grace_ms = 500\n{GATEWAY}");
    let mut h = start(SIM, &gateway).await;
    let base = h.base.clone();
    let endless = chat("endless", "never mind").to_string();
    let in_flight = tokio::spawn(async move {
        exchange(&base, &request("POST", "/v1/chat/completions", &endless)).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = std::time::Instant::now();
    h.stop();
    tokio::time::timeout(Duration::from_secs(3), async {
        while !h.server_done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the server outlived its grace period");
    let took = stopped.elapsed();
    assert!(
        took >= Duration::from_millis(450),
        "stopped after {took:?}, before the grace period"
    );
    let cut = tokio::time::timeout(Duration::from_secs(2), in_flight)
        .await
        .expect("the request past the grace period was left hanging");
    assert!(
        cut.unwrap().is_none(),
        "the request past the grace period got an answer"
    );
    h.finish().await;
}
