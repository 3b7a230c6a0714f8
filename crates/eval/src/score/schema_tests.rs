use super::*;
use serde_json::json;

fn err(schema: Value, instance: Value) -> SchemaError {
    validate(&schema, &instance).unwrap_err()
}

#[test]
fn types_distinguish_integer_from_number_and_allow_type_arrays() {
    assert!(validate(&json!({"type": "integer"}), &json!(3)).is_ok());
    assert!(validate(&json!({"type": "integer"}), &json!(3.0)).is_ok());
    assert!(validate(&json!({"type": "integer"}), &json!(3.5)).is_err());
    assert!(validate(&json!({"type": "number"}), &json!(3.5)).is_ok());
    assert!(validate(&json!({"type": "number"}), &json!("3.5")).is_err());
    let nullable = json!({"type": ["string", "null"]});
    assert!(validate(&nullable, &json!(null)).is_ok());
    assert!(validate(&nullable, &json!("x")).is_ok());
    assert!(validate(&nullable, &json!(1)).is_err());
    assert!(validate(&json!({"type": "string", "nullable": true}), &json!(null)).is_ok());
}

#[test]
fn nested_failures_report_the_json_pointer() {
    let schema = json!({
        "type": "object",
        "required": ["user"],
        "properties": {"user": {
            "type": "object",
            "properties": {"tags": {"type": "array", "items": {"type": "string"}}}
        }}
    });
    let e = err(schema.clone(), json!({"user": {"tags": ["a", 2]}}));
    assert_eq!(e.pointer, "/user/tags/1");
    assert!(e.to_string().contains("expected type string"));
    let e = err(schema, json!({}));
    assert_eq!(e.pointer, "");
    assert!(e.to_string().contains("(root)") && e.message.contains("user"));
}

#[test]
fn additional_properties_can_be_forbidden_or_constrained() {
    let closed = json!({"properties": {"a": {}}, "additionalProperties": false});
    assert!(validate(&closed, &json!({"a": 1})).is_ok());
    assert_eq!(err(closed, json!({"a": 1, "b/c": 2})).pointer, "/b~1c");
    let typed = json!({"additionalProperties": {"type": "number"}});
    assert!(validate(&typed, &json!({"x": 1})).is_ok());
    assert_eq!(err(typed, json!({"x": "1"})).pointer, "/x");
}

#[test]
fn enum_and_const_compare_structurally() {
    let e = json!({"enum": ["red", 1, {"a": [1, 2]}]});
    assert!(validate(&e, &json!({"a": [1.0, 2]})).is_ok());
    assert!(validate(&e, &json!("blue")).is_err());
    assert!(validate(&json!({"const": 5}), &json!(5)).is_ok());
    assert!(validate(&json!({"const": 5}), &json!(6)).is_err());
}

#[test]
fn numeric_bounds_are_inclusive_or_exclusive() {
    let s = json!({"minimum": 0, "maximum": 10});
    assert!(validate(&s, &json!(0)).is_ok());
    assert!(validate(&s, &json!(10)).is_ok());
    assert!(validate(&s, &json!(10.5)).is_err());
    let x = json!({"exclusiveMinimum": 0, "exclusiveMaximum": 1});
    assert!(validate(&x, &json!(0.5)).is_ok());
    assert!(validate(&x, &json!(0)).is_err());
    assert!(validate(&x, &json!(1)).is_err());
}

#[test]
fn string_length_counts_characters_and_pattern_is_unanchored() {
    let s = json!({"minLength": 2, "maxLength": 3, "pattern": "[a-zé]+"});
    assert!(validate(&s, &json!("éé")).is_ok());
    assert!(validate(&s, &json!("é")).is_err());
    assert!(validate(&s, &json!("abcd")).is_err());
    assert!(validate(&s, &json!("12")).is_err());
    assert!(validate(&s, &json!("1a")).is_ok());
}

#[test]
fn array_sizes_are_checked() {
    let s = json!({"minItems": 1, "maxItems": 2});
    assert!(validate(&s, &json!([1])).is_ok());
    assert!(validate(&s, &json!([])).is_err());
    assert!(validate(&s, &json!([1, 2, 3])).is_err());
}

#[test]
fn combinators_any_one_all() {
    let any = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    assert!(validate(&any, &json!(1)).is_ok());
    assert!(validate(&any, &json!(1.5)).is_err());
    let one = json!({"oneOf": [{"type": "number"}, {"type": "integer"}]});
    assert!(validate(&one, &json!(1.5)).is_ok());
    assert!(err(one, json!(1)).message.contains("matches 2 of oneOf"));
    let all = json!({"allOf": [{"minimum": 1}, {"maximum": 2}]});
    assert!(validate(&all, &json!(1.5)).is_ok());
    assert!(validate(&all, &json!(3)).is_err());
}

#[test]
fn boolean_schemas_and_unknown_keywords() {
    assert!(validate(&json!(true), &json!({"x": 1})).is_ok());
    assert!(validate(&json!(false), &json!(1)).is_err());
    assert!(validate(&json!({"format": "email", "title": "t"}), &json!("nope")).is_ok());
    assert!(validate(&json!({"properties": {"a": false}}), &json!({"a": 1})).is_err());
}

#[test]
fn ref_is_reported_as_unsupported() {
    let s = json!({"properties": {"a": {"$ref": "#/$defs/x"}}});
    assert_eq!(
        unsupported_keyword(&s).as_deref(),
        Some("/properties/a/$ref")
    );
    assert_eq!(unsupported_keyword(&json!({"type": "object"})), None);
}
