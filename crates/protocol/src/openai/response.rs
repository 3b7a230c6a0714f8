//! What Switchyard reads from OpenAI-dialect responses: usage, and text when usage is missing.

use serde::Deserialize;
use std::borrow::Cow;
use switchyard_primitives::TokenUsage;

/// The `usage` object, as OpenAI and the compatible servers report it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek reports its context-cache hits here instead of in `prompt_tokens_details`.
    #[serde(default)]
    pub prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    /// Switchyard's extension for upstreams that bill cache writes (see canonical::PromptDetails).
    #[serde(default)]
    pub cache_write_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_1h_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct CompletionDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    pub fn to_tokens(&self) -> TokenUsage {
        let details = self.prompt_tokens_details.as_ref();
        let cached = details
            .and_then(|d| d.cached_tokens)
            .or(self.prompt_cache_hit_tokens)
            .unwrap_or(0);
        let reasoning = self
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0);
        let mut u = TokenUsage::from_openai(
            self.prompt_tokens.unwrap_or(0),
            cached,
            self.completion_tokens.unwrap_or(0),
            reasoning,
        );
        let writes = details
            .and_then(|d| d.cache_write_tokens)
            .unwrap_or(0)
            .min(u.input);
        u.input -= writes;
        u.cache_write = writes;
        u.cache_write_1h = details
            .and_then(|d| d.cache_write_1h_tokens)
            .unwrap_or(0)
            .min(writes);
        u
    }
}

/// The usage of a non-streamed response body, if it reports one: only the top-level `usage`
/// member is decoded, the rest of the answer (its choices, the bulk) is stepped over by a
/// structural scan (`crate::scan`). A body that is not JSON reports none.
pub fn usage_of(body: &[u8]) -> Option<Usage> {
    let text = std::str::from_utf8(body).ok()?;
    let raw = crate::scan::top_level_member(text, "usage")?;
    serde_json::from_str::<Option<Usage>>(raw).ok().flatten()
}

#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(borrow, default)]
    choices: Vec<CompletionChoice<'a>>,
}

#[derive(Deserialize)]
struct CompletionChoice<'a> {
    #[serde(borrow, default)]
    message: Option<ChunkDelta<'a>>,
}

/// All generated text of a non-streamed completion (content and tool-call arguments),
/// for tokenising when the upstream reports no usage.
pub fn completion_text(body: &[u8]) -> String {
    let mut s = String::new();
    if let Ok(c) = serde_json::from_slice::<Completion>(body) {
        for m in c.choices.iter().filter_map(|c| c.message.as_ref()) {
            m.append_text(&mut s);
        }
    }
    s
}

/// Whether a streamed chunk's JSON text may report usage: a cheap byte search that says no
/// unless some `"usage"` member is followed by something other than `null` (OpenAI sends
/// `"usage":null` in every chunk of an `include_usage` stream but the last). A chunk it says
/// no to need not be decoded for its usage.
pub fn chunk_may_report_usage(data: &str) -> bool {
    // Built once: a searcher's set-up costs more than searching one chunk.
    static USAGE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage\""));
    let bytes = data.as_bytes();
    USAGE.find_iter(bytes).any(|at| {
        let rest = bytes.get(at + 7..).unwrap_or_default();
        let value = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b':'))
            .and_then(|i| rest.get(i..))
            .unwrap_or_default();
        !value.starts_with(b"null")
    })
}

/// One streamed `chat.completion.chunk`, reduced to what the gateway reads.
#[derive(Debug, Deserialize)]
pub struct ChunkView<'a> {
    #[serde(borrow, default)]
    pub choices: Vec<ChunkChoice<'a>>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
pub struct ChunkChoice<'a> {
    #[serde(borrow, default)]
    pub delta: Option<ChunkDelta<'a>>,
    #[serde(borrow, default)]
    pub finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct ChunkDelta<'a> {
    #[serde(borrow, default)]
    pub content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Debug, Deserialize)]
pub struct ToolCallDelta<'a> {
    /// Which call of a parallel set this delta extends.
    #[serde(default)]
    pub index: Option<usize>,
    /// The call's id (on its first delta); the exact cache's fold keeps it.
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub function: Option<FunctionDelta<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub arguments: Option<Cow<'a, str>>,
}

impl ChunkDelta<'_> {
    /// Whether this delta carries generated output (the moment that counts as first token).
    pub fn has_output(&self) -> bool {
        self.content.as_deref().is_some_and(|c| !c.is_empty())
            || self
                .reasoning_content
                .as_deref()
                .is_some_and(|c| !c.is_empty())
            || self.tool_calls.as_ref().is_some_and(|t| !t.is_empty())
    }

    pub fn append_text(&self, s: &mut String) {
        for t in [&self.content, &self.reasoning_content]
            .into_iter()
            .flatten()
        {
            s.push_str(t);
        }
        for call in self.tool_calls.iter().flatten() {
            if let Some(f) = &call.function {
                for t in [&f.name, &f.arguments].into_iter().flatten() {
                    s.push_str(t);
                }
            }
        }
    }
}

impl ChunkView<'_> {
    /// The trailing chunk OpenAI sends for `include_usage`: usage and no choices.
    pub fn is_usage_only(&self) -> bool {
        self.choices.is_empty() && self.usage.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cached_and_reasoning_details() {
        let u = usage_of(br#"{"id":"x","usage":{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,
            "prompt_tokens_details":{"cached_tokens":60},"completion_tokens_details":{"reasoning_tokens":20}}}"#)
            .unwrap()
            .to_tokens();
        assert_eq!(
            (u.input, u.cached_input, u.output, u.reasoning),
            (40, 60, 30, 20)
        );
    }

    #[test]
    fn reads_the_cache_write_extension() {
        // prompt 1000 = 300 uncached + 200 read + 500 written (100 of them with a 1-hour TTL).
        let u = usage_of(br#"{"usage":{"prompt_tokens":1000,"completion_tokens":10,
            "prompt_tokens_details":{"cached_tokens":200,"cache_write_tokens":500,"cache_write_1h_tokens":100}}}"#)
        .unwrap()
        .to_tokens();
        assert_eq!(
            (u.input, u.cached_input, u.cache_write, u.cache_write_1h),
            (300, 200, 500, 100)
        );
    }

    #[test]
    fn reads_deepseek_cache_hits() {
        let u = usage_of(br#"{"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":80,"prompt_cache_miss_tokens":20}}"#)
            .unwrap()
            .to_tokens();
        assert_eq!((u.input, u.cached_input), (20, 80));
    }

    #[test]
    fn missing_usage_is_none_and_text_is_collected() {
        let body = br#"{"choices":[{"message":{"role":"assistant","content":"hello","tool_calls":[{"function":{"name":"f","arguments":"{\"a\":1}"}}]}}]}"#;
        assert!(usage_of(body).is_none());
        assert_eq!(completion_text(body), "hellof{\"a\":1}");
    }

    #[test]
    fn only_a_chunk_with_a_usage_value_may_report_usage() {
        assert!(chunk_may_report_usage(
            r#"{"choices":[],"usage":{"prompt_tokens":1}}"#
        ));
        assert!(chunk_may_report_usage(r#"{"usage" : {"prompt_tokens":1}}"#));
        assert!(!chunk_may_report_usage(
            r#"{"choices":[{"delta":{"content":"x"}}],"usage":null}"#
        ));
        assert!(!chunk_may_report_usage(
            r#"{"choices":[{"delta":{"content":"\"usage\": 3"}}]}"#
        ));
        assert!(!chunk_may_report_usage(
            r#"{"choices":[{"delta":{"content":"x"}}]}"#
        ));
    }

    #[test]
    fn usage_only_chunk_is_recognised() {
        let c: ChunkView = serde_json::from_str(
            r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#,
        )
        .unwrap();
        assert!(c.is_usage_only());
        let c: ChunkView =
            serde_json::from_str(r#"{"choices":[{"delta":{"content":"x"}}],"usage":null}"#)
                .unwrap();
        assert!(!c.is_usage_only());
        assert!(c.choices[0].delta.as_ref().unwrap().has_output());
    }
}
