//! The PostgreSQL backend: the eval store's tables in the database (and schema) a
//! `postgres://` URL names, usually the ledger's own, so a fleet's replicas capture into one
//! store and every `switchyard eval` command reads it.
//!
//! Like the ledger's PostgreSQL backend, the client is the synchronous `postgres` crate and
//! every call runs on a short-lived scoped thread (its private runtime must not be entered
//! from a thread driving async tasks; the strategy API reads readiness from a handler). A
//! connection the server closed (a restart, a network cut) is replaced at the next call, so
//! the capture writer's spool replays once PostgreSQL is back.

mod rows;

use crate::copy::{Cursor, Row, Table};
use crate::store::{check_dataset, from_ms, group_shadows, json_of, ms};
use crate::{
    Capture, CaptureQuery, DatasetInfo, Entry, RunRecord, ShadowResult, ShadowStats, Store,
    StoreError,
};
use chrono::{DateTime, Utc};
use postgres::Client;
use rows::{
    insert_capture, insert_dataset, insert_row, insert_run, insert_shadow, read_capture,
    read_dataset, read_run, read_shadow,
};
use serde_json::Value;
use std::sync::Mutex;

use rows::{CAPTURE_COLUMNS, DATASET_COLUMNS, RUN_COLUMNS, SHADOW_COLUMNS};

/// An eval store in a PostgreSQL database.
pub struct PgStore {
    /// `None` while being dropped, or after a reconnect failed (the next call tries again).
    client: Mutex<Option<Client>>,
    /// Reconnects use it; may hold a password, so never shown.
    config: postgres::Config,
    /// The URL with its password masked, for messages.
    shown: String,
}

/// Connecting gives up after this unless the URL sets `connect_timeout` (as the ledger's).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

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

impl PgStore {
    /// Connects to `url` and applies every migration not yet applied. `shown` is the URL
    /// with its password masked, for messages.
    pub fn connect(url: &str, shown: &str) -> Result<Self, StoreError> {
        Self::connect_counting(url, shown).map(|(_, store)| store)
    }

    /// [`PgStore::connect`], also returning the schema version found before migrating.
    pub(crate) fn connect_counting(url: &str, shown: &str) -> Result<(i64, Self), StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: shown.to_string(),
            message,
        };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| open_err(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let store = PgStore {
            client: Mutex::new(Some(open(&config, shown)?)),
            config,
            shown: shown.to_string(),
        };
        let before = store
            .with(|c| Ok(crate::schema::migrate_postgres(c)?))
            .map_err(|e| open_err(format!("migration failed: {e}")))?;
        Ok((before, store))
    }

    /// Runs `f` with the connection, on a thread of its own (see the module doc).
    fn with<R: Send>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send,
    ) -> Result<R, StoreError> {
        let mut guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_none_or(Client::is_closed) {
            // The old client is dead for good: open a new one (migrations ran at connect).
            let dead = guard.take();
            std::thread::scope(|s| {
                s.spawn(move || drop(dead));
            });
            *guard = Some(open(&self.config, &self.shown)?);
        }
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

/// Opens a connection, on a thread of its own (see the module doc).
fn open(config: &postgres::Config, shown: &str) -> Result<Client, StoreError> {
    let open_err = |message: String| StoreError::Open {
        path: shown.to_string(),
        message,
    };
    switchyard_ledger::pg_connect(config).map_err(open_err)
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

    fn append(&mut self, batch: &[Entry]) -> Result<u64, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let mut new = 0;
            for e in batch {
                new += match e {
                    Entry::Capture(cap) => insert_capture(&mut tx, cap)?,
                    Entry::Shadow(s) => insert_shadow(&mut tx, None, s)?,
                };
            }
            tx.commit()?;
            Ok(new)
        })
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
