//! Canonical stream events: the hub of streaming translation.
//!
//! Each provider dialect's stream is read into these once (a reader per upstream dialect), and
//! each client dialect renders them once (a renderer per ingress dialect), so N dialects need
//! 2N stream conversions and no stream is translated twice. Same-dialect passthrough streams
//! never come here: they stay byte-preserving.
//!
//! Invariants a reader upholds: `Start` comes first and once (a stream that fails before it
//! began may be a lone `Error`); a tool call's `ToolCallStart`
//! precedes its `ToolCallArguments`; `Finish` comes once, after every content event; `Usage` may
//! come any time (the last one wins); nothing but `Usage` follows `Finish`; `Error` ends the
//! stream.

use super::StopReason;
use switchyard_primitives::TokenUsage;

/// One step of an answer being streamed, in no particular dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The answer began: the upstream's response id and the model that answers.
    Start { id: String, model: String },
    /// A fragment of the assistant's visible text.
    Text(String),
    /// A fragment of reasoning text (OpenAI-compatible `reasoning_content`, Anthropic
    /// `thinking`, Gemini thoughts).
    Reasoning(String),
    /// The signature that seals the reasoning so far (Anthropic `signature_delta`, Gemini
    /// `thoughtSignature`), to be sent back on the next turn.
    ReasoningSignature(String),
    /// A tool call began. `index` is its position among this answer's tool calls, from 0.
    ToolCallStart {
        index: u32,
        id: String,
        name: String,
    },
    /// A fragment of tool call `index`'s JSON arguments.
    ToolCallArguments { index: u32, fragment: String },
    /// The answer is complete, for this reason.
    Finish(StopReason),
    /// Token usage reported so far (cumulative; the last one is final).
    Usage(TokenUsage),
    /// The upstream failed mid-stream; nothing follows. `kind` is an error type the renderer
    /// maps to its dialect's (`upstream_error`, `overloaded_error`, …).
    Error { kind: String, message: String },
}
