//! What the strategy engine reads from a ledger: daily rows per workload × provider × model ×
//! team summed from the hourly rollup, each workload's feature profile from
//! `workload_features`, repeated prompt prefixes, and tokens per hour. Never a scan of
//! requests; production (non-shadow) traffic only.
//!
//! A backend answers the few raw queries ([`HistoryReader::rollup_rows`] and friends); the
//! grouping into days and profiles is shared here so every backend agrees to the cent.

use crate::{LedgerError, PrefixRepeats};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
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

/// One production rollup cell as stored; empty strings where the record had no value.
#[derive(Debug, Clone, PartialEq)]
pub struct HourRow {
    /// `2026-12-03T09` (UTC).
    pub hour: String,
    pub workload: String,
    pub provider: String,
    pub model: String,
    pub team: String,
    pub requests: u64,
    pub errors: u64,
    pub usage: TokenUsage,
    pub cost: Money,
}

/// One production row of `workload_features`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    pub workload: String,
    /// Comma-separated, as recorded.
    pub features: String,
    pub requests: u64,
    pub max_prompt_tokens: u64,
}

/// The strategy engine's view of a ledger.
pub trait HistoryReader {
    /// Production rollup cells from the day `since` (inclusive) when given.
    fn rollup_rows(&self, since: Option<NaiveDate>) -> Result<Vec<HourRow>, LedgerError>;

    /// Production workload feature rows.
    fn feature_rows(&self) -> Result<Vec<FeatureRow>, LedgerError>;

    /// Repeated prefixes per workload × provider × model, production traffic unless
    /// `include_shadow`, from `since` when given; largest uncached tokens first.
    fn prefix_repeats(
        &self,
        since: Option<NaiveDate>,
        include_shadow: bool,
    ) -> Result<Vec<PrefixRepeats>, LedgerError>;

    /// Production tokens (every kind) per stored hour, oldest first, for one provider or all.
    fn tokens_by_hour(&self, provider: Option<&str>) -> Result<Vec<(String, u64)>, LedgerError>;

    /// Daily rows on or after `since`, in (day, workload, provider, model, team) order.
    fn daily(&self, since: Option<NaiveDate>) -> Result<Vec<DailyRow>, LedgerError> {
        daily(self.rollup_rows(since)?)
    }

    /// Each workload's feature profile.
    fn profiles(&self) -> Result<BTreeMap<String, WorkloadProfile>, LedgerError> {
        Ok(profiles(self.feature_rows()?))
    }

    /// Tokens per hour over the last `days` days of the ledger (ending at its last hour with
    /// traffic), for one provider or all; hours without traffic count as zero.
    fn hourly_tokens(&self, provider: Option<&str>, days: i64) -> Result<Vec<u64>, LedgerError> {
        hourly(self.tokens_by_hour(provider)?, days)
    }
}

fn label(s: &str) -> String {
    if s.is_empty() {
        "(none)".to_string()
    } else {
        s.to_string()
    }
}

type DayKey = (String, String, String, String, String);

fn daily(rows: Vec<HourRow>) -> Result<Vec<DailyRow>, LedgerError> {
    let mut acc: BTreeMap<DayKey, DailyRow> = BTreeMap::new();
    for r in rows {
        let day_s = r.hour.get(..10).unwrap_or(&r.hour).to_string();
        let day = NaiveDate::parse_from_str(&day_s, "%Y-%m-%d")
            .map_err(|e| LedgerError::Corrupt(format!("rollup hour {}: {e}", r.hour)))?;
        let key = (
            day_s,
            label(&r.workload),
            label(&r.provider),
            label(&r.model),
            label(&r.team),
        );
        let row = acc.entry(key.clone()).or_insert_with(|| DailyRow {
            day,
            workload: key.1,
            provider: key.2,
            model: key.3,
            team: key.4,
            requests: 0,
            errors: 0,
            usage: TokenUsage::default(),
            cost: Money::ZERO,
        });
        row.requests += r.requests;
        row.errors += r.errors;
        row.usage.input += r.usage.input;
        row.usage.cached_input += r.usage.cached_input;
        row.usage.cache_write += r.usage.cache_write;
        row.usage.output += r.usage.output;
        row.usage.reasoning += r.usage.reasoning;
        row.cost += r.cost;
    }
    Ok(acc.into_values().collect())
}

fn profiles(rows: Vec<FeatureRow>) -> BTreeMap<String, WorkloadProfile> {
    let mut out: BTreeMap<String, WorkloadProfile> = BTreeMap::new();
    for r in rows {
        let workload = label(&r.workload);
        let p = out
            .entry(workload.clone())
            .or_insert_with(|| WorkloadProfile {
                workload,
                ..Default::default()
            });
        p.requests += r.requests;
        p.max_prompt_tokens = p.max_prompt_tokens.max(r.max_prompt_tokens);
        for f in r.features.split(',').filter(|f| !f.is_empty()) {
            p.features.insert(f.to_string());
            *p.feature_requests.entry(f.to_string()).or_default() += r.requests;
        }
    }
    out
}

fn hourly(by_hour: Vec<(String, u64)>, days: i64) -> Result<Vec<u64>, LedgerError> {
    let by_hour: BTreeMap<String, u64> = by_hour.into_iter().collect();
    let Some(last) = by_hour.keys().next_back().cloned() else {
        return Ok(Vec::new());
    };
    let last = chrono::NaiveDateTime::parse_from_str(&format!("{last}:00"), "%Y-%m-%dT%H:%M")
        .map_err(|e| LedgerError::Corrupt(format!("rollup hour {last}: {e}")))?;
    Ok((0..days * 24)
        .rev()
        .map(|i| {
            let h = (last - chrono::Duration::hours(i))
                .format("%Y-%m-%dT%H")
                .to_string();
            by_hour.get(&h).copied().unwrap_or(0)
        })
        .collect())
}

/// `since` as the rollup's hour labels compare: `YYYY-MM-DD`, or empty for everything.
pub(crate) fn since_label(since: Option<NaiveDate>) -> String {
    since
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
