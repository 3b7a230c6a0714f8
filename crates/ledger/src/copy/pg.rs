//! The PostgreSQL side of a copy.

use super::end::{Cell, End, Kind, Plain, key_after};
use crate::{LedgerError, PgStore, Record};
use postgres::types::ToSql;
use rust_decimal::Decimal;
use std::str::FromStr;

type Param = Box<dyn ToSql + Sync + Send>;

/// `c` bound as a column of `kind` (a NULL needs its type).
fn param(c: &Cell, kind: Kind) -> Param {
    match (c, kind) {
        (Cell::Int(i), _) => Box::new(*i),
        (Cell::Text(t), _) => Box::new(t.clone()),
        (Cell::Blob(b), _) => Box::new(b.clone()),
        (Cell::Null, Kind::Int) => Box::new(None::<i64>),
        (Cell::Null, Kind::Text) => Box::new(None::<String>),
        (Cell::Null, Kind::Blob) => Box::new(None::<Vec<u8>>),
    }
}

fn cell(r: &postgres::Row, i: usize, kind: Kind) -> Cell {
    let v = match kind {
        Kind::Int => r.get::<_, Option<i64>>(i).map(Cell::Int),
        Kind::Text => r.get::<_, Option<String>>(i).map(Cell::Text),
        Kind::Blob => r.get::<_, Option<Vec<u8>>>(i).map(Cell::Blob),
    };
    v.unwrap_or(Cell::Null)
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl End for PgStore {
    fn records_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, Record)>, LedgerError> {
        let sql = format!(
            "SELECT {}, id FROM requests WHERE id > $1 ORDER BY id LIMIT $2",
            crate::pg::scan::COLUMNS
        );
        let rows = self.with(|c| Ok(c.query(sql.as_str(), &[&after, &(limit as i64)])?))?;
        rows.iter()
            // `id` follows the record's columns: the last one.
            .map(|r| Ok((r.get::<_, i64>(r.len() - 1), crate::pg::scan::record(r)?)))
            .collect()
    }

    fn count_after(&self, after: i64) -> Result<u64, LedgerError> {
        let n: i64 = self.with(|c| {
            Ok(
                c.query_one("SELECT COUNT(*) FROM requests WHERE id > $1", &[&after])?
                    .get(0),
            )
        })?;
        Ok(n.max(0) as u64)
    }

    fn integer(&self, sql: &str) -> Result<i64, LedgerError> {
        self.with(|c| Ok(c.query_one(sql, &[])?.get(0)))
    }

    fn decimal_sum(&self, table: &str, column: &str) -> Result<Decimal, LedgerError> {
        let sql = format!("SELECT COALESCE(SUM({column}), 0)::text FROM {table}");
        let text: String = self.with(|c| Ok(c.query_one(sql.as_str(), &[])?.get(0)))?;
        Decimal::from_str(&text)
            .map_err(|e| LedgerError::Corrupt(format!("{table}.{column} sums to {text:?}: {e}")))
    }

    fn rows(&self, t: &Plain, after: Option<&[Cell]>) -> Result<Vec<Vec<Cell>>, LedgerError> {
        let filter = after.map_or(String::new(), |_| {
            format!("WHERE {}", key_after(t, |i| format!("${i}"), 1))
        });
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {} LIMIT {}",
            t.column_list(),
            t.name,
            t.key_list(),
            t.page
        );
        let params: Vec<Param> = after
            .unwrap_or_default()
            .iter()
            .zip(t.columns)
            .map(|(c, (_, kind))| param(c, *kind))
            .collect();
        let rows = self.with(|c| Ok(c.query(sql.as_str(), &refs(&params))?))?;
        Ok(rows
            .iter()
            .map(|r| {
                t.columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| cell(r, i, *kind))
                    .collect()
            })
            .collect())
    }

    fn insert(&mut self, t: &Plain, rows: &[Vec<Cell>]) -> Result<usize, LedgerError> {
        let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
            t.name,
            t.column_list(),
            marks.join(", ")
        );
        let rows: Vec<Vec<Param>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(t.columns)
                    .map(|(c, (_, kind))| param(c, *kind))
                    .collect()
            })
            .collect();
        self.with(|c| {
            let mut tx = c.transaction()?;
            let stmt = tx.prepare(sql.as_str())?;
            let mut new = 0;
            for row in &rows {
                new += tx.execute(&stmt, &refs(row))? as usize;
            }
            tx.commit()?;
            Ok(new)
        })
    }

    fn progress(
        &self,
        source: &str,
        section: &str,
    ) -> Result<Option<(i64, Option<String>)>, LedgerError> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT last_id, note FROM ledger_copies WHERE source = $1 AND section = $2",
                &[&source, &section],
            )?
            .map(|r| (r.get(0), r.get(1))))
        })
    }

    fn set_progress(
        &mut self,
        source: &str,
        section: &str,
        cursor: i64,
        note: Option<&str>,
    ) -> Result<(), LedgerError> {
        let now = chrono::Utc::now().to_rfc3339();
        self.with(|c| {
            c.execute(
                "INSERT INTO ledger_copies (source, section, last_id, note, updated_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (source, section) DO UPDATE SET last_id = excluded.last_id,
                     note = COALESCE(excluded.note, ledger_copies.note), updated_at = excluded.updated_at",
                &[&source, &section, &cursor, &note, &now],
            )?;
            Ok(())
        })
    }

    fn bump_key_version(&mut self) -> Result<(), LedgerError> {
        self.with(|c| {
            c.execute(
                "UPDATE virtual_keys_version SET version = version + 1 WHERE singleton = 1",
                &[],
            )?;
            Ok(())
        })
    }
}
