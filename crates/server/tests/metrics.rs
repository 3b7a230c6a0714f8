//! `GET /metrics` against the simulated providers: the scrape after known traffic (requests by
//! outcome, tokens and cost equal to the ledger's, stage histograms, cache hits and misses,
//! breaker state), the scrape token's 401s, the separate listener, metrics off by default, and
//! the cardinality cap under 10,000 distinct workloads. Every scrape is parsed strictly
//! (`switchyard_telemetry::exposition`), never grepped.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a setup failure should fail the test loudly"
)]

mod common;

use common::{Harness, chat, start, start_with};
use serde_json::json;
use std::time::Duration;
use switchyard_telemetry::exposition::{Scrape, parse};

const SIM: &str = "seed = 3\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.\"always-500\"]\nerror_rate = 1.0\n";

const ROUTES: &str = r#"
[ledger]
flush_interval_ms = 50
[breaker]
window_s = 60
min_requests = 2
error_ratio = 0.5
cooldown_s = 600
[providers.oai]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
[[routes]]
name = "cached"
workload = "support"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "global"
allow_temperature = true
[[routes]]
name = "plain"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes]]
name = "down"
retries = 0
targets = [{ provider = "oai", model = "always-500" }]
"#;

fn config(metrics: &str) -> String {
    format!("{ROUTES}\n{metrics}\n")
}

async fn scrape(h: &Harness, headers: &[(&str, &str)]) -> (u16, Scrape, String) {
    let r = h.call("GET", "/metrics", headers, None).await;
    let text = r.text();
    let parsed = if r.status == 200 {
        assert_eq!(
            r.header("content-type").as_deref(),
            Some(switchyard_telemetry::CONTENT_TYPE)
        );
        parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    } else {
        Scrape::default()
    };
    (r.status, parsed, text)
}

/// Scrapes until `done` holds (streams are recorded when their tee ends, just after the
/// client's last byte), for at most 5 s.
async fn scrape_until(h: &Harness, done: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..100 {
        let (_, s, _) = scrape(h, &[]).await;
        if done(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the scrape never reached the expected counts");
}

#[tokio::test]
async fn a_scrape_after_known_traffic_matches_the_ledger() {
    let h = start(SIM, &config("[metrics]")).await;
    let hello = chat("cached", "hello metrics");
    assert_eq!(h.post("/v1/chat/completions", &hello).await.status, 200);
    let hit = h.post("/v1/chat/completions", &hello).await;
    assert_eq!(hit.header("x-switchyard-cache").as_deref(), Some("hit"));
    let mut stream = chat("plain", "stream please");
    stream["stream"] = json!(true);
    let s = h
        .post_with(
            "/v1/chat/completions",
            stream.to_string().into_bytes(),
            &[("x-switchyard-workload", "checkout")],
        )
        .await;
    assert_eq!(s.status, 200);
    for status in [502, 502, 503] {
        assert_eq!(
            h.post("/v1/chat/completions", &chat("down", "x"))
                .await
                .status,
            status
        );
    }
    assert_eq!(
        h.post("/v1/chat/completions", &chat("nope", "x"))
            .await
            .status,
        404
    );

    let s = scrape_until(&h, |s| s.sum("switchyard_requests_total", &[]) >= 7.0).await;
    let req = |with: &[(&str, &str)]| s.sum("switchyard_requests_total", with);
    assert_eq!(req(&[]), 7.0);
    assert_eq!(
        req(&[
            ("route", "cached"),
            ("workload", "support"),
            ("outcome", "ok")
        ]),
        1.0
    );
    assert_eq!(req(&[("route", "cached"), ("outcome", "cache_hit")]), 1.0);
    assert_eq!(
        req(&[
            ("route", "plain"),
            ("workload", "checkout"),
            ("outcome", "ok")
        ]),
        1.0
    );
    // The breaker opened after two failures: the third is refused without an upstream call.
    assert_eq!(
        req(&[("route", "down"), ("outcome", "upstream_error")]),
        2.0
    );
    assert_eq!(req(&[("route", "down"), ("outcome", "circuit_open")]), 1.0);
    assert_eq!(
        req(&[("route", "other"), ("outcome", "unknown_route")]),
        1.0,
        "an unknown route is other"
    );
    assert_eq!(
        s.sum(
            "switchyard_breaker_state",
            &[("provider", "oai"), ("model", "always-500")]
        ),
        2.0
    );
    assert_eq!(
        s.sum("switchyard_breaker_state", &[("model", "gpt-4o-mini")]),
        0.0
    );
    assert_eq!(
        s.sum(
            "switchyard_cache_requests_total",
            &[("route", "cached"), ("result", "hit")]
        ),
        1.0
    );
    assert_eq!(
        s.sum(
            "switchyard_cache_requests_total",
            &[("route", "cached"), ("result", "miss")]
        ),
        1.0
    );
    // Three answered replies went through every stage they ran; the errors are not replies.
    assert_eq!(
        s.sum("switchyard_overhead_seconds_count", &[("stage", "total")]),
        3.0
    );
    assert_eq!(
        s.sum("switchyard_overhead_seconds_count", &[("stage", "parse")]),
        3.0
    );
    assert_eq!(
        s.sum("switchyard_overhead_seconds_count", &[("stage", "execute")]),
        2.0,
        "the hit never executed"
    );
    assert_eq!(
        s.sum(
            "gen_ai_server_time_to_first_token_seconds_count",
            &[("gen_ai_request_model", "plain")]
        ),
        1.0
    );
    assert_eq!(
        s.sum(
            "gen_ai_client_operation_duration_seconds_count",
            &[("error_type", "upstream_error")]
        ),
        2.0
    );
    let saved = s.sum("switchyard_saved_usd_total", &[("lever", "exact")]);

    let records = h.finish().await;
    let production: Vec<_> = records.iter().filter(|r| !r.shadow).collect();
    assert_eq!(production.len(), 7);
    let tokens = |f: fn(&switchyard_primitives::TokenUsage) -> u64| -> f64 {
        production
            .iter()
            .filter(|r| r.cache.is_none())
            .map(|r| f(&r.usage) as f64)
            .sum()
    };
    let metric = |t: &str| s.sum("gen_ai_client_token_usage_sum", &[("gen_ai_token_type", t)]);
    assert_eq!(metric("input"), tokens(|u| u.input));
    assert_eq!(metric("output"), tokens(|u| u.output));
    assert!(metric("input") > 0.0);
    let cost: f64 = production
        .iter()
        .filter_map(|r| r.cost_usd)
        .map(|c| c.decimal().to_string().parse::<f64>().unwrap())
        .sum();
    assert!(cost > 0.0);
    assert!((s.sum("switchyard_cost_usd_total", &[]) - cost).abs() < 1e-9);
    let ledger_saved: f64 = production
        .iter()
        .filter_map(|r| r.saved_usd)
        .map(|c| c.decimal().to_string().parse::<f64>().unwrap())
        .sum();
    assert!(ledger_saved > 0.0);
    assert!((saved - ledger_saved).abs() < 1e-9);
}

const TOKEN: &str = "scrape-token-0123456789abcdef";

#[tokio::test]
async fn a_scrape_without_the_token_or_with_a_wrong_one_is_a_401_that_leaks_nothing() {
    let h = start_with(
        SIM,
        &config("[metrics]\ntoken_env = \"METRICS_TOKEN\""),
        &[("METRICS_TOKEN", TOKEN)],
    )
    .await;
    let bad = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
    for headers in [
        vec![],
        vec![("authorization", bad.as_str())],
        vec![("authorization", "Basic eDp5")],
    ] {
        let r = h.call("GET", "/metrics", &headers, None).await;
        assert_eq!(r.status, 401, "{}", r.text());
        assert_eq!(r.json()["error"]["type"], "authentication_error");
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Bearer")
        );
        assert!(!r.text().contains(TOKEN) && !r.text().contains(&TOKEN[..8]));
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
    let good = format!("Bearer {TOKEN}");
    let (status, s, text) = scrape(&h, &[("authorization", &good)]).await;
    assert_eq!(status, 200);
    assert!(s.types.contains_key("switchyard_requests"));
    assert!(!text.contains(TOKEN));
    h.finish().await;
}

async fn free_port() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

#[tokio::test]
async fn metrics_on_their_own_listener_are_served_only_there() {
    let addr = free_port().await;
    let h = start(SIM, &config(&format!("[metrics]\nlisten = \"{addr}\""))).await;
    assert_eq!(
        h.post("/v1/chat/completions", &chat("plain", "hi"))
            .await
            .status,
        200
    );
    let main = h.call("GET", "/metrics", &[], None).await;
    assert_eq!(main.status, 404);
    assert!(main.text().contains(&addr.to_string()), "{}", main.text());
    let own = h.get(&format!("http://{addr}/metrics")).await;
    assert_eq!(own.status, 200);
    let s = parse(&own.text()).unwrap();
    let n = s.sum("switchyard_requests_total", &[("route", "plain")]);
    assert_eq!(n, 1.0);
    // The metrics listener serves nothing else, model endpoints included.
    let other = h.get(&format!("http://{addr}/v1/models")).await;
    assert_eq!(other.status, 404);
    assert!(other.text().contains("only GET /metrics"));
    h.finish().await;
}

#[tokio::test]
async fn without_a_metrics_section_there_is_no_metrics_endpoint() {
    let h = start(SIM, ROUTES).await;
    let r = h.call("GET", "/metrics", &[], None).await;
    assert_eq!(r.status, 404);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[metrics]")
    );
    h.finish().await;
}

#[tokio::test]
async fn ten_thousand_distinct_workloads_leave_the_series_count_bounded() {
    let h = start(SIM, &config("[metrics]\nmax_workloads = 10")).await;
    let body = chat("nope", "x").to_string().into_bytes();
    let h = std::sync::Arc::new(h);
    let mut tasks = Vec::new();
    for part in 0..8 {
        let (h, body) = (h.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..1250 {
                let w = format!("tenant-{part}-{i}");
                let r = h
                    .post_with(
                        "/v1/chat/completions",
                        body.clone(),
                        &[("x-switchyard-workload", &w)],
                    )
                    .await;
                assert_eq!(r.status, 404);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (_, s, text) = scrape(&h, &[]).await;
    assert_eq!(s.sum("switchyard_requests_total", &[]), 10_000.0);
    assert_eq!(
        s.series("switchyard_requests_total"),
        11,
        "10 workloads and other"
    );
    assert_eq!(
        s.sum("switchyard_requests_total", &[("workload", "other")]),
        9_990.0
    );
    assert!(s.samples.len() < 2_000, "{} samples", s.samples.len());
    assert!(!text.contains("tenant-7-1249"));
}
