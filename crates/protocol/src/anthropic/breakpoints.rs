//! Automatic prompt-cache breakpoints for Anthropic targets: where `cache_control` markers go
//! ([`plan`]), and placing them in a canonical request ([`place`]); the raw passthrough body
//! has its own writer in `breakpoints_raw`, sharing the plan.
//!
//! Anthropic caches the prefix of a prompt (tools, then system, then messages) up to a block
//! marked `cache_control`, at most [`MAX_BREAKPOINTS`] per request, and only when that prefix
//! is at least the model's minimum cacheable length. The plan marks, in this order:
//!
//! 1. the last tool, when the tools alone reach the minimum;
//! 2. the last system block, when tools and system reach it;
//! 3. in a conversation (at least one assistant turn), the latest turn, so the next turn reads
//!    the whole of this one, and the last user turn before the latest assistant turn, where
//!    the previous request put its own conversation breakpoint, so this one reads it.
//!
//! A single-turn request gets no conversation breakpoint: its user turn is usually what
//! changes between requests, and writing it to the cache costs 1.25x (2x for 1 hour) on
//! tokens no later request reads. A request that carries any `cache_control` of its own is left
//! untouched: the client manages its cache, and adding markers could exceed the limit of four
//! or write prefixes it chose not to pay for.
//!
//! Token counts are estimates (a quarter of the bytes), made without a tokenizer: a wrong
//! estimate costs at most a breakpoint Anthropic ignores (a prefix under the minimum is
//! processed uncached, without error) or one not placed. Must never know HTTP or routing.

use crate::canonical::{Block, CacheControl, ChatRequest, Role};

/// Anthropic accepts at most this many `cache_control` blocks in one request.
pub const MAX_BREAKPOINTS: usize = 4;

/// The minimum cacheable prefix when the catalog does not say (Anthropic's figure for most
/// Sonnet and Opus models).
pub const DEFAULT_MIN_TOKENS: u64 = 1024;

/// The `anthropic-beta` flag that introduced the one-hour TTL. Sent with one-hour breakpoints;
/// accounts where the TTL is generally available ignore it.
pub const EXTENDED_TTL_BETA: &str = "extended-cache-ttl-2025-04-11";

/// How long a cache entry written at a breakpoint lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheTtl {
    /// Anthropic's default, written without a `ttl` member.
    FiveMinutes,
    /// `"ttl": "1h"`: writes cost 2x the input price instead of 1.25x.
    OneHour,
}

impl CacheTtl {
    /// The `cache_control` object as JSON text.
    pub fn json(self) -> &'static str {
        match self {
            CacheTtl::FiveMinutes => r#"{"type":"ephemeral"}"#,
            CacheTtl::OneHour => r#"{"type":"ephemeral","ttl":"1h"}"#,
        }
    }

    fn canonical(self) -> CacheControl {
        CacheControl {
            ttl: (self == CacheTtl::OneHour).then(|| "1h".to_string()),
        }
    }
}

/// Where a breakpoint goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spot {
    /// The last tool definition.
    Tools,
    /// The last system block.
    System,
    /// The last markable block of the turn at this index.
    Turn(usize),
}

/// A prompt as the plan sees it: estimated tokens of the tools, the system prompt and each
/// turn, in Anthropic's prefix order.
#[derive(Debug, Clone, Default)]
pub struct Outline {
    pub tools: u64,
    pub system: u64,
    pub turns: Vec<TurnSize>,
}

#[derive(Debug, Clone, Copy)]
pub struct TurnSize {
    pub assistant: bool,
    pub tokens: u64,
    /// Has a block that may carry `cache_control` (thinking blocks may not).
    pub markable: bool,
}

/// The estimate used throughout: a quarter of the bytes, rounded up.
pub fn estimate_tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4)
}

/// The breakpoints for `outline`, each where the prefix up to it is at least `min_tokens`;
/// at most [`MAX_BREAKPOINTS`], in prefix order.
pub fn plan(outline: &Outline, min_tokens: u64) -> Vec<Spot> {
    let mut spots = Vec::with_capacity(MAX_BREAKPOINTS);
    let mut prefix = outline.tools;
    if outline.tools > 0 && prefix >= min_tokens {
        spots.push(Spot::Tools);
    }
    prefix += outline.system;
    if outline.system > 0 && prefix >= min_tokens {
        spots.push(Spot::System);
    }
    let turns = &outline.turns;
    let Some(last_assistant) = turns.iter().rposition(|t| t.assistant) else {
        return spots;
    };
    let previous = turns[..last_assistant].iter().rposition(|t| !t.assistant);
    let latest = turns.len() - 1;
    let mut through = Vec::with_capacity(turns.len());
    for t in turns {
        prefix += t.tokens;
        through.push(prefix);
    }
    for i in previous.into_iter().chain(Some(latest)) {
        if turns[i].markable && through[i] >= min_tokens && spots.len() < MAX_BREAKPOINTS {
            spots.push(Spot::Turn(i));
        }
    }
    spots
}

/// Places the planned breakpoints in a canonical request bound for an Anthropic target;
/// returns how many were placed (0 when the client placed its own).
pub fn place(req: &mut ChatRequest, ttl: CacheTtl, min_tokens: u64) -> usize {
    if has_breakpoint(req) {
        return 0;
    }
    let spots = plan(&outline(req), min_tokens);
    for spot in &spots {
        match *spot {
            Spot::Tools => {
                if let Some(t) = req.tools.last_mut() {
                    t.cache_control = Some(ttl.canonical());
                }
            }
            Spot::System => {
                if let Some(slot) = req.system.last_mut().and_then(slot_of) {
                    *slot = Some(ttl.canonical());
                }
            }
            Spot::Turn(i) => {
                let blocks = req.messages.get_mut(i).map(|t| &mut t.content);
                if let Some(slot) = blocks.and_then(|b| b.iter_mut().rev().find_map(slot_of)) {
                    *slot = Some(ttl.canonical());
                }
            }
        }
    }
    spots.len()
}

/// The block's `cache_control` slot, if its type may carry one.
fn slot_of(block: &mut Block) -> Option<&mut Option<CacheControl>> {
    match block {
        Block::Text { cache_control, .. }
        | Block::Image { cache_control, .. }
        | Block::ToolUse { cache_control, .. }
        | Block::ToolResult { cache_control, .. } => Some(cache_control),
        Block::Thinking { .. } | Block::RedactedThinking { .. } => None,
    }
}

fn marked(block: &Block) -> bool {
    match block {
        Block::Text { cache_control, .. }
        | Block::Image { cache_control, .. }
        | Block::ToolUse { cache_control, .. } => cache_control.is_some(),
        Block::ToolResult {
            cache_control,
            content,
            ..
        } => cache_control.is_some() || content.iter().any(marked),
        Block::Thinking { .. } | Block::RedactedThinking { .. } => false,
    }
}

/// Whether the client placed any breakpoint itself.
pub fn has_breakpoint(req: &ChatRequest) -> bool {
    req.tools.iter().any(|t| t.cache_control.is_some())
        || req.system.iter().any(marked)
        || req.messages.iter().flat_map(|t| &t.content).any(marked)
}

fn block_bytes(block: &Block) -> usize {
    match block {
        Block::Text { text, .. } => text.len(),
        // Anthropic bills an image by its pixels; about a megapixel is ~1,600 tokens.
        Block::Image { .. } => 6400,
        Block::ToolUse { name, input, .. } => name.len() + input.get().len(),
        Block::ToolResult { content, .. } => content.iter().map(block_bytes).sum::<usize>() + 16,
        Block::Thinking { text, .. } => text.len(),
        Block::RedactedThinking { data } => data.len(),
    }
}

/// The canonical request's outline.
pub fn outline(req: &ChatRequest) -> Outline {
    let tools = req
        .tools
        .iter()
        .map(|t| {
            t.name.len()
                + t.description.as_ref().map_or(0, String::len)
                + t.parameters.as_ref().map_or(0, |p| p.get().len())
        })
        .sum();
    let system = req.system.iter().map(block_bytes).sum();
    let turns = req
        .messages
        .iter()
        .map(|t| TurnSize {
            assistant: t.role == Role::Assistant,
            tokens: estimate_tokens(t.content.iter().map(block_bytes).sum::<usize>() + 8),
            markable: t
                .content
                .iter()
                .any(|b| !matches!(b, Block::Thinking { .. } | Block::RedactedThinking { .. })),
        })
        .collect();
    Outline {
        tools: estimate_tokens(tools),
        system: estimate_tokens(system),
        turns,
    }
}

#[cfg(test)]
#[path = "breakpoints_tests.rs"]
mod tests;
