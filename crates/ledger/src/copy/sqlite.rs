//! The SQLite side of a copy.

use super::end::{Cell, End, Plain, key_after};
use crate::{LedgerError, Record, SqliteStore};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{OptionalExtension, params, params_from_iter};
use rust_decimal::Decimal;
use std::str::FromStr;

fn value(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Int(i) => Value::Integer(*i),
        Cell::Text(t) => Value::Text(t.clone()),
        Cell::Blob(b) => Value::Blob(b.clone()),
    }
}

fn cell(v: ValueRef<'_>) -> Result<Cell, LedgerError> {
    Ok(match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        ValueRef::Real(r) => {
            return Err(LedgerError::Corrupt(format!(
                "a real number ({r}) in a column that holds integers, text or bytes"
            )));
        }
    })
}

impl End for SqliteStore {
    fn records_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, Record)>, LedgerError> {
        let sql = format!(
            "SELECT {}, id FROM requests WHERE id > ?1 ORDER BY id LIMIT ?2",
            crate::sqlite::COLUMNS
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![after, limit as i64])?;
        let mut out = Vec::with_capacity(limit);
        while let Some(row) = rows.next()? {
            // `id` follows the record's columns: the last one.
            let id: i64 = row.get(row.as_ref().column_count() - 1)?;
            out.push((id, crate::sqlite::row_to_record(row)?));
        }
        Ok(out)
    }

    fn count_after(&self, after: i64) -> Result<u64, LedgerError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM requests WHERE id > ?1",
            params![after],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    fn integer(&self, sql: &str) -> Result<i64, LedgerError> {
        Ok(self.conn.query_row(sql, [], |r| r.get(0))?)
    }

    fn decimal_sum(&self, table: &str, column: &str) -> Result<Decimal, LedgerError> {
        let sql = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut sum = Decimal::ZERO;
        while let Some(row) = rows.next()? {
            let text: String = row.get(0)?;
            let d = Decimal::from_str(&text).map_err(|e| {
                LedgerError::Corrupt(format!("{table}.{column} holds {text:?}: {e}"))
            })?;
            sum += d;
        }
        Ok(sum)
    }

    fn rows(&self, t: &Plain, after: Option<&[Cell]>) -> Result<Vec<Vec<Cell>>, LedgerError> {
        let filter = after.map_or(String::new(), |_| {
            format!("WHERE {}", key_after(t, |i| format!("?{i}"), 1))
        });
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {} LIMIT {}",
            t.column_list(),
            t.name,
            t.key_list(),
            t.page
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let args: Vec<Value> = after.unwrap_or_default().iter().map(value).collect();
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let cells = (0..t.columns.len())
                .map(|i| cell(row.get_ref(i)?))
                .collect::<Result<Vec<_>, LedgerError>>()?;
            out.push(cells);
        }
        Ok(out)
    }

    fn insert(&mut self, t: &Plain, rows: &[Vec<Cell>]) -> Result<usize, LedgerError> {
        let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT OR IGNORE INTO {} ({}) VALUES ({})",
            t.name,
            t.column_list(),
            marks.join(", ")
        );
        let tx = self.conn.transaction()?;
        let mut new = 0;
        {
            let mut stmt = tx.prepare_cached(&sql)?;
            for row in rows {
                new += stmt.execute(params_from_iter(row.iter().map(value)))?;
            }
        }
        tx.commit()?;
        Ok(new)
    }

    fn progress(
        &self,
        source: &str,
        section: &str,
    ) -> Result<Option<(i64, Option<String>)>, LedgerError> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_id, note FROM ledger_copies WHERE source = ?1 AND section = ?2",
                params![source, section],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn set_progress(
        &mut self,
        source: &str,
        section: &str,
        cursor: i64,
        note: Option<&str>,
    ) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO ledger_copies (source, section, last_id, note, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (source, section) DO UPDATE SET last_id = excluded.last_id,
                 note = COALESCE(excluded.note, ledger_copies.note), updated_at = excluded.updated_at",
            params![source, section, cursor, note, chrono::Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    fn bump_key_version(&mut self) -> Result<(), LedgerError> {
        self.conn.execute(
            "UPDATE virtual_keys_version SET version = version + 1 WHERE singleton = 1",
            [],
        )?;
        Ok(())
    }
}
