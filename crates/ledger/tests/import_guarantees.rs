//! `ledger import` guarantees: every bad row reported at once and nothing imported, idempotent
//! re-imports, aggregated rows in summaries, and the export → import round trip.
#![cfg(test)]

mod common;

use chrono::{TimeZone, Utc};
use common::{catalog, fixture, parse_auto, usd};
use std::str::FromStr;
use switchyard_ledger::import::{
    ImportError, ImportFormat, ImportOptions, Location, import, parse,
};
use switchyard_ledger::{
    Attempt, AttemptOutcome, Dimension, ExportFormat, Record, RecordKind, RecordSink, SqliteStore,
    Store, SummaryQuery, export,
};
use switchyard_primitives::{Money, TokenUsage};

fn scan(s: &SqliteStore) -> Vec<Record> {
    let mut out = Vec::new();
    s.scan(None, &mut |r| {
        out.push(r);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn aggregated_rows_choose_the_long_context_tier_per_request_not_per_bucket() {
    // 10 requests of 150k prompt tokens each: below Sonnet 4.5's 200k tier, so $3/M, not $6/M.
    let text = "ts,provider,model,input_tokens,output_tokens,requests\n2026-01-05,anthropic,claude-sonnet-4-5,1500000,0,10\n";
    let (_, recs) = parse_auto(text);
    assert_eq!(recs[0].cost_usd, usd("4.5"));
}

#[test]
fn bad_rows_are_all_reported_with_their_lines_and_nothing_is_imported() {
    let mut store = SqliteStore::in_memory().unwrap();
    let err = import(
        &mut store,
        &fixture("generic_bad.csv"),
        &ImportOptions::default(),
        &catalog(),
        false,
    )
    .unwrap_err();
    let ImportError::Invalid { errors, .. } = &err else {
        panic!("{err}");
    };
    let lines: Vec<&Location> = errors.iter().map(|e| &e.at).collect();
    assert_eq!(
        lines,
        [3, 4, 5, 5, 6]
            .map(Location::Line)
            .iter()
            .collect::<Vec<_>>(),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("line 3: ts: \"yesterday\" is not a timestamp"),
        "{text}"
    );
    assert!(text.contains("line 4: input_tokens"), "{text}");
    assert!(text.contains("line 5: provider is required"), "{text}");
    assert!(
        text.contains("line 6: requests must be at least 1"),
        "{text}"
    );
    assert!(text.contains("nothing was imported"), "{text}");
    assert_eq!(
        store.count().unwrap(),
        0,
        "valid rows 2 and 7 were not imported either"
    );
}

#[test]
fn json_export_errors_name_the_bucket_and_result() {
    let text = r#"{"object":"page","data":[{"start_time":1772323200,"end_time":1772409600,"results":[
        {"object":"organization.usage.completions.result","input_tokens":5,"output_tokens":1,"num_model_requests":1},
        {"object":"organization.usage.completions.result","input_tokens":"lots","output_tokens":1,"num_model_requests":1},
        {"object":"organization.usage.completions.result","input_tokens":5,"output_tokens":-1}]}]}"#;
    let err = parse(text, &ImportOptions::default(), &catalog()).unwrap_err();
    let ImportError::Invalid { format, errors } = &err else {
        panic!("{err}");
    };
    assert_eq!(*format, ImportFormat::Openai);
    let at: Vec<String> = errors.iter().map(|e| e.at.to_string()).collect();
    assert_eq!(
        at,
        [
            "data[0].results[1]",
            "data[0].results[2]",
            "data[0].results[2]"
        ],
        "{err}"
    );
}

#[test]
fn reimporting_the_same_file_imports_nothing() {
    let mut store = SqliteStore::in_memory().unwrap();
    let opts = ImportOptions::default();
    let cat = catalog();
    for name in [
        "generic.csv",
        "litellm_spend_logs.csv",
        "openai_usage.json",
        "anthropic_usage.json",
    ] {
        let text = fixture(name);
        let first = import(&mut store, &text, &opts, &cat, false).unwrap();
        assert_eq!(
            (first.imported, first.duplicates),
            (first.read, 0),
            "{name}"
        );
        let again = import(&mut store, &text, &opts, &cat, false).unwrap();
        assert_eq!(
            (again.imported, again.duplicates),
            (0, first.read),
            "{name}"
        );
        let dry = import(&mut store, &text, &opts, &cat, true).unwrap();
        assert_eq!(dry.imported, 0, "{name}");
    }
    assert_eq!(store.count().unwrap(), 4 + 3 + 3 + 3);
}

#[test]
fn summaries_count_every_request_of_an_aggregated_row() {
    let mut store = SqliteStore::in_memory().unwrap();
    let report = import(
        &mut store,
        &fixture("openai_usage.json"),
        &ImportOptions::default(),
        &catalog(),
        false,
    )
    .unwrap();
    assert_eq!((report.read, report.requests), (3, 64));
    let rows = store
        .summary(&SummaryQuery {
            by: Dimension::Provider,
            since: None,
            include_shadow: false,
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].requests, 64);
    assert_eq!(
        rows[0].avg_latency_ms, 0.0,
        "buckets carry no latency and dilute nothing"
    );
    assert_eq!(rows[0].cost_usd, Money::from_str("0.645").unwrap());
}

fn gateway_record(id: &str, minute: u32) -> Record {
    Record {
        request_id: id.into(),
        ts: Utc.with_ymd_and_hms(2026, 2, 3, 4, minute, 6).unwrap()
            + chrono::Duration::milliseconds(789),
        kind: RecordKind::Chat,
        workload: Some("sup,port \"quoted\"".into()),
        tags: vec![
            ("team".into(), "a;b=c%d".into()),
            ("empty".into(), String::new()),
        ],
        key_id: Some("vk_1".into()),
        team: Some("core".into()),
        route: "chat".into(),
        provider: Some("openai".into()),
        model: Some("gpt-4o-mini".into()),
        attempts: vec![
            Attempt {
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                outcome: AttemptOutcome::RateLimited,
                status: Some(429),
                latency_ms: 12,
                error: Some("slow down, \"please\"".into()),
            },
            Attempt {
                provider: "azure".into(),
                model: "gpt-4o-mini".into(),
                outcome: AttemptOutcome::Ok,
                status: Some(200),
                latency_ms: 300,
                error: None,
            },
        ],
        status: 200,
        error_class: None,
        streamed: true,
        shadow: false,
        features: "tools,json_schema".into(),
        usage: TokenUsage {
            input: 120,
            cached_input: 30,
            cache_write: 7,
            cache_write_1h: 2,
            output: 45,
            reasoning: 5,
        },
        cost_usd: usd("0.000123456789"),
        price_version: Some("openai/gpt-4o-mini@2024-07-18".into()),
        latency_ms: 321.123456789,
        ttft_ms: Some(45.6789),
        overhead_us: 87,
        usage_estimated: true,
        request_count: 1,
        source: "gateway".into(),
        prefix: Some(switchyard_ledger::PromptPrefix {
            hash: 0x00ab_cdef_0123_4567 ^ u64::from(minute),
            tokens: 1500,
        }),
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

fn round_trip(format: ExportFormat) {
    let mut original = SqliteStore::in_memory().unwrap();
    let mut failed = gateway_record("req_2", 9);
    (
        failed.status,
        failed.error_class,
        failed.provider,
        failed.model,
    ) = (502, Some("upstream".into()), None, None);
    (
        failed.cost_usd,
        failed.price_version,
        failed.ttft_ms,
        failed.streamed,
    ) = (None, None, None, false);
    let mut bucket = gateway_record("imp_bucket", 10);
    (
        bucket.request_count,
        bucket.source,
        bucket.attempts,
        bucket.tags,
    ) = (40, "import:openai".into(), vec![], vec![]);
    // Every lever's columns: a cascade answer sent in a batch, with its fingerprint, and an
    // exact-cache hit.
    let mut levered = gateway_record("req_3", 11);
    levered.cascade = Some(switchyard_ledger::CascadeMark {
        tier: 2,
        baseline_usd: usd("0.0042"),
        judged_usd: usd("0.00031"),
    });
    (levered.batch, levered.saved_usd) = (true, usd("0.00005"));
    levered.fingerprint = Some(switchyard_ledger::Fingerprint(0x0123_4567_89ab_cdef << 60));
    let mut hit = gateway_record("req_4", 12);
    (hit.cache, hit.saved_usd, hit.cost_usd) = (Some("exact".into()), usd("0.01"), usd("0"));
    hit.cascade = Some(switchyard_ledger::CascadeMark {
        tier: 1,
        baseline_usd: None,
        judged_usd: None,
    });
    original
        .append(&[gateway_record("req_1", 8), failed, bucket, levered, hit])
        .unwrap();
    let mut out = Vec::new();
    export(&original, format, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();

    let mut copy = SqliteStore::in_memory().unwrap();
    let report = import(
        &mut copy,
        &text,
        &ImportOptions::default(),
        &catalog(),
        false,
    )
    .unwrap();
    assert_eq!((report.read, report.imported), (5, 5), "{text}");
    assert_eq!(scan(&copy), scan(&original), "{text}");
    let q = SummaryQuery {
        by: Dimension::Workload,
        since: None,
        include_shadow: false,
    };
    assert_eq!(copy.summary(&q).unwrap(), original.summary(&q).unwrap());
}

#[test]
fn csv_export_imports_back_losslessly() {
    round_trip(ExportFormat::Csv);
}

#[test]
fn jsonl_export_imports_back_losslessly() {
    round_trip(ExportFormat::Jsonl);
}
