//! What the eval store holds (captures, datasets, runs, shadow results), the [`Store`] trait
//! every backend implements, and the rules both share (dataset names, JSON text, times).

use crate::copy::{Cursor, Row, Table};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_primitives::Money;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the eval store at {path}: {message}")]
    Open { path: String, message: String },
    #[error("eval store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The server's own message (`postgres::Error` alone shows only "db error").
    #[error("eval store database error (PostgreSQL): {0}")]
    Postgres(String),
    #[error("eval store holds invalid JSON in {what}: {message}")]
    Corrupt { what: String, message: String },
    #[error("no dataset {0:?}; `switchyard eval dataset list` shows what exists")]
    NoDataset(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Postgres(pg_message(&e))
    }
}

pub(crate) use switchyard_ledger::pg_message;

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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// The shadow call's own ledger request id: a result stored under it already is skipped,
    /// so one replayed from the spool is written once. `None` for results made before it was
    /// recorded (and never deduplicated).
    #[serde(default)]
    pub request_id: Option<String>,
}

/// One write of the capture writer, as it is batched and spooled: already redacted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Capture(Capture),
    Shadow(ShadowResult),
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

/// The eval store's reads and writes: what the eval commands, the capture writer, the
/// strategy engine's readiness and `ledger copy` use. One implementation per backend
/// (`SqliteStore`, `PgStore`); [`crate::open`] picks one from the location.
pub trait Store: Send {
    /// Stores a capture; a capture whose id is stored already is left as it is.
    fn insert_capture(&self, c: &Capture) -> Result<(), StoreError>;

    /// Deletes captures older than `before`; returns how many.
    fn prune_captures(&self, before: DateTime<Utc>) -> Result<usize, StoreError>;

    fn capture_count(&self) -> Result<u64, StoreError>;

    /// Captures matching `q`, newest first.
    fn captures(&self, q: &CaptureQuery) -> Result<Vec<Capture>, StoreError>;

    /// Stores a new version of dataset `name` with `items` (in order); never changes an
    /// existing version.
    fn create_dataset(
        &mut self,
        name: &str,
        origin: (&str, Option<&str>),
        scorers: &Value,
        items: &[Value],
    ) -> Result<DatasetInfo, StoreError>;

    /// Every dataset version, by name then version.
    fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError>;

    /// A dataset by `name@vN`, or by name for its latest version, with its items in order.
    fn dataset(&self, id_or_name: &str) -> Result<(DatasetInfo, Vec<Value>), StoreError>;

    fn save_run(&self, run: &RunRecord) -> Result<(), StoreError>;

    /// The newest run of each (workload, candidate), by workload then candidate.
    fn latest_runs(&self) -> Result<Vec<RunRecord>, StoreError>;

    /// Stores a shadow result; one whose `request_id` is stored already is left as it is.
    fn insert_shadow(&self, s: &ShadowResult) -> Result<(), StoreError>;

    /// Stores the capture writer's batch in one transaction, skipping captures whose id and
    /// shadow results whose `request_id` are stored already (a batch replayed from the spool
    /// writes nothing twice); returns how many were new.
    fn append(&mut self, batch: &[Entry]) -> Result<u64, StoreError>;

    /// Shadow results per (workload, candidate) since `since`.
    fn shadow_stats(&self, since: DateTime<Utc>) -> Result<Vec<ShadowStats>, StoreError>;

    /// Rows of `table` in key order after `after` (from the start when `None`), at most
    /// `limit`: a copy reads every table page by page, resuming from the last row's
    /// [`Row::cursor`].
    fn page(
        &self,
        table: Table,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<Row>, StoreError>;

    /// Stores `rows` in one transaction, skipping any whose key is stored already (so a
    /// resumed copy writes nothing twice); returns how many were new.
    fn insert_rows(&mut self, rows: &[Row]) -> Result<u64, StoreError>;

    /// How many rows `table` holds (a copy's check).
    fn count(&self, table: Table) -> Result<u64, StoreError>;
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

pub(crate) fn json_of(text: &str, what: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// Refuses a dataset that could not be read back by name (`@` separates the version) or has
/// nothing in it.
pub(crate) fn check_dataset(name: &str, items: &[Value]) -> Result<(), StoreError> {
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
    Ok(())
}

/// A capture's columns as stored (JSON as text), shared by both backends' readers.
pub(crate) struct CaptureCells {
    pub id: String,
    pub ts_ms: i64,
    pub workload: Option<String>,
    pub route: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub key_id: Option<String>,
    pub team: Option<String>,
    pub tags: String,
    pub dialect: String,
    pub request: String,
    pub output_text: String,
    pub tool_calls: String,
    pub cost_usd: Option<String>,
    pub latency_ms: f64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

impl CaptureCells {
    pub(crate) fn into_capture(self) -> Result<Capture, StoreError> {
        let what = format!("capture {}", self.id);
        Ok(Capture {
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            request: json_of(&self.request, &what)?,
            tool_calls: json_of(&self.tool_calls, &what)?,
            cost_usd: self.cost_usd.and_then(|c| c.parse().ok()),
            id: self.id,
            ts: from_ms(self.ts_ms),
            workload: self.workload,
            route: self.route,
            provider: self.provider,
            model: self.model,
            key_id: self.key_id,
            team: self.team,
            dialect: self.dialect,
            output_text: self.output_text,
            latency_ms: self.latency_ms,
            input_tokens: self.input_tokens.max(0) as u64,
            output_tokens: self.output_tokens.max(0) as u64,
        })
    }
}

/// The text columns of a capture as stored.
pub(crate) fn capture_texts(c: &Capture) -> [String; 3] {
    [
        serde_json::to_string(&c.tags).unwrap_or_else(|_| "[]".into()),
        c.request.to_string(),
        c.tool_calls.to_string(),
    ]
}

/// A run's columns as stored.
pub(crate) struct RunCells {
    pub id: String,
    pub created_ms: i64,
    pub dataset_id: String,
    pub workload: Option<String>,
    pub candidate: String,
    pub baseline: String,
    pub verdict: String,
    pub report: String,
}

impl RunCells {
    pub(crate) fn into_run(self) -> Result<RunRecord, StoreError> {
        Ok(RunRecord {
            report: json_of(&self.report, &format!("run {}", self.id))?,
            id: self.id,
            created: from_ms(self.created_ms),
            dataset_id: self.dataset_id,
            workload: self.workload,
            candidate: self.candidate,
            baseline: self.baseline,
            verdict: self.verdict,
        })
    }
}

/// Groups shadow rows (ordered by workload, candidate, time) per (workload, candidate).
pub(crate) fn group_shadows(rows: impl IntoIterator<Item = ShadowResult>) -> Vec<ShadowStats> {
    let mut out: Vec<ShadowStats> = Vec::new();
    for r in rows {
        let fresh = out
            .last()
            .is_none_or(|s| s.workload != r.workload || s.candidate != r.candidate);
        if fresh {
            out.push(ShadowStats {
                workload: r.workload.clone(),
                candidate: r.candidate.clone(),
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
            s.primary_scores.push(r.primary_score);
            s.candidate_scores.push(r.candidate_score);
            s.primary_cost_usd += r.primary_cost_usd.unwrap_or(0.0);
            s.candidate_cost_usd += r.candidate_cost_usd.unwrap_or(0.0);
            s.primary_latency_ms.push(r.primary_latency_ms);
            s.candidate_latency_ms.push(r.candidate_latency_ms);
            s.last = Some(r.ts);
        }
    }
    out
}
