use super::*;
use crate::exposition::parse;
use switchyard_ledger::Record;

const STAGES: &[&str] = &["parse", "execute"];

fn metrics(max_workloads: usize) -> Metrics {
    let m = Metrics::new(Options {
        max_workloads,
        stages: STAGES,
    });
    m.configure(&Known {
        routes: vec!["chat".into()],
        providers: vec!["openai".into()],
        models: vec!["gpt-4o-mini".into()],
        workloads: vec![],
    });
    m
}

fn record(extra: serde_json::Value) -> Record {
    let mut v = serde_json::json!({
        "request_id": "r1", "ts": "2026-11-03T10:30:00Z", "kind": "chat", "workload": "support",
        "tags": [], "key_id": null, "team": null, "route": "chat", "provider": "openai",
        "model": "gpt-4o-mini", "attempts": [], "status": 200, "error_class": null,
        "streamed": true, "shadow": false, "features": "",
        "usage": {"input": 100, "cached_input": 20, "cache_write": 0, "cache_write_1h": 0,
                  "output": 11, "reasoning": 0},
        "cost_usd": "0.0015", "price_version": null, "latency_ms": 300.0, "ttft_ms": 100.0,
        "overhead_us": 90, "usage_estimated": false, "batch": false
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            o.insert(k.clone(), x.clone());
        }
    }
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_record_counts_its_request_tokens_cost_and_latencies() {
    let m = metrics(10);
    m.record(&record(serde_json::json!({})));
    m.record(&record(
        serde_json::json!({"status": 502, "error_class": "upstream_error",
        "usage": {"input": 0, "cached_input": 0, "cache_write": 0, "cache_write_1h": 0,
                  "output": 0, "reasoning": 0}, "cost_usd": null, "ttft_ms": null}),
    ));
    let s = parse(&m.encode(Snapshot::default())).unwrap();
    let route = [("route", "chat"), ("workload", "support")];
    assert_eq!(s.sum("switchyard_requests_total", &route), 2.0);
    assert_eq!(
        s.sum("switchyard_requests_total", &[("outcome", "ok")]),
        1.0
    );
    assert_eq!(
        s.sum(
            "switchyard_requests_total",
            &[("outcome", "upstream_error")]
        ),
        1.0
    );
    assert!((s.sum("switchyard_cost_usd_total", &route) - 0.0015).abs() < 1e-12);
    let input = [
        ("gen_ai_token_type", "input"),
        ("gen_ai_provider_name", "openai"),
    ];
    assert_eq!(s.sum("gen_ai_client_token_usage_sum", &input), 100.0);
    assert_eq!(s.sum("gen_ai_client_token_usage_count", &input), 1.0);
    assert_eq!(
        s.sum(
            "gen_ai_client_token_usage_sum",
            &[("gen_ai_token_type", "cached_input")]
        ),
        20.0
    );
    assert_eq!(
        s.series("gen_ai_client_token_usage_count"),
        3,
        "input, cached_input, output"
    );
    // Durations: one success, one error carrying error_type.
    assert_eq!(
        s.sum("gen_ai_client_operation_duration_seconds_count", &[]),
        2.0
    );
    assert_eq!(
        s.sum(
            "gen_ai_client_operation_duration_seconds_count",
            &[("error_type", "upstream_error")]
        ),
        1.0
    );
    assert_eq!(
        s.sum("gen_ai_server_time_to_first_token_seconds_sum", &[]),
        0.1
    );
    // (300 ms - 100 ms) over the 10 tokens after the first.
    let tpot = s.sum("gen_ai_server_time_per_output_token_seconds_sum", &[]);
    assert!((tpot - 0.02).abs() < 1e-9, "{tpot}");
    let le = s.sum(
        "gen_ai_client_operation_duration_seconds_bucket",
        &[("le", "0.32"), ("error_type", "upstream_error")],
    );
    assert_eq!(le, 1.0, "0.3 s is under the 0.32 bound");
    assert_eq!(
        s.types.get("switchyard_requests").map(String::as_str),
        Some("counter")
    );
}

#[test]
fn savings_are_counted_by_lever() {
    let m = metrics(10);
    m.record(&record(
        serde_json::json!({"cache": "exact", "saved_usd": "0.01", "cost_usd": "0"}),
    ));
    m.record(&record(
        serde_json::json!({"cache": "semantic", "saved_usd": "0.02", "cost_usd": "0"}),
    ));
    m.record(&record(
        serde_json::json!({"batch": true, "saved_usd": "0.5"}),
    ));
    m.record(&record(
        serde_json::json!({"routing_baseline_usd": "0.0035"}),
    ));
    m.record(&record(
        serde_json::json!({"routing_baseline_usd": "0.0005"}),
    ));
    m.record(&record(
        serde_json::json!({"cascade": {"tier": 1, "baseline_usd": "0.0115"}}),
    ));
    let s = parse(&m.encode(Snapshot::default())).unwrap();
    let lever = |l: &str| s.sum("switchyard_saved_usd_total", &[("lever", l)]);
    assert!((lever("exact") - 0.01).abs() < 1e-12);
    assert!((lever("semantic") - 0.02).abs() < 1e-12);
    assert!((lever("batch") - 0.5).abs() < 1e-12);
    assert!((lever("routing") - 0.002).abs() < 1e-12);
    assert!((lever("cascade") - 0.01).abs() < 1e-12);
    assert!((s.sum("switchyard_routing_overspend_usd_total", &[]) - 0.001).abs() < 1e-12);
    assert_eq!(
        s.sum("switchyard_requests_total", &[("outcome", "cache_hit")]),
        2.0
    );
    // A cache hit used no tokens upstream: only the four answers that went upstream count.
    assert_eq!(
        s.sum(
            "gen_ai_client_token_usage_count",
            &[("gen_ai_token_type", "input")]
        ),
        4.0
    );
}

#[test]
fn ten_thousand_workloads_and_unknown_names_stay_within_the_cap() {
    let m = metrics(20);
    for i in 0..10_000 {
        let w = format!("w{i}");
        m.record(&record(
            serde_json::json!({"workload": w, "route": format!("r{i}"),
            "model": format!("m{i}\"}}")}),
        ));
    }
    let text = m.encode(Snapshot::default());
    let s = parse(&text).unwrap();
    // 20 admitted workloads + other; route and model unknown: other.
    assert_eq!(s.series("switchyard_requests_total"), 21);
    assert_eq!(
        s.sum("switchyard_requests_total", &[("workload", "other")]),
        9_980.0
    );
    assert_eq!(
        s.sum(
            "switchyard_requests_total",
            &[("route", "other"), ("model", "other")]
        ),
        10_000.0
    );
    assert!(!text.contains("m9999"), "no raw model name reaches a label");
}

#[test]
fn shadow_calls_are_counted_apart_from_production() {
    let m = metrics(10);
    m.record(&record(serde_json::json!({"shadow": true})));
    let s = parse(&m.encode(Snapshot::default())).unwrap();
    assert_eq!(s.series("switchyard_requests_total"), 0);
    assert_eq!(
        s.sum("switchyard_shadow_calls_total", &[("route", "chat")]),
        1.0
    );
    assert!((s.sum("switchyard_shadow_cost_usd_total", &[]) - 0.0015).abs() < 1e-12);
}

#[test]
fn stages_cache_ledger_and_scrape_time_gauges_are_exposed() {
    let m = metrics(10);
    m.observe_stages(
        [Duration::from_micros(40), Duration::ZERO],
        Duration::from_micros(60),
    );
    m.observe_cache("chat", CacheResult::Hit);
    m.observe_cache("chat", CacheResult::Miss);
    m.observe_cache("chat", CacheResult::Miss);
    switchyard_ledger::Tap::committed(&m, 7, Duration::from_millis(3));
    let snap = Snapshot {
        breakers: vec![BreakerGauge {
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            state: "open",
            opened_total: 2,
        }],
        budgets: vec![BudgetGauge {
            key_id: "k1".into(),
            period: "day",
            limit_usd: 10.0,
            spent_usd: 2.5,
            reserved_usd: 0.5,
        }],
        ledger: LedgerGauges {
            queued: 3,
            written: 40,
            ..LedgerGauges::default()
        },
        eval: Some(EvalCounters {
            captures_dropped: 4,
            shadow_sent: 5,
            ..EvalCounters::default()
        }),
        cache_entries: Some((12, 3400)),
        traces: Some(crate::trace::TraceCounts {
            exported: 9,
            dropped: 2,
            failed: 0,
        }),
    };
    let s = parse(&m.encode(snap)).unwrap();
    assert_eq!(
        s.sum("switchyard_trace_spans_total", &[("result", "dropped")]),
        2.0
    );
    let stage = |st: &str| s.sum("switchyard_overhead_seconds_count", &[("stage", st)]);
    assert_eq!(
        (stage("parse"), stage("execute"), stage("total")),
        (1.0, 0.0, 1.0)
    );
    assert_eq!(
        s.sum(
            "switchyard_overhead_seconds_bucket",
            &[("stage", "parse"), ("le", "0.00005")]
        ),
        1.0
    );
    assert_eq!(
        s.sum("switchyard_cache_requests_total", &[("result", "miss")]),
        2.0
    );
    assert_eq!(
        s.sum("switchyard_cache_requests_total", &[("result", "hit")]),
        1.0
    );
    assert_eq!(
        s.sum("switchyard_ledger_flush_duration_seconds_count", &[]),
        1.0
    );
    assert_eq!(
        s.sum("switchyard_breaker_state", &[("model", "gpt-4o-mini")]),
        2.0
    );
    assert_eq!(s.sum("switchyard_breaker_opened_total", &[]), 2.0);
    assert_eq!(
        s.sum(
            "switchyard_budget_remaining_usd",
            &[("key", "k1"), ("period", "day")]
        ),
        7.0
    );
    assert_eq!(
        s.sum("switchyard_budget_reserved_usd", &[("key", "k1")]),
        0.5
    );
    assert_eq!(s.sum("switchyard_ledger_queue_depth", &[]), 3.0);
    assert_eq!(s.sum("switchyard_ledger_records_written_total", &[]), 40.0);
    assert_eq!(
        s.sum("switchyard_captures_total", &[("result", "dropped")]),
        4.0
    );
    assert_eq!(
        s.sum("switchyard_shadow_requests_total", &[("result", "sent")]),
        5.0
    );
    assert_eq!(s.sum("switchyard_cache_store_bytes", &[]), 3400.0);
}

#[test]
fn the_parser_refuses_what_is_not_an_exposition() {
    assert!(parse("x 1\n").is_err(), "no # EOF");
    assert!(parse("x{a=\"1} 2\n# EOF\n").is_err());
    assert!(parse("x{a=\"1\"} two\n# EOF\n").is_err());
    assert!(parse("# EOF\nx 1\n").is_err());
    let s = parse("x{a=\"q\\\"\",b=\"\"} 2\n# EOF\n").unwrap();
    assert_eq!(
        s.samples[0].labels.get("a").map(String::as_str),
        Some("q\"")
    );
}
