//! Gemini `GenerateContentResponse` → canonical answer, and `usageMetadata` → [`TokenUsage`].
//! The same type is each chunk of a stream (see `stream`).

use crate::FieldError;
use crate::canonical::{Block, ChatResponse, StopReason};
use serde::Deserialize;
use serde_json::value::RawValue;
use switchyard_primitives::TokenUsage;

/// A `generateContent` response, or one chunk of `streamGenerateContent`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub response_id: Option<String>,
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    /// Set when an error is sent inside a stream instead of an answer.
    #[serde(default)]
    pub error: Option<GoogleError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    #[serde(default)]
    pub content: Option<CandidateContent>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CandidateContent {
    #[serde(default)]
    pub parts: Vec<ResponsePart>,
}

/// One part, flat: text (a thought when `thought` is set) or a function call.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponsePart {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thought: bool,
    #[serde(default)]
    pub function_call: Option<ResponseCall>,
    /// Gemini 3's opaque signature of the thinking behind this part. On a function call it
    /// must be replayed with the call, so it is carried in the tool-call id; on text parts
    /// Gemini does not require it back, and it is dropped.
    #[serde(default)]
    pub thought_signature: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseCall {
    /// Sent by some Gemini endpoints; generated (`call_<n>`) when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub args: Option<Box<RawValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback {
    #[serde(default)]
    pub block_reason: Option<String>,
}

/// Google's error object: `{"code", "message", "status"}`.
#[derive(Debug, Default, Deserialize)]
pub struct GoogleError {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub status: String,
}

/// Gemini's `usageMetadata`. `promptTokenCount` *includes* `cachedContentTokenCount`;
/// `candidatesTokenCount` excludes `thoughtsTokenCount`; tool-use prompt tokens (from
/// built-in tools) are billed as input.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: u64,
    #[serde(default)]
    pub cached_content_token_count: u64,
    #[serde(default)]
    pub candidates_token_count: u64,
    #[serde(default)]
    pub thoughts_token_count: u64,
    #[serde(default)]
    pub tool_use_prompt_token_count: u64,
}

impl UsageMetadata {
    /// As disjoint token kinds: uncached input, cache reads, visible output, reasoning.
    pub fn to_tokens(&self) -> TokenUsage {
        let cached = self.cached_content_token_count.min(self.prompt_token_count);
        TokenUsage {
            input: self.prompt_token_count - cached + self.tool_use_prompt_token_count,
            cached_input: cached,
            cache_write: 0,
            cache_write_1h: 0,
            output: self.candidates_token_count,
            reasoning: self.thoughts_token_count,
        }
    }
}

/// Gemini's `finishReason` as a stop reason. Gemini says `STOP` when it ends its turn with
/// function calls, so `has_calls` turns that into `ToolUse`. The safety family (`SAFETY`,
/// `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`) is a content
/// filter; anything else (`MALFORMED_FUNCTION_CALL`, `OTHER`, …) is kept verbatim.
pub fn stop_reason(reason: &str, has_calls: bool) -> StopReason {
    match reason {
        "STOP" if has_calls => StopReason::ToolUse,
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            StopReason::ContentFilter
        }
        other => StopReason::Other(other.to_string()),
    }
}

/// Parses a `generateContent` response body into the canonical answer.
pub fn parse_response(body: &[u8]) -> Result<ChatResponse, FieldError> {
    let resp: GenerateContentResponse = serde_json::from_slice(body).map_err(|e| {
        FieldError::body(format!(
            "The upstream's Gemini response is not a valid GenerateContentResponse: {e}."
        ))
    })?;
    Ok(ChatResponse::from(resp))
}

/// Only the first candidate is read: the request never asks for more.
impl From<GenerateContentResponse> for ChatResponse {
    fn from(r: GenerateContentResponse) -> Self {
        let usage = r.usage_metadata.unwrap_or_default().to_tokens();
        let candidate = r.candidates.into_iter().next().unwrap_or_default();
        let mut calls = 0;
        let content: Vec<Block> = candidate
            .content
            .unwrap_or_default()
            .parts
            .into_iter()
            .filter_map(|p| Block::from_gemini(p, &mut calls))
            .collect();
        let blocked = r.prompt_feedback.and_then(|f| f.block_reason).is_some();
        let stop_reason = match candidate.finish_reason.as_deref() {
            Some(reason) => stop_reason(reason, calls > 0),
            None if blocked => StopReason::ContentFilter,
            None if calls > 0 => StopReason::ToolUse,
            None => StopReason::EndTurn,
        };
        ChatResponse {
            id: r.response_id.unwrap_or_default(),
            model: r.model_version.unwrap_or_default(),
            content,
            stop_reason,
            usage,
        }
    }
}

impl Block {
    /// A part as a block; `calls` numbers the generated tool-call ids. Parts with no
    /// canonical form (executable code, inline output data) are dropped.
    fn from_gemini(p: ResponsePart, calls: &mut u32) -> Option<Block> {
        if let Some(call) = p.function_call {
            let id = tool_call_id(call.id, *calls, p.thought_signature.as_deref());
            *calls += 1;
            return Some(Block::ToolUse {
                id,
                name: call.name,
                input: call.args.unwrap_or_else(empty_object),
                cache_control: None,
            });
        }
        let text = p.text?;
        Some(if p.thought {
            Block::Thinking {
                text,
                signature: None,
            }
        } else {
            Block::text(text)
        })
    }
}

/// The client's id for the `n`th function call of an answer: Gemini's own id (or `call_<n>`,
/// since Gemini does not always number its calls), with the call's signature folded in.
pub(super) fn tool_call_id(own: Option<String>, n: u32, signature: Option<&str>) -> String {
    let base = own.unwrap_or_else(|| format!("call_{n}"));
    super::signature::encode_id(&base, signature)
}

pub(super) fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_tokens_are_taken_out_of_the_prompt_count() {
        let u: UsageMetadata = serde_json::from_str(
            r#"{"promptTokenCount":3000,"cachedContentTokenCount":1000,"candidatesTokenCount":40,
               "thoughtsTokenCount":200,"totalTokenCount":3240}"#,
        )
        .unwrap();
        let t = u.to_tokens();
        assert_eq!(
            (t.input, t.cached_input, t.output, t.reasoning),
            (2000, 1000, 40, 200)
        );
    }

    #[test]
    fn stop_with_function_calls_is_a_tool_use() {
        assert_eq!(stop_reason("STOP", true), StopReason::ToolUse);
        assert_eq!(stop_reason("STOP", false), StopReason::EndTurn);
        assert_eq!(stop_reason("SAFETY", false), StopReason::ContentFilter);
        assert_eq!(
            stop_reason("MALFORMED_FUNCTION_CALL", false),
            StopReason::Other("MALFORMED_FUNCTION_CALL".into())
        );
    }

    #[test]
    fn invalid_bodies_are_reported_not_panicked_on() {
        assert!(parse_response(b"{\"candidates\":1}").is_err());
        assert!(parse_response(b"not json").is_err());
    }

    #[test]
    fn a_blocked_prompt_is_a_content_filter_stop() {
        let r = parse_response(br#"{"promptFeedback":{"blockReason":"SAFETY"}}"#).unwrap();
        assert_eq!(r.stop_reason, StopReason::ContentFilter);
        assert!(r.content.is_empty());
    }
}
