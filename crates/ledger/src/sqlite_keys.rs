//! The SQLite backend's [`keys::Store`]: `virtual_keys` and its version counter.

use crate::keys::{self, Row, parse_ts, ts};
use crate::{LedgerError, SqliteStore};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

const COLUMNS: &str = "id, hash, prefix, spec, created_at, rotated_at, revoked_at";

fn bump(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE virtual_keys_version SET version = version + 1 WHERE singleton = 1",
        [],
    )
    .map(|_| ())
}

fn read(r: &rusqlite::Row<'_>) -> Result<Row, LedgerError> {
    let id: String = r.get(0)?;
    let time = |i: usize| -> Result<Option<DateTime<Utc>>, LedgerError> {
        let v: Option<String> = r.get(i)?;
        v.map(|s| parse_ts(&id, &s)).transpose()
    };
    let created: String = r.get(4)?;
    Ok(Row {
        created_at: parse_ts(&id, &created)?,
        rotated_at: time(5)?,
        revoked_at: time(6)?,
        hash: r.get(1)?,
        prefix: r.get(2)?,
        spec: r.get(3)?,
        id,
    })
}

impl SqliteStore {
    /// A write transaction that takes the lock up front, so two writers queue on the busy
    /// timeout instead of failing when one upgrades a read lock.
    fn write_tx(&self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(self.connection(), TransactionBehavior::Immediate)
    }
}

impl SqliteStore {
    /// `UPDATE virtual_keys <set> WHERE id = ?1` on a live key, bumping the version if it
    /// changed one.
    fn change(&self, set: &str, args: &[&dyn rusqlite::ToSql]) -> Result<bool, LedgerError> {
        let tx = self.write_tx()?;
        let sql = format!("UPDATE virtual_keys {set} WHERE id = ?1 AND revoked_at IS NULL");
        let n = tx.execute(&sql, args)?;
        if n > 0 {
            bump(&tx)?;
        }
        tx.commit()?;
        Ok(n > 0)
    }
}

impl keys::Store for SqliteStore {
    fn insert(&self, row: &Row) -> Result<(), LedgerError> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO virtual_keys (id, hash, prefix, spec, created_at, rotated_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                row.id,
                row.hash,
                row.prefix,
                row.spec,
                ts(row.created_at),
                row.rotated_at.map(ts),
                row.revoked_at.map(ts)
            ],
        )?;
        bump(&tx)?;
        tx.commit()?;
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<Row>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM virtual_keys WHERE id = ?1");
        self.connection()
            .query_row(&sql, params![id], |r| Ok(read(r)))
            .optional()?
            .transpose()
    }

    fn all(&self) -> Result<Vec<Row>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM virtual_keys ORDER BY created_at, id");
        let mut stmt = self.connection().prepare(&sql)?;
        let rows = stmt.query_map([], |r| Ok(read(r)))?;
        rows.map(|r| r?).collect()
    }

    fn set_spec(&self, id: &str, spec: &str) -> Result<bool, LedgerError> {
        self.change("SET spec = ?2", params![id, spec])
    }

    fn set_secret(
        &self,
        id: &str,
        hash: &str,
        prefix: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, LedgerError> {
        let sql = "SET hash = ?2, prefix = ?3, rotated_at = ?4";
        self.change(sql, params![id, hash, prefix, ts(at)])
    }

    fn revoke(&self, id: &str, at: DateTime<Utc>) -> Result<bool, LedgerError> {
        self.change("SET revoked_at = ?2", params![id, ts(at)])
    }

    fn version(&self) -> Result<i64, LedgerError> {
        Ok(self.connection().query_row(
            "SELECT version FROM virtual_keys_version WHERE singleton = 1",
            [],
            |r| r.get(0),
        )?)
    }
}
