//! `[telemetry]` traces when the collector misbehaves: one that accepts connections and never
//! answers, and one that refuses them. Requests must neither fail nor slow down beyond noise
//! (compared in the same run with a gateway that has no tracing), and the lost spans are
//! counted. The spans themselves are checked against a real OTLP receiver in
//! tests/sdk/test_traces.py.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a setup failure should fail the test loudly"
)]

mod common;

use common::{Harness, chat, start};
use std::time::{Duration, Instant};

const SIM: &str = "seed = 5\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const ROUTES: &str = r#"
[providers.oai]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "plain"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
"#;

fn telemetry(endpoint: &str) -> String {
    format!(
        "{ROUTES}\n[telemetry]\notlp_endpoint = \"{endpoint}\"\nbatch_size = 4\nqueue_size = 8\nbatch_interval_ms = 20\nexport_timeout_ms = 3000\n"
    )
}

/// Each request's wall time, every answer checked to be a 200.
async fn timed(h: &Harness, n: usize) -> Vec<Duration> {
    let mut took = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let r = h
            .post("/v1/chat/completions", &chat("plain", &format!("hi {i}")))
            .await;
        took.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
    }
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A collector that takes connections (and the request bytes) but never answers.
async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_never_answers_neither_fails_nor_slows_requests_and_drops_are_counted() {
    let (url, hole) = black_hole().await;
    let off = start(SIM, ROUTES).await;
    let on = start(SIM, &telemetry(&url)).await;
    assert!(
        off.gateway.traces().is_none(),
        "tracing is off without [telemetry]"
    );
    // Warm both pools, then interleave the runs so machine noise hits both alike.
    timed(&off, 5).await;
    timed(&on, 5).await;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        a.extend(timed(&off, 15).await);
        b.extend(timed(&on, 15).await);
    }
    let (m_off, m_on) = (median(a), median(b));
    assert!(
        m_on <= m_off * 2 + Duration::from_millis(5),
        "median with a stuck collector {m_on:?} against {m_off:?} without tracing"
    );
    // The first export is stuck for export_timeout: the 8-span queue overflows.
    let counts = on.gateway.traces().unwrap().counts();
    assert!(counts.dropped > 0, "{counts:?}");
    assert_eq!(counts.exported, 0, "{counts:?}");
    hole.abort();
    on.finish().await;
    off.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_collector_costs_requests_nothing_and_its_failures_are_counted() {
    // A port nothing listens on: every export's connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let h = start(SIM, &telemetry(&url)).await;
    let took = timed(&h, 20).await;
    assert!(median(took) < Duration::from_millis(500));
    let traces = h.gateway.traces().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while traces.counts().failed == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counts = traces.counts();
    assert!(counts.failed > 0, "{counts:?}");
    assert_eq!(counts.exported, 0);
    h.finish().await;
}
