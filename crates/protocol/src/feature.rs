//! Request features worth recording: they drive lock-in analysis and capability routing.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A capability a request relied on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    Tools,
    ParallelToolCalls,
    JsonObject,
    JsonSchema,
    Vision,
    Audio,
    Reasoning,
    Logprobs,
    /// A parameter outside the OpenAI specification (e.g. vLLM's `top_k`, Mistral's `safe_prompt`).
    ProviderParam(String),
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Feature::Tools => f.write_str("tools"),
            Feature::ParallelToolCalls => f.write_str("parallel_tool_calls"),
            Feature::JsonObject => f.write_str("json_object"),
            Feature::JsonSchema => f.write_str("json_schema"),
            Feature::Vision => f.write_str("vision"),
            Feature::Audio => f.write_str("audio"),
            Feature::Reasoning => f.write_str("reasoning"),
            Feature::Logprobs => f.write_str("logprobs"),
            Feature::ProviderParam(p) => write!(f, "param:{p}"),
        }
    }
}

/// A small, sorted, de-duplicated set of features (requests use a handful at most).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureSet(Vec<Feature>);

impl FeatureSet {
    pub fn insert(&mut self, f: Feature) {
        if let Err(i) = self.0.binary_search(&f) {
            self.0.insert(i, f);
        }
    }

    pub fn contains(&self, f: &Feature) -> bool {
        self.0.binary_search(f).is_ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Feature> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Comma-separated names, as stored in the ledger.
    pub fn to_csv(&self) -> String {
        let mut s = String::new();
        for (i, f) in self.0.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&f.to_string());
        }
        s
    }
}
