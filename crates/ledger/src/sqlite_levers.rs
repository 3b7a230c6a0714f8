//! [`LeverReads`] on SQLite: the savings ledger's queries. Money is `TEXT` here, so sums of
//! it happen in Rust, in decimal; counts are summed in SQL.

use crate::lever_reads::{Cell, LeverReads, RollupLevers, RouteDuplicates};
use crate::prompt_caching::UsageRow;
use crate::{CascadeRow, LedgerError, PrefixRepeats, Window};
use chrono::NaiveDate;
use rusqlite::{Connection, params};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

fn money(text: Option<String>) -> Result<Money, LedgerError> {
    text.map_or(Ok(Money::ZERO), |t| {
        Money::from_str(&t).map_err(|e| LedgerError::Corrupt(format!("amount `{t}`: {e}")))
    })
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

impl LeverReads for Connection {
    fn rollup_levers(&self, w: &Window) -> Result<RollupLevers, LedgerError> {
        let (from, until) = w.hours();
        let mut stmt = self.prepare_cached(
            "SELECT cost_usd, exact_hits, exact_saved_usd, semantic_hits, semantic_saved_usd
             FROM rollup_hourly WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0)",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        let mut out = RollupLevers::default();
        while let Some(r) = rows.next()? {
            out.spent += money(r.get(0)?)?;
            out.exact.0 += count(r.get(1)?);
            out.exact.1 += money(r.get(2)?)?;
            out.semantic.0 += count(r.get(3)?);
            out.semantic.1 += money(r.get(4)?)?;
        }
        Ok(out)
    }

    fn batch_discounts(&self, w: &Window) -> Result<(u64, Money), LedgerError> {
        let (from, until) = w.millis();
        let mut stmt = self.prepare_cached(
            "SELECT request_count, saved_usd FROM requests WHERE batch = 1 AND ts_ms >= ?1 \
             AND ts_ms < ?2 AND saved_usd IS NOT NULL AND cache IS NULL AND (?3 OR shadow = 0)",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        let (mut lines, mut saved) = (0u64, Money::ZERO);
        while let Some(r) = rows.next()? {
            lines += r.get::<_, i64>(0)?.max(1) as u64;
            saved += money(r.get(1)?)?;
        }
        Ok((lines, saved))
    }

    fn routing(&self, w: &Window) -> Result<(u64, Money), LedgerError> {
        let (from, until) = w.millis();
        let mut stmt = self.prepare_cached(
            "SELECT routing_baseline_usd, cost_usd FROM requests INDEXED BY requests_routing
             WHERE routing_baseline_usd IS NOT NULL AND ts_ms >= ?1 AND ts_ms < ?2
               AND (?3 OR shadow = 0)",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        let (mut n, mut saved) = (0u64, Money::ZERO);
        while let Some(r) = rows.next()? {
            n += 1;
            saved += money(r.get(0)?)? - money(r.get(1)?)?;
        }
        Ok((n, saved))
    }

    fn usage_rows(&self, w: &Window) -> Result<Vec<UsageRow>, LedgerError> {
        let (from, until) = w.hours();
        let mut stmt = self.prepare_cached(
            "SELECT substr(hour, 1, 10), workload, provider, model, SUM(input_tokens),
                    SUM(cached_input_tokens), SUM(cache_write_tokens)
             FROM rollup_hourly WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0)
             GROUP BY 1, 2, 3, 4",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let day: String = r.get(0)?;
            out.push(UsageRow {
                day: NaiveDate::from_str(&day)
                    .map_err(|e| LedgerError::Corrupt(format!("rollup hour {day}: {e}")))?,
                workload: r.get(1)?,
                provider: r.get(2)?,
                model: r.get(3)?,
                usage: TokenUsage {
                    input: count(r.get(4)?),
                    cached_input: count(r.get(5)?),
                    cache_write: count(r.get(6)?),
                    ..TokenUsage::default()
                },
            });
        }
        Ok(out)
    }

    fn prefix_repeats(&self, w: &Window) -> Result<Vec<PrefixRepeats>, LedgerError> {
        crate::prefix::repeats_in(self, w)
    }

    fn cascade_between(&self, span: (i64, i64)) -> Result<Vec<CascadeRow>, LedgerError> {
        crate::cascade::report_between(self, span)
    }

    fn comparable(&self, w: &Window) -> Result<Vec<(String, u64)>, LedgerError> {
        let mut out = Vec::new();
        let (from, until) = w.millis();
        let mut stmt = self.prepare_cached(
            "SELECT route, COUNT(*) FROM requests INDEXED BY requests_fingerprint
             WHERE fingerprint IS NOT NULL AND ts_ms >= ?1 AND ts_ms < ?2 AND (?3 OR shadow = 0)
               AND cache IS NULL GROUP BY route",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, count(r.get(1)?)));
        }
        let (from, until) = w.hours();
        let mut stmt = self.prepare_cached(
            "SELECT route, SUM(exact_hits + semantic_hits) FROM rollup_hourly
             WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0) GROUP BY route",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, count(r.get(1)?)));
        }
        Ok(out)
    }

    fn duplicates(&self, w: &Window) -> Result<Vec<RouteDuplicates>, LedgerError> {
        let (from, until) = w.millis();
        // The partial index, not the time index: it holds only the fingerprinted rows (a
        // ledger of imports or of records before migration 9 has none to scan).
        let mut stmt = self.prepare_cached(
            "SELECT r.route, r.cost_usd FROM requests r INDEXED BY requests_fingerprint
             WHERE r.fingerprint IS NOT NULL AND r.ts_ms >= ?1 AND r.ts_ms < ?2
               AND r.cache IS NULL AND r.status BETWEEN 200 AND 299 AND (?3 OR r.shadow = 0)
               AND EXISTS (SELECT 1 FROM requests e
                 WHERE e.fingerprint = r.fingerprint AND e.route = r.route
                   AND e.ts_ms >= r.ts_ms - ?4
                   AND (e.ts_ms < r.ts_ms OR (e.ts_ms = r.ts_ms AND e.id < r.id))
                   AND e.status BETWEEN 200 AND 299 AND e.shadow = r.shadow)",
        )?;
        let horizon = crate::table::DUPLICATE_HORIZON_MS;
        let mut rows = stmt.query(params![from, until, w.include_shadow, horizon])?;
        let mut by_route: BTreeMap<String, (u64, Money)> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            let line = by_route.entry(r.get(0)?).or_default();
            line.0 += 1;
            line.1 += money(r.get(1)?)?;
        }
        Ok(by_route
            .into_iter()
            .map(|(route, (duplicates, cost))| RouteDuplicates {
                route,
                duplicates,
                cost,
            })
            .collect())
    }

    fn list_spend(&self, w: &Window) -> Result<BTreeMap<Cell, Money>, LedgerError> {
        let mut out: BTreeMap<Cell, Money> = BTreeMap::new();
        let (from, until) = w.hours();
        let mut stmt = self.prepare_cached(
            "SELECT workload, route, provider, model, cost_usd FROM rollup_hourly
             WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0)",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        while let Some(r) = rows.next()? {
            let cell = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            *out.entry(cell).or_default() += money(r.get(4)?)?;
        }
        let (from, until) = w.millis();
        let mut stmt = self.prepare_cached(
            "SELECT COALESCE(workload, ''), route, COALESCE(provider, ''), COALESCE(model, ''),
                    cost_usd FROM requests
             WHERE batch = 1 AND ts_ms >= ?1 AND ts_ms < ?2 AND saved_usd IS NOT NULL
               AND cache IS NULL AND (?3 OR shadow = 0)",
        )?;
        let mut rows = stmt.query(params![from, until, w.include_shadow])?;
        while let Some(r) = rows.next()? {
            let cell = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let paid = out.entry(cell).or_default();
            *paid = *paid - money(r.get(4)?)?;
        }
        Ok(out)
    }

    fn batch_workloads(&self, w: &Window) -> Result<BTreeSet<String>, LedgerError> {
        let (from, until) = w.millis();
        let mut stmt = self.prepare_cached(
            "SELECT DISTINCT COALESCE(workload, '') FROM requests
             WHERE batch = 1 AND ts_ms >= ?1 AND ts_ms < ?2 AND (?3 OR shadow = 0)",
        )?;
        let rows = stmt.query_map(params![from, until, w.include_shadow], |r| {
            r.get::<_, String>(0)
        })?;
        Ok(rows.collect::<Result<BTreeSet<String>, _>>()?)
    }
}
