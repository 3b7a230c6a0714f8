//! `input` items → canonical turns.
//!
//! Messages (`type` may be left out, as OpenAI allows) with a string or input_text /
//! input_image / output_text / refusal parts; `function_call` (an assistant tool call);
//! `function_call_output` (its result, whose `call_id` must name a call made earlier in the
//! conversation); `reasoning` (its summary text as a thinking block; its `encrypted_content`,
//! when Switchyard minted it for a translated answer, carries the provider's signature back,
//! see [`super::response::SIGNATURE_PREFIX`]). system and developer messages are hoisted into
//! the canonical `system`. Consecutive assistant items form one assistant turn.

use super::response::SIGNATURE_PREFIX;
use crate::FieldError;
use crate::canonical::{Block, ChatRequest, ImageSource, Role, Turn};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Deserialize)]
struct WireItem<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(default)]
    call_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
    #[serde(borrow, default)]
    output: Option<&'a RawValue>,
    #[serde(default)]
    summary: Option<Vec<WireSummary>>,
    #[serde(default)]
    encrypted_content: Option<String>,
}

#[derive(Deserialize)]
struct WireSummary {
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireContent<'a> {
    Text(String),
    #[serde(borrow)]
    Parts(Vec<WirePart<'a>>),
}

#[derive(Deserialize)]
struct WirePart<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    image_url: Option<String>,
}

/// A user turn of one text block (`input` given as a string).
pub fn user_text(text: String) -> Turn {
    Turn {
        role: Role::User,
        content: vec![Block::text(text)],
    }
}

/// Appends `items` to `c`'s system and turns. Untranslatable parts (files, images by file id)
/// are reported through `note`; malformed items fail with their path.
pub fn convert(
    items: &[&RawValue],
    c: &mut ChatRequest,
    note: &mut impl FnMut(FieldError),
) -> Result<(), FieldError> {
    for (i, raw) in items.iter().enumerate() {
        let path = format!("input[{i}]");
        let item: WireItem =
            serde_json::from_str(raw.get()).map_err(|e| FieldError::from_serde(&path, &e))?;
        let kind = item.kind.as_deref().unwrap_or("message");
        match kind {
            "message" => message(item, &path, c, note)?,
            "function_call" => {
                let call_id = required(item.call_id, &path, "call_id")?;
                let name = required(item.name, &path, "name")?;
                let args = item.arguments.unwrap_or_default();
                push(c, Role::Assistant, tool_use(call_id, name, &args));
            }
            "function_call_output" => {
                let call_id = required(item.call_id, &path, "call_id")?;
                let output = item.output.ok_or_else(|| missing(&path, "output"))?;
                let content = parts(output, &format!("{path}.output"), note)?;
                c.messages.push(Turn {
                    role: Role::Tool,
                    content: vec![Block::ToolResult {
                        tool_use_id: call_id,
                        content,
                        is_error: false,
                        cache_control: None,
                    }],
                });
            }
            "reasoning" => push(c, Role::Assistant, reasoning(item)),
            "item_reference" => {
                return Err(FieldError::new(
                    format!("{path}.type"),
                    format!(
                        "`{path}` is an item_reference; send the item itself, or continue the conversation with `previous_response_id`."
                    ),
                ));
            }
            other => {
                return Err(FieldError::new(
                    format!("{path}.type"),
                    format!(
                        "`{path}.type` {other:?} is not an input item type this gateway reads: use message, function_call, function_call_output or reasoning."
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every `function_call_output` must answer a `function_call` made before it.
pub fn check_call_ids(c: &ChatRequest) -> Result<(), FieldError> {
    let mut calls: Vec<&str> = Vec::new();
    for (i, turn) in c.messages.iter().enumerate() {
        for block in &turn.content {
            match block {
                Block::ToolUse { id, .. } => calls.push(id),
                Block::ToolResult { tool_use_id, .. } if !calls.contains(&tool_use_id.as_str()) => {
                    return Err(FieldError::new(
                        "input",
                        format!(
                            "A function_call_output (turn {i}) names call_id {tool_use_id:?}, which no function_call in the conversation made; send the call's own call_id."
                        ),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn message(
    item: WireItem<'_>,
    path: &str,
    c: &mut ChatRequest,
    note: &mut impl FnMut(FieldError),
) -> Result<(), FieldError> {
    let role = item.role.as_deref().ok_or_else(|| missing(path, "role"))?;
    let content = item.content.ok_or_else(|| missing(path, "content"))?;
    let blocks = parts(content, &format!("{path}.content"), note)?;
    match role {
        "user" => c.messages.push(Turn {
            role: Role::User,
            content: blocks,
        }),
        "assistant" => push(c, Role::Assistant, blocks),
        "system" | "developer" => c.system.extend(blocks),
        other => {
            return Err(FieldError::new(
                format!("{path}.role"),
                format!(
                    "`{path}.role` {other:?} is not one of user, assistant, system, developer."
                ),
            ));
        }
    }
    Ok(())
}

/// Appends blocks to the last turn if it has `role`, else as a new turn.
fn push(c: &mut ChatRequest, role: Role, blocks: Vec<Block>) {
    match c.messages.last_mut() {
        Some(t) if t.role == role && role == Role::Assistant => t.content.extend(blocks),
        _ => c.messages.push(Turn {
            role,
            content: blocks,
        }),
    }
}

fn tool_use(id: String, name: String, arguments: &str) -> Vec<Block> {
    let text = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let input =
        RawValue::from_string(text.to_string()).or_else(|_| serde_json::value::to_raw_value(text));
    match input {
        Ok(input) => vec![Block::ToolUse {
            id,
            name,
            input,
            cache_control: None,
        }],
        Err(_) => Vec::new(),
    }
}

fn reasoning(item: WireItem<'_>) -> Vec<Block> {
    let text: String = item
        .summary
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.text)
        .collect::<Vec<_>>()
        .join("\n\n");
    // Only a signature Switchyard minted travels to another provider: OpenAI's own encrypted
    // reasoning would be refused by Anthropic as a bad signature.
    let signature = item
        .encrypted_content
        .and_then(|e| e.strip_prefix(SIGNATURE_PREFIX).map(str::to_string));
    if text.is_empty() && signature.is_none() {
        return Vec::new();
    }
    vec![Block::Thinking { text, signature }]
}

/// A message's or tool output's content: a string, or parts.
fn parts(
    raw: &RawValue,
    path: &str,
    note: &mut impl FnMut(FieldError),
) -> Result<Vec<Block>, FieldError> {
    let content: WireContent =
        serde_json::from_str(raw.get()).map_err(|e| FieldError::from_serde(path, &e))?;
    let list = match content {
        WireContent::Text(t) => return Ok(vec![Block::text(t)]),
        WireContent::Parts(p) => p,
    };
    let mut out = Vec::with_capacity(list.len());
    for (j, p) in list.into_iter().enumerate() {
        let at = format!("{path}[{j}]");
        match p.kind.as_ref() {
            "input_text" | "output_text" | "summary_text" | "text" => {
                out.push(Block::text(p.text.ok_or_else(|| missing(&at, "text"))?));
            }
            "refusal" => out.push(Block::text(p.refusal.unwrap_or_default())),
            "input_image" => match p.image_url {
                Some(url) => out.push(Block::Image {
                    source: image_source(&url, &format!("{at}.image_url"))?,
                    cache_control: None,
                }),
                None => note(FieldError::new(
                    format!("{at}.file_id"),
                    format!(
                        "`{at}` names an image by file id, which only OpenAI's Responses API resolves; send `image_url`."
                    ),
                )),
            },
            "input_file" | "input_audio" => note(FieldError::new(
                format!("{at}.type"),
                format!(
                    "`{at}` is an {} part, which only a target speaking the Responses API reads.",
                    p.kind
                ),
            )),
            other => {
                return Err(FieldError::new(
                    format!("{at}.type"),
                    format!(
                        "`{at}.type` {other:?} is not a content part type: use input_text, input_image or input_file."
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// An `http(s)` URL as is, or a `data:<media type>;base64,<data>` URL split into its parts.
fn image_source(url: &str, path: &str) -> Result<ImageSource, FieldError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(ImageSource::Url(url.to_string()));
    };
    match rest.split_once(',') {
        Some((meta, data)) if meta.ends_with(";base64") => Ok(ImageSource::Base64 {
            media_type: meta.trim_end_matches(";base64").to_string(),
            data: data.to_string(),
        }),
        _ => Err(FieldError::new(
            path,
            format!(
                "`{path}`: a data URL must be base64-encoded: data:<media type>;base64,<data>."
            ),
        )),
    }
}

fn required(v: Option<String>, path: &str, field: &str) -> Result<String, FieldError> {
    v.ok_or_else(|| missing(path, field))
}

fn missing(path: &str, field: &str) -> FieldError {
    FieldError::new(
        format!("{path}.{field}"),
        format!("`{path}.{field}` is required."),
    )
}
