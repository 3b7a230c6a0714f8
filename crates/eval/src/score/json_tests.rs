use super::*;
use serde_json::json;

#[test]
fn plain_and_fenced_json_is_valid() {
    assert!(json_valid(r#" {"a": 1} "#, false).passed);
    assert!(json_valid("```json\n{\"a\": [1, 2]}\n```", false).passed);
    assert!(json_valid("Here you go:\n```\n[1, 2]\n```\nDone.", false).passed);
}

#[test]
fn prose_or_broken_json_is_invalid_unless_searching() {
    assert!(!json_valid("{\"a\": 1", false).passed);
    assert!(!json_valid("The answer is {\"a\": 1} as requested", false).passed);
    assert!(json_valid("The answer is {\"a\": 1} as requested", true).passed);
    assert!(!json_valid("no json {here", true).passed);
    assert_eq!(
        extract_json("x [1, {\"b\": 2}] y", true),
        Some(json!([1, {"b": 2}]))
    );
}

#[test]
fn schema_scorer_reports_the_failing_pointer() {
    let schema = json!({"type": "object", "properties": {"age": {"type": "integer"}}});
    assert!(json_schema(r#"{"age": 30}"#, &schema, false).passed);
    let s = json_schema(r#"{"age": "30"}"#, &schema, false);
    assert!(!s.passed);
    assert!(s.detail.contains("/age"), "{}", s.detail);
    assert!(!json_schema("not json", &schema, false).passed);
}

#[test]
fn json_eq_ignores_key_order_and_number_representation() {
    assert!(json_eq(
        &json!({"a": 1, "b": [1.0]}),
        &json!({"b": [1], "a": 1.0})
    ));
    assert!(!json_eq(&json!({"a": 1}), &json!({"a": 1, "b": null})));
    assert!(!json_eq(&json!([1, 2]), &json!([2, 1])));
    assert!(!json_eq(&json!("1"), &json!(1)));
}
