use super::*;
use serde_json::json;

fn spec(v: Value) -> ScorerSpec {
    serde_json::from_value(v).unwrap()
}

fn run(v: Value, output: &Output, expected: Option<Value>) -> Result<Score, ScoreError> {
    let expected = expected.map(Expected);
    spec(v).compile().unwrap().score(output, expected.as_ref())
}

fn text(s: &str) -> Output {
    Output::text(s)
}

#[test]
fn exact_uses_its_value_or_the_items_expected() {
    let o = text("Paris");
    assert!(
        run(json!({"type": "exact", "value": "Paris"}), &o, None)
            .unwrap()
            .passed
    );
    assert!(
        run(json!({"type": "exact"}), &o, Some(json!("Paris")))
            .unwrap()
            .passed
    );
    assert!(
        !run(json!({"type": "exact"}), &o, Some(json!("Lyon")))
            .unwrap()
            .passed
    );
    assert_eq!(
        run(json!({"type": "exact"}), &o, None),
        Err(ScoreError::MissingExpected("exact"))
    );
    let ci = json!({"type": "exact", "value": "paris", "trim": true, "case_insensitive": true});
    assert!(run(ci, &text(" PARIS "), None).unwrap().passed);
}

#[test]
fn contains_and_contains_any_specs() {
    let all = json!({"type": "contains", "values": ["a", "b"]});
    assert!(run(all.clone(), &text("a b"), None).unwrap().passed);
    assert!(!run(all, &text("a"), None).unwrap().passed);
    assert!(
        run(json!({"type": "contains"}), &text("xyz"), Some(json!("y")))
            .unwrap()
            .passed
    );
    let any = json!({"type": "contains-any", "values": ["a", "b"]});
    assert!(run(any.clone(), &text("b"), None).unwrap().passed);
    assert!(!run(any, &text("c"), None).unwrap().passed);
    let e = spec(json!({"type": "contains-any", "values": []})).compile();
    assert_eq!(e.unwrap_err(), SpecError::NoValues("contains-any"));
}

#[test]
fn regex_spec_compiles_once_and_rejects_bad_patterns() {
    let re = json!({"type": "regex", "pattern": "^\\d+$"});
    assert!(run(re.clone(), &text("123"), None).unwrap().passed);
    assert!(!run(re, &text("12a"), None).unwrap().passed);
    let bad = spec(json!({"type": "regex", "pattern": "("})).compile();
    assert!(matches!(bad, Err(SpecError::Regex { .. })));
}

#[test]
fn json_specs_accept_snake_case_aliases() {
    let valid = json!({"type": "json_valid"});
    assert!(run(valid.clone(), &text("[1]"), None).unwrap().passed);
    assert!(!run(valid, &text("[1"), None).unwrap().passed);
    let schema = json!({"type": "json-schema", "schema": {"type": "object", "required": ["a"]}});
    assert!(
        run(schema.clone(), &text(r#"{"a": 1}"#), None)
            .unwrap()
            .passed
    );
    let s = run(schema, &text(r#"{"b": 1}"#), None).unwrap();
    assert!(!s.passed && s.detail.contains("\"a\""));
    let with_ref = json!({"type": "json-schema", "schema": {"$ref": "#/x"}});
    assert!(matches!(
        spec(with_ref).compile(),
        Err(SpecError::SchemaRef(_))
    ));
}

#[test]
fn tool_call_spec_reads_expected_calls_in_several_shapes() {
    let output = Output {
        text: String::new(),
        tool_calls: vec![ToolCall::new("f", json!("{\"x\": 1}"))],
    };
    let own = json!({"type": "tool-call", "calls": [{"name": "f", "arguments": {"x": 1}}]});
    assert!(run(own, &output, None).unwrap().passed);
    let from_item = json!({"type": "tool_call"});
    let shapes = [
        json!([{"name": "f", "arguments": {"x": 1}}]),
        json!({"tool_calls": [{"function": {"name": "f", "arguments": "{\"x\":1}"}}]}),
        json!({"name": "f", "arguments": {"x": 1}}),
    ];
    for shape in shapes {
        assert!(run(from_item.clone(), &output, Some(shape)).unwrap().passed);
    }
    let wrong = json!({"name": "f", "arguments": {"x": 2}});
    assert!(!run(from_item, &output, Some(wrong)).unwrap().passed);
}

#[test]
fn numeric_spec_with_tolerances() {
    let n = json!({"type": "numeric", "abs_tolerance": 0.1});
    assert!(
        run(n.clone(), &text("3.14159"), Some(json!(3.1)))
            .unwrap()
            .passed
    );
    assert!(
        !run(n.clone(), &text("3.3"), Some(json!("3.1")))
            .unwrap()
            .passed
    );
    let bad = json!({"type": "numeric", "value": 1.0, "rel_tolerance": -1.0});
    assert_eq!(spec(bad).compile().unwrap_err(), SpecError::Tolerance);
}

#[test]
fn not_inverts_its_inner_scorer() {
    let n = json!({"type": "not", "scorer": {"type": "contains", "values": ["sorry"]}});
    assert!(run(n.clone(), &text("Here it is"), None).unwrap().passed);
    let s = run(n, &text("sorry, I can't"), None).unwrap();
    assert!(!s.passed);
    assert_eq!(s.value, 0.0);
}

#[test]
fn judge_and_embedding_specs_validate_but_need_the_runner() {
    let judge = json!({"type": "judge", "route": "j", "rubric": "polite", "threshold": 0.5});
    assert_eq!(
        run(judge, &text("hi"), None),
        Err(ScoreError::NeedsModel("judge"))
    );
    let no_threshold = spec(json!({"type": "judge", "route": "j", "rubric": "polite"}));
    let e = no_threshold.compile().unwrap_err();
    assert!(
        e.to_string()
            .contains("a rubric needs an explicit threshold")
    );
    let emb = spec(json!({"type": "embedding", "threshold": 0.8}));
    assert!(emb.validate().is_ok());
    assert!(
        spec(json!({"type": "embedding", "threshold": 2.0}))
            .validate()
            .is_err()
    );
}

#[test]
fn unknown_types_and_fields_are_rejected() {
    assert!(serde_json::from_value::<ScorerSpec>(json!({"type": "javascript"})).is_err());
    let typo = json!({"type": "exact", "valeu": "x"});
    assert!(serde_json::from_value::<ScorerSpec>(typo).is_err());
    let judge_typo = json!({"type": "judge", "route": "j", "rubric": "r", "treshold": 1});
    assert!(serde_json::from_value::<ScorerSpec>(judge_typo).is_err());
}

#[test]
fn specs_round_trip_through_json() {
    let s = spec(json!({"type": "contains-any", "values": ["a"], "case_insensitive": true}));
    let back: ScorerSpec = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
    assert_eq!(s, back);
}

#[test]
fn output_reads_an_openai_completion() {
    let body = json!({"choices": [{"message": {"content": "ok", "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]}}]});
    let o = Output::from_openai_response(&body);
    assert_eq!(o.text, "ok");
    assert_eq!(o.tool_calls, vec![ToolCall::new("f", json!({}))]);
}

#[test]
fn case_insensitive_regex_flags_work() {
    let re = json!({"type": "regex", "pattern": "(?i)^yes\\b"});
    assert!(run(re.clone(), &text("YES, indeed"), None).unwrap().passed);
    assert!(!run(re, &text("no"), None).unwrap().passed);
}
