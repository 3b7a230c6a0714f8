use super::*;
use crate::anthropic::ingress::parse_request;
use serde_json::{Value, json};

fn convert(body: Value) -> (Value, Vec<String>) {
    let req = parse_request(body.to_string().as_bytes()).unwrap();
    let out = openai_request(&req);
    (serde_json::from_slice(&out.json).unwrap(), out.dropped)
}

#[test]
fn anthropic_only_parameters_are_dropped_and_named() {
    let (body, dropped) = convert(json!({
        "model": "m", "max_tokens": 10, "top_k": 5,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "seed": 7,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]
    }));
    assert_eq!(dropped, ["cache_control", "thinking", "top_k"]);
    assert_eq!(body["seed"], 7, "unknown members pass through");
    assert!(body.get("top_k").is_none() && body.get("thinking").is_none());
    assert_eq!(body["messages"][0]["content"], "hi");
}

#[test]
fn tool_choice_is_omitted_without_tools() {
    let (body, _) = convert(json!({
        "model": "m", "max_tokens": 10, "tool_choice": {"type": "any"},
        "messages": [{"role": "user", "content": "hi"}]
    }));
    assert!(body.get("tool_choice").is_none());
}

#[test]
fn error_results_are_marked_in_their_text() {
    let (body, _) = convert(json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": true, "content": "boom"}]}
        ]
    }));
    assert_eq!(
        body["messages"][2],
        json!({"role": "tool", "content": "Error: boom", "tool_call_id": "t1"})
    );
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(3));
}
