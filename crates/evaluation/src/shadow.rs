//! Shadow traffic: a sampled request mirrored to one of the route's candidates, after the
//! client's answer is complete, never streamed; the candidate's answer is scored against the
//! primary's and recorded in the ledger as shadow spend, the comparison in the eval store.

use crate::routes::{RouteEval, ShadowTarget};
use crate::score::{anthropic_output, openai_output};
use bytes::Bytes;
use chrono::Utc;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use switchyard_eval::Output;
use switchyard_evalstore::ShadowResult;
use switchyard_gateway::RequestContext;
use switchyard_gateway::observe::Dialect;
use switchyard_gateway::record::{self, Outcome};
use switchyard_ledger::{Record, RecordKind};
use switchyard_primitives::{Money, TokenUsage};
use switchyard_providers::{Payload, ProviderRequest, ResponseBody};

/// The primary's answer, what each shadow is compared with.
pub(crate) struct Primary {
    pub output: Output,
    pub cost: Option<Money>,
    pub latency_ms: f64,
    pub model: String,
}

/// One shadow call: the client's request mirrored to one candidate of the route.
pub(crate) struct ShadowJob {
    pub route: Arc<RouteEval>,
    pub idx: usize,
    pub ctx: RequestContext,
    pub route_name: String,
    pub dialect: Dialect,
    pub body: Bytes,
    pub primary: Arc<Primary>,
}

impl ShadowJob {
    pub(crate) async fn run(self) {
        let shared = &self.route.shared;
        let (Some(rt), Some(recorder)) = (shared.runtime.get(), shared.recorder.get()) else {
            return;
        };
        let Some(target) = self.route.shadows.get(self.idx) else {
            return;
        };
        let started = Instant::now();
        let answer = tokio::time::timeout(target.timeout, self.call(target)).await;
        let latency = started.elapsed();
        let mut rec = record::draft(&self.ctx, &self.route_name, RecordKind::Chat);
        rec.request_id = format!("{}-shadow-{}", self.ctx.request_id, self.idx);
        rec.shadow = true;
        rec.provider = Some(target.provider.name().to_string());
        rec.model = Some(target.model.clone());
        if rec.workload.is_none() {
            rec.workload = self.route.workload.clone();
        }
        let (output, usage) = match answer {
            Ok(Ok(x)) => x,
            Ok(Err(message)) => {
                self.failed(rec, latency, &message);
                return;
            }
            Err(_) => {
                self.failed(rec, latency, "timed out");
                return;
            }
        };
        let priced = record::complete(
            &mut rec,
            target.pricing.as_deref(),
            Outcome {
                usage,
                estimated: false,
                latency,
                ttft: None,
                overhead: Duration::ZERO,
            },
        );
        let cost = priced.map(|p| p.cost);
        rt.shadow_budget(Some(cost.unwrap_or(Money::ZERO)));
        rt.counters.shadow_sent.fetch_add(1, Ordering::Relaxed);
        let (workload, request_id) = (rec.workload.clone(), rec.request_id.clone());
        recorder.record(rec);
        let (candidate_score, primary_score, detail) =
            crate::score::score_pair(&self.route.scorers, &output, &self.primary.output);
        let result = ShadowResult {
            ts: Utc::now(),
            workload,
            route: self.route_name.clone(),
            primary_model: self.primary.model.clone(),
            candidate: format!("{}/{}", target.provider.name(), target.model),
            primary_score,
            candidate_score,
            primary_cost_usd: self.primary.cost.and_then(|c| c.0.to_f64()),
            candidate_cost_usd: cost.and_then(|c| c.0.to_f64()),
            primary_latency_ms: self.primary.latency_ms,
            candidate_latency_ms: latency.as_secs_f64() * 1000.0,
            detail,
            request_id: Some(request_id),
        };
        rt.writer.submit_shadow(result);
    }

    fn failed(&self, mut rec: Record, latency: Duration, message: &str) {
        let shared = &self.route.shared;
        let (Some(rt), Some(recorder)) = (shared.runtime.get(), shared.recorder.get()) else {
            return;
        };
        rt.counters.shadow_failed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(route = %self.route_name, error = %message, "shadow call failed");
        rec.status = 502;
        rec.error_class = Some("shadow_error".into());
        rec.latency_ms = latency.as_secs_f64() * 1000.0;
        recorder.record(rec);
    }

    /// The candidate's whole answer (never streamed) and its usage.
    async fn call(&self, target: &ShadowTarget) -> Result<(Output, TokenUsage), String> {
        let mut v: Value = serde_json::from_slice(&self.body).map_err(|e| e.to_string())?;
        if let Some(o) = v.as_object_mut() {
            o.insert("stream".into(), json!(false));
            o.remove("stream_options");
        }
        let body = serde_json::to_vec(&v).map_err(|e| e.to_string())?;
        let response = match self.dialect {
            Dialect::OpenAi => {
                let req = switchyard_protocol::openai::ChatRequest::parse(&body)
                    .map_err(|e| e.message)?;
                target
                    .provider
                    .send(ProviderRequest {
                        payload: Payload::Chat(&req),
                        model: &target.model,
                        allow_drop: &ALLOW_ALL,
                        prompt_cache: Default::default(),
                    })
                    .await
            }
            Dialect::Anthropic => {
                let req = switchyard_protocol::anthropic::ingress::parse_request(&body)
                    .map_err(|e| e.message)?;
                target
                    .provider
                    .send(ProviderRequest {
                        payload: Payload::Canonical(&req),
                        model: &target.model,
                        allow_drop: &ALLOW_ALL,
                        prompt_cache: Default::default(),
                    })
                    .await
            }
        }
        .map_err(|e| e.to_string())?;
        let ResponseBody::Full(bytes) = response.body else {
            return Err("the candidate streamed an answer to a whole request".into());
        };
        let output = match response.dialect {
            switchyard_providers::Dialect::Anthropic => anthropic_output(&bytes),
            _ => openai_output(&bytes),
        };
        let usage = match response.dialect {
            switchyard_providers::Dialect::Anthropic => {
                switchyard_protocol::anthropic::usage_of(&bytes)
                    .map(|u| u.to_tokens())
                    .unwrap_or_default()
            }
            _ => switchyard_protocol::openai::usage_of(&bytes)
                .map(|u| u.to_tokens())
                .unwrap_or_default(),
        };
        Ok((output, usage))
    }
}

/// A shadow may drop what its dialect cannot carry: it is an experiment, not an answer.
static ALLOW_ALL: [String; 0] = [];
