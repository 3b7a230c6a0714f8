//! A cascade route's checks: the `[routes.cascade]` table (raw → validated, every error
//! naming its field) and the checks themselves, run on each tier's answer.
//!
//! A check is one of the eval scorers that grade an answer on its own (`json-valid`,
//! `json-schema`, `regex`, `contains` with its `values`, `contains-any`, `exact` with its
//! `value`, `tool-call` with its `calls`, `numeric` with its `value`, `not`), or one of two
//! cascade checks: `min-length` (`chars`) and `tool-calls-valid` (at least one call, each with
//! JSON-object arguments). Checks that need a model call (`judge`, `embedding`) are refused.
//! Must never know the pipeline or the ledger.

use serde::Deserialize;
use switchyard_eval::{Output, Scorer, ScorerSpec};

/// `[routes.cascade]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCascade {
    /// `cost` (cheapest first, the default) or `config` (targets in the order written).
    order: Option<String>,
    #[serde(default)]
    checks: Vec<toml::Value>,
}

/// A validated cascade: its order and checks.
#[derive(Debug, Clone)]
pub struct CascadePolicy {
    pub config_order: bool,
    pub(crate) checks: Vec<Check>,
}

/// One check on a tier's answer.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    Scorer(Box<Scorer>),
    MinLength(usize),
    ToolCallsValid,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MinLength {
    #[serde(rename = "type")]
    _kind: String,
    chars: usize,
}

/// Validates `raw` (at `path`, e.g. `routes[2].cascade`); problems as (field path, message).
pub(crate) fn validate(
    path: &str,
    raw: Option<RawCascade>,
    is_cascade: bool,
    problems: &mut Vec<(String, String)>,
) -> Option<CascadePolicy> {
    let raw = match (raw, is_cascade) {
        (None, false) => return None,
        (Some(_), false) => {
            let message = "only a route with strategy = \"cascade\" takes [routes.cascade]";
            problems.push((path.to_owned(), message.to_owned()));
            return None;
        }
        (None, true) => RawCascade {
            order: None,
            checks: Vec::new(),
        },
        (Some(raw), true) => raw,
    };
    let config_order = match raw.order.as_deref() {
        None | Some("cost") => false,
        Some("config") => true,
        Some(other) => {
            let message = format!("{other:?} is not a cascade order; expected cost or config");
            problems.push((format!("{path}.order"), message));
            false
        }
    };
    if raw.checks.is_empty() {
        let message = "a cascade needs at least one check, e.g. [[routes.cascade.checks]] type = \"json-valid\"";
        problems.push((format!("{path}.checks"), message.to_owned()));
    }
    let mut checks = Vec::new();
    for (j, value) in raw.checks.into_iter().enumerate() {
        match parse_check(value) {
            Ok(check) => checks.push(check),
            Err(message) => problems.push((format!("{path}.checks[{j}]"), message)),
        }
    }
    Some(CascadePolicy {
        config_order,
        checks,
    })
}

fn parse_check(value: toml::Value) -> Result<Check, String> {
    let kind = value
        .get("type")
        .and_then(toml::Value::as_str)
        .unwrap_or("");
    match kind {
        "min-length" => {
            let m: MinLength = value.try_into().map_err(|e| format!("min-length: {e}"))?;
            Ok(Check::MinLength(m.chars))
        }
        "tool-calls-valid" => match value.as_table().map(|t| t.len()) {
            Some(1) => Ok(Check::ToolCallsValid),
            _ => Err("tool-calls-valid takes no other field".into()),
        },
        "judge" | "embedding" => Err(format!(
            "{kind} checks need a model call and are not available on cascade routes; use json-valid, json-schema, regex, contains, min-length or tool-calls-valid"
        )),
        _ => scorer(value),
    }
}

fn scorer(value: toml::Value) -> Result<Check, String> {
    let json = serde_json::to_value(value).map_err(|e| e.to_string())?;
    let spec: ScorerSpec = serde_json::from_value(json).map_err(|e| e.to_string())?;
    let scorer = spec.compile().map_err(|e| e.to_string())?;
    // A cascade answer has no expected value: a check must carry its own.
    scorer.score(&Output::default(), None).map_err(|e| {
        format!("{e}; a cascade check has no dataset item, so give it its own value")
    })?;
    Ok(Check::Scorer(Box::new(scorer)))
}

impl CascadePolicy {
    /// The first failing check's kind and detail, or `None` when the answer passes them all.
    pub(crate) fn failure(&self, output: &Output) -> Option<String> {
        self.checks.iter().find_map(|check| check.failure(output))
    }
}

impl Check {
    fn failure(&self, output: &Output) -> Option<String> {
        match self {
            Check::Scorer(s) => match s.score(output, None) {
                Ok(score) if score.passed => None,
                Ok(score) => Some(format!("{}: {}", s.spec().kind(), score.detail)),
                Err(e) => Some(format!("{}: {e}", s.spec().kind())),
            },
            Check::MinLength(chars) => {
                let n = output.text.trim().chars().count();
                (n < *chars).then(|| format!("min-length: {n} characters, fewer than {chars}"))
            }
            Check::ToolCallsValid => tool_calls_failure(output),
        }
    }
}

fn tool_calls_failure(output: &Output) -> Option<String> {
    if output.tool_calls.is_empty() {
        return Some("tool-calls-valid: the answer calls no tool".into());
    }
    output.tool_calls.iter().find_map(|call| {
        if call.name.trim().is_empty() {
            Some("tool-calls-valid: a tool call has no name".into())
        } else if !call.arguments.is_object() {
            Some(format!(
                "tool-calls-valid: the arguments of `{}` are not a JSON object",
                call.name
            ))
        } else {
            None
        }
    })
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
