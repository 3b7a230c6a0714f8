//! Anthropic-style prompt caching: prefixes ending at a `cache_control` breakpoint are written
//! on first sight and read afterwards. The simulator remembers prefix hashes for its lifetime.
//! Prefixes shorter than [`MIN_TOKENS`] are not cached, as on the real API.

use crate::Sim;

/// The shortest cacheable prefix (Anthropic's minimum for Sonnet and Opus models).
pub(crate) const MIN_TOKENS: u64 = 1024;

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

/// Reads the longest remembered prefix and writes every later breakpoint's segment, under the
/// TTL that breakpoint asked for.
pub(crate) fn settle(sim: &Sim, points: &[Breakpoint]) -> CacheUse {
    let points: Vec<Breakpoint> = points
        .iter()
        .copied()
        .filter(|p| p.tokens >= MIN_TOKENS)
        .collect();
    let Ok(mut known) = sim.prefixes.lock() else {
        return CacheUse::default();
    };
    let hit = points.iter().rposition(|p| known.contains(&p.hash));
    let mut usage = CacheUse {
        read: hit.map(|i| points[i].tokens).unwrap_or(0),
        ..CacheUse::default()
    };
    let mut covered = usage.read;
    for p in &points[hit.map(|i| i + 1).unwrap_or(0)..] {
        let segment = p.tokens.saturating_sub(covered);
        if p.long {
            usage.write_1h += segment;
        } else {
            usage.write_5m += segment;
        }
        covered = covered.max(p.tokens);
        known.insert(p.hash);
    }
    usage
}
