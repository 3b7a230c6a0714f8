//! What `switchyard ledger copy` needs to move an eval store between backends: every table
//! read page by page in key order from a cursor ([`Store::page`](crate::Store::page)), and
//! rows written idempotently ([`Store::insert_rows`](crate::Store::insert_rows)), so an
//! interrupted copy resumes from the last cursor it saved and writes nothing twice.
//!
//! Rows carry their stored values unchanged: ids, times, a shadow result's id, and a dataset
//! item's JSON byte for byte (datasets are immutable; a copy must not re-serialise them).

use crate::{Capture, DatasetInfo, RunRecord, ShadowResult};

/// The eval store's tables, in the order a copy writes them (a dataset before its items).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Captures,
    Datasets,
    DatasetItems,
    Runs,
    ShadowResults,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Captures,
        Table::Datasets,
        Table::DatasetItems,
        Table::Runs,
        Table::ShadowResults,
    ];

    /// The table's name in both backends.
    pub fn name(self) -> &'static str {
        match self {
            Table::Captures => "captures",
            Table::Datasets => "datasets",
            Table::DatasetItems => "dataset_items",
            Table::Runs => "runs",
            Table::ShadowResults => "shadow_results",
        }
    }
}

/// A row's primary key, where the next page starts (exclusive). Text keys compare bytewise on
/// both backends.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cursor {
    /// The row's text key: its id, or a dataset item's dataset id; empty for a shadow result.
    pub key: String,
    /// A dataset item's index, or a shadow result's id; 0 otherwise.
    pub n: i64,
}

/// One row of one table, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Capture(Capture),
    Dataset(DatasetInfo),
    DatasetItem {
        dataset_id: String,
        idx: i64,
        /// The item's JSON text as stored.
        item: String,
    },
    Run(RunRecord),
    Shadow {
        id: i64,
        result: ShadowResult,
    },
}

impl Row {
    pub fn table(&self) -> Table {
        match self {
            Row::Capture(_) => Table::Captures,
            Row::Dataset(_) => Table::Datasets,
            Row::DatasetItem { .. } => Table::DatasetItems,
            Row::Run(_) => Table::Runs,
            Row::Shadow { .. } => Table::ShadowResults,
        }
    }

    /// This row's key: pass it as `after` to read the rows that follow it.
    pub fn cursor(&self) -> Cursor {
        let text = |key: &str| Cursor {
            key: key.to_string(),
            n: 0,
        };
        match self {
            Row::Capture(c) => text(&c.id),
            Row::Dataset(d) => text(&d.id),
            Row::DatasetItem {
                dataset_id, idx, ..
            } => Cursor {
                key: dataset_id.clone(),
                n: *idx,
            },
            Row::Run(r) => text(&r.id),
            Row::Shadow { id, .. } => Cursor {
                key: String::new(),
                n: *id,
            },
        }
    }
}
