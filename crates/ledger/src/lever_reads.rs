//! The reads the savings ledger is built from, one method per query, so the report's logic
//! (savings by lever, prompt caching, cascade, still on the table: [`crate::savings`],
//! [`crate::levers`], [`crate::prompt_caching`], [`crate::table`]) is written once and each
//! backend answers only the SQL: SQLite in `sqlite_levers.rs`, PostgreSQL in `pg/levers.rs`.
//!
//! Every method reads a rollup or a partial index, never every request: the rollup for the
//! caches, prompt caching and list spend; the `batch`, `cascade`, `fingerprint` and
//! `routing_baseline` partial indexes for the rest. Must never know how a lever is priced.

use crate::prompt_caching::UsageRow;
use crate::{CascadeRow, LedgerError, PrefixRepeats, Window};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_primitives::Money;

/// (workload, route, provider, model): a rollup cell's identity for the batch figures.
pub(crate) type Cell = (String, String, String, String);

/// The rollup's sums over a window: spend and both caches' hits and savings.
#[derive(Debug, Default)]
pub(crate) struct RollupLevers {
    pub spent: Money,
    pub exact: (u64, Money),
    pub semantic: (u64, Money),
}

/// One route's duplicates: how many, and what they cost.
#[derive(Debug)]
pub(crate) struct RouteDuplicates {
    pub route: String,
    pub duplicates: u64,
    pub cost: Money,
}

/// What a backend answers for the savings ledger over a [`Window`].
pub(crate) trait LeverReads {
    /// Spend and the two caches' hits and savings, from the rollup.
    fn rollup_levers(&self, w: &Window) -> Result<RollupLevers, LedgerError>;

    /// Lines a provider's batch API answered (each counted `request_count` times) and what
    /// the discount saved: batch records carrying a `saved_usd`, cache hits left out.
    fn batch_discounts(&self, w: &Window) -> Result<(u64, Money), LedgerError>;

    /// Requests a cost-aware strategy routed, and the sum over them of the baseline target's
    /// price minus what was paid (negative where the pick cost more).
    fn routing(&self, w: &Window) -> Result<(u64, Money), LedgerError>;

    /// Prompt-token kinds per day × workload × provider × model, from the rollup.
    fn usage_rows(&self, w: &Window) -> Result<Vec<UsageRow>, LedgerError>;

    /// Repeated stable prefixes per workload × provider × model, from `prompt_prefixes`.
    fn prefix_repeats(&self, w: &Window) -> Result<Vec<PrefixRepeats>, LedgerError>;

    /// The cascade report over `[from, until)` in `ts_ms`, production traffic only, by
    /// route name.
    fn cascade_between(&self, span: (i64, i64)) -> Result<Vec<CascadeRow>, LedgerError>;

    /// Per route, the requests that could be compared for duplicates: fingerprinted provider
    /// answers plus cache hits (from the rollup). A route may appear more than once.
    fn comparable(&self, w: &Window) -> Result<Vec<(String, u64)>, LedgerError>;

    /// Per route, the successful provider answers whose fingerprint matches a successful
    /// request on the same route in the [`crate::table::DUPLICATE_HORIZON_MS`] before.
    fn duplicates(&self, w: &Window) -> Result<Vec<RouteDuplicates>, LedgerError>;

    /// Spend per rollup cell at list price: the rollup's cost minus the lines a provider's
    /// batch API already discounted.
    fn list_spend(&self, w: &Window) -> Result<BTreeMap<Cell, Money>, LedgerError>;

    /// Workloads with lines sent through `/v1/batches` (`""` for none).
    fn batch_workloads(&self, w: &Window) -> Result<BTreeSet<String>, LedgerError>;
}
