//! A cascade route's checks: the `[routes.cascade]` table (raw → validated, every error
//! naming its field) and the checks themselves, run on each tier's answer.
//!
//! A check is one of the eval scorers that grade an answer on its own (`json-valid`,
//! `json-schema`, `regex`, `contains` with its `values`, `contains-any`, `exact` with its
//! `value`, `tool-call` with its `calls`, `numeric` with its `value`, `not`), or one of two
//! cascade checks: `min-length` (`chars`) and `tool-calls-valid` (at least one call, each with
//! JSON-object arguments); and `judge` (`route`, `rubric`, `threshold`): a judge route rates
//! the answer, run by `judged.rs` after every other check passed (a judge is paid for, the
//! others are free). `embedding` checks are refused: they compare an answer with a reference
//! answer, which a live request does not have (decision in docs/configuration.md).
//! Must never know the pipeline or the ledger.

use serde::Deserialize;
use switchyard_eval::score::JudgeSpecError;
use switchyard_eval::{JudgeSpec, Output, Scorer, ScorerSpec};

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
    Judge(JudgeCheck),
}

/// A `judge` check: the judge route rates the answer by the rubric, passing at `threshold`.
#[derive(Debug, Clone)]
pub(crate) struct JudgeCheck {
    pub route: String,
    pub rubric: String,
    pub threshold: f64,
    /// Its position in `checks`, for the config errors found once every route is known.
    pub at: usize,
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
        match parse_check(value, j) {
            Ok(check) => checks.push(check),
            Err((field, message)) => problems.push((format!("{path}.checks[{j}]{field}"), message)),
        }
    }
    Some(CascadePolicy {
        config_order,
        checks,
    })
}

/// A check, or the field suffix (`""`, `".threshold"`) and message of its problem.
fn parse_check(value: toml::Value, at: usize) -> Result<Check, (&'static str, String)> {
    let kind = value
        .get("type")
        .and_then(toml::Value::as_str)
        .unwrap_or("");
    match kind {
        "min-length" => {
            let m: MinLength = value
                .try_into()
                .map_err(|e| ("", format!("min-length: {e}")))?;
            Ok(Check::MinLength(m.chars))
        }
        "tool-calls-valid" => match value.as_table().map(|t| t.len()) {
            Some(1) => Ok(Check::ToolCallsValid),
            _ => Err(("", "tool-calls-valid takes no other field".into())),
        },
        "judge" => judge(value, at),
        "embedding" => Err((
            "",
            "embedding checks are not available on cascade routes: they score an answer by its similarity to a reference answer, and a live request has none (one fixed text would rate answers to every question against the same words); to have a model rate whether the answer fits the question, use a judge check (type = \"judge\", route, rubric, threshold), or json-valid, json-schema, regex, contains, min-length, tool-calls-valid".into(),
        )),
        _ => scorer(value).map_err(|m| ("", m)),
    }
}

/// `{ type = "judge", route, rubric, threshold }`: eval's judge spec, rating one answer.
fn judge(value: toml::Value, at: usize) -> Result<Check, (&'static str, String)> {
    let json = serde_json::to_value(value).map_err(|e| ("", e.to_string()))?;
    let ScorerSpec::Judge(spec) =
        serde_json::from_value::<ScorerSpec>(json).map_err(|e| ("", format!("judge: {e}")))?
    else {
        return Err(("", "judge: not a judge check".into()));
    };
    let JudgeSpec {
        route,
        rubric,
        pairwise,
        ..
    } = &spec;
    if *pairwise {
        let message = "a cascade judge rates one answer by its rubric: there is no second answer to compare it with; remove pairwise";
        return Err((".pairwise", message.into()));
    }
    let threshold = spec.validate().map_err(|e| {
        let field = match e {
            JudgeSpecError::MissingRoute => ".route",
            JudgeSpecError::EmptyRubric => ".rubric",
            JudgeSpecError::MissingThreshold | JudgeSpecError::ThresholdRange => ".threshold",
        };
        (field, e.to_string())
    })?;
    Ok(Check::Judge(JudgeCheck {
        route: route.clone(),
        rubric: rubric.clone(),
        threshold,
        at,
    }))
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
    /// Judge checks are not run here (see [`CascadePolicy::judges`]).
    pub(crate) fn failure(&self, output: &Output) -> Option<String> {
        self.checks.iter().find_map(|check| check.failure(output))
    }

    /// The judge checks, run after every other check passed.
    pub(crate) fn judges(&self) -> impl Iterator<Item = &JudgeCheck> {
        self.checks.iter().filter_map(|c| match c {
            Check::Judge(j) => Some(j),
            _ => None,
        })
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
            Check::Judge(_) => None,
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
