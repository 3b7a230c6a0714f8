//! One promptfoo assertion → one scorer spec.

use super::{DEFAULT_JUDGE_ROUTE, render};
use crate::score::{EmbeddingSpec, JudgeSpec, ScorerSpec};
use serde_json::{Map, Value};

const SUPPORTED: &str = "equals, contains, icontains, contains-any, icontains-any, contains-all, \
    icontains-all, starts-with, regex, is-json, contains-json, similar, llm-rubric (and not-…)";

/// Converts one assertion, rendering string values with the test's vars.
pub(super) fn assertion(a: &Value, vars: &Map<String, Value>) -> Result<ScorerSpec, String> {
    let Some(obj) = a.as_object() else {
        return Err(format!("an assertion must be a mapping, got {a}"));
    };
    let Some(kind) = obj.get("type").and_then(Value::as_str) else {
        return Err("the assertion has no `type`".into());
    };
    if obj.contains_key("transform") {
        return Err("`transform` runs code and is not supported".into());
    }
    let value = match obj.get("value") {
        Some(Value::String(s)) => Some(Value::String(render(s, vars)?)),
        other => other.cloned(),
    };
    let a = Assertion {
        value,
        threshold: obj.get("threshold").and_then(Value::as_f64),
        provider: provider_of(obj.get("provider")),
    };
    match kind.strip_prefix("not-") {
        Some(inner) => Ok(ScorerSpec::Not {
            scorer: Box::new(convert(inner, &a)?),
        }),
        None => convert(kind, &a),
    }
}

struct Assertion {
    value: Option<Value>,
    threshold: Option<f64>,
    provider: Option<String>,
}

fn provider_of(p: Option<&Value>) -> Option<String> {
    match p? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

impl Assertion {
    fn text(&self, kind: &str) -> Result<String, String> {
        match &self.value {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
            Some(other) => Err(format!("`{kind}` needs a text value, got {other}")),
            None => Err(format!("`{kind}` needs a `value`")),
        }
    }

    fn texts(&self, kind: &str) -> Result<Vec<String>, String> {
        match &self.value {
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
                    other => Err(format!("`{kind}` values must be text, got {other}")),
                })
                .collect(),
            _ => Ok(vec![self.text(kind)?]),
        }
    }
}

fn convert(kind: &str, a: &Assertion) -> Result<ScorerSpec, String> {
    let (base, case_insensitive) = match kind.strip_prefix('i') {
        Some(rest) if rest.starts_with("contains") => (rest, true),
        _ => (kind, false),
    };
    Ok(match base {
        "equals" => ScorerSpec::Exact {
            value: Some(a.text(kind)?),
            trim: false,
            case_insensitive: false,
        },
        "contains" | "contains-all" => ScorerSpec::Contains {
            values: Some(a.texts(kind)?),
            case_insensitive,
        },
        "contains-any" => ScorerSpec::ContainsAny {
            values: a.texts(kind)?,
            case_insensitive,
        },
        "starts-with" => ScorerSpec::Regex {
            pattern: format!("^{}", regex::escape(&a.text(kind)?)),
        },
        "regex" => ScorerSpec::Regex {
            pattern: a.text(kind)?,
        },
        "is-json" | "contains-json" => json_check(kind == "contains-json", a)?,
        "similar" => ScorerSpec::Embedding(EmbeddingSpec {
            route: a.provider.clone(),
            threshold: a.threshold.unwrap_or(0.75),
            value: Some(a.text(kind)?),
        }),
        "llm-rubric" => ScorerSpec::Judge(JudgeSpec {
            route: a
                .provider
                .clone()
                .unwrap_or_else(|| DEFAULT_JUDGE_ROUTE.to_owned()),
            rubric: a.text(kind)?,
            threshold: a.threshold,
            pairwise: false,
        }),
        "javascript" | "python" | "webhook" => {
            return Err(format!(
                "assertion type `{kind}` runs code and is not supported; express it as one of: {SUPPORTED}"
            ));
        }
        _ => {
            return Err(format!(
                "assertion type `{kind}` is not supported; supported: {SUPPORTED}"
            ));
        }
    })
}

fn json_check(search: bool, a: &Assertion) -> Result<ScorerSpec, String> {
    match &a.value {
        None => Ok(ScorerSpec::JsonValid { search }),
        Some(schema @ (Value::Object(_) | Value::Bool(_))) => Ok(ScorerSpec::JsonSchema {
            schema: schema.clone(),
            search,
        }),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(schema @ Value::Object(_)) => Ok(ScorerSpec::JsonSchema { schema, search }),
            _ => {
                Err("the JSON schema must be a mapping (file references are not supported)".into())
            }
        },
        Some(other) => Err(format!("the JSON schema must be a mapping, got {other}")),
    }
}
