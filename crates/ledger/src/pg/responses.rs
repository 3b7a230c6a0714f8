//! The PostgreSQL backend's [`responses::Store`]: the `responses` table.

use super::PgStore;
use crate::LedgerError;
use crate::responses::{self, Row};

impl responses::Store for PgStore {
    fn put(&self, row: &Row) -> Result<(), LedgerError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO responses (id, key_id, created_at, expires_at, response, input_items, conversation) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET key_id = EXCLUDED.key_id, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, response = EXCLUDED.response, input_items = EXCLUDED.input_items, conversation = EXCLUDED.conversation",
                &[
                    &row.id,
                    &row.key_id,
                    &row.created_at,
                    &row.expires_at,
                    &row.response,
                    &row.input_items,
                    &row.conversation,
                ],
            )?;
            Ok(())
        })
    }

    fn get(&self, id: &str, key_id: &str, now: i64) -> Result<Option<Row>, LedgerError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT id, key_id, created_at, expires_at, response, input_items, conversation FROM responses WHERE id = $1 AND key_id = $2 AND expires_at > $3",
                &[&id, &key_id, &now],
            )?;
            Ok(row.map(|r| Row {
                id: r.get(0),
                key_id: r.get(1),
                created_at: r.get(2),
                expires_at: r.get(3),
                response: r.get(4),
                input_items: r.get(5),
                conversation: r.get(6),
            }))
        })
    }

    fn delete(&self, id: &str, key_id: &str) -> Result<bool, LedgerError> {
        self.with(|c| {
            let n = c.execute(
                "DELETE FROM responses WHERE id = $1 AND key_id = $2",
                &[&id, &key_id],
            )?;
            Ok(n > 0)
        })
    }

    fn purge(&self, now: i64) -> Result<u64, LedgerError> {
        self.with(|c| Ok(c.execute("DELETE FROM responses WHERE expires_at <= $1", &[&now])?))
    }
}
