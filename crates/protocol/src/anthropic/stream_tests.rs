use super::*;

fn translator(include_usage: bool) -> ToOpenAi {
    ToOpenAi::new(StreamOptions {
        created: 1,
        include_usage,
        model: Some("route-name".into()),
    })
}

fn json(p: &str) -> serde_json::Value {
    serde_json::from_str(p).unwrap()
}

#[test]
fn a_stream_without_message_delta_still_finishes() {
    let mut t = translator(false);
    t.push_data(r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":3}}}"#);
    let out = t.push_data(r#"{"type":"message_stop"}"#);
    assert_eq!(out.len(), 1);
    assert_eq!(json(&out[0])["choices"][0]["finish_reason"], "stop");
    assert!(t.is_done());
    assert_eq!(t.usage().input, 3);
}

#[test]
fn the_model_override_replaces_the_upstream_name() {
    let mut t = translator(false);
    let out = t.push_data(
        r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{}}}"#,
    );
    assert_eq!(json(&out[0])["model"], "route-name");
    assert_eq!(json(&out[0])["id"], "msg_1");
}

#[test]
fn invalid_event_data_ends_the_stream_with_an_openai_error() {
    let mut t = translator(true);
    let out = t.push_data("{not json");
    assert_eq!(out.len(), 1);
    assert_eq!(json(&out[0])["error"]["type"], "upstream_error");
    assert!(t.is_done());
}

#[test]
fn pings_unknown_events_and_signature_deltas_produce_nothing() {
    let mut t = translator(false);
    t.push_data(r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#);
    for data in [
        r#"{"type":"ping"}"#,
        r#"{"type":"some_future_event","x":1}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}"#,
        r#"{"type":"content_block_delta","index":7,"delta":{"type":"text_delta","text":"orphan"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
    ] {
        assert!(t.push_data(data).is_empty(), "{data}");
    }
}

#[test]
fn the_finish_chunk_is_sent_once() {
    let mut t = translator(true);
    let first = t.push_data(r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}"#);
    assert_eq!(json(&first[0])["choices"][0]["finish_reason"], "tool_calls");
    let last = t.push_data(r#"{"type":"message_stop"}"#);
    assert_eq!(last.len(), 1, "only the usage chunk follows");
    assert_eq!(json(&last[0])["usage"]["completion_tokens"], 5);
    assert_eq!(json(&last[0])["choices"], serde_json::json!([]));
}
