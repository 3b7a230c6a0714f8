//! The evaluation store: captured traffic, immutable versioned datasets, replay runs and
//! shadow results, in one SQLite file beside the ledger (`[eval] path`).
//!
//! Layer 1, like the ledger: it knows SQLite and JSON, never HTTP or the gateway. Payloads are
//! kept as JSON values the caller has already redacted ([`CaptureWriter`] runs the caller's
//! redaction on its own thread before anything touches the disk). Datasets are immutable once
//! created: triggers refuse any update or delete of their items, and a "new version" is a new
//! row with the next version number.

mod capture;
mod schema;
mod store;

pub use capture::{CaptureJob, CaptureWriter, CaptureWriterStats, Redact};
pub use store::{
    Capture, CaptureQuery, DatasetInfo, EvalStore, RunRecord, ShadowResult, ShadowStats, StoreError,
};
