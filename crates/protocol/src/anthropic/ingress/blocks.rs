//! `system` and `messages` of an Anthropic request → canonical blocks and turns.
//!
//! Anthropic carries tool results inside user turns; the canonical form gives each its own
//! [`Role::Tool`] turn, so a user turn is split, in order, into tool-result turns and user
//! turns of the blocks between them.

use super::{required, unsupported};
use crate::FieldError;
use crate::canonical::{Block, CacheControl, ImageSource, Role, Turn};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `{"type":"ephemeral","ttl":"1h"}`; Anthropic has no other cache type.
#[derive(Deserialize)]
pub(super) struct WireCacheControl {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    ttl: Option<String>,
}

impl WireCacheControl {
    /// The canonical form, once `type` is "ephemeral" and `ttl` (if any) "5m" or "1h".
    pub(super) fn checked(self, owner: &str) -> Result<CacheControl, FieldError> {
        let path = format!("{owner}.cache_control");
        if self.kind.as_deref() != Some("ephemeral") {
            return Err(FieldError::new(
                format!("{path}.type"),
                format!("`{path}.type` must be \"ephemeral\"."),
            ));
        }
        if self.ttl.as_deref().is_some_and(|t| t != "5m" && t != "1h") {
            return Err(FieldError::new(
                format!("{path}.ttl"),
                format!("`{path}.ttl` must be \"5m\" or \"1h\"."),
            ));
        }
        Ok(CacheControl { ttl: self.ttl })
    }
}

/// One content block, flat: each block type fills its own fields.
#[derive(Deserialize)]
struct WireBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    text: Option<String>,
    #[serde(borrow, default)]
    source: Option<&'a RawValue>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
    #[serde(default)]
    tool_use_id: Option<String>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(default)]
    is_error: Option<bool>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    cache_control: Option<WireCacheControl>,
}

#[derive(Deserialize)]
struct WireSource<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    content: &'a RawValue,
}

/// Which block types a position accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    System,
    User,
    Assistant,
    ToolResult,
}

/// `system`: a string or an array of text blocks.
pub(super) fn system(raw: Option<&RawValue>) -> Result<Vec<Block>, FieldError> {
    match raw {
        None => Ok(Vec::new()),
        Some(v) => content(v, "system", Place::System),
    }
}

/// `messages`: required, non-empty, user and assistant turns.
pub(super) fn messages(raw: Option<&RawValue>) -> Result<Vec<Turn>, FieldError> {
    let raw = raw.ok_or_else(|| {
        required(
            "messages",
            "give the conversation, e.g. [{\"role\":\"user\",\"content\":\"Hello\"}]",
        )
    })?;
    let items: Vec<&RawValue> =
        serde_json::from_str(raw.get()).map_err(|e| FieldError::from_serde("messages", &e))?;
    if items.is_empty() {
        return Err(FieldError::new(
            "messages",
            "`messages` must hold at least one message.",
        ));
    }
    let mut turns = Vec::with_capacity(items.len());
    let last = items.len() - 1;
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("messages[{i}]");
        let m: WireMessage =
            serde_json::from_str(item.get()).map_err(|e| FieldError::from_serde(&path, &e))?;
        let (role, place) = match m.role.as_ref() {
            "user" => (Role::User, Place::User),
            "assistant" => (Role::Assistant, Place::Assistant),
            other => {
                return Err(FieldError::new(
                    format!("{path}.role"),
                    format!(
                        "`{path}.role` must be \"user\" or \"assistant\", not {other:?}; put system instructions in the top-level `system`."
                    ),
                ));
            }
        };
        let blocks = content(m.content, &format!("{path}.content"), place)?;
        // Anthropic refuses a turn with no content but a final assistant one (a prefill);
        // passing it on would leave the turn out of a translated body, and the upstream's
        // 400 would name a problem the client did not make.
        if blocks.iter().all(is_empty_text) && !(i == last && role == Role::Assistant) {
            return Err(FieldError::new(
                format!("{path}.content"),
                format!(
                    "`{path}.content` must not be empty: every turn but a final assistant one needs text or another content block."
                ),
            ));
        }
        push_split(&mut turns, role, blocks);
    }
    Ok(turns)
}

fn is_empty_text(b: &Block) -> bool {
    matches!(b, Block::Text { text, .. } if text.is_empty())
}

/// Appends a turn's blocks, giving each tool result its own tool turn.
fn push_split(turns: &mut Vec<Turn>, role: Role, blocks: Vec<Block>) {
    let mut run: Vec<Block> = Vec::new();
    let mut had_results = false;
    for b in blocks {
        if matches!(b, Block::ToolResult { .. }) {
            had_results = true;
            if !run.is_empty() {
                turns.push(Turn {
                    role,
                    content: std::mem::take(&mut run),
                });
            }
            turns.push(Turn {
                role: Role::Tool,
                content: vec![b],
            });
        } else {
            run.push(b);
        }
    }
    // An empty turn stays (the upstream body decides what to do with it), but a turn of
    // tool results only leaves no empty user turn behind.
    if !run.is_empty() || !had_results {
        turns.push(Turn { role, content: run });
    }
}

/// A string (one text block) or an array of blocks valid at `place`.
fn content(raw: &RawValue, path: &str, place: Place) -> Result<Vec<Block>, FieldError> {
    if raw.get().starts_with('"') {
        let text: String =
            serde_json::from_str(raw.get()).map_err(|e| FieldError::from_serde(path, &e))?;
        return Ok(vec![Block::text(text)]);
    }
    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|_| {
        FieldError::new(
            path,
            format!("`{path}` must be a string or an array of content blocks."),
        )
    })?;
    items
        .into_iter()
        .enumerate()
        .map(|(j, item)| {
            let p = format!("{path}[{j}]");
            let b: WireBlock =
                serde_json::from_str(item.get()).map_err(|e| FieldError::from_serde(&p, &e))?;
            block(b, &p, place)
        })
        .collect()
}

fn block(b: WireBlock<'_>, path: &str, place: Place) -> Result<Block, FieldError> {
    let allowed = match place {
        Place::System => &["text"][..],
        Place::User => &["text", "image", "tool_result"][..],
        Place::Assistant => &["text", "tool_use", "thinking", "redacted_thinking"][..],
        Place::ToolResult => &["text", "image"][..],
    };
    let kind = b.kind.as_ref();
    if !allowed.contains(&kind) {
        return Err(bad_type(path, kind, allowed));
    }
    let need = |value: Option<String>, name: &str, hint: &str| {
        value.ok_or_else(|| required(&format!("{path}.{name}"), hint))
    };
    let cache_control = b.cache_control.map(|c| c.checked(path)).transpose()?;
    Ok(match kind {
        "text" => Block::Text {
            text: need(b.text, "text", "give the block's text")?,
            cache_control,
        },
        "image" => Block::Image {
            source: image_source(b.source, &format!("{path}.source"))?,
            cache_control,
        },
        "tool_use" => Block::ToolUse {
            id: need(b.id, "id", "give the tool call's id")?,
            name: need(b.name, "name", "name the tool called")?,
            input: tool_input(b.input, path)?,
            cache_control,
        },
        "tool_result" => Block::ToolResult {
            tool_use_id: need(
                b.tool_use_id,
                "tool_use_id",
                "give the id of the tool_use answered",
            )?,
            content: match b.content {
                None => Vec::new(),
                Some(c) => content(c, &format!("{path}.content"), Place::ToolResult)?,
            },
            is_error: b.is_error.unwrap_or(false),
            cache_control,
        },
        "thinking" => Block::Thinking {
            text: need(b.thinking, "thinking", "give the thinking text")?,
            signature: b.signature,
        },
        // Only `redacted_thinking` is left: `allowed` was checked above.
        _ => Block::RedactedThinking {
            data: need(b.data, "data", "give the redacted data")?,
        },
    })
}

/// A `tool_use` block's `input`: required, and a JSON object as Anthropic documents it.
fn tool_input(input: Option<&RawValue>, path: &str) -> Result<Box<RawValue>, FieldError> {
    let param = format!("{path}.input");
    let input = input.ok_or_else(|| required(&param, "give the call's input object"))?;
    if !input.get().starts_with('{') {
        return Err(FieldError::new(
            param.clone(),
            format!("`{param}` must be a JSON object of the tool's arguments, e.g. {{}}."),
        ));
    }
    Ok(input.to_owned())
}

fn bad_type(path: &str, kind: &str, allowed: &[&str]) -> FieldError {
    let param = format!("{path}.type");
    let known = [
        "text",
        "image",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
    ];
    if known.contains(&kind) {
        FieldError::new(
            param.clone(),
            format!("`{param}`: a {kind:?} block is not allowed here; allowed: {allowed:?}."),
        )
    } else {
        unsupported(&param, &format!("a content block of type {kind:?}"))
    }
}

/// The image types Anthropic accepts in a base64 source.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

fn image_source(raw: Option<&RawValue>, path: &str) -> Result<ImageSource, FieldError> {
    let raw = raw.ok_or_else(|| required(path, "give a base64 or url image source"))?;
    let s: WireSource =
        serde_json::from_str(raw.get()).map_err(|e| FieldError::from_serde(path, &e))?;
    match (s.kind.as_ref(), s.media_type, s.data, s.url) {
        ("base64", Some(media_type), Some(_), _) if !IMAGE_TYPES.contains(&media_type.as_str()) => {
            Err(FieldError::new(
                format!("{path}.media_type"),
                format!("`{path}.media_type` must be one of {IMAGE_TYPES:?}."),
            ))
        }
        ("base64", Some(media_type), Some(data), _) => Ok(ImageSource::Base64 { media_type, data }),
        ("base64", ..) => Err(required(
            &format!("{path}.data"),
            "a base64 source takes `media_type` and `data`",
        )),
        ("url", _, _, Some(url)) => Ok(ImageSource::Url(url)),
        ("url", ..) => Err(required(&format!("{path}.url"), "give the image's URL")),
        (other, ..) => Err(unsupported(
            &format!("{path}.type"),
            &format!("an image source of type {other:?} (use \"base64\" or \"url\")"),
        )),
    }
}
