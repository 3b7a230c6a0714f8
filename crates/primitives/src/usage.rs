//! Token usage by kind — the unit every price and every ledger record is counted in.

use serde::{Deserialize, Serialize};

/// The kinds of token a provider bills differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Input,
    CachedInput,
    CacheWrite,
    Output,
    Reasoning,
}

/// Tokens of one request, split so that each kind can be priced on its own.
///
/// Invariant: `input` counts only uncached, unwritten prompt tokens; `cached_input` and
/// `cache_write` are disjoint from it. `output` excludes `reasoning`. Providers that report
/// inclusive totals (OpenAI's `prompt_tokens` includes cached tokens) are normalised on the way in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input: u64,
    pub cached_input: u64,
    pub cache_write: u64,
    /// Cache writes with the longer (1 hour) lifetime, a subset priced apart where known.
    #[serde(default)]
    pub cache_write_1h: u64,
    pub output: u64,
    pub reasoning: u64,
}

impl TokenUsage {
    /// All prompt-side tokens: what the context window sees.
    pub fn prompt_total(&self) -> u64 {
        self.input + self.cached_input + self.cache_write
    }

    /// All generated tokens, reasoning included.
    pub fn completion_total(&self) -> u64 {
        self.output + self.reasoning
    }

    pub fn total(&self) -> u64 {
        self.prompt_total() + self.completion_total()
    }

    /// From OpenAI-style inclusive counts: `prompt_tokens` includes `cached_tokens`,
    /// `completion_tokens` includes `reasoning_tokens`.
    pub fn from_openai(prompt: u64, cached: u64, completion: u64, reasoning: u64) -> Self {
        TokenUsage {
            input: prompt.saturating_sub(cached),
            cached_input: cached.min(prompt),
            cache_write: 0,
            cache_write_1h: 0,
            output: completion.saturating_sub(reasoning),
            reasoning: reasoning.min(completion),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_counts_are_split_into_disjoint_kinds() {
        let u = TokenUsage::from_openai(1000, 400, 300, 120);
        assert_eq!(
            (u.input, u.cached_input, u.output, u.reasoning),
            (600, 400, 180, 120)
        );
        assert_eq!(u.prompt_total(), 1000);
        assert_eq!(u.completion_total(), 300);
    }

    #[test]
    fn inconsistent_counts_never_underflow() {
        let u = TokenUsage::from_openai(10, 50, 5, 9);
        assert_eq!(
            (u.input, u.cached_input, u.output, u.reasoning),
            (0, 10, 0, 5)
        );
    }
}
