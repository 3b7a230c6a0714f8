use super::*;
use crate::{
    Attempt, AttemptOutcome, Dimension, ExportFormat, RecordKind, Recorder, RecorderConfig,
    SummaryQuery, export,
};
use chrono::TimeZone;
use std::time::Duration;

pub(crate) fn record(id: &str, workload: &str, model: &str, cost: &str, day: u32) -> Record {
    Record {
        request_id: id.into(),
        ts: Utc.with_ymd_and_hms(2026, 11, day, 10, 30, 0).unwrap(),
        kind: RecordKind::Chat,
        workload: Some(workload.into()),
        tags: vec![("team".into(), "a,b".into())],
        key_id: None,
        team: None,
        route: "r".into(),
        provider: Some("openai".into()),
        model: Some(model.into()),
        attempts: vec![Attempt {
            provider: "openai".into(),
            model: model.into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 12,
            error: None,
        }],
        status: 200,
        error_class: None,
        streamed: false,
        shadow: false,
        features: "tools".into(),
        usage: TokenUsage {
            input: 100,
            cached_input: 10,
            cache_write: 0,
            cache_write_1h: 0,
            output: 50,
            reasoning: 5,
        },
        cost_usd: Some(Money::from_str(cost).unwrap()),
        price_version: Some("openai/m@2025-01-01".into()),
        latency_ms: 20.0,
        ttft_ms: None,
        overhead_us: 40,
        usage_estimated: false,
        request_count: 1,
        source: "gateway".into(),
        prefix: None,
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

#[test]
fn round_trips_records_and_skips_duplicates() {
    let mut s = SqliteStore::in_memory().unwrap();
    let a = record("a", "support", "m", "0.1", 1);
    assert_eq!(
        s.append(&[a.clone(), record("b", "support", "m", "0.2", 1)])
            .unwrap(),
        2
    );
    assert_eq!(
        s.append(std::slice::from_ref(&a)).unwrap(),
        0,
        "same request id is not recorded twice"
    );
    let mut seen = Vec::new();
    s.scan(None, &mut |r| {
        seen.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], a);
}

#[test]
fn summary_sums_exact_decimals_and_ignores_duplicates() {
    let mut s = SqliteStore::in_memory().unwrap();
    // 0.1 + 0.2 must be exactly 0.3, which floats cannot do.
    s.append(&[
        record("a", "support", "m1", "0.1", 1),
        record("b", "support", "m2", "0.2", 2),
    ])
    .unwrap();
    s.append(&[
        record("a", "support", "m1", "0.1", 1),
        record("c", "review", "m1", "1.5", 2),
    ])
    .unwrap();
    let rows = s
        .summary(&SummaryQuery {
            by: Dimension::Workload,
            since: None,
            include_shadow: false,
        })
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].key.as_str(), rows[0].cost_usd.to_string()),
        ("review", "1.5".to_string())
    );
    assert_eq!(
        (
            rows[1].key.as_str(),
            rows[1].cost_usd.to_string(),
            rows[1].requests
        ),
        ("support", "0.3".to_string(), 2)
    );
    assert_eq!(rows[1].usage.input, 200);
    let by_day = s
        .summary(&SummaryQuery {
            by: Dimension::Day,
            since: NaiveDateExt::ymd(2026, 11, 2),
            include_shadow: false,
        })
        .unwrap();
    assert_eq!(by_day.len(), 1);
    assert_eq!(by_day[0].key, "2026-11-02");
    assert_eq!(by_day[0].cost_usd.to_string(), "1.7");
}

struct NaiveDateExt;
impl NaiveDateExt {
    fn ymd(y: i32, m: u32, d: u32) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
    }
}

#[test]
fn shadow_traffic_is_not_production_spend() {
    let mut s = SqliteStore::in_memory().unwrap();
    let mut shadow = record("s", "support", "m", "5", 1);
    shadow.shadow = true;
    s.append(&[record("a", "support", "m", "1", 1), shadow])
        .unwrap();
    let q = |include_shadow| SummaryQuery {
        by: Dimension::Workload,
        since: None,
        include_shadow,
    };
    assert_eq!(s.summary(&q(false)).unwrap()[0].cost_usd.to_string(), "1");
    assert_eq!(s.summary(&q(true)).unwrap()[0].cost_usd.to_string(), "6");
}

#[test]
fn csv_export_quotes_fields_and_jsonl_parses_back() {
    let mut s = SqliteStore::in_memory().unwrap();
    s.append(&[record("a", "sup,port", "m", "0.1", 1)]).unwrap();
    let mut csv = Vec::new();
    assert_eq!(export(&s, ExportFormat::Csv, None, &mut csv).unwrap(), 1);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().contains(",\"sup,port\","),
        "{csv}"
    );
    let mut jsonl = Vec::new();
    export(&s, ExportFormat::Jsonl, None, &mut jsonl).unwrap();
    let back: Record =
        serde_json::from_slice(jsonl.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(back.workload.as_deref(), Some("sup,port"));
}

#[test]
fn file_ledger_is_wal_and_migrated_once() {
    let dir = std::env::temp_dir().join(format!("sy-ledger-{}", std::process::id()));
    let path = dir.join("l.db");
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut s = SqliteStore::open(&path).unwrap();
        s.append(&[record("a", "w", "m", "1", 1)]).unwrap();
        let mode: String = s
            .connection()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(
        s.schema_version().unwrap(),
        SqliteStore::latest_schema_version()
    );
    assert_eq!(s.count().unwrap(), 1, "reopening keeps data");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recorder_commits_everything_on_shutdown() {
    let dir = std::env::temp_dir().join(format!("sy-rec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("l.db");
    let store = SqliteStore::open(&path).unwrap();
    // A tiny channel forces the overflow path; a long interval proves shutdown flushes.
    // A long interval proves shutdown flushes; a small batch size exercises early wake-ups.
    let cfg = RecorderConfig {
        batch_size: 64,
        flush_interval: Duration::from_secs(30),
        spool_dir: None,
    };
    let (rec, handle) = Recorder::spawn(Box::new(store), cfg).unwrap();
    for i in 0..500 {
        rec.record(record(&format!("r{i}"), "w", "m", "0.001", 1));
    }
    let stats = handle.shutdown();
    assert_eq!(stats.written, 500);
    assert_eq!(stats.failed_commits, 0);
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.count().unwrap(), 500);
    let rows = s
        .summary(&SummaryQuery {
            by: Dimension::Workload,
            since: None,
            include_shadow: false,
        })
        .unwrap();
    assert_eq!(rows[0].cost_usd.to_string(), "0.5");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flush_waits_for_commit() {
    let store = SqliteStore::in_memory().unwrap();
    let cfg = RecorderConfig {
        batch_size: 1000,
        flush_interval: Duration::from_secs(30),
        spool_dir: None,
    };
    let (rec, handle) = Recorder::spawn(Box::new(store), cfg).unwrap();
    rec.record(record("x", "w", "m", "1", 1));
    rec.flush();
    assert_eq!(rec.stats().written, 1);
    drop(handle);
}

#[test]
fn migration_2_keeps_averages_of_an_existing_ledger() {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::schema::migrate_to(&mut conn, 1).unwrap();
    conn.execute_batch(
        "INSERT INTO rollup_hourly VALUES ('2026-11-01T10', 'w', 'r', 'openai', 'm', '', '', 0,
             4, 1, 0, 0, 100, 0, 0, 50, 0, '0.4', 400.0, 0.0, 0, 80)",
    )
    .unwrap();
    let mut s = SqliteStore::init(conn, Path::new(":memory:")).unwrap();
    assert_eq!(
        s.schema_version().unwrap(),
        SqliteStore::latest_schema_version()
    );
    // An imported bucket of 6 requests without timings joins the same cell.
    let mut bucket = record("imp_1", "w", "m", "0.6", 1);
    (bucket.route, bucket.request_count, bucket.latency_ms) = ("r".into(), 6, 0.0);
    (bucket.source, bucket.tags, bucket.features) = ("import:openai".into(), vec![], String::new());
    bucket.ts = Utc.with_ymd_and_hms(2026, 11, 1, 10, 5, 0).unwrap();
    s.append(&[bucket]).unwrap();
    let rows = s
        .summary(&SummaryQuery {
            by: Dimension::Workload,
            since: None,
            include_shadow: false,
        })
        .unwrap();
    assert_eq!(rows[0].requests, 10);
    assert_eq!(rows[0].cost_usd.to_string(), "1");
    assert_eq!(
        rows[0].avg_latency_ms, 100.0,
        "the 4 measured requests only"
    );
    assert_eq!(rows[0].avg_overhead_us, 20.0, "gateway requests only");
}

#[test]
fn workload_feature_profiles_are_maintained_on_append() {
    let mut s = SqliteStore::in_memory().unwrap();
    let mut a = record("a", "w", "m", "0.1", 1);
    a.usage.input = 1000; // prompt 1000 + 10 cached
    let mut b = record("b", "w", "m", "0.1", 1);
    (b.request_count, b.usage.input) = (10, 5000); // aggregated: 5010 / 10 = 501 per request
    let mut failed = record("c", "w", "m", "0", 1);
    (failed.status, failed.usage.input) = (500, 99_999);
    s.append(&[a, b, failed]).unwrap();
    let (requests, max_prompt): (i64, i64) = s
        .connection()
        .query_row("SELECT requests, max_prompt_tokens FROM workload_features WHERE workload = 'w' AND features = 'tools'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(
        (requests, max_prompt),
        (11, 1010),
        "failed requests do not shape the profile"
    );
}

/// A record carrying prefix `hash` (2,000 tokens), with `cached` tokens read from the cache.
fn prefixed(id: &str, workload: &str, hash: u64, cached: u64, hour: u32) -> Record {
    let mut r = record(id, workload, "m", "0.01", 1);
    r.ts = Utc.with_ymd_and_hms(2026, 11, 1, hour, 5, 0).unwrap();
    r.usage.cached_input = cached;
    r.prefix = Some(crate::PromptPrefix { hash, tokens: 2000 });
    r
}

#[test]
fn repeated_prefixes_sent_uncached_are_counted_per_hour_and_round_trip() {
    let mut s = SqliteStore::in_memory().unwrap();
    s.append(&[
        // Three sends of one prefix in one hour, none cached: two uncached repeats.
        prefixed("a1", "triage", 7, 0, 9),
        prefixed("a2", "triage", 7, 0, 9),
        prefixed("a3", "triage", 7, 0, 9),
        // The same prefix the next hour, once: no repeat within the hour.
        prefixed("a4", "triage", 7, 0, 10),
        // Cached after the first send: nothing missed.
        prefixed("b1", "review", 9, 0, 9),
        prefixed("b2", "review", 9, 1500, 9),
    ])
    .unwrap();
    let repeats = crate::prefix_repeats(s.connection(), None, false).unwrap();
    let triage = repeats.iter().find(|r| r.workload == "triage").unwrap();
    assert_eq!((triage.requests, triage.uncached_repeats), (4, 2));
    assert_eq!(triage.uncached_tokens, 4000);
    let review = repeats.iter().find(|r| r.workload == "review").unwrap();
    assert_eq!((review.requests, review.uncached_repeats), (2, 0));
    let mut back = Vec::new();
    s.scan(None, &mut |r| {
        back.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        back[0].prefix,
        Some(crate::PromptPrefix {
            hash: 7,
            tokens: 2000
        })
    );
    assert!(
        crate::prefix_repeats(
            s.connection(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 2),
            false
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn a_cascade_mark_round_trips_and_the_cascade_report_sums_per_route() {
    let mut s = SqliteStore::in_memory().unwrap();
    let mut escalated = record("c1", "w", "big", "0.30", 1);
    escalated.route = "classify".into();
    escalated.attempts[0].outcome = AttemptOutcome::Escalated;
    escalated.cascade = Some(crate::CascadeMark {
        tier: 2,
        baseline_usd: Some(Money::from_str("0.25").unwrap()),
        judged_usd: None,
    });
    let mut stayed = record("c2", "w", "small", "0.01", 1);
    stayed.route = "classify".into();
    stayed.cascade = Some(crate::CascadeMark {
        tier: 1,
        baseline_usd: Some(Money::from_str("0.25").unwrap()),
        judged_usd: None,
    });
    let plain = record("p", "w", "m", "1.00", 1);
    s.append(&[escalated.clone(), stayed, plain]).unwrap();
    let mut back = Vec::new();
    s.scan(None, &mut |r| {
        back.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(back[0], escalated, "mark and escalated outcome survive");
    assert_eq!(back[2].cascade, None);
    let rows = s.cascade(None).unwrap();
    assert_eq!(rows.len(), 1, "only cascade routes");
    let r = &rows[0];
    assert_eq!(
        (r.route.as_str(), r.requests, r.escalated),
        ("classify", 2, 1)
    );
    assert_eq!(r.cost_usd, Money::from_str("0.31").unwrap());
    assert_eq!(r.top_tier_usd, Money::from_str("0.50").unwrap());
    assert_eq!(r.saved_usd(), Money::from_str("0.19").unwrap());
}

#[test]
fn cache_hits_round_trip_and_savings_by_lever_sum_from_the_rollup() {
    let mut s = SqliteStore::in_memory().unwrap();
    let mut hit = record("h1", "support", "m", "0", 1);
    hit.cache = Some(crate::CACHE_EXACT.into());
    hit.saved_usd = Some(Money::from_str("0.1").unwrap());
    let mut hit2 = record("h2", "support", "m", "0", 1);
    hit2.cache = Some(crate::CACHE_EXACT.into());
    hit2.saved_usd = Some(Money::from_str("0.2").unwrap());
    let mut sem = record("s1", "support", "m", "0", 1);
    sem.cache = Some(crate::CACHE_SEMANTIC.into());
    sem.saved_usd = Some(Money::from_str("0.05").unwrap());
    s.append(&[record("a", "support", "m", "0.3", 1), hit.clone()])
        .unwrap();
    // A second batch into the same rollup cell: savings add up exactly.
    s.append(&[hit2, sem]).unwrap();
    let mut seen = Vec::new();
    s.scan(None, &mut |r| {
        seen.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen[1], hit, "cache and saved_usd survive the round trip");
    let q = SummaryQuery {
        by: Dimension::Workload,
        since: None,
        include_shadow: false,
    };
    let sv = s.savings(&q).unwrap();
    assert_eq!(sv.spent_usd.to_string(), "0.3");
    assert_eq!(sv.saved_usd.to_string(), "0.35");
    let cache = &sv.levers[0];
    assert_eq!(cache.lever, crate::Lever::Cache);
    assert_eq!(
        (cache.requests.unwrap_or(0), cache.saved_usd.to_string()),
        (2, "0.3".into())
    );
    assert_eq!(sv.levers[1].requests, Some(1));
    assert!(
        !sv.levers[2].measured,
        "prompt caching is not measured here"
    );
    assert!((sv.share(sv.saved_usd) - 0.35 / 0.65).abs() < 1e-9);
}

#[test]
fn migration_4_keeps_older_rows_as_uncached() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    crate::schema::migrate_to(&mut conn, 3).unwrap();
    conn.execute_batch(
        "INSERT INTO rollup_hourly (hour, workload, route, provider, model, key_id, team, shadow, requests, errors, streamed, estimated, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, latency_ms_sum, ttft_ms_sum, ttft_count, overhead_us_sum) VALUES ('2026-11-01T10','w','r','p','m','','',0,1,0,0,0,1,0,0,1,0,'0.5',1,0,0,1)",
    )
    .unwrap();
    crate::schema::migrate(&mut conn).unwrap();
    let sv = crate::savings::run(&conn, &crate::Window::since(None)).unwrap();
    assert_eq!(sv.spent_usd.to_string(), "0.5");
    assert!(sv.saved_usd.is_zero());
}
