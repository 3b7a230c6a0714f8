//! Captures: stored once per id, read newest first with filters, pruned by age.

use crate::backend::Backend;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use switchyard_evalstore::{Capture, CaptureQuery};

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

pub fn capture(id: &str, ts: DateTime<Utc>, workload: Option<&str>) -> Capture {
    Capture {
        id: id.into(),
        ts,
        workload: workload.map(str::to_string),
        route: "chat".into(),
        provider: Some("openai".into()),
        model: Some("gpt-4o-mini".into()),
        key_id: Some("key_1".into()),
        team: None,
        tags: vec![("team".into(), "a".into()), ("env".into(), "prod".into())],
        dialect: "openai".into(),
        request: json!({"model": "chat", "messages": [{"role": "user", "content": format!("q {id}")}], "z": 1, "a": [1.5, null]}),
        output_text: format!("answer {id} — ünïcode"),
        tool_calls: json!([{"name": "lookup", "arguments": "{\"q\":1}"}]),
        cost_usd: "0.0001234567".parse().ok(),
        latency_ms: 12.25,
        input_tokens: 10,
        output_tokens: 5,
    }
}

fn ids(v: &[Capture]) -> Vec<&str> {
    v.iter().map(|c| c.id.as_str()).collect()
}

fn captures_read_back_newest_first_exactly_as_stored(b: &mut Backend) {
    let s = &b.store;
    s.insert_capture(&capture("c1", at(1, 9), Some("support")))
        .unwrap();
    s.insert_capture(&capture("c3", at(3, 9), None)).unwrap();
    s.insert_capture(&capture("c2", at(2, 9), Some("support")))
        .unwrap();
    // Same time: the id breaks the tie.
    s.insert_capture(&capture("c0", at(2, 9), Some("support")))
        .unwrap();
    // A second capture with a stored id is ignored, not an error.
    let mut dup = capture("c1", at(9, 9), Some("other"));
    dup.output_text = "changed".into();
    s.insert_capture(&dup).unwrap();
    assert_eq!(s.capture_count().unwrap(), 4);
    let all = b.reopen().captures(&CaptureQuery::default()).unwrap();
    assert_eq!(ids(&all), ["c3", "c0", "c2", "c1"]);
    assert_eq!(all[3], capture("c1", at(1, 9), Some("support")));
    assert_eq!(all[0].workload, None);
    let support = s
        .captures(&CaptureQuery {
            workload: Some("support".into()),
            since: Some(at(2, 0)),
            limit: Some(1),
        })
        .unwrap();
    assert_eq!(ids(&support), ["c0"]);
    let none = s
        .captures(&CaptureQuery {
            workload: Some("nope".into()),
            ..CaptureQuery::default()
        })
        .unwrap();
    assert!(none.is_empty());
}

fn pruning_deletes_only_captures_older_than_the_cut(b: &mut Backend) {
    let s = &b.store;
    for (id, day) in [("old", 1), ("edge", 5), ("new", 9)] {
        s.insert_capture(&capture(id, at(day, 0), None)).unwrap();
    }
    assert_eq!(s.prune_captures(at(5, 0)).unwrap(), 1);
    assert_eq!(s.prune_captures(at(5, 0)).unwrap(), 0);
    let left = s.captures(&CaptureQuery::default()).unwrap();
    assert_eq!(ids(&left), ["new", "edge"]);
    assert_eq!(
        s.prune_captures(at(9, 0) + Duration::milliseconds(1))
            .unwrap(),
        2
    );
    assert_eq!(s.capture_count().unwrap(), 0);
}

crate::conformance!(
    captures_read_back_newest_first_exactly_as_stored,
    pruning_deletes_only_captures_older_than_the_cut,
);
