//! How a route that no target answered becomes the client's error, and its record.

use crate::error::GatewayError;
use crate::record;
use crate::reply::RequestContext;
use std::time::Duration;
use switchyard_ledger::Record;
use switchyard_providers::{ErrorClass, ProviderError};
use switchyard_router::{Exhausted, Skip};

/// Maps an exhausted route to the client's error, and notes the attempts in its record.
pub(crate) fn fail(
    mut rec: Record,
    route: &str,
    ex: Exhausted,
    ctx: &RequestContext,
) -> (GatewayError, Record) {
    let summary = summarize(&ex);
    let failures: Vec<_> = ex
        .attempts
        .iter()
        .filter_map(|a| a.error.as_ref())
        .collect();
    let err = match &ex.last {
        None if ex.attempts.is_empty() && ex.circuit_open.is_some() => GatewayError::CircuitOpen {
            route: route.to_string(),
            retry_after: ex.circuit_open.unwrap_or_default(),
        },
        None if ex.attempts.is_empty() && !ex.skipped.is_empty() => GatewayError::NoTargetFits {
            route: route.to_string(),
            too_long: ex
                .skipped
                .iter()
                .all(|s| matches!(s.reason, Skip::ContextWindow { .. })),
            reasons: switchyard_router::explain_unfit(&ex.skipped),
        },
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
    (err, rec)
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
