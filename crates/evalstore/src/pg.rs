//! The PostgreSQL backend: the eval store's tables in the database (and schema) a
//! `postgres://` URL names, usually the ledger's own, so a fleet's replicas capture into one
//! store and every `switchyard eval` command reads it.
//!
//! Like the ledger's PostgreSQL backend, the client is the synchronous `postgres` crate and
//! every call runs on a short-lived scoped thread (its private runtime must not be entered
//! from a thread driving async tasks; the strategy API reads readiness from a handler).

use crate::copy::{Cursor, Row, Table};
use crate::store::{
    CaptureCells, RunCells, capture_texts, check_dataset, from_ms, group_shadows, json_of, ms,
    pg_message,
};
use crate::{
    Capture, CaptureQuery, DatasetInfo, RunRecord, ShadowResult, ShadowStats, Store, StoreError,
};
use chrono::{DateTime, Utc};
use postgres::{Client, GenericClient, NoTls};
use serde_json::Value;
use std::sync::Mutex;

const CAPTURE_COLUMNS: &str = "id, ts_ms, workload, route, provider, model, key_id, team, tags, dialect, request, output_text, tool_calls, cost_usd::TEXT, latency_ms, input_tokens, output_tokens";
const CAPTURE_INSERT: &str = "INSERT INTO captures (id, ts_ms, workload, route, provider, model, key_id, team, tags, dialect, request, output_text, tool_calls, cost_usd, latency_ms, input_tokens, output_tokens)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::TEXT::NUMERIC, $15, $16, $17)
     ON CONFLICT DO NOTHING";
const DATASET_COLUMNS: &str =
    "id, name, version, created_ms, source, workload, item_count, scorers";
const RUN_COLUMNS: &str =
    "id, created_ms, dataset_id, workload, candidate, baseline, verdict, report";
const SHADOW_COLUMNS: &str = "ts_ms, workload, route, primary_model, candidate, primary_score, candidate_score, primary_cost_usd, candidate_cost_usd, primary_latency_ms, candidate_latency_ms, detail";

/// An eval store in a PostgreSQL database.
pub struct PgStore {
    /// `None` only while being dropped.
    client: Mutex<Option<Client>>,
}

/// Closing the connection blocks on the client's runtime, so it happens on a thread too.
impl Drop for PgStore {
    fn drop(&mut self) {
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        std::thread::scope(|s| {
            s.spawn(move || drop(client));
        });
    }
}

fn read_capture(r: &postgres::Row) -> CaptureCells {
    CaptureCells {
        id: r.get(0),
        ts_ms: r.get(1),
        workload: r.get(2),
        route: r.get(3),
        provider: r.get(4),
        model: r.get(5),
        key_id: r.get(6),
        team: r.get(7),
        tags: r.get(8),
        dialect: r.get(9),
        request: r.get(10),
        output_text: r.get(11),
        tool_calls: r.get(12),
        cost_usd: r.get(13),
        latency_ms: r.get(14),
        input_tokens: r.get(15),
        output_tokens: r.get(16),
    }
}

fn read_dataset(r: &postgres::Row) -> Result<DatasetInfo, StoreError> {
    let id: String = r.get(0);
    Ok(DatasetInfo {
        scorers: json_of(&r.get::<_, String>(7), &format!("dataset {id}"))?,
        name: r.get(1),
        version: r.get(2),
        created: from_ms(r.get(3)),
        source: r.get(4),
        workload: r.get(5),
        item_count: r.get::<_, i64>(6).max(0) as usize,
        id,
    })
}

fn read_run(r: &postgres::Row) -> RunCells {
    RunCells {
        id: r.get(0),
        created_ms: r.get(1),
        dataset_id: r.get(2),
        workload: r.get(3),
        candidate: r.get(4),
        baseline: r.get(5),
        verdict: r.get(6),
        report: r.get(7),
    }
}

fn read_shadow(r: &postgres::Row, at: usize) -> ShadowResult {
    ShadowResult {
        ts: from_ms(r.get(at)),
        workload: r.get(at + 1),
        route: r.get(at + 2),
        primary_model: r.get(at + 3),
        candidate: r.get(at + 4),
        primary_score: r.get(at + 5),
        candidate_score: r.get(at + 6),
        primary_cost_usd: r.get(at + 7),
        candidate_cost_usd: r.get(at + 8),
        primary_latency_ms: r.get(at + 9),
        candidate_latency_ms: r.get(at + 10),
        detail: r.get(at + 11),
    }
}

fn insert_capture(c: &mut impl GenericClient, cap: &Capture) -> Result<u64, postgres::Error> {
    let [tags, request, tool_calls] = capture_texts(cap);
    c.execute(
        CAPTURE_INSERT,
        &[
            &cap.id,
            &ms(cap.ts),
            &cap.workload,
            &cap.route,
            &cap.provider,
            &cap.model,
            &cap.key_id,
            &cap.team,
            &tags,
            &cap.dialect,
            &request,
            &cap.output_text,
            &tool_calls,
            &cap.cost_usd.map(|m| m.to_string()),
            &cap.latency_ms,
            &(cap.input_tokens as i64),
            &(cap.output_tokens as i64),
        ],
    )
}

fn insert_dataset(c: &mut impl GenericClient, d: &DatasetInfo) -> Result<u64, postgres::Error> {
    c.execute(
        &format!(
            "INSERT INTO datasets ({DATASET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
        ),
        &[
            &d.id,
            &d.name,
            &d.version,
            &ms(d.created),
            &d.source,
            &d.workload,
            &(d.item_count as i64),
            &d.scorers.to_string(),
        ],
    )
}

fn insert_run(
    c: &mut impl GenericClient,
    run: &RunRecord,
    ignore: bool,
) -> Result<u64, postgres::Error> {
    let tail = if ignore {
        " ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    c.execute(
        &format!("INSERT INTO runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8){tail}"),
        &[
            &run.id,
            &ms(run.created),
            &run.dataset_id,
            &run.workload,
            &run.candidate,
            &run.baseline,
            &run.verdict,
            &run.report.to_string(),
        ],
    )
}

/// Inserts a shadow result; with `id`, under that id (a copy) and idempotently.
fn insert_shadow(
    c: &mut impl GenericClient,
    id: Option<i64>,
    s: &ShadowResult,
) -> Result<u64, postgres::Error> {
    let (cols, id_value, tail) = match id {
        Some(_) => ("id, ", "$13, ", " ON CONFLICT DO NOTHING"),
        None => ("", "", ""),
    };
    let sql = format!(
        "INSERT INTO shadow_results ({cols}{SHADOW_COLUMNS})
         VALUES ({id_value}$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12){tail}"
    );
    let ts = ms(s.ts);
    let mut args: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![
        &ts,
        &s.workload,
        &s.route,
        &s.primary_model,
        &s.candidate,
        &s.primary_score,
        &s.candidate_score,
        &s.primary_cost_usd,
        &s.candidate_cost_usd,
        &s.primary_latency_ms,
        &s.candidate_latency_ms,
        &s.detail,
    ];
    if let Some(id) = id.as_ref() {
        args.push(id);
    }
    c.execute(&sql, &args)
}

fn insert_row(c: &mut impl GenericClient, row: &Row) -> Result<u64, postgres::Error> {
    match row {
        Row::Capture(cap) => insert_capture(c, cap),
        Row::Dataset(d) => insert_dataset(c, d),
        Row::DatasetItem {
            dataset_id,
            idx,
            item,
        } => c.execute(
            "INSERT INTO dataset_items (dataset_id, idx, item) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[dataset_id, idx, item],
        ),
        Row::Run(r) => insert_run(c, r, true),
        Row::Shadow { id, result } => insert_shadow(c, Some(*id), result),
    }
}

impl PgStore {
    /// Connects to `url` and applies every migration not yet applied. `shown` is the URL
    /// with its password masked, for messages.
    pub fn connect(url: &str, shown: &str) -> Result<Self, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: shown.to_string(),
            message,
        };
        let client = std::thread::scope(|s| {
            s.spawn(|| {
                let mut c = Client::connect(url, NoTls)
                    .map_err(|e| open_err(format!("cannot connect: {}", pg_message(&e))))?;
                crate::schema::migrate_postgres(&mut c)
                    .map_err(|e| open_err(format!("migration failed: {}", pg_message(&e))))?;
                Ok(c)
            })
            .join()
            .unwrap_or_else(|_| Err(open_err("the connecting thread panicked".into())))
        })?;
        Ok(PgStore {
            client: Mutex::new(Some(client)),
        })
    }

    /// Runs `f` with the connection, on a thread of its own (see the module doc).
    fn with<R: Send>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send,
    ) -> Result<R, StoreError> {
        let mut guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let Some(client) = guard.as_mut() else {
            return Err(StoreError::Invalid(
                "the PostgreSQL eval store is closed".into(),
            ));
        };
        std::thread::scope(|s| {
            s.spawn(move || f(client)).join().unwrap_or_else(|_| {
                Err(StoreError::Invalid(
                    "a PostgreSQL call panicked; see the log".into(),
                ))
            })
        })
    }
}

impl Store for PgStore {
    fn insert_capture(&self, c: &Capture) -> Result<(), StoreError> {
        self.with(|client| Ok(insert_capture(client, c).map(drop)?))
    }

    fn prune_captures(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        self.with(|c| {
            let n = c.execute("DELETE FROM captures WHERE ts_ms < $1", &[&ms(before)])?;
            Ok(n as usize)
        })
    }

    fn capture_count(&self) -> Result<u64, StoreError> {
        self.count(Table::Captures)
    }

    fn captures(&self, q: &CaptureQuery) -> Result<Vec<Capture>, StoreError> {
        let sql = format!(
            "SELECT {CAPTURE_COLUMNS} FROM captures WHERE ($1::TEXT IS NULL OR workload = $1) AND ts_ms >= $2
             ORDER BY ts_ms DESC, id LIMIT $3"
        );
        let since = q.since.map_or(i64::MIN, ms);
        let limit = q.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        self.with(|c| {
            let rows = c.query(sql.as_str(), &[&q.workload, &since, &limit])?;
            rows.iter()
                .map(|r| read_capture(r).into_capture())
                .collect()
        })
    }

    /// The version is taken under a lock on the name, so two processes creating a version
    /// of one dataset at once get consecutive numbers rather than a conflict.
    fn create_dataset(
        &mut self,
        name: &str,
        (source, workload): (&str, Option<&str>),
        scorers: &Value,
        items: &[Value],
    ) -> Result<DatasetInfo, StoreError> {
        check_dataset(name, items)?;
        let texts: Vec<String> = items.iter().map(Value::to_string).collect();
        let indexes: Vec<i64> = (0..items.len() as i64).collect();
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock(74682953, hashtext($1))", &[&name])?;
            let version: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM datasets WHERE name = $1",
                    &[&name],
                )?
                .get(0);
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
            insert_dataset(&mut tx, &info)?;
            tx.execute(
                "INSERT INTO dataset_items (dataset_id, idx, item) SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TEXT[])",
                &[&info.id, &indexes, &texts],
            )?;
            tx.commit()?;
            Ok(info)
        })
    }

    fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        let sql = format!("SELECT {DATASET_COLUMNS} FROM datasets ORDER BY name, version");
        self.with(|c| {
            c.query(sql.as_str(), &[])?
                .iter()
                .map(read_dataset)
                .collect()
        })
    }

    fn dataset(&self, id_or_name: &str) -> Result<(DatasetInfo, Vec<Value>), StoreError> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM datasets
             WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC, version DESC LIMIT 1"
        );
        self.with(|c| {
            let Some(row) = c.query_opt(sql.as_str(), &[&id_or_name])? else {
                return Err(StoreError::NoDataset(id_or_name.to_string()));
            };
            let info = read_dataset(&row)?;
            let what = format!("dataset {}", info.id);
            let items = c
                .query(
                    "SELECT item FROM dataset_items WHERE dataset_id = $1 ORDER BY idx",
                    &[&info.id],
                )?
                .iter()
                .map(|r| json_of(&r.get::<_, String>(0), &what))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((info, items))
        })
    }

    fn save_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.with(|c| Ok(insert_run(c, run, false).map(drop)?))
    }

    fn latest_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r
             WHERE created_ms = (SELECT MAX(created_ms) FROM runs x
                                 WHERE x.candidate = r.candidate AND x.workload IS NOT DISTINCT FROM r.workload)
             ORDER BY workload NULLS FIRST, candidate, id"
        );
        self.with(|c| {
            let rows = c.query(sql.as_str(), &[])?;
            rows.iter().map(|r| read_run(r).into_run()).collect()
        })
    }

    fn insert_shadow(&self, s: &ShadowResult) -> Result<(), StoreError> {
        self.with(|c| Ok(insert_shadow(c, None, s).map(drop)?))
    }

    fn shadow_stats(&self, since: DateTime<Utc>) -> Result<Vec<ShadowStats>, StoreError> {
        let sql = format!(
            "SELECT {SHADOW_COLUMNS} FROM shadow_results WHERE ts_ms >= $1
             ORDER BY workload NULLS FIRST, candidate, ts_ms, id"
        );
        self.with(|c| {
            let rows = c.query(sql.as_str(), &[&ms(since)])?;
            Ok(group_shadows(rows.iter().map(|r| read_shadow(r, 0))))
        })
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
                "SELECT {columns} FROM {table} WHERE ($1::TEXT IS NULL OR id > $1) ORDER BY id LIMIT $2"
            )
        };
        self.with(|c| match table {
            Table::Captures => {
                let rows = c.query(&text_page(CAPTURE_COLUMNS, "captures"), &[&key, &limit])?;
                rows.iter()
                    .map(|r| Ok(Row::Capture(read_capture(r).into_capture()?)))
                    .collect()
            }
            Table::Datasets => {
                let rows = c.query(&text_page(DATASET_COLUMNS, "datasets"), &[&key, &limit])?;
                rows.iter()
                    .map(|r| Ok(Row::Dataset(read_dataset(r)?)))
                    .collect()
            }
            Table::DatasetItems => {
                let rows = c.query(
                    "SELECT dataset_id, idx, item FROM dataset_items
                     WHERE ($1::TEXT IS NULL OR (dataset_id, idx) > ($1, $2))
                     ORDER BY dataset_id, idx LIMIT $3",
                    &[&key, &n, &limit],
                )?;
                Ok(rows
                    .iter()
                    .map(|r| Row::DatasetItem {
                        dataset_id: r.get(0),
                        idx: r.get(1),
                        item: r.get(2),
                    })
                    .collect())
            }
            Table::Runs => {
                let rows = c.query(&text_page(RUN_COLUMNS, "runs"), &[&key, &limit])?;
                rows.iter()
                    .map(|r| Ok(Row::Run(read_run(r).into_run()?)))
                    .collect()
            }
            Table::ShadowResults => {
                let rows = c.query(
                    &format!(
                        "SELECT id, {SHADOW_COLUMNS} FROM shadow_results WHERE id > $1 ORDER BY id LIMIT $2"
                    ),
                    &[&n, &limit],
                )?;
                Ok(rows
                    .iter()
                    .map(|r| Row::Shadow {
                        id: r.get(0),
                        result: read_shadow(r, 1),
                    })
                    .collect())
            }
        })
    }

    /// Shadow results keep their ids; the id sequence is moved past them afterwards so the
    /// next new result does not collide with a copied one.
    fn insert_rows(&mut self, rows: &[Row]) -> Result<u64, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let mut new = 0;
            for row in rows {
                new += insert_row(&mut tx, row)?;
            }
            if rows.iter().any(|r| r.table() == Table::ShadowResults) {
                tx.execute(
                    "SELECT setval(pg_get_serial_sequence('shadow_results', 'id'), (SELECT MAX(id) FROM shadow_results))",
                    &[],
                )?;
            }
            tx.commit()?;
            Ok(new)
        })
    }

    fn count(&self, table: Table) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        self.with(|c| Ok(c.query_one(sql.as_str(), &[])?.get::<_, i64>(0).max(0) as u64))
    }
}
