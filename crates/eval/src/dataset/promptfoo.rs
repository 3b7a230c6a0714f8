//! Import of promptfoo-style test files (YAML).
//!
//! Accepted shapes: a list of tests, or a mapping with `tests` and optionally `prompts`
//! and `defaultTest` (other top-level keys such as `providers` are ignored). A test is
//! `{description?, vars?, assert?, metadata?}`. Each prompt (a string or `{raw, label}`) is
//! rendered once per test by replacing `{{ name }}` with the test's var (strings as they
//! are, other values as JSON); a rendered prompt that is a JSON array of messages becomes
//! the chat, anything else one user message. Several prompts make one item per test and
//! prompt. Without `prompts`, the var `prompt`, `input` or `question` (or the only var) is
//! the user message. String assertion values are rendered with the same vars.
//!
//! Assertion types: `equals`, `contains`, `icontains`, `contains-any`, `icontains-any`,
//! `contains-all`, `icontains-all`, `starts-with`, `regex`, `is-json`, `contains-json`
//! (both with an optional schema as `value`), `similar` (embedding, default threshold
//! 0.75, route from `provider`), `llm-rubric` (judge, route from `provider` or
//! [`DEFAULT_JUDGE_ROUTE`], threshold required), and `not-` before any of them. Types that
//! run code (`javascript`, `python`, `webhook`) and anything else are errors naming the
//! type. Nunjucks filters, `file://` references and `transform` are not supported.

use super::{DatasetItem, check_item, check_messages, user_message};
use serde_json::{Map, Value, json};

/// The judge route used for `llm-rubric` assertions that name no `provider`.
pub const DEFAULT_JUDGE_ROUTE: &str = "judge";

/// A problem with test `index` (0-based, as in `tests[index]`), or with the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    pub index: Option<usize>,
    pub message: String,
}

impl std::error::Error for ItemError {}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "tests[{i}]: {}", self.message),
            None => write!(f, "file: {}", self.message),
        }
    }
}

fn file_error(message: String) -> Vec<ItemError> {
    vec![ItemError {
        index: None,
        message,
    }]
}

struct Prompt {
    label: String,
    template: String,
}

/// Parses a promptfoo test file; on any error returns every problem and no items.
pub fn import_promptfoo(yaml_text: &str) -> Result<Vec<DatasetItem>, Vec<ItemError>> {
    let doc: Value = serde_yaml_ng::from_str(yaml_text)
        .map_err(|e| file_error(format!("not valid YAML: {e}")))?;
    let (tests, prompts, default) = match doc {
        Value::Array(tests) => (tests, Vec::new(), Value::Null),
        Value::Object(mut map) => {
            let tests = match map.remove("tests") {
                Some(Value::Array(t)) => t,
                Some(other) => {
                    return Err(file_error(format!(
                        "`tests` must be a list of tests (file references are not supported), got {other}"
                    )));
                }
                None => return Err(file_error("no `tests` list found".into())),
            };
            let prompts = parse_prompts(map.remove("prompts")).map_err(file_error)?;
            (
                tests,
                prompts,
                map.remove("defaultTest").unwrap_or(Value::Null),
            )
        }
        _ => {
            return Err(file_error(
                "expected a list of tests or a mapping with `tests`".into(),
            ));
        }
    };
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (index, test) in tests.iter().enumerate() {
        match build_test(index, test, &default, &prompts) {
            Ok(built) => items.extend(built),
            Err(problems) => errors.extend(problems.into_iter().map(|message| ItemError {
                index: Some(index),
                message,
            })),
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

fn parse_prompts(value: Option<Value>) -> Result<Vec<Prompt>, String> {
    let list = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(Value::String(s)) => vec![Value::String(s)],
        Some(other) => return Err(format!("`prompts` must be a list, got {other}")),
    };
    let mut prompts = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let (template, label) = match p {
            Value::String(s) => (s.clone(), format!("prompt-{}", i + 1)),
            Value::Object(m) => match m.get("raw").and_then(Value::as_str) {
                Some(raw) => (raw.to_owned(), label_of(m, i)),
                None => return Err(format!("prompts[{i}] needs `raw` text")),
            },
            other => return Err(format!("prompts[{i}] must be text, got {other}")),
        };
        if template.starts_with("file://") {
            return Err(format!(
                "prompts[{i}]: file references are not supported; inline the prompt text"
            ));
        }
        prompts.push(Prompt { label, template });
    }
    Ok(prompts)
}

fn label_of(m: &Map<String, Value>, i: usize) -> String {
    ["label", "id"]
        .iter()
        .find_map(|k| m.get(*k).and_then(Value::as_str))
        .map_or_else(|| format!("prompt-{}", i + 1), str::to_owned)
}

/// The items of one test (one per prompt), or its problems.
fn build_test(
    index: usize,
    test: &Value,
    default: &Value,
    prompts: &[Prompt],
) -> Result<Vec<DatasetItem>, Vec<String>> {
    let Some(obj) = test.as_object() else {
        return Err(vec![format!("a test must be a mapping, got {test}")]);
    };
    let vars = merged_vars(&default["vars"], obj.get("vars").unwrap_or(&Value::Null))?;
    let mut problems = Vec::new();
    let asserts = list(obj.get("assert")).chain(list(default.get("assert")));
    let mut scorers = Vec::new();
    for (i, a) in asserts.enumerate() {
        match assertion(a, &vars) {
            Ok(s) => scorers.push(s),
            Err(e) => problems.push(format!("assert[{i}]: {e}")),
        }
    }
    let mut tags = Vec::new();
    if let Some(d) = obj.get("description").and_then(Value::as_str) {
        tags.push(("description".to_owned(), d.to_owned()));
    }
    if let Some(meta) = obj.get("metadata").and_then(Value::as_object) {
        tags.extend(meta.iter().map(|(k, v)| (k.clone(), text_of(v))));
    }
    let inputs = match render_inputs(&vars, prompts) {
        Ok(inputs) => inputs,
        Err(e) => {
            problems.push(e);
            Vec::new()
        }
    };
    let several = inputs.len() > 1;
    let mut items = Vec::new();
    for (label, input) in inputs {
        let mut tags = tags.clone();
        let mut id = format!("test-{}", index + 1);
        if let Some(label) = label {
            if several {
                id = format!("{id}-{label}");
            }
            tags.push(("prompt".to_owned(), label));
        }
        let item = DatasetItem {
            id,
            input,
            expected: None,
            reference_output: None,
            reference_tool_calls: Vec::new(),
            reference_cost_usd: None,
            reference_latency_ms: None,
            tags,
            scorers: scorers.clone(),
        };
        problems.extend(check_item(&item));
        items.push(item);
    }
    problems.dedup();
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

fn list(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn merged_vars(defaults: &Value, own: &Value) -> Result<Map<String, Value>, Vec<String>> {
    let mut vars = Map::new();
    for source in [defaults, own] {
        match source {
            Value::Null => {}
            Value::Object(m) => vars.extend(m.clone()),
            other => return Err(vec![format!("`vars` must be a mapping, got {other}")]),
        }
    }
    let arrays: Vec<&String> = vars
        .iter()
        .filter(|(_, v)| v.is_array())
        .map(|(k, _)| k)
        .collect();
    if !arrays.is_empty() {
        return Err(vec![format!(
            "vars {arrays:?} are lists, which promptfoo expands into several tests; list those tests separately"
        )]);
    }
    Ok(vars)
}

/// The chat bodies of a test: one per prompt (labelled), or one from the vars.
fn render_inputs(
    vars: &Map<String, Value>,
    prompts: &[Prompt],
) -> Result<Vec<(Option<String>, Value)>, String> {
    if prompts.is_empty() {
        let key = ["prompt", "input", "question"]
            .into_iter()
            .find(|k| vars.contains_key(*k))
            .map(str::to_owned)
            .or_else(|| {
                (vars.len() == 1)
                    .then(|| vars.keys().next().cloned())
                    .flatten()
            });
        return match key.and_then(|k| vars.get(&k)) {
            Some(v) => Ok(vec![(None, user_message(&text_of(v)))]),
            None => Err(
                "no `prompts` in the file and no `prompt`, `input` or `question` var to send"
                    .into(),
            ),
        };
    }
    prompts
        .iter()
        .map(|p| {
            let text = render(&p.template, vars).map_err(|e| format!("prompt {}: {e}", p.label))?;
            Ok((Some(p.label.clone()), chat_from(&text)))
        })
        .collect()
}

/// A rendered prompt that is a JSON list of messages is the chat; otherwise one user turn.
fn chat_from(text: &str) -> Value {
    if let Ok(messages @ Value::Array(_)) = serde_json::from_str::<Value>(text.trim()) {
        let body = json!({ "messages": messages });
        if check_messages(&body).is_ok() {
            return body;
        }
    }
    user_message(text)
}

/// Replaces `{{ name }}` with the var's text; unknown vars and filters are errors.
pub(crate) fn render(template: &str, vars: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("an opening `{{` has no closing `}}`".into());
        };
        let name = after[..end].trim();
        if name.contains('|') {
            return Err(format!(
                "template filters are not supported: {{{{{name}}}}}"
            ));
        }
        match vars.get(name) {
            Some(v) => out.push_str(&text_of(v)),
            None => {
                return Err(format!(
                    "uses {{{{{name}}}}} but the test has no var `{name}`"
                ));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

mod assertion;
use assertion::assertion;

#[cfg(test)]
#[path = "promptfoo_tests.rs"]
mod tests;
