//! Reads on PostgreSQL: the ledger's reports ([`Store`]), the strategy engine's
//! [`HistoryReader`] and past spend ([`SpendSource`]). Sums of money happen in SQL here
//! (`NUMERIC` is exact) and come back as decimal text.

use super::PgStore;
use crate::history::{FeatureRow, HourRow, since_label};
use crate::summary::{Dimension, SummaryQuery, SummaryRow};
use crate::{
    CascadeRow, HistoryReader, LedgerError, PrefixRepeats, Record, Savings, SpendError,
    SpendSource, Store,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

pub(crate) fn money(text: Option<String>) -> Result<Money, LedgerError> {
    text.map_or(Ok(Money::ZERO), |t| {
        Money::from_str(&t).map_err(|e| LedgerError::Corrupt(format!("amount `{t}`: {e}")))
    })
}

fn count(r: &postgres::Row, i: usize) -> u64 {
    r.get::<_, Option<i64>>(i).unwrap_or(0).max(0) as u64
}

const SUMMARY_SUMS: &str = "SUM(requests)::bigint, SUM(errors)::bigint, SUM(input_tokens)::bigint,
    SUM(cached_input_tokens)::bigint, SUM(cache_write_tokens)::bigint, SUM(output_tokens)::bigint,
    SUM(reasoning_tokens)::bigint, SUM(cost_usd)::text, SUM(latency_ms_sum), SUM(ttft_ms_sum),
    SUM(ttft_count)::bigint, SUM(overhead_us_sum)::bigint, SUM(estimated)::bigint,
    SUM(latency_count)::bigint, SUM(overhead_count)::bigint";

fn summary_row(key: String, r: &postgres::Row) -> Result<SummaryRow, LedgerError> {
    let per = |x: f64, n: u64| if n == 0 { 0.0 } else { x / n as f64 };
    let ttft_n = count(r, 11);
    let ttft: f64 = r.get::<_, Option<f64>>(10).unwrap_or(0.0);
    Ok(SummaryRow {
        key,
        requests: count(r, 1),
        errors: count(r, 2),
        usage: TokenUsage {
            input: count(r, 3),
            cached_input: count(r, 4),
            cache_write: count(r, 5),
            cache_write_1h: 0,
            output: count(r, 6),
            reasoning: count(r, 7),
        },
        cost_usd: money(r.get(8))?,
        avg_latency_ms: per(r.get::<_, Option<f64>>(9).unwrap_or(0.0), count(r, 14)),
        avg_ttft_ms: (ttft_n > 0).then(|| ttft / ttft_n as f64),
        avg_overhead_us: per(count(r, 12) as f64, count(r, 15)),
        estimated: count(r, 13),
    })
}

impl PgStore {
    fn summary_rows(&self, q: &SummaryQuery) -> Result<Vec<SummaryRow>, LedgerError> {
        // Keys without a value read "(none)", as on SQLite: "" and a model key of "/".
        let sql = format!(
            "SELECT CASE WHEN k IN ('', '/') THEN '(none)' ELSE k END, {SUMMARY_SUMS}
             FROM (SELECT COALESCE({col}, '') AS k, * FROM rollup_hourly
                   WHERE hour >= $1 AND ($2 OR NOT shadow)) AS cells
             GROUP BY 1 ORDER BY 1",
            col = q.by.column()
        );
        let since = since_label(q.since);
        self.with(|c| {
            let rows = c.query(sql.as_str(), &[&since, &q.include_shadow])?;
            rows.iter()
                .map(|r| summary_row(r.get(0), r))
                .collect::<Result<Vec<_>, _>>()
        })
    }
}

impl Store for PgStore {
    fn summary(&self, q: &SummaryQuery) -> Result<Vec<SummaryRow>, LedgerError> {
        let mut out = self.summary_rows(q)?;
        if q.by != Dimension::Day {
            out.sort_by(|a, b| b.cost_usd.cmp(&a.cost_usd).then_with(|| a.key.cmp(&b.key)));
        }
        Ok(out)
    }

    fn savings(&self, q: &SummaryQuery) -> Result<Savings, LedgerError> {
        crate::savings::run(self, &crate::Window::from(q))
    }

    fn scan(
        &self,
        since: Option<DateTime<Utc>>,
        visit: &mut dyn FnMut(Record) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        let from = since.map_or(i64::MIN, |s| s.timestamp_millis());
        let rows = self.with(|c| {
            let sql = format!(
                "SELECT {} FROM requests WHERE ts_ms >= $1 ORDER BY ts_ms, id",
                super::scan::COLUMNS
            );
            Ok(c.query(sql.as_str(), &[&from])?)
        })?;
        for r in rows {
            visit(super::scan::record(&r)?)?;
        }
        Ok(())
    }

    fn cascade(&self, since: Option<DateTime<Utc>>) -> Result<Vec<CascadeRow>, LedgerError> {
        let from = since.map_or(i64::MIN, |s| s.timestamp_millis());
        crate::lever_reads::LeverReads::cascade_between(self, (from, i64::MAX))
    }

    fn count_existing(&self, request_ids: &[&str]) -> Result<u64, LedgerError> {
        let ids: Vec<String> = request_ids.iter().map(|s| s.to_string()).collect();
        self.with(|c| {
            let row = c.query_one(
                "SELECT COUNT(*) FROM requests WHERE request_id = ANY($1)",
                &[&ids],
            )?;
            Ok(count(&row, 0))
        })
    }

    fn count(&self) -> Result<u64, LedgerError> {
        self.with(|c| {
            Ok(count(
                &c.query_one("SELECT COUNT(*) FROM requests", &[])?,
                0,
            ))
        })
    }

    fn savings_report(
        &self,
        catalog: &switchyard_catalog::Catalog,
        window: &crate::Window,
    ) -> Result<crate::SavingsReport, LedgerError> {
        crate::levers::savings_report(self, catalog, window)
    }

    fn on_the_table(
        &self,
        catalog: &switchyard_catalog::Catalog,
        window: &crate::Window,
        batchable: &crate::Batchable,
        caching: &crate::PromptCaching,
    ) -> Result<crate::OnTheTable, LedgerError> {
        crate::table::on_the_table(self, catalog, window, batchable, caching)
    }

    fn levers(
        &self,
        catalog: &switchyard_catalog::Catalog,
        today: NaiveDate,
        batchable: &crate::Batchable,
    ) -> Result<crate::Levers, LedgerError> {
        crate::levers::levers(self, catalog, today, batchable)
    }
}

impl HistoryReader for PgStore {
    fn rollup_rows(&self, since: Option<NaiveDate>) -> Result<Vec<HourRow>, LedgerError> {
        let since = since_label(since);
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT hour, workload, provider, model, team, requests, errors, input_tokens,
                        cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
                        cost_usd::text
                 FROM rollup_hourly WHERE NOT shadow AND hour >= $1",
                &[&since],
            )?)
        })?;
        rows.iter()
            .map(|r| {
                Ok(HourRow {
                    hour: r.get(0),
                    workload: r.get(1),
                    provider: r.get(2),
                    model: r.get(3),
                    team: r.get(4),
                    requests: count(r, 5),
                    errors: count(r, 6),
                    usage: TokenUsage {
                        input: count(r, 7),
                        cached_input: count(r, 8),
                        cache_write: count(r, 9),
                        cache_write_1h: 0,
                        output: count(r, 10),
                        reasoning: count(r, 11),
                    },
                    cost: money(r.get(12))?,
                })
            })
            .collect()
    }

    fn feature_rows(&self) -> Result<Vec<FeatureRow>, LedgerError> {
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT workload, features, requests, max_prompt_tokens FROM workload_features WHERE NOT shadow",
                &[],
            )?)
        })?;
        Ok(rows
            .iter()
            .map(|r| FeatureRow {
                workload: r.get(0),
                features: r.get(1),
                requests: count(r, 2),
                max_prompt_tokens: count(r, 3),
            })
            .collect())
    }

    fn prefix_repeats(
        &self,
        since: Option<NaiveDate>,
        include_shadow: bool,
    ) -> Result<Vec<PrefixRepeats>, LedgerError> {
        let since = since_label(since);
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT workload, provider, model, SUM(requests)::bigint,
                        SUM(GREATEST(requests - 1 - cached_requests, 0))::bigint,
                        SUM(GREATEST(requests - 1 - cached_requests, 0) * prefix_tokens / requests)::bigint
                 FROM prompt_prefixes WHERE hour >= $1 AND ($2 OR NOT shadow)
                 GROUP BY 1, 2, 3",
                &[&since, &include_shadow],
            )?)
        })?;
        let mut out: Vec<PrefixRepeats> = rows
            .iter()
            .map(|r| PrefixRepeats {
                workload: r.get(0),
                provider: r.get(1),
                model: r.get(2),
                requests: count(r, 3),
                uncached_repeats: count(r, 4),
                uncached_tokens: count(r, 5),
            })
            .collect();
        out.sort_by(|a, b| {
            b.uncached_tokens
                .cmp(&a.uncached_tokens)
                .then_with(|| a.workload.cmp(&b.workload))
        });
        Ok(out)
    }

    fn tokens_by_hour(&self, provider: Option<&str>) -> Result<Vec<(String, u64)>, LedgerError> {
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT hour, SUM(input_tokens + cached_input_tokens + cache_write_tokens + output_tokens + reasoning_tokens)::bigint
                 FROM rollup_hourly WHERE NOT shadow AND ($1::text IS NULL OR provider = $1)
                 GROUP BY hour ORDER BY hour",
                &[&provider],
            )?)
        })?;
        Ok(rows.iter().map(|r| (r.get(0), count(r, 1))).collect())
    }
}

impl SpendSource for PgStore {
    fn spent_since(&self, key_id: &str, since: DateTime<Utc>) -> Result<Money, SpendError> {
        let text: Option<String> = if crate::sqlite_reads::is_whole_hour(since) {
            let hour = since.format("%Y-%m-%dT%H").to_string();
            self.with(|c| {
                let sql = "SELECT SUM(cost_usd)::text FROM rollup_hourly WHERE hour >= $1 AND key_id = $2 AND NOT shadow";
                Ok(c.query_one(sql, &[&hour, &key_id])?.get(0))
            })?
        } else {
            let from = since.timestamp_millis();
            self.with(|c| {
                let sql = "SELECT SUM(cost_usd)::text FROM requests WHERE ts_ms >= $1 AND key_id = $2 AND NOT shadow";
                Ok(c.query_one(sql, &[&from, &key_id])?.get(0))
            })?
        };
        text.map_or(Ok(Money::ZERO), |t| {
            Money::from_str(&t).map_err(|_| SpendError::BadCost(t))
        })
    }
}
