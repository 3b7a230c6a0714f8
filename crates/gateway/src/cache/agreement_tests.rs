use super::*;
use switchyard_eval::ToolCall;

fn output(text: &str, calls: &[(&str, Value)]) -> Output {
    Output {
        text: text.into(),
        tool_calls: calls
            .iter()
            .map(|(n, a)| ToolCall::new(*n, a.clone()))
            .collect(),
    }
}

#[test]
fn without_scorers_the_comparison_is_exact_equality() {
    let a = Agreement::compile(&[], 0, None);
    assert_eq!(a.name(), EXACT_EQUALITY);
    assert!(a.scorers.is_empty());
}

#[test]
fn the_comparison_is_named_by_the_scorers_kinds() {
    let raw = [
        json!({"type": "json-valid"}),
        json!({"type": "regex", "pattern": "^ok"}),
    ];
    assert_eq!(Agreement::compile(&raw, 0, None).name(), "json-valid+regex");
}

#[test]
fn a_scorer_that_does_not_compile_is_reported_at_its_path_and_left_out() {
    let raw = [
        json!({"type": "regex", "pattern": "("}),
        json!({"type": "contains", "values": ["x"]}),
    ];
    let mut problems = Vec::new();
    let a = Agreement::compile(&raw, 3, Some(&mut problems));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "routes[3].scorers[0]");
    assert!(
        problems[0].message.contains("regex"),
        "{}",
        problems[0].message
    );
    assert_eq!(a.name(), "contains");
}

#[test]
fn exact_equality_compares_text_and_tool_calls() {
    let call = [("lookup", json!({"id": 1}))];
    let other = [("lookup", json!({"id": 2}))];
    assert!(exact_equal(&output("hi", &call), &output("hi", &call)));
    assert!(!exact_equal(&output("hi", &call), &output("hi!", &call)));
    assert!(!exact_equal(&output("hi", &call), &output("hi", &other)));
    assert!(!exact_equal(&output("hi", &call), &output("hi", &[])));
}
