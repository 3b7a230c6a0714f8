//! Scorers: how one answer is graded against what was expected.
//!
//! Every scorer returns a [`Score`]: a value in `[0, 1]`, whether it passed, and a detail
//! that says why. [`ScorerSpec`] is the serialised form found in datasets (tagged by
//! `type`); [`ScorerSpec::compile`] validates it once into a [`Scorer`] (regexes compiled,
//! judge thresholds required). Judge and embedding scorers need a model call, which the
//! runner makes; this module owns only their specs, prompts and arithmetic.

mod embedding;
mod json;
mod judge;
pub mod schema;
mod spec;
mod text;
mod tool;

pub use embedding::{EmbeddingSpec, cosine, similarity};
pub use json::{extract_json, json_eq, json_schema, json_valid};
pub use judge::{
    JudgeSpec, JudgeSpecError, JudgeVerdict, RubricScore, VerdictError, Winner, combine_swapped,
    judge_prompt, parse_rubric_score, parse_verdict, rubric_prompt,
};
pub use spec::{ScoreError, Scorer, ScorerSpec, SpecError};
pub use text::{
    TextMatch, Tolerance, contains_all, contains_any, exact, first_number, numeric, regex_match,
};
pub use tool::{ToolCall, tool_calls};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// In `[0, 1]`; partial credit where the scorer has a notion of it.
    pub value: f64,
    pub passed: bool,
    pub detail: String,
}

impl Score {
    pub fn pass(detail: impl Into<String>) -> Self {
        Self {
            value: 1.0,
            passed: true,
            detail: detail.into(),
        }
    }

    pub fn fail(detail: impl Into<String>) -> Self {
        Self {
            value: 0.0,
            passed: false,
            detail: detail.into(),
        }
    }
}

/// What a model answered: its text and any tool calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub text: String,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
}

impl Output {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            tool_calls: Vec::new(),
        }
    }

    /// Reads `choices[0].message` of an OpenAI chat completion body.
    pub fn from_openai_response(body: &Value) -> Self {
        let message = &body["choices"][0]["message"];
        Self {
            text: message["content"].as_str().unwrap_or_default().to_owned(),
            tool_calls: message["tool_calls"]
                .as_array()
                .map(|calls| calls.iter().filter_map(ToolCall::from_json).collect())
                .unwrap_or_default(),
        }
    }
}

/// A dataset item's expected value, read by each scorer as it needs: text, a number,
/// tool calls or a JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Expected(pub Value);

impl Expected {
    /// Strings as they are; numbers and booleans printed; anything else as compact JSON.
    pub fn as_text(&self) -> String {
        match &self.0 {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match &self.0 {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A list of calls, `{"tool_calls": [...]}`, or one call object.
    pub fn as_tool_calls(&self) -> Option<Vec<ToolCall>> {
        let list = match &self.0 {
            Value::Array(list) => list,
            Value::Object(map) => match map.get("tool_calls") {
                Some(Value::Array(list)) => list,
                _ => return ToolCall::from_json(&self.0).map(|c| vec![c]),
            },
            _ => return None,
        };
        list.iter().map(ToolCall::from_json).collect()
    }
}

#[cfg(test)]
#[path = "score/spec_tests.rs"]
mod spec_tests;
