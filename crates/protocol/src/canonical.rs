//! Dialect-neutral chat types: what every client dialect is parsed into and every provider
//! dialect is written from, when the client's dialect and the upstream's differ.
//!
//! Owns the shape of a conversation (system blocks, turns of typed blocks, tools, sampling) and
//! of a finished answer (blocks, stop reason, [`TokenUsage`]). Must never know a wire format:
//! conversions live at the dialect edges ([`crate::anthropic`], and for OpenAI, the submodules
//! here until the `openai` module takes them over).
//!
//! JSON payloads the gateway never inspects (tool inputs, schemas, unknown parameters) are kept
//! as [`RawValue`]s: validated once, copied as text, never rebuilt as a `serde_json::Value` tree.
//! Same-dialect traffic does not come here at all; it keeps the lossless borrowed view.

pub(crate) mod chunk;
pub mod event;
mod from_openai;
pub mod to_chunks;
mod to_openai;
pub mod translate;

pub use to_openai::{
    CompletionDetails, OpenAiUsage, PromptDetails, openai_completion, openai_usage,
};

use serde_json::value::RawValue;
use switchyard_primitives::TokenUsage;

/// A chat request in no particular dialect.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub model: String,
    /// System instructions, in order (OpenAI `system` and `developer` messages land here).
    pub system: Vec<Block>,
    pub messages: Vec<Turn>,
    pub tools: Vec<ToolDef>,
    pub tool_choice: Option<ToolChoice>,
    /// `Some(false)`: at most one tool call per turn.
    pub parallel_tool_calls: Option<bool>,
    /// The client's output limit, if it gave one (dialects that require one pick a default).
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stop: Vec<String>,
    pub stream: bool,
    pub response_format: ResponseFormat,
    /// An opaque end-user id, for the provider's abuse monitoring.
    pub metadata_user: Option<String>,
    /// A Responses client's `reasoning.effort` (`none`, `minimal`, `low`, `medium`, `high`):
    /// the Gemini writer maps it to a thinking budget (docs/compatibility.md); other
    /// translated dialects have no published mapping and leave it.
    pub reasoning_effort: Option<String>,
    /// Top-level members the client dialect does not define, passed to the upstream as is:
    /// how clients reach provider-specific parameters (e.g. Anthropic's `thinking`, `top_k`).
    pub extra: Vec<(String, Box<RawValue>)>,
}

/// Who speaks a turn. Tool results get their own role; dialects that carry them in user
/// turns (Anthropic) merge them on the way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone)]
pub struct Turn {
    pub role: Role,
    pub content: Vec<Block>,
}

/// A prompt-cache breakpoint: cache everything up to and including this block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    /// `"5m"` (the default when `None`) or `"1h"`.
    pub ttl: Option<String>,
}

/// One piece of content.
#[derive(Debug, Clone)]
pub enum Block {
    Text {
        text: String,
        cache_control: Option<CacheControl>,
    },
    Image {
        source: ImageSource,
        cache_control: Option<CacheControl>,
    },
    ToolUse {
        id: String,
        name: String,
        /// The arguments: valid JSON, normally an object.
        input: Box<RawValue>,
        cache_control: Option<CacheControl>,
    },
    ToolResult {
        tool_use_id: String,
        content: Vec<Block>,
        is_error: bool,
        cache_control: Option<CacheControl>,
    },
    /// Visible reasoning. The signature, when present, must travel back unchanged on the next
    /// turn for providers that verify it.
    Thinking {
        text: String,
        signature: Option<String>,
    },
    /// Reasoning the provider returned encrypted; only ever sent back.
    RedactedThinking { data: String },
}

impl Block {
    /// A text block without a cache breakpoint.
    pub fn text(text: impl Into<String>) -> Self {
        Block::Text {
            text: text.into(),
            cache_control: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    Url(String),
    Base64 { media_type: String, data: String },
}

/// A function the model may call.
#[derive(Debug, Clone)]
pub struct ToolDef {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments; `None` means "no arguments".
    pub parameters: Option<Box<RawValue>>,
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool (OpenAI `required`).
    Any,
    /// The model must not call tools.
    None,
    /// The model must call this tool.
    Tool(String),
}

#[derive(Debug, Clone, Default)]
pub enum ResponseFormat {
    #[default]
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        schema: Option<Box<RawValue>>,
    },
}

/// A finished, non-streamed answer.
#[derive(Debug, Clone)]
pub struct ChatResponse {
    pub id: String,
    pub model: String,
    pub content: Vec<Block>,
    pub stop_reason: StopReason,
    pub usage: TokenUsage,
}

/// Why generation stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    ContentFilter,
    /// A reason this version does not know, kept verbatim.
    Other(String),
}

impl StopReason {
    /// From OpenAI's `finish_reason`.
    pub fn from_openai(reason: &str) -> Self {
        match reason {
            "stop" => StopReason::EndTurn,
            "length" => StopReason::MaxTokens,
            "tool_calls" | "function_call" => StopReason::ToolUse,
            "content_filter" => StopReason::ContentFilter,
            other => StopReason::Other(other.to_string()),
        }
    }

    /// As OpenAI's `finish_reason`. OpenAI has no separate stop-sequence reason, and clients
    /// only understand its four values, so unknown reasons read as `"stop"`.
    pub fn to_openai(&self) -> &'static str {
        match self {
            StopReason::EndTurn | StopReason::StopSequence | StopReason::Other(_) => "stop",
            StopReason::MaxTokens => "length",
            StopReason::ToolUse => "tool_calls",
            StopReason::ContentFilter => "content_filter",
        }
    }

    /// From Anthropic's `stop_reason`. `refusal` is Anthropic's content filter;
    /// `model_context_window_exceeded` is a length limit like `max_tokens`.
    pub fn from_anthropic(reason: &str) -> Self {
        match reason {
            "end_turn" => StopReason::EndTurn,
            "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
            "stop_sequence" => StopReason::StopSequence,
            "tool_use" => StopReason::ToolUse,
            "refusal" => StopReason::ContentFilter,
            other => StopReason::Other(other.to_string()),
        }
    }

    /// As Anthropic's `stop_reason`.
    pub fn to_anthropic(&self) -> &str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
            StopReason::ToolUse => "tool_use",
            StopReason::ContentFilter => "refusal",
            StopReason::Other(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_finish_reasons_round_trip() {
        for r in ["stop", "length", "tool_calls", "content_filter"] {
            assert_eq!(StopReason::from_openai(r).to_openai(), r);
        }
        assert_eq!(
            StopReason::from_openai("function_call"),
            StopReason::ToolUse
        );
    }

    #[test]
    fn anthropic_stop_reasons_round_trip() {
        for r in [
            "end_turn",
            "max_tokens",
            "stop_sequence",
            "tool_use",
            "refusal",
        ] {
            assert_eq!(StopReason::from_anthropic(r).to_anthropic(), r);
        }
        assert_eq!(
            StopReason::from_anthropic("pause_turn").to_anthropic(),
            "pause_turn"
        );
    }

    #[test]
    fn anthropic_reasons_map_to_openai_finish_reasons() {
        let cases = [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("model_context_window_exceeded", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
            ("pause_turn", "stop"),
        ];
        for (anthropic, openai) in cases {
            assert_eq!(
                StopReason::from_anthropic(anthropic).to_openai(),
                openai,
                "{anthropic}"
            );
        }
    }

    #[test]
    fn openai_reasons_map_to_anthropic_stop_reasons() {
        assert_eq!(StopReason::from_openai("stop").to_anthropic(), "end_turn");
        assert_eq!(
            StopReason::from_openai("length").to_anthropic(),
            "max_tokens"
        );
        assert_eq!(
            StopReason::from_openai("tool_calls").to_anthropic(),
            "tool_use"
        );
        assert_eq!(
            StopReason::from_openai("content_filter").to_anthropic(),
            "refusal"
        );
    }
}
