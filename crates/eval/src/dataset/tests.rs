use super::*;
use serde_json::json;

#[test]
fn jsonl_accepts_input_prompt_and_messages_forms() {
    let text = r#"
{"id": "a", "input": {"messages": [{"role": "user", "content": "hi"}], "temperature": 0}, "expected": "hello", "assert": [{"type": "exact", "trim": true}]}
{"prompt": "What is 2+2?", "system": "Be brief.", "expected": 4, "assert": [{"type": "numeric"}], "tags": {"suite": "math"}}

{"messages": [{"role": "user", "content": "x"}], "scorers": [{"type": "json-valid"}], "tags": [["k", "v"]], "reference_output": "{}", "reference_cost_usd": 0.001, "reference_latency_ms": 120}
"#;
    let items = import_jsonl(text).unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].id, "a");
    assert_eq!(items[0].input["temperature"], 0);
    assert_eq!(items[0].expected, Some(Expected(json!("hello"))));
    assert_eq!(items[1].id, "line-3");
    assert_eq!(items[1].input["messages"][0]["role"], "system");
    assert_eq!(items[1].question(), "What is 2+2?");
    assert_eq!(items[1].tags, vec![("suite".into(), "math".into())]);
    assert_eq!(items[2].id, "line-5");
    assert_eq!(items[2].reference_latency_ms, Some(120.0));
    assert_eq!(items[2].tags, vec![("k".into(), "v".into())]);
}

#[test]
fn jsonl_reports_every_bad_line_and_imports_nothing() {
    let text = [
        r#"{"prompt": "ok", "assert": [{"type": "contains", "values": ["o"]}]}"#,
        r#"{"prompt": "a", "messages": []}"#,
        r#"not json"#,
        r#"{"prompt": "b", "assert": [{"type": "javascript", "value": "1"}]}"#,
        r#"{"prompt": "c", "assert": [{"type": "exact"}]}"#,
        r#"{"input": {"model": "x"}}"#,
        r#"{"prompt": "d", "asert": []}"#,
        r#"{"prompt": "e", "assert": [{"type": "judge", "route": "j", "rubric": "r"}]}"#,
        r#"{"id": "line-1", "prompt": "dup"}"#,
    ]
    .join("\n");
    let errors = import_jsonl(&text).unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 8, 9], "{errors:#?}");
    let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(all[0].contains("exactly one of"));
    assert!(all[2].contains("javascript"));
    assert!(all[3].contains("`expected`"));
    assert!(all[4].contains("messages"));
    assert!(all[5].contains("asert"));
    assert!(all[6].contains("a rubric needs an explicit threshold"));
    assert!(all[7].contains("duplicate id"));
}

#[test]
fn question_reads_the_last_user_message_including_content_parts() {
    let item = DatasetItem {
        id: "x".into(),
        input: json!({"messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "reply"},
            {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "image_url"}]}
        ]}),
        expected: None,
        reference_output: None,
        reference_tool_calls: Vec::new(),
        reference_cost_usd: None,
        reference_latency_ms: None,
        tags: Vec::new(),
        scorers: Vec::new(),
    };
    assert_eq!(item.question(), "second");
}

#[test]
fn items_round_trip_through_json() {
    let items =
        import_jsonl(r#"{"prompt": "p", "expected": "e", "assert": [{"type": "exact"}]}"#).unwrap();
    let text = serde_json::to_string(&items[0]).unwrap();
    let back: DatasetItem = serde_json::from_str(&text).unwrap();
    assert_eq!(back, items[0]);
}

#[test]
fn an_item_the_gateway_would_refuse_is_refused_at_import() {
    // A misspelt `content`: the OpenAI reader refuses it, so replay would fail on every run.
    let jsonl = r#"{"messages": [{"role": "user", "contant": "hi"}]}"#;
    let errs = import_jsonl(jsonl).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].message.contains("messages[0].content"),
        "{}",
        errs[0].message
    );
    let bad_role = r#"{"messages": [{"role": "wizard", "content": "hi"}]}"#;
    assert!(
        import_jsonl(bad_role).is_err(),
        "an unknown role is refused"
    );
}
