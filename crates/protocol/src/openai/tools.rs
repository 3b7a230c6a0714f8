//! Chat Completions tool definitions, `tool_choice` and `response_format`: the one wire model
//! of these members (the canonical conversion reads the same types), checked against OpenAI's
//! rules (function names `^[a-zA-Z0-9_-]{1,64}$`, at most 128 tools, object schemas), each
//! refusal naming its path.

use super::raw::RawObject;
use crate::{Feature, FieldError};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `tools[i]`: a function tool, or another type (passed through on the same dialect).
#[derive(Deserialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) function: Option<FunctionDef<'a>>,
    /// A prompt-cache breakpoint, as OpenAI-dialect clients of Anthropic models send it.
    #[serde(default)]
    pub(crate) cache_control: Option<CacheControl>,
}

#[derive(Deserialize)]
pub(crate) struct FunctionDef<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) parameters: Option<&'a RawValue>,
    #[serde(default)]
    #[expect(dead_code, reason = "validated for its type only")]
    strict: Option<bool>,
}

/// `cache_control` on a tool or a content part (`{"type":"ephemeral","ttl":"1h"}`), as
/// OpenAI-dialect clients of Anthropic models send it.
#[derive(Debug, Deserialize)]
pub struct CacheControl {
    #[serde(default)]
    pub ttl: Option<String>,
}

/// `tool_choice`: a mode, or an object naming a function (or another tool type).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum ToolChoice<'a> {
    Mode(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(rename = "type", borrow, default)]
        kind: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        function: Option<NamedFunction<'a>>,
    },
}

#[derive(Deserialize)]
pub(crate) struct NamedFunction<'a> {
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
}

/// OpenAI's limit on the number of tools in one request.
const MAX_TOOLS: usize = 128;

/// `response_format`.
#[derive(Deserialize)]
pub(crate) struct ResponseFormat<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) json_schema: Option<JsonSchemaFormat<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct JsonSchemaFormat<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) schema: Option<&'a RawValue>,
    #[serde(default)]
    #[expect(dead_code, reason = "validated for its type only")]
    strict: Option<bool>,
}

/// The function tools' names, each tool checked (at most 128, OpenAI's limit).
pub(super) fn names<'a>(raw: &RawObject<'a>) -> Result<Vec<Cow<'a, str>>, FieldError> {
    let tools: Vec<&'a RawValue> = raw.decode("tools")?.unwrap_or_default();
    if tools.len() > MAX_TOOLS {
        return Err(FieldError::new(
            "tools",
            format!(
                "`tools` takes at most {MAX_TOOLS} tools; got {}.",
                tools.len()
            ),
        ));
    }
    let mut names = Vec::new();
    for (i, t) in tools.into_iter().enumerate() {
        if let Some(name) = tool_name(t, i)? {
            names.push(name);
        }
    }
    Ok(names)
}

/// `tool_choice`: a mode, or a named function that is among `tools`.
pub(super) fn choice(raw: &RawObject<'_>, names: &[Cow<'_, str>]) -> Result<(), FieldError> {
    let must_be = || {
        FieldError::new(
            "tool_choice",
            "`tool_choice` must be \"none\", \"auto\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":…}}.",
        )
    };
    let Some(choice) = raw
        .decode::<ToolChoice>("tool_choice")
        .map_err(|_| must_be())?
    else {
        return Ok(());
    };
    let (kind, function) = match choice {
        ToolChoice::Mode(m) if matches!(m.as_ref(), "none" | "auto" | "required") => {
            return Ok(());
        }
        ToolChoice::Mode(_) => return Err(must_be()),
        ToolChoice::Object { kind, function } => (kind, function),
    };
    match function.and_then(|f| f.name) {
        Some(n) if names.contains(&n) => Ok(()),
        Some(n) => Err(FieldError::new(
            "tool_choice.function.name",
            format!(
                "`tool_choice` names the function {:?}, which is not among `tools`.",
                crate::bounded(&n)
            ),
        )),
        None if kind.as_deref() == Some("function") => Err(FieldError::new(
            "tool_choice.function.name",
            "`tool_choice.function.name` is required.",
        )),
        None => Ok(()),
    }
}

/// `response_format`, and the feature it makes the request use.
pub(super) fn response_format(raw: &RawObject<'_>) -> Result<Option<Feature>, FieldError> {
    let Some(rf) = raw.decode::<ResponseFormat>("response_format")? else {
        return Ok(None);
    };
    match (rf.kind.as_ref(), rf.json_schema) {
        ("text", _) => Ok(None),
        ("json_object", _) => Ok(Some(Feature::JsonObject)),
        ("json_schema", Some(s)) if !s.name.is_empty() => {
            check_schema_format(&s)?;
            Ok(Some(Feature::JsonSchema))
        }
        ("json_schema", _) => Err(FieldError::new(
            "response_format.json_schema",
            "`response_format.json_schema` with a `name` is required when the type is \"json_schema\".",
        )),
        (other, _) => Err(FieldError::new(
            "response_format.type",
            format!(
                "`response_format.type` must be \"text\", \"json_object\" or \"json_schema\"; got {:?}.",
                crate::bounded(other)
            ),
        )),
    }
}

/// A function tool's name (checked against OpenAI's pattern) and `parameters` (an object);
/// `None` for other tool types, which pass through unvalidated.
fn tool_name<'a>(raw: &'a RawValue, i: usize) -> Result<Option<Cow<'a, str>>, FieldError> {
    let path = format!("tools[{i}]");
    let t: Tool<'a> =
        serde_json::from_str(raw.get()).map_err(|e| FieldError::from_serde(&path, &e))?;
    let f = match (t.kind.as_ref(), t.function) {
        ("function", Some(f)) => f,
        ("function", None) => {
            return Err(FieldError::new(
                format!("{path}.function"),
                format!("`{path}.function` is required for a tool of type \"function\"."),
            ));
        }
        // Custom and provider-specific tool types pass through unvalidated.
        _ => return Ok(None),
    };
    if !valid_function_name(&f.name) {
        return Err(FieldError::new(
            format!("{path}.function.name"),
            format!(
                "`{path}.function.name` must be 1-64 characters of a-z, A-Z, 0-9, _ or -; got {:?}.",
                crate::bounded(&f.name)
            ),
        ));
    }
    if f.parameters.is_some_and(|p| !p.get().starts_with('{')) {
        return Err(FieldError::new(
            format!("{path}.function.parameters"),
            format!(
                "`{path}.function.parameters` must be a JSON Schema object, e.g. {{\"type\":\"object\",\"properties\":{{}}}}."
            ),
        ));
    }
    Ok(Some(f.name))
}

fn check_schema_format(s: &JsonSchemaFormat<'_>) -> Result<(), FieldError> {
    if !valid_function_name(&s.name) {
        return Err(FieldError::new(
            "response_format.json_schema.name",
            "`response_format.json_schema.name` must be 1-64 characters of a-z, A-Z, 0-9, _ or -.",
        ));
    }
    if s.schema.is_some_and(|v| !v.get().starts_with('{')) {
        return Err(FieldError::new(
            "response_format.json_schema.schema",
            "`response_format.json_schema.schema` must be a JSON Schema object.",
        ));
    }
    Ok(())
}

fn valid_function_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
