//! Evaluation on live traffic: capture (a sample of requests and answers, redacted, to the
//! eval store) and shadow traffic (a sample mirrored to candidate models, scored against the
//! primary's answer, recorded in the ledger as shadow spend).
//!
//! Both run after the client's answer is complete — for streams, when the tee finishes — so
//! neither can delay, alter or fail it. The only work on the request path is deciding whether
//! this request is sampled (one random draw per policy), and, when it is, keeping the body.
//! Shadow calls are bounded by a semaphore (skipped, not queued, when it is full) and by a
//! daily spend cap.

use crate::Gateway;
use crate::config::{CapturePolicy, Config};
use crate::pipeline::RequestContext;
use crate::record::{self, Outcome};
use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_catalog::ModelEntry;
use switchyard_eval::{Expected, Output, Redactor, Scorer, ToolCall};
use switchyard_evalstore::{Capture, CaptureJob, CaptureWriter, ShadowResult};
use switchyard_ledger::{Record, RecordKind};
use switchyard_primitives::{Money, TokenUsage};
use switchyard_providers::{Payload, Provider, ProviderRequest, ResponseBody};

/// The eval store writer and the shadow bounds, shared by every route.
pub(crate) struct EvalRuntime {
    writer: CaptureWriter,
    shadow_slots: Arc<tokio::sync::Semaphore>,
    shadow_concurrency: usize,
    shadow_spend: Mutex<(NaiveDate, Money)>,
    shadow_max: Money,
    pub(crate) counters: EvalCounters,
}

/// What capture and shadowing have done since start.
#[derive(Debug, Default)]
pub struct EvalCounters {
    pub captured: AtomicU64,
    pub shadow_sent: AtomicU64,
    pub shadow_skipped_busy: AtomicU64,
    pub shadow_skipped_budget: AtomicU64,
    pub shadow_failed: AtomicU64,
}

/// A shadow candidate of a route.
pub(crate) struct ShadowTarget {
    pub provider: Arc<dyn Provider>,
    pub model: String,
    pub rate: f64,
    pub pricing: Option<Arc<ModelEntry>>,
    pub timeout: Duration,
}

/// A route's capture policy, shadow candidates and scorers.
pub(crate) struct RouteEval {
    pub capture: Option<CapturePolicy>,
    pub captured_today: Mutex<(NaiveDate, u64)>,
    pub shadows: Vec<ShadowTarget>,
    pub scorers: Vec<Scorer>,
}

/// A finished answer as evaluation sees it: the client's request and what came back.
pub(crate) struct Answer {
    pub dialect: Dialect,
    /// The client's request body.
    pub body: Bytes,
    pub output: Output,
}

/// What this request was sampled for.
pub(crate) struct EvalPlan {
    pub route: Arc<RouteEval>,
    pub capture: bool,
    pub shadows: Vec<usize>,
}

/// The client dialect a captured request is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    OpenAi,
    Anthropic,
}

impl Dialect {
    fn as_str(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::Anthropic => "anthropic",
        }
    }
}

impl EvalRuntime {
    pub(crate) fn open(config: &Config) -> Result<Self, String> {
        let redactor = Redactor::new(&config.eval.redact_patterns).map_err(|e| e.to_string())?;
        let redact: switchyard_evalstore::Redact = Box::new(move |c: &mut Capture| {
            redactor.redact_json(&mut c.request);
            c.output_text = redactor.redact(&c.output_text);
            redactor.redact_json(&mut c.tool_calls);
        });
        let path = config.eval.store_path(&config.ledger.path);
        let writer = CaptureWriter::spawn(
            &path,
            redact,
            config.eval.retention,
            config.eval.capture_queue,
        )
        .map_err(|e| e.to_string())?;
        Ok(EvalRuntime {
            writer,
            shadow_slots: Arc::new(tokio::sync::Semaphore::new(config.eval.shadow_concurrency)),
            shadow_concurrency: config.eval.shadow_concurrency,
            shadow_spend: Mutex::new((Utc::now().date_naive(), Money::ZERO)),
            shadow_max: config.eval.shadow_max_usd_per_day,
            counters: EvalCounters::default(),
        })
    }

    pub(crate) fn flush(&self) {
        self.writer.flush();
    }

    pub(crate) fn shutdown(&self) {
        self.writer.shutdown();
    }

    /// Whether today's shadow spend leaves room; adds `cost` when given.
    fn shadow_budget(&self, add: Option<Money>) -> bool {
        let mut s = self.shadow_spend.lock().unwrap_or_else(|p| p.into_inner());
        let today = Utc::now().date_naive();
        if s.0 != today {
            *s = (today, Money::ZERO);
        }
        if let Some(c) = add {
            s.1 = Money(s.1.0 + c.0);
        }
        s.1.0 < self.shadow_max.0
    }
}

/// The text and tool calls of an answer in OpenAI's shape.
pub(crate) fn openai_output(body: &[u8]) -> Output {
    serde_json::from_slice::<Value>(body)
        .map(|v| Output::from_openai_response(&v))
        .unwrap_or_default()
}

/// The text and tool calls of an Anthropic Messages answer.
pub(crate) fn anthropic_output(body: &[u8]) -> Output {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Output::default();
    };
    let mut out = Output::default();
    for block in v["content"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("text") => out
                .text
                .push_str(block["text"].as_str().unwrap_or_default()),
            Some("tool_use") => out.tool_calls.push(ToolCall::new(
                block["name"].as_str().unwrap_or_default(),
                block["input"].clone(),
            )),
            _ => {}
        }
    }
    out
}

impl Gateway {
    /// Decides, before the upstream call, what this request is sampled for; `None` (the usual
    /// case) costs one map lookup.
    pub(crate) fn eval_plan(&self, route: &str, ctx: &RequestContext) -> Option<EvalPlan> {
        if ctx.shadow {
            return None;
        }
        let live = self.live();
        let meta = live.route_meta.get(route)?;
        let re = meta.eval.clone()?;
        // The workload the ledger will record: the caller's (key or header), else the route's.
        let workload = ctx.workload.as_ref().or(meta.workload.as_ref());
        let capture = re.capture.as_ref().is_some_and(|p| {
            if !p.workloads.is_empty() && !workload.is_some_and(|w| p.workloads.contains(w)) {
                return false;
            }
            let tags_match = p.tags.iter().all(|(k, v)| {
                ctx.tags
                    .iter()
                    .any(|(tk, tv)| tk == k && v.as_ref().is_none_or(|v| v == tv))
            });
            if !tags_match || switchyard_router::rng::unit() >= p.rate {
                return false;
            }
            let mut day = re.captured_today.lock().unwrap_or_else(|e| e.into_inner());
            let today = Utc::now().date_naive();
            if day.0 != today {
                *day = (today, 0);
            }
            if day.1 >= p.max_per_day {
                return false;
            }
            day.1 += 1;
            true
        });
        let shadows: Vec<usize> = re
            .shadows
            .iter()
            .enumerate()
            .filter(|(_, s)| switchyard_router::rng::unit() < s.rate)
            .map(|(i, _)| i)
            .collect();
        (capture || !shadows.is_empty()).then_some(EvalPlan {
            route: re,
            capture,
            shadows,
        })
    }

    /// Capture and shadow a finished answer. Never blocks: the capture is queued, shadows are
    /// spawned.
    pub(crate) fn after_answer(
        &self,
        plan: EvalPlan,
        ctx: &RequestContext,
        answer: Answer,
        rec: &Record,
    ) {
        let Answer {
            dialect,
            body,
            output,
        } = answer;
        let Some(rt) = self.inner.eval.get() else {
            return;
        };
        if rec.status != 200 {
            return;
        }
        if plan.capture {
            let request = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let capture = Capture {
                id: rec.request_id.clone(),
                ts: rec.ts,
                workload: rec.workload.clone(),
                route: rec.route.clone(),
                provider: rec.provider.clone(),
                model: rec.model.clone(),
                key_id: rec.key_id.clone(),
                team: rec.team.clone(),
                tags: rec.tags.clone(),
                dialect: dialect.as_str().into(),
                request,
                output_text: output.text.clone(),
                tool_calls: serde_json::to_value(&output.tool_calls).unwrap_or(json!([])),
                cost_usd: rec.cost_usd,
                latency_ms: rec.latency_ms,
                input_tokens: rec.usage.prompt_total(),
                output_tokens: rec.usage.completion_total(),
            };
            if rt.writer.submit(CaptureJob(capture)) {
                rt.counters.captured.fetch_add(1, Ordering::Relaxed);
            }
        }
        if plan.shadows.is_empty() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let primary = Arc::new(Primary {
            output,
            cost: rec.cost_usd,
            latency_ms: rec.latency_ms,
            model: rec.model.clone().unwrap_or_default(),
        });
        for idx in plan.shadows {
            let Ok(permit) = rt.shadow_slots.clone().try_acquire_owned() else {
                rt.counters
                    .shadow_skipped_busy
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            };
            if !rt.shadow_budget(None) {
                rt.counters
                    .shadow_skipped_budget
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let job = ShadowJob {
                gateway: self.clone(),
                route: plan.route.clone(),
                idx,
                ctx: ctx.clone(),
                route_name: rec.route.clone(),
                dialect,
                body: body.clone(),
                primary: primary.clone(),
            };
            handle.spawn(async move {
                job.run().await;
                drop(permit);
            });
        }
    }

    /// Shadow calls still running.
    pub fn shadow_in_flight(&self) -> usize {
        self.inner.eval.get().map_or(0, |rt| {
            rt.shadow_concurrency
                .saturating_sub(rt.shadow_slots.available_permits())
        })
    }

    /// Waits until every capture queued so far is stored (tests, shutdown).
    pub fn flush_eval(&self) {
        if let Some(rt) = self.inner.eval.get() {
            rt.flush();
        }
    }

    /// Stores what is queued and stops the capture writer.
    pub fn shutdown_eval(&self) {
        if let Some(rt) = self.inner.eval.get() {
            rt.shutdown();
        }
    }

    /// Capture and shadow counters since start, as JSON (for `/v1/status`).
    pub fn eval_counters(&self) -> Option<Value> {
        let rt = self.inner.eval.get()?;
        let c = &rt.counters;
        let stats = rt.writer.stats();
        Some(json!({
            "captured": c.captured.load(Ordering::Relaxed),
            "captures_stored": stats.stored,
            "captures_dropped": stats.dropped,
            "shadow_sent": c.shadow_sent.load(Ordering::Relaxed),
            "shadow_skipped_busy": c.shadow_skipped_busy.load(Ordering::Relaxed),
            "shadow_skipped_budget": c.shadow_skipped_budget.load(Ordering::Relaxed),
            "shadow_failed": c.shadow_failed.load(Ordering::Relaxed),
        }))
    }
}

struct Primary {
    output: Output,
    cost: Option<Money>,
    latency_ms: f64,
    model: String,
}

struct ShadowJob {
    gateway: Gateway,
    route: Arc<RouteEval>,
    idx: usize,
    ctx: RequestContext,
    route_name: String,
    dialect: Dialect,
    body: Bytes,
    primary: Arc<Primary>,
}

impl ShadowJob {
    async fn run(self) {
        let Some(rt) = self.gateway.inner.eval.get() else {
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
            rec.workload = self
                .gateway
                .live()
                .route_meta
                .get(&self.route_name)
                .and_then(|m| m.workload.clone());
        }
        let (output, usage) = match answer {
            Ok(Ok(x)) => x,
            Ok(Err(message)) => {
                self.failed(rt, rec, latency, &message);
                return;
            }
            Err(_) => {
                self.failed(rt, rec, latency, "timed out");
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
        let workload = rec.workload.clone();
        self.gateway.recorder().record(rec);
        let (candidate_score, primary_score, detail) =
            score_pair(&self.route.scorers, &output, &self.primary.output);
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
        };
        rt.writer.submit_shadow(result);
    }

    fn failed(&self, rt: &EvalRuntime, mut rec: Record, latency: Duration, message: &str) {
        rt.counters.shadow_failed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(route = %self.route_name, error = %message, "shadow call failed");
        rec.status = 502;
        rec.error_class = Some("shadow_error".into());
        rec.latency_ms = latency.as_secs_f64() * 1000.0;
        self.gateway.recorder().record(rec);
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

/// Scores the candidate and the primary with the route's scorers, the primary's answer
/// serving as the expected one; without scorers, token-overlap F1 against the primary. The
/// primary scores itself 1 on reference scorers, so the delta says how far the candidate is
/// from what production answered.
pub(crate) fn score_pair(
    scorers: &[Scorer],
    candidate: &Output,
    primary: &Output,
) -> (f64, f64, String) {
    if scorers.is_empty() {
        let f1 = token_f1(&candidate.text, &primary.text);
        return (f1, 1.0, format!("token F1 vs primary {f1:.3}"));
    }
    let expected = |s: &Scorer| {
        if s.spec().kind() == "tool-call" {
            Expected(json!({ "tool_calls": primary.tool_calls }))
        } else {
            Expected(Value::String(primary.text.clone()))
        }
    };
    let mut c_sum = 0.0;
    let mut p_sum = 0.0;
    let mut n = 0.0;
    let mut details = Vec::new();
    for s in scorers {
        let e = expected(s);
        let (Ok(c), Ok(p)) = (s.score(candidate, Some(&e)), s.score(primary, Some(&e))) else {
            continue;
        };
        c_sum += c.value;
        p_sum += p.value;
        n += 1.0;
        details.push(format!(
            "{}: {:.3} vs {:.3}",
            s.spec().kind(),
            c.value,
            p.value
        ));
    }
    if n == 0.0 {
        let f1 = token_f1(&candidate.text, &primary.text);
        return (f1, 1.0, format!("token F1 vs primary {f1:.3}"));
    }
    (c_sum / n, p_sum / n, details.join("; "))
}

/// Harmonic mean of token precision and recall (lower-cased words): a reference-free-model
/// agreement measure for free text.
pub(crate) fn token_f1(candidate: &str, reference: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let c = words(candidate);
    let r = words(reference);
    if c.is_empty() && r.is_empty() {
        return 1.0;
    }
    if c.is_empty() || r.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::<&str, i64>::new();
    for w in &r {
        *counts.entry(w).or_default() += 1;
    }
    let mut overlap = 0;
    for w in &c {
        if let Some(n) = counts.get_mut(w.as_str())
            && *n > 0
        {
            *n -= 1;
            overlap += 1;
        }
    }
    if overlap == 0 {
        return 0.0;
    }
    let p = f64::from(overlap) / c.len() as f64;
    let rc = f64::from(overlap) / r.len() as f64;
    2.0 * p * rc / (p + rc)
}

/// Builds the per-route eval settings from the config; errors name their path.
pub(crate) fn route_eval(
    config: &Config,
    route_idx: usize,
    providers: &std::collections::HashMap<
        String,
        (Arc<dyn Provider>, &crate::config::ProviderConfig),
    >,
    catalog: &switchyard_catalog::Catalog,
    problems: &mut Vec<crate::ConfigError>,
) -> Option<Arc<RouteEval>> {
    let r = config.routes.get(route_idx)?;
    if r.capture.is_none() && r.shadow.is_empty() {
        return None;
    }
    let mut scorers = Vec::new();
    for (j, raw) in r.scorers.iter().enumerate() {
        match serde_json::from_value::<switchyard_eval::ScorerSpec>(raw.clone())
            .map_err(|e| e.to_string())
            .and_then(|s| s.compile().map_err(|e| e.to_string()))
        {
            Ok(s) => scorers.push(s),
            Err(message) => problems.push(crate::ConfigError {
                path: format!("routes[{route_idx}].scorers[{j}]"),
                message,
            }),
        }
    }
    let mut shadows = Vec::new();
    for (j, s) in r.shadow.iter().enumerate() {
        let Some((provider, pc)) = providers.get(&s.provider) else {
            continue;
        };
        let pricing = match &s.price_as {
            Some((p, m)) => {
                let found = catalog.get(p, m).cloned();
                if found.is_none() {
                    problems.push(crate::ConfigError {
                        path: format!("routes[{route_idx}].shadow[{j}].price_as"),
                        message: format!("{p}/{m} is not in the catalog"),
                    });
                }
                found
            }
            None => crate::build::price_entry(catalog, pc, &s.model),
        };
        shadows.push(ShadowTarget {
            provider: provider.clone(),
            model: s.model.clone(),
            rate: s.rate,
            pricing: pricing.map(Arc::new),
            timeout: s.timeout,
        });
    }
    Some(Arc::new(RouteEval {
        capture: r.capture.clone(),
        captured_today: Mutex::new((Utc::now().date_naive(), 0)),
        shadows,
        scorers,
    }))
}
