//! One side of a copy: what `ledger copy` reads from a source and writes to a target, for
//! each backend (`sqlite.rs`, `pg.rs`). Records go through the backend's own append path
//! ([`RecordSink`]), so the target's rollups, feature profiles and prefix cells are built
//! exactly as the gateway's writer builds them; plain tables (keys, batch state) are copied
//! row by row as [`Cell`]s, a conflicting row skipped.

use crate::{LedgerError, Record, RecordSink};
use rust_decimal::Decimal;

/// One column value of a plain table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// A column's type, which the PostgreSQL side needs to read and bind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
    Blob,
}

/// A table copied row by row: its name, columns (the key's first) and how many of them form
/// its primary key.
pub(crate) struct Plain {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    pub key: usize,
    /// Rows per page: small for tables that hold file contents.
    pub page: usize,
}

impl Plain {
    pub(crate) fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(crate) fn key_list(&self) -> String {
        self.columns[..self.key]
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

use Kind::{Blob, Int, Text};

/// The virtual keys: digests only (a secret is never stored, so never copied).
pub(crate) const VIRTUAL_KEYS: Plain = Plain {
    name: "virtual_keys",
    columns: &[
        ("id", Text),
        ("hash", Text),
        ("prefix", Text),
        ("spec", Text),
        ("created_at", Text),
        ("rotated_at", Text),
        ("revoked_at", Text),
    ],
    key: 1,
    page: 500,
};

pub(crate) const BATCH_FILES: Plain = Plain {
    name: "batch_files",
    columns: &[
        ("id", Text),
        ("owner", Text),
        ("purpose", Text),
        ("filename", Text),
        ("bytes", Int),
        ("created_at", Int),
        ("content", Blob),
    ],
    key: 1,
    page: 8,
};

pub(crate) const BATCH_JOBS: Plain = Plain {
    name: "batch_jobs",
    columns: &[
        ("id", Text),
        ("owner", Text),
        ("seq", Int),
        ("endpoint", Text),
        ("input_file_id", Text),
        ("completion_window", Text),
        ("metadata", Text),
        ("status", Text),
        ("output_file_id", Text),
        ("error_file_id", Text),
        ("created_at", Int),
        ("expires_at", Int),
        ("in_progress_at", Int),
        ("finalizing_at", Int),
        ("completed_at", Int),
        ("failed_at", Int),
        ("cancelling_at", Int),
        ("cancelled_at", Int),
        ("expired_at", Int),
        ("errors", Text),
    ],
    key: 1,
    page: 500,
};

pub(crate) const BATCH_LINES: Plain = Plain {
    name: "batch_lines",
    columns: &[
        ("batch_id", Text),
        ("line", Int),
        ("custom_id", Text),
        ("state", Text),
        ("body", Text),
        ("result", Text),
        ("upstream", Text),
    ],
    key: 2,
    page: 500,
};

/// What a copy needs of a ledger, on either side.
pub(crate) trait End: RecordSink {
    /// Up to `limit` records with ids above `after`, in id order, each with its id.
    fn records_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, Record)>, LedgerError>;

    /// How many records have ids above `after`.
    fn count_after(&self, after: i64) -> Result<u64, LedgerError>;

    /// `sql`'s one integer (a `COUNT(*)` or a `CAST(COALESCE(SUM(…), 0) AS BIGINT)`).
    fn integer(&self, sql: &str) -> Result<i64, LedgerError>;

    /// The exact sum of a decimal column (text on SQLite, `NUMERIC` on PostgreSQL).
    fn decimal_sum(&self, table: &str, column: &str) -> Result<Decimal, LedgerError>;

    /// Up to `t.page` rows of `t` whose key is above `after` (from the start when `None`),
    /// in key order.
    fn rows(&self, t: &Plain, after: Option<&[Cell]>) -> Result<Vec<Vec<Cell>>, LedgerError>;

    /// Inserts `rows` into `t` in one transaction, skipping a row whose key (or any unique
    /// column) is already there; returns how many were new.
    fn insert(&mut self, t: &Plain, rows: &[Vec<Cell>]) -> Result<usize, LedgerError>;

    /// The progress row of `source`'s `section`: its cursor and note.
    fn progress(
        &self,
        source: &str,
        section: &str,
    ) -> Result<Option<(i64, Option<String>)>, LedgerError>;

    fn set_progress(
        &mut self,
        source: &str,
        section: &str,
        cursor: i64,
        note: Option<&str>,
    ) -> Result<(), LedgerError>;

    /// Bumps the virtual keys' version counter, so running gateways reload the keys.
    fn bump_key_version(&mut self) -> Result<(), LedgerError>;
}

/// `(k1, k2) > (?, ?)` in the backend's placeholder style (`?N` or `$N`), from `first`.
pub(crate) fn key_after(t: &Plain, placeholder: impl Fn(usize) -> String, first: usize) -> String {
    let marks: Vec<String> = (0..t.key).map(|i| placeholder(first + i)).collect();
    format!("({}) > ({})", t.key_list(), marks.join(", "))
}
