use super::*;
use serde_json::json;

fn call(name: &str, args: Value) -> ToolCall {
    ToolCall::new(name, args)
}

#[test]
fn openai_string_arguments_compare_structurally_regardless_of_key_order() {
    let wire = json!({"id": "c1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"unit\":\"C\",\"city\":\"Paris\"}"}});
    let got = ToolCall::from_json(&wire).unwrap();
    let want = call("get_weather", json!({"city": "Paris", "unit": "C"}));
    assert!(tool_calls(&[got], &[want]).passed);
}

#[test]
fn a_different_argument_or_name_fails() {
    let want = [call("get_weather", json!({"city": "Paris"}))];
    let s = tool_calls(&[call("get_weather", json!({"city": "Lyon"}))], &want);
    assert!(!s.passed);
    assert_eq!(s.value, 0.0);
    assert!(s.detail.contains("missing [get_weather"));
    assert!(!tool_calls(&[call("get_time", json!({"city": "Paris"}))], &want).passed);
}

#[test]
fn several_calls_compare_as_a_multiset() {
    let a = call("f", json!({"x": 1}));
    let b = call("g", json!({}));
    assert!(tool_calls(&[b.clone(), a.clone()], &[a.clone(), b.clone()]).passed);
    // The same call twice is not the same as once.
    let s = tool_calls(std::slice::from_ref(&a), &[a.clone(), a.clone()]);
    assert!(!s.passed);
    assert_eq!(s.value, 0.5);
    let s = tool_calls(&[a.clone(), b.clone()], std::slice::from_ref(&a));
    assert!(!s.passed && s.detail.contains("unexpected [g"));
}

#[test]
fn no_calls_expected_and_none_made_passes_but_an_unwanted_call_fails() {
    assert!(tool_calls(&[], &[]).passed);
    assert!(!tool_calls(&[call("f", json!({}))], &[]).passed);
}

#[test]
fn non_json_argument_strings_compare_as_text() {
    let a = call("f", json!("not json"));
    assert!(tool_calls(std::slice::from_ref(&a), std::slice::from_ref(&a)).passed);
    assert!(!tool_calls(&[a], &[call("f", json!("other"))]).passed);
}
