//! Tests of the response object written from canonical answers, and usage read back.

use super::*;
use crate::canonical::Block;
use serde_json::Value;

fn answer(content: Vec<Block>, stop: StopReason) -> ChatResponse {
    ChatResponse {
        id: "up".into(),
        model: "m".into(),
        content,
        stop_reason: stop,
        usage: TokenUsage::from_openai(10, 4, 6, 2),
    }
}

#[test]
fn a_canonical_answer_renders_reasoning_message_and_function_call_items() {
    let resp = answer(
        vec![
            Block::Thinking {
                text: "hmm".into(),
                signature: Some("SIG".into()),
            },
            Block::text("Hello"),
            Block::ToolUse {
                id: "call_1".into(),
                name: "f".into(),
                input: RawValue::from_string("{\"a\":1}".into()).unwrap(),
                cache_control: None,
            },
        ],
        StopReason::ToolUse,
    );
    let raw = RawObject::parse(br#"{"model":"m","instructions":"be kind","metadata":{"k":"v"}}"#)
        .unwrap();
    let body = render(&resp, &Ids::new("req-42"), &Echo::of(&raw), 7);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["id"], "resp_req42");
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["instructions"], "be kind");
    assert_eq!(v["metadata"]["k"], "v");
    assert_eq!(v["tools"], serde_json::json!([]));
    let out = v["output"].as_array().unwrap();
    assert_eq!(out[0]["type"], "reasoning");
    assert_eq!(out[0]["summary"][0]["text"], "hmm");
    assert_eq!(out[0]["encrypted_content"], "swy1:SIG");
    assert_eq!(out[1]["type"], "message");
    assert_eq!(out[1]["content"][0]["type"], "output_text");
    assert_eq!(out[1]["content"][0]["text"], "Hello");
    assert_eq!(out[2]["type"], "function_call");
    assert_eq!(out[2]["call_id"], "call_1");
    assert_eq!(out[2]["arguments"], "{\"a\":1}");
    assert_eq!(v["usage"]["input_tokens"], 10);
    assert_eq!(v["usage"]["input_tokens_details"]["cached_tokens"], 4);
    assert_eq!(v["usage"]["output_tokens"], 6);
    assert_eq!(v["usage"]["output_tokens_details"]["reasoning_tokens"], 2);
    assert_eq!(v["usage"]["total_tokens"], 16);
}

#[test]
fn an_answer_cut_by_the_output_limit_is_incomplete() {
    let body = render(
        &answer(vec![Block::text("abc")], StopReason::MaxTokens),
        &Ids::new("r"),
        &Echo::default(),
        1,
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "incomplete");
    assert_eq!(v["incomplete_details"]["reason"], "max_output_tokens");
}

#[test]
fn usage_is_read_back_as_token_usage() {
    let body = br#"{"id":"resp_1","output":[{"type":"message"}],"usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":60},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":10},"total_tokens":130}}"#;
    let u = usage_of(body).unwrap();
    assert_eq!(u, TokenUsage::from_openai(100, 60, 30, 10));
    assert_eq!(usage_of(b"{\"id\":1}"), None);
}
