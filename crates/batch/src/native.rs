//! Lines carried by a provider's native batch API (today: OpenAI's). A line whose route's
//! first target has one is admitted by the gateway (`Gateway::admit_native`: the key's route
//! list and budgets, the hold kept until the answer), grouped with the batch's other lines for
//! the same provider and model, submitted as one upstream batch, polled every
//! `[batch] poll_interval_ms`, and settled from the upstream's output file at the catalog's
//! batch discount (`Gateway::settle_native`). The upstream batch id is stored on each line, so
//! a restart polls it instead of resubmitting. Whatever the upstream does not answer with a 2xx
//! (a failed submission, a failed or missing line) falls back to the pipeline.

use crate::Batches;
use crate::runner::Job;
use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use switchyard_gateway::{GatewayError, NativeLine, RequestContext};
use switchyard_ledger::batch::PendingLine;
use switchyard_providers::ErrorClass;

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

/// Submits (unless already submitted), polls and settles one group; returns the lines to run
/// through the pipeline instead, or `Err(())` when the gateway is stopping or the batch was
/// cancelled (the lines stay pending).
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
    let Some(api) = provider.batch_api() else {
        return Ok(fall_back(group.held));
    };
    let upstream = match group.upstream.take() {
        Some(u) => u,
        None => match submit(&b, &job, api, &group.held).await {
            Some(u) => u,
            None => return Ok(fall_back(group.held)),
        },
    };
    let Some(done) = wait(&b, &job, api, &upstream, &cancel).await else {
        return Err(());
    };
    let output = match &done.output_file_id {
        Some(f) => api.download(f).await.unwrap_or_default(),
        None => Bytes::new(),
    };
    Ok(settle(&b, &job, group.held, &output).await)
}

/// Polls the provider batch until it ends; `None` when the gateway stops first. A cancelled
/// Switchyard batch cancels the provider's (once) and still waits for it to end, so the lines
/// the provider answered (and bills) are recorded.
async fn wait(
    b: &Batches,
    job: &Job,
    api: &dyn switchyard_providers::BatchApi,
    upstream: &str,
    cancel: &AtomicBool,
) -> Option<switchyard_providers::UpstreamBatch> {
    let mut cancelled = false;
    loop {
        if !b.inner.gateway.is_ready() {
            return None;
        }
        if !cancelled && cancel.load(Ordering::Acquire) {
            cancelled = true;
            if let Err(e) = api.cancel(upstream).await {
                tracing::warn!(batch = %job.id, upstream, error = %e, "cannot cancel the provider batch");
            }
        }
        match api.poll(upstream).await {
            Ok(u) if u.is_done() => return Some(u),
            Ok(_) => {}
            // The provider no longer knows the batch (or refuses us): the lines run here.
            Err(e) if e.class() == ErrorClass::Client => {
                tracing::warn!(batch = %job.id, upstream, error = %e, "the provider batch is gone; its lines run through the pipeline");
                return Some(switchyard_providers::UpstreamBatch {
                    id: upstream.to_string(),
                    status: "failed".into(),
                    output_file_id: None,
                    error_file_id: None,
                });
            }
            Err(e) => {
                tracing::warn!(batch = %job.id, upstream, error = %e, "cannot poll a provider batch; trying again")
            }
        }
        tokio::time::sleep(b.inner.config.poll_interval).await;
    }
}

/// Sends the group as one provider batch; stores its id on the lines.
async fn submit(
    b: &Batches,
    job: &Job,
    api: &dyn switchyard_providers::BatchApi,
    held: &[Held],
) -> Option<String> {
    let endpoint = if job.embeddings {
        "/v1/embeddings"
    } else {
        "/v1/chat/completions"
    };
    let mut jsonl = Vec::new();
    for h in held {
        jsonl.extend_from_slice(
            format!(
                r#"{{"custom_id":"{}","method":"POST","url":"{endpoint}","body":"#,
                h.line.line
            )
            .as_bytes(),
        );
        jsonl.extend_from_slice(&h.native.upstream_body);
        jsonl.extend_from_slice(b"}\n");
    }
    let upstream = match api.submit(endpoint, jsonl).await {
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
async fn settle(b: &Batches, job: &Job, held: Vec<Held>, output: &[u8]) -> Vec<PendingLine> {
    let mut answers: HashMap<u64, (u16, Value)> = HashMap::new();
    for l in String::from_utf8_lossy(output).lines() {
        let Ok(mut v) = serde_json::from_str::<Value>(l) else {
            continue;
        };
        let line = v["custom_id"].as_str().and_then(|c| c.parse::<u64>().ok());
        let status = v["response"]["status_code"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok());
        if let (Some(line), Some(status)) = (line, status) {
            answers.insert(line, (status, v["response"]["body"].take()));
        }
    }
    let mut rest = Vec::new();
    for h in held {
        match answers.remove(&h.line.line) {
            Some((status, body)) if (200..300).contains(&status) => {
                let bytes = body.to_string();
                b.inner
                    .gateway
                    .settle_native(&h.ctx, h.native, status, bytes.as_bytes());
                let request_id = h.ctx.request_id.as_str();
                crate::runner::store(b, job, &h.line, request_id, (status, body)).await;
            }
            _ => rest.push(h.line),
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
