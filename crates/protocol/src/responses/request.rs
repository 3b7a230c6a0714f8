//! A Responses request: its raw members kept for the passthrough, its canonical form built for
//! translation, and every field Switchyard reads validated with an error naming its path.
//!
//! What a chat-dialect target cannot carry (a built-in tool such as `web_search`, a file part,
//! `background`) does not fail the parse: it is kept as [`Request::untranslatable`], because a
//! target that speaks Responses natively takes it as is. A translating target refuses it with
//! that error (a 400 naming the field).

use super::items;
use crate::FieldError;
use crate::canonical::{Block, ChatRequest, ResponseFormat, ToolChoice, ToolDef};
use crate::openai::RawObject;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Members this module reads (or deliberately leaves to the target that stores or echoes
/// them); any other member goes to the canonical `extra`, passed through as is.
const HANDLED: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "text",
    "reasoning",
    "max_output_tokens",
    "temperature",
    "top_p",
    "metadata",
    "store",
    "include",
    "previous_response_id",
    "stream",
    "stream_options",
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "service_tier",
    "truncation",
    "background",
];

/// Defined by OpenAI but with no chat-dialect equivalent: fine for a Responses target,
/// refused by a translating one.
const NATIVE_ONLY: &[&str] = &["conversation", "prompt", "top_logprobs", "max_tool_calls"];

/// The `reasoning` member: only its `effort` reaches the canonical form.
#[derive(serde::Deserialize)]
struct Reasoning {
    #[serde(default)]
    effort: Option<String>,
}

/// A parsed `POST /v1/responses` body.
#[derive(Debug)]
pub struct Request<'a> {
    /// The body's top-level members, in order, for a byte-preserving passthrough.
    pub raw: RawObject<'a>,
    /// The request in canonical types (`system` from `instructions` and system/developer
    /// items, turns from `input`).
    pub canonical: ChatRequest,
    pub store: bool,
    pub background: bool,
    pub previous_response_id: Option<String>,
    /// The first thing a translating target cannot carry, as the error it answers.
    pub untranslatable: Option<FieldError>,
}

#[derive(Deserialize)]
struct WireTool<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireToolChoice<'a> {
    Mode(Cow<'a, str>),
    Named {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
        #[serde(default)]
        name: Option<String>,
    },
}

#[derive(Deserialize)]
struct WireText {
    #[serde(default)]
    format: Option<WireFormat>,
}

#[derive(Deserialize)]
struct WireFormat {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    schema: Option<Box<RawValue>>,
}

/// Parses a Responses body. Errors name the JSON path (`input[2].call_id`).
pub fn parse(body: &[u8]) -> Result<Request<'_>, FieldError> {
    let raw = RawObject::parse(body)?;
    let model: String = raw
        .decode("model")?
        .ok_or_else(|| FieldError::new("model", "`model` is required: name the route to call."))?;
    crate::check_identifier("model", &model)?;
    let mut untranslatable = None;
    let mut note = |e: FieldError| {
        untranslatable.get_or_insert(e);
    };
    let mut canonical = sampling(&raw, model)?;
    input(&raw, &mut canonical, &mut note)?;
    tools(&raw, &mut canonical, &mut note)?;
    canonical.tool_choice = tool_choice(&raw, &mut note)?;
    canonical.response_format = format(&raw)?;
    canonical.reasoning_effort = raw
        .decode::<Option<Reasoning>>("reasoning")?
        .flatten()
        .and_then(|r| r.effort);
    let background = raw.decode("background")?.unwrap_or(false);
    if background {
        note(FieldError::new(
            "background",
            "`background` responses are only served by targets that speak the Responses API; send it without `background` or choose such a route.",
        ));
    }
    for (key, value) in raw.iter() {
        if NATIVE_ONLY.contains(&key) && value.get() != "null" {
            note(native_only(key));
        } else if !HANDLED.contains(&key) && !NATIVE_ONLY.contains(&key) {
            canonical.extra.push((key.to_string(), value.to_owned()));
        }
    }
    check_range(&canonical)?;
    let previous_response_id: Option<String> = raw.decode("previous_response_id")?;
    // With a previous response, the calls being answered are in it: the gateway checks the
    // ids once it has prepended the stored conversation.
    if previous_response_id.is_none() {
        items::check_call_ids(&canonical)?;
    }
    Ok(Request {
        store: raw.decode("store")?.unwrap_or(true),
        previous_response_id,
        background,
        canonical,
        untranslatable,
        raw,
    })
}

/// The canonical request's model, sampling and limits, with `instructions` as its system.
fn sampling(raw: &RawObject<'_>, model: String) -> Result<ChatRequest, FieldError> {
    let mut c = ChatRequest {
        model,
        stream: raw.decode("stream")?.unwrap_or(false),
        max_tokens: raw.decode("max_output_tokens")?,
        temperature: raw.decode("temperature")?,
        top_p: raw.decode("top_p")?,
        parallel_tool_calls: raw.decode("parallel_tool_calls")?,
        metadata_user: raw.decode("user")?,
        ..Default::default()
    };
    if let Some(instructions) = raw.decode::<String>("instructions")? {
        c.system.push(Block::text(instructions));
    }
    Ok(c)
}

/// `input`: a string (one user turn) or an array of items.
fn input(
    raw: &RawObject<'_>,
    c: &mut ChatRequest,
    note: &mut impl FnMut(FieldError),
) -> Result<(), FieldError> {
    let input: &RawValue = raw.decode("input")?.ok_or_else(|| {
        FieldError::new(
            "input",
            "`input` is required: a string or an array of items.",
        )
    })?;
    if input.get().starts_with('"') {
        let text =
            serde_json::from_str(input.get()).map_err(|e| FieldError::from_serde("input", &e))?;
        c.messages.push(items::user_text(text));
        return Ok(());
    }
    let list: Vec<&RawValue> = serde_json::from_str(input.get())
        .map_err(|_| FieldError::new("input", "`input` must be a string or an array of items."))?;
    items::convert(&list, c, note)
}

fn native_only(key: &str) -> FieldError {
    FieldError::new(
        key,
        format!(
            "`{key}` is only served by targets that speak the Responses API natively; remove it or choose such a route."
        ),
    )
}

fn check_range(c: &ChatRequest) -> Result<(), FieldError> {
    if c.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(FieldError::new(
            "temperature",
            "`temperature` must be between 0 and 2.",
        ));
    }
    if c.top_p.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(FieldError::new("top_p", "`top_p` must be between 0 and 1."));
    }
    if c.max_tokens == Some(0) {
        return Err(FieldError::new(
            "max_output_tokens",
            "`max_output_tokens` must be at least 1.",
        ));
    }
    Ok(())
}

/// Function tools become canonical tools; built-in tools (`web_search`, `file_search`, …) are
/// noted as untranslatable, naming the tool.
fn tools(
    raw: &RawObject<'_>,
    c: &mut ChatRequest,
    note: &mut impl FnMut(FieldError),
) -> Result<(), FieldError> {
    let list: Vec<WireTool> = raw.decode("tools")?.unwrap_or_default();
    for (i, t) in list.into_iter().enumerate() {
        let path = format!("tools[{i}]");
        if t.kind != "function" {
            note(FieldError::new(
                format!("{path}.type"),
                format!(
                    "`{path}` is the built-in tool {:?}, which only OpenAI's Responses API runs; remove it or route to an OpenAI target.",
                    t.kind
                ),
            ));
            continue;
        }
        let name = t.name.ok_or_else(|| {
            FieldError::new(
                format!("{path}.name"),
                format!("`{path}.name` is required for a function tool."),
            )
        })?;
        c.tools.push(ToolDef {
            name,
            description: t.description,
            parameters: t.parameters,
            cache_control: None,
        });
    }
    Ok(())
}

/// `tool_choice`; forcing a built-in tool is noted as untranslatable.
fn tool_choice(
    raw: &RawObject<'_>,
    note: &mut impl FnMut(FieldError),
) -> Result<Option<ToolChoice>, FieldError> {
    Ok(match raw.decode::<WireToolChoice>("tool_choice")? {
        None => None,
        Some(WireToolChoice::Mode(m)) => Some(match m.as_ref() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Any,
            other => {
                return Err(FieldError::new(
                    "tool_choice",
                    format!(
                        "`tool_choice` {other:?} is not one of auto, none, required, or an object naming a tool."
                    ),
                ));
            }
        }),
        Some(WireToolChoice::Named { kind, name }) => match (kind.as_ref(), name) {
            ("function", Some(n)) => Some(ToolChoice::Tool(n)),
            ("function", None) => {
                return Err(FieldError::new(
                    "tool_choice.name",
                    "`tool_choice.name` is required for a function.",
                ));
            }
            _ => {
                note(FieldError::new(
                    "tool_choice.type",
                    format!(
                        "`tool_choice` forces the built-in tool {kind:?}, which only OpenAI's Responses API runs."
                    ),
                ));
                None
            }
        },
    })
}

/// `text.format`: text, json_object or json_schema (with its `name` and `schema`).
fn format(raw: &RawObject<'_>) -> Result<ResponseFormat, FieldError> {
    let Some(f) = raw.decode::<WireText>("text")?.and_then(|t| t.format) else {
        return Ok(ResponseFormat::Text);
    };
    match f.kind.as_str() {
        "text" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => Ok(ResponseFormat::JsonSchema {
            name: f.name.ok_or_else(|| {
                FieldError::new(
                    "text.format.name",
                    "`text.format.name` is required for json_schema.",
                )
            })?,
            schema: f.schema,
        }),
        other => Err(FieldError::new(
            "text.format.type",
            format!("`text.format.type` {other:?} is not one of text, json_object, json_schema."),
        )),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
