//! Writing: idempotent appends, incremental rollups, records read back whole, migrations.

use crate::backend::Backend;
use chrono::{DateTime, TimeZone, Utc};
use std::str::FromStr;
use switchyard_ledger::{
    Attempt, AttemptOutcome, CascadeMark, Dimension, PromptPrefix, Record, RecordKind, RecordSink,
    SummaryQuery,
};
use switchyard_primitives::{Money, TokenUsage};

pub fn usd(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

pub fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
        .unwrap()
}

/// A gateway record on day `day` at 10:30 of 2026-11, for workload `w`, costing `cost`.
pub fn record(id: &str, w: &str, cost: &str, day: u32) -> Record {
    Record {
        request_id: id.into(),
        ts: at(day, 10, 30),
        kind: RecordKind::Chat,
        workload: Some(w.into()),
        tags: vec![("team".into(), "a\"b".into())],
        key_id: Some("key_a".into()),
        team: Some("payments".into()),
        route: "chat".into(),
        provider: Some("openai".into()),
        model: Some("gpt-4o-mini".into()),
        attempts: vec![Attempt {
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 12,
            error: None,
        }],
        status: 200,
        error_class: None,
        streamed: true,
        shadow: false,
        features: "tools,json_schema".into(),
        usage: TokenUsage {
            input: 100,
            cached_input: 10,
            cache_write: 3,
            cache_write_1h: 1,
            output: 50,
            reasoning: 5,
        },
        cost_usd: Some(usd(cost)),
        price_version: Some("openai/gpt-4o-mini@2025-01-01".into()),
        latency_ms: 20.5,
        ttft_ms: Some(7.25),
        overhead_us: 40,
        usage_estimated: false,
        request_count: 1,
        source: "gateway".into(),
        prefix: Some(PromptPrefix {
            hash: 0xdead_beef_0000_0001,
            tokens: 1500,
        }),
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: Some(switchyard_ledger::Fingerprint(
            0x0123_4567_89ab_cdef_0011_2233_4455_6677,
        )),
        routing_baseline_usd: None,
    }
}

fn all(b: &Backend) -> Vec<Record> {
    let mut out = Vec::new();
    b.store
        .scan(None, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
    out
}

fn by(dim: Dimension) -> SummaryQuery {
    SummaryQuery {
        by: dim,
        since: None,
        include_shadow: false,
    }
}

fn an_append_skips_request_ids_already_recorded_and_counts_only_new_ones(b: &mut Backend) {
    let a = record("a", "support", "0.1", 1);
    assert_eq!(
        b.store
            .append(&[a.clone(), record("b", "support", "0.2", 1)])
            .unwrap(),
        2
    );
    assert_eq!(
        b.store
            .append(&[a.clone(), record("c", "support", "0.3", 1)])
            .unwrap(),
        1
    );
    assert_eq!(b.store.append(&[]).unwrap(), 0);
    assert_eq!(b.store.count().unwrap(), 3);
    assert_eq!(b.store.count_existing(&["a", "c", "zz"]).unwrap(), 2);
    // The duplicate added nothing to the rollup either.
    let rows = b.store.summary(&by(Dimension::Workload)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].requests, 3);
    assert_eq!(rows[0].cost_usd, usd("0.6"));
}

fn records_read_back_field_for_field_in_time_order(b: &mut Backend) {
    let mut first = record("x1", "support", "0.000123456789", 2);
    first.cascade = Some(CascadeMark {
        tier: 2,
        baseline_usd: Some(usd("0.5")),
        judged_usd: None,
    });
    first.saved_usd = Some(usd("0.25"));
    first.cache = Some("exact".into());
    first.batch = true;
    first.ttft_ms = None;
    first.routing_baseline_usd = Some(usd("0.0421"));
    let mut early = record("x0", "", "1", 1);
    early.workload = None;
    early.key_id = None;
    early.cost_usd = None;
    early.prefix = None;
    early.status = 502;
    early.error_class = Some("upstream_error".into());
    early.shadow = true;
    b.store.append(&[first.clone(), early.clone()]).unwrap();
    assert_eq!(all(b), vec![early, first.clone()]);
    let mut since = Vec::new();
    b.store
        .scan(Some(at(2, 0, 0)), &mut |r| {
            since.push(r.request_id);
            Ok(())
        })
        .unwrap();
    assert_eq!(since, vec!["x1".to_string()]);
}

/// Text that a bulk format could take for its own syntax (tab, newline, carriage return,
/// backslash, a literal `\N`, quotes, commas, non-ASCII) and floats without a short decimal
/// form read back exactly as written, in every text column.
fn records_with_separators_escapes_and_odd_floats_read_back_exactly(b: &mut Backend) {
    let odd = "a\tb\\N\n\\\r\u{7f} \"q\" ,; é 漢 🦀 \\N";
    let odd = format!("{odd}\t{}\n{}\r\\N\\", "tab", "nl");
    let mut r = record("req\t\\N\n1", &odd, "0.000000001", 3);
    r.tags = vec![
        (odd.clone(), format!("v{odd}")),
        ("\\N".into(), String::new()),
    ];
    r.key_id = Some(odd.clone());
    r.team = Some(String::new());
    r.route = odd.clone();
    r.provider = Some("\\".into());
    r.model = Some(odd.clone());
    r.error_class = Some("\\N".into());
    r.features = odd.clone();
    r.price_version = Some(odd.clone());
    r.source = odd.clone();
    r.cache = Some(odd.clone());
    r.attempts[0].error = Some(odd.clone());
    r.latency_ms = 0.1 + 0.2;
    r.ttft_ms = Some(1e-7);
    r.usage.input = 1 << 40;
    r.overhead_us = 0;
    b.store.append(std::slice::from_ref(&r)).unwrap();
    assert_eq!(all(b), vec![r.clone()]);
    assert_eq!(
        b.store.append(&[r]).unwrap(),
        0,
        "and is recognised when sent again"
    );
}

fn rollups_add_up_across_batches_and_connections_to_the_cent(b: &mut Backend) {
    b.store.append(&[record("a", "support", "0.1", 3)]).unwrap();
    let mut other = b.reopen();
    other.append(&[record("b", "support", "0.2", 3)]).unwrap();
    b.store.append(&[record("c", "search", "0.05", 3)]).unwrap();
    let rows = b.store.summary(&by(Dimension::Workload)).unwrap();
    let keys: Vec<(&str, u64, Money)> = rows
        .iter()
        .map(|r| (r.key.as_str(), r.requests, r.cost_usd))
        .collect();
    assert_eq!(
        keys,
        vec![("support", 2, usd("0.3")), ("search", 1, usd("0.05"))]
    );
    let support = &rows[0];
    assert_eq!(support.usage.input, 200);
    assert_eq!(support.usage.reasoning, 10);
    assert!((support.avg_latency_ms - 20.5).abs() < 1e-9);
    assert_eq!(support.avg_ttft_ms, Some(7.25));
    assert!((support.avg_overhead_us - 40.0).abs() < 1e-9);
}

fn concurrent_writers_lose_no_update_to_a_shared_rollup_cell(b: &mut Backend) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let mut store = b.reopen();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let id = format!("t{t}-{i}");
                    store.append(&[record(&id, "support", "0.01", 4)]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let rows = b.store.summary(&by(Dimension::Workload)).unwrap();
    assert_eq!(rows[0].requests, 40);
    assert_eq!(rows[0].cost_usd, usd("0.4"));
}

fn summaries_group_by_every_dimension_and_leave_shadow_out_unless_asked(b: &mut Backend) {
    let mut shadow = record("s", "support", "9", 5);
    shadow.shadow = true;
    let mut anon = record("n", "support", "1", 6);
    anon.key_id = None;
    b.store
        .append(&[record("a", "support", "2", 5), shadow, anon])
        .unwrap();
    let keys = |dim, include_shadow| -> Vec<(String, Money)> {
        let q = SummaryQuery {
            by: dim,
            since: None,
            include_shadow,
        };
        let rows = b.store.summary(&q).unwrap();
        rows.into_iter().map(|r| (r.key, r.cost_usd)).collect()
    };
    let day = |d: &str, c: &str| (d.to_string(), usd(c));
    assert_eq!(
        keys(Dimension::Day, false),
        vec![day("2026-11-05", "2"), day("2026-11-06", "1")]
    );
    assert_eq!(
        keys(Dimension::Key, false),
        vec![day("key_a", "2"), day("(none)", "1")]
    );
    assert_eq!(
        keys(Dimension::Model, true),
        vec![day("openai/gpt-4o-mini", "12")]
    );
    let since = SummaryQuery {
        by: Dimension::Team,
        since: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 6).unwrap()),
        include_shadow: false,
    };
    let rows = b.store.summary(&since).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].key.as_str(), rows[0].requests), ("payments", 1));
}

fn reopening_a_migrated_ledger_keeps_its_records(b: &mut Backend) {
    b.store.append(&[record("a", "support", "0.1", 1)]).unwrap();
    let again = b.reopen();
    assert_eq!(again.count().unwrap(), 1);
}

crate::conformance!(
    records_with_separators_escapes_and_odd_floats_read_back_exactly,
    an_append_skips_request_ids_already_recorded_and_counts_only_new_ones,
    records_read_back_field_for_field_in_time_order,
    rollups_add_up_across_batches_and_connections_to_the_cent,
    concurrent_writers_lose_no_update_to_a_shared_rollup_cell,
    summaries_group_by_every_dimension_and_leave_shadow_out_unless_asked,
    reopening_a_migrated_ledger_keeps_its_records,
);
