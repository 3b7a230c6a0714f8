//! Aggregation by one dimension, read from the hourly rollup (never a full scan of requests).

use crate::LedgerError;
use chrono::NaiveDate;
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

/// What to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Workload,
    Route,
    Provider,
    Model,
    Day,
    Key,
    Team,
}

impl Dimension {
    pub(crate) fn column(self) -> &'static str {
        match self {
            Dimension::Workload => "workload",
            Dimension::Route => "route",
            Dimension::Provider => "provider",
            Dimension::Model => "provider || '/' || model",
            Dimension::Day => "substr(hour, 1, 10)",
            Dimension::Key => "key_id",
            Dimension::Team => "team",
        }
    }
}

impl FromStr for Dimension {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "workload" => Dimension::Workload,
            "route" => Dimension::Route,
            "provider" => Dimension::Provider,
            "model" => Dimension::Model,
            "day" => Dimension::Day,
            "key" => Dimension::Key,
            "team" => Dimension::Team,
            _ => {
                return Err(format!(
                    "unknown dimension {s:?}; use workload, route, provider, model, day, key or team"
                ));
            }
        })
    }
}

#[derive(Debug, Clone)]
pub struct SummaryQuery {
    pub by: Dimension,
    /// Inclusive, UTC day.
    pub since: Option<NaiveDate>,
    /// Include mirrored (shadow) traffic; production summaries leave it out.
    pub include_shadow: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    pub key: String,
    pub requests: u64,
    pub errors: u64,
    pub usage: TokenUsage,
    pub cost_usd: Money,
    pub avg_latency_ms: f64,
    pub avg_ttft_ms: Option<f64>,
    pub avg_overhead_us: f64,
    pub estimated: u64,
}

pub(crate) fn run(conn: &Connection, q: &SummaryQuery) -> Result<Vec<SummaryRow>, LedgerError> {
    // Costs are decimal text, so they are summed in Rust; everything else in SQL.
    let sql = format!(
        "SELECT {col} AS k, requests, errors, input_tokens, cached_input_tokens, cache_write_tokens,
                output_tokens, reasoning_tokens, cost_usd, latency_ms_sum, ttft_ms_sum, ttft_count,
                overhead_us_sum, estimated, latency_count, overhead_count
         FROM rollup_hourly WHERE hour >= ?1 AND (?2 OR shadow = 0)",
        col = q.by.column()
    );
    let since = q
        .since
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![since, q.include_shadow])?;
    #[derive(Default)]
    struct Acc {
        requests: u64,
        errors: u64,
        usage: TokenUsage,
        cost: Money,
        latency: f64,
        latency_n: u64,
        ttft: f64,
        ttft_n: u64,
        overhead: f64,
        overhead_n: u64,
        estimated: u64,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let key: String = r.get::<_, Option<String>>(0)?.unwrap_or_default();
        let key = if key.is_empty() || key == "/" {
            "(none)".to_string()
        } else {
            key
        };
        let a = acc.entry(key).or_default();
        let n = |i: usize| -> rusqlite::Result<u64> { r.get::<_, i64>(i).map(|v| v.max(0) as u64) };
        a.requests += n(1)?;
        a.errors += n(2)?;
        a.usage.input += n(3)?;
        a.usage.cached_input += n(4)?;
        a.usage.cache_write += n(5)?;
        a.usage.output += n(6)?;
        a.usage.reasoning += n(7)?;
        let cost: String = r.get(8)?;
        a.cost += Money::from_str(&cost).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
        a.latency += r.get::<_, f64>(9)?;
        a.ttft += r.get::<_, f64>(10)?;
        a.ttft_n += n(11)?;
        a.overhead += r.get::<_, i64>(12)? as f64;
        a.estimated += n(13)?;
        a.latency_n += n(14)?;
        a.overhead_n += n(15)?;
    }
    let mut out: Vec<SummaryRow> = acc
        .into_iter()
        .map(|(key, a)| {
            // Averages over the requests that carry the measure: imported buckets have no
            // latency and no gateway overhead.
            let per = |x: f64, n: u64| if n == 0 { 0.0 } else { x / n as f64 };
            SummaryRow {
                key,
                requests: a.requests,
                errors: a.errors,
                usage: a.usage,
                cost_usd: a.cost,
                avg_latency_ms: per(a.latency, a.latency_n),
                avg_ttft_ms: (a.ttft_n > 0).then(|| a.ttft / a.ttft_n as f64),
                avg_overhead_us: per(a.overhead, a.overhead_n),
                estimated: a.estimated,
            }
        })
        .collect();
    if q.by != Dimension::Day {
        out.sort_by(|a, b| b.cost_usd.cmp(&a.cost_usd).then_with(|| a.key.cmp(&b.key)));
    }
    Ok(out)
}
