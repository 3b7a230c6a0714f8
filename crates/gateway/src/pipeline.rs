//! The request pipeline for chat completions and embeddings.

use crate::error::GatewayError;
use crate::governance::Ask;
use crate::observe::{self, Dialect, Observation};
use crate::record::{self, Outcome};
use crate::reserve::PromptBound;
use crate::stream::{OpenAiReader, TeeSetup, TeeStream};
use crate::{Gateway, TargetMeta, tokens};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_ledger::{Record, RecordKind};
use switchyard_primitives::{Money, RequestId, TokenUsage};
use switchyard_protocol::Feature;
use switchyard_protocol::openai::{ChatRequest, EmbeddingRequest, completion_text, usage_of};
use switchyard_providers::{ErrorClass, Payload, ProviderError, ResponseBody};
use switchyard_router::{Exhausted, Route, Skip, Success};

/// Who is asking and when: set by the edge before the body is parsed.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: RequestId,
    pub received: Instant,
    pub received_at: DateTime<Utc>,
    pub workload: Option<String>,
    pub tags: Vec<(String, String)>,
    pub key_id: Option<String>,
    pub team: Option<String>,
    /// Set by [`Gateway::authenticate`].
    pub caller: crate::Caller,
    /// Evaluation traffic (a replay): recorded as shadow spend, never captured or mirrored.
    pub shadow: bool,
    /// The client's `anthropic-beta` header (Messages API only), forwarded to Anthropic
    /// targets on the passthrough.
    pub anthropic_beta: Option<String>,
}

impl RequestContext {
    pub fn new(workload: Option<String>, tags: Vec<(String, String)>) -> Self {
        RequestContext {
            request_id: RequestId::generate(),
            received: Instant::now(),
            received_at: Utc::now(),
            workload,
            tags,
            key_id: None,
            team: None,
            caller: crate::Caller::Open,
            shadow: false,
            anthropic_beta: None,
        }
    }

    /// Parses `x-switchyard-tags`: `k=v` pairs (or bare labels) separated by commas, at most
    /// 32. Keys and values are kept as sent: keys are checked when the request is parsed, and
    /// both are bounded when recorded.
    pub fn parse_tags(header: &str) -> Vec<(String, String)> {
        header
            .split(',')
            .filter_map(|t| {
                let t = t.trim();
                if t.is_empty() {
                    return None;
                }
                let (k, v) = t.split_once('=').unwrap_or((t, ""));
                Some((k.trim().to_string(), v.trim().to_string()))
            })
            .take(32)
            .collect()
    }
}

/// A model call admitted and about to go upstream.
pub(crate) struct Begun {
    pub route: Arc<Route<TargetMeta>>,
    pub admitted: crate::Admitted,
    pub limits: KeyLimits,
    pub eval: Option<Box<dyn Observation>>,
    pub rec: Record,
}

/// What the edge sends back on success.
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub meta: ReplyMeta,
    pub body: ReplyBody,
}

/// The facts every response carries as `x-switchyard-*` headers.
#[derive(Debug, Clone)]
pub struct ReplyMeta {
    pub route: String,
    pub provider: String,
    pub model: String,
    /// Time spent in the gateway itself, upstream time excluded.
    pub overhead: Duration,
    /// Known for whole answers; a stream's cost is only known at its end (see the ledger).
    pub cost: Option<Money>,
    /// Features the route let a cross-dialect target drop (`x-switchyard-dropped`).
    pub dropped: Vec<String>,
    /// The caller's key: what is left of its budgets and limits, and soft-budget warnings.
    pub limits: KeyLimits,
}

/// What remains of the caller's key after this request's admission.
#[derive(Debug, Clone, Default)]
pub struct KeyLimits {
    pub budget_remaining: Option<Money>,
    pub requests_remaining: Option<u64>,
    pub tokens_remaining: Option<u64>,
    pub warnings: Vec<String>,
}

impl KeyLimits {
    pub(crate) fn of(a: &crate::Admitted) -> Self {
        KeyLimits {
            budget_remaining: a.budget_remaining,
            requests_remaining: a.requests_remaining,
            tokens_remaining: a.tokens_remaining,
            warnings: a.warnings.clone(),
        }
    }
}

pub enum ReplyBody {
    Full(Bytes),
    /// Any stream of response bytes (the tee itself, or a dialect translation over it).
    Stream(Pin<Box<dyn Stream<Item = Result<Bytes, std::convert::Infallible>> + Send>>),
}

impl Gateway {
    /// `POST /v1/chat/completions`.
    pub async fn chat(&self, ctx: &RequestContext, body: Bytes) -> Result<Reply, GatewayError> {
        let req = self.parse(ctx, RecordKind::Chat, || ChatRequest::parse(&body))?;
        // Counted at most once, by whichever needs it first (the tpm limit or the fit check).
        let prompt = std::cell::OnceCell::new();
        let prompt_tokens = || {
            *prompt
                .get_or_init(|| tokens::count_chat_prompt(req.messages.len(), req.prompt_texts()))
        };
        let Begun {
            route,
            mut admitted,
            limits,
            eval: eval_plan,
            mut rec,
        } = self.begin(
            ctx,
            RecordKind::Chat,
            &req.model,
            Ask {
                prompt_tokens,
                bound: PromptBound::of_chat(body.len(), &req),
                max_output: req.max_output_tokens,
            },
        )?;
        rec.streamed = req.stream;
        rec.features = req.features.to_csv();
        let needs = tokens::Demand {
            body_len: body.len(),
            max_output: req.max_output_tokens,
            stream: req.stream,
            tools: req.has_tools(),
            vision: req.features.contains(&Feature::Vision),
            json_schema: req.features.contains(&Feature::JsonSchema),
        }
        .needs(&route, prompt_tokens);
        let success = match route.execute(Payload::Chat(&req), &needs).await {
            Ok(s) => s,
            Err(ex) => return Err(self.fail(rec, &route.name, ex, ctx)),
        };
        let (target, upstream) = self.accept(&route, &success, &mut rec);
        let dropped = success.response.dropped.clone();
        let meta_of = |overhead, cost| ReplyMeta {
            route: route.name.clone(),
            provider: target.provider.name().to_string(),
            model: target.model.clone(),
            overhead,
            cost,
            dropped: dropped.clone(),
            limits: limits.clone(),
        };
        match success.response.body {
            ResponseBody::Full(bytes) => {
                let (usage, estimated) = match usage_of(&bytes) {
                    Some(u) => (u.to_tokens(), false),
                    None => (estimate_chat(&req, &bytes), true),
                };
                let latency = ctx.received.elapsed();
                let overhead = latency.saturating_sub(upstream);
                let pricing = target.meta.pricing.as_deref();
                let priced = record::complete(
                    &mut rec,
                    pricing,
                    Outcome {
                        usage,
                        estimated,
                        latency,
                        ttft: None,
                        overhead,
                    },
                );
                admitted.settle(priced.as_ref().map(|p| p.cost), usage.total());
                let meta = meta_of(overhead, priced.map(|p| p.cost));
                if let Some(plan) = eval_plan {
                    let answer = observe::Answer {
                        dialect: Dialect::OpenAi,
                        body: body.clone(),
                        output: observe::Output::OpenAi(bytes.clone()),
                    };
                    plan.finished(answer, &rec);
                }
                self.inner.recorder.record(rec);
                Ok(Reply {
                    status: success.response.status,
                    content_type: success.response.content_type,
                    meta,
                    body: ReplyBody::Full(bytes),
                })
            }
            ResponseBody::Stream(upstream_stream) => {
                let overhead = ctx.received.elapsed().saturating_sub(upstream);
                let meta = meta_of(overhead, None);
                let tee = TeeStream::new(
                    upstream_stream,
                    OpenAiReader {
                        drop_usage_chunk: !req.client_wants_usage,
                    },
                    TeeSetup {
                        recorder: self.inner.recorder.clone(),
                        record: rec,
                        pricing: target.meta.pricing.clone(),
                        request_body: body.clone(),
                        received: ctx.received,
                        header_overhead: overhead,
                        admitted,
                        on_finish: on_finish(eval_plan, Dialect::OpenAi, &body),
                    },
                );
                Ok(Reply {
                    status: success.response.status,
                    content_type: Some("text/event-stream".into()),
                    meta,
                    body: ReplyBody::Stream(Box::pin(tee)),
                })
            }
        }
    }

    /// `POST /v1/embeddings`.
    pub async fn embeddings(
        &self,
        ctx: &RequestContext,
        body: Bytes,
    ) -> Result<Reply, GatewayError> {
        let req = self.parse(ctx, RecordKind::Embedding, || {
            EmbeddingRequest::parse(&body)
        })?;
        let Begun {
            route,
            mut admitted,
            mut rec,
            ..
        } = self.begin(
            ctx,
            RecordKind::Embedding,
            &req.model,
            Ask {
                prompt_tokens: || {
                    req.texts.iter().map(|t| tokens::count(t)).sum::<u64>() + req.pretokenized
                },
                bound: PromptBound::of_bytes(body.len()),
                max_output: Some(0),
            },
        )?;
        let needs = tokens::Demand {
            body_len: body.len(),
            max_output: None,
            stream: false,
            tools: false,
            vision: false,
            json_schema: false,
        }
        .needs(&route, || {
            req.texts
                .iter()
                .map(|t| tokens::count(t))
                .max()
                .unwrap_or(0)
        });
        let success = match route.execute(Payload::Embedding(&req), &needs).await {
            Ok(s) => s,
            Err(ex) => return Err(self.fail(rec, &route.name, ex, ctx)),
        };
        let (target, upstream) = self.accept(&route, &success, &mut rec);
        let ResponseBody::Full(bytes) = success.response.body else {
            return Err(self.fail_stream_on_embeddings(rec, &route.name, ctx));
        };
        let (usage, estimated) = match usage_of(&bytes) {
            Some(u) => (u.to_tokens(), false),
            None => {
                let n = req.texts.iter().map(|t| tokens::count(t)).sum::<u64>() + req.pretokenized;
                (
                    TokenUsage {
                        input: n,
                        ..Default::default()
                    },
                    true,
                )
            }
        };
        let latency = ctx.received.elapsed();
        let overhead = latency.saturating_sub(upstream);
        let priced = record::complete(
            &mut rec,
            target.meta.pricing.as_deref(),
            Outcome {
                usage,
                estimated,
                latency,
                ttft: None,
                overhead,
            },
        );
        admitted.settle(priced.as_ref().map(|p| p.cost), usage.total());
        let meta = ReplyMeta {
            route: route.name.clone(),
            provider: target.provider.name().to_string(),
            model: target.model.clone(),
            overhead,
            cost: priced.map(|p| p.cost),
            dropped: success.response.dropped.clone(),
            limits: KeyLimits::of(&admitted),
        };
        self.inner.recorder.record(rec);
        Ok(Reply {
            status: success.response.status,
            content_type: success.response.content_type,
            meta,
            body: ReplyBody::Full(bytes),
        })
    }

    /// Checks the caller's attribution (workload, tag keys), then parses the body; either
    /// refusal is recorded and returned as a 400 naming the header or field.
    pub(crate) fn parse<T>(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        parse: impl FnOnce() -> Result<T, switchyard_protocol::FieldError>,
    ) -> Result<T, GatewayError> {
        crate::attribution::check(ctx)
            .and_then(|()| parse())
            .map_err(|e| self.reject(ctx, kind, None, GatewayError::InvalidRequest(e)))
    }

    /// Records a request refused before routing (bad body, unknown route, too large, …).
    pub fn reject(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        route: Option<&str>,
        err: GatewayError,
    ) -> GatewayError {
        let mut rec = record::draft(ctx, route.unwrap_or(""), kind);
        rec.status = err.status();
        rec.error_class = Some(err.class().to_string());
        rec.latency_ms = ctx.received.elapsed().as_secs_f64() * 1000.0;
        rec.overhead_us = ctx.received.elapsed().as_micros() as u64;
        self.inner.recorder.record(rec);
        err
    }

    /// The steps every model call shares before the upstream: the route, the caller's
    /// admission (route allowed, limits, the worst case reserved), evaluation sampling (chats
    /// only) and the record's draft.
    pub(crate) fn begin(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        model: &str,
        ask: Ask<impl FnOnce() -> u64>,
    ) -> Result<Begun, GatewayError> {
        let route = self.resolve(ctx, kind, model)?;
        let admitted = self.admit(ctx, kind, &route, ask)?;
        let eval = match kind {
            RecordKind::Chat => self.sample(&route.name, ctx),
            _ => None,
        };
        Ok(Begun {
            limits: KeyLimits::of(&admitted),
            rec: self.draft(ctx, &route, kind),
            route,
            admitted,
            eval,
        })
    }

    pub(crate) fn resolve(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        name: &str,
    ) -> Result<Arc<Route<TargetMeta>>, GatewayError> {
        if !self.is_ready() {
            return Err(self.reject(ctx, kind, Some(name), GatewayError::ShuttingDown));
        }
        let live = self.live();
        match live.routes.get(name) {
            Some(r) => Ok(r.clone()),
            None => {
                let err = GatewayError::UnknownRoute {
                    requested: crate::attribution::recorded(name),
                    available: live.routes.names().to_vec(),
                };
                Err(self.reject(ctx, kind, Some(name), err))
            }
        }
    }

    /// A record for `route`, its workload defaulting to the route's.
    pub(crate) fn draft(
        &self,
        ctx: &RequestContext,
        route: &Route<TargetMeta>,
        kind: RecordKind,
    ) -> Record {
        let mut rec = record::draft(ctx, &route.name, kind);
        if rec.workload.is_none() {
            rec.workload = self
                .live()
                .route_meta
                .get(&route.name)
                .and_then(|m| m.workload.clone());
        }
        rec
    }

    /// Notes the answering target in the record; returns it and the total upstream time.
    pub(crate) fn accept<'r>(
        &self,
        route: &'r Route<TargetMeta>,
        s: &Success,
        rec: &mut Record,
    ) -> (&'r switchyard_router::Target<TargetMeta>, Duration) {
        let target = &route.targets[s.target];
        rec.provider = Some(target.provider.name().to_string());
        rec.model = Some(target.model.clone());
        rec.attempts = record::attempts(&s.attempts);
        (target, record::upstream_time(&s.attempts) + s.waited)
    }

    /// Maps an exhausted route to the client's error and records it.
    pub(crate) fn fail(
        &self,
        mut rec: Record,
        route: &str,
        ex: Exhausted,
        ctx: &RequestContext,
    ) -> GatewayError {
        let summary = summarize(&ex);
        let failures: Vec<_> = ex
            .attempts
            .iter()
            .filter_map(|a| a.error.as_ref())
            .collect();
        let err = match &ex.last {
            None if ex.attempts.is_empty() && ex.circuit_open.is_some() => {
                GatewayError::CircuitOpen {
                    route: route.to_string(),
                    retry_after: ex.circuit_open.unwrap_or_default(),
                }
            }
            None if ex.attempts.is_empty() && !ex.skipped.is_empty() => {
                GatewayError::NoTargetFits {
                    route: route.to_string(),
                    too_long: ex
                        .skipped
                        .iter()
                        .all(|s| matches!(s.reason, Skip::ContextWindow { .. })),
                    reasons: switchyard_router::explain_unfit(&ex.skipped),
                }
            }
            Some(last @ ProviderError::Unsupported { .. })
                if ex.attempts.iter().all(|a| {
                    a.error
                        .as_ref()
                        .is_some_and(|e| e.class == ErrorClass::Client)
                }) =>
            {
                GatewayError::UpstreamRejected {
                    route: route.to_string(),
                    status: 400,
                    message: last.to_string(),
                }
            }
            Some(last)
                if !last.is_retryable() && !matches!(last, ProviderError::Unsupported { .. }) =>
            {
                GatewayError::UpstreamRejected {
                    route: route.to_string(),
                    status: last.status().unwrap_or(400),
                    message: match last {
                        switchyard_providers::ProviderError::Status { message, .. } => {
                            format!("The upstream rejected the request: {message}")
                        }
                        other => other.to_string(),
                    },
                }
            }
            _ if !failures.is_empty()
                && failures.iter().all(|f| f.class == ErrorClass::RateLimited) =>
            {
                GatewayError::RateLimited {
                    route: route.to_string(),
                    retry_after: failures
                        .iter()
                        .filter_map(|f| f.retry_after)
                        .min()
                        .unwrap_or(Duration::from_secs(1)),
                    summary,
                }
            }
            _ => GatewayError::UpstreamFailed {
                route: route.to_string(),
                timed_out: !failures.is_empty()
                    && failures.iter().all(|f| f.class == ErrorClass::Timeout),
                summary,
            },
        };
        if let Some(a) = ex.attempts.last() {
            rec.provider = Some(a.provider.clone());
            rec.model = Some(a.model.clone());
        }
        rec.attempts = record::attempts(&ex.attempts);
        rec.status = err.status();
        rec.error_class = Some(err.class().to_string());
        rec.latency_ms = ctx.received.elapsed().as_secs_f64() * 1000.0;
        rec.overhead_us = ctx
            .received
            .elapsed()
            .saturating_sub(record::upstream_time(&ex.attempts) + ex.waited)
            .as_micros() as u64;
        self.inner.recorder.record(rec);
        err
    }

    fn fail_stream_on_embeddings(
        &self,
        mut rec: Record,
        route: &str,
        ctx: &RequestContext,
    ) -> GatewayError {
        let err = GatewayError::UpstreamFailed {
            route: route.to_string(),
            timed_out: false,
            summary: "the upstream streamed an embeddings answer".into(),
        };
        rec.status = err.status();
        rec.error_class = Some(err.class().to_string());
        rec.latency_ms = ctx.received.elapsed().as_secs_f64() * 1000.0;
        self.inner.recorder.record(rec);
        err
    }
}

impl Gateway {
    /// Asks the route's observer, before the upstream call, whether this request is sampled;
    /// `None` (the usual case) costs one map lookup. Evaluation traffic is never observed.
    fn sample(&self, route: &str, ctx: &RequestContext) -> Option<Box<dyn Observation>> {
        if ctx.shadow {
            return None;
        }
        let live = self.live();
        let meta = live.route_meta.get(route)?;
        // The workload the ledger will record: the caller's (key or header), else the route's.
        let workload = ctx.workload.as_deref().or(meta.workload.as_deref());
        meta.observer.as_ref()?.sample(ctx, workload)
    }
}

/// The stream tee's hook into the observer, when this request was sampled.
pub(crate) fn on_finish(
    plan: Option<Box<dyn Observation>>,
    dialect: Dialect,
    body: &Bytes,
) -> Option<crate::stream::OnFinish> {
    let plan = plan?;
    let body = body.clone();
    Some(Box::new(
        move |rec: &Record, output: switchyard_eval::Output| {
            let answer = observe::Answer {
                dialect,
                body,
                output: observe::Output::Streamed(output),
            };
            plan.finished(answer, rec);
        },
    ))
}

/// `provider/model: what happened` for each attempt.
fn summarize(ex: &Exhausted) -> String {
    if ex.attempts.is_empty() {
        return "the route has no usable target; check its providers in the config".into();
    }
    ex.attempts
        .iter()
        .map(|a| {
            let what = a
                .error
                .as_ref()
                .map_or("ok".to_string(), |e| match e.class {
                    ErrorClass::Auth => {
                        format!("{} (check this provider's api_key_env)", e.message)
                    }
                    _ => e.message.clone(),
                });
            format!("{}/{}: {what}", a.provider, a.model)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Usage of a whole answer whose upstream reported none.
fn estimate_chat(req: &ChatRequest<'_>, response: &[u8]) -> TokenUsage {
    TokenUsage {
        input: tokens::count_chat_prompt(req.messages.len(), req.prompt_texts()),
        output: tokens::count(&completion_text(response)),
        ..Default::default()
    }
}
