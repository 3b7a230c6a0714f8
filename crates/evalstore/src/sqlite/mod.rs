//! The SQLite backend: one file beside the ledger, WAL mode, migrated on open.

use crate::copy::{Cursor, Row, Table};
use crate::store::{capture_texts, check_dataset, from_ms, group_shadows, json_of, ms};
use rows::{read_capture, read_dataset, read_run, read_shadow, with_scorers};

mod rows;
use crate::{
    Capture, CaptureQuery, DatasetInfo, Entry, RunRecord, ShadowResult, ShadowStats, Store,
    StoreError,
};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use std::path::Path;

const CAPTURE_COLUMNS: &str = "id, ts_ms, workload, route, provider, model, key_id, team, tags, dialect, request, output_text, tool_calls, cost_usd, latency_ms, input_tokens, output_tokens";
const DATASET_COLUMNS: &str =
    "id, name, version, created_ms, source, workload, item_count, scorers";
const RUN_COLUMNS: &str =
    "id, created_ms, dataset_id, workload, candidate, baseline, verdict, report";
const SHADOW_COLUMNS: &str = "ts_ms, workload, route, primary_model, candidate, primary_score, candidate_score, primary_cost_usd, candidate_cost_usd, primary_latency_ms, candidate_latency_ms, detail, request_id";

/// An eval store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_counting(path).map(|(_, store)| store)
    }

    /// [`SqliteStore::open`], also returning the schema version found before migrating.
    pub(crate) fn open_counting(path: &Path) -> Result<(i64, Self), StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let before = crate::schema::migrate_sqlite(&mut conn)
            .map_err(|e| open_err(format!("migration failed: {e}")))?;
        Ok((before, SqliteStore { conn }))
    }

    fn insert_capture_on(conn: &Connection, c: &Capture) -> rusqlite::Result<usize> {
        let [tags, request, tool_calls] = capture_texts(c);
        conn.prepare_cached(&format!(
            "INSERT OR IGNORE INTO captures ({CAPTURE_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        ))?
        .execute(params![
            c.id,
            ms(c.ts),
            c.workload,
            c.route,
            c.provider,
            c.model,
            c.key_id,
            c.team,
            tags,
            c.dialect,
            request,
            c.output_text,
            tool_calls,
            c.cost_usd.map(|m| m.to_string()),
            c.latency_ms,
            c.input_tokens as i64,
            c.output_tokens as i64,
        ])
    }

    fn insert_dataset_on(conn: &Connection, d: &DatasetInfo) -> rusqlite::Result<usize> {
        conn.prepare_cached(&format!(
            "INSERT OR IGNORE INTO datasets ({DATASET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))?
        .execute(params![
            d.id,
            d.name,
            d.version,
            ms(d.created),
            d.source,
            d.workload,
            d.item_count as i64,
            d.scorers.to_string()
        ])
    }

    fn insert_run_on(conn: &Connection, run: &RunRecord, ignore: bool) -> rusqlite::Result<usize> {
        let verb = if ignore { "INSERT OR IGNORE" } else { "INSERT" };
        conn.prepare_cached(&format!(
            "{verb} INTO runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))?
        .execute(params![
            run.id,
            ms(run.created),
            run.dataset_id,
            run.workload,
            run.candidate,
            run.baseline,
            run.verdict,
            run.report.to_string()
        ])
    }

    fn insert_shadow_on(
        conn: &Connection,
        id: Option<i64>,
        s: &ShadowResult,
    ) -> rusqlite::Result<usize> {
        conn.prepare_cached(&format!(
            "INSERT OR IGNORE INTO shadow_results (id, {SHADOW_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ))?
        .execute(params![
            id,
            ms(s.ts),
            s.workload,
            s.route,
            s.primary_model,
            s.candidate,
            s.primary_score,
            s.candidate_score,
            s.primary_cost_usd,
            s.candidate_cost_usd,
            s.primary_latency_ms,
            s.candidate_latency_ms,
            s.detail,
            s.request_id
        ])
    }

    fn insert_row_on(conn: &Connection, row: &Row) -> rusqlite::Result<usize> {
        match row {
            Row::Capture(c) => Self::insert_capture_on(conn, c),
            Row::Dataset(d) => Self::insert_dataset_on(conn, d),
            Row::DatasetItem {
                dataset_id,
                idx,
                item,
            } => conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO dataset_items (dataset_id, idx, item) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![dataset_id, idx, item]),
            Row::Run(r) => Self::insert_run_on(conn, r, true),
            Row::Shadow { id, result } => Self::insert_shadow_on(conn, Some(*id), result),
        }
    }
}

impl Store for SqliteStore {
    fn insert_capture(&self, c: &Capture) -> Result<(), StoreError> {
        Self::insert_capture_on(&self.conn, c)?;
        Ok(())
    }

    fn prune_captures(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM captures WHERE ts_ms < ?1", params![ms(before)])?)
    }

    fn capture_count(&self) -> Result<u64, StoreError> {
        self.count(Table::Captures)
    }

    fn captures(&self, q: &CaptureQuery) -> Result<Vec<Capture>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {CAPTURE_COLUMNS} FROM captures WHERE (?1 IS NULL OR workload = ?1) AND ts_ms >= ?2
             ORDER BY ts_ms DESC, id LIMIT ?3"
        ))?;
        let limit = q.limit.map_or(-1, |l| l as i64);
        let rows = stmt.query_map(
            params![q.workload, q.since.map_or(i64::MIN, ms), limit],
            read_capture,
        )?;
        rows.map(|r| r?.into_capture()).collect()
    }

    fn create_dataset(
        &mut self,
        name: &str,
        (source, workload): (&str, Option<&str>),
        scorers: &Value,
        items: &[Value],
    ) -> Result<DatasetInfo, StoreError> {
        check_dataset(name, items)?;
        // Immediate: take the write lock before reading the next version, so two writers
        // wait for each other instead of one failing on a stale snapshot.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM datasets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?;
        let info = DatasetInfo {
            id: format!("{name}@v{version}"),
            name: name.to_string(),
            version,
            // Milliseconds, as stored, so what is returned is what reads back.
            created: from_ms(ms(Utc::now())),
            source: source.to_string(),
            workload: workload.map(str::to_string),
            item_count: items.len(),
            scorers: scorers.clone(),
        };
        Self::insert_dataset_on(&tx, &info)?;
        {
            let mut ins = tx
                .prepare("INSERT INTO dataset_items (dataset_id, idx, item) VALUES (?1, ?2, ?3)")?;
            for (i, item) in items.iter().enumerate() {
                ins.execute(params![info.id, i as i64, item.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(info)
    }

    fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DATASET_COLUMNS} FROM datasets ORDER BY name, version"
        ))?;
        let rows = stmt.query_map([], read_dataset)?;
        rows.map(|r| with_scorers(r?)).collect()
    }

    fn dataset(&self, id_or_name: &str) -> Result<(DatasetInfo, Vec<Value>), StoreError> {
        let found = self
            .conn
            .query_row(
                &format!(
                    "SELECT {DATASET_COLUMNS} FROM datasets
                     WHERE id = ?1 OR name = ?1 ORDER BY (id = ?1) DESC, version DESC LIMIT 1"
                ),
                params![id_or_name],
                read_dataset,
            )
            .optional()?;
        let Some(found) = found else {
            return Err(StoreError::NoDataset(id_or_name.to_string()));
        };
        let info = with_scorers(found)?;
        let mut stmt = self
            .conn
            .prepare("SELECT item FROM dataset_items WHERE dataset_id = ?1 ORDER BY idx")?;
        let rows = stmt.query_map(params![info.id], |r| r.get::<_, String>(0))?;
        let what = format!("dataset {}", info.id);
        let items = rows
            .map(|r| json_of(&r?, &what))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((info, items))
    }

    fn save_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        Self::insert_run_on(&self.conn, run, false)?;
        Ok(())
    }

    fn latest_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs r
             WHERE created_ms = (SELECT MAX(created_ms) FROM runs x WHERE x.candidate = r.candidate AND x.workload IS r.workload)
             ORDER BY workload, candidate, id"
        ))?;
        let rows = stmt.query_map([], read_run)?;
        rows.map(|r| r?.into_run()).collect()
    }

    fn insert_shadow(&self, s: &ShadowResult) -> Result<(), StoreError> {
        Self::insert_shadow_on(&self.conn, None, s)?;
        Ok(())
    }

    fn append(&mut self, batch: &[Entry]) -> Result<u64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut new = 0;
        for e in batch {
            new += match e {
                Entry::Capture(c) => Self::insert_capture_on(&tx, c)?,
                Entry::Shadow(s) => Self::insert_shadow_on(&tx, None, s)?,
            } as u64;
        }
        tx.commit()?;
        Ok(new)
    }

    fn shadow_stats(&self, since: DateTime<Utc>) -> Result<Vec<ShadowStats>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SHADOW_COLUMNS} FROM shadow_results WHERE ts_ms >= ?1 ORDER BY workload, candidate, ts_ms, id"
        ))?;
        let rows = stmt.query_map(params![ms(since)], |r| read_shadow(r, 0))?;
        Ok(group_shadows(rows.collect::<Result<Vec<_>, _>>()?))
    }

    fn page(
        &self,
        table: Table,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        let key = after.map(|c| c.key.as_str());
        let n = after.map_or(i64::MIN, |c| c.n);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let text_page = |columns: &str, table: &str| {
            format!(
                "SELECT {columns} FROM {table} WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2"
            )
        };
        match table {
            Table::Captures => {
                let mut stmt = self.conn.prepare(&text_page(CAPTURE_COLUMNS, "captures"))?;
                let rows = stmt.query_map(params![key, limit], read_capture)?;
                rows.map(|r| Ok(Row::Capture(r?.into_capture()?))).collect()
            }
            Table::Datasets => {
                let mut stmt = self.conn.prepare(&text_page(DATASET_COLUMNS, "datasets"))?;
                let rows = stmt.query_map(params![key, limit], read_dataset)?;
                rows.map(|r| Ok(Row::Dataset(with_scorers(r?)?))).collect()
            }
            Table::DatasetItems => {
                let mut stmt = self.conn.prepare(
                    "SELECT dataset_id, idx, item FROM dataset_items
                     WHERE (?1 IS NULL OR dataset_id > ?1 OR (dataset_id = ?1 AND idx > ?2))
                     ORDER BY dataset_id, idx LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![key, n, limit], |r| {
                    Ok(Row::DatasetItem {
                        dataset_id: r.get(0)?,
                        idx: r.get(1)?,
                        item: r.get(2)?,
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            }
            Table::Runs => {
                let mut stmt = self.conn.prepare(&text_page(RUN_COLUMNS, "runs"))?;
                let rows = stmt.query_map(params![key, limit], read_run)?;
                rows.map(|r| Ok(Row::Run(r?.into_run()?))).collect()
            }
            Table::ShadowResults => {
                let mut stmt = self.conn.prepare(&format!(
                    "SELECT id, {SHADOW_COLUMNS} FROM shadow_results WHERE id > ?1 ORDER BY id LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![n, limit], |r| {
                    Ok(Row::Shadow {
                        id: r.get(0)?,
                        result: read_shadow(r, 1)?,
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            }
        }
    }

    fn insert_rows(&mut self, rows: &[Row]) -> Result<u64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut new = 0;
        for row in rows {
            new += Self::insert_row_on(&tx, row)? as u64;
        }
        tx.commit()?;
        Ok(new)
    }

    fn count(&self, table: Table) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        Ok(self
            .conn
            .query_row(&sql, [], |r| r.get::<_, i64>(0))?
            .max(0) as u64)
    }
}
