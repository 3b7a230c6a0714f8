//! The dashboard's reads: spend per day and group, recent requests paged and filtered, and
//! latency quantiles, equal on both backends.

use crate::backend::Backend;
use crate::records::{at, record, usd};
use chrono::NaiveDate;
use switchyard_ledger::dashboard::{Cursor, RecentQuery, SeriesQuery, StatusFilter};
use switchyard_ledger::{Dimension, Record, RecordSink};

fn since(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// Ten requests on 2026-11-02, one a minute from 10:00: odd ones on route `rag` for key_b,
/// every third an error, latency 10, 20, … 100 ms.
fn ten() -> Vec<Record> {
    (0..10u32)
        .map(|i| {
            let mut r = record(&format!("r{i}"), "support", "0.1", 2);
            r.ts = at(2, 10, i);
            r.latency_ms = f64::from(i + 1) * 10.0;
            if i % 2 == 1 {
                r.route = "rag".into();
                r.key_id = Some("key_b".into());
            }
            if i % 3 == 0 {
                r.status = 502;
                r.error_class = Some("upstream".into());
            }
            r
        })
        .collect()
}

fn series_sums_each_day_and_group_from_the_rollup_without_shadow_traffic(b: &mut Backend) {
    let mut anthropic = record("b", "support", "0.25", 1);
    anthropic.provider = Some("anthropic".into());
    let mut shadow = record("s", "support", "9", 1);
    shadow.shadow = true;
    let mut other_key = record("c", "search", "0.5", 3);
    other_key.key_id = Some("key_b".into());
    b.store
        .append(&[
            record("a", "support", "0.1", 1),
            anthropic,
            shadow,
            other_key,
        ])
        .unwrap();
    let q = SeriesQuery {
        by: Dimension::Provider,
        since: since(1),
        key_id: None,
    };
    let got: Vec<_> = b
        .store
        .series(&q)
        .unwrap()
        .into_iter()
        .map(|p| (p.day, p.key, p.requests, p.cost_usd))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-11-01".into(), "anthropic".into(), 1, usd("0.25")),
            ("2026-11-01".into(), "openai".into(), 1, usd("0.1")),
            ("2026-11-03".into(), "openai".into(), 1, usd("0.5")),
        ]
    );
    let mine = SeriesQuery {
        key_id: Some("key_b".into()),
        ..q.clone()
    };
    let points = b.store.series(&mine).unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].overhead_us_sum, 40);
    let later = SeriesQuery {
        since: since(2),
        ..q
    };
    assert_eq!(b.store.series(&later).unwrap().len(), 1);
}

fn recent_pages_newest_first_with_a_cursor_that_resumes_where_the_page_ended(b: &mut Backend) {
    b.store.append(&ten()).unwrap();
    let mut q = RecentQuery {
        limit: 4,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = b.store.recent(&q).unwrap();
        assert!(page.rows.len() <= 4);
        seen.extend(page.rows.iter().map(|r| r.request_id.clone()));
        match page.next {
            Some(next) => q.after = Some(next.parse::<Cursor>().unwrap()),
            None => break,
        }
    }
    let want: Vec<String> = (0..10).rev().map(|i| format!("r{i}")).collect();
    assert_eq!(seen, want);
}

fn recent_keeps_only_rows_matching_every_filter(b: &mut Backend) {
    b.store.append(&ten()).unwrap();
    let ids = |q: RecentQuery| -> Vec<String> {
        let page = b.store.recent(&RecentQuery { limit: 50, ..q }).unwrap();
        page.rows.into_iter().map(|r| r.request_id).collect()
    };
    let rag_errors = ids(RecentQuery {
        route: Some("rag".into()),
        status: Some(StatusFilter::Error),
        ..Default::default()
    });
    assert_eq!(rag_errors, vec!["r9", "r3"]);
    let key_a_ok = ids(RecentQuery {
        key_id: Some("key_a".into()),
        status: Some(StatusFilter::Ok),
        ..Default::default()
    });
    assert_eq!(key_a_ok, vec!["r8", "r4", "r2"]);
    let window = ids(RecentQuery {
        from_ms: Some(at(2, 10, 2).timestamp_millis()),
        until_ms: Some(at(2, 10, 5).timestamp_millis()),
        status: Some(StatusFilter::Code(502)),
        ..Default::default()
    });
    assert_eq!(window, vec!["r3"]);
    assert!(
        ids(RecentQuery {
            workload: Some("nobody".into()),
            ..Default::default()
        })
        .is_empty()
    );
}

fn recent_rows_carry_the_request_but_no_content(b: &mut Backend) {
    b.store.append(&ten()).unwrap();
    let page = b
        .store
        .recent(&RecentQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    let r = &page.rows[0];
    assert_eq!(r.request_id, "r9");
    assert_eq!((r.status, r.route.as_str()), (502, "rag"));
    assert_eq!(r.error_class.as_deref(), Some("upstream"));
    assert_eq!(r.cost_usd, Some(usd("0.1")));
    assert_eq!(
        (r.input_tokens, r.output_tokens, r.overhead_us),
        (100, 50, 40)
    );
    assert!(r.streamed);
    assert_eq!(r.latency_ms, 100.0);
}

fn latency_quantiles_are_nearest_rank_over_measured_production_requests(b: &mut Backend) {
    let mut rows = ten();
    let mut unmeasured = record("imported", "support", "1", 2);
    unmeasured.latency_ms = 0.0;
    let mut shadow = record("shadow", "support", "1", 2);
    shadow.shadow = true;
    shadow.latency_ms = 5000.0;
    rows.extend([unmeasured, shadow]);
    b.store.append(&rows).unwrap();
    let from = at(2, 0, 0).timestamp_millis();
    let all = b.store.latency(from, None).unwrap();
    assert_eq!(all.requests, 10);
    assert_eq!((all.p50_ms, all.p95_ms), (Some(50.0), Some(100.0)));
    let key_b = b.store.latency(from, Some("key_b")).unwrap();
    // key_b: 20, 40, 60, 80, 100.
    assert_eq!((key_b.requests, key_b.p50_ms), (5, Some(60.0)));
    let none = b
        .store
        .latency(at(3, 0, 0).timestamp_millis(), None)
        .unwrap();
    assert_eq!((none.requests, none.p50_ms), (0, None));
}

fn a_budgeted_scan_pages_through_a_rare_filter_without_losing_or_repeating_a_row(b: &mut Backend) {
    b.store.append(&ten()).unwrap();
    // Errors on rag: r3 and r9 only. Three rows read per page.
    let mut q = RecentQuery {
        route: Some("rag".into()),
        status: Some(StatusFilter::Error),
        limit: 5,
        scan_budget: Some(3),
        ..Default::default()
    };
    let (mut seen, mut pages, mut partial) = (Vec::new(), 0, 0);
    loop {
        let page = b.store.recent(&q).unwrap();
        pages += 1;
        partial += usize::from(page.partial);
        seen.extend(page.rows.into_iter().map(|r| r.request_id));
        match page.next {
            Some(next) => q.after = Some(next.parse::<Cursor>().unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["r9", "r3"]);
    // r9..r7, r6..r4, r3..r1 cut by the budget; r0 is the last page.
    assert_eq!((pages, partial), (4, 3));
    let full = b
        .store
        .recent(&RecentQuery {
            limit: 2,
            scan_budget: Some(100),
            ..Default::default()
        })
        .unwrap();
    assert!(
        !full.partial && full.next.is_some(),
        "a full page is never partial"
    );
}

crate::conformance!(
    series_sums_each_day_and_group_from_the_rollup_without_shadow_traffic,
    recent_pages_newest_first_with_a_cursor_that_resumes_where_the_page_ended,
    recent_keeps_only_rows_matching_every_filter,
    recent_rows_carry_the_request_but_no_content,
    latency_quantiles_are_nearest_rank_over_measured_production_requests,
    a_budgeted_scan_pages_through_a_rare_filter_without_losing_or_repeating_a_row,
);
