use super::*;
use crate::anthropic::MessagesRequest;

fn convert(body: &str) -> Result<ChatRequest, FieldError> {
    let view = openai::ChatRequest::parse(body.as_bytes())?;
    ChatRequest::try_from(&view)
}

/// The `param` of the error converting a one-user-message request with `extra` members.
fn refused(extra: &str) -> Option<String> {
    let body = format!(r#"{{"model":"m","messages":[{{"role":"user","content":"hi"}}]{extra}}}"#);
    convert(&body).err().and_then(|e| e.param)
}

#[test]
fn untranslatable_features_are_refused_by_name() {
    let cases = [
        (r#","n":2"#, "n"),
        (r#","logprobs":true"#, "logprobs"),
        (r#","top_logprobs":3"#, "top_logprobs"),
        (r#","audio":{"voice":"alloy","format":"mp3"}"#, "audio"),
        (r#","modalities":["text","audio"]"#, "modalities"),
        (r#","presence_penalty":0.5"#, "presence_penalty"),
        (r#","logit_bias":{"42":-100}"#, "logit_bias"),
        (
            r#","prediction":{"type":"content","content":"x"}"#,
            "prediction",
        ),
        (r#","reasoning_effort":"high""#, "reasoning_effort"),
        (r#","functions":[{"name":"f"}]"#, "functions"),
        (
            r#","tools":[{"type":"custom","custom":{"name":"c"}}]"#,
            "tools[0].type",
        ),
    ];
    for (extra, param) in cases {
        assert_eq!(refused(extra).as_deref(), Some(param), "{extra}");
    }
}

#[test]
fn default_values_of_untranslatable_features_are_accepted() {
    let ok = r#","n":1,"logprobs":false,"presence_penalty":0,"frequency_penalty":0.0,"logit_bias":{},"modalities":["text"],"seed":1,"store":false"#;
    assert_eq!(refused(ok), None);
}

#[test]
fn unsupported_parts_and_roles_are_named_by_path() {
    let audio = r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"},
        {"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]}"#;
    assert_eq!(
        convert(audio).err().and_then(|e| e.param).as_deref(),
        Some("messages[0].content[1].type")
    );
    let image_in_system = r#"{"model":"m","messages":[{"role":"system","content":[
        {"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":"x"}]}"#;
    assert_eq!(
        convert(image_in_system)
            .err()
            .and_then(|e| e.param)
            .as_deref(),
        Some("messages[0].content[0]")
    );
    let function_role =
        r#"{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}"#;
    assert_eq!(
        convert(function_role)
            .err()
            .and_then(|e| e.param)
            .as_deref(),
        Some("messages[0].role")
    );
}

#[test]
fn invalid_tool_call_arguments_name_the_field() {
    let body = r#"{"model":"m","messages":[{"role":"user","content":"x"},
        {"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},
        {"id":"b","type":"function","function":{"name":"f","arguments":"{\"city\": Par"}}]}]}"#;
    let err = convert(body).err();
    assert_eq!(
        err.as_ref().and_then(|e| e.param.as_deref()),
        Some("messages[1].tool_calls[1].function.arguments")
    );
    assert!(err.is_some_and(|e| e.message.contains("JSON")));
}

#[test]
fn empty_arguments_mean_no_arguments() {
    let body = r#"{"model":"m","messages":[{"role":"user","content":"x"},
        {"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":""}}]}]}"#;
    let req = convert(body).unwrap();
    assert!(
        matches!(&req.messages[1].content[0], Block::ToolUse { input, .. } if input.get() == "{}")
    );
}

#[test]
fn tool_choice_modes_and_unknown_members_are_carried() {
    let req = convert(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],
        "tool_choice":{"type":"function","function":{"name":"f"}},"top_k":3,"safety_identifier":"u9"}"#,
    )
    .unwrap();
    assert_eq!(req.tool_choice, Some(ToolChoice::Tool("f".into())));
    assert_eq!(req.metadata_user.as_deref(), Some("u9"));
    let extra: Vec<_> = req
        .extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.get()))
        .collect();
    assert_eq!(extra, [("top_k", "3")]);
    let none = convert(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}"#,
    )
    .unwrap();
    assert_eq!(none.tool_choice, Some(ToolChoice::None));
}

#[test]
fn json_object_becomes_a_system_instruction_for_anthropic() {
    let req = convert(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#,
    )
    .unwrap();
    assert!(matches!(req.response_format, ResponseFormat::JsonObject));
    let body: serde_json::Value =
        serde_json::from_slice(&MessagesRequest::from(&req).to_json()).unwrap();
    assert!(
        body["system"][0]["text"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );
    assert!(body.get("output_config").is_none());
}

#[test]
fn extra_members_never_duplicate_the_bodys_own_fields() {
    let req = convert(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"system":"sneaky","top_k":1}"#,
    )
    .unwrap();
    let json = String::from_utf8(MessagesRequest::from(&req).to_json()).unwrap();
    assert!(!json.contains("sneaky"), "{json}");
    assert!(json.contains(r#""top_k":1"#), "{json}");
}
