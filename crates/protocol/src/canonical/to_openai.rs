//! Canonical answer → OpenAI `chat.completion` JSON, for OpenAI clients served by another
//! dialect's upstream.

use super::{Block, ChatResponse};
use serde::Serialize;
use switchyard_primitives::TokenUsage;

/// OpenAI's `usage` object. `prompt_tokens` counts every prompt token (uncached, cache reads
/// and cache writes alike) because OpenAI's is inclusive; cache reads also appear as
/// `prompt_tokens_details.cached_tokens`. Cache writes have no OpenAI field.
#[derive(Debug, Serialize)]
pub struct OpenAiUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub prompt_tokens_details: PromptDetails,
    pub completion_tokens_details: CompletionDetails,
}

/// OpenAI's prompt details, plus two fields OpenAI does not have: cache writes, which other
/// vendors bill apart (Anthropic at 1.25× or 2× input). They are written only when non-zero,
/// so OpenAI clients see the usual shape, and Switchyard's own usage reader prices them.
#[derive(Debug, Serialize)]
pub struct PromptDetails {
    pub cached_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_1h_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Serialize)]
pub struct CompletionDetails {
    pub reasoning_tokens: u64,
}

/// `usage` in OpenAI's shape.
pub fn openai_usage(u: &TokenUsage) -> OpenAiUsage {
    OpenAiUsage {
        prompt_tokens: u.prompt_total(),
        completion_tokens: u.completion_total(),
        total_tokens: u.total(),
        prompt_tokens_details: PromptDetails {
            cached_tokens: u.cached_input,
            cache_write_tokens: u.cache_write,
            cache_write_1h_tokens: u.cache_write_1h,
        },
        completion_tokens_details: CompletionDetails {
            reasoning_tokens: u.reasoning,
        },
    }
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: OpenAiUsage,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
}

#[derive(Serialize)]
pub(crate) struct ToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall<'a>,
}

#[derive(Serialize)]
pub(crate) struct FunctionCall<'a> {
    pub name: &'a str,
    /// OpenAI carries arguments as a JSON *string*.
    pub arguments: &'a str,
}

/// The answer as an OpenAI `chat.completion` body. `created` is the Unix time to report.
///
/// Text blocks are joined into `content` (`null` when the answer is only tool calls); thinking
/// goes to `reasoning_content`, the field DeepSeek-style clients read. Thinking signatures and
/// redacted thinking have no OpenAI field and are dropped, so an OpenAI client cannot replay
/// them on its next turn.
pub fn openai_completion(resp: &ChatResponse, created: u64) -> Vec<u8> {
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut tool_calls = Vec::new();
    for block in &resp.content {
        match block {
            Block::Text { text: t, .. } => text.get_or_insert_with(String::new).push_str(t),
            Block::Thinking { text: t, .. } => {
                reasoning.get_or_insert_with(String::new).push_str(t)
            }
            Block::ToolUse {
                id, name, input, ..
            } => tool_calls.push(ToolCall {
                id,
                kind: "function",
                function: FunctionCall {
                    name,
                    arguments: input.get(),
                },
            }),
            Block::Image { .. } | Block::ToolResult { .. } | Block::RedactedThinking { .. } => {}
        }
    }
    if tool_calls.is_empty() {
        // An empty completion is "", not null: clients commonly call string methods on it.
        text.get_or_insert_with(String::new);
    } else if text.as_deref() == Some("") {
        // Beside tool calls, empty text blocks are no text at all: `null`, as OpenAI answers
        // (and as this answer reads back).
        text = None;
    }
    let body = Completion {
        id: &resp.id,
        object: "chat.completion",
        created,
        model: &resp.model,
        choices: [Choice {
            index: 0,
            message: Message {
                role: "assistant",
                content: text,
                // Thinking blocks with no text (signature only) leave no reasoning to show; an
                // empty `reasoning_content` would read back as no reasoning at all anyway.
                reasoning_content: reasoning.filter(|r| !r.is_empty()),
                tool_calls,
            },
            logprobs: None,
            finish_reason: resp.stop_reason.to_openai(),
        }],
        usage: openai_usage(&resp.usage),
    };
    // Serialising plain structs of strings and numbers into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::StopReason;

    #[test]
    fn a_thinking_block_without_text_writes_no_reasoning_content() {
        let resp = ChatResponse {
            id: "msg_1".into(),
            model: "m".into(),
            content: vec![
                Block::Thinking {
                    text: String::new(),
                    signature: Some("sig".into()),
                },
                Block::text("391"),
            ],
            stop_reason: StopReason::EndTurn,
            usage: TokenUsage::default(),
        };
        let body: serde_json::Value = serde_json::from_slice(&openai_completion(&resp, 1)).unwrap();
        let message = &body["choices"][0]["message"];
        assert_eq!(message["content"], "391");
        assert!(message.get("reasoning_content").is_none(), "{message}");
    }

    #[test]
    fn empty_text_beside_tool_calls_is_null_content() {
        let input = serde_json::value::RawValue::from_string("{}".into()).unwrap();
        let resp = ChatResponse {
            id: "msg_1".into(),
            model: "m".into(),
            content: vec![
                Block::text(""),
                Block::ToolUse {
                    id: "toolu_1".into(),
                    name: "f".into(),
                    input,
                    cache_control: None,
                },
            ],
            stop_reason: StopReason::ToolUse,
            usage: TokenUsage::default(),
        };
        let body: serde_json::Value = serde_json::from_slice(&openai_completion(&resp, 1)).unwrap();
        let message = &body["choices"][0]["message"];
        assert!(message["content"].is_null(), "{message}");
        assert_eq!(message["tool_calls"][0]["id"], "toolu_1");
    }
}
