//! The PostgreSQL backend's [`keys::Store`]: `virtual_keys` and its version counter, each
//! change and its bump in one transaction.

use super::PgStore;
use crate::LedgerError;
use crate::keys::{self, Row, parse_ts, ts};
use chrono::{DateTime, Utc};
use postgres::types::ToSql;

const COLUMNS: &str = "id, hash, prefix, spec, created_at, rotated_at, revoked_at";
const BUMP: &str = "UPDATE virtual_keys_version SET version = version + 1 WHERE singleton = 1";

fn read(r: &postgres::Row) -> Result<Row, LedgerError> {
    let id: String = r.get(0);
    let time = |i: usize| -> Result<Option<DateTime<Utc>>, LedgerError> {
        r.get::<_, Option<String>>(i)
            .map(|s| parse_ts(&id, &s))
            .transpose()
    };
    Ok(Row {
        created_at: parse_ts(&id, &r.get::<_, String>(4))?,
        rotated_at: time(5)?,
        revoked_at: time(6)?,
        hash: r.get(1),
        prefix: r.get(2),
        spec: r.get(3),
        id,
    })
}

impl PgStore {
    /// `UPDATE virtual_keys <set> WHERE id = $1` on a live key, bumping the version if it
    /// changed one.
    fn change(&self, set: &str, args: &[&(dyn ToSql + Sync)]) -> Result<bool, LedgerError> {
        let sql = format!("UPDATE virtual_keys {set} WHERE id = $1 AND revoked_at IS NULL");
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(sql.as_str(), args)?;
            if n > 0 {
                tx.execute(BUMP, &[])?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }
}

impl keys::Store for PgStore {
    fn insert(&self, row: &Row) -> Result<(), LedgerError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO virtual_keys (id, hash, prefix, spec, created_at, rotated_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &row.id,
                    &row.hash,
                    &row.prefix,
                    &row.spec,
                    &ts(row.created_at),
                    &row.rotated_at.map(ts),
                    &row.revoked_at.map(ts),
                ],
            )?;
            tx.execute(BUMP, &[])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn get(&self, id: &str) -> Result<Option<Row>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM virtual_keys WHERE id = $1");
        let row = self.with(|c| Ok(c.query_opt(sql.as_str(), &[&id])?))?;
        row.as_ref().map(read).transpose()
    }

    fn all(&self) -> Result<Vec<Row>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM virtual_keys ORDER BY created_at, id");
        let rows = self.with(|c| Ok(c.query(sql.as_str(), &[])?))?;
        rows.iter().map(read).collect()
    }

    fn set_spec(&self, id: &str, spec: &str) -> Result<bool, LedgerError> {
        self.change("SET spec = $2", &[&id, &spec])
    }

    fn set_secret(
        &self,
        id: &str,
        hash: &str,
        prefix: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, LedgerError> {
        let at = ts(at);
        let sql = "SET hash = $2, prefix = $3, rotated_at = $4";
        self.change(sql, &[&id, &hash, &prefix, &at])
    }

    fn revoke(&self, id: &str, at: DateTime<Utc>) -> Result<bool, LedgerError> {
        self.change("SET revoked_at = $2", &[&id, &ts(at)])
    }

    fn version(&self) -> Result<i64, LedgerError> {
        self.with(|c| {
            let row = c.query_one(
                "SELECT version FROM virtual_keys_version WHERE singleton = 1",
                &[],
            )?;
            Ok(row.get(0))
        })
    }
}
