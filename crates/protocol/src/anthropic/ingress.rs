//! Anthropic Messages request body (`POST /v1/messages`) → canonical request, for Anthropic
//! clients whose route is served by an upstream of another dialect.
//!
//! Every field is validated where it is read, and the first invalid one is reported as a
//! [`FieldError`] naming its JSON path (`messages[2].content[0].type`). Parameters the
//! canonical form has no slot for (`top_k`, `thinking`, and members this version does not
//! know) are kept in [`ChatRequest::extra`]; the writer of the upstream body decides whether
//! it can carry them. Features whose loss would silently change the answer (server tools,
//! documents, file references) are refused by name.

use crate::FieldError;
use crate::canonical::{ChatRequest, ResponseFormat, ToolChoice};
use crate::openai::RawObject;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

mod blocks;
mod checks;

/// Top-level members read into canonical fields; every other member goes to `extra`.
const HANDLED: &[&str] = &[
    "model",
    "max_tokens",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "stop_sequences",
    "temperature",
    "top_p",
    "stream",
    "metadata",
];

/// Parses and validates a Messages request body.
pub fn parse_request(body: &[u8]) -> Result<ChatRequest, FieldError> {
    parse(body, true)
}

/// Parses and validates a `/v1/messages/count_tokens` body: a Messages request without
/// `max_tokens`, held to the same rules otherwise (limits, repeated members, every field).
pub fn parse_count_request(body: &[u8]) -> Result<ChatRequest, FieldError> {
    parse(body, false)
}

fn parse(body: &[u8], max_tokens_required: bool) -> Result<ChatRequest, FieldError> {
    let raw = RawObject::parse(body)?;
    let model: String = raw
        .decode("model")?
        .filter(|m: &String| !m.trim().is_empty())
        .ok_or_else(|| {
            required(
                "model",
                "name a route, e.g. \"model\": \"claude-sonnet-4-5\"",
            )
        })?;
    crate::check_identifier("model", &model)?;
    let max_tokens: Option<u64> = raw.decode("max_tokens")?;
    if max_tokens.is_none() && max_tokens_required {
        return Err(required("max_tokens", "give the output limit, e.g. 1024"));
    }
    if max_tokens == Some(0) {
        return Err(FieldError::new(
            "max_tokens",
            "`max_tokens` must be at least 1.",
        ));
    }
    let (tool_choice, parallel_tool_calls) = tool_choice(&raw)?;
    if let Some(ToolChoice::Tool(name)) = &tool_choice {
        chosen_tool_is_defined(&raw, name)?;
    }
    let (response_format, format_only) = output_format(&raw)?;
    let mut extra = checks::extra(&raw)?;
    if format_only {
        extra.retain(|(k, _)| k != "output_config");
    }
    Ok(ChatRequest {
        model,
        system: blocks::system(raw.get("system"))?,
        messages: blocks::messages(raw.get("messages"))?,
        tools: checks::tools(&raw)?,
        tool_choice,
        parallel_tool_calls,
        max_tokens,
        temperature: unit_interval(&raw, "temperature")?,
        top_p: unit_interval(&raw, "top_p")?,
        stop: raw.decode("stop_sequences")?.unwrap_or_default(),
        stream: raw.decode("stream")?.unwrap_or(false),
        metadata_user: checks::metadata_user(&raw)?,
        reasoning_effort: None,
        response_format,
        extra,
    })
}

/// A "`field` is required" error with a hint on how to fix it.
pub(super) fn required(param: &str, hint: &str) -> FieldError {
    FieldError::new(param, format!("`{param}` is required: {hint}."))
}

/// A feature this route cannot translate, refused so the client never gets a silently
/// different answer.
pub(super) fn unsupported(param: &str, what: &str) -> FieldError {
    FieldError::new(
        param,
        format!(
            "`{param}`: {what} is not supported on this route, whose provider speaks another dialect; remove it or choose an Anthropic route."
        ),
    )
}

/// A number in 0..=1, the range Anthropic accepts for `temperature` and `top_p`.
fn unit_interval(raw: &RawObject<'_>, key: &str) -> Result<Option<f64>, FieldError> {
    let value: Option<f64> = raw.decode(key)?;
    match value {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(FieldError::new(
            key,
            format!("`{key}` must be between 0 and 1."),
        )),
        v => Ok(v),
    }
}

#[derive(Deserialize)]
struct WireFormat<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    schema: Option<&'a RawValue>,
}

/// `output_config.format` (structured output) as the canonical response format, and whether
/// `format` was the only member of `output_config` (so nothing else of it is left to carry).
fn output_format(raw: &RawObject<'_>) -> Result<(ResponseFormat, bool), FieldError> {
    let config: Option<BTreeMap<Cow<str>, &RawValue>> = raw.decode("output_config")?;
    let Some(config) = config else {
        return Ok((ResponseFormat::Text, false));
    };
    let Some(format) = config.get("format").filter(|f| f.get() != "null") else {
        return Ok((ResponseFormat::Text, false));
    };
    let path = "output_config.format";
    let f: WireFormat =
        serde_json::from_str(format.get()).map_err(|e| FieldError::from_serde(path, &e))?;
    if f.kind != "json_schema" {
        return Err(unsupported(
            "output_config.format.type",
            &format!("an output format of type {:?}", f.kind),
        ));
    }
    let schema = f.schema.ok_or_else(|| {
        required(
            "output_config.format.schema",
            "give the JSON Schema the answer must follow",
        )
    })?;
    let format = ResponseFormat::JsonSchema {
        // OpenAI requires a name; Anthropic's format has none.
        name: "output".to_string(),
        schema: Some(schema.to_owned()),
    };
    Ok((format, config.len() == 1))
}

#[derive(Deserialize)]
struct WireToolChoice {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    disable_parallel_tool_use: bool,
}

/// A `tool_choice` of type `tool` must name one of `tools` (client or server tools alike), as
/// Anthropic requires: a translated body would otherwise force a function nobody defined.
fn chosen_tool_is_defined(raw: &RawObject<'_>, name: &str) -> Result<(), FieldError> {
    #[derive(serde::Deserialize)]
    struct Named {
        name: Option<String>,
    }
    let tools: Vec<Named> = raw.decode("tools")?.unwrap_or_default();
    if tools.iter().any(|t| t.name.as_deref() == Some(name)) {
        return Ok(());
    }
    Err(FieldError::new(
        "tool_choice.name",
        format!(
            "`tool_choice.name` {:?} is not among `tools`: name one of the tools the request defines.",
            crate::text::bounded(name)
        ),
    ))
}

/// `tool_choice`, and `Some(false)` for `parallel_tool_calls` when it disables parallel use.
fn tool_choice(raw: &RawObject<'_>) -> Result<(Option<ToolChoice>, Option<bool>), FieldError> {
    let Some(c) = raw.decode::<WireToolChoice>("tool_choice")? else {
        return Ok((None, None));
    };
    let choice = match (c.kind.as_str(), c.name) {
        ("auto", _) => ToolChoice::Auto,
        ("any", _) => ToolChoice::Any,
        ("none", _) => ToolChoice::None,
        ("tool", Some(name)) => ToolChoice::Tool(name),
        ("tool", None) => {
            return Err(required(
                "tool_choice.name",
                "name the tool the model must call",
            ));
        }
        (other, _) => {
            return Err(FieldError::new(
                "tool_choice.type",
                format!(
                    "`tool_choice.type` {other:?} is not one of \"auto\", \"any\", \"tool\", \"none\"."
                ),
            ));
        }
    };
    let parallel = c.disable_parallel_tool_use.then_some(false);
    Ok((Some(choice), parallel))
}

#[cfg(test)]
#[path = "ingress_tests.rs"]
mod tests;
