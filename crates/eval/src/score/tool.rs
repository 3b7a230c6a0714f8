//! The tool-call scorer: the model called the expected functions with the expected
//! arguments, compared structurally and as a multiset.

use super::Score;
use super::json::json_eq;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One function call, with its arguments as a JSON value.
///
/// Serialises as `{"name", "arguments"}`. [`ToolCall::from_json`] also reads OpenAI's
/// `{"type": "function", "function": {"name", "arguments": "<json string>"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub name: String,
    #[serde(default)]
    pub arguments: Value,
}

impl ToolCall {
    pub fn new(name: impl Into<String>, arguments: Value) -> Self {
        Self {
            name: name.into(),
            arguments: parse_arguments(arguments),
        }
    }

    /// Reads either shape; `None` when there is no function name.
    pub fn from_json(value: &Value) -> Option<Self> {
        let call = value.get("function").unwrap_or(value);
        let name = call.get("name")?.as_str()?;
        let arguments = call.get("arguments").cloned().unwrap_or(Value::Null);
        Some(Self::new(name, arguments))
    }
}

/// OpenAI sends arguments as a JSON string; parse it so comparison is structural.
/// A string that is not JSON stays a string (and then compares as text).
fn parse_arguments(arguments: Value) -> Value {
    match &arguments {
        Value::String(s) => serde_json::from_str(s).unwrap_or(arguments),
        _ => arguments,
    }
}

fn same_call(a: &ToolCall, b: &ToolCall) -> bool {
    a.name == b.name
        && json_eq(
            &parse_arguments(a.arguments.clone()),
            &parse_arguments(b.arguments.clone()),
        )
}

/// Matches `actual` against `expected` as multisets of (name, arguments).
///
/// The value is the number of matched pairs over the larger of the two counts, so both
/// missing and unexpected calls lower it; it passes only when every call pairs up.
pub fn tool_calls(actual: &[ToolCall], expected: &[ToolCall]) -> Score {
    if actual.is_empty() && expected.is_empty() {
        return Score::pass("no tool calls expected and none made");
    }
    let mut unused: Vec<&ToolCall> = actual.iter().collect();
    let mut missing = Vec::new();
    for want in expected {
        match unused.iter().position(|got| same_call(got, want)) {
            Some(i) => {
                unused.swap_remove(i);
            }
            None => missing.push(want),
        }
    }
    let matched = expected.len() - missing.len();
    if missing.is_empty() && unused.is_empty() {
        return Score::pass(format!("all {matched} tool calls match"));
    }
    let describe = |calls: &[&ToolCall]| {
        calls
            .iter()
            .map(|c| format!("{}({})", c.name, c.arguments))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Score {
        value: matched as f64 / expected.len().max(actual.len()) as f64,
        passed: false,
        detail: format!(
            "missing [{}]; unexpected [{}]",
            describe(&missing),
            describe(&unused)
        ),
    }
}

#[cfg(test)]
#[path = "tool_tests.rs"]
mod tests;
