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
fn tool_choice_is_a_mode_or_an_object_and_a_named_function_must_be_declared() {
    let with = |choice: &str| {
        format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"x"}}],"tools":[{{"type":"function","function":{{"name":"get"}}}}],"tool_choice":{choice}}}"#
        )
    };
    for ok in [
        r#""auto""#,
        r#""required""#,
        r#"{"type":"function","function":{"name":"get"}}"#,
        r#"{"type":"allowed_tools","mode":"auto"}"#,
    ] {
        assert_eq!(param(&with(ok)), None, "{ok}");
    }
    for (bad, at) in [
        (r#""sometimes""#, "tool_choice"),
        ("5", "tool_choice"),
        (r#"{"type":"function"}"#, "tool_choice.function.name"),
        (
            r#"{"type":"function","function":{"name":"other"}}"#,
            "tool_choice.function.name",
        ),
    ] {
        assert_eq!(param(&with(bad)).as_deref(), Some(at), "{bad}");
    }
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
        cache_key: None,
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
        cache_key: None,
    });
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["stream_options"],
        serde_json::json!({"include_usage": true, "x": 1})
    );
    assert!(v.get("model").is_none());
}

#[test]
fn upstream_body_adds_the_routes_prompt_cache_key_unless_the_client_set_one() {
    let r = parse(r#"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#).unwrap();
    let opts = UpstreamBody {
        model: "m",
        ask_usage: true,
        omit_model: false,
        cache_key: Some("sy-1234"),
    };
    let v: serde_json::Value = serde_json::from_slice(&r.upstream_body(opts)).unwrap();
    assert_eq!(v["prompt_cache_key"], "sy-1234");
    let own = parse(
        r#"{"model":"r","prompt_cache_key":"mine","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .unwrap();
    let out = own.upstream_body(UpstreamBody {
        cache_key: Some("sy-1234"),
        ..opts
    });
    let text = std::str::from_utf8(&out).unwrap();
    assert_eq!(text.matches("prompt_cache_key").count(), 1);
    assert!(text.contains(r#""prompt_cache_key":"mine""#));
}

/// A valid one-message body with `extra` members added at the top level.
fn with(extra: &str) -> String {
    format!(r#"{{"model":"m","messages":[{{"role":"user","content":"x"}}]{extra}}}"#)
}

/// A body whose only message is `message`.
fn with_message(message: &str) -> String {
    format!(r#"{{"model":"m","messages":[{message}]}}"#)
}

#[test]
fn invalid_sampling_and_option_fields_are_refused_by_param() {
    let cases = [
        (r#","logit_bias":"x""#, "logit_bias"),
        (r#","logit_bias":{"abc":1}"#, "logit_bias"),
        (r#","logit_bias":{"50256":101}"#, "logit_bias"),
        (r#","logit_bias":{"50256":"x"}"#, "logit_bias"),
        (r#","logprobs":true,"top_logprobs":21"#, "top_logprobs"),
        (r#","logprobs":true,"top_logprobs":-1"#, "top_logprobs"),
        (r#","top_logprobs":3"#, "top_logprobs"),
        (r#","logprobs":false,"top_logprobs":3"#, "top_logprobs"),
        (r#","user":5"#, "user"),
        (r#","store":"yes""#, "store"),
        (r#","reasoning_effort":1"#, "reasoning_effort"),
        (r#","modalities":"text""#, "modalities"),
        (r#","audio":"x""#, "audio"),
        (r#","prediction":[1]"#, "prediction"),
        (r#","function_call":5"#, "function_call"),
        (r#","stop":5"#, "stop"),
        (r#","metadata":{"k":5}"#, "metadata"),
        (
            r#","tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]"#,
            "tools[0].function.parameters",
        ),
        (
            r#","tools":[{"type":"function","function":{"name":5}}]"#,
            "tools[0]",
        ),
        (
            r#","response_format":{"type":"json_schema","json_schema":{"name":"a b"}}"#,
            "response_format.json_schema.name",
        ),
        (
            r#","response_format":{"type":"json_schema","json_schema":{"name":"a","schema":"x"}}"#,
            "response_format.json_schema.schema",
        ),
    ];
    for (extra, want) in cases {
        let body = with(extra);
        let err = parse(&body).expect_err(&body);
        assert_eq!(err.param.as_deref(), Some(want), "{body}: {}", err.message);
    }
    let long_meta = with(&format!(r#","metadata":{{"k":"{}"}}"#, "v".repeat(513)));
    assert_eq!(param(&long_meta).as_deref(), Some("metadata"));
    let many_tools: Vec<String> = (0..129)
        .map(|i| format!(r#"{{"type":"function","function":{{"name":"f{i}"}}}}"#))
        .collect();
    let body = with(&format!(r#","tools":[{}]"#, many_tools.join(",")));
    assert_eq!(param(&body).as_deref(), Some("tools"));
}

#[test]
fn valid_logprobs_bias_and_options_are_accepted() {
    let body = with(
        r#","logprobs":true,"top_logprobs":20,"logit_bias":{"50256":-100,"1":100},"user":"u","store":false,"modalities":["text"],"metadata":{"a":"b"},"stop":"END","top_logprobs_extra":1"#,
    );
    assert!(parse(&body).is_ok(), "{:?}", parse(&body).err());
    assert!(parse(&with(r#","logprobs":true,"top_logprobs":0"#)).is_ok());
}

#[test]
fn malformed_parts_and_tool_calls_are_refused_by_path() {
    let cases = [
        (
            r#"{"role":"user","content":[{"type":"image_url"}]}"#,
            "messages[0].content[0].image_url",
        ),
        (
            r#"{"role":"user","content":[{"type":"image_url","image_url":"https://x"}]}"#,
            "messages[0].content[0].image_url",
        ),
        (
            r#"{"role":"user","content":[{"type":"image_url","image_url":{}}]}"#,
            "messages[0].content[0].image_url.url",
        ),
        (
            r#"{"role":"user","content":[{"type":"image_url","image_url":{"url":5}}]}"#,
            "messages[0].content[0].image_url.url",
        ),
        (
            r#"{"role":"user","content":[{"type":"image_url","image_url":{"url":"u","detail":"ultra"}}]}"#,
            "messages[0].content[0].image_url.detail",
        ),
        (
            r#"{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA"}}]}"#,
            "messages[0].content[0].input_audio",
        ),
        (
            r#"{"role":"user","content":[{"type":"file","file":"x"}]}"#,
            "messages[0].content[0].file",
        ),
        (
            r#"{"role":"user","content":[{"type":"text","text":5}]}"#,
            "messages[0]",
        ),
        (
            r#"{"role":"assistant","tool_calls":"x"}"#,
            "messages[0].tool_calls",
        ),
        (
            r#"{"role":"assistant","tool_calls":[{"id":"a","type":"function"}]}"#,
            "messages[0].tool_calls[0].function",
        ),
        (
            r#"{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f"}}]}"#,
            "messages[0].tool_calls[0]",
        ),
        (
            r#"{"role":"assistant","tool_calls":[{"id":"","type":"function","function":{"name":"f","arguments":"{}"}}]}"#,
            "messages[0].tool_calls[0].id",
        ),
        (
            r#"{"role":"user","content":"x","tool_calls":[]}"#,
            "messages[0].tool_calls",
        ),
    ];
    for (message, want) in cases {
        let body = with_message(message);
        let err = parse(&body).expect_err(&body);
        assert_eq!(err.param.as_deref(), Some(want), "{body}: {}", err.message);
    }
    let ok = with_message(
        r#"{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA","detail":"low"}},{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}},{"type":"video_url","video_url":{"url":"v"}}]}"#,
    );
    assert!(parse(&ok).is_ok(), "{:?}", parse(&ok).err());
}

#[test]
fn model_names_with_control_characters_are_refused() {
    let body = r#"{"model":"gpt\u0000-4o","messages":[{"role":"user","content":"x"}]}"#;
    let err = parse(body).unwrap_err();
    assert_eq!(err.param.as_deref(), Some("model"));
    assert!(err.message.contains("U+0000"), "{}", err.message);
}

#[test]
fn recorded_provider_parameters_are_bounded_in_number_and_length() {
    let extra: String = (0..100)
        .map(|i| format!(r#","x{i}_{}":1"#, "k".repeat(1000)))
        .collect();
    let body = with(&extra);
    let r = parse(&body).unwrap();
    let csv = r.features.to_csv();
    assert!(csv.len() < 3_000, "{}", csv.len());
    assert!(csv.contains("param:…"), "{csv}");
}

/// Fuzz finding (openai_request, 2026-12-03): with a prompt_cache_key added, a forced
/// `stream_options` moved to the end made the rewrite of a rewritten body differ in order.
#[test]
fn the_rewrite_with_forced_usage_and_a_cache_key_is_a_fixpoint() {
    let body = r#"{"model":"r","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[{"role":"user","content":"hi"}]}"#;
    let opts = UpstreamBody {
        model: "m",
        ask_usage: true,
        omit_model: false,
        cache_key: Some("sy-1234"),
    };
    let out = parse(body).unwrap().upstream_body(opts);
    let text = std::str::from_utf8(&out).unwrap();
    assert!(
        text.starts_with(
            r#"{"model":"m","stream":true,"stream_options":{"include_usage":true,"x":1},"#
        ),
        "{text}"
    );
    assert_eq!(parse(text).unwrap().upstream_body(opts), out);
}
