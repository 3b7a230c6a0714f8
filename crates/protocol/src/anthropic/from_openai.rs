//! OpenAI-dialect answers → Anthropic Messages answers, for Anthropic clients served by an
//! OpenAI-dialect upstream: [`parse_openai_response`] and [`messages_response`] for a
//! `chat.completion` body (through the canonical [`ChatResponse`]), and [`ToAnthropic`] for
//! a stream of `chat.completion.chunk`s (the hub's OpenAI reader and Anthropic renderer).

use super::ContentBlock;
use super::from_events::FrameWriter;
use crate::FieldError;
use crate::canonical::translate::Translator;
use crate::canonical::{Block, ChatResponse, StopReason};
use crate::openai::Usage;
use crate::openai::to_events::ToEvents;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchyard_primitives::TokenUsage;

pub(crate) mod events;

/// An OpenAI-dialect upstream's `chat.completion.chunk` stream → Anthropic Messages events, in
/// one pass through canonical events: the OpenAI reader (`openai::to_events`) joined to the
/// Anthropic renderer (`anthropic::from_events`). Feed it each SSE event's `data` (including
/// `[DONE]`) with `push_data` and forward the frames it returns at once; call `finish` when
/// the upstream ends without `[DONE]`.
pub type ToAnthropic = Translator<ToEvents, FrameWriter>;

impl ToAnthropic {
    /// Reports `model` as the model name, or the upstream's when `None`.
    pub fn new(model: Option<String>) -> Self {
        Translator::join(ToEvents::new(), FrameWriter::new(model))
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: String,
    #[serde(default)]
    arguments: String,
}

/// Parses an OpenAI `chat.completion` body (its first choice) into the canonical answer.
pub fn parse_openai_response(body: &[u8]) -> Result<ChatResponse, FieldError> {
    let c: Completion = serde_json::from_slice(body).map_err(|e| {
        FieldError::body(format!(
            "The upstream's OpenAI response is not a valid chat completion: {e}."
        ))
    })?;
    let choice = c.choices.into_iter().next();
    let (message, finish) = match choice {
        Some(ch) => (ch.message, ch.finish_reason),
        None => (None, None),
    };
    Ok(ChatResponse {
        id: c.id,
        model: c.model,
        content: message.map(blocks).unwrap_or_default(),
        stop_reason: finish
            .as_deref()
            .map_or(StopReason::EndTurn, StopReason::from_openai),
        usage: c.usage.as_ref().map(Usage::to_tokens).unwrap_or_default(),
    })
}

/// Reasoning first, then text (a refusal is what the model said), then tool calls: the
/// order Anthropic answers in.
fn blocks(m: WireMessage) -> Vec<Block> {
    let mut out = Vec::new();
    if let Some(r) = m.reasoning_content.filter(|r| !r.is_empty()) {
        out.push(Block::Thinking {
            text: r,
            signature: None,
        });
    }
    for text in [m.content, m.refusal].into_iter().flatten() {
        if !text.is_empty() {
            out.push(Block::text(text));
        }
    }
    for call in m.tool_calls.into_iter().flatten() {
        out.push(Block::ToolUse {
            input: tool_input(&call.function.arguments),
            id: call.id,
            name: call.function.name,
            cache_control: None,
        });
    }
    out
}

/// A tool call's `arguments` string as the `input` JSON: empty means `{}`; text that is not
/// JSON (a model's malformed output) is kept as a JSON string rather than lost.
pub(crate) fn tool_input(arguments: &str) -> Box<RawValue> {
    let text = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    serde_json::from_str::<Box<RawValue>>(text)
        .or_else(|_| serde_json::value::to_raw_value(arguments))
        .unwrap_or_default()
}

/// Anthropic's `usage`: `input_tokens` excludes cache reads and writes; `output_tokens`
/// includes reasoning, which Anthropic does not split out.
#[derive(Debug, Serialize)]
pub(crate) struct AnthropicUsage {
    pub(crate) input_tokens: u64,
    pub(crate) cache_creation_input_tokens: u64,
    pub(crate) cache_read_input_tokens: u64,
    pub(crate) output_tokens: u64,
    /// The reasoning share of `output_tokens`, written only when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_tokens_details: Option<ThinkingDetails>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ThinkingDetails {
    pub(crate) thinking_tokens: u64,
}

impl From<&TokenUsage> for AnthropicUsage {
    fn from(u: &TokenUsage) -> Self {
        AnthropicUsage {
            input_tokens: u.input,
            cache_creation_input_tokens: u.cache_write,
            cache_read_input_tokens: u.cached_input,
            output_tokens: u.completion_total(),
            output_tokens_details: (u.reasoning > 0).then_some(ThinkingDetails {
                thinking_tokens: u.reasoning,
            }),
        }
    }
}

/// An Anthropic message id for an upstream's completion id (`chatcmpl-x` → `msg_x`; an id
/// that already is a message id, from an Anthropic upstream, stays as it is).
pub(crate) fn message_id(upstream: &str) -> String {
    if upstream.starts_with("msg_") {
        return upstream.to_string();
    }
    let core = upstream.strip_prefix("chatcmpl-").unwrap_or(upstream);
    format!("msg_{core}")
}

#[derive(Serialize)]
struct Message<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<ContentBlock<'a>>,
    stop_reason: &'a str,
    stop_sequence: Option<&'a str>,
    usage: AnthropicUsage,
}

/// The answer as an Anthropic Messages response body. Blocks with no Anthropic response
/// form (images, tool results) are skipped; an answer with no content at all reads as one
/// empty text block, since clients commonly read `content[0].text`.
pub fn messages_response(resp: &ChatResponse) -> Vec<u8> {
    let mut content: Vec<ContentBlock<'_>> = resp.content.iter().filter_map(block).collect();
    if content.is_empty() {
        content.push(ContentBlock::Text {
            text: "",
            cache_control: None,
        });
    }
    let body = Message {
        id: message_id(&resp.id),
        kind: "message",
        role: "assistant",
        model: &resp.model,
        content,
        stop_reason: resp.stop_reason.to_anthropic(),
        stop_sequence: None,
        usage: AnthropicUsage::from(&resp.usage),
    };
    // Plain structs, strings and valid raw JSON: serialising into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

fn block(b: &Block) -> Option<ContentBlock<'_>> {
    match b {
        Block::Text { text, .. } => Some(ContentBlock::Text {
            text,
            cache_control: None,
        }),
        Block::Thinking { text, signature } => Some(ContentBlock::Thinking {
            thinking: text,
            signature: signature.as_deref(),
        }),
        Block::RedactedThinking { data } => Some(ContentBlock::RedactedThinking { data }),
        Block::ToolUse {
            id, name, input, ..
        } => Some(ContentBlock::ToolUse {
            id,
            name,
            input,
            cache_control: None,
        }),
        Block::Image { .. } | Block::ToolResult { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_arguments_are_kept_as_a_string() {
        assert_eq!(tool_input("").get(), "{}");
        assert_eq!(tool_input(r#"{"a":1}"#).get(), r#"{"a":1}"#);
        assert_eq!(tool_input("{oops").get(), r#""{oops""#);
    }

    #[test]
    fn invalid_bodies_are_errors() {
        assert!(parse_openai_response(b"not json").is_err());
        assert!(parse_openai_response(br#"{"choices":1}"#).is_err());
    }

    #[test]
    fn a_completion_without_content_still_has_a_text_block() {
        let resp = parse_openai_response(
            br#"{"id":"chatcmpl-1","model":"m","choices":[{"message":{"content":null},"finish_reason":"length"}]}"#,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&messages_response(&resp)).unwrap();
        assert_eq!(
            v["content"],
            serde_json::json!([{"type": "text", "text": ""}])
        );
        assert_eq!(v["stop_reason"], "max_tokens");
        assert_eq!(v["id"], "msg_1");
        assert_eq!(message_id("msg_abc"), "msg_abc");
    }
}

#[cfg(test)]
#[path = "from_openai/stream_tests.rs"]
mod stream_tests;
