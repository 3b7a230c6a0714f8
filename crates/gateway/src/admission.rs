//! Admission on the request path: the route check, the demand (worst case and the prompt
//! tokens a `tpm` limit counts), and the decision, by the in-process [`Governor`] or, with
//! `[fleet]`, by the shared counters in Redis (`switchyard_governance::Fleet`), which the
//! pipeline awaits after its synchronous stages ([`Gateway::admit_deferring`] then
//! [`Gateway::admit_shared`]). Refusals become the caller's 403/429 (503 when the fleet fails
//! closed).
//!
//! [`Governor`]: switchyard_governance::Governor

use crate::error::GatewayError;
use crate::governance::{Admitted, Ask, Caller, tpm_prompt};
use crate::pipeline::RequestContext;
use crate::reserve::worst_case_cost;
use crate::{Gateway, TargetMeta};
use chrono::Utc;
use std::time::Duration;
use switchyard_governance::{Admission, Demand, Denied, KeyHandle};
use switchyard_ledger::RecordKind;
use switchyard_router::Route;

/// Where a request is being admitted: its context, kind and route (for the refusal's record).
#[derive(Clone, Copy)]
pub(crate) struct Door<'a> {
    pub(crate) ctx: &'a RequestContext,
    pub(crate) kind: RecordKind,
    pub(crate) route: &'a Route<TargetMeta>,
}

impl Gateway {
    /// The route check and the admission: 403 for a route the key may not use, 429 when a
    /// rate limit or hard budget refuses. The worst case reserved is the prompt's upper bound
    /// plus the output limit (`max_tokens`, else the largest catalog output limit among the
    /// route's targets, else 4,096) at the dearest target's list prices (a cascade: every
    /// tier's, plus its judge checks' worst case). Always in-process
    /// (batch lines for a provider's batch API and cache hits, whose callers cannot wait on
    /// Redis, use this even with `[fleet]`).
    pub(crate) fn admit(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        route: &Route<TargetMeta>,
        ask: Ask<impl FnOnce() -> u64>,
    ) -> Result<Admitted, GatewayError> {
        let Some((key, demand)) = self.demand_for(ctx, kind, route, ask)? else {
            return Ok(Admitted::default());
        };
        let decided = self.governance().governor.admit(key, Utc::now(), demand);
        self.admission(Door { ctx, kind, route }, key, decided)
    }

    /// [`admit`](Self::admit), except that with `[fleet]` the decision is left to
    /// [`admit_shared`](Self::admit_shared) (the pipeline awaits it): `Admitted::pending`
    /// carries the demand there.
    pub(crate) fn admit_deferring(
        &self,
        ctx: &RequestContext,
        kind: RecordKind,
        route: &Route<TargetMeta>,
        ask: Ask<impl FnOnce() -> u64>,
    ) -> Result<Admitted, GatewayError> {
        if self.governance().fleet.is_none() {
            return self.admit(ctx, kind, route, ask);
        }
        let pending = self.demand_for(ctx, kind, route, ask)?;
        Ok(Admitted {
            pending: pending.map(|(_, demand)| demand),
            ..Admitted::default()
        })
    }

    /// The caller's key and what the request may cost, after the route check; `None` for a
    /// caller without a key (an open gateway, the master key).
    fn demand_for<'c>(
        &self,
        ctx: &'c RequestContext,
        kind: RecordKind,
        route: &Route<TargetMeta>,
        ask: Ask<impl FnOnce() -> u64>,
    ) -> Result<Option<(&'c KeyHandle, Demand)>, GatewayError> {
        let Caller::Key(key) = &ctx.caller else {
            return Ok(None);
        };
        if !key.allows_route(&route.name) {
            let allowed = &key.info().spec.allowed_routes;
            let err = GatewayError::Forbidden {
                message: format!(
                    "This key may not use route {:?}; it may use: {}.",
                    route.name,
                    allowed.join(", ")
                ),
            };
            return Err(self.reject(ctx, kind, Some(&route.name), err));
        }
        // A cascade's judge checks are paid by the caller too: their worst case is held.
        let judges = self.judges_worst_case(route, ask.bound.body_bytes);
        let mut demand = demand_of(key, route, ask);
        demand.worst_case_usd += judges;
        Ok(Some((key, demand)))
    }

    /// A governor's or the fleet's decision as the request's admission or its refusal.
    pub(crate) fn admission(
        &self,
        Door { ctx, kind, route }: Door<'_>,
        key: &KeyHandle,
        decided: Result<Admission, Denied>,
    ) -> Result<Admitted, GatewayError> {
        match decided {
            Ok(a) => {
                for w in &a.warnings {
                    tracing::warn!(key_id = %key.id(), route = %route.name, "soft budget: {w}");
                }
                Ok(Admitted {
                    reservation: Some(a.reservation),
                    budget_remaining: a.remaining_budget_usd,
                    requests_remaining: a.remaining_requests,
                    tokens_remaining: a.remaining_tokens,
                    warnings: a.warnings,
                    pending: None,
                })
            }
            Err(d) => {
                let (retry_after, code) = match &d {
                    Denied::RateLimited { retry_after, .. } => {
                        (*retry_after, "rate_limit_exceeded")
                    }
                    Denied::TooLarge { .. } => (Duration::from_secs(60), "rate_limit_exceeded"),
                    Denied::Budget { retry_after, .. } => (*retry_after, "budget_exceeded"),
                    Denied::Unavailable { retry_after } => (*retry_after, "governance_unavailable"),
                };
                let err = GatewayError::KeyLimited {
                    message: format!("Key {}: {d}.", key.id()),
                    retry_after,
                    code,
                };
                Err(self.reject(ctx, kind, Some(&route.name), err))
            }
        }
    }
}

/// What a request may cost: the prompt tokens its `tpm` limit counts (exactly only near the
/// edge) and its worst case (see [`Gateway::admit`]).
fn demand_of(key: &KeyHandle, route: &Route<TargetMeta>, ask: Ask<impl FnOnce() -> u64>) -> Demand {
    let Ask {
        prompt_tokens,
        bound,
        max_output,
    } = ask;
    // Budgets reserve the byte bound; the tpm limit counts exactly only near its edge.
    let prompt = tpm_prompt(key.token_headroom(Utc::now()), &bound, prompt_tokens);
    let output = max_output
        .or_else(|| {
            route
                .targets
                .iter()
                .filter_map(|t| t.profile.max_output)
                .max()
        })
        .unwrap_or(4_096);
    Demand {
        prompt_tokens: prompt,
        worst_case_usd: worst_case_cost(route, &bound, output),
    }
}
