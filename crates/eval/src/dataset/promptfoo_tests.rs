use super::*;
use crate::score::{JudgeSpec, ScorerSpec};

const FILE: &str = r#"
description: capitals
providers: [openai:gpt-4o-mini]
prompts:
  - "Answer briefly: what is the capital of {{ country }}?"
defaultTest:
  assert:
    - type: not-icontains
      value: "as an ai"
tests:
  - description: France
    vars:
      country: France
      city: Paris
    assert:
      - type: icontains
        value: "{{city}}"
      - type: regex
        value: "^[A-Z]"
      - type: llm-rubric
        value: names the capital and nothing else
        threshold: 0.8
        provider: judge-route
  - vars: {country: Japan}
    assert:
      - type: equals
        value: Tokyo
      - type: is-json
        value: {type: object, required: [city]}
      - type: contains-any
        value: [Tokyo, Edo]
      - type: similar
        value: Tokyo
        threshold: 0.9
"#;

#[test]
fn renders_vars_into_the_prompt_and_maps_assertions() {
    let items = import_promptfoo(FILE).unwrap();
    assert_eq!(items.len(), 2);
    let fr = &items[0];
    assert_eq!(fr.id, "test-1");
    assert_eq!(
        fr.question(),
        "Answer briefly: what is the capital of France?"
    );
    assert!(fr.tags.contains(&("description".into(), "France".into())));
    assert_eq!(
        fr.scorers[0],
        ScorerSpec::Contains {
            values: Some(vec!["Paris".into()]),
            case_insensitive: true
        }
    );
    assert_eq!(
        fr.scorers[2],
        ScorerSpec::Judge(JudgeSpec {
            route: "judge-route".into(),
            rubric: "names the capital and nothing else".into(),
            threshold: Some(0.8),
            pairwise: false
        })
    );
    // The default test's assertion comes after the test's own.
    assert!(
        matches!(&fr.scorers[3], ScorerSpec::Not { scorer } if matches!(**scorer, ScorerSpec::Contains { case_insensitive: true, .. }))
    );
    let jp = &items[1];
    assert_eq!(jp.scorers.len(), 5);
    assert!(matches!(
        jp.scorers[1],
        ScorerSpec::JsonSchema { search: false, .. }
    ));
    assert!(matches!(&jp.scorers[3], ScorerSpec::Embedding(e) if e.threshold == 0.9));
}

#[test]
fn a_bare_list_of_tests_uses_the_prompt_var() {
    let yaml = "- vars: {prompt: Say hi}\n  assert: [{type: contains, value: hi}]\n";
    let items = import_promptfoo(yaml).unwrap();
    assert_eq!(items[0].question(), "Say hi");
}

#[test]
fn several_prompts_make_one_item_per_prompt() {
    let yaml = r#"
prompts:
  - "Q: {{q}}"
  - raw: '[{"role": "system", "content": "terse"}, {"role": "user", "content": "{{q}}"}]'
    label: chat
tests:
  - vars: {q: why}
"#;
    let items = import_promptfoo(yaml).unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["test-1-prompt-1", "test-1-chat"]);
    assert_eq!(items[1].input["messages"][0]["role"], "system");
    assert_eq!(items[1].question(), "why");
}

#[test]
fn every_invalid_test_is_reported_with_its_index_and_nothing_imported() {
    let yaml = r#"
prompts: ["{{q}}"]
tests:
  - vars: {q: fine}
    assert: [{type: contains, value: x}]
  - vars: {q: a}
    assert: [{type: javascript, value: "output.length > 3"}]
  - vars: {q: b}
    assert: [{type: llm-rubric, value: polite}]
  - vars: {other: c}
  - vars: {q: d}
    assert: [{type: levenshtein, value: x}, {type: regex, value: "("}]
"#;
    let errors = import_promptfoo(yaml).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let indices: Vec<Option<usize>> = errors.iter().map(|e| e.index).collect();
    assert_eq!(
        indices,
        [Some(1), Some(2), Some(3), Some(4), Some(4)],
        "{text:#?}"
    );
    assert!(text[0].starts_with("tests[1]") && text[0].contains("`javascript`"));
    assert!(text[1].contains("a rubric needs an explicit threshold"));
    assert!(text[2].contains("no var `q`"));
    assert!(text[3].contains("`levenshtein`"));
    assert!(text[4].contains("invalid regex"));
}

#[test]
fn file_level_problems_are_reported_without_an_index() {
    let bad_yaml = import_promptfoo("tests: [unclosed").unwrap_err();
    assert_eq!(bad_yaml[0].index, None);
    assert!(bad_yaml[0].to_string().starts_with("file: not valid YAML"));
    let file_ref = import_promptfoo("prompts: ['file://p.txt']\ntests: []").unwrap_err();
    assert!(file_ref[0].message.contains("file references"));
    let no_prompt = import_promptfoo("- vars: {a: 1, b: 2}").unwrap_err();
    assert_eq!(no_prompt[0].index, Some(0));
}

#[test]
fn render_replaces_vars_and_refuses_filters() {
    let vars: Map<String, Value> = serde_json::from_str(r#"{"a": "x", "n": 3}"#).unwrap();
    assert_eq!(render("{{a}}-{{ n }}!", &vars).unwrap(), "x-3!");
    assert!(
        render("{{ a | upper }}", &vars)
            .unwrap_err()
            .contains("filters")
    );
    assert!(render("{{ a", &vars).is_err());
}
