//! `switchyard ledger copy`: moves a whole ledger from one database to another (SQLite or
//! PostgreSQL, either way), resumably, and verifies it.
//!
//! The copy is made of sections, one per table group, each counted, copied from a cursor and
//! verified by figures (row counts and sums) read on both sides:
//!
//! - **records** (`requests`, every column): read in the source's id order and appended to the
//!   target through its own [`RecordSink`] (the gateway writer's path), so the target's
//!   rollups, feature profiles and prompt-prefix cells are built exactly as appending the
//!   records builds them; the section's figures include those derived tables. A re-sent
//!   record is skipped by its unique `request_id` (and does not reach the rollups), and the
//!   cursor (the source's last id copied, in the target's `ledger_copies`) is written after
//!   each batch commits: a copy killed between the two re-sends one batch, harmlessly.
//! - **keys** (`virtual_keys`: digests, never a secret) and **batch** (`batch_files`,
//!   `batch_jobs`, `batch_lines`): small tables, copied whole on each run in key order, a row
//!   already in the target skipped; copying keys bumps the target's key version counter so
//!   running gateways reload them.
//! - **eval store**: not here (`switchyard-evalstore` depends on this crate); the CLI's
//!   `ledger copy` runs it after these sections, with `evalstore::copy`'s pages and
//!   idempotent inserts, and adds its row counts to the verification.
//!
//! The target is migrated first (opening it applies every migration). A target that holds
//! data the copy did not put there is refused unless `append`; the target's figures before
//! the first run are kept (`ledger_copies`, section `baseline`), so verification checks
//! `target = before + source` for every additive figure, and, when the target started empty,
//! every figure (rollup cells, which merge, included). Must never know the CLI.

mod end;
mod pg;
mod sqlite;

use crate::location::redact;
use crate::{LedgerError, Location, PgStore, Record, SqliteStore};
use end::{BATCH_FILES, BATCH_JOBS, BATCH_LINES, Cell, End, Plain, VIRTUAL_KEYS};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Why a copy could not start: the caller's input (exit 2), or the ledger itself.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// How to copy.
#[derive(Debug, Clone)]
pub struct Options {
    /// Add to a target that already holds other data.
    pub append: bool,
    /// Records per batch (one transaction each on the target).
    pub batch: usize,
    /// Copy at most this many records in this run (the next run continues).
    pub max_records: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            append: false,
            batch: 1_000,
            max_records: None,
        }
    }
}

/// Told how a copy advances (a progress bar, a log line).
pub trait Progress {
    /// A section (or table) starts, with `total` items to copy.
    fn section(&mut self, name: &str, total: u64);
    /// `n` more items were copied.
    fn advance(&mut self, n: u64);
}

/// One verified figure: the source's, the target's, and what the target must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub figure: String,
    pub source: Decimal,
    pub target: Decimal,
    /// `None`: not comparable (a merging figure on a target that was not empty).
    pub expected: Option<Decimal>,
}

impl Line {
    pub fn ok(&self) -> bool {
        self.expected.is_none_or(|e| e == self.target)
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Records appended in this run (new to the target).
    pub records: u64,
    /// The source id this run started after (0: from the beginning).
    pub resumed_after: i64,
    /// Key and batch rows new to the target.
    pub rows: u64,
    /// False when `max_records` stopped the run early: nothing was verified.
    pub complete: bool,
    pub lines: Vec<Line>,
}

impl Report {
    /// Every compared figure matches.
    pub fn verified(&self) -> bool {
        self.complete && self.lines.iter().all(Line::ok)
    }
}

/// A copy from one ledger to another, both open.
pub struct Copier {
    source: Box<dyn End>,
    target: Box<dyn End>,
    /// The source as `ledger_copies` names it: a path or a URL without its password.
    name: String,
}

impl Copier {
    /// Opens both sides (the target created if need be and migrated); refuses a missing
    /// source file, an unreachable database and a target that is the source.
    pub fn open(from: &Location, to: &Location) -> Result<Copier, CopyError> {
        let name = identity(from);
        if name == identity(to) {
            return Err(CopyError::BadInput(format!(
                "--from and --to are the same ledger ({name}); give the target another file or database"
            )));
        }
        let source = open_end(from, true)?;
        let target = open_end(to, false)?;
        Ok(Copier {
            source,
            target,
            name,
        })
    }

    /// Copies every section not yet copied, then verifies.
    pub fn run(
        &mut self,
        opts: &Options,
        progress: &mut dyn Progress,
    ) -> Result<Report, CopyError> {
        let baseline = self.baseline(opts.append)?;
        let mut report = self.records(opts, progress)?;
        if !report.complete {
            return Ok(report);
        }
        let keys = self.plain(&VIRTUAL_KEYS, progress)?;
        if keys > 0 {
            self.target.bump_key_version()?;
        }
        report.rows = keys;
        for t in [&BATCH_FILES, &BATCH_JOBS, &BATCH_LINES] {
            report.rows += self.plain(t, progress)?;
        }
        report.lines = self.verify(&baseline)?;
        Ok(report)
    }

    /// The target's figures before the first run; refuses a target with other data.
    fn baseline(&mut self, append: bool) -> Result<Figures, CopyError> {
        if let Some((_, Some(note))) = self.target.progress(&self.name, "baseline")? {
            return Figures::from_note(&note);
        }
        let before = Figures::of(self.target.as_ref())?;
        let held = before.data();
        if held > Decimal::ZERO && !append {
            return Err(CopyError::BadInput(format!(
                "the target already holds data ({}); pass --append to add this ledger to it, or give an empty target",
                before.summary()
            )));
        }
        let note = before.to_note();
        self.target
            .set_progress(&self.name, "baseline", 0, Some(&note))?;
        Ok(before)
    }

    /// The records section, from the cursor.
    fn records(
        &mut self,
        opts: &Options,
        progress: &mut dyn Progress,
    ) -> Result<Report, CopyError> {
        let mut cursor = self
            .target
            .progress(&self.name, "records")?
            .map_or(0, |p| p.0);
        let mut report = Report {
            resumed_after: cursor,
            ..Report::default()
        };
        let left = self.source.count_after(cursor)?;
        let budget = opts.max_records.map_or(left, |m| m.min(left));
        progress.section("records", budget);
        let mut sent = 0u64;
        while sent < budget {
            let want = (opts.batch.max(1) as u64).min(budget - sent) as usize;
            let page = self.source.records_after(cursor, want)?;
            let Some(&(last, _)) = page.last() else { break };
            let n = page.len() as u64;
            let records: Vec<Record> = page.into_iter().map(|(_, r)| r).collect();
            report.records += self.target.append(&records)? as u64;
            self.target
                .set_progress(&self.name, "records", last, None)?;
            cursor = last;
            sent += n;
            progress.advance(n);
        }
        report.complete = self.source.count_after(cursor)? == 0;
        Ok(report)
    }

    /// One plain table, whole, in key order; returns the rows new to the target.
    fn plain(&mut self, t: &Plain, progress: &mut dyn Progress) -> Result<u64, CopyError> {
        let total = self
            .source
            .integer(&format!("SELECT COUNT(*) FROM {}", t.name))?;
        progress.section(t.name, total.max(0) as u64);
        let mut after: Option<Vec<Cell>> = None;
        let mut new = 0;
        loop {
            let page = self.source.rows(t, after.as_deref())?;
            let Some(last) = page.last() else { break };
            after = Some(last[..t.key].to_vec());
            new += self.target.insert(t, &page)? as u64;
            progress.advance(page.len() as u64);
        }
        Ok(new)
    }

    /// Both sides' figures, each compared with what the target must hold.
    fn verify(&self, baseline: &Figures) -> Result<Vec<Line>, CopyError> {
        let source = Figures::of(self.source.as_ref())?;
        let target = Figures::of(self.target.as_ref())?;
        let was_empty = baseline.0.values().all(|v| v.is_zero());
        Ok(FIGURES
            .iter()
            .map(|f| {
                let name = f.name();
                let s = source.get(&name);
                let expected = match f.additive || was_empty {
                    true => Some(baseline.get(&name) + s),
                    false => None,
                };
                Line {
                    source: s,
                    target: target.get(&name),
                    expected,
                    figure: name,
                }
            })
            .collect())
    }
}

/// How `ledger_copies` names a ledger: an absolute path, or the URL without its password.
fn identity(l: &Location) -> String {
    match l {
        Location::Sqlite(p) => {
            let abs = std::fs::canonicalize(p).unwrap_or_else(|_| {
                std::env::current_dir()
                    .map(|d| d.join(p))
                    .unwrap_or_else(|_| p.clone())
            });
            format!("sqlite://{}", abs.display())
        }
        Location::Postgres(url) => redact(url),
    }
}

fn open_end(l: &Location, source: bool) -> Result<Box<dyn End>, CopyError> {
    let side = if source { "--from" } else { "--to" };
    let bad = |e: LedgerError| CopyError::BadInput(format!("{side}: {e}"));
    match l {
        Location::Sqlite(p) if source && !p.is_file() => Err(CopyError::BadInput(format!(
            "--from: there is no ledger file at {}",
            p.display()
        ))),
        Location::Sqlite(p) if source => Ok(Box::new(SqliteStore::open_existing(p).map_err(bad)?)),
        Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(p).map_err(bad)?)),
        Location::Postgres(url) => Ok(Box::new(PgStore::connect(url).map_err(bad)?)),
    }
}

/// One figure a section is verified by: a table's row count or a column's sum.
struct Figure {
    table: &'static str,
    /// `None`: the row count.
    column: Option<&'static str>,
    decimal: bool,
    /// Sums over a target that already held data (rows of merging cells are not).
    additive: bool,
}

impl Figure {
    fn name(&self) -> String {
        format!("{}.{}", self.table, self.column.unwrap_or("rows"))
    }

    fn read(&self, end: &dyn End) -> Result<Decimal, LedgerError> {
        match (self.column, self.decimal) {
            (None, _) => end
                .integer(&format!("SELECT COUNT(*) FROM {}", self.table))
                .map(Decimal::from),
            (Some(c), true) => end.decimal_sum(self.table, c),
            (Some(c), false) => end
                .integer(&format!(
                    "SELECT CAST(COALESCE(SUM({c}), 0) AS BIGINT) FROM {}",
                    self.table
                ))
                .map(Decimal::from),
        }
    }
}

const fn rows(table: &'static str, additive: bool) -> Figure {
    Figure {
        table,
        column: None,
        decimal: false,
        additive,
    }
}

const fn sum(table: &'static str, column: &'static str) -> Figure {
    Figure {
        table,
        column: Some(column),
        decimal: false,
        additive: true,
    }
}

const fn money(table: &'static str, column: &'static str) -> Figure {
    Figure {
        table,
        column: Some(column),
        decimal: true,
        additive: true,
    }
}

/// Every figure verified, by section: records (and the tables appending builds), keys, batch.
const FIGURES: &[Figure] = &[
    rows("requests", true),
    sum("requests", "request_count"),
    sum("requests", "input_tokens"),
    sum("requests", "cached_input_tokens"),
    sum("requests", "cache_write_tokens"),
    sum("requests", "cache_write_1h_tokens"),
    sum("requests", "output_tokens"),
    sum("requests", "reasoning_tokens"),
    money("requests", "cost_usd"),
    money("requests", "saved_usd"),
    money("requests", "cascade_baseline_usd"),
    money("requests", "cascade_judged_usd"),
    money("requests", "routing_baseline_usd"),
    rows("rollup_hourly", false),
    sum("rollup_hourly", "requests"),
    sum("rollup_hourly", "errors"),
    sum("rollup_hourly", "input_tokens"),
    sum("rollup_hourly", "cached_input_tokens"),
    sum("rollup_hourly", "cache_write_tokens"),
    sum("rollup_hourly", "output_tokens"),
    sum("rollup_hourly", "reasoning_tokens"),
    money("rollup_hourly", "cost_usd"),
    sum("rollup_hourly", "exact_hits"),
    money("rollup_hourly", "exact_saved_usd"),
    sum("rollup_hourly", "semantic_hits"),
    money("rollup_hourly", "semantic_saved_usd"),
    rows("workload_features", false),
    sum("workload_features", "requests"),
    rows("prompt_prefixes", false),
    sum("prompt_prefixes", "requests"),
    sum("prompt_prefixes", "prefix_tokens"),
    sum("prompt_prefixes", "cached_requests"),
    rows("virtual_keys", true),
    rows("batch_files", true),
    sum("batch_files", "bytes"),
    rows("batch_jobs", true),
    rows("batch_lines", true),
];

/// A ledger's figures, by name.
#[derive(Debug, Clone, Default)]
struct Figures(BTreeMap<String, Decimal>);

impl Figures {
    fn of(end: &dyn End) -> Result<Figures, LedgerError> {
        let mut out = BTreeMap::new();
        for f in FIGURES {
            out.insert(f.name(), f.read(end)?.normalize());
        }
        Ok(Figures(out))
    }

    fn get(&self, name: &str) -> Decimal {
        self.0.get(name).copied().unwrap_or(Decimal::ZERO)
    }

    /// Rows of data the copy would add to: records, keys, batch state.
    fn data(&self) -> Decimal {
        [
            "requests",
            "virtual_keys",
            "batch_files",
            "batch_jobs",
            "batch_lines",
        ]
        .iter()
        .map(|t| self.get(&format!("{t}.rows")))
        .sum()
    }

    fn summary(&self) -> String {
        format!(
            "{} records, {} virtual keys, {} batch jobs",
            self.get("requests.rows"),
            self.get("virtual_keys.rows"),
            self.get("batch_jobs.rows")
        )
    }

    fn to_note(&self) -> String {
        let map: BTreeMap<&str, String> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect();
        serde_json::to_string(&map).unwrap_or_default()
    }

    fn from_note(note: &str) -> Result<Figures, CopyError> {
        let corrupt = |e: &dyn std::fmt::Display| {
            LedgerError::Corrupt(format!("the copy's saved baseline is unreadable: {e}"))
        };
        let map: BTreeMap<String, String> = serde_json::from_str(note).map_err(|e| corrupt(&e))?;
        let mut out = BTreeMap::new();
        for (k, v) in map {
            out.insert(k, Decimal::from_str(&v).map_err(|e| corrupt(&e))?);
        }
        Ok(Figures(out))
    }
}
