//! The traits other crates take instead of a database: [`RecordSink`] (what the batching
//! writer appends to), [`Store`] (the ledger's own reports), [`HistoryReader`] (what the
//! strategy engine reads), [`SpendSource`] (what budgets reload from) and
//! [`crate::dashboard::DashboardReader`] (what the dashboard reads). Every backend
//! implements them; the SQL behind them lives in this crate only.

use crate::history::HistoryReader;
use crate::summary::{SummaryQuery, SummaryRow};
use crate::table::{Batchable, OnTheTable};
use crate::{
    CascadeRow, LedgerError, Levers, PromptCaching, Record, Savings, SavingsReport, Window,
};
use chrono::{DateTime, NaiveDate, Utc};
use switchyard_catalog::Catalog;
use switchyard_primitives::Money;

/// Where records are written: one batch per call, atomically.
pub trait RecordSink: Send {
    /// Appends a batch atomically; records whose `request_id` already exists are skipped.
    /// Returns how many were new.
    fn append(&mut self, batch: &[Record]) -> Result<usize, LedgerError>;
}

impl<T: RecordSink + ?Sized> RecordSink for Box<T> {
    fn append(&mut self, batch: &[Record]) -> Result<usize, LedgerError> {
        (**self).append(batch)
    }
}

/// A ledger's records and the reports `switchyard ledger` prints from them. Backends must
/// pass the same conformance tests.
pub trait Store:
    RecordSink + HistoryReader + SpendSource + crate::dashboard::DashboardReader
{
    /// Aggregates by one dimension.
    fn summary(&self, query: &SummaryQuery) -> Result<Vec<SummaryRow>, LedgerError>;

    /// What each cost lever saved over the query's period (its `by` is ignored), read from the
    /// rollup.
    fn savings(&self, query: &SummaryQuery) -> Result<Savings, LedgerError>;

    /// Visits records in time order, from `since` (inclusive) when given.
    fn scan(
        &self,
        since: Option<DateTime<Utc>>,
        visit: &mut dyn FnMut(Record) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError>;

    /// Per cascade route, from `since` when given: requests, escalations, what was paid and
    /// what the top tier would have cost (`switchyard ledger summary`'s cascade section).
    fn cascade(&self, since: Option<DateTime<Utc>>) -> Result<Vec<CascadeRow>, LedgerError>;

    /// How many of `request_ids` are already recorded (a dry-run import's duplicate count).
    fn count_existing(&self, request_ids: &[&str]) -> Result<u64, LedgerError>;

    /// Number of records.
    fn count(&self) -> Result<u64, LedgerError>;

    /// The savings ledger over `window`: every lever, priced with `catalog`
    /// ([`crate::levers`] module).
    fn savings_report(
        &self,
        catalog: &Catalog,
        window: &Window,
    ) -> Result<SavingsReport, LedgerError>;

    /// What is still on the table over `window`; `caching` is the same window's
    /// prompt-caching section ([`crate::table`]).
    fn on_the_table(
        &self,
        catalog: &Catalog,
        window: &Window,
        batchable: &Batchable,
        caching: &PromptCaching,
    ) -> Result<OnTheTable, LedgerError>;

    /// The strategy report's savings ledger for the 30-day periods ending with `today`.
    fn levers(
        &self,
        catalog: &Catalog,
        today: NaiveDate,
        batchable: &Batchable,
    ) -> Result<Levers, LedgerError>;
}

/// Reading past spend failed.
#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error("cannot read spend from the ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("the ledger holds a cost that is not a decimal amount: `{0}`")]
    BadCost(String),
}

/// Total cost charged to a key since a moment, production traffic only: shadow requests are
/// the operator's experiment, never reserved against the caller's budget, so counting them
/// on reload would make a restart change a key's spend.
pub trait SpendSource {
    fn spent_since(&self, key_id: &str, since: DateTime<Utc>) -> Result<Money, SpendError>;
}
