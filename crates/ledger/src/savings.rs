//! "Savings by lever": what each way of cutting the bill saved over a period, read from the
//! hourly rollup, and for the batch and routing levers from their own lines alone (partial
//! indexes on `requests.batch` and `requests.routing_baseline_usd`), never a scan of every
//! request. The queries are each backend's ([`crate::lever_reads`]); the assembly is here.
//!
//! Owns the [`Lever`] list and the [`Savings`] report. Each lever fills its own row; a lever
//! whose measure is not recorded yet reports `measured = false` rather than a misleading zero,
//! so the table already has its place. Must never know how a lever works, only what the
//! rollup says it saved.

use crate::lever_reads::LeverReads;
use crate::{LedgerError, Window};
use serde::{Deserialize, Serialize};
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
    /// A cost-aware strategy's pick against the route's baseline target: on each request a
    /// `lowest-cost` route served, the same usage priced at the route's first configured
    /// target minus what was paid (`Record::routing_baseline_usd`); negative where the pick
    /// cost more.
    Routing,
}

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

/// The rollup's levers (both caches), the batch discount and routing over `w`; prompt
/// caching and cascade are filled in by [`crate::levers`].
pub(crate) fn run(src: &dyn LeverReads, w: &Window) -> Result<Savings, LedgerError> {
    let rollup = src.rollup_levers(w)?;
    let batch = src.batch_discounts(w)?;
    let routing = src.routing(w)?;
    let levers = Lever::ALL
        .iter()
        .map(|&lever| {
            let got = match lever {
                Lever::Cache => Some(rollup.exact),
                Lever::SemanticCache => Some(rollup.semantic),
                Lever::Batch => Some(batch),
                Lever::Routing => Some(routing),
                // Filled by the caller from the token kinds and the cascade report
                // (`Savings::record`).
                Lever::PromptCaching | Lever::Cascade => None,
            };
            let (requests, saved_usd) = got.unwrap_or((0, Money::ZERO));
            LeverSavings {
                lever,
                measured: got.is_some(),
                requests: got.is_some().then_some(requests),
                saved_usd,
                note: None,
            }
        })
        .collect::<Vec<_>>();
    let saved_usd = levers.iter().map(|l| l.saved_usd).sum();
    Ok(Savings {
        spent_usd: rollup.spent,
        saved_usd,
        levers,
    })
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
