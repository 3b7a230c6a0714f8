//! Dataset items and the importers that build them.
//!
//! An item is an OpenAI chat request body to replay, what is expected of the answer, what
//! the recorded (reference) run cost and how long it took, tags, and the scorers that grade
//! it. Importers validate everything up front and import nothing if any item is invalid,
//! listing every problem with its line or index.

mod jsonl;
mod promptfoo;

pub use jsonl::{LineError, import_jsonl};
pub use promptfoo::{DEFAULT_JUDGE_ROUTE, ItemError, import_promptfoo};

use crate::score::{Expected, ScorerSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One case of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetItem {
    pub id: String,
    /// An OpenAI chat request body (at least `messages`; `model` is set by the runner).
    pub input: Value,
    #[serde(default)]
    pub expected: Option<Expected>,
    /// The answer recorded when the dataset was made, for pairwise judging and embeddings.
    #[serde(default)]
    pub reference_output: Option<String>,
    /// The tool calls of the recorded answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_tool_calls: Vec<crate::score::ToolCall>,
    #[serde(default)]
    pub reference_cost_usd: Option<f64>,
    #[serde(default)]
    pub reference_latency_ms: Option<f64>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub scorers: Vec<ScorerSpec>,
}

impl DatasetItem {
    /// The text of the last user message (what a judge is told the question was).
    pub fn question(&self) -> String {
        let messages = self.input["messages"].as_array();
        let last_user = messages.and_then(|m| m.iter().rev().find(|m| m["role"] == "user"));
        match last_user.map(|m| &m["content"]) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }
}

/// A chat body with one user message.
pub(crate) fn user_message(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": text}]})
}

/// Problems with an assembled item, each as a sentence; empty when it is usable.
pub(crate) fn check_item(item: &DatasetItem) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = check_messages(&item.input) {
        problems.push(e);
    }
    for (i, spec) in item.scorers.iter().enumerate() {
        if let Err(e) = spec.validate() {
            problems.push(format!("assert[{i}] ({}): {e}", spec.kind()));
        } else if spec.needs_expected() && item.expected.is_none() {
            problems.push(format!(
                "assert[{i}] ({}) has no value to compare with: give it one or give the item `expected`",
                spec.kind()
            ));
        }
    }
    problems
}

/// The body must hold a non-empty `messages` array of objects with a string `role`, and be a
/// chat request the gateway's own OpenAI reader accepts once the runner sets `model`: an
/// imported item must never be refused at replay time for its shape.
pub(crate) fn check_messages(input: &Value) -> Result<(), String> {
    let Some(messages) = input.get("messages").and_then(Value::as_array) else {
        return Err("input needs a `messages` array (an OpenAI chat request body)".into());
    };
    if messages.is_empty() {
        return Err("input.messages is empty; add at least one message".into());
    }
    for (i, m) in messages.iter().enumerate() {
        if !m.get("role").is_some_and(Value::is_string) {
            return Err(format!("input.messages[{i}] needs a string `role`"));
        }
    }
    let mut body = input.clone();
    if let Value::Object(members) = &mut body {
        members.insert("model".into(), Value::String("replay".into()));
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| format!("input cannot be written: {e}"))?;
    match switchyard_protocol::openai::ChatRequest::parse(&bytes) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "input is not a chat request the gateway accepts: {}",
            e.message
        )),
    }
}

#[cfg(test)]
mod tests;
