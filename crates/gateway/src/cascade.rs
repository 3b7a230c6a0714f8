//! Cascade routing (`strategy = "cascade"`): the execute stage for a cascade route.
//!
//! The route's targets are tiers, cheapest first (or in config order). Each tier is asked in
//! turn (`Route::execute_tier`: its retries, timeouts and breaker); a tier's answer is read
//! in its dialect and checked by the route's checks ([`checks`]); an answer that fails one,
//! or a tier that fails outright, sends the request to the next tier. The last tier's answer
//! is returned whatever the checks say (there is nothing better to give).
//!
//! One ledger record per client request: its `attempts` list every tier (an answer that
//! failed a check is `escalated`, with the check's detail), its usage and `cost_usd` are the
//! totals over the tiers asked (what was paid, and what the budget is charged), and its
//! `cascade` mark holds the answering tier and the top tier's price of the answer
//! ([`fold`]). Streamed requests are refused with a 400 (an answer must be whole to be
//! checked; buffering a stream would hide its first token behind every tier).
//! Must never know how a codec renders the answer.

mod checks;

pub use checks::CascadePolicy;
pub(crate) use checks::RawCascade;

use crate::error::GatewayError;
use crate::pipeline::{Call, RequestContext};
use crate::unfinished::Unfinished;
use crate::{Gateway, TargetMeta};
use std::sync::Arc;
use std::time::Duration;
use switchyard_catalog::ModelEntry;
use switchyard_eval::{Output, ToolCall};
use switchyard_ledger::{AttemptOutcome, CascadeMark, Record};
use switchyard_primitives::{Money, TokenUsage};
use switchyard_protocol::{FieldError, canonical::Block};
use switchyard_providers::{Dialect, ProviderResponse, ResponseBody};
use switchyard_router::{AttemptLog, Route, Strategy, Success};

/// Validates a route's `[routes.cascade]` against its strategy; sets the strategy's order.
pub(crate) fn configure(
    path: &str,
    raw: Option<RawCascade>,
    strategy: &mut Strategy,
    targets: usize,
) -> Result<Option<Arc<CascadePolicy>>, Vec<(String, String)>> {
    let is_cascade = matches!(strategy, Strategy::Cascade { .. });
    let mut problems = Vec::new();
    let policy = checks::validate(&format!("{path}.cascade"), raw, is_cascade, &mut problems);
    if is_cascade && targets < 2 {
        let message = "a cascade needs at least two targets: a cheap one to try first and a stronger one to escalate to";
        problems.push((format!("{path}.targets"), message.to_owned()));
    }
    if let Some(p) = &policy {
        *strategy = Strategy::Cascade {
            config_order: p.config_order,
        };
    }
    if problems.is_empty() {
        Ok(policy.map(Arc::new))
    } else {
        Err(problems)
    }
}

/// What the tiers before the answering one left: for the record, the budget and the header.
pub(crate) struct Trail {
    /// The answering tier, from 1.
    pub tier: u32,
    /// Usage and cost of the tiers that answered and escalated.
    spent: TokenUsage,
    spent_usd: Money,
    /// Indices into the final attempt list of the escalated answers, and why.
    escalations: Vec<(usize, String)>,
    /// The top tier's prices, for "always the top tier".
    top: Option<Arc<ModelEntry>>,
}

impl Trail {
    pub(crate) fn spent_tokens(&self) -> u64 {
        self.spent.total()
    }
}

impl Gateway {
    /// The execute stage of a cascade route (see the module doc).
    pub(crate) async fn cascade(
        &self,
        ctx: &RequestContext,
        call: Call<'_>,
        rec: Record,
        policy: &CascadePolicy,
    ) -> Result<(Success, Record, Option<Trail>), GatewayError> {
        let route = call.route;
        if call.needs.stream {
            let message = format!(
                "route `{}` is a cascade: each answer is checked before it is returned, so it cannot be streamed; send the request with \"stream\": false",
                route.name
            );
            let err = GatewayError::InvalidRequest(FieldError::new("stream", message));
            return Err(self.reject(ctx, rec.kind, Some(&route.name), err));
        }
        let tiers = route.tiers(call.needs);
        let Some(&top) = tiers.last() else {
            // Nothing fits: the plain path explains why, target by target.
            let (success, rec) = self.execute(ctx, call, rec).await?;
            return Ok((success, rec, None));
        };
        let mut trail = Trail {
            tier: 1,
            spent: TokenUsage::default(),
            spent_usd: Money::ZERO,
            escalations: Vec::new(),
            top: route.targets[top].meta.pricing.clone(),
        };
        let mut logs: Vec<AttemptLog> = Vec::new();
        let mut waited = Duration::ZERO;
        let unfinished = Unfinished::new(rec, &self.inner.recorder, ctx.received);
        for (n, &idx) in tiers.iter().enumerate() {
            let last = idx == top;
            match route.execute_tier(idx, call.payload, call.needs).await {
                Ok(mut success) => {
                    waited += success.waited;
                    let failed = (!last).then(|| policy.failure(&output(&success.response)));
                    if let Some(Some(why)) = failed {
                        logs.append(&mut success.attempts);
                        let usage = usage(&success.response, call.needs.prompt_tokens);
                        let cost = price(route, idx, &usage, ctx);
                        trail.charge(usage, cost);
                        let cost_note = cost.map_or_else(String::new, |c| format!("; cost {c}"));
                        trail
                            .escalations
                            .push((logs.len() - 1, format!("{why}{cost_note}")));
                        continue;
                    }
                    logs.append(&mut success.attempts);
                    success.attempts = logs;
                    success.waited = waited;
                    trail.tier = n as u32 + 1;
                    return Ok((success, unfinished.disarm(), Some(trail)));
                }
                Err(mut ex) if last => {
                    logs.append(&mut ex.attempts);
                    ex.attempts = logs;
                    ex.waited += waited;
                    let rec = unfinished.disarm();
                    let (err, mut rec) = crate::failure::fail(rec, &route.name, ex, ctx);
                    rec.cost_usd = (trail.spent_usd > Money::ZERO).then_some(trail.spent_usd);
                    rec.usage = trail.spent;
                    self.inner.recorder.record(rec);
                    return Err(err);
                }
                Err(mut ex) => {
                    waited += ex.waited;
                    logs.append(&mut ex.attempts);
                }
            }
        }
        // Unreachable: the top tier is the last of `tiers` and returns above either way.
        let err = GatewayError::UpstreamFailed {
            route: route.name.clone(),
            timed_out: false,
            summary: "no cascade tier answered".into(),
        };
        Err(err)
    }
}

impl Trail {
    fn charge(&mut self, usage: TokenUsage, cost: Option<Money>) {
        self.spent = add(self.spent, usage);
        self.spent_usd += cost.unwrap_or(Money::ZERO);
    }
}

/// Folds the escalated tiers into the answering tier's completed record: totals, attempt
/// outcomes, the cascade mark. Returns the total cost, which the budget is charged.
pub(crate) fn fold(rec: &mut Record, trail: Trail, answered: Option<Money>) -> Option<Money> {
    let baseline_usd = trail
        .top
        .as_ref()
        .map(|m| m.cost_at(&rec.usage, rec.ts).cost);
    rec.usage = add(rec.usage, trail.spent);
    let total = answered.map(|c| c + trail.spent_usd);
    rec.cost_usd = total;
    for (i, why) in trail.escalations {
        if let Some(a) = rec.attempts.get_mut(i) {
            a.outcome = AttemptOutcome::Escalated;
            a.error = Some(why);
        }
    }
    rec.cascade = Some(CascadeMark {
        tier: trail.tier,
        baseline_usd,
    });
    total
}

fn add(a: TokenUsage, b: TokenUsage) -> TokenUsage {
    TokenUsage {
        input: a.input + b.input,
        cached_input: a.cached_input + b.cached_input,
        cache_write: a.cache_write + b.cache_write,
        cache_write_1h: a.cache_write_1h + b.cache_write_1h,
        output: a.output + b.output,
        reasoning: a.reasoning + b.reasoning,
    }
}

fn price(
    route: &Route<TargetMeta>,
    idx: usize,
    usage: &TokenUsage,
    ctx: &RequestContext,
) -> Option<Money> {
    let pricing = route.targets[idx].meta.pricing.as_ref()?;
    Some(pricing.cost_at(usage, ctx.received_at).cost)
}

/// What a tier answered, in its dialect: text and tool calls.
fn output(response: &ProviderResponse) -> Output {
    let ResponseBody::Full(body) = &response.body else {
        return Output::default();
    };
    match response.dialect {
        Dialect::Anthropic => {
            let Ok(answer) = switchyard_protocol::anthropic::parse_response(body) else {
                return Output::default();
            };
            let mut out = Output::default();
            for block in answer.content {
                match block {
                    Block::Text { text, .. } => out.text.push_str(&text),
                    Block::ToolUse { name, input, .. } => {
                        let args = serde_json::from_str(input.get()).unwrap_or_default();
                        out.tool_calls.push(ToolCall::new(name, args));
                    }
                    _ => {}
                }
            }
            out
        }
        _ => serde_json::from_slice(body)
            .map(|v| Output::from_openai_response(&v))
            .unwrap_or_default(),
    }
}

/// A tier's usage as its upstream reported it, else estimated (the prompt as the fit check
/// counted it, the output tokenised).
fn usage(response: &ProviderResponse, prompt_tokens: u64) -> TokenUsage {
    if let ResponseBody::Full(body) = &response.body {
        let reported = match response.dialect {
            Dialect::Anthropic => {
                switchyard_protocol::anthropic::usage_of(body).map(|u| u.to_tokens())
            }
            _ => switchyard_protocol::openai::usage_of(body).map(|u| u.to_tokens()),
        };
        if let Some(u) = reported {
            return u;
        }
    }
    TokenUsage {
        input: prompt_tokens,
        output: crate::tokens::count(&output(response).text),
        ..TokenUsage::default()
    }
}
