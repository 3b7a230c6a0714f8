//! The Anthropic request members validated here rather than mapped field by field: tool
//! definitions, `metadata`, and the pass-through parameters Anthropic defines (`top_k`,
//! `thinking`, `service_tier`), each checked against Anthropic's documented type and range.

use super::{HANDLED, blocks, required, unsupported};
use crate::FieldError;
use crate::canonical::ToolDef;
use crate::openai::RawObject;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u64 = 1024;

/// The longest `metadata.user_id` Anthropic accepts, in characters.
const MAX_USER_ID_CHARS: usize = 256;

#[derive(Deserialize)]
struct WireMetadata {
    #[serde(default)]
    user_id: Option<String>,
}

pub(super) fn metadata_user(raw: &RawObject<'_>) -> Result<Option<String>, FieldError> {
    let meta: Option<WireMetadata> = raw.decode("metadata")?;
    let user = meta.and_then(|m| m.user_id);
    if user
        .as_ref()
        .is_some_and(|u| u.chars().count() > MAX_USER_ID_CHARS)
    {
        return Err(FieldError::new(
            "metadata.user_id",
            format!("`metadata.user_id` must be at most {MAX_USER_ID_CHARS} characters."),
        ));
    }
    Ok(user)
}

#[derive(Deserialize)]
struct WireThinking<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    budget_tokens: Option<u64>,
}

/// Pass-through members, with the ones Anthropic defines checked for type and range.
pub(super) fn extra(raw: &RawObject<'_>) -> Result<Vec<(String, Box<RawValue>)>, FieldError> {
    if raw.decode::<u64>("top_k")? == Some(0) {
        return Err(FieldError::new(
            "top_k",
            "`top_k` must be at least 1; leave it out to sample from every token.",
        ));
    }
    raw.decode::<Cow<str>>("service_tier")?;
    // The set of thinking modes grows with new models: only the type's shape and, for
    // "enabled", the budget Anthropic documents are checked.
    if let Some(t) = raw.decode::<WireThinking>("thinking")? {
        check_thinking(&t)?;
    }
    Ok(raw
        .iter()
        .filter(|(k, _)| !HANDLED.contains(k))
        .map(|(k, v)| (k.to_string(), v.to_owned()))
        .collect())
}

/// The budget's upper bound is `max_tokens` unless interleaved thinking (a beta header this
/// layer cannot see) lifts it, so only Anthropic's lower bound is checked here.
fn check_thinking(t: &WireThinking<'_>) -> Result<(), FieldError> {
    if t.kind != "enabled" {
        return Ok(());
    }
    let param = "thinking.budget_tokens";
    let budget = t
        .budget_tokens
        .ok_or_else(|| required(param, "give the thinking budget in tokens, at least 1024"))?;
    if budget < MIN_THINKING_BUDGET {
        return Err(FieldError::new(
            param,
            format!("`{param}` must be at least {MIN_THINKING_BUDGET}; got {budget}."),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct WireTool<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(borrow, default)]
    input_schema: Option<&'a RawValue>,
    #[serde(default)]
    cache_control: Option<blocks::WireCacheControl>,
}

/// The head of a tool's `input_schema`: Anthropic requires an object schema.
#[derive(Deserialize)]
struct SchemaHead<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
}

pub(super) fn tools(raw: &RawObject<'_>) -> Result<Vec<ToolDef>, FieldError> {
    let items: Vec<&RawValue> = raw.decode("tools")?.unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        out.push(tool(item, &format!("tools[{i}]"))?);
    }
    Ok(out)
}

fn tool(item: &RawValue, path: &str) -> Result<ToolDef, FieldError> {
    let t: WireTool =
        serde_json::from_str(item.get()).map_err(|e| FieldError::from_serde(path, &e))?;
    if let Some(kind) = t.kind.as_deref().filter(|k| *k != "custom") {
        return Err(unsupported(
            &format!("{path}.type"),
            &format!("the server tool {:?}", crate::bounded(kind)),
        ));
    }
    let name = t
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| required(&format!("{path}.name"), "name the tool"))?;
    if !valid_tool_name(&name) {
        return Err(FieldError::new(
            format!("{path}.name"),
            format!(
                "`{path}.name` must match ^[a-zA-Z0-9_-]{{1,64}}$ (letters, digits, _ and -); got {:?}.",
                crate::bounded(&name)
            ),
        ));
    }
    let schema = t.input_schema.ok_or_else(|| {
        required(
            &format!("{path}.input_schema"),
            "give the JSON Schema of the tool's input, e.g. {\"type\":\"object\"}",
        )
    })?;
    check_schema(schema, &format!("{path}.input_schema"))?;
    Ok(ToolDef {
        name,
        description: t.description,
        parameters: Some(schema.to_owned()),
        cache_control: t.cache_control.map(|c| c.checked(path)).transpose()?,
    })
}

fn check_schema(schema: &RawValue, path: &str) -> Result<(), FieldError> {
    let object_type = || {
        FieldError::new(
            path,
            format!(
                "`{path}` must be a JSON Schema object with \"type\": \"object\", e.g. {{\"type\":\"object\",\"properties\":{{}}}}."
            ),
        )
    };
    let head: SchemaHead = serde_json::from_str(schema.get()).map_err(|_| object_type())?;
    match head.kind.as_deref() {
        Some("object") => Ok(()),
        _ => Err(object_type()),
    }
}

/// Anthropic's documented pattern for tool names: `^[a-zA-Z0-9_-]{1,64}$`.
pub(super) fn valid_tool_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
