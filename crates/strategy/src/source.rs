//! Reading a ledger into a [`History`] through the ledger's [`HistoryReader`] (the SQL is the
//! ledger crate's): daily rows from the hourly rollup, workload profiles (the features a
//! workload uses, its largest prompt) and repeated prefixes, never a scan of requests.
//! Shadow (evaluation) traffic is excluded: it is not production spend.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use switchyard_ledger::HistoryReader;
use switchyard_primitives::Money;

pub use switchyard_ledger::{DailyRow, WorkloadProfile};

/// Everything the strategy engine reads, loaded once.
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    pub rows: Vec<DailyRow>,
    pub profiles: BTreeMap<String, WorkloadProfile>,
    /// Repeated stable prefixes per workload and model (production traffic, same period).
    pub prefixes: Vec<switchyard_ledger::PrefixRepeats>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("reading the ledger failed: {0}")]
    Ledger(#[from] switchyard_ledger::LedgerError),
}

impl History {
    /// Loads every production (non-shadow) day on or after `since`.
    pub fn load<R: HistoryReader + ?Sized>(
        ledger: &R,
        since: Option<NaiveDate>,
    ) -> Result<History, SourceError> {
        Ok(History {
            rows: ledger.daily(since)?,
            profiles: ledger.profiles()?,
            prefixes: ledger.prefix_repeats(since, false)?,
        })
    }

    pub fn first_day(&self) -> Option<NaiveDate> {
        self.rows.iter().map(|r| r.day).min()
    }

    pub fn last_day(&self) -> Option<NaiveDate> {
        self.rows.iter().map(|r| r.day).max()
    }

    /// Rows of the last `days` days that have data (ending at the last day with data).
    pub fn recent(&self, days: i64) -> impl Iterator<Item = &DailyRow> {
        let from = self
            .last_day()
            .map(|d| d - chrono::Duration::days(days - 1));
        self.rows
            .iter()
            .filter(move |r| from.is_some_and(|f| r.day >= f))
    }

    pub fn workloads(&self) -> BTreeSet<&str> {
        self.rows.iter().map(|r| r.workload.as_str()).collect()
    }

    pub fn total_cost(&self) -> Money {
        self.rows.iter().map(|r| r.cost).sum()
    }
}

/// Tokens per hour over the last `days` days of the ledger (for reserved-capacity offers),
/// for one provider or all; hours without traffic count as zero.
pub fn hourly_tokens<R: HistoryReader + ?Sized>(
    ledger: &R,
    provider: Option<&str>,
    days: i64,
) -> Result<Vec<u64>, SourceError> {
    Ok(ledger.hourly_tokens(provider, days)?)
}
