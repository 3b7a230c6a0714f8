use super::*;
use crate::canonical::{Block, ChatRequest, ToolDef, Turn};
use serde_json::json;

fn body(req: &ChatRequest) -> serde_json::Value {
    serde_json::from_slice(&MessagesRequest::from(req).to_json()).unwrap()
}

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.to_string()).unwrap()
}

fn tool(name: &str) -> ToolDef {
    ToolDef {
        name: name.into(),
        description: None,
        parameters: None,
        cache_control: None,
    }
}

#[test]
fn thinking_blocks_travel_back_on_assistant_turns_before_tool_use() {
    let req = ChatRequest {
        model: "claude".into(),
        messages: vec![
            Turn {
                role: Role::User,
                content: vec![Block::text("17*23?")],
            },
            Turn {
                role: Role::Assistant,
                content: vec![
                    Block::Thinking {
                        text: "multiply".into(),
                        signature: Some("sig".into()),
                    },
                    Block::RedactedThinking { data: "enc".into() },
                    Block::ToolUse {
                        id: "t1".into(),
                        name: "calc".into(),
                        input: raw(r#"{"expr":"17*23"}"#),
                        cache_control: None,
                    },
                ],
            },
        ],
        tools: vec![tool("calc")],
        ..ChatRequest::default()
    };
    let b = body(&req);
    assert_eq!(
        b["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": "multiply", "signature": "sig"},
            {"type": "redacted_thinking", "data": "enc"},
            {"type": "tool_use", "id": "t1", "name": "calc", "input": {"expr": "17*23"}}
        ])
    );
    assert_eq!(b["max_tokens"], DEFAULT_MAX_TOKENS);
    assert!(
        b.get("tool_choice").is_none(),
        "no choice given, parallel allowed"
    );
}

#[test]
fn tool_choice_is_omitted_without_tools_and_folds_in_serial_calls() {
    let mut req = ChatRequest {
        tool_choice: Some(canonical::ToolChoice::Any),
        parallel_tool_calls: Some(false),
        ..ChatRequest::default()
    };
    assert!(body(&req).get("tool_choice").is_none());
    req.tools.push(tool("f"));
    req.tool_choice = None;
    assert_eq!(
        body(&req)["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
    req.tool_choice = Some(canonical::ToolChoice::None);
    assert_eq!(body(&req)["tool_choice"], json!({"type": "none"}));
    req.tool_choice = Some(canonical::ToolChoice::Tool("f".into()));
    req.parallel_tool_calls = None;
    assert_eq!(
        body(&req)["tool_choice"],
        json!({"type": "tool", "name": "f"})
    );
}

#[test]
fn empty_turns_are_skipped_and_same_role_turns_merged() {
    let req = ChatRequest {
        messages: vec![
            Turn {
                role: Role::User,
                content: vec![Block::text("a")],
            },
            Turn {
                role: Role::Assistant,
                content: vec![Block::text("")],
            },
            Turn {
                role: Role::User,
                content: vec![Block::text("b")],
            },
        ],
        ..ChatRequest::default()
    };
    assert_eq!(
        body(&req)["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
    );
}

#[test]
fn the_default_max_tokens_leaves_room_above_a_thinking_budget() {
    let mut req = ChatRequest::default();
    assert_eq!(body(&req)["max_tokens"], DEFAULT_MAX_TOKENS);
    req.extra.push((
        "thinking".into(),
        raw(r#"{"type":"enabled","budget_tokens":10000}"#),
    ));
    assert_eq!(body(&req)["max_tokens"], 10000 + DEFAULT_MAX_TOKENS);
    req.max_tokens = Some(12000);
    assert_eq!(body(&req)["max_tokens"], 12000);
}
