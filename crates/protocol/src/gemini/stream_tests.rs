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
fn the_first_chunk_carries_the_role_and_the_model_override() {
    let mut t = translator(false);
    let out = t.push_data(
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}],"modelVersion":"gemini-x","responseId":"r1"}"#,
    );
    assert_eq!(out.len(), 2);
    assert_eq!(json(&out[0])["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(json(&out[0])["model"], "route-name");
    assert_eq!(json(&out[0])["id"], "r1");
    assert_eq!(json(&out[1])["choices"][0]["delta"]["content"], "Hi");
    assert!(!t.is_done());
}

#[test]
fn tool_call_indexes_continue_across_chunks() {
    let mut t = translator(false);
    t.push_data(
        r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{}}}]}}]}"#,
    );
    let out = t.push_data(
        r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"b","args":{"x":1}}}]},"finishReason":"STOP"}]}"#,
    );
    let call = &json(&out[0])["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(call["index"], 1);
    assert_eq!(call["id"], "call_1");
    assert_eq!(call["function"]["arguments"], r#"{"x":1}"#);
    assert_eq!(json(&out[1])["choices"][0]["finish_reason"], "tool_calls");
    assert!(t.is_done());
}

#[test]
fn the_usage_chunk_follows_the_finish_chunk_when_asked() {
    let mut t = translator(true);
    let out = t.push_data(
        r#"{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"MAX_TOKENS"}],
            "usageMetadata":{"promptTokenCount":10,"cachedContentTokenCount":4,"candidatesTokenCount":3,"thoughtsTokenCount":2}}"#,
    );
    let last = json(out.last().unwrap());
    assert_eq!(json(&out[2])["choices"][0]["finish_reason"], "length");
    assert_eq!(last["choices"], serde_json::json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 10);
    assert_eq!(last["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    assert_eq!(last["usage"]["completion_tokens"], 5);
    assert_eq!(t.usage().input, 6);
}

#[test]
fn invalid_data_and_stream_errors_end_the_stream_with_an_openai_error() {
    let mut t = translator(true);
    let out = t.push_data("{not json");
    assert_eq!(json(&out[0])["error"]["type"], "upstream_error");
    assert!(t.is_done());
    let mut t = translator(true);
    let out = t.push_data(r#"{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"#);
    assert_eq!(json(&out[0])["error"]["type"], "INTERNAL");
    assert!(t.is_done());
    assert!(t.push_data(r#"{"candidates":[]}"#).is_empty());
}

#[test]
fn a_streamed_call_signature_travels_in_its_tool_call_id() {
    let mut t = translator(false);
    let out = t.push_data(
        r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{}},"thoughtSignature":"EhQKEgoQ+/8="},{"functionCall":{"name":"b","args":{}}}]},"finishReason":"STOP"}]}"#,
    );
    let signed = json(&out[1])["choices"][0]["delta"]["tool_calls"][0]["id"].clone();
    let unsigned = json(&out[2])["choices"][0]["delta"]["tool_calls"][0]["id"].clone();
    let signed = signed.as_str().unwrap();
    assert!(signed.starts_with("call_0_ts1"), "{signed}");
    assert_eq!(
        crate::gemini::signature::signature_of(signed).as_deref(),
        Some("EhQKEgoQ+/8=")
    );
    assert_eq!(unsigned, "call_1");
    assert!(t.is_done());
}

#[test]
fn a_stream_cut_before_its_finish_reason_is_closed_for_anthropic_clients_only() {
    let chunk = r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}],"responseId":"r"}"#;
    let mut anthropic = ToAnthropic::new(Some("route".into()));
    let mut out = Vec::new();
    anthropic.push_framed(chunk, &mut out);
    assert!(!anthropic.is_done());
    anthropic.finish_framed(&mut out);
    anthropic.finish_framed(&mut out);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("event: message_stop").count(), 1, "{text}");
    assert!(text.contains(r#""stop_reason":"end_turn""#), "{text}");
    let mut openai = translator(true);
    let mut out = Vec::new();
    openai.push_framed(chunk, &mut out);
    openai.finish_framed(&mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.contains("[DONE]") && !text.contains("finish_reason\":\"stop"),
        "{text}"
    );
    assert!(
        !text.contains("\"usage\":{"),
        "no usage chunk for a cut stream: {text}"
    );
}
