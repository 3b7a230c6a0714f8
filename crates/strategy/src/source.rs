//! Reading a ledger into a [`History`]: the only module that knows the ledger's tables.
//!
//! Daily rows come from the hourly rollup and workload profiles (the features a workload uses,
//! its largest prompt) from the `workload_features` table: never a scan of requests.
//! Shadow (evaluation) traffic is excluded: it is not production spend.

use chrono::NaiveDate;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

/// One day of one workload on one model, for one team.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyRow {
    pub day: NaiveDate,
    pub workload: String,
    pub provider: String,
    pub model: String,
    pub team: String,
    pub requests: u64,
    pub errors: u64,
    pub usage: TokenUsage,
    pub cost: Money,
}

/// What a workload's traffic needs from any model that would replace its current one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkloadProfile {
    pub workload: String,
    /// Features seen in its requests (`tools`, `json_schema`, `vision`, `param:top_k`, …).
    pub features: BTreeSet<String>,
    /// Requests that used each feature.
    pub feature_requests: BTreeMap<String, u64>,
    /// The largest prompt seen, in tokens: a replacement's context window must hold it.
    /// For aggregated (imported) rows, the row's average prompt stands in.
    pub max_prompt_tokens: u64,
    pub requests: u64,
}

/// Everything the strategy engine reads, loaded once.
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    pub rows: Vec<DailyRow>,
    pub profiles: BTreeMap<String, WorkloadProfile>,
    /// Repeated stable prefixes per workload and model (production traffic, same period).
    pub prefixes: Vec<switchyard_ledger::PrefixRepeats>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("reading the ledger failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the ledger holds an invalid value: {0}")]
    Corrupt(String),
}

fn label(s: String) -> String {
    if s.is_empty() {
        "(none)".to_string()
    } else {
        s
    }
}

impl History {
    /// Loads every production (non-shadow) day on or after `since`.
    pub fn load(conn: &Connection, since: Option<NaiveDate>) -> Result<History, SourceError> {
        let since = since
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let mut stmt = conn.prepare(
            "SELECT substr(hour, 1, 10), workload, provider, model, team, requests, errors,
                    input_tokens, cached_input_tokens, cache_write_tokens, output_tokens,
                    reasoning_tokens, cost_usd
             FROM rollup_hourly WHERE shadow = 0 AND hour >= ?1",
        )?;
        let mut rows = stmt.query([&since])?;
        let mut acc: BTreeMap<(String, String, String, String, String), DailyRow> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            let day_s: String = r.get(0)?;
            let day = NaiveDate::parse_from_str(&day_s, "%Y-%m-%d")
                .map_err(|e| SourceError::Corrupt(format!("hour {day_s}: {e}")))?;
            let key = (
                day_s,
                label(r.get(1)?),
                label(r.get(2)?),
                label(r.get(3)?),
                label(r.get(4)?),
            );
            let n =
                |i: usize| -> rusqlite::Result<u64> { r.get::<_, i64>(i).map(|v| v.max(0) as u64) };
            let cost_s: String = r.get(12)?;
            let cost = Money::from_str(&cost_s).map_err(|e| SourceError::Corrupt(e.to_string()))?;
            let row = acc.entry(key.clone()).or_insert_with(|| DailyRow {
                day,
                workload: key.1.clone(),
                provider: key.2.clone(),
                model: key.3.clone(),
                team: key.4.clone(),
                requests: 0,
                errors: 0,
                usage: TokenUsage::default(),
                cost: Money::ZERO,
            });
            row.requests += n(5)?;
            row.errors += n(6)?;
            row.usage.input += n(7)?;
            row.usage.cached_input += n(8)?;
            row.usage.cache_write += n(9)?;
            row.usage.output += n(10)?;
            row.usage.reasoning += n(11)?;
            row.cost += cost;
        }
        let profiles = load_profiles(conn)?;
        let since_day = NaiveDate::parse_from_str(&since, "%Y-%m-%d").ok();
        let prefixes = switchyard_ledger::prefix_repeats(conn, since_day, false)
            .map_err(|e| SourceError::Corrupt(e.to_string()))?;
        Ok(History {
            rows: acc.into_values().collect(),
            profiles,
            prefixes,
        })
    }

    pub fn first_day(&self) -> Option<NaiveDate> {
        self.rows.iter().map(|r| r.day).min()
    }

    pub fn last_day(&self) -> Option<NaiveDate> {
        self.rows.iter().map(|r| r.day).max()
    }

    /// Rows of the last `days` days that have data (ending at the last day with data).
    pub fn recent(&self, days: i64) -> impl Iterator<Item = &DailyRow> {
        let from = self
            .last_day()
            .map(|d| d - chrono::Duration::days(days - 1));
        self.rows
            .iter()
            .filter(move |r| from.is_some_and(|f| r.day >= f))
    }

    pub fn workloads(&self) -> BTreeSet<&str> {
        self.rows.iter().map(|r| r.workload.as_str()).collect()
    }

    pub fn total_cost(&self) -> Money {
        self.rows.iter().map(|r| r.cost).sum()
    }
}

fn load_profiles(conn: &Connection) -> Result<BTreeMap<String, WorkloadProfile>, SourceError> {
    // The writer maintains this small table; no scan of requests.
    let mut stmt = conn.prepare(
        "SELECT workload, features, requests, max_prompt_tokens FROM workload_features WHERE shadow = 0",
    )?;
    let mut rows = stmt.query([])?;
    let mut out: BTreeMap<String, WorkloadProfile> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let workload = label(r.get(0)?);
        let features: String = r.get(1)?;
        let n = r.get::<_, i64>(2)?.max(0) as u64;
        let max_prompt = r.get::<_, Option<i64>>(3)?.unwrap_or(0).max(0) as u64;
        let p = out
            .entry(workload.clone())
            .or_insert_with(|| WorkloadProfile {
                workload,
                ..Default::default()
            });
        p.requests += n;
        p.max_prompt_tokens = p.max_prompt_tokens.max(max_prompt);
        for f in features.split(',').filter(|f| !f.is_empty()) {
            p.features.insert(f.to_string());
            *p.feature_requests.entry(f.to_string()).or_default() += n;
        }
    }
    Ok(out)
}

/// Tokens per hour over the last `days` days of the ledger (for reserved-capacity offers),
/// for one provider or all; hours without traffic count as zero.
pub fn hourly_tokens(
    conn: &Connection,
    provider: Option<&str>,
    days: i64,
) -> Result<Vec<u64>, SourceError> {
    let mut stmt = conn.prepare(
        "SELECT hour, SUM(input_tokens + cached_input_tokens + cache_write_tokens + output_tokens + reasoning_tokens)
         FROM rollup_hourly WHERE shadow = 0 AND (?1 IS NULL OR provider = ?1) GROUP BY hour ORDER BY hour",
    )?;
    let mut rows = stmt.query([provider])?;
    let mut by_hour: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        by_hour.insert(r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64);
    }
    let Some(last) = by_hour.keys().next_back().cloned() else {
        return Ok(Vec::new());
    };
    let last = chrono::NaiveDateTime::parse_from_str(&format!("{last}:00"), "%Y-%m-%dT%H:%M")
        .map_err(|e| SourceError::Corrupt(format!("hour {last}: {e}")))?;
    let hours = days * 24;
    Ok((0..hours)
        .rev()
        .map(|i| {
            let h = (last - chrono::Duration::hours(i))
                .format("%Y-%m-%dT%H")
                .to_string();
            by_hour.get(&h).copied().unwrap_or(0)
        })
        .collect())
}
