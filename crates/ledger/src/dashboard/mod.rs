//! The dashboard's reads ([`DashboardReader`]): spend over time by one dimension from the
//! hourly rollup, latency quantiles over a recent window, and recent requests a page at a
//! time (newest first, keyset-paged on the `requests_ts` index, each page reading at most a
//! budget of rows so a rare filter stays fast). Both backends implement it
//! with the same SQL, built here; only the placeholders and boolean literals differ.
//!
//! Must never know about HTTP: the server parses query strings into these types.

mod pg;
mod sqlite;

use crate::{Dimension, LedgerError};
use chrono::NaiveDate;
use serde::Serialize;
use switchyard_primitives::Money;

/// Spend per UTC day and group, production traffic only.
#[derive(Debug, Clone)]
pub struct SeriesQuery {
    pub by: Dimension,
    /// Inclusive, UTC day.
    pub since: NaiveDate,
    /// Only this key's traffic (a virtual key's self-service view).
    pub key_id: Option<String>,
}

/// One day × group cell of [`SeriesQuery`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The group's value; `(none)` where the records carry none.
    pub key: String,
    pub requests: u64,
    pub errors: u64,
    pub cost_usd: Money,
    pub overhead_us_sum: u64,
    pub overhead_count: u64,
}

/// Which statuses [`RecentQuery`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Below 400.
    Ok,
    /// 400 and above.
    Error,
    Code(u16),
}

/// Where the previous page ended: the last row's `(ts_ms, id)`, written `ts_ms.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub ts_ms: i64,
    pub id: i64,
}

impl std::str::FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a cursor; pass the `next` value of the previous page");
        let (ts, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            ts_ms: ts.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.ts_ms, self.id)
    }
}

/// Recent production requests, newest first; every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct RecentQuery {
    pub route: Option<String>,
    pub workload: Option<String>,
    pub team: Option<String>,
    pub key_id: Option<String>,
    pub status: Option<StatusFilter>,
    /// Inclusive, milliseconds since the epoch.
    pub from_ms: Option<i64>,
    /// Exclusive.
    pub until_ms: Option<i64>,
    pub after: Option<Cursor>,
    /// Rows per page (1..=500; the server checks).
    pub limit: u32,
    /// Read at most this many rows of the time range per page, newest first, so a filter
    /// that matches rarely costs a bounded time; `None` reads the whole range.
    pub scan_budget: Option<u32>,
}

/// One request as the dashboard lists it: never a prompt or an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentRow {
    pub request_id: String,
    pub ts: String,
    pub route: String,
    pub workload: Option<String>,
    pub key_id: Option<String>,
    pub team: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub status: u16,
    pub error_class: Option<String>,
    pub streamed: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: Option<Money>,
    pub latency_ms: f64,
    pub overhead_us: u64,
    pub cache: Option<String>,
}

/// A page of [`RecentRow`]s and the cursor of the next one, if there is more.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentPage {
    pub rows: Vec<RecentRow>,
    pub next: Option<String>,
    /// The scan reached its budget before the page filled: rows older than `next` are not
    /// searched yet (a rare filter over a long history; the next page goes on).
    pub partial: bool,
}

/// Nearest-rank latency quantiles of measured production requests (PostgreSQL's
/// `percentile_disc`): the value at rank ⌈p·n⌉.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantiles {
    pub requests: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// What the dashboard reads; both backends pass the same conformance tests.
pub trait DashboardReader {
    fn series(&self, q: &SeriesQuery) -> Result<Vec<SeriesPoint>, LedgerError>;
    fn recent(&self, q: &RecentQuery) -> Result<RecentPage, LedgerError>;
    /// Over requests at or after `from_ms`, of one key when given.
    fn latency(&self, from_ms: i64, key_id: Option<&str>) -> Result<Quantiles, LedgerError>;
}

/// A bound value of the SQL built here.
#[derive(Debug, Clone)]
enum Arg {
    Text(String),
    Int(i64),
}

/// The SQL dialect's differences: placeholders and the production-traffic test.
#[derive(Clone, Copy)]
enum Sql {
    Sqlite,
    Postgres,
}

impl Sql {
    fn ph(self, i: usize) -> String {
        match self {
            Sql::Sqlite => format!("?{i}"),
            Sql::Postgres => format!("${i}"),
        }
    }
    fn production(self) -> &'static str {
        match self {
            Sql::Sqlite => "shadow = 0",
            Sql::Postgres => "NOT shadow",
        }
    }
}

/// A `WHERE` clause being built: its terms and their bound values.
struct Where {
    sql: Sql,
    terms: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    /// Adds `term` with its `#` standing for the next placeholder, bound to `arg`.
    fn bind(&mut self, term: &str, arg: Arg) {
        self.args.push(arg);
        self.terms
            .push(term.replace('#', &self.sql.ph(self.args.len())));
    }
}

/// The terms the `requests_ts` index answers: the time bounds and the cursor (numbered
/// first; the filters' arguments follow).
fn index_where(sql: Sql, q: &RecentQuery) -> Where {
    let mut w = Where {
        sql,
        terms: vec!["1 = 1".to_string()],
        args: Vec::new(),
    };
    if let Some(f) = q.from_ms {
        w.bind("ts_ms >= #", Arg::Int(f));
    }
    if let Some(u) = q.until_ms {
        w.bind("ts_ms < #", Arg::Int(u));
    }
    if let Some(c) = q.after {
        w.args.push(Arg::Int(c.ts_ms));
        w.args.push(Arg::Int(c.id));
        let (a, b) = (sql.ph(w.args.len() - 1), sql.ph(w.args.len()));
        w.terms
            .push(format!("(ts_ms < {a} OR (ts_ms = {a} AND id < {b}))"));
    }
    w
}

/// The filters checked on each row the index yields, numbered after `index`'s arguments.
fn filter_where(sql: Sql, q: &RecentQuery, args: Vec<Arg>) -> Where {
    let mut w = Where {
        sql,
        terms: vec![sql.production().to_string()],
        args,
    };
    for (col, v) in [
        ("route", &q.route),
        ("workload", &q.workload),
        ("team", &q.team),
        ("key_id", &q.key_id),
    ] {
        if let Some(v) = v {
            w.bind(&format!("{col} = #"), Arg::Text(v.clone()));
        }
    }
    match q.status {
        Some(StatusFilter::Ok) => w.terms.push("status < 400".into()),
        Some(StatusFilter::Error) => w.terms.push("status >= 400".into()),
        // PostgreSQL's `status` is INTEGER; the bound value is a bigint.
        Some(StatusFilter::Code(c)) => match sql {
            Sql::Sqlite => w.bind("status = #", Arg::Int(i64::from(c))),
            Sql::Postgres => w.bind("status::bigint = #", Arg::Int(i64::from(c))),
        },
        None => {}
    }
    w
}

/// The page's statement: the newest `scan_budget` rows in the index range (all of them
/// without a budget), filtered, one row more than asked to tell whether there is a next page.
fn recent_sql(sql: Sql, q: &RecentQuery) -> (String, Vec<Arg>) {
    let index = index_where(sql, q);
    let index_terms = index.terms.join(" AND ");
    let filter = filter_where(sql, q, index.args);
    let (cost, streamed) = match sql {
        Sql::Sqlite => ("cost_usd", "streamed"),
        Sql::Postgres => ("cost_usd::text", "streamed::int"),
    };
    let scanned = match q.scan_budget {
        Some(b) => format!(
            "(SELECT * FROM requests WHERE {index_terms} ORDER BY ts_ms DESC, id DESC LIMIT {b}) AS r"
        ),
        None => format!("(SELECT * FROM requests WHERE {index_terms}) AS r"),
    };
    let stmt = format!(
        "SELECT id, ts_ms, request_id, ts, route, workload, key_id, team, provider, model, status,
                error_class, {streamed}, input_tokens, output_tokens, {cost}, latency_ms,
                overhead_us, cache
         FROM {scanned} WHERE {} ORDER BY ts_ms DESC, id DESC LIMIT {}",
        filter.terms.join(" AND "),
        u64::from(q.limit) + 1
    );
    (stmt, filter.args)
}

/// The last row a budgeted scan reads (the `scan_budget`-th in the index range), if the range
/// holds that many: where the next page resumes when this one found too few matches.
fn boundary_sql(sql: Sql, q: &RecentQuery) -> Option<(String, Vec<Arg>)> {
    let budget = q.scan_budget?;
    let index = index_where(sql, q);
    let stmt = format!(
        "SELECT ts_ms, id FROM requests WHERE {} ORDER BY ts_ms DESC, id DESC LIMIT 1 OFFSET {}",
        index.terms.join(" AND "),
        budget.saturating_sub(1)
    );
    Some((stmt, index.args))
}

/// Keeps `limit` rows and names the cursor after the last one when more were read; when
/// fewer matched but the scan stopped at its budget, the next page resumes after `boundary`
/// (the page is then `partial`: the older rows are not searched yet).
fn page(mut rows: Vec<(Cursor, RecentRow)>, limit: u32, boundary: Option<Cursor>) -> RecentPage {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let (next, partial) = match (more, boundary) {
        (true, _) => (rows.last().map(|(c, _)| *c), false),
        (false, Some(b)) => (Some(b), true),
        (false, None) => (None, false),
    };
    RecentPage {
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        next: next.map(|c| c.to_string()),
        partial,
    }
}

/// The series statement over the rollup (costs summed by the caller: decimal text on SQLite).
fn series_sql(sql: Sql, q: &SeriesQuery) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Text(q.since.format("%Y-%m-%d").to_string())];
    let mut filter = format!("hour >= {} AND {}", sql.ph(1), sql.production());
    if let Some(k) = &q.key_id {
        args.push(Arg::Text(k.clone()));
        filter.push_str(&format!(" AND key_id = {}", sql.ph(2)));
    }
    let cost = match sql {
        Sql::Sqlite => "cost_usd",
        Sql::Postgres => "cost_usd::text",
    };
    let stmt = format!(
        "SELECT substr(hour, 1, 10), COALESCE({col}, ''), requests, errors, {cost},
                overhead_us_sum, overhead_count
         FROM rollup_hourly WHERE {filter}",
        col = q.by.column()
    );
    (stmt, args)
}

/// Folds rollup cells into day × group points, sorted by day then group.
fn fold(cells: Vec<SeriesPoint>) -> Vec<SeriesPoint> {
    let mut acc: std::collections::BTreeMap<(String, String), SeriesPoint> = Default::default();
    for c in cells {
        let key = if c.key.is_empty() || c.key == "/" {
            "(none)".to_string()
        } else {
            c.key.clone()
        };
        let p = acc
            .entry((c.day.clone(), key.clone()))
            .or_insert_with(|| SeriesPoint {
                key,
                requests: 0,
                errors: 0,
                cost_usd: Money::ZERO,
                overhead_us_sum: 0,
                overhead_count: 0,
                day: c.day.clone(),
            });
        p.requests += c.requests;
        p.errors += c.errors;
        p.cost_usd += c.cost_usd;
        p.overhead_us_sum += c.overhead_us_sum;
        p.overhead_count += c.overhead_count;
    }
    acc.into_values().collect()
}

/// The zero-based offsets of the p50 and p95 ranks among `n` sorted values.
fn ranks(n: u64) -> (u64, u64) {
    let rank = |p: f64| ((p * n as f64).ceil() as u64).max(1) - 1;
    (rank(0.5), rank(0.95))
}
