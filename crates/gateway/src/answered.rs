//! The stages after a target answered, shared by every codec: price and settle, observe,
//! record; for a stream, the tee's set-up that does the same when it ends.

use crate::cascade::Trail;
use crate::observe::{self, Dialect, Observation};
use crate::record::{self, Outcome};
use crate::reply::{KeyLimits, Reply, ReplyBody, ReplyMeta, RequestContext};
use crate::stages::{Stage, StageTimes};
use crate::stream::TeeSetup;
use crate::{Admitted, Gateway, GatewayError, TargetMeta};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use switchyard_catalog::ModelEntry;
use switchyard_ledger::Record;
use switchyard_primitives::TokenUsage;
use switchyard_router::{Route, Success};

/// A whole answer as the client gets it, and what the observer sees of it.
pub(crate) struct Whole {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub observed: observe::Output,
}

/// Everything known once a target has answered, for whichever way the answer goes back.
pub(crate) struct Answered<'a> {
    gw: &'a Gateway,
    ctx: &'a RequestContext,
    request_body: &'a Bytes,
    rec: Record,
    pricing: Option<Arc<ModelEntry>>,
    /// The route's baseline target's price, on a cost-aware route ([`record::routing_baseline`]).
    baseline: Option<Arc<ModelEntry>>,
    /// Time spent waiting on upstreams.
    upstream: Duration,
    /// The caller's budget hold, settled with the actual cost.
    admitted: Admitted,
    /// The sampled request's observation, and the dialect the observer sees.
    observation: Option<(Dialect, Box<dyn Observation>)>,
    /// The reply's headers; overhead, cost and stage times are filled in at the end.
    meta: ReplyMeta,
    times: StageTimes,
    /// A cascade route's escalated tiers, folded into the record when the answer is priced.
    cascade: Option<Trail>,
    /// A cache miss's write, done once the answer is complete and successful.
    cache: Option<crate::cache::Pending>,
}

/// What the stages before the answer hand to it.
pub(crate) struct Parts<'r> {
    pub route: &'r Route<TargetMeta>,
    pub success: &'r Success,
    pub rec: Record,
    pub admitted: Admitted,
    pub observation: Option<(Dialect, Box<dyn Observation>)>,
    pub times: StageTimes,
    pub cascade: Option<Trail>,
    pub cache: Option<crate::cache::Pending>,
    pub cache_outcome: Option<crate::cache::Outcome>,
}

impl<'a> Answered<'a> {
    /// Notes the answering target in the record; the reply's headers start from it.
    pub(crate) fn new(
        gw: &'a Gateway,
        ctx: &'a RequestContext,
        body: &'a Bytes,
        p: Parts<'_>,
    ) -> Self {
        let Parts {
            route,
            success,
            mut rec,
            admitted,
            observation,
            times,
            cascade,
            cache,
            cache_outcome,
        } = p;
        let target = &route.targets[success.target];
        rec.provider = Some(target.provider.name().to_string());
        rec.model = Some(target.model.clone());
        rec.attempts = record::attempts(&success.attempts);
        let meta = ReplyMeta {
            route: route.name.clone(),
            provider: target.provider.name().to_string(),
            model: target.model.clone(),
            overhead: Duration::ZERO,
            cost: None,
            dropped: success.response.dropped.clone(),
            limits: KeyLimits::of(&admitted),
            stages: times.clone(),
            cascade_tier: cascade.as_ref().map(|t| t.tier),
            cache: cache_outcome,
        };
        Answered {
            gw,
            ctx,
            request_body: body,
            rec,
            pricing: target.meta.pricing.clone(),
            baseline: record::routing_baseline(route),
            upstream: record::upstream_time(&success.attempts) + success.waited,
            admitted,
            observation,
            meta,
            times,
            cascade,
            cache,
        }
    }

    pub(crate) fn route_name(&self) -> &str {
        &self.meta.route
    }

    /// The request's id, as the edge assigned it.
    pub(crate) fn request_id(&self) -> String {
        self.ctx.request_id.to_string()
    }

    /// The codec has read the answer's usage.
    pub(crate) fn mark_usage_read(&mut self) {
        self.times.mark(Stage::ReadUsage);
    }

    /// The codec has rendered the answer in the client's dialect.
    pub(crate) fn mark_rendered(&mut self) {
        self.times.mark(Stage::Render);
    }

    /// The price, settle, observe and record stages of a whole answer; returns the reply.
    pub(crate) fn finish_whole(self, usage: (TokenUsage, bool), whole: Whole) -> Reply {
        let Answered {
            gw,
            ctx,
            request_body,
            mut rec,
            pricing,
            baseline,
            upstream,
            mut admitted,
            observation,
            mut meta,
            mut times,
            cascade,
            cache,
        } = self;
        let latency = ctx.received.elapsed();
        let overhead = latency.saturating_sub(upstream);
        let outcome = Outcome {
            usage: usage.0,
            estimated: usage.1,
            latency,
            ttft: None,
            overhead,
        };
        let priced = record::complete(&mut rec, pricing.as_deref(), outcome);
        record::price_baseline(&mut rec, baseline.as_deref());
        let mut cost = priced.as_ref().map(|p| p.cost);
        let mut tokens = usage.0.total();
        let mut judged = None;
        if let Some(trail) = cascade {
            // Every tier asked, and every judge, is paid for by the caller's budget.
            tokens += trail.spent_tokens();
            judged = Some(trail.judged_usd());
            cost = crate::cascade::fold(&mut rec, trail, cost);
        }
        // The judges' own records carry their cost; the budget is charged it here.
        let charged = match (cost, judged) {
            (Some(c), Some(j)) => Some(c + j),
            (None, Some(j)) if j > switchyard_primitives::Money::ZERO => Some(j),
            (c, _) => c,
        };
        admitted.settle(charged, tokens);
        times.mark(Stage::Settle);
        if let Some(pending) = cache.filter(|_| whole.status == 200) {
            let by = (rec.provider.as_deref(), rec.model.as_deref());
            let by = (by.0.unwrap_or(""), by.1.unwrap_or(""));
            pending.store_whole(&whole.observed, usage.0, by);
        }
        if let Some((dialect, observation)) = observation {
            let answer = observe::Answer {
                dialect,
                body: request_body.clone(),
                output: whole.observed,
            };
            observation.finished(answer, &rec);
            times.mark(Stage::Observe);
        }
        gw.inner.recorder.record(rec);
        times.mark(Stage::Record);
        meta.overhead = overhead;
        meta.cost = cost;
        meta.stages = times;
        Reply {
            status: whole.status,
            content_type: whole.content_type,
            meta,
            body: ReplyBody::Full(whole.body),
        }
    }

    /// A streamed answer: `tee` wraps the upstream stream with the set-up that finishes the
    /// record (price, settle, observe, record) when the stream ends.
    pub(crate) fn stream(self, status: u16, tee: impl FnOnce(TeeSetup) -> ByteStream) -> Reply {
        let overhead = self.ctx.received.elapsed().saturating_sub(self.upstream);
        let (dialect, observation) = match self.observation {
            Some((d, o)) => (Some(d), Some(o)),
            None => (None, None),
        };
        let setup = TeeSetup {
            recorder: self.gw.inner.recorder.clone(),
            record: self.rec,
            pricing: self.pricing,
            baseline: self.baseline,
            request_body: self.request_body.clone(),
            received: self.ctx.received,
            header_overhead: overhead,
            admitted: self.admitted,
            on_finish: dialect.and_then(|d| on_finish(observation, d, self.request_body)),
            cache: self.cache.filter(|_| status == 200),
            trace: self.ctx.trace.clone(),
        };
        let body = tee(setup);
        let mut times = self.times;
        times.mark(Stage::Render);
        let meta = ReplyMeta {
            overhead,
            stages: times,
            ..self.meta
        };
        Reply {
            status,
            content_type: Some("text/event-stream".into()),
            meta,
            body: ReplyBody::Stream(body),
        }
    }

    /// A target's answer the endpoint cannot use: recorded as an upstream failure.
    pub(crate) fn refuse(self, summary: &str) -> GatewayError {
        let err = GatewayError::UpstreamFailed {
            route: self.meta.route.clone(),
            timed_out: false,
            summary: summary.into(),
        };
        let mut rec = self.rec;
        rec.status = err.status();
        rec.error_class = Some(err.class().to_string());
        rec.latency_ms = self.ctx.received.elapsed().as_secs_f64() * 1000.0;
        self.gw.inner.recorder.record(rec);
        err
    }
}

/// Any stream of response bytes (the tee itself, or a dialect translation over it).
pub(crate) type ByteStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send>,
>;

/// The stream tee's hook into the observer, when this request was sampled.
fn on_finish(
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
