//! The evaluation store: captured traffic, immutable versioned datasets, replay runs and
//! shadow results, behind the [`Store`] trait. Two backends, picked by location in [`open`]:
//! a SQLite file beside the ledger (`[eval] path`, the default) or PostgreSQL (a
//! `postgres://` URL, by default the ledger's own database when the ledger is PostgreSQL),
//! with their migrations from one list (`schema.rs`).
//!
//! Layer 1, like the ledger: it knows SQLite, PostgreSQL and JSON, never HTTP or the gateway;
//! of the ledger it uses only [`Location`], the one parser of a store setting. Payloads are
//! kept as JSON values the caller has already redacted ([`CaptureWriter`] runs the caller's
//! redaction on its own thread before anything touches the disk). Datasets are immutable once
//! created: triggers refuse any update or delete of their items, and a "new version" is a new
//! row with the next version number. [`copy`] is what `switchyard ledger copy` needs to move
//! the store between backends.

mod capture;
pub mod copy;
mod pg;
mod schema;
mod schema_pg;
mod sqlite;
mod store;

pub use capture::{CaptureJob, CaptureWriter, CaptureWriterConfig, CaptureWriterStats, Redact};
pub use pg::PgStore;
pub use sqlite::SqliteStore;
pub use store::{
    Capture, CaptureQuery, DatasetInfo, Entry, RunRecord, ShadowResult, ShadowStats, Store,
    StoreError,
};
use switchyard_ledger::Location;

use std::path::Path;

/// Opens (creating and migrating if needed) the eval store at `place`: a file path,
/// `sqlite://path`, or a `postgres://` URL (whose password no message shows).
pub fn open(place: &Path) -> Result<Box<dyn Store>, StoreError> {
    match Location::from(place) {
        Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(&p)?)),
        Location::Postgres(url) => {
            let shown = Location::Postgres(url.clone()).to_string();
            Ok(Box::new(PgStore::connect(&url, &shown)?))
        }
    }
}

/// Applies every migration the eval store at `place` lacks, creating it if need be
/// (`switchyard ledger migrate`); returns the schema versions before and after.
pub fn migrate(place: &Path) -> Result<(i64, i64), StoreError> {
    let before = match Location::from(place) {
        Location::Sqlite(p) => SqliteStore::open_counting(&p)?.0,
        Location::Postgres(url) => {
            let shown = Location::Postgres(url.clone()).to_string();
            PgStore::connect_counting(&url, &shown)?.0
        }
    };
    Ok((before, schema::latest()))
}

/// Whether there may be a store at `place` to read: a SQLite file that exists, or any
/// PostgreSQL URL (a database holds the store once anything opened it).
pub fn exists(place: &Path) -> bool {
    match Location::from(place) {
        Location::Sqlite(p) => p.exists(),
        Location::Postgres(_) => true,
    }
}

/// The latest schema version this build knows (both backends).
pub fn latest_schema_version() -> i64 {
    schema::latest()
}
