use super::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use switchyard_protocol::openai::ChatRequest;
use switchyard_providers::{Dialect, ProviderKind, SendFuture};

/// One scripted outcome.
#[derive(Clone)]
enum Step {
    Ok,
    Status(u16, Option<Duration>),
    Unsupported,
    /// Answers after a delay.
    Slow(Duration),
    /// A stream whose first byte comes after the delay (or never, with `None`: it ends empty).
    Stream(Option<Duration>),
}

/// A provider that replays a script of outcomes (the last one repeats) and counts calls.
struct Scripted {
    name: String,
    script: Mutex<Vec<Step>>,
    calls: AtomicU32,
}

impl Provider for Scripted {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAiCompatible
    }
    fn dialect(&self) -> Dialect {
        Dialect::OpenAi
    }
    fn send<'a>(&'a self, _req: ProviderRequest<'a>) -> SendFuture<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = {
            let mut s = self.script.lock().unwrap();
            if s.len() > 1 {
                s.remove(0)
            } else {
                s[0].clone()
            }
        };
        let name = self.name.clone();
        let ok = |body| {
            Ok(ProviderResponse {
                status: 200,
                content_type: None,
                body,
                dialect: Dialect::OpenAi,
                dropped: Vec::new(),
            })
        };
        Box::pin(async move {
            match next {
                Step::Ok => ok(ResponseBody::Full(Bytes::from_static(b"{}"))),
                Step::Slow(d) => {
                    tokio::time::sleep(d).await;
                    ok(ResponseBody::Full(Bytes::from_static(b"{}")))
                }
                Step::Stream(first) => {
                    let s = futures_util::stream::once(async move {
                        match first {
                            Some(d) => {
                                tokio::time::sleep(d).await;
                                Some(Ok(Bytes::from_static(b"data: {}\n\n")))
                            }
                            None => None,
                        }
                    })
                    .filter_map(|x| async move { x });
                    ok(ResponseBody::Stream(Box::pin(s)))
                }
                Step::Unsupported => Err(ProviderError::Unsupported {
                    provider: name,
                    message: "x".into(),
                }),
                Step::Status(status, retry_after) => Err(ProviderError::Status {
                    provider: name,
                    status,
                    retry_after,
                    message: "x".into(),
                    body: Bytes::new(),
                }),
            }
        })
    }
}

struct Fixture {
    route: Route<()>,
    providers: Vec<Arc<Scripted>>,
}

impl Fixture {
    fn calls(&self) -> Vec<u32> {
        self.providers
            .iter()
            .map(|p| p.calls.load(Ordering::SeqCst))
            .collect()
    }
}

fn route_with(scripts: Vec<Vec<Step>>, strategy: Strategy, retries: u32) -> Fixture {
    let providers: Vec<_> = scripts
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Arc::new(Scripted {
                name: format!("p{i}"),
                script: Mutex::new(s),
                calls: AtomicU32::new(0),
            })
        })
        .collect();
    let targets = providers
        .iter()
        .enumerate()
        .map(|(i, p)| Target {
            provider: p.clone() as Arc<dyn Provider>,
            model: format!("m{i}"),
            weight: 1,
            timeout: None,
            ttft_timeout: None,
            profile: Profile::default(),
            health: Arc::new(Health::new(format!("p{i}/m{i}"), BreakerConfig::default())),
            meta: (),
        })
        .collect();
    Fixture {
        route: Route {
            name: "r".into(),
            targets,
            strategy,
            retry: RetryPolicy {
                retries,
                backoff_base: Duration::from_millis(5),
                backoff_max: Duration::from_millis(20),
                max_retry_after: Duration::from_millis(300),
            },
            allow_drop: Vec::new(),
            prompt_cache_ttl: None,
        },
        providers,
    }
}

fn route(scripts: Vec<Vec<Step>>) -> Fixture {
    route_with(scripts, Strategy::Fallback, 0)
}

fn body() -> &'static [u8] {
    br#"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#
}

async fn run(f: &Fixture, needs: &Needs) -> Result<Success, Exhausted> {
    let req = ChatRequest::parse(body()).unwrap();
    f.route.execute(Payload::Chat(&req), needs).await
}

#[tokio::test]
async fn falls_back_on_5xx_and_429_and_logs_every_attempt() {
    let f = route(vec![
        vec![Step::Status(503, None)],
        vec![Step::Status(429, None)],
        vec![Step::Ok],
    ]);
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.target, 2);
    assert!(
        matches!(&ok.response.body, ResponseBody::Full(b) if b.as_ref() == b"{}"),
        "a whole answer is handed on intact"
    );
    let classes: Vec<_> = ok
        .attempts
        .iter()
        .map(|a| a.error.as_ref().map(|e| e.class))
        .collect();
    assert_eq!(
        classes,
        [
            Some(ErrorClass::Server),
            Some(ErrorClass::RateLimited),
            None
        ]
    );
}

#[tokio::test]
async fn client_errors_are_not_retried_elsewhere() {
    let f = route_with(
        vec![vec![Step::Status(400, None)], vec![Step::Ok]],
        Strategy::Fallback,
        3,
    );
    let err = run(&f, &Needs::default()).await.err().unwrap();
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.last.unwrap().status(), Some(400));
    assert_eq!(f.calls(), [1, 0]);
}

#[tokio::test]
async fn an_unsupported_feature_moves_on_to_the_next_target() {
    let f = route(vec![vec![Step::Unsupported], vec![Step::Ok]]);
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.target, 1);
}

#[tokio::test]
async fn exhausted_route_reports_all_attempts() {
    let f = route(vec![
        vec![Step::Status(500, None)],
        vec![Step::Status(502, None)],
    ]);
    let err = run(&f, &Needs::default()).await.err().unwrap();
    assert_eq!(
        err.attempts
            .iter()
            .map(|a| a.provider.as_str())
            .collect::<Vec<_>>(),
        ["p0", "p1"]
    );
}

#[tokio::test]
async fn retries_go_round_again_after_a_backoff() {
    let f = route_with(
        vec![vec![
            Step::Status(503, None),
            Step::Status(503, None),
            Step::Ok,
        ]],
        Strategy::Fallback,
        2,
    );
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.attempts.len(), 3);
    assert_eq!(f.calls(), [3]);

    let f = route_with(vec![vec![Step::Status(503, None)]], Strategy::Fallback, 2);
    let err = run(&f, &Needs::default()).await.err().unwrap();
    assert_eq!(err.attempts.len(), 3, "one call and two retries");
}

#[tokio::test]
async fn retry_after_is_waited_out_when_short_and_surfaced_when_long() {
    let f = route_with(
        vec![vec![
            Step::Status(429, Some(Duration::from_millis(120))),
            Step::Ok,
        ]],
        Strategy::Fallback,
        1,
    );
    let started = Instant::now();
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(120));
    assert!(ok.waited >= Duration::from_millis(120));

    // Longer than max_retry_after (300 ms): no wait, the 429 goes back to the caller.
    let f = route_with(
        vec![vec![
            Step::Status(429, Some(Duration::from_secs(30))),
            Step::Ok,
        ]],
        Strategy::Fallback,
        3,
    );
    let started = Instant::now();
    let err = run(&f, &Needs::default()).await.err().unwrap();
    assert!(started.elapsed() < Duration::from_millis(250));
    assert_eq!(
        err.last.unwrap().retry_after(),
        Some(Duration::from_secs(30))
    );
    assert_eq!(f.calls(), [1]);
}

#[test]
fn backoff_grows_exponentially_within_its_cap_and_respects_retry_after() {
    let p = RetryPolicy {
        retries: 5,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(1000),
        max_retry_after: Duration::from_secs(10),
    };
    for _ in 0..200 {
        assert!(p.backoff(0, None) <= Duration::from_millis(100));
        assert!(p.backoff(2, None) <= Duration::from_millis(400));
        assert!(p.backoff(9, None) <= Duration::from_millis(1000));
        assert!(p.backoff(0, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    }
    // Full jitter: the waits spread over the range rather than sitting at the cap.
    let spread: Vec<_> = (0..200).map(|_| p.backoff(3, None)).collect();
    assert!(spread.iter().any(|d| *d < Duration::from_millis(400)));
    assert!(spread.iter().any(|d| *d > Duration::from_millis(400)));
}

#[tokio::test]
async fn a_total_timeout_moves_on_to_the_next_target() {
    let mut f = route(vec![
        vec![Step::Slow(Duration::from_secs(5))],
        vec![Step::Ok],
    ]);
    f.route.targets[0].timeout = Some(Duration::from_millis(50));
    let started = Instant::now();
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.target, 1);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        ok.attempts[0].error.as_ref().unwrap().class,
        ErrorClass::Timeout
    );
}

#[tokio::test]
async fn a_stream_failing_before_its_first_byte_falls_back() {
    // Ends without a byte.
    let f = route(vec![
        vec![Step::Stream(None)],
        vec![Step::Stream(Some(Duration::ZERO))],
    ]);
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.target, 1);
    assert_eq!(
        ok.attempts[0].error.as_ref().unwrap().class,
        ErrorClass::Stream
    );
    let ResponseBody::Stream(s) = ok.response.body else {
        panic!("a stream")
    };
    let chunks: Vec<_> = s.collect().await;
    assert_eq!(chunks.len(), 1, "the held first byte is still delivered");

    // First byte too slow for the target's TTFT limit.
    let mut f = route(vec![
        vec![Step::Stream(Some(Duration::from_secs(5)))],
        vec![Step::Stream(Some(Duration::ZERO))],
    ]);
    f.route.targets[0].ttft_timeout = Some(Duration::from_millis(50));
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.target, 1);
    assert_eq!(
        ok.attempts[0].error.as_ref().unwrap().class,
        ErrorClass::Timeout
    );
    assert!(ok.ttft.is_some());
}

#[tokio::test]
async fn an_open_circuit_is_skipped_and_a_probe_closes_it() {
    let mut f = route(vec![vec![Step::Status(500, None)], vec![Step::Ok]]);
    let cfg = BreakerConfig {
        window: Duration::from_secs(10),
        min_requests: 4,
        error_ratio: 0.5,
        cooldown: Duration::from_millis(150),
        half_open_probes: 1,
    };
    f.route.targets[0].health = Arc::new(Health::new("p0/m0", cfg));
    for _ in 0..4 {
        assert_eq!(run(&f, &Needs::default()).await.ok().unwrap().target, 1);
    }
    assert_eq!(f.calls(), [4, 4]);
    let snap = f.route.targets[0].health.snapshot(Instant::now());
    assert_eq!(snap.state, BreakerState::Open);
    // Open: p0 is not called at all.
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.skipped[0].reason, Skip::CircuitOpen);
    assert_eq!(f.calls(), [4, 5]);
    // After the cooldown, one probe goes through; p0 has recovered, so it closes.
    f.providers[0].script.lock().unwrap()[0] = Step::Ok;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ok = run(&f, &Needs::default()).await.ok().unwrap();
    assert_eq!(ok.target, 0);
    assert_eq!(
        f.route.targets[0].health.snapshot(Instant::now()).state,
        BreakerState::Closed
    );
}

#[test]
fn breaker_reopens_when_the_probe_fails() {
    let cfg = BreakerConfig {
        window: Duration::from_secs(10),
        min_requests: 2,
        error_ratio: 0.5,
        cooldown: Duration::from_secs(5),
        half_open_probes: 1,
    };
    let h = Health::new("x", cfg);
    let t0 = Instant::now();
    h.success(t0, Duration::from_millis(10), None);
    h.failure(t0);
    assert_eq!(
        h.snapshot(t0).state,
        BreakerState::Open,
        "1 of 2 failed = 0.5"
    );
    assert!(matches!(h.admit(t0 + Duration::from_secs(1)), Admit::No(_)));
    let t1 = t0 + Duration::from_secs(6);
    assert_eq!(h.admit(t1), Admit::Probe);
    assert!(matches!(h.admit(t1), Admit::No(_)), "one probe at a time");
    h.failure(t1);
    assert_eq!(h.snapshot(t1).state, BreakerState::Open);
    assert_eq!(h.snapshot(t1).opened_total, 2);
}

#[test]
fn failures_outside_the_window_do_not_count() {
    let cfg = BreakerConfig {
        window: Duration::from_secs(5),
        min_requests: 3,
        error_ratio: 0.5,
        cooldown: Duration::from_secs(5),
        half_open_probes: 1,
    };
    let h = Health::new("x", cfg);
    let t0 = Instant::now();
    h.failure(t0);
    h.failure(t0);
    let later = t0 + Duration::from_secs(20);
    h.success(later, Duration::from_millis(1), None);
    h.failure(later);
    h.success(later, Duration::from_millis(1), None);
    // In the window: 1 failure of 3; the two old failures have aged out.
    let snap = h.snapshot(later);
    assert_eq!((snap.requests_in_window, snap.failures_in_window), (3, 1));
    assert_eq!(snap.state, BreakerState::Closed);
}

#[test]
fn weighted_order_matches_the_weights() {
    let mut f = route_with(
        vec![vec![Step::Ok], vec![Step::Ok], vec![Step::Ok]],
        Strategy::Weighted,
        0,
    );
    for (t, w) in f.route.targets.iter_mut().zip([70, 20, 10]) {
        t.weight = w;
    }
    let mut first = [0u32; 3];
    let n = 20_000;
    for _ in 0..n {
        let order = plan::order(
            Strategy::Weighted,
            &f.route.targets,
            vec![0, 1, 2],
            &Needs::default(),
        );
        assert_eq!(order.len(), 3);
        first[order[0]] += 1;
    }
    // Binomial standard deviations at n = 20,000: about 65, 57 and 42; allow 5 of them.
    for (count, share) in first.iter().zip([0.7, 0.2, 0.1]) {
        let expected = share * f64::from(n);
        let sd = (f64::from(n) * share * (1.0 - share)).sqrt();
        assert!((f64::from(*count) - expected).abs() < 5.0 * sd, "{first:?}");
    }
    // A zero weight is never first while another has weight.
    f.route.targets[2].weight = 0;
    for _ in 0..2_000 {
        let order = plan::order(
            Strategy::Weighted,
            &f.route.targets,
            vec![2, 0],
            &Needs::default(),
        );
        assert_eq!(order[0], 0);
    }
}

#[test]
fn least_latency_prefers_the_fastest_measured_and_measures_the_unknown() {
    let f = route_with(
        vec![vec![Step::Ok], vec![Step::Ok], vec![Step::Ok]],
        Strategy::LeastLatency,
        0,
    );
    let now = Instant::now();
    f.route.targets[0]
        .health
        .success(now, Duration::from_millis(300), None);
    f.route.targets[1]
        .health
        .success(now, Duration::from_millis(80), None);
    let needs = Needs::default();
    let order = plan::order(
        Strategy::LeastLatency,
        &f.route.targets,
        vec![0, 1, 2],
        &needs,
    );
    assert_eq!(order, [2, 1, 0]);
    // Streams rank by time to first token.
    f.route.targets[2].health.success(
        now,
        Duration::from_millis(500),
        Some(Duration::from_millis(20)),
    );
    f.route.targets[1].health.success(
        now,
        Duration::from_millis(80),
        Some(Duration::from_millis(200)),
    );
    let stream = Needs {
        stream: true,
        ..Needs::default()
    };
    let order = plan::order(
        Strategy::LeastLatency,
        &f.route.targets,
        vec![0, 1, 2],
        &stream,
    );
    assert_eq!(order[0], 2);
}

fn priced(input: f64, output: f64, tools: Option<bool>, window: Option<u64>) -> Profile {
    Profile {
        context_window: window,
        max_output: None,
        tools,
        vision: None,
        json_schema: None,
        input_cost: Some(input),
        output_cost: Some(output),
        min_cache_tokens: None,
    }
}

#[tokio::test]
async fn lowest_cost_never_picks_a_target_lacking_a_needed_capability() {
    let mut f = route_with(
        vec![vec![Step::Ok], vec![Step::Ok], vec![Step::Ok]],
        Strategy::LowestCost,
        0,
    );
    f.route.targets[0].profile = priced(0.1, 0.4, Some(false), Some(128_000));
    f.route.targets[1].profile = priced(2.5, 10.0, Some(true), Some(128_000));
    f.route.targets[2].profile = priced(1.0, 4.0, Some(true), Some(128_000));
    let plain = Needs {
        prompt_tokens: 100,
        ..Needs::default()
    };
    assert_eq!(run(&f, &plain).await.ok().unwrap().target, 0, "cheapest");
    let tools = Needs {
        tools: true,
        prompt_tokens: 100,
        ..Needs::default()
    };
    for _ in 0..20 {
        let ok = run(&f, &tools).await.ok().unwrap();
        assert_eq!(ok.target, 2, "cheapest with tools");
        assert_eq!(ok.skipped[0].reason, Skip::Capability("tools"));
    }
    assert_eq!(f.calls(), [1, 0, 20]);
}

#[tokio::test]
async fn a_prompt_too_long_for_a_context_window_skips_that_target_uncalled() {
    let mut f = route(vec![vec![Step::Ok], vec![Step::Ok]]);
    f.route.targets[0].profile = priced(1.0, 1.0, None, Some(8_192));
    f.route.targets[1].profile = priced(1.0, 1.0, None, Some(200_000));
    let big = Needs {
        prompt_tokens: 9_000,
        ..Needs::default()
    };
    let ok = run(&f, &big).await.ok().unwrap();
    assert_eq!(ok.target, 1);
    assert_eq!(f.calls(), [0, 1]);
    assert_eq!(
        ok.skipped[0].reason,
        Skip::ContextWindow {
            prompt: 9_000,
            max_output: None,
            window: 8_192
        }
    );
    // Nothing fits: no call at all.
    let huge = Needs {
        prompt_tokens: 300_000,
        ..Needs::default()
    };
    let err = run(&f, &huge).await.err().unwrap();
    assert!(err.attempts.is_empty());
    assert_eq!(err.skipped.len(), 2);
    assert_eq!(f.calls(), [0, 1]);
}

#[test]
fn cascade_tiers_go_cheapest_first_unless_the_route_keeps_config_order() {
    let cheapest_last = |strategy| {
        let mut f = route_with(
            vec![vec![Step::Ok], vec![Step::Ok], vec![Step::Ok]],
            strategy,
            0,
        );
        f.route.targets[0].profile = priced(2.5, 10.0, None, Some(128_000));
        f.route.targets[1].profile = priced(1.0, 4.0, Some(false), Some(128_000));
        f.route.targets[2].profile = priced(0.1, 0.4, None, Some(128_000));
        f
    };
    let plain = Needs {
        prompt_tokens: 100,
        ..Needs::default()
    };
    let by_cost = cheapest_last(Strategy::parse("cascade").unwrap());
    assert_eq!(by_cost.route.tiers(&plain), [2, 1, 0]);
    let tools = Needs {
        tools: true,
        ..plain.clone()
    };
    assert_eq!(
        by_cost.route.tiers(&tools),
        [2, 0],
        "a tier that cannot take it is left out"
    );
    let in_order = cheapest_last(Strategy::Cascade { config_order: true });
    assert_eq!(in_order.route.tiers(&plain), [0, 1, 2]);
    assert_eq!(Strategy::Cascade { config_order: true }.as_str(), "cascade");
}

#[tokio::test]
async fn a_tier_is_executed_alone_even_when_it_fails() {
    let f = route(vec![vec![Step::Status(503, None)], vec![Step::Ok]]);
    let req = ChatRequest::parse(body()).unwrap();
    let err = f
        .route
        .execute_tier(0, Payload::Chat(&req), &Needs::default())
        .await
        .err()
        .unwrap();
    assert_eq!(err.attempts.len(), 1, "no fallback to another tier");
    let ok = f
        .route
        .execute_tier(1, Payload::Chat(&req), &Needs::default())
        .await
        .ok()
        .unwrap();
    assert_eq!(ok.target, 1);
    assert_eq!(f.calls(), [1, 1]);
}
