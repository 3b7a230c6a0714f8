//! Repeated stable prefixes: each gateway record carries the fingerprint of its system prompt
//! and tools ([`PromptPrefix`]); the writer keeps, per hour × workload × provider × model ×
//! fingerprint, how many requests sent it and how many of them engaged the provider's prompt
//! cache (read or wrote it), in `prompt_prefixes`. A fingerprint seen n times in an hour with k
//! requests engaging the cache left `n - 1 - k` repeats uncached (the first sight can only
//! write), which is what [`repeats`] reports and the strategy report prices.
//!
//! An hour approximates the caches' lifetimes (Anthropic 5 minutes or 1 hour, OpenAI 5 to 60
//! minutes): repeats further apart could not have been cached anyway.

use crate::{LedgerError, Record};
use chrono::NaiveDate;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The stable prefix of one request: a hash of its system prompt and tools, and its estimated
/// tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptPrefix {
    pub hash: u64,
    pub tokens: u64,
}

impl PromptPrefix {
    /// As stored: 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

/// One workload's repeated prefixes on one model, over the period asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrefixRepeats {
    pub workload: String,
    pub provider: String,
    pub model: String,
    /// Requests that carried a fingerprinted prefix.
    pub requests: u64,
    /// Requests whose prefix had been sent earlier in the same hour and was not served from,
    /// or written to, the cache.
    pub uncached_repeats: u64,
    /// Their prefix tokens: what prompt caching could have served.
    pub uncached_tokens: u64,
}

pub(crate) type Key = (String, String, String, String, String, bool);

/// The cells one batch adds to `prompt_prefixes`.
#[derive(Default)]
pub(crate) struct PrefixCells(pub(crate) HashMap<Key, (i64, i64, i64)>);

impl PrefixCells {
    pub(crate) fn add(&mut self, r: &Record) {
        let (Some(p), Some(provider), Some(model)) = (r.prefix, &r.provider, &r.model) else {
            return;
        };
        if !r.is_success() {
            return;
        }
        let key = (
            r.ts.format("%Y-%m-%dT%H").to_string(),
            r.workload.clone().unwrap_or_default(),
            provider.clone(),
            model.clone(),
            p.hex(),
            r.shadow,
        );
        let engaged = r.usage.cached_input > 0 || r.usage.cache_write > 0;
        let c = self.0.entry(key).or_default();
        c.0 += 1;
        c.1 += p.tokens as i64;
        c.2 += i64::from(engaged);
    }

    pub(crate) fn merge(self, tx: &rusqlite::Transaction<'_>) -> Result<(), LedgerError> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO prompt_prefixes (hour, workload, provider, model, prefix_hash, shadow, requests, prefix_tokens, cached_requests)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (hour, workload, provider, model, prefix_hash, shadow) DO UPDATE SET
               requests = requests + excluded.requests,
               prefix_tokens = prefix_tokens + excluded.prefix_tokens,
               cached_requests = cached_requests + excluded.cached_requests",
        )?;
        for ((hour, workload, provider, model, hash, shadow), (n, tokens, cached)) in self.0 {
            upsert.execute(params![
                hour, workload, provider, model, hash, shadow, n, tokens, cached
            ])?;
        }
        Ok(())
    }
}

/// Repeated prefixes per workload × provider × model, production traffic unless
/// `include_shadow`, from `since` (inclusive) when given; largest uncached tokens first.
pub fn repeats(
    conn: &Connection,
    since: Option<NaiveDate>,
    include_shadow: bool,
) -> Result<Vec<PrefixRepeats>, LedgerError> {
    let w = crate::Window {
        include_shadow,
        ..crate::Window::since(since)
    };
    repeats_in(conn, &w)
}

/// [`repeats`] over any [`crate::Window`].
pub(crate) fn repeats_in(
    conn: &Connection,
    w: &crate::Window,
) -> Result<Vec<PrefixRepeats>, LedgerError> {
    let (from, until) = w.hours();
    let mut stmt = conn.prepare_cached(
        "SELECT workload, provider, model, SUM(requests),
                SUM(MAX(requests - 1 - cached_requests, 0)),
                SUM(MAX(requests - 1 - cached_requests, 0) * prefix_tokens / requests)
         FROM prompt_prefixes WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0)
         GROUP BY 1, 2, 3",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let n = |i: usize| -> rusqlite::Result<u64> { r.get::<_, i64>(i).map(|v| v.max(0) as u64) };
        out.push(PrefixRepeats {
            workload: r.get(0)?,
            provider: r.get(1)?,
            model: r.get(2)?,
            requests: n(3)?,
            uncached_repeats: n(4)?,
            uncached_tokens: n(5)?,
        });
    }
    out.sort_by(|a, b| {
        b.uncached_tokens
            .cmp(&a.uncached_tokens)
            .then_with(|| a.workload.cmp(&b.workload))
    });
    Ok(out)
}
