//! Canonical request → Anthropic Messages request body: where the two dialects' rules differ
//! (required `max_tokens`, temperature range, tool results in user turns, no JSON mode), the
//! choice made is documented on the item that makes it.

use super::request::{
    CacheControl, ContentBlock, DEFAULT_MAX_TOKENS, Extra, ImageSource, Message, MessagesRequest,
    Metadata, OutputConfig, OutputFormat, Tool, ToolChoice,
};
use crate::canonical::{self, Block, ResponseFormat, Role};
use serde_json::value::RawValue;

/// Anthropic accepts `temperature` in 0..=1, OpenAI in 0..=2; higher values are clamped
/// rather than rescaled, so values that are valid for both keep their meaning.
const MAX_TEMPERATURE: f64 = 1.0;

/// Appended to `system` for `response_format: json_object`, which Anthropic has no switch for.
const JSON_OBJECT_INSTRUCTION: &str =
    "Respond with a single valid JSON object and nothing else: no prose, no code fences.";

/// Top-level fields this body writes itself; `extra` members with these names are dropped so
/// the body never has duplicate keys.
const OWN_FIELDS: &[&str] = &[
    "model",
    "max_tokens",
    "system",
    "messages",
    "tools",
    "tool_choice",
    "stop_sequences",
    "temperature",
    "top_p",
    "stream",
    "metadata",
    "output_config",
];

/// `schema`, or an object schema without properties: what a tool declared without
/// parameters (or a nameless JSON schema) means.
fn schema_or_empty(schema: Option<&RawValue>) -> &RawValue {
    const EMPTY: &str = r#"{"type":"object","properties":{}}"#;
    static SCHEMA: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    match schema {
        Some(s) => s,
        // A constant, valid JSON text: `from_string` only checks it.
        None => SCHEMA.get_or_init(|| RawValue::from_string(EMPTY.to_string()).unwrap_or_default()),
    }
}

impl<'a> From<&'a canonical::ChatRequest> for MessagesRequest<'a> {
    fn from(req: &'a canonical::ChatRequest) -> Self {
        let mut system: Vec<ContentBlock<'a>> = req.system.iter().filter_map(block).collect();
        let output_config = match &req.response_format {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => {
                system.push(ContentBlock::Text {
                    text: JSON_OBJECT_INSTRUCTION,
                    cache_control: None,
                });
                None
            }
            ResponseFormat::JsonSchema { schema, .. } => Some(OutputConfig {
                format: OutputFormat::JsonSchema {
                    schema: schema_or_empty(schema.as_deref()),
                },
            }),
        };
        MessagesRequest {
            model: &req.model,
            max_tokens: req
                .max_tokens
                .unwrap_or_else(|| default_max_tokens(&req.extra)),
            system,
            messages: messages(&req.messages),
            tools: req.tools.iter().map(tool).collect(),
            tool_choice: tool_choice(req),
            // Anthropic rejects empty and whitespace-only stop sequences ("\n" is a common
            // OpenAI one); they are dropped, so such an answer may run past where the client
            // wanted it cut.
            stop_sequences: req
                .stop
                .iter()
                .map(String::as_str)
                .filter(|s| !s.trim().is_empty())
                .collect(),
            temperature: req.temperature.map(|t| t.clamp(0.0, MAX_TEMPERATURE)),
            top_p: req.top_p,
            stream: req.stream,
            metadata: req
                .metadata_user
                .as_deref()
                .map(|user_id| Metadata { user_id }),
            output_config,
            extra: Extra(
                req.extra
                    .iter()
                    .filter(|(k, _)| !OWN_FIELDS.contains(&k.as_str()))
                    .map(|(k, v)| (k.as_str(), v.as_ref()))
                    .collect(),
            ),
        }
    }
}

#[derive(serde::Deserialize)]
struct ThinkingBudget {
    #[serde(default)]
    budget_tokens: u64,
}

/// See [`DEFAULT_MAX_TOKENS`].
fn default_max_tokens(extra: &[(String, Box<RawValue>)]) -> u64 {
    let budget = extra
        .iter()
        .find(|(k, _)| k == "thinking")
        .and_then(|(_, v)| serde_json::from_str::<ThinkingBudget>(v.get()).ok())
        .map_or(0, |t| t.budget_tokens);
    DEFAULT_MAX_TOKENS.saturating_add(budget)
}

/// Turns in Anthropic's alternation: tool results travel in user turns, and consecutive turns
/// of the same role are merged (parallel tool results must share one user turn). Turns left
/// with no content are skipped, since Anthropic rejects empty content.
fn messages(turns: &[canonical::Turn]) -> Vec<Message<'_>> {
    let mut out: Vec<Message<'_>> = Vec::with_capacity(turns.len());
    for turn in turns {
        let role = match turn.role {
            Role::User | Role::Tool => "user",
            Role::Assistant => "assistant",
        };
        let content: Vec<ContentBlock<'_>> = turn.content.iter().filter_map(block).collect();
        if content.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => last.content.extend(content),
            _ => out.push(Message { role, content }),
        }
    }
    out
}

/// One block; empty text is dropped because Anthropic rejects empty text blocks (OpenAI
/// clients send `"content": ""` beside tool calls).
fn block(b: &Block) -> Option<ContentBlock<'_>> {
    Some(match b {
        Block::Text {
            text,
            cache_control,
        } if !text.is_empty() => ContentBlock::Text {
            text,
            cache_control: cache_control.as_ref().map(CacheControl::from),
        },
        Block::Text { .. } => return None,
        Block::Image {
            source,
            cache_control,
        } => ContentBlock::Image {
            source: ImageSource::from(source),
            cache_control: cache_control.as_ref().map(CacheControl::from),
        },
        Block::ToolUse {
            id,
            name,
            input,
            cache_control,
        } => ContentBlock::ToolUse {
            id,
            name,
            input,
            cache_control: cache_control.as_ref().map(CacheControl::from),
        },
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
            cache_control,
        } => ContentBlock::ToolResult {
            tool_use_id,
            content: content.iter().filter_map(block).collect(),
            is_error: *is_error,
            cache_control: cache_control.as_ref().map(CacheControl::from),
        },
        Block::Thinking { text, signature } => ContentBlock::Thinking {
            thinking: text,
            signature: signature.as_deref(),
        },
        Block::RedactedThinking { data } => ContentBlock::RedactedThinking { data },
    })
}

impl<'a> From<&'a canonical::ImageSource> for ImageSource<'a> {
    fn from(s: &'a canonical::ImageSource) -> Self {
        match s {
            canonical::ImageSource::Url(url) => ImageSource::Url { url },
            canonical::ImageSource::Base64 { media_type, data } => {
                ImageSource::Base64 { media_type, data }
            }
        }
    }
}

/// Anthropic's only cache type is `ephemeral`; the TTL tells 5-minute from 1-hour entries.
impl<'a> From<&'a canonical::CacheControl> for CacheControl<'a> {
    fn from(c: &'a canonical::CacheControl) -> Self {
        CacheControl {
            kind: "ephemeral",
            ttl: c.ttl.as_deref(),
        }
    }
}

fn tool(t: &canonical::ToolDef) -> Tool<'_> {
    Tool {
        name: &t.name,
        description: t.description.as_deref(),
        input_schema: schema_or_empty(t.parameters.as_deref()),
        cache_control: t.cache_control.as_ref().map(CacheControl::from),
    }
}

/// `tool_choice`, with OpenAI's `parallel_tool_calls: false` folded in as
/// `disable_parallel_tool_use`. Omitted when there are no tools (Anthropic rejects it then).
fn tool_choice(req: &canonical::ChatRequest) -> Option<ToolChoice<'_>> {
    if req.tools.is_empty() {
        return None;
    }
    let serial = req.parallel_tool_calls == Some(false);
    match (&req.tool_choice, serial) {
        (None, false) => None,
        (None | Some(canonical::ToolChoice::Auto), _) => Some(ToolChoice::Auto {
            disable_parallel_tool_use: serial,
        }),
        (Some(canonical::ToolChoice::Any), _) => Some(ToolChoice::Any {
            disable_parallel_tool_use: serial,
        }),
        (Some(canonical::ToolChoice::Tool(name)), _) => Some(ToolChoice::Tool {
            name,
            disable_parallel_tool_use: serial,
        }),
        (Some(canonical::ToolChoice::None), _) => Some(ToolChoice::None),
    }
}

#[cfg(test)]
#[path = "from_canonical_tests.rs"]
mod tests;
