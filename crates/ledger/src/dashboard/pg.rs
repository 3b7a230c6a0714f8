//! [`DashboardReader`] on PostgreSQL.

use super::{
    Arg, Cursor, DashboardReader, Quantiles, RecentPage, RecentQuery, RecentRow, SeriesPoint,
    SeriesQuery, Sql,
};
use crate::pg::reads_money as money;
use crate::{LedgerError, PgStore};
use postgres::types::ToSql;

fn boxed(args: Vec<Arg>) -> Vec<Box<dyn ToSql + Sync + Send>> {
    args.into_iter()
        .map(|a| -> Box<dyn ToSql + Sync + Send> {
            match a {
                Arg::Text(t) => Box::new(t),
                Arg::Int(i) => Box::new(i),
            }
        })
        .collect()
}

fn u(r: &postgres::Row, i: usize) -> u64 {
    r.get::<_, Option<i64>>(i).unwrap_or(0).max(0) as u64
}

fn recent_row(r: &postgres::Row) -> Result<(Cursor, RecentRow), LedgerError> {
    let cursor = Cursor {
        id: r.get(0),
        ts_ms: r.get(1),
    };
    let cost: Option<String> = r.get(15);
    let row = RecentRow {
        request_id: r.get(2),
        ts: r.get(3),
        route: r.get(4),
        workload: r.get(5),
        key_id: r.get(6),
        team: r.get(7),
        provider: r.get(8),
        model: r.get(9),
        status: u16::try_from(r.get::<_, i32>(10)).unwrap_or(0),
        error_class: r.get(11),
        streamed: r.get::<_, i32>(12) != 0,
        input_tokens: u(r, 13),
        output_tokens: u(r, 14),
        cost_usd: cost.map(|c| money(Some(c))).transpose()?,
        latency_ms: r.get(16),
        overhead_us: u(r, 17),
        cache: r.get(18),
    };
    Ok((cursor, row))
}

impl PgStore {
    fn query(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<postgres::Row>, LedgerError> {
        let args = boxed(args);
        self.with(|c| {
            let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| &**a as _).collect();
            Ok(c.query(sql, &refs)?)
        })
    }
}

impl DashboardReader for PgStore {
    fn series(&self, q: &SeriesQuery) -> Result<Vec<SeriesPoint>, LedgerError> {
        let (sql, args) = super::series_sql(Sql::Postgres, q);
        let rows = self.query(&sql, args)?;
        let cells = rows
            .iter()
            .map(|r| {
                Ok(SeriesPoint {
                    day: r.get(0),
                    key: r.get(1),
                    requests: u(r, 2),
                    errors: u(r, 3),
                    cost_usd: money(r.get(4))?,
                    overhead_us_sum: u(r, 5),
                    overhead_count: u(r, 6),
                })
            })
            .collect::<Result<Vec<_>, LedgerError>>()?;
        Ok(super::fold(cells))
    }

    fn recent(&self, q: &RecentQuery) -> Result<RecentPage, LedgerError> {
        let (sql, args) = super::recent_sql(Sql::Postgres, q);
        let rows = self.query(&sql, args)?;
        let out = rows.iter().map(recent_row).collect::<Result<Vec<_>, _>>()?;
        let boundary = match super::boundary_sql(Sql::Postgres, q) {
            Some((sql, args)) if out.len() <= q.limit as usize => {
                self.query(&sql, args)?.first().map(|r| Cursor {
                    ts_ms: r.get(0),
                    id: r.get(1),
                })
            }
            _ => None,
        };
        Ok(super::page(out, q.limit, boundary))
    }

    fn latency(&self, from_ms: i64, key_id: Option<&str>) -> Result<Quantiles, LedgerError> {
        let key = key_id.map(str::to_string);
        let row = self.with(|c| {
            Ok(c.query_one(
                "SELECT COUNT(*),
                        percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms),
                        percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms)
                 FROM requests WHERE ts_ms >= $1 AND NOT shadow AND latency_ms > 0
                   AND ($2::text IS NULL OR key_id = $2)",
                &[&from_ms, &key],
            )?)
        })?;
        Ok(Quantiles {
            requests: u(&row, 0),
            p50_ms: row.get(1),
            p95_ms: row.get(2),
        })
    }
}
