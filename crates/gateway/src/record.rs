//! Building the ledger record of one request.

use crate::TargetMeta;
use crate::attribution::{recorded, recorded_tags};
use crate::reply::RequestContext;
use std::sync::Arc;
use std::time::Duration;
use switchyard_catalog::{ModelEntry, Priced};
use switchyard_ledger::{Attempt, AttemptOutcome, Record, RecordKind};
use switchyard_primitives::TokenUsage;
use switchyard_providers::ErrorClass;
use switchyard_router::{AttemptLog, Route, Strategy};

/// A record with identity and attribution filled in; usage and outcome come later.
///
/// `route` may be the name a client asked for (an unknown route): it and every other
/// client-supplied string are bounded and escaped here, so no record holds more than a few
/// hundred bytes of them, whatever the request carried.
pub fn draft(ctx: &RequestContext, route: &str, kind: RecordKind) -> Record {
    Record {
        request_id: ctx.request_id.to_string(),
        ts: ctx.received_at,
        kind,
        workload: ctx.workload.as_deref().map(recorded),
        tags: recorded_tags(&ctx.tags),
        key_id: ctx.key_id.clone(),
        // A key's team wins (once keys exist); until then the caller's `team=` tag attributes it.
        team: ctx
            .team
            .as_deref()
            .or_else(|| {
                ctx.tags
                    .iter()
                    .find(|(k, _)| k == "team")
                    .map(|(_, v)| v.as_str())
            })
            .map(recorded),
        route: recorded(route),
        provider: None,
        model: None,
        attempts: Vec::new(),
        status: 200,
        error_class: None,
        streamed: false,
        shadow: ctx.shadow,
        features: String::new(),
        usage: TokenUsage::default(),
        cost_usd: None,
        price_version: None,
        latency_ms: 0.0,
        ttft_ms: None,
        overhead_us: 0,
        usage_estimated: false,
        request_count: 1,
        source: switchyard_ledger::GATEWAY_SOURCE.to_string(),
        prefix: None,
        cascade: None,
        cache: ctx
            .partial_saving
            .map(|_| switchyard_ledger::CACHE_EXACT.to_string()),
        saved_usd: ctx.partial_saving,
        batch: ctx.batch,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

pub(crate) fn attempts(logs: &[AttemptLog]) -> Vec<Attempt> {
    logs.iter()
        .map(|a| Attempt {
            provider: a.provider.clone(),
            model: a.model.clone(),
            outcome: a
                .error
                .as_ref()
                .map_or(AttemptOutcome::Ok, |e| outcome(e.class)),
            status: a.error.as_ref().map_or(Some(200), |e| e.status),
            latency_ms: a.elapsed.as_millis() as u64,
            error: a.error.as_ref().map(|e| e.message.clone()),
        })
        .collect()
}

fn outcome(c: ErrorClass) -> AttemptOutcome {
    match c {
        ErrorClass::Connect => AttemptOutcome::Connect,
        ErrorClass::Reset => AttemptOutcome::Reset,
        ErrorClass::Timeout => AttemptOutcome::Timeout,
        ErrorClass::RateLimited => AttemptOutcome::RateLimited,
        ErrorClass::Server | ErrorClass::Auth => AttemptOutcome::ServerError,
        ErrorClass::Client => AttemptOutcome::ClientError,
        ErrorClass::Stream => AttemptOutcome::StreamError,
    }
}

/// Time spent waiting on upstreams, across every attempt.
pub(crate) fn upstream_time(logs: &[AttemptLog]) -> Duration {
    logs.iter().map(|a| a.elapsed).sum()
}

/// Usage, its price, and timings: everything known once the answer is complete.
pub struct Outcome {
    pub usage: TokenUsage,
    pub estimated: bool,
    pub latency: Duration,
    pub ttft: Option<Duration>,
    pub overhead: Duration,
}

pub fn complete(rec: &mut Record, pricing: Option<&ModelEntry>, o: Outcome) -> Option<Priced> {
    let priced = pricing.map(|m| m.cost_at(&o.usage, rec.ts));
    rec.usage = o.usage;
    rec.usage_estimated = o.estimated;
    rec.latency_ms = o.latency.as_secs_f64() * 1000.0;
    rec.ttft_ms = o.ttft.map(|t| t.as_secs_f64() * 1000.0);
    rec.overhead_us = o.overhead.as_micros() as u64;
    if let Some(p) = &priced {
        rec.cost_usd = Some(p.cost);
        rec.price_version = Some(p.price_version.clone());
    }
    priced
}

/// The price list the routing lever compares against: the route's baseline target, its first
/// configured one (where the route would send a request without a strategy reordering its
/// targets), on a route whose strategy orders by cost (`lowest-cost`). `None` for every other
/// strategy: `fallback` always starts at the baseline (a later target answers only after a
/// failure, which is resilience, not a saving), `weighted` and `least-latency` pick for a
/// traffic split or for speed, and a cascade's baseline is its own lever (its top tier).
pub(crate) fn routing_baseline(route: &Route<TargetMeta>) -> Option<Arc<ModelEntry>> {
    if !matches!(route.strategy, Strategy::LowestCost) {
        return None;
    }
    route.targets.first()?.meta.pricing.clone()
}

/// Prices the completed record's usage at the baseline (`Record::routing_baseline_usd`), at
/// the catalog in force at the request, when the answer itself was priced and no cache
/// served it: the routing lever is this minus `cost_usd`.
pub(crate) fn price_baseline(rec: &mut Record, baseline: Option<&ModelEntry>) {
    if rec.cost_usd.is_none() || rec.cache.is_some() {
        return;
    }
    rec.routing_baseline_usd = baseline.map(|m| m.cost_at(&rec.usage, rec.ts).cost);
}
