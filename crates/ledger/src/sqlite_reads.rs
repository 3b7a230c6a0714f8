//! The SQLite backend's answers to [`HistoryReader`] and [`SpendSource`]: the rollup,
//! `workload_features`, `prompt_prefixes`, and past spend per key.

use crate::history::{FeatureRow, HourRow, since_label};
use crate::{HistoryReader, LedgerError, PrefixRepeats, SpendError, SpendSource, SqliteStore};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use rusqlite::params;
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

fn n(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    r.get::<_, i64>(i).map(|v| v.max(0) as u64)
}

impl HistoryReader for SqliteStore {
    fn rollup_rows(&self, since: Option<NaiveDate>) -> Result<Vec<HourRow>, LedgerError> {
        let mut stmt = self.connection().prepare(
            "SELECT hour, workload, provider, model, team, requests, errors,
                    input_tokens, cached_input_tokens, cache_write_tokens, output_tokens,
                    reasoning_tokens, cost_usd
             FROM rollup_hourly WHERE shadow = 0 AND hour >= ?1",
        )?;
        let mut rows = stmt.query(params![since_label(since)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let cost: String = r.get(12)?;
            out.push(HourRow {
                hour: r.get(0)?,
                workload: r.get(1)?,
                provider: r.get(2)?,
                model: r.get(3)?,
                team: r.get(4)?,
                requests: n(r, 5)?,
                errors: n(r, 6)?,
                usage: TokenUsage {
                    input: n(r, 7)?,
                    cached_input: n(r, 8)?,
                    cache_write: n(r, 9)?,
                    cache_write_1h: 0,
                    output: n(r, 10)?,
                    reasoning: n(r, 11)?,
                },
                cost: Money::from_str(&cost).map_err(|e| LedgerError::Corrupt(e.to_string()))?,
            });
        }
        Ok(out)
    }

    fn feature_rows(&self) -> Result<Vec<FeatureRow>, LedgerError> {
        let mut stmt = self.connection().prepare(
            "SELECT workload, features, requests, max_prompt_tokens FROM workload_features WHERE shadow = 0",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(FeatureRow {
                workload: r.get(0)?,
                features: r.get(1)?,
                requests: n(r, 2)?,
                max_prompt_tokens: r.get::<_, Option<i64>>(3)?.unwrap_or(0).max(0) as u64,
            });
        }
        Ok(out)
    }

    fn prefix_repeats(
        &self,
        since: Option<NaiveDate>,
        include_shadow: bool,
    ) -> Result<Vec<PrefixRepeats>, LedgerError> {
        crate::prefix::repeats(self.connection(), since, include_shadow)
    }

    fn tokens_by_hour(&self, provider: Option<&str>) -> Result<Vec<(String, u64)>, LedgerError> {
        let mut stmt = self.connection().prepare(
            "SELECT hour, SUM(input_tokens + cached_input_tokens + cache_write_tokens + output_tokens + reasoning_tokens)
             FROM rollup_hourly WHERE shadow = 0 AND (?1 IS NULL OR provider = ?1) GROUP BY hour ORDER BY hour",
        )?;
        let mut rows = stmt.query(params![provider])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, n(r, 1)?));
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// Sums decimal-text costs exactly (SQL `SUM` would go through floats).
    fn sum_costs(
        &self,
        sql: &str,
        since: &dyn rusqlite::ToSql,
        key_id: &str,
    ) -> Result<Money, SpendError> {
        let mut stmt = self
            .connection()
            .prepare_cached(sql)
            .map_err(LedgerError::from)?;
        let mut rows = stmt
            .query(params![since, key_id])
            .map_err(LedgerError::from)?;
        let mut total = Money::ZERO;
        while let Some(row) = rows.next().map_err(LedgerError::from)? {
            let text: String = row.get(0).map_err(LedgerError::from)?;
            total += Money::from_str(&text).map_err(|_| SpendError::BadCost(text))?;
        }
        Ok(total)
    }
}

impl SpendSource for SqliteStore {
    fn spent_since(&self, key_id: &str, since: DateTime<Utc>) -> Result<Money, SpendError> {
        // Period starts are whole hours, which the hourly rollup (written in the same
        // transaction as the requests) answers without scanning every request of the month.
        if is_whole_hour(since) {
            let hour = since.format("%Y-%m-%dT%H").to_string();
            return self.sum_costs(
                "SELECT cost_usd FROM rollup_hourly WHERE hour >= ?1 AND key_id = ?2 AND shadow = 0",
                &hour,
                key_id,
            );
        }
        self.sum_costs(
            "SELECT cost_usd FROM requests
             WHERE ts_ms >= ?1 AND key_id = ?2 AND shadow = 0 AND cost_usd IS NOT NULL",
            &since.timestamp_millis(),
            key_id,
        )
    }
}

pub(crate) fn is_whole_hour(t: DateTime<Utc>) -> bool {
    t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0
}
