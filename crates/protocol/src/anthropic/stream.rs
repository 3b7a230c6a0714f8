//! Anthropic Messages stream → OpenAI `chat.completion.chunk` stream, one event at a time.
//!
//! [`ToOpenAi`] is a state machine: feed it each Anthropic SSE event's `data` as it arrives
//! and forward what it returns at once (nothing is held back). It returns JSON payloads only;
//! the caller frames each as `data: <payload>\n\n` and ends the stream with `data: [DONE]\n\n`
//! once [`ToOpenAi::is_done`].

use super::response::{ResponseBlock, Usage};
use crate::canonical::chunk::{
    Chunk, ChunkDelta, FunctionDelta, ToolCallDelta, delta_chunk, encode,
};
use crate::canonical::{StopReason, openai_usage};
use crate::openai::ErrorBody;
use serde::Deserialize;
use switchyard_primitives::TokenUsage;

/// One parsed Anthropic stream event. Flat: each event type fills its own fields.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "type")]
    pub kind: String,
    /// `message_start`.
    #[serde(default)]
    pub message: Option<StartMessage>,
    /// `content_block_*`: the block's position in the message.
    #[serde(default)]
    pub index: Option<usize>,
    /// `content_block_start`.
    #[serde(default)]
    pub content_block: Option<ResponseBlock>,
    /// `content_block_delta` and `message_delta`.
    #[serde(default)]
    pub delta: Option<Delta>,
    /// `message_delta`: cumulative usage.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// `error`.
    #[serde(default)]
    pub error: Option<StreamError>,
}

#[derive(Debug, Deserialize)]
pub struct StartMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub usage: Usage,
}

#[derive(Debug, Default, Deserialize)]
pub struct Delta {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub partial_json: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    #[serde(default)]
    pub stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StreamError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

impl StreamEvent {
    /// Parses one event's `data`.
    pub fn parse(data: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(data)
    }
}

/// How to write the OpenAI chunks.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// The Unix time every chunk reports as `created`.
    pub created: u64,
    /// The client asked for `stream_options.include_usage`: end with a usage-only chunk.
    pub include_usage: bool,
    /// The model name to report; the upstream's when `None`.
    pub model: Option<String>,
}

/// What an Anthropic content block (by its index) became on the OpenAI side.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Text,
    Thinking,
    /// A tool call, with its OpenAI `tool_calls[].index`.
    Tool(u32),
    /// No OpenAI form (signatures, redacted thinking, server tools): dropped.
    Ignored,
}

/// The translator. See the module docs for framing.
#[derive(Debug)]
pub struct ToOpenAi {
    opts: StreamOptions,
    id: String,
    model: String,
    slots: Vec<Slot>,
    next_tool: u32,
    usage: Usage,
    finished: bool,
    done: bool,
}

impl ToOpenAi {
    pub fn new(opts: StreamOptions) -> Self {
        ToOpenAi {
            model: opts.model.clone().unwrap_or_default(),
            opts,
            id: String::new(),
            slots: Vec::new(),
            next_tool: 0,
            usage: Usage::default(),
            finished: false,
            done: false,
        }
    }

    /// The usage reported so far; final once [`is_done`](Self::is_done).
    pub fn usage(&self) -> TokenUsage {
        self.usage.to_tokens()
    }

    /// `message_stop` or an `error` has been seen: nothing more will follow.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Parses and translates one event's `data`; data that is not a valid event ends the
    /// stream with an OpenAI error payload.
    pub fn push_data(&mut self, data: &str) -> Vec<String> {
        match StreamEvent::parse(data) {
            Ok(ev) => self.push(&ev),
            Err(e) => {
                self.done = true;
                vec![error_payload(
                    "upstream_error",
                    &format!("The upstream sent an invalid Anthropic stream event: {e}."),
                )]
            }
        }
    }

    /// Translates one event into zero or more OpenAI payloads.
    pub fn push(&mut self, ev: &StreamEvent) -> Vec<String> {
        match ev.kind.as_str() {
            "message_start" => self.message_start(ev),
            "content_block_start" => self.block_start(ev),
            "content_block_delta" => self.block_delta(ev),
            "message_delta" => self.message_delta(ev),
            "message_stop" => self.message_stop(),
            "error" => {
                self.done = true;
                let (kind, message) = ev
                    .error
                    .as_ref()
                    .map_or(("api_error", "upstream error"), |e| {
                        (e.kind.as_str(), e.message.as_str())
                    });
                vec![error_payload(kind, message)]
            }
            // `ping`, `content_block_stop`, and event types added later carry nothing to forward.
            _ => Vec::new(),
        }
    }

    fn message_start(&mut self, ev: &StreamEvent) -> Vec<String> {
        if let Some(m) = &ev.message {
            self.id.clone_from(&m.id);
            if self.opts.model.is_none() {
                self.model.clone_from(&m.model);
            }
            self.usage.update(&m.usage);
        }
        let delta = ChunkDelta {
            role: Some("assistant"),
            content: Some(""),
            ..ChunkDelta::default()
        };
        vec![self.chunk(delta, None)]
    }

    fn block_start(&mut self, ev: &StreamEvent) -> Vec<String> {
        let (Some(index), Some(block)) = (ev.index, &ev.content_block) else {
            return Vec::new();
        };
        let slot = match block.kind.as_str() {
            "text" => Slot::Text,
            "thinking" => Slot::Thinking,
            "tool_use" => {
                self.next_tool += 1;
                Slot::Tool(self.next_tool - 1)
            }
            _ => Slot::Ignored,
        };
        if self.slots.len() <= index {
            self.slots.resize(index + 1, Slot::Ignored);
        }
        self.slots[index] = slot;
        let delta = match slot {
            Slot::Text => block.text.as_deref().filter(|t| !t.is_empty()).map(text),
            Slot::Thinking => block
                .thinking
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(reasoning),
            Slot::Tool(i) => Some(tool_delta(ToolCallDelta {
                index: i,
                id: block.id.as_deref(),
                kind: Some("function"),
                function: FunctionDelta {
                    name: block.name.as_deref(),
                    arguments: "",
                },
            })),
            Slot::Ignored => None,
        };
        delta.map(|d| self.chunk(d, None)).into_iter().collect()
    }

    fn block_delta(&mut self, ev: &StreamEvent) -> Vec<String> {
        let (Some(index), Some(d)) = (ev.index, &ev.delta) else {
            return Vec::new();
        };
        let slot = self.slots.get(index).copied().unwrap_or(Slot::Ignored);
        let delta = match (slot, d.kind.as_deref()) {
            (Slot::Text, Some("text_delta")) => d.text.as_deref().map(text),
            (Slot::Thinking, Some("thinking_delta")) => d.thinking.as_deref().map(reasoning),
            (Slot::Tool(i), Some("input_json_delta")) => d
                .partial_json
                .as_deref()
                .filter(|j| !j.is_empty())
                .map(|arguments| {
                    tool_delta(ToolCallDelta {
                        index: i,
                        id: None,
                        kind: None,
                        function: FunctionDelta {
                            name: None,
                            arguments,
                        },
                    })
                }),
            // `signature_delta`, `citations_delta`, and deltas for ignored blocks.
            _ => None,
        };
        delta.map(|d| self.chunk(d, None)).into_iter().collect()
    }

    fn message_delta(&mut self, ev: &StreamEvent) -> Vec<String> {
        if let Some(u) = &ev.usage {
            self.usage.update(u);
        }
        let Some(reason) = ev.delta.as_ref().and_then(|d| d.stop_reason.as_deref()) else {
            return Vec::new();
        };
        self.finish(StopReason::from_anthropic(reason))
    }

    fn finish(&mut self, reason: StopReason) -> Vec<String> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        vec![self.chunk(ChunkDelta::default(), Some(reason.to_openai()))]
    }

    fn message_stop(&mut self) -> Vec<String> {
        // A stream that never said why it stopped still ends with a finish_reason.
        let mut out = self.finish(StopReason::EndTurn);
        self.done = true;
        if self.opts.include_usage {
            out.push(self.encode(&Chunk {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.opts.created,
                model: &self.model,
                choices: Vec::new(),
                usage: Some(openai_usage(&self.usage.to_tokens())),
            }));
        }
        out
    }

    fn chunk(&self, delta: ChunkDelta<'_>, finish_reason: Option<&'static str>) -> String {
        delta_chunk(
            (&self.id, self.opts.created, &self.model),
            delta,
            finish_reason,
        )
    }

    fn encode(&self, chunk: &Chunk<'_>) -> String {
        encode(chunk)
    }
}

fn error_payload(kind: &str, message: &str) -> String {
    let body = ErrorBody::new(kind, None, None, message.to_string());
    String::from_utf8(body.to_json()).unwrap_or_default()
}

fn text(t: &str) -> ChunkDelta<'_> {
    ChunkDelta {
        content: Some(t),
        ..ChunkDelta::default()
    }
}

fn reasoning(t: &str) -> ChunkDelta<'_> {
    ChunkDelta {
        reasoning_content: Some(t),
        ..ChunkDelta::default()
    }
}

fn tool_delta(call: ToolCallDelta<'_>) -> ChunkDelta<'_> {
    ChunkDelta {
        tool_calls: Some([call]),
        ..ChunkDelta::default()
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
