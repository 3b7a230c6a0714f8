//! [`DashboardReader`] on the SQLite file.

use super::{
    Arg, Cursor, DashboardReader, Quantiles, RecentPage, RecentQuery, RecentRow, SeriesPoint,
    SeriesQuery, Sql,
};
use crate::{LedgerError, SqliteStore};
use rusqlite::types::Value;
use std::str::FromStr;
use switchyard_primitives::Money;

fn values(args: Vec<Arg>) -> impl Iterator<Item = Value> {
    args.into_iter().map(|a| match a {
        Arg::Text(t) => Value::Text(t),
        Arg::Int(i) => Value::Integer(i),
    })
}

fn n(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    r.get::<_, Option<i64>>(i)
        .map(|v| v.unwrap_or(0).max(0) as u64)
}

fn money(text: Option<String>) -> Result<Option<Money>, LedgerError> {
    text.map(|t| {
        Money::from_str(&t).map_err(|e| LedgerError::Corrupt(format!("amount `{t}`: {e}")))
    })
    .transpose()
}

fn recent_row(r: &rusqlite::Row<'_>) -> Result<(Cursor, RecentRow), LedgerError> {
    let cursor = Cursor {
        id: r.get(0)?,
        ts_ms: r.get(1)?,
    };
    let row = RecentRow {
        request_id: r.get(2)?,
        ts: r.get(3)?,
        route: r.get(4)?,
        workload: r.get(5)?,
        key_id: r.get(6)?,
        team: r.get(7)?,
        provider: r.get(8)?,
        model: r.get(9)?,
        status: u16::try_from(r.get::<_, i64>(10)?).unwrap_or(0),
        error_class: r.get(11)?,
        streamed: r.get::<_, i64>(12)? != 0,
        input_tokens: n(r, 13)?,
        output_tokens: n(r, 14)?,
        cost_usd: money(r.get(15)?)?,
        latency_ms: r.get(16)?,
        overhead_us: n(r, 17)?,
        cache: r.get(18)?,
    };
    Ok((cursor, row))
}

impl DashboardReader for SqliteStore {
    fn series(&self, q: &SeriesQuery) -> Result<Vec<SeriesPoint>, LedgerError> {
        let (sql, args) = super::series_sql(Sql::Sqlite, q);
        let mut stmt = self.connection().prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values(args)))?;
        let mut cells = Vec::new();
        while let Some(r) = rows.next()? {
            cells.push(SeriesPoint {
                day: r.get(0)?,
                key: r.get(1)?,
                requests: n(r, 2)?,
                errors: n(r, 3)?,
                cost_usd: money(r.get(4)?)?.unwrap_or(Money::ZERO),
                overhead_us_sum: n(r, 5)?,
                overhead_count: n(r, 6)?,
            });
        }
        Ok(super::fold(cells))
    }

    fn recent(&self, q: &RecentQuery) -> Result<RecentPage, LedgerError> {
        let (sql, args) = super::recent_sql(Sql::Sqlite, q);
        let mut stmt = self.connection().prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values(args)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(recent_row(r)?);
        }
        let boundary = match super::boundary_sql(Sql::Sqlite, q) {
            Some((sql, args)) if out.len() <= q.limit as usize => {
                let mut stmt = self.connection().prepare(&sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(values(args)))?;
                match rows.next()? {
                    Some(r) => Some(Cursor {
                        ts_ms: r.get(0)?,
                        id: r.get(1)?,
                    }),
                    None => None,
                }
            }
            _ => None,
        };
        Ok(super::page(out, q.limit, boundary))
    }

    fn latency(&self, from_ms: i64, key_id: Option<&str>) -> Result<Quantiles, LedgerError> {
        let filter = "FROM requests WHERE ts_ms >= ?1 AND shadow = 0 AND latency_ms > 0
                      AND (?2 IS NULL OR key_id = ?2)";
        let conn = self.connection();
        let count: i64 = conn.query_row(
            &format!("SELECT COUNT(*) {filter}"),
            rusqlite::params![from_ms, key_id],
            |r| r.get(0),
        )?;
        let requests = count.max(0) as u64;
        if requests == 0 {
            return Ok(Quantiles {
                requests,
                p50_ms: None,
                p95_ms: None,
            });
        }
        let at = |offset: u64| -> Result<f64, LedgerError> {
            Ok(conn.query_row(
                &format!("SELECT latency_ms {filter} ORDER BY latency_ms LIMIT 1 OFFSET ?3"),
                rusqlite::params![from_ms, key_id, offset as i64],
                |r| r.get(0),
            )?)
        };
        let (p50, p95) = super::ranks(requests);
        Ok(Quantiles {
            requests,
            p50_ms: Some(at(p50)?),
            p95_ms: Some(at(p95)?),
        })
    }
}
