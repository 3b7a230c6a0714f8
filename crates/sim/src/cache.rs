//! Simulated provider prompt caching, one store of prefix hashes with expiry times shared by
//! the three dialects (their hashes are seeded apart):
//!
//! - Anthropic: prefixes ending at a `cache_control` breakpoint are written on first sight
//!   and read while their TTL (5 minutes, or 1 hour with `"ttl": "1h"`) runs; a read refreshes
//!   it. Prefixes shorter than the model's minimum ([`anthropic_min_tokens`]) are not cached.
//! - OpenAI and Gemini: automatic caching of the longest previously seen prefix, at least
//!   [`OPENAI_MIN_TOKENS`] (Gemini: [`GEMINI_MIN_TOKENS`]) and growing in 128-token steps,
//!   kept [`AUTOMATIC_TTL`] after its last use. OpenAI's `prompt_cache_key` is part of the
//!   hash, so requests under different keys do not share entries.
//!
//! Tokens are the simulator's approximation (a quarter of the characters).

use crate::Sim;
use crate::synth;
use std::time::{Duration, Instant};

/// OpenAI caches prompts from 1024 tokens, in 128-token increments.
pub(crate) const OPENAI_MIN_TOKENS: u64 = 1024;
/// Gemini's implicit caching starts at 2048 tokens here (its smallest published minimum is
/// 1024 for Flash models; the larger figure keeps short test prompts uncached).
pub(crate) const GEMINI_MIN_TOKENS: u64 = 2048;
const STEP_TOKENS: u64 = 128;
/// How long an automatic cache entry lives after its last use (OpenAI: 5 to 10 minutes).
pub(crate) const AUTOMATIC_TTL: Duration = Duration::from_secs(600);
/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 50_000;

/// Anthropic's minimum cacheable prefix for `model`, by family.
pub(crate) fn anthropic_min_tokens(model: &str) -> u64 {
    if model.contains("haiku-4-5") || model.contains("opus-4-5") || model.contains("opus-4-6") {
        4096
    } else if model.contains("haiku-3") || model.contains("3-5-haiku") || model.contains("3-haiku")
    {
        2048
    } else if model.contains("opus-5") || model.contains("fable-5") {
        512
    } else {
        1024
    }
}

/// A `cache_control` breakpoint: the hash of the prefix up to and including its block, the
/// prefix's tokens and whether it asked for the one-hour TTL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Breakpoint {
    pub hash: u64,
    pub tokens: u64,
    pub long: bool,
}

/// Prompt tokens by cache outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct CacheUse {
    pub read: u64,
    pub write_5m: u64,
    pub write_1h: u64,
}

impl CacheUse {
    pub fn written(&self) -> u64 {
        self.write_5m + self.write_1h
    }
}

fn ttl(long: bool) -> Duration {
    Duration::from_secs(if long { 3600 } else { 300 })
}

/// Anthropic: reads the longest live prefix and writes every later breakpoint's segment,
/// under the TTL that breakpoint asked for.
pub(crate) fn settle(sim: &Sim, model: &str, points: &[Breakpoint]) -> CacheUse {
    let min = anthropic_min_tokens(model);
    let points: Vec<Breakpoint> = points.iter().copied().filter(|p| p.tokens >= min).collect();
    let Ok(mut known) = sim.prefixes.lock() else {
        return CacheUse::default();
    };
    let now = Instant::now();
    let live = |h: &u64| known.get(h).is_some_and(|until| *until > now);
    let hit = points.iter().rposition(|p| live(&p.hash));
    let mut usage = CacheUse {
        read: hit.map(|i| points[i].tokens).unwrap_or(0),
        ..CacheUse::default()
    };
    if let Some(p) = hit.map(|i| points[i]) {
        known.insert(p.hash, now + ttl(p.long));
    }
    let mut covered = usage.read;
    for p in &points[hit.map(|i| i + 1).unwrap_or(0)..] {
        let segment = p.tokens.saturating_sub(covered);
        if p.long {
            usage.write_1h += segment;
        } else {
            usage.write_5m += segment;
        }
        covered = covered.max(p.tokens);
        known.insert(p.hash, now + ttl(p.long));
    }
    sweep(&mut known, now);
    usage
}

/// The hashes of a prompt's cacheable prefixes: `(tokens, hash)` at `min` tokens and every
/// 128 tokens after, up to `tokens`, over the prompt's text (a token is four bytes of it).
pub(crate) fn prefixes(seed: &str, text: &str, tokens: u64, min: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut h = synth::hash(&[seed]);
    let bytes = text.as_bytes();
    let mut at = 0usize;
    let mut next = min;
    while next <= tokens {
        let end = ((next * 4) as usize).min(bytes.len());
        for b in &bytes[at..end] {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        at = end;
        out.push((next, h ^ next));
        next += STEP_TOKENS;
    }
    out
}

/// OpenAI and Gemini: the tokens read from the cache (the longest live prefix), every prefix
/// then remembered or refreshed.
pub(crate) fn automatic(sim: &Sim, prefixes: &[(u64, u64)]) -> u64 {
    let Ok(mut known) = sim.prefixes.lock() else {
        return 0;
    };
    let now = Instant::now();
    let read = prefixes
        .iter()
        .rev()
        .find(|(_, h)| known.get(h).is_some_and(|until| *until > now))
        .map_or(0, |(t, _)| *t);
    for (_, h) in prefixes {
        known.insert(*h, now + AUTOMATIC_TTL);
    }
    sweep(&mut known, now);
    read
}

fn sweep(known: &mut std::collections::HashMap<u64, Instant>, now: Instant) {
    if known.len() > SWEEP_AT {
        known.retain(|_, until| *until > now);
    }
}
