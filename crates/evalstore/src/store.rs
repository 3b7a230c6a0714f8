//! The store's reads and writes.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use switchyard_primitives::Money;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the eval store at {path}: {message}")]
    Open { path: String, message: String },
    #[error("eval store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("eval store holds invalid JSON in {what}: {message}")]
    Corrupt { what: String, message: String },
    #[error("no dataset {0:?}; `switchyard eval dataset list` shows what exists")]
    NoDataset(String),
    #[error("{0}")]
    Invalid(String),
}

/// One captured request and its answer, already redacted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Capture {
    pub id: String,
    pub ts: DateTime<Utc>,
    pub workload: Option<String>,
    pub route: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub key_id: Option<String>,
    pub team: Option<String>,
    pub tags: Vec<(String, String)>,
    /// The client's dialect: `openai` or `anthropic`.
    pub dialect: String,
    /// The request body as the client sent it (redacted).
    pub request: Value,
    /// The answer's text (redacted).
    pub output_text: String,
    /// The answer's tool calls, `[{"name", "arguments"}]`.
    pub tool_calls: Value,
    pub cost_usd: Option<Money>,
    pub latency_ms: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Which captures to read.
#[derive(Debug, Clone, Default)]
pub struct CaptureQuery {
    pub workload: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Newest first, at most this many.
    pub limit: Option<usize>,
}

/// A dataset version's header.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DatasetInfo {
    /// `name@vN`.
    pub id: String,
    pub name: String,
    pub version: i64,
    pub created: DateTime<Utc>,
    /// Where the items came from (`captures workload=… since=…`, `import file.jsonl`).
    pub source: String,
    /// The workload the items come from (captures), or the one given at import.
    pub workload: Option<String>,
    pub item_count: usize,
    /// Scorers set on the dataset (a JSON array of scorer specs).
    pub scorers: Value,
}

/// A finished replay run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub created: DateTime<Utc>,
    pub dataset_id: String,
    pub workload: Option<String>,
    pub candidate: String,
    pub baseline: String,
    /// `PASS` or `FAIL`.
    pub verdict: String,
    /// The whole report (summary, per-item results) as JSON.
    pub report: Value,
}

/// One mirrored request scored against the primary's answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShadowResult {
    pub ts: DateTime<Utc>,
    pub workload: Option<String>,
    pub route: String,
    pub primary_model: String,
    /// `provider/model`.
    pub candidate: String,
    pub primary_score: f64,
    pub candidate_score: f64,
    pub primary_cost_usd: Option<f64>,
    pub candidate_cost_usd: Option<f64>,
    pub primary_latency_ms: f64,
    pub candidate_latency_ms: f64,
    pub detail: String,
}

/// The shadow results of one (workload, candidate), for readiness.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShadowStats {
    pub workload: Option<String>,
    pub candidate: String,
    pub primary_scores: Vec<f64>,
    pub candidate_scores: Vec<f64>,
    pub primary_cost_usd: f64,
    pub candidate_cost_usd: f64,
    pub primary_latency_ms: Vec<f64>,
    pub candidate_latency_ms: Vec<f64>,
    pub last: Option<DateTime<Utc>>,
}

/// An eval store in one SQLite file.
pub struct EvalStore {
    conn: Connection,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

fn json_of(text: &str, what: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        message: e.to_string(),
    })
}

impl EvalStore {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
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
        crate::schema::migrate(&mut conn)
            .map_err(|e| open_err(format!("migration failed: {e}")))?;
        Ok(EvalStore { conn })
    }

    pub fn insert_capture(&self, c: &Capture) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO captures (id, ts_ms, workload, route, provider, model, key_id, team, tags, dialect, request, output_text, tool_calls, cost_usd, latency_ms, input_tokens, output_tokens)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                c.id,
                ms(c.ts),
                c.workload,
                c.route,
                c.provider,
                c.model,
                c.key_id,
                c.team,
                serde_json::to_string(&c.tags).unwrap_or_else(|_| "[]".into()),
                c.dialect,
                c.request.to_string(),
                c.output_text,
                c.tool_calls.to_string(),
                c.cost_usd.map(|m| m.to_string()),
                c.latency_ms,
                c.input_tokens as i64,
                c.output_tokens as i64,
            ],
        )?;
        Ok(())
    }

    /// Deletes captures older than `before`; returns how many.
    pub fn prune_captures(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM captures WHERE ts_ms < ?1", params![ms(before)])?)
    }

    pub fn capture_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM captures", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Captures matching `q`, newest first.
    pub fn captures(&self, q: &CaptureQuery) -> Result<Vec<Capture>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, ts_ms, workload, route, provider, model, key_id, team, tags, dialect, request, output_text, tool_calls, cost_usd, latency_ms, input_tokens, output_tokens
             FROM captures WHERE (?1 IS NULL OR workload = ?1) AND ts_ms >= ?2
             ORDER BY ts_ms DESC, id LIMIT ?3",
        )?;
        let limit = q.limit.map_or(-1, |l| l as i64);
        let rows = stmt.query_map(
            params![q.workload, q.since.map_or(i64::MIN, ms), limit],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                    r.get::<_, String>(11)?,
                    r.get::<_, String>(12)?,
                    r.get::<_, Option<String>>(13)?,
                    r.get::<_, f64>(14)?,
                    r.get::<_, i64>(15)?,
                    r.get::<_, i64>(16)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                ts,
                workload,
                route,
                provider,
                model,
                key_id,
                team,
                tags,
                dialect,
                request,
                output_text,
                tool_calls,
                cost,
                latency_ms,
                input,
                output,
            ) = row?;
            out.push(Capture {
                tags: serde_json::from_str(&tags).unwrap_or_default(),
                request: json_of(&request, &format!("capture {id}"))?,
                tool_calls: json_of(&tool_calls, &format!("capture {id}"))?,
                cost_usd: cost.and_then(|c| c.parse().ok()),
                id,
                ts: from_ms(ts),
                workload,
                route,
                provider,
                model,
                key_id,
                team,
                dialect,
                output_text,
                latency_ms,
                input_tokens: input.max(0) as u64,
                output_tokens: output.max(0) as u64,
            });
        }
        Ok(out)
    }

    /// Stores a new version of dataset `name` with `items` (in order); never changes an
    /// existing version.
    pub fn create_dataset(
        &mut self,
        name: &str,
        (source, workload): (&str, Option<&str>),
        scorers: &Value,
        items: &[Value],
    ) -> Result<DatasetInfo, StoreError> {
        if name.trim().is_empty() || name.contains('@') || name.len() > 128 {
            return Err(StoreError::Invalid(format!(
                "{name:?} is not a dataset name: use 1–128 characters without '@'"
            )));
        }
        if items.is_empty() {
            return Err(StoreError::Invalid(
                "a dataset needs at least one item".into(),
            ));
        }
        let tx = self.conn.transaction()?;
        let version: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM datasets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?;
        let id = format!("{name}@v{version}");
        let created = Utc::now();
        tx.execute(
            "INSERT INTO datasets (id, name, version, created_ms, source, workload, item_count, scorers) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![id, name, version, ms(created), source, workload, items.len() as i64, scorers.to_string()],
        )?;
        {
            let mut ins = tx
                .prepare("INSERT INTO dataset_items (dataset_id, idx, item) VALUES (?1, ?2, ?3)")?;
            for (i, item) in items.iter().enumerate() {
                ins.execute(params![id, i as i64, item.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(DatasetInfo {
            id,
            name: name.to_string(),
            version,
            created,
            source: source.to_string(),
            workload: workload.map(str::to_string),
            item_count: items.len(),
            scorers: scorers.clone(),
        })
    }

    pub fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, version, created_ms, source, workload, item_count, scorers FROM datasets ORDER BY name, version",
        )?;
        let rows = stmt.query_map([], read_dataset)?;
        let mut out = Vec::new();
        for r in rows {
            let (info, scorers) = r?;
            out.push(DatasetInfo {
                scorers: json_of(&scorers, &format!("dataset {}", info.id))?,
                ..info
            });
        }
        Ok(out)
    }

    /// A dataset by `name@vN`, or by name for its latest version, with its items in order.
    pub fn dataset(&self, id_or_name: &str) -> Result<(DatasetInfo, Vec<Value>), StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT id, name, version, created_ms, source, workload, item_count, scorers FROM datasets
                 WHERE id = ?1 OR name = ?1 ORDER BY (id = ?1) DESC, version DESC LIMIT 1",
                params![id_or_name],
                read_dataset,
            )
            .optional()?;
        let Some((info, scorers)) = found else {
            return Err(StoreError::NoDataset(id_or_name.to_string()));
        };
        let info = DatasetInfo {
            scorers: json_of(&scorers, &format!("dataset {}", info.id))?,
            ..info
        };
        let mut stmt = self
            .conn
            .prepare("SELECT item FROM dataset_items WHERE dataset_id = ?1 ORDER BY idx")?;
        let rows = stmt.query_map(params![info.id], |r| r.get::<_, String>(0))?;
        let mut items = Vec::new();
        for r in rows {
            items.push(json_of(&r?, &format!("dataset {}", info.id))?);
        }
        Ok((info, items))
    }

    pub fn save_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO runs (id, created_ms, dataset_id, workload, candidate, baseline, verdict, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                run.id,
                ms(run.created),
                run.dataset_id,
                run.workload,
                run.candidate,
                run.baseline,
                run.verdict,
                run.report.to_string()
            ],
        )?;
        Ok(())
    }

    /// The newest run of each (workload, candidate).
    pub fn latest_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, created_ms, dataset_id, workload, candidate, baseline, verdict, report FROM runs r
             WHERE created_ms = (SELECT MAX(created_ms) FROM runs x WHERE x.candidate = r.candidate AND x.workload IS r.workload)
             ORDER BY workload, candidate",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (id, created, dataset_id, workload, candidate, baseline, verdict, report) = r?;
            out.push(RunRecord {
                report: json_of(&report, &format!("run {id}"))?,
                id,
                created: from_ms(created),
                dataset_id,
                workload,
                candidate,
                baseline,
                verdict,
            });
        }
        Ok(out)
    }

    pub fn insert_shadow(&self, s: &ShadowResult) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO shadow_results (ts_ms, workload, route, primary_model, candidate, primary_score, candidate_score, primary_cost_usd, candidate_cost_usd, primary_latency_ms, candidate_latency_ms, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
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
                s.detail
            ],
        )?;
        Ok(())
    }

    /// Shadow results per (workload, candidate) since `since`.
    pub fn shadow_stats(&self, since: DateTime<Utc>) -> Result<Vec<ShadowStats>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT workload, candidate, primary_score, candidate_score, primary_cost_usd, candidate_cost_usd, primary_latency_ms, candidate_latency_ms, ts_ms
             FROM shadow_results WHERE ts_ms >= ?1 ORDER BY workload, candidate, ts_ms",
        )?;
        let rows = stmt.query_map(params![ms(since)], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
                r.get::<_, f64>(3)?,
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, Option<f64>>(5)?,
                r.get::<_, f64>(6)?,
                r.get::<_, f64>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })?;
        let mut out: Vec<ShadowStats> = Vec::new();
        for r in rows {
            let (workload, candidate, ps, cs, pc, cc, pl, cl, ts) = r?;
            let fresh = out
                .last()
                .is_none_or(|s| s.workload != workload || s.candidate != candidate);
            if fresh {
                out.push(ShadowStats {
                    workload: workload.clone(),
                    candidate: candidate.clone(),
                    primary_scores: Vec::new(),
                    candidate_scores: Vec::new(),
                    primary_cost_usd: 0.0,
                    candidate_cost_usd: 0.0,
                    primary_latency_ms: Vec::new(),
                    candidate_latency_ms: Vec::new(),
                    last: None,
                });
            }
            if let Some(s) = out.last_mut() {
                s.primary_scores.push(ps);
                s.candidate_scores.push(cs);
                s.primary_cost_usd += pc.unwrap_or(0.0);
                s.candidate_cost_usd += cc.unwrap_or(0.0);
                s.primary_latency_ms.push(pl);
                s.candidate_latency_ms.push(cl);
                s.last = Some(from_ms(ts));
            }
        }
        Ok(out)
    }
}

fn read_dataset(r: &rusqlite::Row<'_>) -> rusqlite::Result<(DatasetInfo, String)> {
    Ok((
        DatasetInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            version: r.get(2)?,
            created: from_ms(r.get(3)?),
            source: r.get(4)?,
            workload: r.get(5)?,
            item_count: r.get::<_, i64>(6)?.max(0) as usize,
            scorers: Value::Null,
        },
        r.get(7)?,
    ))
}
