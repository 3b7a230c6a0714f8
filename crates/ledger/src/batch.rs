//! The batch API's durable state in the ledger's database: uploaded and produced files
//! (`batch_files`), batch jobs (`batch_jobs`) and one row per input line (`batch_lines`), whose
//! state moves from `pending` to `ok` or `failed` exactly once (a conditional `UPDATE`), so a
//! restarted gateway runs only the lines still pending (idempotent per line, hence per
//! `custom_id`).
//!
//! Replicas may share the tables (a PostgreSQL ledger): a runner first *claims* the lines it
//! will run ([`Store::claim_lines`]): the line gets the runner's owner id and a lease, taken in
//! one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so claimers never wait for each
//! other or take the same line). The lease is renewed while the runner lives
//! ([`Store::renew_claims`]) and dropped on a graceful stop ([`Store::release_claims`]); a
//! dead runner's lines become claimable when its lease runs out.
//!
//! Owns the SQL only, behind [`Store`] (SQLite in `batch/sqlite.rs`, PostgreSQL in
//! `pg/batch.rs`). What a status means, which transitions are allowed and the JSON shapes of
//! files and batches belong to the `switchyard-batch` crate; must never know HTTP.

use crate::{LedgerError, Location, SqliteStore};
use std::path::Path;

mod rows;
mod sqlite;
pub use rows::{
    Claim, Counts, FileRow, JobRow, LineState, NewLine, PendingLine, Produced, Stamp, Stamps,
};

pub(crate) const JOB_COLUMNS: &str = "id, owner, endpoint, input_file_id, completion_window, metadata, status, output_file_id, error_file_id, created_at, expires_at, in_progress_at, finalizing_at, completed_at, failed_at, cancelling_at, cancelled_at, expired_at, errors";

/// Statuses of a batch that still has work (or a status change) ahead of it.
pub(crate) const UNFINISHED: &str = "('validating','in_progress','finalizing','cancelling')";

/// The batch tables of one ledger database.
pub trait Store: Send {
    fn put_file(&self, row: &FileRow, content: &[u8]) -> Result<(), LedgerError>;

    fn file(&self, id: &str) -> Result<Option<FileRow>, LedgerError>;

    fn file_content(&self, id: &str) -> Result<Option<Vec<u8>>, LedgerError>;

    /// True when the file existed.
    fn delete_file(&self, id: &str) -> Result<bool, LedgerError>;

    /// Stores a new job and all its lines atomically.
    fn create_job(&mut self, job: &JobRow, lines: &[NewLine]) -> Result<(), LedgerError>;

    /// The job with its line counts.
    fn job(&self, id: &str) -> Result<Option<JobRow>, LedgerError>;

    /// Jobs newest first, `owner` `Some(o)` restricting to one owner's; `after` is the id of
    /// the last job of the previous page.
    fn list_jobs(
        &self,
        owner: Option<Option<&str>>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRow>, LedgerError>;

    /// Ids of the jobs a restart must pick up again, oldest first.
    fn unfinished_jobs(&self) -> Result<Vec<String>, LedgerError>;

    /// Moves a job to `to`'s status, stamping the time, only from one of `from`; true when
    /// it moved (a job already past those statuses is left alone).
    fn transition(&self, id: &str, from: &[&str], to: Stamp, now: i64)
    -> Result<bool, LedgerError>;

    /// Every line still pending, claimed or not, in input order.
    fn pending_lines(&self, id: &str) -> Result<Vec<PendingLine>, LedgerError>;

    /// Claims up to `limit` pending lines of batch `id` that no live lease holds (or that
    /// `claim.owner` holds already), in input order, leasing them to `claim.owner` until
    /// `claim.lease_until_ms`. Two claimers never get the same line.
    fn claim_lines(
        &self,
        id: &str,
        claim: &Claim,
        limit: usize,
    ) -> Result<Vec<PendingLine>, LedgerError>;

    /// Extends every pending line `claim.owner` holds to `claim.lease_until_ms`; how many.
    fn renew_claims(&self, claim: &Claim) -> Result<u64, LedgerError>;

    /// Drops every claim `owner` holds (a graceful stop), so others may run those lines now.
    fn release_claims(&self, owner: &str) -> Result<u64, LedgerError>;

    /// Notes the provider batch that carries `lines` (so a restart polls it, not resubmits).
    fn set_upstream(
        &mut self,
        id: &str,
        lines: &[u64],
        upstream: Option<&str>,
    ) -> Result<(), LedgerError>;

    /// Records a pending line's result (and drops its claim); false (and nothing written)
    /// when the line was not pending any more, so a line is answered once.
    fn finish_line(
        &self,
        id: &str,
        line: u64,
        state: LineState,
        result: &str,
    ) -> Result<bool, LedgerError>;

    /// The results of lines in `state`, in input order.
    fn results(&self, id: &str, state: LineState) -> Result<Vec<String>, LedgerError>;

    /// Ends a job: stores its output and error files and moves it to `to` in one
    /// transaction, only while the job is unfinished; false (and nothing stored) when another
    /// runner ended it first.
    fn finish_job(
        &mut self,
        id: &str,
        files: [Option<Produced<'_>>; 2],
        to: Stamp,
        now: i64,
    ) -> Result<bool, LedgerError>;
}

/// Opens (creating and migrating if needed) the batch tables of the ledger at `path` (a file
/// path, `sqlite://path` or a `postgres://` URL: [`Location`]).
pub fn open(path: &Path) -> Result<Box<dyn Store>, LedgerError> {
    Location::from(path).open_batch()
}

/// Batch tables in memory, for tests.
pub fn in_memory() -> Result<Box<dyn Store>, LedgerError> {
    Ok(Box::new(SqliteStore::in_memory()?))
}

/// Counts lines by state from `(state, n)` pairs.
pub(crate) fn counts(rows: impl IntoIterator<Item = (String, u64)>) -> Counts {
    let mut c = Counts::default();
    for (state, n) in rows {
        c.total += n;
        match state.as_str() {
            "ok" => c.completed += n,
            "failed" => c.failed += n,
            _ => {}
        }
    }
    c
}
