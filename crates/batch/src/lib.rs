//! Batch API (OpenAI's `/v1/files` and `/v1/batches`) for any route.
//!
//! Owns the operations on files and batches ([`Batches`]), the check of input lines
//! (`input`), the JSON shapes the SDKs read (`object`), and the runner (`runner`), which sends
//! each pending line through the gateway's own pipeline (`Gateway::chat` / `embeddings`) at a
//! bounded concurrency, as the key that created the batch, so routing, fallback, budgets and
//! the ledger apply as to any request (records carry `batch = true`). State lives in the ledger's
//! database (`switchyard_ledger::batch`: the SQLite file or the PostgreSQL the ledger URL
//! names): a restart resumes every unfinished batch and runs only the lines not yet answered.
//! Each runner claims the lines it runs under a lease its process keeps renewing (`claims`),
//! so replicas sharing a PostgreSQL ledger never run a line twice, and a dead replica's lines
//! are taken over once its lease runs out.
//!
//! Must never know HTTP (the server parses multipart and renders errors) nor the pipeline's
//! internals.

mod claims;
mod error;
mod input;
mod native;
pub mod object;
mod runner;

pub use error::BatchError;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use switchyard_gateway::Gateway;
use switchyard_gateway::config::BatchConfig;
use switchyard_ledger::LedgerError;
use switchyard_ledger::batch::{self, FileRow, JobRow, Stamp, Store};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The endpoints a batch may target.
pub const ENDPOINTS: [&str; 2] = ["/v1/chat/completions", "/v1/embeddings"];

/// Who is asking: the key id objects are owned by, and whether it sees every key's (the
/// master key does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub owner: Option<String>,
    pub sees_all: bool,
}

impl Principal {
    fn sees(&self, owner: &Option<String>) -> bool {
        self.sees_all || self.owner == *owner
    }
}

/// An upload, as the edge parsed it from `multipart/form-data`.
pub struct Upload {
    pub purpose: String,
    pub filename: String,
    pub content: Bytes,
}

/// The batch service of one server: cheap to clone, every clone shares one state.
#[derive(Clone)]
pub struct Batches {
    inner: Arc<Inner>,
}

struct Inner {
    gateway: Gateway,
    store: Mutex<Box<dyn Store>>,
    config: BatchConfig,
    /// This process's claim owner id (a restart is a new owner).
    owner: String,
    /// Lines in flight across every batch.
    permits: Arc<Semaphore>,
    /// Batches with a runner, and each one's cancel flag.
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
    tasks: Mutex<JoinSet<()>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    input_file_id: String,
    endpoint: String,
    completion_window: String,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
    /// Accepted and ignored (newer SDKs send it): Switchyard's window is always 24h.
    #[serde(default, rename = "output_expires_after")]
    _output_expires_after: Option<Value>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A fresh id with OpenAI's prefix (`file-…`, `batch_…`), unique across restarts.
fn fresh_id(prefix: &str) -> String {
    let id = switchyard_primitives::RequestId::generate();
    format!("{prefix}{}", id.as_str().trim_start_matches("req_"))
}

impl Batches {
    /// Opens the batch tables in the gateway's ledger database, with `[batch]`'s limits.
    pub fn open(gateway: Gateway, config: BatchConfig) -> Result<Self, BatchError> {
        let store = batch::open(gateway.ledger_path())?;
        Ok(Batches {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(config.concurrency)),
                gateway,
                store: Mutex::new(store),
                config,
                owner: fresh_id("runner_"),
                running: Mutex::new(HashMap::new()),
                tasks: Mutex::new(JoinSet::new()),
            }),
        })
    }

    pub fn max_file_bytes(&self) -> usize {
        self.inner.config.max_file_bytes
    }

    /// Runs `f` on the store off the async runtime.
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, BatchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(lock(&inner.store).as_mut()))
            .await
            .map_err(|e| BatchError::Store(e.to_string()))?
            .map_err(BatchError::from)
    }

    /// `POST /v1/files`.
    pub async fn upload(&self, who: &Principal, up: Upload) -> Result<Value, BatchError> {
        if up.purpose != "batch" {
            return Err(BatchError::invalid(
                "purpose",
                format!(
                    "purpose {:?} is not supported here; this gateway stores files for batches: send purpose=batch.",
                    up.purpose
                ),
            ));
        }
        if up.content.len() > self.max_file_bytes() {
            return Err(BatchError::TooLarge {
                limit: self.max_file_bytes(),
            });
        }
        let row = FileRow {
            id: fresh_id("file-"),
            owner: who.owner.clone(),
            purpose: up.purpose,
            filename: up.filename,
            bytes: up.content.len() as u64,
            created_at: now(),
        };
        let stored = row.clone();
        self.db(move |s| s.put_file(&stored, &up.content)).await?;
        Ok(object::file(&row))
    }

    /// The file `id` if `who` may see it.
    async fn visible_file(&self, who: &Principal, id: &str) -> Result<FileRow, BatchError> {
        let key = id.to_string();
        match self.db(move |s| s.file(&key)).await? {
            Some(f) if who.sees(&f.owner) => Ok(f),
            _ => Err(BatchError::NotFound {
                what: "file",
                id: id.to_string(),
            }),
        }
    }

    /// `GET /v1/files/{id}`.
    pub async fn file(&self, who: &Principal, id: &str) -> Result<Value, BatchError> {
        Ok(object::file(&self.visible_file(who, id).await?))
    }

    /// `GET /v1/files/{id}/content`.
    pub async fn content(&self, who: &Principal, id: &str) -> Result<Vec<u8>, BatchError> {
        let f = self.visible_file(who, id).await?;
        self.db(move |s| s.file_content(&f.id))
            .await?
            .ok_or_else(|| BatchError::NotFound {
                what: "file",
                id: id.to_string(),
            })
    }

    /// `DELETE /v1/files/{id}`.
    pub async fn delete_file(&self, who: &Principal, id: &str) -> Result<Value, BatchError> {
        let f = self.visible_file(who, id).await?;
        self.db(move |s| s.delete_file(&f.id)).await?;
        Ok(object::file_deleted(id))
    }

    /// `POST /v1/batches`: checks every line (bad ones go to the error file by line
    /// number), stores the job as `validating` and starts its runner.
    pub async fn create(&self, who: &Principal, body: &[u8]) -> Result<Value, BatchError> {
        let req: CreateBody = serde_json::from_slice(body).map_err(|e| BatchError::Invalid {
            message: format!("The request body is not a batch request: {e}. Send {{\"input_file_id\", \"endpoint\", \"completion_window\": \"24h\"}}."),
            param: None,
        })?;
        check_create(&req)?;
        let (input, lines) = self.input_lines(who, &req).await?;
        let created = now();
        let job = JobRow {
            id: fresh_id("batch_"),
            owner: who.owner.clone(),
            endpoint: req.endpoint,
            input_file_id: input,
            completion_window: req.completion_window,
            metadata: req.metadata.map(|m| Value::Object(m).to_string()),
            status: "validating".into(),
            created_at: created,
            expires_at: created + 24 * 3600,
            ..JobRow::default()
        };
        let id = job.id.clone();
        self.db(move |s| s.create_job(&job, &lines)).await?;
        self.launch(&id);
        self.get(who, &id).await
    }

    /// The batch's input file id and its lines, checked.
    async fn input_lines(
        &self,
        who: &Principal,
        req: &CreateBody,
    ) -> Result<(String, Vec<switchyard_ledger::batch::NewLine>), BatchError> {
        let input = self.visible_file(who, &req.input_file_id).await?;
        if input.purpose != "batch" {
            return Err(BatchError::invalid(
                "input_file_id",
                "The input file was not uploaded with purpose=batch.",
            ));
        }
        let fid = input.id.clone();
        let content = self
            .db(move |s| s.file_content(&fid))
            .await?
            .unwrap_or_default();
        let lines = input::parse(&content, &req.endpoint, self.inner.config.max_lines)?;
        Ok((input.id, lines))
    }

    /// The batch `id` if `who` may see it.
    async fn visible_job(&self, who: &Principal, id: &str) -> Result<JobRow, BatchError> {
        let key = id.to_string();
        match self.db(move |s| s.job(&key)).await? {
            Some(j) if who.sees(&j.owner) => Ok(j),
            _ => Err(BatchError::NotFound {
                what: "batch",
                id: id.to_string(),
            }),
        }
    }

    /// `GET /v1/batches/{id}`.
    pub async fn get(&self, who: &Principal, id: &str) -> Result<Value, BatchError> {
        Ok(object::batch(&self.visible_job(who, id).await?))
    }

    /// `GET /v1/batches?after=&limit=` (newest first; `limit` 1–100, default 20).
    pub async fn list(
        &self,
        who: &Principal,
        after: Option<String>,
        limit: Option<usize>,
    ) -> Result<Value, BatchError> {
        let limit = limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(BatchError::invalid(
                "limit",
                "limit must be between 1 and 100.",
            ));
        }
        let owner = (!who.sees_all).then(|| who.owner.clone());
        let mut jobs = self
            .db(move |s| {
                s.list_jobs(
                    owner.as_ref().map(|o| o.as_deref()),
                    after.as_deref(),
                    limit + 1,
                )
            })
            .await?;
        let has_more = jobs.len() > limit;
        jobs.truncate(limit);
        Ok(object::list(&jobs, has_more))
    }

    /// `POST /v1/batches/{id}/cancel`: `cancelling` at once; the runner lets the lines in
    /// flight finish, then the batch is `cancelled` with what was answered in its output file.
    pub async fn cancel(&self, who: &Principal, id: &str) -> Result<Value, BatchError> {
        let job = self.visible_job(who, id).await?;
        if !matches!(job.status.as_str(), "cancelling" | "cancelled") {
            let key = job.id.clone();
            let moved = self
                .db(move |s| {
                    s.transition(
                        &key,
                        &["validating", "in_progress"],
                        Stamp::Cancelling,
                        now(),
                    )
                })
                .await?;
            if !moved {
                return Err(BatchError::Conflict(format!(
                    "Batch {id} is {}; only a validating or in_progress batch can be cancelled.",
                    job.status
                )));
            }
            let flag = lock(&self.inner.running).get(&job.id).cloned();
            match flag {
                Some(f) => f.store(true, Ordering::Release),
                None => self.launch(&job.id),
            }
        }
        self.get(who, id).await
    }

    /// Starts a runner for every batch a previous process left unfinished, and the claims
    /// task that keeps this process's leases alive and takes over lines whose lease ran out.
    pub async fn resume(&self) -> Result<usize, BatchError> {
        let n = self.adopt().await?;
        let me = self.clone();
        lock(&self.inner.tasks).spawn(claims::keep(me));
        Ok(n)
    }

    /// Launches a runner for each unfinished batch without one here; how many are unfinished.
    async fn adopt(&self) -> Result<usize, BatchError> {
        let ids = self.db(|s| s.unfinished_jobs()).await?;
        for id in &ids {
            self.launch(id);
        }
        Ok(ids.len())
    }

    /// Stops every runner (the server is stopping) and releases this process's claims: lines
    /// not yet answered stay pending and run after the next start, or on another replica.
    pub fn stop(&self) {
        lock(&self.inner.tasks).abort_all();
        lock(&self.inner.running).clear();
        let owner = self.inner.owner.clone();
        if let Err(e) = lock(&self.inner.store).release_claims(&owner) {
            tracing::warn!(error = %e, "cannot release batch line claims; they expire with their lease");
        }
    }

    /// Starts the runner of batch `id` unless one is running.
    fn launch(&self, id: &str) {
        let flag = {
            let mut running = lock(&self.inner.running);
            if running.contains_key(id) {
                return;
            }
            let flag = Arc::new(AtomicBool::new(false));
            running.insert(id.to_string(), flag.clone());
            flag
        };
        let me = self.clone();
        let id = id.to_string();
        let mut tasks = lock(&self.inner.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            if let Err(e) = runner::drive(&me, &id, &flag).await {
                tracing::error!(batch = %id, error = %e, "batch runner failed; it resumes at the next start");
            }
            lock(&me.inner.running).remove(&id);
        });
    }
}

fn check_create(req: &CreateBody) -> Result<(), BatchError> {
    if !ENDPOINTS.contains(&req.endpoint.as_str()) {
        return Err(BatchError::invalid(
            "endpoint",
            format!(
                "endpoint {:?} is not supported; use one of {}.",
                req.endpoint,
                ENDPOINTS.join(", ")
            ),
        ));
    }
    if req.completion_window != "24h" {
        return Err(BatchError::invalid(
            "completion_window",
            "completion_window must be \"24h\".",
        ));
    }
    let Some(meta) = &req.metadata else {
        return Ok(());
    };
    let fits = meta.len() <= 16
        && meta
            .iter()
            .all(|(k, v)| k.len() <= 64 && v.as_str().is_some_and(|s| s.len() <= 512));
    if fits {
        Ok(())
    } else {
        Err(BatchError::invalid(
            "metadata",
            "metadata must be at most 16 string pairs, keys up to 64 and values up to 512 characters.",
        ))
    }
}
