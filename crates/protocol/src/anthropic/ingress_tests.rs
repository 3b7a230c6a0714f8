use super::*;
use crate::canonical::{Block, Role};
use serde_json::{Value, json};

/// A valid one-message request with `patch`'s members merged over it.
fn request(patch: Value) -> Vec<u8> {
    let mut body = json!({
        "model": "claude-route",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}]
    });
    if let (Some(b), Some(p)) = (body.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    body.to_string().into_bytes()
}

fn param(patch: Value) -> Option<String> {
    parse_request(&request(patch)).err().and_then(|e| e.param)
}

#[test]
fn required_fields_are_named() {
    assert_eq!(param(json!({"model": null})).as_deref(), Some("model"));
    assert_eq!(
        param(json!({"max_tokens": null})).as_deref(),
        Some("max_tokens")
    );
    assert_eq!(
        param(json!({"max_tokens": 0})).as_deref(),
        Some("max_tokens")
    );
    assert_eq!(
        param(json!({"messages": null})).as_deref(),
        Some("messages")
    );
    assert_eq!(param(json!({"messages": []})).as_deref(), Some("messages"));
}

#[test]
fn bad_fields_deep_in_messages_are_named_by_path() {
    let cases = [
        (
            json!([{"role": "system", "content": "x"}]),
            "messages[0].role",
        ),
        (
            json!([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                   {"role": "user", "content": [{"type": "video"}]}]),
            "messages[2].content[0].type",
        ),
        (
            json!([{"role": "user", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]}]),
            "messages[0].content[0].type",
        ),
        (
            json!([{"role": "user", "content": [{"type": "text"}]}]),
            "messages[0].content[0].text",
        ),
        (
            json!([{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]),
            "messages[0].content[0].source.type",
        ),
        (
            json!([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                    "content": [{"type": "text", "text": "ok"}, {"type": "document"}]}]}]),
            "messages[0].content[0].content[1].type",
        ),
        (
            json!([{"role": "user", "content": 3}]),
            "messages[0].content",
        ),
    ];
    for (messages, path) in cases {
        let err = parse_request(&request(json!({ "messages": messages }))).unwrap_err();
        assert_eq!(err.param.as_deref(), Some(path), "{}", err.message);
        assert!(err.message.contains(path), "{}", err.message);
    }
}

#[test]
fn bad_top_level_fields_are_named() {
    let cases = [
        (json!({"system": [{"type": "image"}]}), "system[0].type"),
        (json!({"tools": [{"name": "f"}]}), "tools[0].input_schema"),
        (
            json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            "tools[0].type",
        ),
        (json!({"tool_choice": {"type": "tool"}}), "tool_choice.name"),
        (
            json!({"tool_choice": {"type": "tool", "name": "nowhere"}}),
            "tool_choice.name",
        ),
        (
            json!({"tool_choice": {"type": "sometimes"}}),
            "tool_choice.type",
        ),
        (json!({"temperature": 1.5}), "temperature"),
        (json!({"top_k": "many"}), "top_k"),
        (json!({"stop_sequences": "END"}), "stop_sequences"),
        (json!({"stream": "yes"}), "stream"),
    ];
    for (patch, path) in cases {
        assert_eq!(param(patch.clone()).as_deref(), Some(path), "{patch}");
    }
}

#[test]
fn tool_results_get_their_own_turns_in_order() {
    let req = parse_request(&request(json!({"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "a", "name": "f", "input": {}},
            {"type": "tool_use", "id": "b", "name": "f", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "a", "content": "1"},
            {"type": "tool_result", "tool_use_id": "b", "content": "2"},
            {"type": "text", "text": "and?"}]}
    ]})))
    .unwrap();
    let roles: Vec<Role> = req.messages.iter().map(|t| t.role).collect();
    assert_eq!(
        roles,
        [
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::Tool,
            Role::User
        ]
    );
    assert!(matches!(
        &req.messages[3].content[0],
        Block::ToolResult { tool_use_id, .. } if tool_use_id == "b"
    ));
}

#[test]
fn parameters_land_in_their_canonical_slots() {
    let req = parse_request(&request(json!({
        "system": "be brief", "temperature": 0.5, "top_p": 0.9, "top_k": 40, "max_tokens": 4096,
        "stop_sequences": ["END"], "stream": true, "metadata": {"user_id": "u1"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true}
    })))
    .unwrap();
    assert_eq!(req.max_tokens, Some(4096));
    assert_eq!((req.temperature, req.top_p), (Some(0.5), Some(0.9)));
    assert_eq!(req.stop, ["END"]);
    assert!(req.stream);
    assert_eq!(req.metadata_user.as_deref(), Some("u1"));
    assert_eq!(req.tool_choice, Some(ToolChoice::Any));
    assert_eq!(req.parallel_tool_calls, Some(false));
    let mut extra: Vec<&str> = req.extra.iter().map(|(k, _)| k.as_str()).collect();
    extra.sort_unstable();
    assert_eq!(extra, ["thinking", "top_k"]);
    assert!(matches!(&req.system[..], [Block::Text { text, .. }] if text == "be brief"));
}

#[test]
fn invalid_json_is_a_body_error() {
    let err = parse_request(b"{\"model\":").unwrap_err();
    assert_eq!(err.param, None);
}

#[test]
fn structured_output_becomes_a_json_schema_format() {
    let req = parse_request(&request(json!({
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    })))
    .unwrap();
    assert!(matches!(
        &req.response_format,
        ResponseFormat::JsonSchema { name, schema: Some(s) } if name == "output" && s.get() == r#"{"type":"object"}"#
    ));
    assert!(req.extra.is_empty(), "output_config was fully translated");
    assert_eq!(
        param(json!({"output_config": {"format": {"type": "xml"}}})).as_deref(),
        Some("output_config.format.type")
    );
}

#[test]
fn invalid_tool_definitions_and_sampling_are_refused_by_path() {
    let tool = |t: Value| json!({ "tools": [t] });
    let cases = [
        (
            tool(json!({"name": "get weather", "input_schema": {"type": "object"}})),
            "tools[0].name",
        ),
        (
            tool(json!({"name": "x".repeat(65), "input_schema": {"type": "object"}})),
            "tools[0].name",
        ),
        (
            tool(json!({"name": "f", "input_schema": "x"})),
            "tools[0].input_schema",
        ),
        (
            tool(json!({"name": "f", "input_schema": {"type": "string"}})),
            "tools[0].input_schema",
        ),
        (json!({"top_k": 0}), "top_k"),
        (json!({"top_k": -1}), "top_k"),
        (json!({"service_tier": 5}), "service_tier"),
        (
            json!({"thinking": {"type": "enabled", "budget_tokens": 10}}),
            "thinking.budget_tokens",
        ),
        (
            json!({"thinking": {"type": "enabled"}}),
            "thinking.budget_tokens",
        ),
        (json!({"metadata": {"user_id": 7}}), "metadata"),
        (
            json!({"metadata": {"user_id": "u".repeat(257)}}),
            "metadata.user_id",
        ),
        (
            json!({"messages": [{"role": "assistant", "content": [
                {"type": "tool_use", "id": "t", "name": "f", "input": "x"}]}]}),
            "messages[0].content[0].input",
        ),
        (json!({"model": "claude\u{0}route"}), "model"),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image",
                "source": {"type": "base64", "media_type": "image/tiff", "data": "AA"}}]}]}),
            "messages[0].content[0].source.media_type",
        ),
        (
            json!({"system": [{"type": "text", "text": "s", "cache_control": {"type": "permanent"}}]}),
            "system[0].cache_control.type",
        ),
        (
            json!({"tools": [{"name": "f", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral", "ttl": "1d"}}]}),
            "tools[0].cache_control.ttl",
        ),
    ];
    for (patch, path) in cases {
        let err = parse_request(&request(patch.clone())).unwrap_err();
        assert_eq!(err.param.as_deref(), Some(path), "{patch}: {}", err.message);
        assert!(err.message.contains(path), "{}", err.message);
    }
    let ok = json!({"top_k": 1, "max_tokens": 4096, "service_tier": "auto",
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"name": "get_weather-2", "input_schema": {"type": "object"}}]});
    assert!(parse_request(&request(ok)).is_ok());
}

#[test]
fn count_tokens_bodies_need_no_max_tokens_but_refuse_repeated_members() {
    let body = br#"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#;
    assert_eq!(parse_count_request(body).unwrap().max_tokens, None);
    let dup = br#"{"model":"r","messages":[{"role":"user","content":"hi"}],"model":"s"}"#;
    let err = parse_count_request(dup).unwrap_err();
    assert_eq!(err.param.as_deref(), Some("model"));
    assert!(err.message.contains("more than once"), "{}", err.message);
    let bad = br#"{"model":"r","messages":[{"role":"user","content":"hi"}],"top_k":0}"#;
    assert_eq!(
        parse_count_request(bad).unwrap_err().param.as_deref(),
        Some("top_k")
    );
}

#[test]
fn an_empty_turn_is_refused_unless_it_is_a_final_assistant_prefill() {
    for content in [json!([]), json!(""), json!([{"type": "text", "text": ""}])] {
        let one = json!({"messages": [{"role": "user", "content": content}]});
        assert_eq!(param(one).as_deref(), Some("messages[0].content"));
        let middle = json!({"messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": "again"}
        ]});
        assert_eq!(param(middle).as_deref(), Some("messages[1].content"));
    }
    let prefill = json!({"messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": ""}
    ]});
    assert_eq!(param(prefill), None);
}
