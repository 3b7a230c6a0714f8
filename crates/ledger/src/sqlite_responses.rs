//! The SQLite backend's [`responses::Store`]: the `responses` table.

use crate::responses::{self, Row};
use crate::{LedgerError, SqliteStore};
use rusqlite::{OptionalExtension, params};

impl responses::Store for SqliteStore {
    fn put(&self, row: &Row) -> Result<(), LedgerError> {
        self.connection().execute(
            "INSERT OR REPLACE INTO responses (id, key_id, created_at, expires_at, response, input_items, conversation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                row.id,
                row.key_id,
                row.created_at,
                row.expires_at,
                row.response,
                row.input_items,
                row.conversation
            ],
        )?;
        Ok(())
    }

    fn get(&self, id: &str, key_id: &str, now: i64) -> Result<Option<Row>, LedgerError> {
        let row = self
            .connection()
            .query_row(
                "SELECT id, key_id, created_at, expires_at, response, input_items, conversation FROM responses WHERE id = ?1 AND key_id = ?2 AND expires_at > ?3",
                params![id, key_id, now],
                |r| {
                    Ok(Row {
                        id: r.get(0)?,
                        key_id: r.get(1)?,
                        created_at: r.get(2)?,
                        expires_at: r.get(3)?,
                        response: r.get(4)?,
                        input_items: r.get(5)?,
                        conversation: r.get(6)?,
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    fn delete(&self, id: &str, key_id: &str) -> Result<bool, LedgerError> {
        let n = self.connection().execute(
            "DELETE FROM responses WHERE id = ?1 AND key_id = ?2",
            params![id, key_id],
        )?;
        Ok(n > 0)
    }

    fn purge(&self, now: i64) -> Result<u64, LedgerError> {
        let n = self
            .connection()
            .execute("DELETE FROM responses WHERE expires_at <= ?1", params![now])?;
        Ok(n as u64)
    }
}
