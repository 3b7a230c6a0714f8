use super::*;

fn parse(s: &str) -> Result<ChatRequest<'_>, FieldError> {
    ChatRequest::parse(s.as_bytes())
}

fn param(s: &str) -> Option<String> {
    parse(s).err().and_then(|e| e.param)
}

#[test]
fn parses_every_role_and_borrows_text() {
    let body = r#"{"model":"m","messages":[
        {"role":"system","content":"s"},{"role":"developer","content":"d"},
        {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"x"}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"42"}]}"#;
    let r = parse(body).unwrap();
    assert_eq!(r.messages.len(), 5);
    assert!(r.features.contains(&Feature::Vision));
    assert!(matches!(
        &r.messages[0].content,
        Some(Content::Text(Cow::Borrowed("s")))
    ));
    let texts: Vec<_> = r.prompt_texts().collect();
    assert!(texts.contains(&"hi") && texts.contains(&"42"));
}

#[test]
fn bad_fields_are_named_by_path() {
    assert_eq!(param(r#"{"messages":[]}"#).as_deref(), Some("model"));
    assert_eq!(param(r#"{"model":"m"}"#).as_deref(), Some("messages"));
    assert_eq!(
        param(r#"{"model":"m","messages":"hi"}"#).as_deref(),
        Some("messages")
    );
    assert_eq!(
        param(r#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#).as_deref(),
        Some("messages[0]")
    );
    assert_eq!(
        param(r#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#).as_deref(),
        Some("messages[0].tool_call_id")
    );
    assert_eq!(
        param(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3}"#)
            .as_deref(),
        Some("temperature")
    );
    assert_eq!(
        param(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#)
            .as_deref(),
        Some("max_tokens")
    );
    assert_eq!(param(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}"#).as_deref(), Some("stream_options"));
    assert_eq!(param(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"bad name"}}]}"#).as_deref(), Some("tools[0].function.name"));
    assert_eq!(param(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}"#).as_deref(), Some("response_format.type"));
    assert_eq!(param(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":"nope"}}}"#).as_deref(), Some("tool_choice.function.name"));
    assert_eq!(param(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}"#).as_deref(), Some("stop"));
}

#[test]
fn features_record_tools_schema_and_provider_params() {
    let r = parse(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}],
        "tool_choice":{"type":"function","function":{"name":"get_weather"}},
        "response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{}}},
        "top_k":5}"#,
    )
    .unwrap();
    assert_eq!(r.features.to_csv(), "tools,json_schema,param:top_k");
    assert!(r.has_tools());
}

#[test]
fn upstream_body_rewrites_model_and_keeps_everything_else() {
    let body = r#"{"model":"route","x_unknown":{"deep":[1,2,{"a":"é"}]},"messages":[{"role":"user","content":"hi","extra":1}],"temperature":0.5}"#;
    let r = parse(body).unwrap();
    let out = r.upstream_body(UpstreamBody {
        model: "gpt-4o",
        ask_usage: true,
        omit_model: false,
    });
    let expected = r#"{"model":"gpt-4o","x_unknown":{"deep":[1,2,{"a":"é"}]},"messages":[{"role":"user","content":"hi","extra":1}],"temperature":0.5}"#;
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        expected,
        "non-streamed bodies gain no stream_options"
    );
}

#[test]
fn streaming_body_asks_for_usage_and_keeps_other_options() {
    let r = parse(r#"{"model":"r","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[{"role":"user","content":"hi"}]}"#).unwrap();
    assert!(!r.client_wants_usage);
    let out = r.upstream_body(UpstreamBody {
        model: "m",
        ask_usage: true,
        omit_model: true,
    });
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["stream_options"],
        serde_json::json!({"include_usage": true, "x": 1})
    );
    assert!(v.get("model").is_none());
}
