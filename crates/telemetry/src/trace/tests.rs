//! The spans a record and its note become: parentage, attempt layout, attributes, content.

use super::span::Builder;
use super::{Content, Finish, Item, Note, Parent};
use opentelemetry::trace::{SpanKind, Status, TraceId};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::trace::SpanData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_ledger::Record;

struct Fake;

impl Content for Fake {
    fn finish_reasons(&self, _: &[u8]) -> Vec<String> {
        vec!["stop".into()]
    }
    fn input(&self, request: &[u8]) -> Option<String> {
        Some(format!("in:{}", String::from_utf8_lossy(request)))
    }
    fn output(&self, _: &[u8]) -> Option<String> {
        Some("out".into())
    }
}

fn record() -> Record {
    serde_json::from_value(serde_json::json!({
        "request_id": "r1", "ts": "2026-11-03T10:30:00Z", "kind": "chat", "workload": "support",
        "tags": [], "key_id": "k1", "team": "web", "route": "chat", "provider": "oai",
        "model": "gpt-4o-mini", "status": 200, "error_class": null,
        "attempts": [
            {"provider": "oai", "model": "bad", "outcome": "server_error", "status": 500, "latency_ms": 30},
            {"provider": "oai", "model": "gpt-4o-mini", "outcome": "ok", "status": 200, "latency_ms": 200}
        ],
        "streamed": false, "shadow": false, "features": "",
        "usage": {"input": 100, "cached_input": 20, "cache_write": 5, "cache_write_1h": 0,
                  "output": 11, "reasoning": 4},
        "cost_usd": "0.0015", "price_version": null, "latency_ms": 250.0, "ttft_ms": null,
        "overhead_us": 90, "usage_estimated": false, "batch": false
    }))
    .unwrap()
}

fn spans(note: Note, capture: bool) -> Vec<SpanData> {
    let item = Item {
        record: record(),
        note: Arc::new(note),
    };
    Builder::new(Arc::new(Fake), capture).spans(&item)
}

fn attr<'a>(s: &'a SpanData, key: &str) -> Option<&'a Value> {
    s.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn finished(execute_at: Option<Duration>) -> Note {
    let note = Note::new(TraceId::from(7u128), None);
    note.set_prompt("prompt".into());
    note.finish(Finish {
        execute_at,
        stages: vec![("switchyard.stage.parse_us", Duration::from_micros(12))],
        cache: Some("miss"),
        answer: Some("{}".into()),
    });
    note
}

#[test]
fn a_request_is_a_server_span_whose_attempts_are_children_laid_end_to_end_from_the_execute_stage() {
    let s = spans(finished(Some(Duration::from_millis(10))), false);
    assert_eq!(s.len(), 3);
    let (req, a1, a2) = (&s[0], &s[1], &s[2]);
    let start: SystemTime = record().ts.into();
    assert_eq!(req.span_kind, SpanKind::Server);
    assert_eq!(req.name, "chat chat");
    assert_eq!(req.start_time, start);
    assert_eq!(req.end_time, start + Duration::from_millis(250));
    assert_eq!(req.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    for a in [a1, a2] {
        assert_eq!(a.span_kind, SpanKind::Client);
        assert_eq!(a.parent_span_id, req.span_context.span_id());
        assert_eq!(a.span_context.trace_id(), TraceId::from(7u128));
    }
    assert_eq!(a1.start_time, start + Duration::from_millis(10));
    assert_eq!(a1.end_time, start + Duration::from_millis(40));
    assert_eq!(
        (a2.start_time, a2.end_time),
        (a1.end_time, start + Duration::from_millis(240))
    );
    assert!(matches!(a1.status, Status::Error { .. }) && a2.status == Status::Unset);
    assert_eq!(attr(a1, "error.type"), Some(&Value::from("server_error")));
    assert_eq!(
        attr(req, "gen_ai.usage.input_tokens"),
        Some(&Value::I64(125))
    );
    assert_eq!(
        attr(req, "gen_ai.usage.output_tokens"),
        Some(&Value::I64(15))
    );
    assert_eq!(
        attr(req, "switchyard.cost_usd"),
        Some(&Value::from("0.0015"))
    );
    assert_eq!(attr(req, "switchyard.cache"), Some(&Value::from("miss")));
    assert_eq!(
        attr(req, "switchyard.stage.parse_us"),
        Some(&Value::I64(12))
    );
    assert_eq!(attr(req, "switchyard.team"), Some(&Value::from("web")));
    let reasons = Value::Array(Array::String(vec!["stop".into()]));
    assert_eq!(attr(req, "gen_ai.response.finish_reasons"), Some(&reasons));
    assert!(
        attr(req, "gen_ai.input.messages").is_none(),
        "no content unless captured"
    );
}

#[test]
fn without_stage_times_attempts_end_where_the_request_ended() {
    let s = spans(finished(None), false);
    let start: SystemTime = record().ts.into();
    assert_eq!(s[2].end_time, start + Duration::from_millis(250));
    assert_eq!(s[1].end_time, s[2].start_time);
    assert_eq!(s[1].start_time, start + Duration::from_millis(20));
}

#[test]
fn a_client_parent_is_continued_and_content_is_exported_only_when_captured() {
    let parent = Parent::parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        Some("v=1"),
    )
    .unwrap();
    let note = Note::new(parent.trace_id, Some(parent.clone()));
    note.set_prompt("hello".into());
    note.finish(Finish {
        answer: Some("{}".into()),
        ..Finish::default()
    });
    let s = spans(note, true);
    assert_eq!(s[0].parent_span_id, parent.span_id);
    assert!(s[0].parent_span_is_remote);
    assert_eq!(s[0].span_context.trace_id(), parent.trace_id);
    assert_eq!(s[1].span_context.trace_state().header(), "v=1");
    assert_eq!(
        attr(&s[0], "gen_ai.input.messages"),
        Some(&Value::from("in:hello"))
    );
    assert_eq!(
        attr(&s[0], "gen_ai.output.messages"),
        Some(&Value::from("out"))
    );
}

#[test]
fn a_streamed_answer_carries_the_finish_reasons_the_tee_handed_over() {
    let note = Note::new(TraceId::from(9u128), None);
    note.set_finish_reasons(vec!["length".into()]);
    note.finish(Finish::default());
    let s = spans(note, false);
    let reasons = Value::Array(Array::String(vec!["length".into()]));
    assert_eq!(
        attr(&s[0], "gen_ai.response.finish_reasons"),
        Some(&reasons)
    );
}
