//! The Anthropic stream events [`super::ToAnthropic`] and the canonical-event renderer
//! (`anthropic::from_events`) write, each serialised as a complete SSE frame whose `event:`
//! name is the data's `type`.

use super::AnthropicUsage;
use serde::Serialize;
use std::borrow::Cow;

/// One Anthropic stream event; its tag is also the SSE `event:` name.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Event<'a> {
    MessageStart {
        message: StartMessage<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: StartBlock<'a>,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDelta<'a>,
        usage: AnthropicUsage,
    },
    MessageStop,
    Error {
        error: ErrorDetail<'a>,
    },
}

impl Event<'_> {
    fn name(&self) -> &'static str {
        match self {
            Event::MessageStart { .. } => "message_start",
            Event::ContentBlockStart { .. } => "content_block_start",
            Event::ContentBlockDelta { .. } => "content_block_delta",
            Event::ContentBlockStop { .. } => "content_block_stop",
            Event::MessageDelta { .. } => "message_delta",
            Event::MessageStop => "message_stop",
            Event::Error { .. } => "error",
        }
    }

    /// The complete SSE frame.
    pub(crate) fn frame(&self) -> String {
        // Plain structs of strings and numbers: serialising cannot fail.
        let data = serde_json::to_string(self).unwrap_or_default();
        format!("event: {}\ndata: {data}\n\n", self.name())
    }
}

#[derive(Serialize)]
pub(crate) struct StartMessage<'a> {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) role: &'static str,
    pub(crate) model: &'a str,
    pub(crate) content: [(); 0],
    pub(crate) stop_reason: Option<()>,
    pub(crate) stop_sequence: Option<()>,
    pub(crate) usage: AnthropicUsage,
}

/// Serialises as `{}`: a tool call's input before its deltas arrive.
#[derive(Serialize)]
pub(crate) struct EmptyObject {}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StartBlock<'a> {
    Text {
        text: &'static str,
    },
    Thinking {
        thinking: &'static str,
    },
    ToolUse {
        id: Cow<'a, str>,
        name: &'a str,
        input: EmptyObject,
    },
}

#[derive(Serialize)]
#[serde(tag = "type")]
pub(crate) enum BlockDelta<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
}

#[derive(Serialize)]
pub(crate) struct MessageDelta<'a> {
    pub(crate) stop_reason: &'a str,
    pub(crate) stop_sequence: Option<()>,
}

#[derive(Serialize)]
pub(crate) struct ErrorDetail<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    pub(crate) message: &'a str,
}
