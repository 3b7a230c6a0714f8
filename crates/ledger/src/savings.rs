//! "Savings by lever": what each way of cutting the bill saved over a period, read from the
//! hourly rollup, and for the batch lever from the batch lines alone (a partial index on
//! `requests.batch`), never a scan of every request.
//!
//! Owns the [`Lever`] list and the [`Savings`] report. Each lever fills its own row; a lever
//! whose measure is not recorded yet reports `measured = false` rather than a misleading zero,
//! so the table already has its place. Must never know how a lever works, only what the
//! rollup says it saved.

use crate::{LedgerError, Window};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use switchyard_primitives::Money;

/// One way Switchyard cuts the bill, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lever {
    /// The exact response cache (`Record::cache = "exact"`).
    Cache,
    /// The semantic cache (`Record::cache = "semantic"`).
    SemanticCache,
    /// Provider prompt caching (cache-read tokens priced against full input).
    PromptCaching,
    /// Cascade routing (the cheap tier's answers against the top tier's price).
    Cascade,
    /// The batch APIs' discount: on each line a provider's batch API answered, its list price
    /// minus the discounted cost recorded (`Record::saved_usd` with `batch = true`).
    Batch,
    /// Routing to a cheaper target than the route's first: not measured (see
    /// [`ROUTING_NOT_MEASURED`]).
    Routing,
}

/// Why the routing lever has no figure. The saving would be what was served against what the
/// route's first target would have cost, but a record names only the target that answered and
/// the ones tried: the route's target list at the time is not kept, and pricing history
/// against today's config would credit or charge routing for every route edited since. A
/// cascade route's own baseline is recorded, and is the cascade lever.
pub const ROUTING_NOT_MEASURED: &str = "not measured: the ledger does not keep each route's target list at the time of a request, so what its first target would have cost cannot be priced honestly (a cascade's top-tier baseline is kept: the cascade row)";

impl Lever {
    pub const ALL: [Lever; 6] = [
        Lever::Cache,
        Lever::SemanticCache,
        Lever::PromptCaching,
        Lever::Cascade,
        Lever::Batch,
        Lever::Routing,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Lever::Cache => "cache (exact)",
            Lever::SemanticCache => "semantic cache",
            Lever::PromptCaching => "prompt caching",
            Lever::Cascade => "cascade",
            Lever::Batch => "batch",
            Lever::Routing => "routing",
        }
    }
}

/// What one lever saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeverSavings {
    pub lever: Lever,
    /// Whether this build records the lever's saving; `false`: not measured yet (the other
    /// fields are zero and mean nothing).
    pub measured: bool,
    /// Requests the lever served or changed (cache hits, cascade requests, …); `None` where
    /// the saving is not counted per request (prompt caching is priced per token).
    pub requests: Option<u64>,
    pub saved_usd: Money,
    /// Why a lever is not measured (`measured = false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Savings by lever over a period, beside what was spent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Savings {
    /// What the period's requests cost (cache hits cost nothing).
    pub spent_usd: Money,
    pub saved_usd: Money,
    /// Every lever in [`Lever::ALL`] order.
    pub levers: Vec<LeverSavings>,
}

impl Savings {
    /// Fills in a lever measured outside the rollup (prompt caching from the token kinds,
    /// cascade from its records) and updates the total.
    pub fn record(&mut self, lever: Lever, requests: Option<u64>, saved_usd: Money) {
        if let Some(l) = self.levers.iter_mut().find(|l| l.lever == lever) {
            l.measured = true;
            l.note = None;
            l.requests = requests;
            l.saved_usd = saved_usd;
        }
        self.saved_usd = self.levers.iter().map(|l| l.saved_usd).sum();
    }

    /// The share of the would-be bill saved: `saved / (spent + saved)`, in 0..1.
    pub fn share(&self, saved: Money) -> f64 {
        let whole = self.spent_usd + self.saved_usd;
        if whole.is_zero() {
            return 0.0;
        }
        (saved.decimal() / whole.decimal())
            .to_string()
            .parse()
            .unwrap_or(0.0)
    }
}

/// The rollup's levers (both caches) and the batch discount over `w`; prompt caching and
/// cascade are filled in by [`crate::savings_report`].
pub(crate) fn run(conn: &Connection, w: &Window) -> Result<Savings, LedgerError> {
    let (from, until) = w.hours();
    let mut stmt = conn.prepare_cached(
        "SELECT cost_usd, exact_hits, exact_saved_usd, semantic_hits, semantic_saved_usd
         FROM rollup_hourly WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0)",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow])?;
    let money = |s: String| Money::from_str(&s).map_err(|e| LedgerError::Corrupt(e.to_string()));
    let (mut spent, mut exact, mut semantic) = (Money::ZERO, (0, Money::ZERO), (0, Money::ZERO));
    while let Some(r) = rows.next()? {
        spent += money(r.get(0)?)?;
        exact.0 += r.get::<_, i64>(1)?.max(0) as u64;
        exact.1 += money(r.get(2)?)?;
        semantic.0 += r.get::<_, i64>(3)?.max(0) as u64;
        semantic.1 += money(r.get(4)?)?;
    }
    let batch = batch_discounts(conn, w)?;
    let levers = Lever::ALL
        .iter()
        .map(|&lever| {
            let got = match lever {
                Lever::Cache => Some(exact),
                Lever::SemanticCache => Some(semantic),
                Lever::Batch => Some(batch),
                // Filled by the caller from the token kinds and the cascade report
                // (`Savings::record`); routing is not measured yet.
                Lever::PromptCaching | Lever::Cascade | Lever::Routing => None,
            };
            let (requests, saved_usd) = got.unwrap_or((0, Money::ZERO));
            LeverSavings {
                lever,
                measured: got.is_some(),
                requests: got.is_some().then_some(requests),
                saved_usd,
                note: (lever == Lever::Routing).then(|| ROUTING_NOT_MEASURED.to_string()),
            }
        })
        .collect::<Vec<_>>();
    let saved_usd = levers.iter().map(|l| l.saved_usd).sum();
    Ok(Savings {
        spent_usd: spent,
        saved_usd,
        levers,
    })
}

/// Lines a provider's batch API answered, and what its discount saved: the batch records
/// carrying a `saved_usd` (lines the pipeline ran at list price carry none and save nothing).
fn batch_discounts(conn: &Connection, w: &Window) -> Result<(u64, Money), LedgerError> {
    let (from, until) = w.millis();
    let mut stmt = conn.prepare_cached(
        "SELECT request_count, saved_usd FROM requests WHERE batch = 1 AND ts_ms >= ?1 \
         AND ts_ms < ?2 AND saved_usd IS NOT NULL AND cache IS NULL AND (?3 OR shadow = 0)",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow])?;
    let (mut lines, mut saved) = (0u64, Money::ZERO);
    while let Some(r) = rows.next()? {
        lines += r.get::<_, i64>(0)?.max(1) as u64;
        let text: String = r.get(1)?;
        saved += Money::from_str(&text)
            .map_err(|e| LedgerError::Corrupt(format!("batch saving: {e}")))?;
    }
    Ok((lines, saved))
}

#[cfg(test)]
mod tests {
    use crate::sqlite::tests::record;
    use crate::{Dimension, Lever, RecordSink, SqliteStore, Store, SummaryQuery};
    use std::str::FromStr;
    use switchyard_primitives::Money;

    #[test]
    fn the_batch_lever_counts_only_lines_a_provider_batch_discounted() {
        let mut s = SqliteStore::in_memory().unwrap();
        let mut native = record("n1", "summaries", "m", "0.5", 1);
        native.batch = true;
        native.saved_usd = Some(Money::from_str("0.5").unwrap());
        // Run by the gateway itself at list price: a batch line that saved nothing.
        let mut pipeline = record("p1", "summaries", "m", "1", 1);
        pipeline.batch = true;
        let mut shadow = native.clone();
        shadow.request_id = "s1".into();
        shadow.shadow = true;
        let live = record("l1", "summaries", "m", "1", 1);
        s.append(&[native, pipeline, shadow, live]).unwrap();
        let q = SummaryQuery {
            by: Dimension::Workload,
            since: None,
            include_shadow: false,
        };
        let sv = s.savings(&q).unwrap();
        let batch = sv.levers.iter().find(|l| l.lever == Lever::Batch).unwrap();
        assert!(batch.measured);
        assert_eq!(
            (batch.requests, batch.saved_usd.to_string()),
            (Some(1), "0.5".into())
        );
        assert_eq!(sv.saved_usd.to_string(), "0.5");
        let later = SummaryQuery {
            since: chrono::NaiveDate::from_ymd_opt(2026, 11, 2),
            ..q
        };
        let sv = s.savings(&later).unwrap();
        assert!(sv.saved_usd.is_zero(), "a line before `since` is left out");
    }
}
