//! Checks on each Chat Completions message: what its role requires, its content parts
//! (`text`, `image_url`, `input_audio`, `file`, `refusal`) and an assistant's `tool_calls`,
//! each refusal naming the path (`messages[2].content[0].image_url.url`).

use super::chat::{Content, Message, Part, Role};
use crate::FieldError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

pub(super) fn message(m: &Message<'_>, index: usize) -> Result<(), FieldError> {
    let path = format!("messages[{index}]");
    match m.role {
        Role::Tool if m.tool_call_id.is_none() => {
            return Err(FieldError::new(
                format!("{path}.tool_call_id"),
                format!("`{path}.tool_call_id` is required on a message with role \"tool\"."),
            ));
        }
        Role::Assistant => {}
        _ if m.content.is_none() => {
            return Err(FieldError::new(
                format!("{path}.content"),
                format!("`{path}.content` is required for this role."),
            ));
        }
        _ => {}
    }
    if let Some(Content::Parts(parts)) = &m.content {
        for (j, p) in parts.iter().enumerate() {
            part(p, &format!("{path}.content[{j}]"))?;
        }
    }
    if let Some(calls) = m.tool_calls {
        if m.role != Role::Assistant {
            return Err(FieldError::new(
                format!("{path}.tool_calls"),
                format!(
                    "`{path}.tool_calls` is only allowed on a message with role \"assistant\"."
                ),
            ));
        }
        tool_calls(calls, &format!("{path}.tool_calls"))?;
    }
    Ok(())
}

/// The member each part type requires; unknown part types are provider-specific and pass.
fn part(p: &Part<'_>, path: &str) -> Result<(), FieldError> {
    match p.kind.as_ref() {
        "text" if p.text.is_none() => Err(FieldError::new(
            format!("{path}.text"),
            format!("`{path}.text` is required on a part of type \"text\"."),
        )),
        "image_url" => image_url(p.image_url, &format!("{path}.image_url")),
        "input_audio" => input_audio(p.input_audio, &format!("{path}.input_audio")),
        "file" => require_object(p.file, &format!("{path}.file"), "{\"file_id\": …}").map(drop),
        "refusal" if !p.refusal.is_some_and(|r| r.get().starts_with('"')) => Err(FieldError::new(
            format!("{path}.refusal"),
            format!("`{path}.refusal` must be a string on a part of type \"refusal\"."),
        )),
        _ => Ok(()),
    }
}

fn require_object<'a>(
    v: Option<&'a RawValue>,
    path: &str,
    example: &str,
) -> Result<&'a RawValue, FieldError> {
    match v {
        Some(v) if v.get().starts_with('{') => Ok(v),
        _ => Err(FieldError::new(
            path,
            format!("`{path}` is required and must be an object, e.g. {example}."),
        )),
    }
}

/// A part's `image_url`: the one wire model, checked here and read by the canonical
/// conversion.
#[derive(Deserialize)]
pub(crate) struct ImageUrl<'a> {
    #[serde(borrow, default)]
    pub(crate) url: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
}

/// `{"url": string, "detail"?: "auto" | "low" | "high"}`.
fn image_url(v: Option<&RawValue>, path: &str) -> Result<(), FieldError> {
    let v = require_object(v, path, "{\"url\": \"https://…\"}")?;
    let img: ImageUrl =
        serde_json::from_str(v.get()).map_err(|e| FieldError::from_serde(path, &e))?;
    let url = img
        .url
        .and_then(|u| serde_json::from_str::<Cow<str>>(u.get()).ok());
    if url.is_none_or(|u| u.is_empty()) {
        return Err(FieldError::new(
            format!("{path}.url"),
            format!("`{path}.url` is required: the image's URL or a data: URL, as a string."),
        ));
    }
    let detail = img
        .detail
        .map(|d| serde_json::from_str::<Cow<str>>(d.get()));
    match detail {
        None => Ok(()),
        Some(Ok(d)) if matches!(d.as_ref(), "auto" | "low" | "high") => Ok(()),
        Some(_) => Err(FieldError::new(
            format!("{path}.detail"),
            format!("`{path}.detail` must be \"auto\", \"low\" or \"high\"."),
        )),
    }
}

#[derive(Deserialize)]
struct WireAudio<'a> {
    #[serde(borrow)]
    #[expect(dead_code, reason = "validated for its type only")]
    data: Cow<'a, str>,
    #[serde(borrow)]
    #[expect(dead_code, reason = "validated for its type only")]
    format: Cow<'a, str>,
}

/// `{"data": base64 string, "format": string}`.
fn input_audio(v: Option<&RawValue>, path: &str) -> Result<(), FieldError> {
    let v = require_object(v, path, "{\"data\": \"…\", \"format\": \"wav\"}")?;
    let _: WireAudio =
        serde_json::from_str(v.get()).map_err(|e| FieldError::from_serde(path, &e))?;
    Ok(())
}

/// One of an assistant message's `tool_calls`: the one wire model, checked here and read by
/// the canonical conversion.
#[derive(Deserialize)]
pub(crate) struct ToolCall<'a> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) function: Option<FunctionCall<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct FunctionCall<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) arguments: Cow<'a, str>,
}

/// An array of `{"id", "type", "function": {"name", "arguments"}}` (other call types, such
/// as "custom", carry their own member and pass).
fn tool_calls(raw: &RawValue, path: &str) -> Result<(), FieldError> {
    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|_| {
        FieldError::new(
            path,
            format!("`{path}` must be an array of tool calls, e.g. [{{\"id\": \"call_1\", \"type\": \"function\", \"function\": {{\"name\": \"f\", \"arguments\": \"{{}}\"}}}}]."),
        )
    })?;
    for (k, item) in items.into_iter().enumerate() {
        let p = format!("{path}[{k}]");
        let call: ToolCall =
            serde_json::from_str(item.get()).map_err(|e| FieldError::from_serde(&p, &e))?;
        if call.id.is_empty() {
            return Err(FieldError::new(
                format!("{p}.id"),
                format!("`{p}.id` must not be empty."),
            ));
        }
        if call.kind == "function" && call.function.is_none() {
            return Err(FieldError::new(
                format!("{p}.function"),
                format!(
                    "`{p}.function` with `name` and `arguments` is required on a call of type \"function\"."
                ),
            ));
        }
    }
    Ok(())
}
