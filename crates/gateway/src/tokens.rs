//! Token counting for upstreams that report no usage (llama.cpp's server ignores
//! `include_usage`), for `tpm` limits near their edge and for the context-window fit check:
//! OpenAI's `o200k_base` BPE, a real tokenizer.
//!
//! Its tables cost about 45 MiB of memory, so they are loaded the first time a count is
//! actually needed, never at startup and never for budgets (which reserve a byte bound,
//! `reserve.rs`); [`loaded`] tells whether that happened. Counts are estimates for non-OpenAI
//! models (their own tokenizers differ by a few percent); records counted here carry
//! `usage_estimated = true`.

use std::sync::OnceLock;

/// Tokens OpenAI's chat format adds per message, and to prime the reply.
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

/// The tokenizer, built on first use; `None` if its embedded tables failed to load (then
/// counts fall back to [`estimate`]).
static BPE: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();

fn bpe() -> Option<&'static tiktoken_rs::CoreBPE> {
    BPE.get_or_init(|| match tiktoken_rs::o200k_base() {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::error!(
                "the o200k_base tokenizer did not load ({e}); counting 4 bytes a token"
            );
            None
        }
    })
    .as_ref()
}

/// Whether the tokenizer's tables are in memory (they load on the first exact count).
pub fn loaded() -> bool {
    BPE.get().is_some()
}

/// A cheap token estimate from a byte length: four bytes a token, rounded up (English text
/// under `o200k_base` averages a little over four).
pub fn estimate(bytes: u64) -> u64 {
    bytes.div_ceil(4)
}

/// Tokens in `text`, encoded as ordinary text (special-token markers count as text).
pub fn count(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    match bpe() {
        Some(b) => b.encode_ordinary(text).len() as u64,
        None => estimate(text.len() as u64),
    }
}

/// Prompt tokens of a chat: each piece of text plus the chat format's framing.
pub fn count_chat_prompt<'a>(messages: usize, texts: impl Iterator<Item = &'a str>) -> u64 {
    texts.map(count).sum::<u64>() + messages as u64 * PER_MESSAGE + REPLY_PRIMING
}

/// Prompt tokens of a canonical chat (any client dialect): text, tool calls and results.
pub fn count_canonical_prompt(req: &switchyard_protocol::canonical::ChatRequest) -> u64 {
    use switchyard_protocol::canonical::Block;
    fn blocks(bs: &[Block]) -> u64 {
        bs.iter()
            .map(|b| match b {
                Block::Text { text, .. } | Block::Thinking { text, .. } => count(text),
                Block::ToolUse { name, input, .. } => count(name) + count(input.get()),
                Block::ToolResult { content, .. } => blocks(content),
                Block::Image { .. } | Block::RedactedThinking { .. } => 0,
            })
            .sum()
    }
    blocks(&req.system)
        + req
            .messages
            .iter()
            .map(|t| blocks(&t.content) + PER_MESSAGE)
            .sum::<u64>()
        + REPLY_PRIMING
}

/// What a request needs from a target, for the router's fit check and cost ranking.
///
/// The prompt's size is only tokenised when it might matter: the raw body's length is an upper
/// bound on its tokens (a byte-level BPE never makes more tokens than bytes, and each message's
/// JSON framing outweighs its format tokens), so when even that fits the smallest context
/// window of the route, a quarter of it serves as the estimate and no tokeniser runs.
pub(crate) struct Demand {
    pub body_len: usize,
    pub max_output: Option<u64>,
    pub stream: bool,
    pub tools: bool,
    pub vision: bool,
    pub json_schema: bool,
}

impl Demand {
    /// Whether the fit check will count the prompt exactly: only when its byte bound (and the
    /// output limit) might not fit the route's smallest context window.
    pub(crate) fn needs_exact<M>(&self, route: &switchyard_router::Route<M>) -> bool {
        let smallest = route
            .targets
            .iter()
            .filter_map(|t| t.profile.context_window)
            .min();
        smallest.is_some_and(|w| self.body_len as u64 + self.max_output.unwrap_or(0) > w)
    }

    pub(crate) fn needs<M>(
        self,
        route: &switchyard_router::Route<M>,
        exact: impl FnOnce() -> u64,
    ) -> switchyard_router::Needs {
        let prompt_tokens = if self.needs_exact(route) {
            exact()
        } else {
            self.body_len as u64 / 4
        };
        switchyard_router::Needs {
            tools: self.tools,
            vision: self.vision,
            json_schema: self.json_schema,
            prompt_tokens,
            max_output: self.max_output,
            stream: self.stream,
            cache_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_a_real_bpe() {
        assert_eq!(count(""), 0);
        assert_eq!(count("hello world"), 2);
        // Unicode and long words split into several tokens.
        assert!(count("Überraschungsei 🥚") > 3);
    }

    #[test]
    fn chat_framing_is_added() {
        assert_eq!(
            count_chat_prompt(2, ["hello world", "hi"].into_iter()),
            2 + 1 + 2 * 3 + 3
        );
    }
}
