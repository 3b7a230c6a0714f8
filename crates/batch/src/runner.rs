//! The runner of one batch: moves it through its statuses and sends each pending line
//! through the gateway's pipeline in-process, at most `[batch] concurrency` lines at once
//! across all batches, as the key that created the batch.
//!
//! Lines are claimed a chunk at a time (`claims`), so replicas sharing the batch tables split
//! a batch rather than both running it. Each answered line is written to the ledger's
//! database as it completes (`finish_line`, once per line), so a stop or crash loses only the
//! lines in flight, which stay pending and run after the next start (or, on a fleet, on
//! another replica once the crashed one's lease runs out). A line the gateway refuses for the key's rate limit or an open circuit
//! waits and is retried; any other refusal is that line's answer (the error file).

use crate::object::{self, Answer};
use crate::{BatchError, Batches, claims, lock, now};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_gateway::{GatewayError, ReplyBody, RequestContext};
use switchyard_ledger::batch::{FileRow, JobRow, LineState, PendingLine, Produced, Stamp};
use tokio::task::JoinSet;

/// Tries of one line refused for a rate limit or an open circuit before it fails.
const MAX_TRIES: u32 = 6;
/// The longest wait between those tries.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// How a batch's run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Completed,
    Cancelled,
    Expired,
    /// The gateway is stopping: the batch stays as it is and resumes at the next start.
    Paused,
    /// Another runner holds lines still in flight, or has ended the batch: it finishes it.
    Elsewhere,
}

/// The identity a line runs under.
pub(crate) struct Job {
    pub id: String,
    pub owner: Option<String>,
    pub embeddings: bool,
}

/// A line's request context: tagged with its batch, marked `batch` for the ledger.
pub(crate) fn context(job: &Job) -> RequestContext {
    let mut ctx = RequestContext::new(None, vec![("batch".into(), job.id.clone())]);
    ctx.batch = true;
    ctx
}

/// Takes batch `id` from wherever it stands to its end.
pub(crate) async fn drive(
    b: &Batches,
    id: &str,
    cancel: &Arc<AtomicBool>,
) -> Result<(), BatchError> {
    let key = id.to_string();
    let Some(job) = b.db(move |s| s.job(&key)).await? else {
        return Ok(());
    };
    let end = match job.status.as_str() {
        "validating" | "in_progress" => {
            let key = job.id.clone();
            b.db(move |s| s.transition(&key, &["validating"], Stamp::InProgress, now()))
                .await?;
            run_lines(b, &job, cancel).await?
        }
        "cancelling" => End::Cancelled,
        "finalizing" => End::Completed,
        _ => return Ok(()),
    };
    finish(b, &job, end).await
}

/// Runs the batch's pending lines chunk by chunk, each chunk claimed first (so another
/// replica never runs the same line), through provider batches where the route's target has
/// one and the pipeline otherwise; says how the run ended.
async fn run_lines(b: &Batches, row: &JobRow, cancel: &Arc<AtomicBool>) -> Result<End, BatchError> {
    let job = Arc::new(Job {
        id: row.id.clone(),
        owner: row.owner.clone(),
        embeddings: row.endpoint == "/v1/embeddings",
    });
    loop {
        if let Some(stop) = stopped(b, row, cancel) {
            return Ok(stop);
        }
        let (key, c) = (row.id.clone(), claims::claim(b));
        let (status, chunk) = b
            .db(move |s| {
                let status = s.job(&key)?.map(|j| j.status).unwrap_or_default();
                if status != "in_progress" {
                    return Ok((status, Vec::new()));
                }
                Ok((status, s.claim_lines(&key, &c, claims::CHUNK)?))
            })
            .await?;
        match status.as_str() {
            // Cancelled through another replica.
            "cancelling" => return Ok(End::Cancelled),
            "in_progress" if !chunk.is_empty() => {}
            "in_progress" => return Ok(End::Completed),
            // Ended elsewhere: nothing left to do here.
            _ => return Ok(End::Elsewhere),
        }
        let end = run_chunk(b, row, &job, cancel, chunk).await;
        if end != End::Completed {
            return Ok(end);
        }
    }
}

/// Runs one claimed chunk: provider batches and the pipeline side by side.
async fn run_chunk(
    b: &Batches,
    row: &JobRow,
    job: &Arc<Job>,
    cancel: &Arc<AtomicBool>,
    lines: Vec<PendingLine>,
) -> End {
    let split = crate::native::split(b, job, lines).await;
    let mut natives = JoinSet::new();
    for g in split.groups {
        natives.spawn(crate::native::carry(
            b.clone(),
            job.clone(),
            g,
            cancel.clone(),
        ));
    }
    let mut end = pipeline(b, row, job, cancel, split.pipeline).await;
    while let Some(done) = natives.join_next().await {
        match done {
            Ok(Ok(rest)) if end == End::Completed && !rest.is_empty() => {
                end = pipeline(b, row, job, cancel, rest).await;
            }
            Ok(Err(())) if end == End::Completed => {
                end = stopped(b, row, cancel).unwrap_or(End::Paused);
            }
            _ => {}
        }
    }
    end
}

/// Runs `lines` through the pipeline, at most `[batch] concurrency` at once.
async fn pipeline(
    b: &Batches,
    row: &JobRow,
    job: &Arc<Job>,
    cancel: &AtomicBool,
    lines: Vec<PendingLine>,
) -> End {
    let mut running = JoinSet::new();
    let mut end = End::Completed;
    for line in lines {
        let permit = b.inner.permits.clone().acquire_owned().await;
        if let Some(stop) = stopped(b, row, cancel) {
            end = stop;
            break;
        }
        let (b, job) = (b.clone(), job.clone());
        running.spawn(async move {
            let _permit = permit;
            run_line(&b, &job, line).await
        });
        while let Some(done) = running.try_join_next() {
            if matches!(done, Ok(Err(()))) {
                end = End::Paused;
            }
        }
        if end == End::Paused {
            break;
        }
    }
    while let Some(done) = running.join_next().await {
        if matches!(done, Ok(Err(()))) {
            end = End::Paused;
        }
    }
    end
}

/// Why no further line may start, if one may not.
fn stopped(b: &Batches, job: &JobRow, cancel: &AtomicBool) -> Option<End> {
    if !b.inner.gateway.is_ready() {
        Some(End::Paused)
    } else if cancel.load(Ordering::Acquire) {
        Some(End::Cancelled)
    } else if now() >= job.expires_at {
        Some(End::Expired)
    } else {
        None
    }
}

/// Sends one line and stores its answer; `Err(())` when the gateway is stopping (the line
/// stays pending).
async fn run_line(b: &Batches, job: &Job, mut line: PendingLine) -> Result<(), ()> {
    let body = Bytes::from(std::mem::take(&mut line.body));
    let mut tries = 0;
    let (ctx, result) = loop {
        let mut ctx = context(job);
        let gw = &b.inner.gateway;
        let result = match gw.act_as(&mut ctx, job.owner.as_deref()) {
            Err(e) => Err(e),
            Ok(()) if job.embeddings => gw.embeddings(&ctx, body.clone()).await,
            Ok(()) => gw.chat(&ctx, body.clone()).await,
        };
        match result {
            Err(GatewayError::ShuttingDown) => return Err(()),
            Err(e) if tries + 1 < MAX_TRIES && waits(&e) => {
                tries += 1;
                let wait = e.retry_after().unwrap_or(Duration::from_secs(1));
                tokio::time::sleep(wait.min(MAX_WAIT)).await;
            }
            other => break (ctx, other),
        }
    };
    let (status, body) = match result {
        Ok(reply) => match reply.body {
            ReplyBody::Full(bytes) => (
                reply.status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ),
            ReplyBody::Stream(_) => (
                500,
                error_body("server_error", None, "The route answered with a stream."),
            ),
        },
        Err(e) => (e.status(), gateway_error(&e)),
    };
    store(b, job, &line, ctx.request_id.as_str(), (status, body)).await;
    Ok(())
}

/// Stores a line's answer: the output file for a 2xx, the error file otherwise.
pub(crate) async fn store(
    b: &Batches,
    job: &Job,
    line: &PendingLine,
    request_id: &str,
    (status, body): (u16, Value),
) {
    let answer = Answer {
        line: line.line,
        custom_id: &line.custom_id,
        request_id,
        status,
        body,
    };
    let text = object::answer_line(&answer);
    let state = if (200..300).contains(&status) {
        LineState::Ok
    } else {
        LineState::Failed
    };
    let (id, n) = (job.id.clone(), line.line);
    if let Err(e) = b.db(move |s| s.finish_line(&id, n, state, &text)).await {
        tracing::error!(batch = %job.id, line = n, error = %e, "cannot store a batch line's answer; it runs again at the next start");
    }
}

/// Refusals worth waiting out: the key's request rate, an upstream rate limit, an open breaker.
pub(crate) fn waits(e: &GatewayError) -> bool {
    match e {
        GatewayError::KeyLimited { code, .. } => *code == "rate_limit_exceeded",
        GatewayError::RateLimited { .. } | GatewayError::CircuitOpen { .. } => true,
        _ => false,
    }
}

fn error_body(kind: &str, code: Option<&str>, message: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// The error body the OpenAI ingress would have answered.
pub(crate) fn gateway_error(e: &GatewayError) -> Value {
    let (kind, code) = e.openai_type_and_code();
    let mut v = error_body(kind, code, &e.to_string());
    v["error"]["param"] = e
        .param()
        .map_or(Value::Null, |p| Value::String(p.to_string()));
    v
}

/// Ends the batch: lines that never ran go to the error file (cancelled or expired), the
/// output and error files are written, and the batch takes its final status. Lines another
/// runner still holds are left to it: the batch ends when its last line is answered, by
/// whichever runner answered it, and only once (`finish_job` is conditional).
async fn finish(b: &Batches, job: &JobRow, end: End) -> Result<(), BatchError> {
    let (stamp, code) = match end {
        End::Paused | End::Elsewhere => return Ok(()),
        End::Completed => (Stamp::Completed, ""),
        End::Cancelled => (Stamp::Cancelled, "batch_cancelled"),
        End::Expired => (Stamp::Expired, "batch_expired"),
    };
    let (id, owner, c) = (job.id.clone(), job.owner.clone(), claims::claim(b));
    b.db(move |s| {
        if code.is_empty() {
            if s.job(&id)?.is_some_and(|j| j.counts.pending() > 0) {
                return Ok(false);
            }
            s.transition(&id, &["in_progress"], Stamp::Finalizing, now())?;
        } else {
            for l in s.claim_lines(&id, &c, usize::MAX)? {
                let why = if code == "batch_cancelled" {
                    "the batch was cancelled before this request ran."
                } else {
                    "the batch expired before this request ran."
                };
                let text = object::error_line(l.line, Some(&l.custom_id), code, why);
                s.finish_line(&id, l.line, LineState::Failed, &text)?;
            }
            if s.job(&id)?.is_some_and(|j| j.counts.pending() > 0) {
                return Ok(false);
            }
        }
        let out = joined(s.results(&id, LineState::Ok)?);
        let err = joined(s.results(&id, LineState::Failed)?);
        let at = now();
        let file = |content: &[u8], kind: &str| FileRow {
            id: crate::fresh_id("file-"),
            owner: owner.clone(),
            purpose: "batch_output".into(),
            filename: format!("{id}_{kind}.jsonl"),
            bytes: content.len() as u64,
            created_at: at,
        };
        let files = [
            (!out.is_empty()).then(|| Produced {
                row: file(&out, "output"),
                content: &out,
            }),
            (!err.is_empty()).then(|| Produced {
                row: file(&err, "error"),
                content: &err,
            }),
        ];
        s.finish_job(&id, files, stamp, at)
    })
    .await?;
    lock(&b.inner.running).remove(&job.id);
    Ok(())
}

/// JSONL: each line followed by a newline.
fn joined(lines: Vec<String>) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out
}
