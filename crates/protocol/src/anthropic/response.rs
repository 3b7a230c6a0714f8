//! Anthropic Messages response body → canonical answer, and Anthropic usage → [`TokenUsage`].

use crate::FieldError;
use crate::canonical::{Block, ChatResponse, StopReason};
use serde::Deserialize;
use serde_json::value::RawValue;
use switchyard_primitives::TokenUsage;

/// A non-streamed Messages response (`"type": "message"`).
#[derive(Debug, Deserialize)]
pub struct MessagesResponse {
    pub id: String,
    pub model: String,
    #[serde(default)]
    pub content: Vec<ResponseBlock>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub usage: Usage,
}

/// One content block, flat: each block type fills its own fields. (A tagged enum would buffer
/// the block, which a borrowed-as-raw `input` cannot survive.)
#[derive(Debug, Deserialize)]
pub struct ResponseBlock {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub input: Option<Box<RawValue>>,
}

/// Anthropic's `usage`. Its `input_tokens` excludes cache reads and writes, so the three add
/// up to the prompt; `output_tokens` includes thinking, which newer answers also report apart
/// in `output_tokens_details` (then counted as reasoning, see [`Usage::to_tokens`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation: Option<CacheCreation>,
    #[serde(default)]
    pub output_tokens_details: Option<OutputDetails>,
}

/// The thinking share of `output_tokens`. Anthropic names it `thinking_tokens`; a
/// `reasoning_tokens` spelling (OpenAI's, which a successor field may take) is read too.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct OutputDetails {
    #[serde(default, alias = "reasoning_tokens")]
    pub thinking_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct CacheCreation {
    #[serde(default)]
    pub ephemeral_5m_input_tokens: Option<u64>,
    #[serde(default)]
    pub ephemeral_1h_input_tokens: Option<u64>,
}

impl Usage {
    /// Overwrites the counts `later` reports. Stream `message_delta` usage is cumulative and
    /// may repeat or omit the prompt counts of `message_start`.
    pub fn update(&mut self, later: &Usage) {
        let fields = [
            (&mut self.input_tokens, later.input_tokens),
            (&mut self.output_tokens, later.output_tokens),
            (
                &mut self.cache_read_input_tokens,
                later.cache_read_input_tokens,
            ),
            (
                &mut self.cache_creation_input_tokens,
                later.cache_creation_input_tokens,
            ),
        ];
        for (mine, theirs) in fields {
            if theirs.is_some() {
                *mine = theirs;
            }
        }
        if later.cache_creation.is_some() {
            self.cache_creation.clone_from(&later.cache_creation);
        }
        if later.thinking_tokens().is_some() {
            self.output_tokens_details
                .clone_from(&later.output_tokens_details);
        }
    }

    /// The thinking tokens the answer reports apart, if it does.
    fn thinking_tokens(&self) -> Option<u64> {
        self.output_tokens_details.as_ref()?.thinking_tokens
    }

    /// As disjoint token kinds: `cache_write` is every cache write, `cache_write_1h` the
    /// one-hour subset of it; reported thinking tokens are taken out of `output_tokens` into
    /// `reasoning` (never more than the output count, so inconsistent counts cannot underflow).
    pub fn to_tokens(&self) -> TokenUsage {
        let cache_write = self.cache_creation_input_tokens.unwrap_or(0);
        let one_hour = self
            .cache_creation
            .as_ref()
            .and_then(|c| c.ephemeral_1h_input_tokens)
            .unwrap_or(0);
        let output = self.output_tokens.unwrap_or(0);
        let reasoning = self.thinking_tokens().unwrap_or(0).min(output);
        TokenUsage {
            input: self.input_tokens.unwrap_or(0),
            cached_input: self.cache_read_input_tokens.unwrap_or(0),
            cache_write,
            cache_write_1h: one_hour.min(cache_write),
            output: output - reasoning,
            reasoning,
        }
    }
}

/// The `usage` of a Messages response body, read without decoding the content; `None` when
/// the body is not JSON or reports no usage.
pub fn usage_of(body: &[u8]) -> Option<Usage> {
    let text = std::str::from_utf8(body).ok()?;
    let raw = crate::scan::top_level_member(text, "usage")?;
    serde_json::from_str::<Option<Usage>>(raw).ok().flatten()
}

/// Parses a Messages response body into the canonical answer.
pub fn parse_response(body: &[u8]) -> Result<ChatResponse, FieldError> {
    let resp: MessagesResponse = serde_json::from_slice(body).map_err(|e| {
        FieldError::body(format!(
            "The upstream's Anthropic response is not a valid Messages response: {e}."
        ))
    })?;
    Ok(ChatResponse::from(resp))
}

impl From<MessagesResponse> for ChatResponse {
    fn from(r: MessagesResponse) -> Self {
        ChatResponse {
            usage: r.usage.to_tokens(),
            stop_reason: r
                .stop_reason
                .as_deref()
                .map_or(StopReason::EndTurn, StopReason::from_anthropic),
            content: r
                .content
                .into_iter()
                .filter_map(Block::from_anthropic)
                .collect(),
            id: r.id,
            model: r.model,
        }
    }
}

impl Block {
    /// A response block, or `None` for block types with no canonical form yet (server tool
    /// calls and their results, citations-only blocks).
    fn from_anthropic(b: ResponseBlock) -> Option<Block> {
        match b.kind.as_str() {
            "text" => Some(Block::text(b.text.unwrap_or_default())),
            "thinking" => Some(Block::Thinking {
                text: b.thinking.unwrap_or_default(),
                signature: b.signature,
            }),
            "redacted_thinking" => Some(Block::RedactedThinking {
                data: b.data.unwrap_or_default(),
            }),
            "tool_use" => Some(Block::ToolUse {
                id: b.id.unwrap_or_default(),
                name: b.name.unwrap_or_default(),
                input: b.input.unwrap_or_else(empty_object),
                cache_control: None,
            }),
            _ => None,
        }
    }
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hour_cache_writes_are_a_subset_of_cache_writes() {
        let u: Usage = serde_json::from_str(
            r#"{"input_tokens":10,"cache_read_input_tokens":200,"cache_creation_input_tokens":300,
               "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":7}"#,
        )
        .unwrap_or_default();
        let t = u.to_tokens();
        assert_eq!(
            (
                t.input,
                t.cached_input,
                t.cache_write,
                t.cache_write_1h,
                t.output
            ),
            (10, 200, 300, 200, 7)
        );
    }

    #[test]
    fn later_usage_overwrites_only_what_it_reports() {
        let mut u = Usage {
            input_tokens: Some(5),
            output_tokens: Some(1),
            cache_read_input_tokens: Some(9),
            ..Usage::default()
        };
        u.update(&Usage {
            output_tokens: Some(42),
            ..Usage::default()
        });
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.cache_read_input_tokens),
            (Some(5), Some(42), Some(9))
        );
    }

    #[test]
    fn reported_thinking_tokens_are_counted_as_reasoning_not_output() {
        let u: Usage = serde_json::from_str(
            r#"{"input_tokens":10,"output_tokens":500,"output_tokens_details":{"thinking_tokens":380}}"#,
        )
        .unwrap_or_default();
        let t = u.to_tokens();
        assert_eq!(
            (t.output, t.reasoning, t.completion_total()),
            (120, 380, 500)
        );
        // The successor spelling, and a count larger than the output, which is capped.
        let u: Usage = serde_json::from_str(
            r#"{"output_tokens":5,"output_tokens_details":{"reasoning_tokens":9}}"#,
        )
        .unwrap_or_default();
        assert_eq!((u.to_tokens().output, u.to_tokens().reasoning), (0, 5));
    }

    #[test]
    fn a_stream_keeps_the_thinking_tokens_its_last_usage_reports() {
        let mut u: Usage =
            serde_json::from_str(r#"{"input_tokens":7,"output_tokens":1}"#).unwrap_or_default();
        let delta: Usage = serde_json::from_str(
            r#"{"output_tokens":300,"output_tokens_details":{"thinking_tokens":200}}"#,
        )
        .unwrap_or_default();
        u.update(&delta);
        u.update(&Usage::default());
        let t = u.to_tokens();
        assert_eq!((t.input, t.output, t.reasoning), (7, 100, 200));
    }

    #[test]
    fn usage_is_read_without_the_content() {
        let body = br#"{"id":"msg_1","content":[{"type":"mystery","x":[1]}],"usage":{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":5}}"#;
        let u = usage_of(body).unwrap_or_default().to_tokens();
        assert_eq!((u.input, u.output, u.cached_input), (3, 4, 5));
        assert!(usage_of(br#"{"id":"msg_1"}"#).is_none());
        assert!(usage_of(b"not json").is_none());
    }

    #[test]
    fn invalid_bodies_are_reported_not_panicked_on() {
        assert!(parse_response(b"{\"id\":1}").is_err());
        assert!(parse_response(b"not json").is_err());
    }
}
