//! Canonical stream events → Anthropic Messages SSE frames: the Anthropic client's renderer,
//! whatever the upstream's dialect.
//!
//! Frames come in Anthropic's order: `message_start` (at [`StreamEvent::Start`], zero usage:
//! most upstreams report usage only at the end), then per block `content_block_start`, its
//! `content_block_delta`s and `content_block_stop`, then at the end `message_delta` (stop
//! reason and the final usage, thinking tokens in `output_tokens_details`) and
//! `message_stop`. Text, reasoning and each tool call are blocks of their own; a block closes
//! when the next event belongs to another, so a tool call whose fragments interleave with
//! another's would be split (no known upstream interleaves them). A reasoning signature is a
//! `signature_delta` on the open thinking block. An [`StreamEvent::Error`] becomes an
//! `error` frame (its kind mapped to an Anthropic error type) and ends the stream.

use super::from_openai::events::{
    BlockDelta, EmptyObject, ErrorDetail, Event, MessageDelta, StartBlock, StartMessage,
};
use super::from_openai::{AnthropicUsage, message_id};
use crate::canonical::StopReason;
use crate::canonical::event::StreamEvent;
use crate::canonical::translate::Render;
use std::borrow::Cow;
use switchyard_primitives::TokenUsage;

/// The kind of the open content block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    /// A tool call, by its canonical index.
    Tool(u32),
}

/// The renderer. See the module docs.
#[derive(Debug, Default)]
pub struct FrameWriter {
    /// The model name to report; the upstream's when `None`.
    model: Option<String>,
    started: bool,
    /// The open block: its kind and Anthropic index.
    open: Option<(Kind, usize)>,
    next_index: usize,
    /// Each tool call's (id, name) by canonical index, to reopen an interleaved one.
    tools: Vec<(String, String)>,
    usage: TokenUsage,
    stop: Option<StopReason>,
    ended: bool,
}

impl FrameWriter {
    /// A renderer reporting `model` as the model name, or the upstream's when `None`.
    pub fn new(model: Option<String>) -> Self {
        FrameWriter {
            model,
            ..FrameWriter::default()
        }
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

    fn delta(&mut self, kind: Kind, delta: BlockDelta<'_>, out: &mut Vec<String>) {
        let index = match self.open {
            Some((open, index)) if open == kind => index,
            _ => {
                let block = match kind {
                    Kind::Thinking => StartBlock::Thinking { thinking: "" },
                    Kind::Text => StartBlock::Text { text: "" },
                    Kind::Tool(i) => {
                        let (id, name) = self.tools.get(i as usize).cloned().unwrap_or_default();
                        return self.tool_block(i, (id, name), Some(delta), out);
                    }
                };
                self.open_block(kind, block, out)
            }
        };
        out.push(Event::ContentBlockDelta { index, delta }.frame());
    }

    fn tool_block(
        &mut self,
        i: u32,
        (id, name): (String, String),
        delta: Option<BlockDelta<'_>>,
        out: &mut Vec<String>,
    ) {
        let block = StartBlock::ToolUse {
            id: Cow::Borrowed(&id),
            name: &name,
            input: EmptyObject {},
        };
        let index = self.open_block(Kind::Tool(i), block, out);
        if let Some(delta) = delta {
            out.push(Event::ContentBlockDelta { index, delta }.frame());
        }
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

    fn tool_start(&mut self, index: u32, id: String, name: String, out: &mut Vec<String>) {
        // Clients echo the id back with the result; any unique one will do.
        let id = if id.is_empty() {
            format!("toolu_{}", self.next_index)
        } else {
            id
        };
        let slot = index as usize;
        if self.tools.len() <= slot && slot < 4096 {
            self.tools.resize(slot + 1, (String::new(), String::new()));
        }
        if let Some(t) = self.tools.get_mut(slot) {
            *t = (id.clone(), name.clone());
        }
        self.tool_block(index, (id, name), None, out);
    }

    fn close(&mut self, out: &mut Vec<String>) {
        if let Some((_, index)) = self.open.take() {
            out.push(Event::ContentBlockStop { index }.frame());
        }
    }
}

impl Render for FrameWriter {
    fn render(&mut self, ev: StreamEvent, out: &mut Vec<String>) {
        if self.ended {
            return;
        }
        match ev {
            StreamEvent::Start { id, model } => self.start(&id, &model, out),
            StreamEvent::Text(t) if !t.is_empty() => {
                self.delta(Kind::Text, BlockDelta::Text { text: &t }, out);
            }
            StreamEvent::Reasoning(t) if !t.is_empty() => {
                let delta = BlockDelta::Thinking { thinking: &t };
                self.delta(Kind::Thinking, delta, out);
            }
            StreamEvent::ReasoningSignature(s) => {
                let delta = BlockDelta::Signature { signature: &s };
                self.delta(Kind::Thinking, delta, out);
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.tool_start(index, id, name, out);
            }
            StreamEvent::ToolCallArguments { index, fragment } if !fragment.is_empty() => {
                let delta = BlockDelta::InputJson {
                    partial_json: &fragment,
                };
                self.delta(Kind::Tool(index), delta, out);
            }
            StreamEvent::Finish(reason) => {
                self.close(out);
                self.stop = Some(reason);
            }
            StreamEvent::Usage(u) => self.usage = u,
            StreamEvent::Error { kind, message } => {
                self.ended = true;
                let error = ErrorDetail {
                    kind: error_kind(&kind),
                    message: &message,
                };
                out.push(Event::Error { error }.frame());
            }
            // Empty fragments carry nothing.
            StreamEvent::Text(_)
            | StreamEvent::Reasoning(_)
            | StreamEvent::ToolCallArguments { .. } => {}
        }
    }

    fn flush(&mut self, _out: &mut Vec<String>) {}

    fn end(&mut self, out: &mut Vec<String>) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.start("", "", out);
        self.close(out);
        let stop = self.stop.take().unwrap_or(StopReason::EndTurn);
        out.push(
            Event::MessageDelta {
                delta: MessageDelta {
                    stop_reason: stop.to_anthropic(),
                    stop_sequence: None,
                },
                usage: AnthropicUsage::from(&self.usage),
            }
            .frame(),
        );
        out.push(Event::MessageStop.frame());
    }

    /// The message is closed as if it ended its turn, so an Anthropic client's event
    /// sequence is always whole (as the OpenAI → Anthropic translator's `finish` does).
    fn cut(&mut self, out: &mut Vec<String>) {
        self.end(out);
    }

    fn frame(item: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(item.as_bytes());
    }
}

/// Anthropic's error type for an upstream's error `kind`: Anthropic's own names pass
/// through, OpenAI's rate-limit names are renamed, and the rest (`upstream_error`, other
/// dialects' names) is `api_error`, so an Anthropic client only sees types it knows.
fn error_kind(kind: &str) -> &str {
    match kind {
        "invalid_request_error"
        | "authentication_error"
        | "permission_error"
        | "not_found_error"
        | "request_too_large"
        | "rate_limit_error"
        | "overloaded_error" => kind,
        "rate_limit_exceeded" | "insufficient_quota" => "rate_limit_error",
        _ => "api_error",
    }
}

#[cfg(test)]
#[path = "from_events_tests.rs"]
mod tests;
