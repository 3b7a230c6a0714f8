//! Lines carried by a provider's native batch API (OpenAI's Batch API, Anthropic's Message
//! Batches, Gemini's batch mode: whatever `Provider::native_batch` offers). A line whose
//! route's first target has one is admitted by the gateway (`Gateway::admit_native`: the key's
//! route list and budgets, the hold kept until the answer, the line translated into the
//! target's dialect), grouped with the batch's other lines for the same provider and model,
//! submitted as one upstream batch, polled every `[batch] poll_interval_ms`, and settled from
//! the upstream's per-line results (already in OpenAI's shape) at the catalog's batch discount
//! (`Gateway::settle_native`). The upstream batch id is stored on each line, so a restart polls
//! it instead of resubmitting. Whatever the upstream does not answer with a 2xx (a failed
//! submission, an errored, cancelled, expired or missing line) falls back to the pipeline,
//! unless the Switchyard batch was cancelled (then it is reported `batch_cancelled`).

use crate::Batches;
use crate::runner::Job;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_gateway::{GatewayError, NativeLine, RequestContext};
use switchyard_ledger::batch::PendingLine;
use switchyard_providers::{
    BatchEndpoint, BatchItem, ErrorClass, LineResult, NativeBatch, UpstreamBatch,
};

/// One admitted line.
pub(crate) struct Held {
    line: PendingLine,
    ctx: RequestContext,
    native: NativeLine,
}

/// Lines for one upstream batch: already submitted (`upstream`), or to submit.
#[derive(Default)]
pub(crate) struct Group {
    upstream: Option<String>,
    held: Vec<Held>,
}

/// The lines of a chat batch split between provider batches and the pipeline.
pub(crate) struct Split {
    pub groups: Vec<Group>,
    pub pipeline: Vec<PendingLine>,
}

/// Admits each pending line for its route's provider batch API where it has one.
pub(crate) async fn split(b: &Batches, job: &Job, pending: Vec<PendingLine>) -> Split {
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut pipeline = Vec::new();
    for line in pending {
        let mut ctx = crate::runner::context(job);
        let gw = &b.inner.gateway;
        let body = Bytes::from(line.body.clone());
        let admitted = gw
            .act_as(&mut ctx, job.owner.as_deref())
            .and_then(|()| gw.admit_native(&ctx, &body, job.embeddings));
        match admitted {
            Ok(Some(native)) => {
                let key = match &line.upstream {
                    Some(u) => ("upstream".to_string(), u.clone()),
                    None => (native.provider.name().to_string(), native.model.clone()),
                };
                let g = groups.entry(key).or_default();
                g.upstream = line.upstream.clone();
                g.held.push(Held { line, ctx, native });
            }
            // Refusals the pipeline waits out (rate limits, a stop) run there.
            Ok(None) => pipeline.push(line),
            Err(e) if crate::runner::waits(&e) || matches!(e, GatewayError::ShuttingDown) => {
                pipeline.push(line)
            }
            // Refused (and recorded) by the gateway: that is the line's answer.
            Err(e) => {
                let answer = (e.status(), crate::runner::gateway_error(&e));
                crate::runner::store(b, job, &line, ctx.request_id.as_str(), answer).await;
            }
        }
    }
    Split {
        groups: groups.into_values().collect(),
        pipeline,
    }
}

/// How waiting for a provider batch ended.
enum Waited {
    Ended(UpstreamBatch),
    /// The provider no longer knows it (or refuses us): its lines run here.
    Gone,
    /// The gateway is stopping: the lines stay pending and tied to it.
    Stopped,
}

/// Submits (unless already submitted), polls and settles one group; returns the lines to run
/// through the pipeline instead, or `Err(())` when the gateway is stopping (the lines stay
/// pending).
pub(crate) async fn carry(
    b: Batches,
    job: Arc<Job>,
    mut group: Group,
    cancel: Arc<AtomicBool>,
) -> Result<Vec<PendingLine>, ()> {
    let Some(first) = group.held.first() else {
        return Ok(Vec::new());
    };
    let provider = first.native.provider.clone();
    let model = first.native.model.clone();
    let Some(api) = provider.native_batch() else {
        return Ok(fall_back(group.held));
    };
    let upstream = match group.upstream.take() {
        Some(u) => u,
        None => match submit(&b, &job, api, &model, &group.held).await {
            Some(u) => u,
            None => return Ok(fall_back(group.held)),
        },
    };
    let done = match wait(&b, &job, api, &upstream, &cancel).await {
        Waited::Ended(done) => done,
        Waited::Gone => return Ok(fall_back(group.held)),
        Waited::Stopped => return Err(()),
    };
    let answers = results(&b, &job, api, &done).await;
    Ok(settle(&b, &job, group.held, answers).await)
}

/// Polls the provider batch until it ends. A cancelled Switchyard batch cancels the
/// provider's (once) and still waits for it to end, so the lines the provider answered (and
/// bills) are recorded.
async fn wait(
    b: &Batches,
    job: &Job,
    api: &dyn NativeBatch,
    upstream: &str,
    cancel: &AtomicBool,
) -> Waited {
    let mut cancelled = false;
    loop {
        if !b.inner.gateway.is_ready() {
            return Waited::Stopped;
        }
        if !cancelled && cancel.load(Ordering::Acquire) {
            cancelled = true;
            if let Err(e) = api.cancel(upstream).await {
                tracing::warn!(batch = %job.id, upstream, error = %e, "cannot cancel the provider batch");
            }
        }
        match api.poll(upstream).await {
            Ok(u) if u.done => return Waited::Ended(u),
            Ok(_) => {}
            Err(e) if e.class() == ErrorClass::Client => {
                tracing::warn!(batch = %job.id, upstream, error = %e, "the provider batch is gone; its lines run through the pipeline");
                return Waited::Gone;
            }
            Err(e) => {
                tracing::warn!(batch = %job.id, upstream, error = %e, "cannot poll a provider batch; trying again")
            }
        }
        tokio::time::sleep(b.inner.config.poll_interval).await;
    }
}

/// Tries to read an ended batch's results before its lines fall back.
const RESULT_TRIES: u32 = 3;

/// The ended batch's per-line results by line number; none when they cannot be read.
async fn results(
    b: &Batches,
    job: &Job,
    api: &dyn NativeBatch,
    done: &UpstreamBatch,
) -> HashMap<u64, LineResult> {
    for attempt in 1..=RESULT_TRIES {
        match api.results(done).await {
            Ok(all) => {
                return all
                    .into_iter()
                    .filter_map(|(key, r)| Some((key.parse::<u64>().ok()?, r)))
                    .collect();
            }
            Err(e) => {
                tracing::warn!(batch = %job.id, upstream = %done.id, attempt, error = %e, "cannot read a provider batch's results");
                let pause = b.inner.config.poll_interval.min(Duration::from_secs(5));
                tokio::time::sleep(pause).await;
            }
        }
    }
    HashMap::new()
}

/// Sends the group as one provider batch; stores its id on the lines.
async fn submit(
    b: &Batches,
    job: &Job,
    api: &dyn NativeBatch,
    model: &str,
    held: &[Held],
) -> Option<String> {
    let endpoint = if job.embeddings {
        BatchEndpoint::Embeddings
    } else {
        BatchEndpoint::Chat
    };
    let items = held
        .iter()
        .map(|h| BatchItem {
            key: h.line.line.to_string(),
            body: h.native.upstream_body.clone(),
        })
        .collect();
    let upstream = match api.submit(endpoint, model, items).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(batch = %job.id, error = %e, "the provider's batch API refused the lines; they run through the pipeline");
            return None;
        }
    };
    let (id, lines, up) = (
        job.id.clone(),
        held.iter().map(|h| h.line.line).collect::<Vec<_>>(),
        upstream.clone(),
    );
    if let Err(e) = b.db(move |s| s.set_upstream(&id, &lines, Some(&up))).await {
        tracing::error!(batch = %job.id, error = %e, "cannot note the provider batch on its lines");
    }
    Some(upstream)
}

/// Settles every line the provider answered with a 2xx; returns the others.
async fn settle(
    b: &Batches,
    job: &Job,
    held: Vec<Held>,
    mut answers: HashMap<u64, LineResult>,
) -> Vec<PendingLine> {
    let mut rest = Vec::new();
    for h in held {
        match answers.remove(&h.line.line) {
            Some(LineResult::Answered { status, body }) => {
                b.inner
                    .gateway
                    .settle_native(&h.ctx, h.native, status, &body);
                let value = serde_json::from_slice(&body).unwrap_or_default();
                let request_id = h.ctx.request_id.as_str();
                crate::runner::store(b, job, &h.line, request_id, (status, value)).await;
            }
            other => {
                if let Some(LineResult::Failed { reason }) = other {
                    tracing::info!(batch = %job.id, line = h.line.line, %reason, "the provider batch did not answer this line");
                }
                rest.push(h.line);
            }
        }
    }
    rest
}

/// The lines, their holds released, for the pipeline (and no longer tied to a provider batch).
fn fall_back(held: Vec<Held>) -> Vec<PendingLine> {
    held.into_iter()
        .map(|h| PendingLine {
            upstream: None,
            ..h.line
        })
        .collect()
}
