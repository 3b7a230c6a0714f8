//! Layer 1: the ledger — one append-only record per request, and the rollups read from it.
//!
//! Owns [`Record`], every table of the ledger's database and all SQL on them, behind the
//! traits other crates take: [`RecordSink`] (the batched writer's target), [`Store`] (the
//! ledger's reports), [`HistoryReader`] (the strategy engine's reads), [`SpendSource`] (past
//! spend for budgets), [`keys::Store`] (virtual keys) and [`responses::Store`] (the Responses
//! API's stored conversations). The SQLite backend and its
//! migrations, the hourly rollup that keeps summaries fast on millions of records, the
//! batching [`Recorder`] that keeps writes off the request path, CSV/JSONL export, and the
//! import of existing usage history ([`import`]: our own export, LiteLLM spend logs, OpenAI
//! and Anthropic usage reports), the dashboard's reads ([`dashboard`]), and the savings ledger ([`Store::savings_report`], [`Store::levers`],
//! [`table`]: savings by lever and what is still on the table, priced with the catalog).
//! Must never know about HTTP or routing.

pub mod batch;
mod cascade;
mod columns;
pub mod copy;
pub mod dashboard;
mod export;
mod history;
pub mod import;
pub mod keys;
mod lever_reads;
mod levers;
mod location;
mod pg;
mod prefix;
pub mod prompt_caching;
mod record;
mod recorder;
pub mod responses;
mod rollup;
mod savings;
mod schema;
mod schema_pg;
pub mod spool;
mod sqlite;
mod sqlite_keys;
mod sqlite_levers;
mod sqlite_reads;
mod sqlite_responses;
mod store;
mod summary;
pub mod table;
mod window;

pub use cascade::CascadeRow;
pub use export::{ExportFormat, export};
pub use history::{DailyRow, FeatureRow, HistoryReader, HourRow, WorkloadProfile};
pub use levers::{Levers, PeriodSavings, SavingsReport};
pub use location::Location;
pub use pg::{PgStore, ScratchSchema, connect as pg_connect, message as pg_message};
#[cfg(test)]
pub(crate) use prefix::repeats as prefix_repeats;
pub use prefix::{PrefixRepeats, PromptPrefix};
pub use prompt_caching::{PromptCacheLine, PromptCaching};
pub use record::{
    Attempt, AttemptOutcome, CACHE_EXACT, CACHE_SEMANTIC, CascadeMark, Fingerprint, GATEWAY_SOURCE,
    Record, RecordKind,
};
pub use recorder::{
    RETRY as RECORDER_RETRY, Recorder, RecorderConfig, RecorderHandle, RecorderStats, Tap,
};
pub use savings::{Lever, LeverSavings, Savings};
pub use sqlite::SqliteStore;
/// The former name of [`Store`], kept so callers written before the store split still build.
pub use store::Store as LedgerStore;
pub use store::{RecordSink, SpendError, SpendSource, Store};
pub use summary::{Dimension, SummaryQuery, SummaryRow};
pub use table::{Batchable, OnTheTable};
pub use window::Window;

/// Storage failures. Each says what to check.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Shown with the server's own message (`postgres::Error` alone says only "db error").
    #[error("ledger database error (PostgreSQL): {}", pg::message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("cannot open the ledger at {path}: {message}")]
    Open { path: String, message: String },
    #[error("ledger export failed writing output: {0}")]
    Io(#[from] std::io::Error),
    #[error("ledger data is corrupt: {0}")]
    Corrupt(String),
}
