//! JSON Lines import: one item per line.
//!
//! Each line is an object with exactly one of `input` (a chat request body), `prompt`
//! (text, with an optional `system`) or `messages` (a chat message array); and optionally
//! `id` (default `line-N`), `expected`, `assert` (or `scorers`: a list of scorer specs),
//! `reference_output`, `reference_tool_calls`, `reference_cost_usd`, `reference_latency_ms` and `tags` (an object
//! of strings or a list of `[key, value]` pairs). Blank lines are skipped; unknown fields
//! are errors, so a typo cannot silently drop a scorer.

use super::{DatasetItem, check_item, user_message};
use crate::score::{Expected, ScorerSpec};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A problem on one line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl std::error::Error for LineError {}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    id: Option<String>,
    input: Option<Value>,
    prompt: Option<String>,
    system: Option<String>,
    messages: Option<Value>,
    expected: Option<Value>,
    #[serde(alias = "scorers")]
    assert: Option<Vec<Value>>,
    reference_output: Option<String>,
    #[serde(default)]
    reference_tool_calls: Vec<crate::score::ToolCall>,
    reference_cost_usd: Option<f64>,
    reference_latency_ms: Option<f64>,
    tags: Option<Value>,
}

/// Parses a JSONL dataset; on any error returns every line's problems and no items.
pub fn import_jsonl(text: &str) -> Result<Vec<DatasetItem>, Vec<LineError>> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let problems = match parse_line(raw, line) {
            Ok(item) if !ids.insert(item.id.clone()) => {
                vec![format!("duplicate id {:?}; ids must be unique", item.id)]
            }
            Ok(item) => {
                let problems = check_item(&item);
                items.push(item);
                problems
            }
            Err(problems) => problems,
        };
        errors.extend(
            problems
                .into_iter()
                .map(|message| LineError { line, message }),
        );
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

fn parse_line(raw: &str, line: usize) -> Result<DatasetItem, Vec<String>> {
    let r: RawLine = serde_json::from_str(raw).map_err(|e| vec![e.to_string()])?;
    let mut problems = Vec::new();
    let input = match (r.input, r.prompt, r.messages) {
        (Some(input), None, None) => input,
        (None, Some(prompt), None) => with_system(user_message(&prompt), r.system.as_deref()),
        (None, None, Some(messages)) => json!({"messages": messages}),
        _ => {
            problems.push("give exactly one of `input`, `prompt` or `messages`".to_owned());
            Value::Null
        }
    };
    let mut scorers = Vec::new();
    for (i, spec) in r.assert.unwrap_or_default().into_iter().enumerate() {
        match serde_json::from_value::<ScorerSpec>(spec) {
            Ok(s) => scorers.push(s),
            Err(e) => problems.push(format!("assert[{i}]: {e}")),
        }
    }
    let tags = match r.tags.map(tags_from) {
        Some(Ok(tags)) => tags,
        Some(Err(e)) => {
            problems.push(e);
            Vec::new()
        }
        None => Vec::new(),
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(DatasetItem {
        id: r.id.unwrap_or_else(|| format!("line-{line}")),
        input,
        expected: r.expected.map(Expected),
        reference_output: r.reference_output,
        reference_tool_calls: r.reference_tool_calls,
        reference_cost_usd: r.reference_cost_usd,
        reference_latency_ms: r.reference_latency_ms,
        tags,
        scorers,
    })
}

fn with_system(mut body: Value, system: Option<&str>) -> Value {
    if let (Some(system), Some(messages)) = (system, body["messages"].as_array_mut()) {
        messages.insert(0, json!({"role": "system", "content": system}));
    }
    body
}

/// `{"k": "v"}` or `[["k", "v"]]`; non-string values are written as JSON.
fn tags_from(value: Value) -> Result<Vec<(String, String)>, String> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Value::Object(map) => Ok(map.iter().map(|(k, v)| (k.clone(), text(v))).collect()),
        Value::Array(pairs) => pairs
            .iter()
            .map(|p| match p.as_array().map(Vec::as_slice) {
                Some([Value::String(k), v]) => Ok((k.clone(), text(v))),
                _ => Err(format!("tags: expected [key, value] pairs, got {p}")),
            })
            .collect(),
        other => Err(format!(
            "tags must be an object or a list of pairs, got {other}"
        )),
    }
}
