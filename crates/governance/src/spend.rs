//! Where the governor learns what a key already spent when it starts or picks up a new key.
//!
//! After that, the governor counts spend itself as requests settle: the ledger is written in
//! batches and would lag the request path.

use chrono::{DateTime, Timelike, Utc};
use rusqlite::{Connection, OpenFlags, params};
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use switchyard_primitives::Money;

/// Reading past spend failed.
#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error("cannot read spend from the ledger: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the ledger holds a cost that is not a decimal amount: `{0}`")]
    BadCost(String),
}

/// Total cost charged to a key since a moment.
pub trait SpendSource {
    fn spent_since(&self, key_id: &str, since: DateTime<Utc>) -> Result<Money, SpendError>;
}

/// Spend read from the ledger: its `rollup_hourly` table when `since` is a whole hour (every
/// period start is), else its `requests` table (`key_id`, `ts_ms`, decimal-text `cost_usd`).
///
/// Shadow requests are not counted: they are the operator's experiment, never reserved
/// against the caller's budget on the request path, so counting them on reload would make a
/// restart change a key's spend.
pub struct LedgerSpend {
    conn: Connection,
}

impl LedgerSpend {
    /// Opens the ledger file. It only reads, but opens read-write because WAL readers need the
    /// shared-memory file. A file without a `requests` table yet reads as no spend.
    pub fn open(path: &Path) -> Result<Self, SpendError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        Ok(LedgerSpend { conn })
    }

    /// Reads through an existing connection (tests, or a caller that already holds one).
    pub fn from_connection(conn: Connection) -> Self {
        LedgerSpend { conn }
    }

    fn has_table(&self, name: &str) -> Result<bool, SpendError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            params![name],
            |r| r.get(0),
        )?)
    }

    /// Sums decimal-text costs exactly (SQL `SUM` would go through floats).
    fn sum(
        &self,
        sql: &str,
        since: &dyn rusqlite::ToSql,
        key_id: &str,
    ) -> Result<Money, SpendError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![since, key_id])?;
        let mut total = Decimal::ZERO;
        while let Some(row) = rows.next()? {
            let text: String = row.get(0)?;
            total += Decimal::from_str(&text).map_err(|_| SpendError::BadCost(text))?;
        }
        Ok(Money::new(total))
    }
}

impl SpendSource for LedgerSpend {
    fn spent_since(&self, key_id: &str, since: DateTime<Utc>) -> Result<Money, SpendError> {
        // Period starts are whole hours, which the hourly rollup (written in the same
        // transaction as the requests) answers without scanning every request of the month.
        let whole_hour = since.minute() == 0 && since.second() == 0 && since.nanosecond() == 0;
        if whole_hour && self.has_table("rollup_hourly")? {
            let hour = since.format("%Y-%m-%dT%H").to_string();
            return self.sum(
                "SELECT cost_usd FROM rollup_hourly WHERE hour >= ?1 AND key_id = ?2 AND shadow = 0",
                &hour,
                key_id,
            );
        }
        if !self.has_table("requests")? {
            return Ok(Money::ZERO);
        }
        self.sum(
            "SELECT cost_usd FROM requests
             WHERE ts_ms >= ?1 AND key_id = ?2 AND shadow = 0 AND cost_usd IS NOT NULL",
            &since.timestamp_millis(),
            key_id,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ledger() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        // The columns the ledger's first migration creates that this query reads.
        conn.execute_batch(
            "CREATE TABLE requests (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, key_id TEXT,
             shadow INTEGER NOT NULL DEFAULT 0, cost_usd TEXT)",
        )
        .unwrap();
        conn
    }

    fn add(
        conn: &Connection,
        ts: DateTime<Utc>,
        key: Option<&str>,
        shadow: bool,
        cost: Option<&str>,
    ) {
        conn.execute(
            "INSERT INTO requests (ts_ms, key_id, shadow, cost_usd) VALUES (?1, ?2, ?3, ?4)",
            params![ts.timestamp_millis(), key, shadow, cost],
        )
        .unwrap();
    }

    #[test]
    fn sums_exact_decimals_for_the_key_since_the_instant() {
        let conn = ledger();
        let since = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        let before = since - chrono::Duration::milliseconds(1);
        add(&conn, since, Some("key_a"), false, Some("0.1"));
        add(&conn, since, Some("key_a"), false, Some("0.2"));
        add(&conn, before, Some("key_a"), false, Some("5"));
        add(&conn, since, Some("key_b"), false, Some("7"));
        add(&conn, since, Some("key_a"), true, Some("9"));
        add(&conn, since, Some("key_a"), false, None);
        add(&conn, since, None, false, Some("11"));
        let spend = LedgerSpend::from_connection(conn);
        assert_eq!(
            spend.spent_since("key_a", since).unwrap().to_string(),
            "0.3"
        );
        assert_eq!(
            spend.spent_since("key_a", before).unwrap().to_string(),
            "5.3"
        );
        assert_eq!(spend.spent_since("key_z", before).unwrap(), Money::ZERO);
    }

    #[test]
    fn a_ledger_without_requests_reads_as_zero_and_bad_costs_are_errors() {
        let empty = LedgerSpend::from_connection(Connection::open_in_memory().unwrap());
        assert_eq!(empty.spent_since("key_a", Utc::now()).unwrap(), Money::ZERO);
        let conn = ledger();
        let now = Utc::now();
        add(&conn, now, Some("key_a"), false, Some("lots"));
        let spend = LedgerSpend::from_connection(conn);
        assert!(
            matches!(spend.spent_since("key_a", now), Err(SpendError::BadCost(c)) if c == "lots")
        );
    }
}
