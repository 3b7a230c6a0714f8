//! OpenAI `chat.completion.chunk` stream → Anthropic Messages stream, one chunk at a time.
//!
//! [`ToAnthropic`] is a state machine: feed it each OpenAI SSE event's `data` (including the
//! final `[DONE]`) and forward what it returns at once. It returns complete SSE frames
//! (`event: <type>\ndata: <json>\n\n`) in Anthropic's order: `message_start`, then per block
//! `content_block_start`, `content_block_delta`s and `content_block_stop`, then
//! `message_delta` (stop reason and usage) and `message_stop`.
//!
//! OpenAI reports usage only at the end (with `stream_options.include_usage`), so
//! `message_start` reports zero tokens and `message_delta` the real counts. OpenAI streams
//! a block's kind implicitly; a block is closed when the kind or the tool-call index
//! changes, so tool calls whose deltas interleave would be split into several blocks
//! (no known upstream interleaves them).

use super::events::{
    BlockDelta, EmptyObject, ErrorDetail, Event, MessageDelta, StartBlock, StartMessage,
};
use super::{AnthropicUsage, message_id};
use crate::canonical::StopReason;
use crate::openai::Usage;
use serde::Deserialize;
use std::borrow::Cow;
use switchyard_primitives::TokenUsage;

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    model: Cow<'a, str>,
    #[serde(borrow, default)]
    choices: Vec<Choice<'a>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// The kind of the open content block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    /// A tool call, by its OpenAI `tool_calls[].index`.
    Tool(u32),
}

/// The translator. See the module docs for framing.
#[derive(Debug, Default)]
pub struct ToAnthropic {
    /// The model name to report; the upstream's when `None`.
    model: Option<String>,
    started: bool,
    /// The open block: its kind and Anthropic index.
    open: Option<(Kind, usize)>,
    next_index: usize,
    usage: Option<Usage>,
    stop: Option<StopReason>,
    done: bool,
}

impl ToAnthropic {
    /// A translator reporting `model` as the model name, or the upstream's when `None`.
    pub fn new(model: Option<String>) -> Self {
        ToAnthropic {
            model,
            ..ToAnthropic::default()
        }
    }

    /// The usage reported so far; final once [`is_done`](Self::is_done).
    pub fn usage(&self) -> TokenUsage {
        self.usage
            .as_ref()
            .map(Usage::to_tokens)
            .unwrap_or_default()
    }

    /// `message_stop` or an `error` frame has been written: nothing more will follow.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Translates one OpenAI event's `data` (a chunk, an error payload, or `[DONE]`).
    pub fn push_data(&mut self, data: &str) -> Vec<String> {
        if self.done {
            return Vec::new();
        }
        if data.trim() == "[DONE]" {
            return self.finish();
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                let message = format!("The upstream sent an invalid OpenAI stream chunk: {e}.");
                return self.error("api_error", &message);
            }
        };
        if let Some(err) = &chunk.error {
            return self.error(&error_kind(err.kind.as_deref()), &err.message);
        }
        let mut out = Vec::new();
        self.start(&chunk.id, &chunk.model, &mut out);
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if let Some(choice) = chunk.choices.first() {
            if let Some(delta) = &choice.delta {
                self.delta(delta, &mut out);
            }
            if let Some(reason) = &choice.finish_reason {
                self.stop = Some(StopReason::from_openai(reason));
                self.close(&mut out);
            }
        }
        out
    }

    /// Ends the message: closes the open block, writes `message_delta` and `message_stop`.
    /// `[DONE]` calls this; call it too when the upstream ends without `[DONE]`. Idempotent.
    pub fn finish(&mut self) -> Vec<String> {
        if self.done {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.start("", "", &mut out);
        self.close(&mut out);
        let stop = self.stop.take().unwrap_or(StopReason::EndTurn);
        let usage = AnthropicUsage::from(&self.usage());
        out.push(
            Event::MessageDelta {
                delta: MessageDelta {
                    stop_reason: stop.to_anthropic(),
                    stop_sequence: None,
                },
                usage,
            }
            .frame(),
        );
        out.push(Event::MessageStop.frame());
        self.done = true;
        out
    }

    fn error(&mut self, kind: &str, message: &str) -> Vec<String> {
        self.done = true;
        vec![
            Event::Error {
                error: ErrorDetail { kind, message },
            }
            .frame(),
        ]
    }

    /// `message_start`, once, before anything else.
    fn start(&mut self, id: &str, model: &str, out: &mut Vec<String>) {
        if self.started {
            return;
        }
        self.started = true;
        let message = StartMessage {
            id: message_id(id),
            kind: "message",
            role: "assistant",
            model: self.model.as_deref().unwrap_or(model),
            content: [],
            stop_reason: None,
            stop_sequence: None,
            usage: AnthropicUsage::from(&TokenUsage::default()),
        };
        out.push(Event::MessageStart { message }.frame());
    }

    fn delta(&mut self, d: &Delta<'_>, out: &mut Vec<String>) {
        if let Some(t) = d.reasoning_content.as_deref().filter(|t| !t.is_empty()) {
            let index = self.open_simple(Kind::Thinking, out);
            let delta = BlockDelta::Thinking { thinking: t };
            out.push(Event::ContentBlockDelta { index, delta }.frame());
        }
        if let Some(t) = d.content.as_deref().filter(|t| !t.is_empty()) {
            let index = self.open_simple(Kind::Text, out);
            let delta = BlockDelta::Text { text: t };
            out.push(Event::ContentBlockDelta { index, delta }.frame());
        }
        for (position, call) in d.tool_calls.iter().flatten().enumerate() {
            self.tool_delta(call, position, out);
        }
    }

    /// The index of an open text or thinking block, opening one if needed.
    fn open_simple(&mut self, kind: Kind, out: &mut Vec<String>) -> usize {
        if let Some((open, index)) = self.open {
            if open == kind {
                return index;
            }
        }
        let block = match kind {
            Kind::Thinking => StartBlock::Thinking { thinking: "" },
            _ => StartBlock::Text { text: "" },
        };
        self.open_block(kind, block, out)
    }

    fn open_block(&mut self, kind: Kind, block: StartBlock<'_>, out: &mut Vec<String>) -> usize {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((kind, index));
        out.push(
            Event::ContentBlockStart {
                index,
                content_block: block,
            }
            .frame(),
        );
        index
    }

    fn tool_delta(&mut self, call: &ToolDelta<'_>, position: usize, out: &mut Vec<String>) {
        let tool = call
            .index
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
        let function = call.function.as_ref();
        let index = match self.open {
            Some((Kind::Tool(open), index)) if open == tool => index,
            _ => {
                let id = match call.id.as_deref() {
                    Some(id) => Cow::Borrowed(id),
                    // Clients echo the id back with the result; any unique one will do.
                    None => Cow::Owned(format!("toolu_{}", self.next_index)),
                };
                let name = function.and_then(|f| f.name.as_deref()).unwrap_or("");
                let input = EmptyObject {};
                let block = StartBlock::ToolUse { id, name, input };
                self.open_block(Kind::Tool(tool), block, out)
            }
        };
        let args = function.and_then(|f| f.arguments.as_deref());
        if let Some(partial_json) = args.filter(|a| !a.is_empty()) {
            let delta = BlockDelta::InputJson { partial_json };
            out.push(Event::ContentBlockDelta { index, delta }.frame());
        }
    }

    fn close(&mut self, out: &mut Vec<String>) {
        if let Some((_, index)) = self.open.take() {
            out.push(Event::ContentBlockStop { index }.frame());
        }
    }
}

/// Anthropic's error type for an OpenAI-dialect error `type`: Anthropic's own names pass
/// through, OpenAI's rate-limit and server errors are renamed, and the rest is `api_error`.
fn error_kind(openai: Option<&str>) -> Cow<'static, str> {
    match openai {
        Some(
            k @ ("invalid_request_error"
            | "authentication_error"
            | "permission_error"
            | "not_found_error"
            | "request_too_large"
            | "rate_limit_error"
            | "overloaded_error"),
        ) => Cow::Owned(k.to_string()),
        Some("rate_limit_exceeded" | "insufficient_quota") => Cow::Borrowed("rate_limit_error"),
        _ => Cow::Borrowed("api_error"),
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
