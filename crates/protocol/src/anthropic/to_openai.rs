//! Canonical request → OpenAI Chat Completions request body, for Anthropic-dialect clients
//! (see [`super::ingress`]) whose route is served by an OpenAI-dialect upstream.
//!
//! What OpenAI cannot carry is dropped and named in [`OpenAiBody::dropped`], so the gateway
//! can record it: Anthropic-only parameters (`top_k`, `thinking`, …), prompt-cache
//! breakpoints (OpenAI caches on its own), earlier turns' thinking, and images inside tool
//! results (OpenAI tool messages take text only).

use super::Extra;
use crate::canonical::{Block, ChatRequest, ImageSource, ResponseFormat, Role, ToolChoice, Turn};
use serde_json::value::RawValue;
use std::borrow::Cow;
use wire::{
    Body, Choice, Content, Format, Function, FunctionCall, ImageUrl, JsonSchema, Message, Named,
    Part, StreamOptions, Tool, ToolCall,
};

mod wire;

/// Top-level parameters Anthropic defines that have no OpenAI equivalent: dropped, and
/// reported by name. Other `extra` members are passed through, so clients can still reach
/// the upstream's own parameters.
pub const ANTHROPIC_ONLY: &[&str] = &[
    "top_k",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
    "output_config",
];

/// Members this body writes itself; `extra` members with these names are dropped so the
/// body never has duplicate keys.
const OWN_FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "stream",
    "stream_options",
    "user",
    "response_format",
];

/// An OpenAI request body and what could not be carried over.
#[derive(Debug)]
pub struct OpenAiBody {
    pub json: Vec<u8>,
    /// Names of dropped features, sorted and de-duplicated (e.g. `"top_k"`, `"cache_control"`).
    pub dropped: Vec<String>,
}

/// Writes `req` as an OpenAI Chat Completions body.
pub fn openai_request(req: &ChatRequest) -> OpenAiBody {
    let mut dropped = Dropped::default();
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = system_message(&req.system, &mut dropped) {
        messages.push(system);
    }
    for turn in &req.messages {
        turn_messages(turn, &mut messages, &mut dropped);
    }
    let has_tools = !req.tools.is_empty();
    let body = Body {
        model: &req.model,
        messages,
        tools: req.tools.iter().map(|t| tool(t, &mut dropped)).collect(),
        // OpenAI rejects `tool_choice` and `parallel_tool_calls` without tools.
        tool_choice: req.tool_choice.as_ref().filter(|_| has_tools).map(choice),
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| has_tools),
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop: req.stop.iter().map(String::as_str).collect(),
        stream: req.stream,
        stream_options: req.stream.then_some(StreamOptions {
            include_usage: true,
        }),
        user: req.metadata_user.as_deref(),
        response_format: format(&req.response_format),
        extra: extra(&req.extra, &mut dropped),
    };
    // Plain structs, strings and already-valid raw JSON: serialising into a Vec cannot fail.
    let json = serde_json::to_vec(&body).unwrap_or_default();
    OpenAiBody {
        json,
        dropped: dropped.0,
    }
}

/// Sorted, de-duplicated names of dropped features.
#[derive(Default)]
struct Dropped(Vec<String>);

impl Dropped {
    fn add(&mut self, name: &str) {
        if let Err(i) = self.0.binary_search_by(|n| n.as_str().cmp(name)) {
            self.0.insert(i, name.to_string());
        }
    }

    fn cache(&mut self, has_breakpoint: bool) {
        if has_breakpoint {
            self.add("cache_control");
        }
    }
}

fn extra<'a>(members: &'a [(String, Box<RawValue>)], dropped: &mut Dropped) -> Extra<'a> {
    let mut kept = Vec::new();
    for (k, v) in members {
        if ANTHROPIC_ONLY.contains(&k.as_str()) {
            dropped.add(k);
        } else if !OWN_FIELDS.contains(&k.as_str()) {
            kept.push((k.as_str(), v.as_ref()));
        }
    }
    Extra(kept)
}

fn system_message<'a>(blocks: &'a [Block], dropped: &mut Dropped) -> Option<Message<'a>> {
    let parts: Vec<Part<'a>> = blocks
        .iter()
        .filter_map(|b| user_part(b, dropped))
        .collect();
    content(parts).map(|c| Message {
        role: "system",
        content: Some(c),
        tool_calls: Vec::new(),
        tool_call_id: None,
    })
}

/// One part as text or parts: a single text part becomes a plain string, the form every
/// OpenAI-compatible server accepts.
fn content(mut parts: Vec<Part<'_>>) -> Option<Content<'_>> {
    match parts.as_slice() {
        [] => None,
        [Part::Text { text }] => Some(Content::Text(Cow::Borrowed(text))),
        _ => Some(Content::Parts(std::mem::take(&mut parts))),
    }
}

/// A text or image block as a content part; other blocks are not user content.
fn user_part<'a>(b: &'a Block, dropped: &mut Dropped) -> Option<Part<'a>> {
    match b {
        Block::Text {
            text,
            cache_control,
        } => {
            dropped.cache(cache_control.is_some());
            Some(Part::Text { text })
        }
        Block::Image {
            source,
            cache_control,
        } => {
            dropped.cache(cache_control.is_some());
            Some(Part::ImageUrl {
                image_url: ImageUrl {
                    url: image_url(source),
                },
            })
        }
        _ => None,
    }
}

/// A URL as is; base64 data as a `data:` URL.
fn image_url(source: &ImageSource) -> Cow<'_, str> {
    match source {
        ImageSource::Url(url) => Cow::Borrowed(url),
        ImageSource::Base64 { media_type, data } => {
            Cow::Owned(format!("data:{media_type};base64,{data}"))
        }
    }
}

fn turn_messages<'a>(turn: &'a Turn, out: &mut Vec<Message<'a>>, dropped: &mut Dropped) {
    match turn.role {
        Role::User => {
            let parts = turn
                .content
                .iter()
                .filter_map(|b| user_part(b, dropped))
                .collect();
            // An empty user turn still speaks: OpenAI accepts "" where Anthropic did.
            let content = content(parts).unwrap_or(Content::Text(Cow::Borrowed("")));
            out.push(Message {
                role: "user",
                content: Some(content),
                tool_calls: Vec::new(),
                tool_call_id: None,
            });
        }
        Role::Assistant => out.push(assistant_message(&turn.content, dropped)),
        Role::Tool => {
            for b in &turn.content {
                if let Some(m) = tool_message(b, dropped) {
                    out.push(m);
                }
            }
        }
    }
}

/// Text joined into `content`, tool uses as `tool_calls`; thinking has no OpenAI request
/// field and is dropped.
fn assistant_message<'a>(blocks: &'a [Block], dropped: &mut Dropped) -> Message<'a> {
    let mut text: Option<Cow<'a, str>> = None;
    let mut tool_calls = Vec::new();
    for b in blocks {
        match b {
            Block::Text {
                text: t,
                cache_control,
            } => {
                dropped.cache(cache_control.is_some());
                text = Some(match text.take() {
                    None => Cow::Borrowed(t.as_str()),
                    Some(prev) => Cow::Owned(prev.into_owned() + t),
                });
            }
            Block::ToolUse {
                id,
                name,
                input,
                cache_control,
            } => {
                dropped.cache(cache_control.is_some());
                tool_calls.push(ToolCall {
                    id,
                    kind: "function",
                    function: FunctionCall {
                        name,
                        arguments: input.get(),
                    },
                });
            }
            Block::Thinking { .. } | Block::RedactedThinking { .. } => {
                dropped.add("thinking_history");
            }
            Block::Image { .. } | Block::ToolResult { .. } => {}
        }
    }
    if text.is_none() && tool_calls.is_empty() {
        text = Some(Cow::Borrowed(""));
    }
    Message {
        role: "assistant",
        content: text.map(Content::Text),
        tool_calls,
        tool_call_id: None,
    }
}

/// A tool result as a `tool` message of its text. OpenAI has no error flag, so an error
/// result's text is prefixed with `Error: `, which models read as intended.
fn tool_message<'a>(b: &'a Block, dropped: &mut Dropped) -> Option<Message<'a>> {
    let Block::ToolResult {
        tool_use_id,
        content,
        is_error,
        cache_control,
    } = b
    else {
        return None;
    };
    dropped.cache(cache_control.is_some());
    let mut text = String::new();
    if *is_error {
        text.push_str("Error: ");
    }
    for (i, t) in content.iter().enumerate() {
        match t {
            Block::Text {
                text: t,
                cache_control,
            } => {
                dropped.cache(cache_control.is_some());
                if i > 0 {
                    text.push('\n');
                }
                text.push_str(t);
            }
            _ => dropped.add("tool_result_image"),
        }
    }
    Some(Message {
        role: "tool",
        content: Some(Content::Text(Cow::Owned(text))),
        tool_calls: Vec::new(),
        tool_call_id: Some(tool_use_id),
    })
}

fn tool<'a>(t: &'a crate::canonical::ToolDef, dropped: &mut Dropped) -> Tool<'a> {
    dropped.cache(t.cache_control.is_some());
    Tool {
        kind: "function",
        function: Function {
            name: &t.name,
            description: t.description.as_deref(),
            parameters: t.parameters.as_deref(),
        },
    }
}

fn choice(c: &ToolChoice) -> Choice<'_> {
    match c {
        ToolChoice::Auto => Choice::Mode("auto"),
        ToolChoice::Any => Choice::Mode("required"),
        ToolChoice::None => Choice::Mode("none"),
        ToolChoice::Tool(name) => Choice::Named {
            kind: "function",
            function: Named { name },
        },
    }
}

fn format(f: &ResponseFormat) -> Option<Format<'_>> {
    match f {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(Format::JsonObject),
        ResponseFormat::JsonSchema { name, schema } => Some(Format::JsonSchema {
            json_schema: JsonSchema {
                name,
                schema: schema.as_deref(),
            },
        }),
    }
}

#[cfg(test)]
#[path = "to_openai_tests.rs"]
mod tests;
