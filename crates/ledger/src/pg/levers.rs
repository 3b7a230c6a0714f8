//! [`LeverReads`] on PostgreSQL: the savings ledger's queries. Sums of money happen in SQL
//! (`NUMERIC` is exact) and come back as decimal text; the report around them is the one
//! the SQLite backend feeds ([`crate::levers`]).
//!
//! A window's open ends are passed as `NULL` rather than the `""`/`"~"` sentinels SQLite
//! compares against: `~` sorts after digits only in the C collation, and a database's
//! default collation may be another. Closed ends are day labels, which sort before their
//! hours in every collation.

use super::PgStore;
use super::reads::money;
use crate::lever_reads::{Cell, LeverReads, RollupLevers, RouteDuplicates};
use crate::prompt_caching::UsageRow;
use crate::{CascadeRow, LedgerError, PrefixRepeats, Window};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

fn count(r: &postgres::Row, i: usize) -> u64 {
    r.get::<_, Option<i64>>(i).unwrap_or(0).max(0) as u64
}

/// `[from, until)` as rollup hour text, `None` for an open end.
fn hours(w: &Window) -> (Option<String>, Option<String>) {
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    (w.from.map(day), w.until.map(day))
}

/// The rollup filter on `$1`, `$2` (hours) and `$3` (include shadow).
const HOURS: &str =
    "($1::text IS NULL OR hour >= $1) AND ($2::text IS NULL OR hour < $2) AND ($3 OR NOT shadow)";

impl PgStore {
    fn rollup(
        &self,
        select: &str,
        tail: &str,
        w: &Window,
    ) -> Result<Vec<postgres::Row>, LedgerError> {
        let (from, until) = hours(w);
        let sql = format!("SELECT {select} FROM rollup_hourly WHERE {HOURS} {tail}");
        self.with(|c| Ok(c.query(sql.as_str(), &[&from, &until, &w.include_shadow])?))
    }

    fn requests(&self, sql: &str, w: &Window) -> Result<Vec<postgres::Row>, LedgerError> {
        let (from, until) = w.millis();
        self.with(|c| Ok(c.query(sql, &[&from, &until, &w.include_shadow])?))
    }
}

impl LeverReads for PgStore {
    fn rollup_levers(&self, w: &Window) -> Result<RollupLevers, LedgerError> {
        let rows = self.rollup(
            "SUM(cost_usd)::text, SUM(exact_hits)::bigint, SUM(exact_saved_usd)::text,
             SUM(semantic_hits)::bigint, SUM(semantic_saved_usd)::text",
            "",
            w,
        )?;
        let Some(r) = rows.first() else {
            return Ok(RollupLevers::default());
        };
        Ok(RollupLevers {
            spent: money(r.get(0))?,
            exact: (count(r, 1), money(r.get(2))?),
            semantic: (count(r, 3), money(r.get(4))?),
        })
    }

    fn batch_discounts(&self, w: &Window) -> Result<(u64, Money), LedgerError> {
        let rows = self.requests(
            "SELECT SUM(GREATEST(request_count, 1))::bigint, SUM(saved_usd)::text FROM requests
             WHERE batch AND ts_ms >= $1 AND ts_ms < $2 AND saved_usd IS NOT NULL
               AND cache IS NULL AND ($3 OR NOT shadow)",
            w,
        )?;
        match rows.first() {
            Some(r) => Ok((count(r, 0), money(r.get(1))?)),
            None => Ok((0, Money::ZERO)),
        }
    }

    fn routing(&self, w: &Window) -> Result<(u64, Money), LedgerError> {
        let rows = self.requests(
            "SELECT COUNT(*), SUM(routing_baseline_usd - COALESCE(cost_usd, 0))::text
             FROM requests WHERE routing_baseline_usd IS NOT NULL
               AND ts_ms >= $1 AND ts_ms < $2 AND ($3 OR NOT shadow)",
            w,
        )?;
        match rows.first() {
            Some(r) => Ok((count(r, 0), money(r.get(1))?)),
            None => Ok((0, Money::ZERO)),
        }
    }

    fn usage_rows(&self, w: &Window) -> Result<Vec<UsageRow>, LedgerError> {
        let rows = self.rollup(
            "substr(hour, 1, 10), workload, provider, model, SUM(input_tokens)::bigint,
             SUM(cached_input_tokens)::bigint, SUM(cache_write_tokens)::bigint",
            "GROUP BY 1, 2, 3, 4",
            w,
        )?;
        rows.iter()
            .map(|r| {
                let day: String = r.get(0);
                Ok(UsageRow {
                    day: NaiveDate::from_str(&day)
                        .map_err(|e| LedgerError::Corrupt(format!("rollup hour {day}: {e}")))?,
                    workload: r.get(1),
                    provider: r.get(2),
                    model: r.get(3),
                    usage: TokenUsage {
                        input: count(r, 4),
                        cached_input: count(r, 5),
                        cache_write: count(r, 6),
                        ..TokenUsage::default()
                    },
                })
            })
            .collect()
    }

    fn prefix_repeats(&self, w: &Window) -> Result<Vec<PrefixRepeats>, LedgerError> {
        let (from, until) = hours(w);
        let rows = self.with(|c| {
            Ok(c.query(
                &format!(
                    "SELECT workload, provider, model, SUM(requests)::bigint,
                        SUM(GREATEST(requests - 1 - cached_requests, 0))::bigint,
                        SUM(GREATEST(requests - 1 - cached_requests, 0) * prefix_tokens / requests)::bigint
                     FROM prompt_prefixes WHERE {HOURS} GROUP BY 1, 2, 3"
                ),
                &[&from, &until, &w.include_shadow],
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
        // As on SQLite: largest first, ties by workload, then the rest of the key, so the
        // order never depends on the database's collation or plan.
        out.sort_by(|a, b| {
            b.uncached_tokens
                .cmp(&a.uncached_tokens)
                .then_with(|| a.workload.cmp(&b.workload))
        });
        Ok(out)
    }

    fn cascade_between(&self, (from, until): (i64, i64)) -> Result<Vec<CascadeRow>, LedgerError> {
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT route, COUNT(*), COUNT(*) FILTER (WHERE cascade_tier > 1),
                        COALESCE(SUM(cost_usd), 0)::text,
                        COALESCE(SUM(cascade_baseline_usd), 0)::text,
                        COUNT(*) FILTER (WHERE cascade_baseline_usd IS NULL),
                        COALESCE(SUM(cascade_judged_usd), 0)::text
                 FROM requests WHERE cascade_tier IS NOT NULL AND ts_ms >= $1 AND ts_ms < $2
                   AND NOT shadow
                 GROUP BY route",
                &[&from, &until],
            )?)
        })?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(CascadeRow {
                    route: r.get(0),
                    requests: count(r, 1),
                    escalated: count(r, 2),
                    cost_usd: money(r.get(3))?,
                    judge_usd: money(r.get(6))?,
                    top_tier_usd: money(r.get(4))?,
                    unpriced: count(r, 5),
                })
            })
            .collect::<Result<Vec<_>, LedgerError>>()?;
        // By name in byte order, as SQLite's BTreeMap gives them (not the collation's).
        out.sort_by(|a, b| a.route.cmp(&b.route));
        Ok(out)
    }

    fn comparable(&self, w: &Window) -> Result<Vec<(String, u64)>, LedgerError> {
        let mut out: Vec<(String, u64)> = self
            .requests(
                "SELECT route, COUNT(*) FROM requests
                 WHERE fingerprint IS NOT NULL AND ts_ms >= $1 AND ts_ms < $2
                   AND ($3 OR NOT shadow) AND cache IS NULL GROUP BY route",
                w,
            )?
            .iter()
            .map(|r| (r.get(0), count(r, 1)))
            .collect();
        let hits = self.rollup(
            "route, SUM(exact_hits + semantic_hits)::bigint",
            "GROUP BY route",
            w,
        )?;
        out.extend(hits.iter().map(|r| (r.get(0), count(r, 1))));
        Ok(out)
    }

    fn duplicates(&self, w: &Window) -> Result<Vec<RouteDuplicates>, LedgerError> {
        let (from, until) = w.millis();
        let horizon = crate::table::DUPLICATE_HORIZON_MS;
        // Each candidate's earlier twin is one seek in `requests_fingerprint`
        // (fingerprint, route, ts_ms), which holds only the fingerprinted rows.
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT r.route, COUNT(*), COALESCE(SUM(r.cost_usd), 0)::text FROM requests r
                 WHERE r.fingerprint IS NOT NULL AND r.ts_ms >= $1 AND r.ts_ms < $2
                   AND r.cache IS NULL AND r.status BETWEEN 200 AND 299 AND ($3 OR NOT r.shadow)
                   AND EXISTS (SELECT 1 FROM requests e
                     WHERE e.fingerprint = r.fingerprint AND e.route = r.route
                       AND e.ts_ms >= r.ts_ms - $4
                       AND (e.ts_ms < r.ts_ms OR (e.ts_ms = r.ts_ms AND e.id < r.id))
                       AND e.status BETWEEN 200 AND 299 AND e.shadow = r.shadow)
                 GROUP BY r.route",
                &[&from, &until, &w.include_shadow, &horizon],
            )?)
        })?;
        rows.iter()
            .map(|r| {
                Ok(RouteDuplicates {
                    route: r.get(0),
                    duplicates: count(r, 1),
                    cost: money(r.get(2))?,
                })
            })
            .collect()
    }

    fn list_spend(&self, w: &Window) -> Result<BTreeMap<Cell, Money>, LedgerError> {
        let mut out: BTreeMap<Cell, Money> = BTreeMap::new();
        let cells = self.rollup(
            "workload, route, provider, model, SUM(cost_usd)::text",
            "GROUP BY 1, 2, 3, 4",
            w,
        )?;
        for r in &cells {
            let cell = (r.get(0), r.get(1), r.get(2), r.get(3));
            *out.entry(cell).or_default() += money(r.get(4))?;
        }
        let discounted = self.requests(
            "SELECT COALESCE(workload, ''), route, COALESCE(provider, ''), COALESCE(model, ''),
                    SUM(cost_usd)::text FROM requests
             WHERE batch AND ts_ms >= $1 AND ts_ms < $2 AND saved_usd IS NOT NULL
               AND cache IS NULL AND ($3 OR NOT shadow)
             GROUP BY 1, 2, 3, 4",
            w,
        )?;
        for r in &discounted {
            let cell = (r.get(0), r.get(1), r.get(2), r.get(3));
            let paid = out.entry(cell).or_default();
            *paid = *paid - money(r.get(4))?;
        }
        Ok(out)
    }

    fn batch_workloads(&self, w: &Window) -> Result<BTreeSet<String>, LedgerError> {
        let rows = self.requests(
            "SELECT DISTINCT COALESCE(workload, '') FROM requests
             WHERE batch AND ts_ms >= $1 AND ts_ms < $2 AND ($3 OR NOT shadow)",
            w,
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
