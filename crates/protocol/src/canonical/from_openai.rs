//! OpenAI Chat Completions view → canonical request, for routes whose upstream speaks another
//! dialect. Anything the canonical form cannot carry faithfully is refused with a
//! [`FieldError`] naming the field, so the client gets a 400 rather than a silently different
//! answer. Pure hints with no effect on the output shape (`seed`, `store`, `service_tier`,
//! `metadata`, `prompt_cache_key`, `verbosity`) are dropped, as is a message's `name`.
//! System and developer messages are hoisted into `system` wherever they appear, since the
//! canonical form (like Anthropic's) has one system prompt.
//!
//! It reads the one wire model of the request: the borrowed view in [`crate::openai`], its
//! parsed messages and content parts, and the member types the view validates with (tools,
//! tool choice, response format, tool calls, image URLs, cache control, stop); it defines no
//! OpenAI wire type of its own.

use super::{Block, CacheControl, ChatRequest, ResponseFormat, Role, ToolChoice, ToolDef, Turn};
use crate::FieldError;
use crate::openai::{self, Content};
use serde_json::value::RawValue;
use std::borrow::Cow;

mod parts;

/// Top-level members this conversion reads or deliberately drops; any other member the OpenAI
/// specification defines is refused by [`refuse_unsupported`], and members outside it go to
/// `extra`.
const HANDLED: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "stream",
    "stream_options",
    "user",
    "safety_identifier",
    "seed",
    "store",
    "service_tier",
    "metadata",
    "prompt_cache_key",
    "verbosity",
];

/// Defined by OpenAI but not translatable; checked by [`refuse_unsupported`].
const REFUSABLE: &[&str] = &[
    "n",
    "logprobs",
    "top_logprobs",
    "audio",
    "modalities",
    "prediction",
    "functions",
    "function_call",
    "logit_bias",
    "presence_penalty",
    "frequency_penalty",
    "web_search_options",
    "reasoning_effort",
];

impl TryFrom<&openai::ChatRequest<'_>> for ChatRequest {
    type Error = FieldError;

    fn try_from(req: &openai::ChatRequest<'_>) -> Result<Self, FieldError> {
        ChatRequest::from_openai(req, &[]).map(|(c, _)| c)
    }
}

impl ChatRequest {
    /// The OpenAI request as canonical types. Features another dialect cannot honour are
    /// refused with an error naming them — except those listed in `allow_drop` (a route's
    /// opt-in; `"*"` allows all), which are dropped and returned, so the caller can say so.
    pub fn from_openai(
        req: &openai::ChatRequest<'_>,
        allow_drop: &[String],
    ) -> Result<(Self, Vec<String>), FieldError> {
        let raw = req.raw();
        let mut dropped = Vec::new();
        refuse_unsupported(raw, allow_drop, &mut dropped)?;
        let (system, messages) = convert_messages(req)?;
        let user = raw.decode::<String>("user")?;
        let metadata_user = match user {
            Some(u) => Some(u),
            None => raw.decode::<String>("safety_identifier")?,
        };
        let canonical = ChatRequest {
            model: req.model.to_string(),
            system,
            messages,
            tools: convert_tools(raw)?,
            tool_choice: convert_tool_choice(raw)?,
            parallel_tool_calls: raw.decode("parallel_tool_calls")?,
            max_tokens: req.max_output_tokens,
            temperature: raw.decode("temperature")?,
            top_p: raw.decode("top_p")?,
            stop: convert_stop(raw)?,
            stream: req.stream,
            response_format: convert_response_format(raw)?,
            metadata_user,
            // Refused on translation (`checks`): OpenAI targets get the body itself.
            reasoning_effort: None,
            extra: raw
                .iter()
                .filter(|(k, _)| !HANDLED.contains(k) && !REFUSABLE.contains(k))
                .map(|(k, v)| (k.to_string(), v.to_owned()))
                .collect(),
        };
        Ok((canonical, dropped))
    }
}

fn unsupported(param: &str, what: &str) -> FieldError {
    FieldError::new(
        param,
        format!(
            "`{param}`: {what} is not supported on this route, whose provider speaks another dialect; remove it, choose another route, or let the route drop it (`allow_drop = [\"{param}\"]`)."
        ),
    )
}

/// Refuses OpenAI features that would change the answer's shape or content if dropped, unless
/// `allow_drop` names them (or is `"*"`): those are recorded in `dropped` instead.
/// Default values (`n: 1`, `logprobs: false`, zero penalties, empty `logit_bias`) are accepted.
fn refuse_unsupported(
    raw: &openai::RawObject<'_>,
    allow_drop: &[String],
    dropped: &mut Vec<String>,
) -> Result<(), FieldError> {
    let mut gate = |used: bool, key: &str, what: &str| -> Result<(), FieldError> {
        if !used {
            Ok(())
        } else if allow_drop.iter().any(|a| a == key || a == "*") {
            dropped.push(key.to_string());
            Ok(())
        } else {
            Err(unsupported(key, what))
        }
    };
    gate(
        raw.decode::<u64>("n")?.is_some_and(|n| n > 1),
        "n",
        "more than one choice (`n` > 1)",
    )?;
    gate(
        raw.decode::<bool>("logprobs")? == Some(true),
        "logprobs",
        "token log probabilities",
    )?;
    gate(
        raw.decode::<u64>("top_logprobs")?.is_some_and(|n| n > 0),
        "top_logprobs",
        "token log probabilities",
    )?;
    gate(raw.get("audio").is_some(), "audio", "audio output")?;
    let modalities: Option<Vec<Cow<str>>> = raw.decode("modalities")?;
    gate(
        modalities.is_some_and(|m| m.iter().any(|m| m != "text")),
        "modalities",
        "non-text output",
    )?;
    for key in ["presence_penalty", "frequency_penalty"] {
        gate(
            raw.decode::<f64>(key)?.is_some_and(|p| p != 0.0),
            key,
            "a non-zero penalty",
        )?;
    }
    let bias: Option<std::collections::BTreeMap<Cow<str>, f64>> = raw.decode("logit_bias")?;
    gate(
        bias.is_some_and(|b| !b.is_empty()),
        "logit_bias",
        "token biasing",
    )?;
    let refused = [
        ("prediction", "predicted output"),
        ("functions", "the legacy `functions` API (use `tools`)"),
        (
            "function_call",
            "the legacy `function_call` API (use `tool_choice`)",
        ),
        ("web_search_options", "OpenAI's built-in web search"),
        (
            "reasoning_effort",
            "`reasoning_effort` (pass the provider's own parameter, e.g. Anthropic's `thinking`)",
        ),
    ];
    for (key, what) in refused {
        gate(raw.get(key).is_some(), key, what)?;
    }
    Ok(())
}

type Conversation = (Vec<Block>, Vec<Turn>);

fn convert_messages(req: &openai::ChatRequest<'_>) -> Result<Conversation, FieldError> {
    let mut system = Vec::new();
    let mut turns = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        let content = match &m.content {
            None => Vec::new(),
            Some(Content::Text(t)) => vec![Block::text(t.as_ref())],
            Some(Content::Parts(ps)) => parts::blocks(ps, i)?,
        };
        match m.role {
            openai::Role::System | openai::Role::Developer => {
                only_text(&content, i)?;
                system.extend(content);
            }
            openai::Role::User => turns.push(Turn {
                role: Role::User,
                content,
            }),
            openai::Role::Assistant => {
                let mut content = content;
                if let Some(calls) = m.tool_calls {
                    content.extend(tool_calls(calls, i)?);
                }
                turns.push(Turn {
                    role: Role::Assistant,
                    content,
                });
            }
            openai::Role::Tool => turns.push(tool_result(m, content)),
            openai::Role::Function => {
                return Err(unsupported(
                    &format!("messages[{i}].role"),
                    "the legacy \"function\" role (use \"tool\")",
                ));
            }
        }
    }
    Ok((system, turns))
}

fn only_text(content: &[Block], i: usize) -> Result<(), FieldError> {
    match content
        .iter()
        .position(|b| !matches!(b, Block::Text { .. }))
    {
        None => Ok(()),
        Some(j) => Err(FieldError::new(
            format!("messages[{i}].content[{j}]"),
            format!("`messages[{i}].content[{j}]`: system and developer messages take text only."),
        )),
    }
}

fn tool_result(m: &openai::Message<'_>, content: Vec<Block>) -> Turn {
    Turn {
        role: Role::Tool,
        content: vec![Block::ToolResult {
            tool_use_id: m.tool_call_id.as_deref().unwrap_or_default().to_string(),
            content,
            is_error: false,
            cache_control: None,
        }],
    }
}

fn tool_calls(raw: &RawValue, i: usize) -> Result<Vec<Block>, FieldError> {
    let path = format!("messages[{i}].tool_calls");
    let calls: Vec<openai::ToolCall> =
        serde_json::from_str(raw.get()).map_err(|e| FieldError::from_serde(&path, &e))?;
    let mut blocks = Vec::with_capacity(calls.len());
    for (k, call) in calls.into_iter().enumerate() {
        let Some(function) = call.function.filter(|_| call.kind == "function") else {
            return Err(unsupported(
                &format!("{path}[{k}].type"),
                "a tool call that is not a function call",
            ));
        };
        blocks.push(Block::ToolUse {
            input: parse_arguments(&function.arguments, &format!("{path}[{k}]"))?,
            id: call.id.into_owned(),
            name: function.name.into_owned(),
            cache_control: None,
        });
    }
    Ok(blocks)
}

/// Parses a tool call's `arguments` string; an empty string means "no arguments" (`{}`).
fn parse_arguments(args: &str, call_path: &str) -> Result<Box<RawValue>, FieldError> {
    let args = if args.trim().is_empty() { "{}" } else { args };
    serde_json::from_str::<Box<RawValue>>(args).map_err(|e| {
        let param = format!("{call_path}.function.arguments");
        FieldError::new(
            param.clone(),
            format!("`{param}` must be a JSON string holding a JSON object: {e}."),
        )
    })
}

fn convert_tools(raw: &openai::RawObject<'_>) -> Result<Vec<ToolDef>, FieldError> {
    let tools: Vec<openai::Tool> = raw.decode("tools")?.unwrap_or_default();
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.into_iter().enumerate() {
        let Some(f) = t.function.filter(|_| t.kind == "function") else {
            return Err(unsupported(
                &format!("tools[{i}].type"),
                &format!("a tool of type {:?}", t.kind),
            ));
        };
        out.push(ToolDef {
            name: f.name.into_owned(),
            description: f.description.map(Cow::into_owned),
            parameters: f.parameters.map(RawValue::to_owned),
            cache_control: t.cache_control.map(CacheControl::from),
        });
    }
    Ok(out)
}

fn convert_tool_choice(raw: &openai::RawObject<'_>) -> Result<Option<ToolChoice>, FieldError> {
    let Some(choice) = raw.decode::<openai::ToolChoice>("tool_choice")? else {
        return Ok(None);
    };
    let choice = match choice {
        openai::ToolChoice::Mode(m) if m == "auto" => ToolChoice::Auto,
        openai::ToolChoice::Mode(m) if m == "required" => ToolChoice::Any,
        openai::ToolChoice::Mode(m) if m == "none" => ToolChoice::None,
        openai::ToolChoice::Object {
            kind: Some(kind),
            function: Some(openai::NamedFunction { name: Some(name) }),
        } if kind == "function" => ToolChoice::Tool(name.into_owned()),
        _ => return Err(unsupported("tool_choice", "this `tool_choice`")),
    };
    Ok(Some(choice))
}

fn convert_stop(raw: &openai::RawObject<'_>) -> Result<Vec<String>, FieldError> {
    Ok(match openai::stop(raw)? {
        None => Vec::new(),
        Some(openai::Stop::One(s)) => vec![s.into_owned()],
        Some(openai::Stop::Many(v)) => v.into_iter().map(Cow::into_owned).collect(),
    })
}

fn convert_response_format(raw: &openai::RawObject<'_>) -> Result<ResponseFormat, FieldError> {
    let Some(rf) = raw.decode::<openai::ResponseFormat>("response_format")? else {
        return Ok(ResponseFormat::Text);
    };
    // The view has already checked the type and that json_schema carries a name.
    Ok(match (rf.kind.as_ref(), rf.json_schema) {
        ("json_object", _) => ResponseFormat::JsonObject,
        ("json_schema", Some(s)) => ResponseFormat::JsonSchema {
            name: s.name.into_owned(),
            schema: s.schema.map(RawValue::to_owned),
        },
        _ => ResponseFormat::Text,
    })
}

#[cfg(test)]
#[path = "from_openai_tests.rs"]
mod tests;
