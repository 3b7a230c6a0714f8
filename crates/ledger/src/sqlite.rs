//! The embedded SQLite backend: WAL mode, migrations on open, rollups maintained on append.

use crate::rollup::Rollup;
use crate::summary::{SummaryQuery, SummaryRow};
use crate::{CascadeRow, LedgerError, Record, RecordSink, Store, schema};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, params};
use std::path::Path;
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

/// A ledger in one SQLite file.
pub struct SqliteStore {
    pub(crate) conn: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the ledger at `path`.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| LedgerError::Open {
                path: path.display().to_string(),
                message: format!("cannot create its directory: {e}"),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| LedgerError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::init(conn, path)
    }

    /// Opens an existing ledger (read-write: WAL readers need the shared-memory file, and an
    /// older schema is migrated); fails if there is none, rather than creating an empty one.
    pub fn open_existing(path: &Path) -> Result<Self, LedgerError> {
        if !path.exists() {
            return Err(LedgerError::Open {
                path: path.display().to_string(),
                message: "no ledger there yet; run `switchyard demo` or `switchyard serve` first"
                    .into(),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| LedgerError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::init(conn, path)
    }

    /// An in-memory ledger, for tests.
    pub fn in_memory() -> Result<Self, LedgerError> {
        Self::init(Connection::open_in_memory()?, Path::new(":memory:"))
    }

    fn init(mut conn: Connection, path: &Path) -> Result<Self, LedgerError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL lets `ledger summary` read while the gateway writes; NORMAL sync is durable
        // against process crashes (the WAL is fsynced at checkpoints).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        schema::migrate(&mut conn).map_err(|e| LedgerError::Open {
            path: path.display().to_string(),
            message: format!("migration failed: {e}"),
        })?;
        Ok(SqliteStore { conn })
    }

    /// The schema version in the file.
    pub fn schema_version(&self) -> Result<i64, LedgerError> {
        Ok(self
            .conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })?)
    }

    /// The schema version of the file at `path` without migrating it: 0 for no file or an
    /// empty one.
    pub(crate) fn version_in(path: &Path) -> Result<i64, LedgerError> {
        if !path.exists() {
            return Ok(0);
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let has: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations')",
            [],
            |r| r.get(0),
        )?;
        if !has {
            return Ok(0);
        }
        Ok(conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    /// The schema version this build writes.
    pub fn latest_schema_version() -> i64 {
        schema::latest()
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl RecordSink for SqliteStore {
    fn append(&mut self, batch: &[Record]) -> Result<usize, LedgerError> {
        let tx = self.conn.transaction()?;
        let mut rollup = Rollup::default();
        let mut inserted = 0;
        {
            let mut ins = tx.prepare_cached(INSERT_SQL)?;
            for r in batch {
                let tags = crate::columns::tags(&r.tags);
                let attempts = crate::columns::attempts(&r.attempts);
                let n = ins.execute(params![
                    r.request_id,
                    r.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    r.ts.timestamp_millis(),
                    r.kind.as_str(),
                    r.workload,
                    tags,
                    r.key_id,
                    r.team,
                    r.route,
                    r.provider,
                    r.model,
                    r.status,
                    r.error_class,
                    r.streamed,
                    r.shadow,
                    r.features,
                    r.usage.input as i64,
                    r.usage.cached_input as i64,
                    r.usage.cache_write as i64,
                    r.usage.cache_write_1h as i64,
                    r.usage.output as i64,
                    r.usage.reasoning as i64,
                    r.cost_usd.map(|c| c.decimal().normalize().to_string()),
                    r.price_version,
                    r.latency_ms,
                    r.ttft_ms,
                    r.overhead_us as i64,
                    r.usage_estimated,
                    attempts,
                    r.request_count.max(1) as i64,
                    r.source,
                    r.prefix.map(|p| p.hex()),
                    r.prefix.map(|p| p.tokens as i64),
                    r.cascade.as_ref().map(|c| i64::from(c.tier)),
                    r.cascade
                        .as_ref()
                        .and_then(|c| c.baseline_usd)
                        .map(|c| c.decimal().normalize().to_string()),
                    r.cache,
                    r.saved_usd.map(|c| c.decimal().normalize().to_string()),
                    r.batch,
                    r.fingerprint.map(crate::Fingerprint::hex),
                    r.routing_baseline_usd
                        .map(|c| c.decimal().normalize().to_string()),
                    r.cascade
                        .as_ref()
                        .and_then(|c| c.judged_usd)
                        .map(|c| c.decimal().normalize().to_string()),
                ])?;
                if n == 0 {
                    continue; // already recorded: idempotent re-import
                }
                inserted += 1;
                rollup.add(r);
            }
        }
        rollup.merge(&tx)?;
        tx.commit()?;
        Ok(inserted)
    }
}

impl Store for SqliteStore {
    fn summary(&self, q: &SummaryQuery) -> Result<Vec<SummaryRow>, LedgerError> {
        crate::summary::run(&self.conn, q)
    }

    fn savings(&self, q: &SummaryQuery) -> Result<crate::Savings, LedgerError> {
        crate::savings::run(&self.conn, &crate::Window::from(q))
    }

    fn scan(
        &self,
        since: Option<DateTime<Utc>>,
        visit: &mut dyn FnMut(Record) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM requests WHERE ts_ms >= ?1 ORDER BY ts_ms, id"
        ))?;
        let from = since.map_or(i64::MIN, |s| s.timestamp_millis());
        let mut rows = stmt.query(params![from])?;
        while let Some(row) = rows.next()? {
            visit(row_to_record(row)?)?;
        }
        Ok(())
    }

    fn count_existing(&self, request_ids: &[&str]) -> Result<u64, LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM requests WHERE request_id = ?1")?;
        let mut n = 0;
        for id in request_ids {
            if stmt.exists(params![id])? {
                n += 1;
            }
        }
        Ok(n)
    }

    fn cascade(&self, since: Option<DateTime<Utc>>) -> Result<Vec<CascadeRow>, LedgerError> {
        crate::cascade::report(&self.conn, since)
    }

    fn count(&self) -> Result<u64, LedgerError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn savings_report(
        &self,
        catalog: &switchyard_catalog::Catalog,
        window: &crate::Window,
    ) -> Result<crate::SavingsReport, LedgerError> {
        crate::levers::savings_report(&self.conn, catalog, window)
    }

    fn on_the_table(
        &self,
        catalog: &switchyard_catalog::Catalog,
        window: &crate::Window,
        batchable: &crate::Batchable,
        caching: &crate::PromptCaching,
    ) -> Result<crate::OnTheTable, LedgerError> {
        crate::table::on_the_table(&self.conn, catalog, window, batchable, caching)
    }

    fn levers(
        &self,
        catalog: &switchyard_catalog::Catalog,
        today: chrono::NaiveDate,
        batchable: &crate::Batchable,
    ) -> Result<crate::Levers, LedgerError> {
        crate::levers::levers(&self.conn, catalog, today, batchable)
    }
}

const INSERT_SQL: &str = "INSERT OR IGNORE INTO requests (request_id, ts, ts_ms, kind, workload, tags, key_id, team, route, provider, model, status, error_class, streamed, shadow, features, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd, price_version, latency_ms, ttft_ms, overhead_us, usage_estimated, attempts, request_count, source, prefix_hash, prefix_tokens, cascade_tier, cascade_baseline_usd, cache, saved_usd, batch, fingerprint, routing_baseline_usd, cascade_judged_usd) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,?40,?41)";

pub(crate) const COLUMNS: &str = "request_id, ts, kind, workload, tags, key_id, team, route, provider, model, status, error_class, streamed, shadow, features, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd, price_version, latency_ms, ttft_ms, overhead_us, usage_estimated, attempts, request_count, source, prefix_hash, prefix_tokens, cascade_tier, cascade_baseline_usd, cache, saved_usd, batch, fingerprint, routing_baseline_usd, cascade_judged_usd";

pub(crate) fn row_to_record(row: &rusqlite::Row<'_>) -> Result<Record, LedgerError> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| LedgerError::Corrupt(format!("{what}: {e}"));
    let ts: String = row.get(1)?;
    let tags: String = row.get(4)?;
    let cost: Option<String> = row.get(21)?;
    let attempts: String = row.get(27)?;
    let kind: String = row.get(2)?;
    let u = |i: usize| -> rusqlite::Result<u64> { row.get::<_, i64>(i).map(|v| v.max(0) as u64) };
    Ok(Record {
        request_id: row.get(0)?,
        ts: DateTime::parse_from_rfc3339(&ts)
            .map_err(|e| corrupt("ts", &e))?
            .with_timezone(&Utc),
        kind: crate::RecordKind::parse(&kind),
        workload: row.get(3)?,
        tags: serde_json::from_str(&tags).map_err(|e| corrupt("tags", &e))?,
        key_id: row.get(5)?,
        team: row.get(6)?,
        route: row.get(7)?,
        provider: row.get(8)?,
        model: row.get(9)?,
        status: row.get::<_, i64>(10)? as u16,
        error_class: row.get(11)?,
        streamed: row.get(12)?,
        shadow: row.get(13)?,
        features: row.get(14)?,
        usage: TokenUsage {
            input: u(15)?,
            cached_input: u(16)?,
            cache_write: u(17)?,
            cache_write_1h: u(18)?,
            output: u(19)?,
            reasoning: u(20)?,
        },
        cost_usd: cost
            .map(|c| Money::from_str(&c))
            .transpose()
            .map_err(|e| corrupt("cost_usd", &e))?,
        price_version: row.get(22)?,
        latency_ms: row.get(23)?,
        ttft_ms: row.get(24)?,
        overhead_us: u(25)?,
        usage_estimated: row.get(26)?,
        attempts: serde_json::from_str(&attempts).map_err(|e| corrupt("attempts", &e))?,
        request_count: u(28)?.max(1),
        source: row.get(29)?,
        prefix: prefix_of(row.get(30)?, row.get(31)?),
        cascade: cascade_mark(row.get(32)?, row.get(33)?, row.get(39)?)
            .map_err(|e| corrupt("cascade", &e))?,
        cache: row.get(34)?,
        saved_usd: row
            .get::<_, Option<String>>(35)?
            .map(|c| Money::from_str(&c))
            .transpose()
            .map_err(|e| corrupt("saved_usd", &e))?,
        batch: row.get(36)?,
        fingerprint: row
            .get::<_, Option<String>>(37)?
            .as_deref()
            .and_then(crate::Fingerprint::parse),
        routing_baseline_usd: row
            .get::<_, Option<String>>(38)?
            .map(|c| Money::from_str(&c))
            .transpose()
            .map_err(|e| corrupt("routing_baseline_usd", &e))?,
    })
}

/// A stored fingerprint, when both columns are set and the hash reads as hex.
fn prefix_of(hash: Option<String>, tokens: Option<i64>) -> Option<crate::PromptPrefix> {
    Some(crate::PromptPrefix {
        hash: u64::from_str_radix(&hash?, 16).ok()?,
        tokens: tokens?.max(0) as u64,
    })
}

fn cascade_mark(
    tier: Option<i64>,
    baseline: Option<String>,
    judged: Option<String>,
) -> Result<Option<crate::CascadeMark>, switchyard_primitives::MoneyParseError> {
    let Some(tier) = tier else {
        return Ok(None);
    };
    let baseline_usd = baseline.map(|b| Money::from_str(&b)).transpose()?;
    let judged_usd = judged.map(|b| Money::from_str(&b)).transpose()?;
    Ok(Some(crate::CascadeMark {
        tier: tier.clamp(0, i64::from(u32::MAX)) as u32,
        baseline_usd,
        judged_usd,
    }))
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
pub(crate) mod tests;
