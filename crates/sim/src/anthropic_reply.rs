//! Rendering a planned Anthropic answer (thinking with its signature, redacted thinking on
//! request, text or tool calls): one Message, or the streamed events `message_start`,
//! per content block `content_block_start` / `content_block_delta` / `content_block_stop`, one
//! `ping`, `message_delta` and `message_stop`, each frame with its `event:` line.

use crate::cache::CacheUse;
use crate::common::{self, Finish, Frame, Outcome};
use crate::config::Behaviour;
use crate::synth;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

/// A planned answer with everything needed to render it whole or streamed.
pub(crate) struct Reply {
    pub id: String,
    pub model: String,
    /// Prompt tokens neither read from nor written to the cache.
    pub input_tokens: u64,
    pub cache: CacheUse,
    pub outcome: Outcome,
    /// Answer a `redacted_thinking` block after the thinking (see [`REDACT_TRIGGER`]).
    pub redacted: bool,
}

/// A prompt containing this (Anthropic's own test string) while thinking is on gets a
/// `redacted_thinking` block, as the real API does.
pub(crate) const REDACT_TRIGGER: &str = "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING";

impl Reply {
    pub fn output_tokens(&self) -> u64 {
        self.outcome.visible_tokens() + self.outcome.thought_tokens()
    }

    /// The final output usage: `output_tokens` (thinking included) and, when the model
    /// thought, the thinking share reported apart in `output_tokens_details`.
    fn output_usage(&self, usage: &mut Value) {
        usage["output_tokens"] = json!(self.output_tokens());
        let thinking = self.outcome.thought_tokens();
        if thinking > 0 {
            usage["output_tokens_details"] = json!({"thinking_tokens": thinking});
        }
    }

    /// A signature for the thinking block: opaque, deterministic.
    pub fn signature(&self) -> String {
        let mut x = self.outcome.seed;
        let bytes: Vec<u8> = (0..48)
            .map(|_| {
                x = synth::splitmix(x);
                (x & 0xff) as u8
            })
            .collect();
        synth::base64(&bytes)
    }

    /// The opaque payload of a redacted thinking block: deterministic, unlike any signature.
    pub fn redacted_data(&self) -> String {
        let mut x = self.outcome.seed ^ 0x5eda_c7ed;
        let bytes: Vec<u8> = (0..96)
            .map(|_| {
                x = synth::splitmix(x);
                (x & 0xff) as u8
            })
            .collect();
        synth::base64(&bytes)
    }

    fn redacted_block(&self) -> Option<Value> {
        (self.redacted && !self.outcome.thoughts.is_empty())
            .then(|| json!({"type": "redacted_thinking", "data": self.redacted_data()}))
    }

    pub fn tool_id(key: u64) -> String {
        format!("toolu_sim{:016x}", key)
    }

    pub fn stop(&self) -> (&'static str, Value) {
        match &self.outcome.finish {
            Finish::End => ("end_turn", Value::Null),
            Finish::Limit => ("max_tokens", Value::Null),
            Finish::Stop(s) => ("stop_sequence", json!(s)),
            Finish::Tool => ("tool_use", Value::Null),
        }
    }

    /// Prompt usage; the output count is added by the caller.
    pub fn input_usage(&self) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache.written(),
            "cache_read_input_tokens": self.cache.read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache.write_5m,
                "ephemeral_1h_input_tokens": self.cache.write_1h,
            },
            "service_tier": "standard",
        })
    }

    fn content(&self) -> Vec<Value> {
        let o = &self.outcome;
        let mut out = Vec::new();
        if !o.thoughts.is_empty() {
            out.push(json!({"type": "thinking", "thinking": o.thoughts.concat(),
                "signature": self.signature()}));
        }
        out.extend(self.redacted_block());
        if !o.text.is_empty() {
            out.push(json!({"type": "text", "text": o.text.concat()}));
        }
        for c in &o.calls {
            out.push(
                json!({"type": "tool_use", "id": Self::tool_id(c.key), "name": c.name,
                "input": c.args}),
            );
        }
        out
    }

    pub fn message(&self) -> Value {
        let (stop_reason, stop_sequence) = self.stop();
        let mut usage = self.input_usage();
        self.output_usage(&mut usage);
        json!({
            "id": self.id, "type": "message", "role": "assistant", "model": self.model,
            "content": self.content(), "stop_reason": stop_reason, "stop_sequence": stop_sequence,
            "usage": usage,
        })
    }
}

fn event(name: &str, data: &Value, tokens: u32) -> Frame {
    Frame {
        bytes: Bytes::from(format!("event: {name}\ndata: {data}\n\n")),
        tokens,
    }
}

/// One content block to stream: its empty start form and its deltas with their token cost.
struct Block {
    start: Value,
    deltas: Vec<(Value, u32)>,
}

fn thinking_block(reply: &Reply) -> Block {
    let mut deltas: Vec<(Value, u32)> = reply
        .outcome
        .thoughts
        .chunks(4)
        .map(|c| {
            let delta = json!({"type": "thinking_delta", "thinking": c.concat()});
            (delta, c.len() as u32)
        })
        .collect();
    deltas.push((
        json!({"type": "signature_delta", "signature": reply.signature()}),
        0,
    ));
    Block {
        start: json!({"type": "thinking", "thinking": ""}),
        deltas,
    }
}

fn blocks(reply: &Reply) -> Vec<Block> {
    let o = &reply.outcome;
    let mut out = Vec::new();
    if !o.thoughts.is_empty() {
        out.push(thinking_block(reply));
    }
    // Redacted thinking arrives whole in its start event, with no deltas.
    if let Some(start) = reply.redacted_block() {
        out.push(Block {
            start,
            deltas: Vec::new(),
        });
    }
    if !o.text.is_empty() {
        out.push(Block {
            start: json!({"type": "text", "text": ""}),
            deltas: o
                .text
                .iter()
                .map(|t| (json!({"type": "text_delta", "text": t}), 1))
                .collect(),
        });
    }
    for c in &o.calls {
        let args: Vec<char> = c.args.to_string().chars().collect();
        out.push(Block {
            start: json!({"type": "tool_use", "id": Reply::tool_id(c.key), "name": c.name,
                "input": {}}),
            deltas: args
                .chunks(8)
                .map(|p| {
                    let piece: String = p.iter().collect();
                    (
                        json!({"type": "input_json_delta", "partial_json": piece}),
                        2,
                    )
                })
                .collect(),
        });
    }
    out
}

/// The whole event sequence, paced by the latency model; with `disconnect` it is cut halfway.
pub(crate) fn stream(reply: &Reply, b: Behaviour, disconnect: bool) -> Response {
    let mut usage = reply.input_usage();
    usage["output_tokens"] = json!(1);
    let start = json!({"type": "message_start", "message": {
        "id": reply.id, "type": "message", "role": "assistant", "model": reply.model,
        "content": [], "stop_reason": null, "stop_sequence": null, "usage": usage}});
    let mut frames = vec![event("message_start", &start, 0)];
    for (index, block) in blocks(reply).into_iter().enumerate() {
        frames.push(event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block.start}),
            0,
        ));
        if index == 0 {
            frames.push(event("ping", &json!({"type": "ping"}), 0));
        }
        for (delta, tokens) in block.deltas {
            frames.push(event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": delta}),
                tokens,
            ));
        }
        frames.push(event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
            0,
        ));
    }
    let (stop_reason, stop_sequence) = reply.stop();
    let mut usage = json!({});
    reply.output_usage(&mut usage);
    frames.push(event(
        "message_delta",
        &json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": usage}),
        0,
    ));
    frames.push(event("message_stop", &json!({"type": "message_stop"}), 0));
    common::paced(frames, b, disconnect, "text/event-stream")
}
