//! Layer 1: the ledger — one append-only record per request, and the rollups read from it.
//!
//! Owns [`Record`], the [`LedgerStore`] trait with its SQLite backend and migrations, the
//! hourly rollup that keeps summaries fast on millions of records, the batching [`Recorder`]
//! that keeps writes off the request path, CSV/JSONL export, and the import of existing usage
//! history ([`import`]: our own export, LiteLLM spend logs, OpenAI and Anthropic usage reports),
//! and the savings ledger ([`savings_report`], [`levers`], [`table`]: savings by lever and
//! what is still on the table, priced with the catalog).
//! Must never know about HTTP or routing.

pub mod batch;
mod cascade;
mod columns;
mod export;
pub mod import;
mod levers;
mod prefix;
pub mod prompt_caching;
mod record;
mod recorder;
mod rollup;
mod savings;
mod schema;
mod sqlite;
mod summary;
pub mod table;
mod window;

pub use cascade::CascadeRow;
pub use export::{ExportFormat, export};
pub use levers::{Levers, PeriodSavings, SavingsReport, levers, savings_report};
pub use prefix::{PrefixRepeats, PromptPrefix, repeats as prefix_repeats};
pub use prompt_caching::{PromptCacheLine, PromptCaching};
pub use record::{
    Attempt, AttemptOutcome, CACHE_EXACT, CACHE_SEMANTIC, CascadeMark, Fingerprint, GATEWAY_SOURCE,
    Record, RecordKind,
};
pub use recorder::{Recorder, RecorderConfig, RecorderHandle, RecorderStats};
pub use savings::{Lever, LeverSavings, ROUTING_NOT_MEASURED, Savings};
pub use sqlite::SqliteStore;
pub use summary::{Dimension, SummaryQuery, SummaryRow};
pub use table::{Batchable, OnTheTable};
pub use window::Window;

/// Storage failures. Each says what to check.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open the ledger at {path}: {message}")]
    Open { path: String, message: String },
    #[error("ledger export failed writing output: {0}")]
    Io(#[from] std::io::Error),
    #[error("ledger data is corrupt: {0}")]
    Corrupt(String),
}

/// Where records are kept. Backends must pass the same conformance tests.
pub trait LedgerStore: Send {
    /// Appends a batch atomically; records whose `request_id` already exists are skipped.
    /// Returns how many were new.
    fn append(&mut self, batch: &[Record]) -> Result<usize, LedgerError>;

    /// Aggregates by one dimension.
    fn summary(&self, query: &SummaryQuery) -> Result<Vec<SummaryRow>, LedgerError>;

    /// What each cost lever saved over the query's period (its `by` is ignored), read from the
    /// rollup.
    fn savings(&self, query: &SummaryQuery) -> Result<Savings, LedgerError>;

    /// Visits records in time order, from `since` (inclusive) when given.
    fn scan(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        visit: &mut dyn FnMut(Record) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError>;

    /// Per cascade route, from `since` when given: requests, escalations, what was paid and
    /// what the top tier would have cost (`switchyard ledger summary`'s cascade section).
    fn cascade(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<CascadeRow>, LedgerError>;

    /// How many of `request_ids` are already recorded (a dry-run import's duplicate count).
    fn count_existing(&self, request_ids: &[&str]) -> Result<u64, LedgerError>;

    /// Number of records.
    fn count(&self) -> Result<u64, LedgerError>;
}
