//! The OpenAI → Anthropic stream translator (`ToAnthropic`): block order, errors, cuts, tool ids.

use super::*;
use serde_json::Value;

/// The `(event name, data)` of each frame, checking the frame's own shape on the way.
fn events(frames: &[String]) -> Vec<(String, Value)> {
    frames
        .iter()
        .map(|f| {
            let rest = f.strip_prefix("event: ").unwrap();
            let (name, data) = rest.split_once("\ndata: ").unwrap();
            let data = data.strip_suffix("\n\n").unwrap();
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["type"], name, "event name matches the data's type");
            (name.to_string(), v)
        })
        .collect()
}

fn names(frames: &[String]) -> Vec<String> {
    events(frames).into_iter().map(|(n, _)| n).collect()
}

#[test]
fn reasoning_then_text_are_two_blocks_closed_in_order() {
    let mut t = ToAnthropic::new(Some("claude-route".into()));
    let mut frames = t.push_data(
        r#"{"id":"chatcmpl-9","model":"gpt","choices":[{"delta":{"role":"assistant","reasoning_content":"hm"}}]}"#,
    );
    frames.extend(t.push_data(r#"{"id":"chatcmpl-9","choices":[{"delta":{"content":"Hi"}}]}"#));
    frames.extend(
        t.push_data(r#"{"id":"chatcmpl-9","choices":[{"delta":{},"finish_reason":"length"}]}"#),
    );
    frames.extend(t.push_data("[DONE]"));
    assert_eq!(
        names(&frames),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let ev = events(&frames);
    assert_eq!(ev[0].1["message"]["id"], "msg_9");
    assert_eq!(ev[0].1["message"]["model"], "claude-route");
    assert_eq!(ev[1].1["content_block"]["type"], "thinking");
    assert_eq!(ev[2].1["delta"]["thinking"], "hm");
    assert_eq!(ev[4].1["index"], 1);
    assert_eq!(ev[7].1["delta"]["stop_reason"], "max_tokens");
    assert!(t.is_done());
    assert!(t.push_data("[DONE]").is_empty(), "nothing after the end");
    assert!(t.finish().is_empty());
}

#[test]
fn an_error_payload_becomes_an_error_event_and_ends_the_stream() {
    let mut t = ToAnthropic::new(None);
    let frames = t.push_data(r#"{"error":{"message":"slow down","type":"rate_limit_exceeded"}}"#);
    let ev = events(&frames);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].1["error"]["type"], "rate_limit_error");
    assert_eq!(ev[0].1["error"]["message"], "slow down");
    assert!(t.is_done());
}

#[test]
fn invalid_chunks_become_api_errors() {
    let mut t = ToAnthropic::new(None);
    let ev = events(&t.push_data("{not json"));
    assert_eq!(ev[0].0, "error");
    assert_eq!(ev[0].1["error"]["type"], "api_error");
}

#[test]
fn a_stream_cut_without_done_still_ends_cleanly_on_finish() {
    let mut t = ToAnthropic::new(None);
    let mut frames = t.push_data(r#"{"id":"x","choices":[{"delta":{"content":"a"}}]}"#);
    frames.extend(t.finish());
    let n = names(&frames);
    assert_eq!(
        n[n.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(events(&frames)[4].1["delta"]["stop_reason"], "end_turn");
}

#[test]
fn tool_calls_without_ids_get_one() {
    let mut t = ToAnthropic::new(None);
    let frames = t.push_data(
        r#"{"id":"x","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]}}]}"#,
    );
    let ev = events(&frames);
    assert_eq!(ev[1].1["content_block"]["id"], "toolu_0");
    assert_eq!(ev[1].1["content_block"]["input"], serde_json::json!({}));
    assert_eq!(ev[2].1["delta"]["partial_json"], "{}");
}
