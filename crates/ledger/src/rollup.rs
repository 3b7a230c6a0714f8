//! The hourly rollup: one row per hour × workload × route × provider × model × key × team ×
//! shadow, maintained in the same transaction as the records it sums.
//!
//! Invariants: a record adds `request_count` requests (not 1), so aggregated imports count
//! every request they stand for; latency and overhead sums carry their own counts, so imported
//! buckets without timings do not dilute the averages.

use crate::{LedgerError, Record};
use rusqlite::params;
use std::collections::HashMap;
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

#[derive(Default)]
pub(crate) struct RollupCell {
    pub(crate) requests: i64,
    pub(crate) errors: i64,
    pub(crate) streamed: i64,
    pub(crate) estimated: i64,
    pub(crate) usage: TokenUsage,
    pub(crate) cost: Money,
    pub(crate) latency_ms: f64,
    pub(crate) latency_count: i64,
    pub(crate) ttft_ms: f64,
    pub(crate) ttft_count: i64,
    pub(crate) overhead_us: i64,
    pub(crate) overhead_count: i64,
    /// Cache hits and their savings, per lever (`exact`, `semantic`).
    pub(crate) exact: (i64, Money),
    pub(crate) semantic: (i64, Money),
}

impl RollupCell {
    /// Adds one newly inserted record.
    fn add(&mut self, r: &Record) {
        let n = r.request_count.max(1) as i64;
        let nf = n as f64;
        self.requests += n;
        self.errors += if r.is_success() { 0 } else { n };
        self.streamed += if r.streamed { n } else { 0 };
        self.estimated += if r.usage_estimated { n } else { 0 };
        self.usage.input += r.usage.input;
        self.usage.cached_input += r.usage.cached_input;
        self.usage.cache_write += r.usage.cache_write;
        self.usage.output += r.usage.output;
        self.usage.reasoning += r.usage.reasoning;
        self.cost += r.cost_usd.unwrap_or(Money::ZERO);
        if r.has_latency() {
            // `latency_ms` is the mean per request for aggregated records.
            self.latency_ms += r.latency_ms * nf;
            self.latency_count += n;
        }
        if let Some(t) = r.ttft_ms {
            self.ttft_ms += t * nf;
            self.ttft_count += n;
        }
        if r.is_gateway() {
            self.overhead_us += r.overhead_us as i64 * n;
            self.overhead_count += n;
        }
        let lever = match r.cache.as_deref() {
            Some(crate::CACHE_EXACT) => Some(&mut self.exact),
            Some(crate::CACHE_SEMANTIC) => Some(&mut self.semantic),
            _ => None,
        };
        if let Some((hits, saved)) = lever {
            *hits += n;
            *saved += r.saved_usd.unwrap_or(Money::ZERO);
        }
    }
}

/// (hour since the epoch, workload, route, provider, model, key, team, shadow), borrowed from
/// the batch's records: a record adds to its cell without a string copied or a time formatted
/// (the hour is spelled out once per cell, in [`Rollup::merge`]).
pub(crate) type RollupKey<'a> = (
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    bool,
);

/// The cells touched by one batch, and the workload feature profiles it extends.
#[derive(Default)]
pub(crate) struct Rollup<'a> {
    pub(crate) cells: HashMap<RollupKey<'a>, RollupCell>,
    /// (workload, features, shadow) → (requests, largest prompt per request).
    pub(crate) profiles: HashMap<(&'a str, &'a str, bool), (i64, i64)>,
    pub(crate) prefixes: crate::prefix::PrefixCells,
}

impl<'a> Rollup<'a> {
    pub(crate) fn add(&mut self, r: &'a Record) {
        self.cells.entry(key(r)).or_default().add(r);
        self.prefixes.add(r);
        if r.is_success() {
            let n = r.request_count.max(1);
            let prompt = (r.usage.prompt_total() / n) as i64;
            let p = self
                .profiles
                .entry((
                    r.workload.as_deref().unwrap_or_default(),
                    &r.features,
                    r.shadow,
                ))
                .or_default();
            p.0 += n as i64;
            p.1 = p.1.max(prompt);
        }
    }

    fn merge_profiles(
        profiles: HashMap<(&'a str, &'a str, bool), (i64, i64)>,
        tx: &rusqlite::Transaction<'_>,
    ) -> Result<(), LedgerError> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO workload_features (workload, features, shadow, requests, max_prompt_tokens) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (workload, features, shadow) DO UPDATE SET
               requests = requests + excluded.requests,
               max_prompt_tokens = MAX(max_prompt_tokens, excluded.max_prompt_tokens)",
        )?;
        for ((workload, features, shadow), (requests, max_prompt)) in profiles {
            upsert.execute(params![workload, features, shadow, requests, max_prompt])?;
        }
        Ok(())
    }

    /// Adds this batch's cells into the stored rollup. Costs are summed as exact decimals in
    /// Rust (SQLite has no decimal type), so read-modify-write per touched cell.
    pub(crate) fn merge(self, tx: &rusqlite::Transaction<'_>) -> Result<(), LedgerError> {
        let mut get = tx.prepare_cached(
            "SELECT cost_usd, exact_saved_usd, semantic_saved_usd FROM rollup_hourly WHERE hour=?1 AND workload=?2 AND route=?3 AND provider=?4 AND model=?5 AND key_id=?6 AND team=?7 AND shadow=?8",
        )?;
        Self::merge_profiles(self.profiles, tx)?;
        self.prefixes.merge(tx)?;
        let mut upsert = tx.prepare_cached(UPSERT_ROLLUP_SQL)?;
        for (k, c) in self.cells {
            let hour = hour_label(k.0);
            let old = stored_money(&mut get, &hour, &k)?;
            let text = |m: Money| m.decimal().normalize().to_string();
            let cost = text(old[0] + c.cost);
            let exact_saved = text(old[1] + c.exact.1);
            let semantic_saved = text(old[2] + c.semantic.1);
            upsert.execute(params![
                hour,
                k.1,
                k.2,
                k.3,
                k.4,
                k.5,
                k.6,
                k.7,
                c.requests,
                c.errors,
                c.streamed,
                c.estimated,
                c.usage.input as i64,
                c.usage.cached_input as i64,
                c.usage.cache_write as i64,
                c.usage.output as i64,
                c.usage.reasoning as i64,
                cost,
                c.latency_ms,
                c.ttft_ms,
                c.ttft_count,
                c.overhead_us,
                c.latency_count,
                c.overhead_count,
                c.exact.0,
                exact_saved,
                c.semantic.0,
                semantic_saved,
            ])?;
        }
        Ok(())
    }
}

/// A stored cell's money columns (cost, exact savings, semantic savings); zeros for a new cell.
fn stored_money(
    get: &mut rusqlite::CachedStatement<'_>,
    hour: &str,
    k: &RollupKey<'_>,
) -> Result<[Money; 3], LedgerError> {
    let row = get.query_row(params![hour, k.1, k.2, k.3, k.4, k.5, k.6, k.7], |r| {
        Ok([r.get::<_, String>(0)?, r.get(1)?, r.get(2)?])
    });
    let texts = match row {
        Ok(t) => t,
        Err(rusqlite::Error::QueryReturnedNoRows) => return Ok([Money::ZERO; 3]),
        Err(e) => return Err(e.into()),
    };
    let mut out = [Money::ZERO; 3];
    for (slot, t) in out.iter_mut().zip(&texts) {
        *slot = Money::from_str(t).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
    }
    Ok(out)
}

fn key(r: &Record) -> RollupKey<'_> {
    fn s(o: &Option<String>) -> &str {
        o.as_deref().unwrap_or_default()
    }
    (
        r.ts.timestamp().div_euclid(3600),
        s(&r.workload),
        &r.route,
        s(&r.provider),
        s(&r.model),
        s(&r.key_id),
        s(&r.team),
        r.shadow,
    )
}

/// The stored spelling of an hour since the epoch: `2026-12-03T09` (UTC).
pub(crate) fn hour_label(hour: i64) -> String {
    chrono::DateTime::from_timestamp(hour * 3600, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H")
        .to_string()
}

const UPSERT_ROLLUP_SQL: &str = "INSERT INTO rollup_hourly (hour, workload, route, provider, model, key_id, team, shadow, requests, errors, streamed, estimated, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, latency_ms_sum, ttft_ms_sum, ttft_count, overhead_us_sum, latency_count, overhead_count, exact_hits, exact_saved_usd, semantic_hits, semantic_saved_usd) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28)
 ON CONFLICT (hour, workload, route, provider, model, key_id, team, shadow) DO UPDATE SET
  requests = requests + excluded.requests, errors = errors + excluded.errors,
  streamed = streamed + excluded.streamed, estimated = estimated + excluded.estimated,
  input_tokens = input_tokens + excluded.input_tokens,
  cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens,
  cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
  output_tokens = output_tokens + excluded.output_tokens,
  reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
  cost_usd = excluded.cost_usd,
  latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum,
  ttft_ms_sum = ttft_ms_sum + excluded.ttft_ms_sum, ttft_count = ttft_count + excluded.ttft_count,
  overhead_us_sum = overhead_us_sum + excluded.overhead_us_sum,
  latency_count = latency_count + excluded.latency_count,
  overhead_count = overhead_count + excluded.overhead_count,
  exact_hits = exact_hits + excluded.exact_hits, exact_saved_usd = excluded.exact_saved_usd,
  semantic_hits = semantic_hits + excluded.semantic_hits,
  semantic_saved_usd = excluded.semantic_saved_usd";
