//! The serialised scorer specs and their validated, compiled form.

use super::embedding::EmbeddingSpec;
use super::judge::{JudgeSpec, JudgeSpecError};
use super::{Expected, Output, Score, TextMatch, Tolerance, schema};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A scorer as written in a dataset: `{"type": "exact", "value": "Paris"}`.
///
/// Scorers that compare against something (`exact`, `contains`, `tool-call`, `numeric`,
/// `embedding`) take it from their own field when set, else from the item's `expected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ScorerSpec {
    Exact {
        #[serde(default)]
        value: Option<String>,
        #[serde(default)]
        trim: bool,
        #[serde(default)]
        case_insensitive: bool,
    },
    /// Every value occurs in the output.
    Contains {
        #[serde(default)]
        values: Option<Vec<String>>,
        #[serde(default)]
        case_insensitive: bool,
    },
    /// At least one value occurs in the output.
    #[serde(alias = "contains_any")]
    ContainsAny {
        values: Vec<String>,
        #[serde(default)]
        case_insensitive: bool,
    },
    Regex {
        pattern: String,
    },
    #[serde(alias = "json_valid")]
    JsonValid {
        /// Also accept JSON embedded in prose.
        #[serde(default)]
        search: bool,
    },
    #[serde(alias = "json_schema")]
    JsonSchema {
        schema: Value,
        #[serde(default)]
        search: bool,
    },
    #[serde(alias = "tool_call")]
    ToolCall {
        #[serde(default)]
        calls: Option<Vec<super::ToolCall>>,
    },
    Numeric {
        #[serde(default)]
        value: Option<f64>,
        #[serde(default)]
        abs_tolerance: Option<f64>,
        #[serde(default)]
        rel_tolerance: Option<f64>,
    },
    /// Passes when the inner scorer fails; the value is `1 - inner`.
    Not {
        scorer: Box<ScorerSpec>,
    },
    Judge(JudgeSpec),
    Embedding(EmbeddingSpec),
}

/// Why a spec cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("invalid regex /{pattern}/: {message}")]
    Regex { pattern: String, message: String },
    #[error("the schema uses {0}, which is not supported; inline the referenced schema")]
    SchemaRef(String),
    #[error("{0} needs at least one value")]
    NoValues(&'static str),
    #[error("tolerances must be finite and non-negative")]
    Tolerance,
    #[error("the embedding threshold must be within [-1, 1]")]
    EmbeddingThreshold,
    #[error(transparent)]
    Judge(#[from] JudgeSpecError),
}

/// Why a compiled scorer could not grade an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error(
        "the {0} scorer has nothing to compare with: give it a value or give the item `expected`"
    )]
    MissingExpected(&'static str),
    #[error("the {0} scorer needs a model call; the runner scores it")]
    NeedsModel(&'static str),
}

/// A validated scorer, ready to grade answers.
#[derive(Debug, Clone)]
pub struct Scorer {
    spec: ScorerSpec,
    regex: Option<Regex>,
    inner: Option<Box<Scorer>>,
}

impl ScorerSpec {
    /// The `type` tag, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Exact { .. } => "exact",
            Self::Contains { .. } => "contains",
            Self::ContainsAny { .. } => "contains-any",
            Self::Regex { .. } => "regex",
            Self::JsonValid { .. } => "json-valid",
            Self::JsonSchema { .. } => "json-schema",
            Self::ToolCall { .. } => "tool-call",
            Self::Numeric { .. } => "numeric",
            Self::Not { .. } => "not",
            Self::Judge(_) => "judge",
            Self::Embedding(_) => "embedding",
        }
    }

    /// True when the spec carries no reference of its own and reads the item's `expected`.
    pub fn needs_expected(&self) -> bool {
        match self {
            Self::Exact { value, .. } => value.is_none(),
            Self::Contains { values, .. } => values.is_none(),
            Self::ToolCall { calls } => calls.is_none(),
            Self::Numeric { value, .. } => value.is_none(),
            Self::Not { scorer } => scorer.needs_expected(),
            _ => false,
        }
    }

    /// Validates the spec; see [`ScorerSpec::compile`].
    pub fn validate(&self) -> Result<(), SpecError> {
        self.compile().map(|_| ())
    }

    /// Validates the spec and prepares it (compiles regexes).
    pub fn compile(&self) -> Result<Scorer, SpecError> {
        let mut regex = None;
        let mut inner = None;
        match self {
            Self::Regex { pattern } => {
                regex = Some(Regex::new(pattern).map_err(|e| SpecError::Regex {
                    pattern: pattern.clone(),
                    message: e.to_string(),
                })?);
            }
            Self::Contains {
                values: Some(values),
                ..
            } if values.is_empty() => return Err(SpecError::NoValues("contains")),
            Self::ContainsAny { values, .. } if values.is_empty() => {
                return Err(SpecError::NoValues("contains-any"));
            }
            Self::JsonSchema { schema, .. } => {
                if let Some(at) = schema::unsupported_keyword(schema) {
                    return Err(SpecError::SchemaRef(at));
                }
            }
            Self::Numeric {
                abs_tolerance,
                rel_tolerance,
                ..
            } => {
                let bad = |t: &Option<f64>| t.is_some_and(|t| !t.is_finite() || t < 0.0);
                if bad(abs_tolerance) || bad(rel_tolerance) {
                    return Err(SpecError::Tolerance);
                }
            }
            Self::Not { scorer } => inner = Some(Box::new(scorer.compile()?)),
            Self::Judge(judge) => {
                judge.validate()?;
            }
            Self::Embedding(e) if !(-1.0..=1.0).contains(&e.threshold) => {
                return Err(SpecError::EmbeddingThreshold);
            }
            _ => {}
        }
        Ok(Scorer {
            spec: self.clone(),
            regex,
            inner,
        })
    }
}

impl Scorer {
    pub fn spec(&self) -> &ScorerSpec {
        &self.spec
    }

    /// Grades `output`. Judge and embedding scorers return [`ScoreError::NeedsModel`].
    pub fn score(&self, output: &Output, expected: Option<&Expected>) -> Result<Score, ScoreError> {
        let text = output.text.as_str();
        Ok(match &self.spec {
            ScorerSpec::ContainsAny {
                values,
                case_insensitive,
            } => super::contains_any(text, values, *case_insensitive),
            ScorerSpec::Regex { .. } => match &self.regex {
                Some(re) => super::regex_match(text, re),
                None => Score::fail("regex was not compiled"),
            },
            ScorerSpec::JsonValid { search } => super::json_valid(text, *search),
            ScorerSpec::JsonSchema { schema, search } => super::json_schema(text, schema, *search),
            ScorerSpec::Not { .. } => match &self.inner {
                Some(inner) => negate(inner.score(output, expected)?),
                None => Score::fail("inner scorer was not compiled"),
            },
            ScorerSpec::Judge(_) | ScorerSpec::Embedding(_) => {
                return Err(ScoreError::NeedsModel(self.spec.kind()));
            }
            _ => self.compare(output, expected)?,
        })
    }

    /// The scorers that compare with a reference: their own value, else the item's.
    fn compare(&self, output: &Output, expected: Option<&Expected>) -> Result<Score, ScoreError> {
        let missing = || ScoreError::MissingExpected(self.spec.kind());
        let text = output.text.as_str();
        Ok(match &self.spec {
            ScorerSpec::Exact {
                value,
                trim,
                case_insensitive,
            } => {
                let want = value.clone().or_else(|| expected.map(Expected::as_text));
                let how = TextMatch {
                    trim: *trim,
                    case_insensitive: *case_insensitive,
                };
                super::exact(text, &want.ok_or_else(missing)?, how)
            }
            ScorerSpec::Contains {
                values,
                case_insensitive,
            } => {
                let want = match values {
                    Some(v) => v.clone(),
                    None => vec![expected.map(Expected::as_text).ok_or_else(missing)?],
                };
                super::contains_all(text, &want, *case_insensitive)
            }
            ScorerSpec::ToolCall { calls } => {
                let want = match calls {
                    Some(c) => c.clone(),
                    None => expected
                        .and_then(Expected::as_tool_calls)
                        .ok_or_else(missing)?,
                };
                super::tool_calls(&output.tool_calls, &want)
            }
            ScorerSpec::Numeric {
                value,
                abs_tolerance,
                rel_tolerance,
            } => {
                let want = value.or_else(|| expected.and_then(Expected::as_number));
                let tolerance = Tolerance {
                    abs: *abs_tolerance,
                    rel: *rel_tolerance,
                };
                super::numeric(text, want.ok_or_else(missing)?, tolerance)
            }
            other => Score::fail(format!("{} is not a comparison scorer", other.kind())),
        })
    }
}

fn negate(score: Score) -> Score {
    Score {
        value: 1.0 - score.value,
        passed: !score.passed,
        detail: format!("negated: {}", score.detail),
    }
}
