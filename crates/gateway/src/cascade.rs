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
//! `cascade` mark holds the answering tier, the top tier's price of the answer and what the
//! judges cost ([`fold`]). `judge` checks ([`judged`]) call a judge route; their calls are
//! records of their own, and the budget pays for them with the tiers; the mark's
//! `judged_usd` lets the cascade report subtract them from the saving. A cascade whose every
//! tier failed still charges the budget what its escalated tiers and judges cost
//! ([`CascadeFailed`]), and its record is marked too (the top tier, a baseline of zero:
//! always asking the top tier would have failed the same way and been billed nothing), so
//! that spend counts against the cascade's saving. Streamed requests are refused with a 400 (an answer must be whole to be
//! checked; buffering a stream would hide its first token behind every tier).
//! Must never know how a codec renders the answer.

mod checks;
mod judged;

pub use checks::CascadePolicy;
pub(crate) use checks::RawCascade;
pub(crate) use judged::check_judge_routes;

use crate::error::GatewayError;
use crate::pipeline::{Call, RequestContext};
use crate::unfinished::Unfinished;
use crate::{Gateway, TargetMeta};
use std::sync::Arc;
use std::time::Duration;
use switchyard_catalog::ModelEntry;
use switchyard_eval::{Output, ToolCall};
use switchyard_ledger::{AttemptOutcome, CascadeMark, Record, RecordKind};
use switchyard_primitives::{Money, TokenUsage};
use switchyard_protocol::{FieldError, canonical::Block};
use switchyard_providers::{Dialect, ProviderResponse, ResponseBody};
use switchyard_router::{AttemptLog, Exhausted, Route, Strategy, Success};

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
    /// The tier being asked, from 1: in the end the answering (or last failed) one.
    pub tier: u32,
    /// Usage and cost of the tiers that answered and escalated.
    spent: TokenUsage,
    spent_usd: Money,
    /// Indices into the final attempt list of the escalated answers, and why.
    escalations: Vec<(usize, String)>,
    /// The top tier's prices, for "always the top tier".
    top: Option<Arc<ModelEntry>>,
    /// What the judge calls cost: in their own records, but charged to this request's budget.
    judged_usd: Money,
    judged_tokens: u64,
}

impl Trail {
    /// Tokens the budget's settlement adds for the escalated tiers and the judges.
    pub(crate) fn spent_tokens(&self) -> u64 {
        self.spent.total() + self.judged_tokens
    }

    /// What the judge calls cost (not in this request's cost: each has its own record).
    pub(crate) fn judged_usd(&self) -> Money {
        self.judged_usd
    }

    /// The record's `judged_usd`: `None` when no judge was paid.
    fn judged(&self) -> Option<Money> {
        (self.judged_usd > Money::ZERO).then_some(self.judged_usd)
    }
}

/// A cascade that ended in an error: the client's error, and what the budget is still charged
/// (escalated tiers and judges that answered before every tier failed).
pub(crate) struct CascadeFailed {
    pub err: GatewayError,
    pub paid: Option<Money>,
    pub tokens: u64,
}

impl From<GatewayError> for CascadeFailed {
    fn from(err: GatewayError) -> Self {
        CascadeFailed {
            err,
            paid: None,
            tokens: 0,
        }
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
    ) -> Result<(Success, Record, Option<Trail>), CascadeFailed> {
        let route = call.route;
        if call.needs.stream {
            return Err(self.refuse_stream(ctx, rec.kind, &route.name).into());
        }
        let tiers = route.tiers(call.needs);
        let Some(&top) = tiers.last() else {
            // Nothing fits: the plain path explains why, target by target.
            let (success, rec) = self.execute(ctx, call, rec).await?;
            return Ok((success, rec, None));
        };
        let mut run = Run {
            route,
            trail: Trail::new(route.targets[top].meta.pricing.clone()),
            logs: Vec::new(),
            waited: Duration::ZERO,
        };
        // Records the request if the client goes away while a tier is being asked.
        let unfinished = Unfinished::new(rec, &self.inner.recorder, ctx.received);
        for (n, &idx) in tiers.iter().enumerate() {
            run.trail.tier = n as u32 + 1;
            match route.execute_tier(idx, call.payload, call.needs).await {
                Ok(success) => {
                    let checked = match idx != top {
                        true => {
                            let answer = output(&success.response);
                            let at = Checking {
                                ctx,
                                call: &call,
                                policy,
                            };
                            self.check_tier(&at, answer, &mut run.trail).await
                        }
                        false => None,
                    };
                    match checked {
                        Some(why) => run.escalate(success, &why, price_of(&call, idx, ctx)),
                        None => {
                            let success = run.answered(success, n);
                            return Ok((success, unfinished.disarm(), Some(run.trail)));
                        }
                    }
                }
                Err(ex) if idx == top => {
                    return Err(self.cascade_failed(ctx, ex, run, unfinished.disarm()));
                }
                Err(mut ex) => {
                    run.waited += ex.waited;
                    run.logs.append(&mut ex.attempts);
                }
            }
        }
        // Unreachable: the top tier is the last of `tiers` and returns above either way.
        Err(GatewayError::UpstreamFailed {
            route: route.name.clone(),
            timed_out: false,
            summary: "no cascade tier answered".into(),
        }
        .into())
    }

    /// Why a tier's answer escalates: the first free check it fails, else the first judge
    /// that fails it; `None` when it passes them all.
    async fn check_tier(
        &self,
        at: &Checking<'_, '_>,
        answer: Output,
        trail: &mut Trail,
    ) -> Option<String> {
        if let Some(why) = at.policy.failure(&answer) {
            return Some(why);
        }
        at.policy.judges().next()?;
        self.judge_tier(at, &answer.text, trail).await
    }

    fn refuse_stream(&self, ctx: &RequestContext, kind: RecordKind, route: &str) -> GatewayError {
        let message = format!(
            "route `{route}` is a cascade: each answer is checked before it is returned, so it cannot be streamed; send the request with \"stream\": false"
        );
        let err = GatewayError::InvalidRequest(FieldError::new("stream", message));
        self.reject(ctx, kind, Some(route), err)
    }

    /// Every tier failed: one record with every attempt and what the escalated tiers cost.
    fn cascade_failed(
        &self,
        ctx: &RequestContext,
        mut ex: Exhausted,
        mut run: Run<'_>,
        rec: Record,
    ) -> CascadeFailed {
        run.logs.append(&mut ex.attempts);
        ex.attempts = run.logs;
        ex.waited += run.waited;
        let (err, mut rec) = crate::failure::fail(rec, &run.route.name, ex, ctx);
        rec.cost_usd = (run.trail.spent_usd > Money::ZERO).then_some(run.trail.spent_usd);
        rec.usage = run.trail.spent;
        let paid = run.trail.spent_usd + run.trail.judged_usd;
        let tokens = run.trail.spent_tokens();
        // Only a cascade that paid for something before failing moves its saving.
        if paid > Money::ZERO {
            rec.cascade = Some(CascadeMark {
                tier: run.trail.tier,
                baseline_usd: Some(Money::ZERO),
                judged_usd: run.trail.judged(),
            });
        }
        mark_escalations(&mut rec, run.trail.escalations);
        self.inner.recorder.record(rec);
        CascadeFailed {
            err,
            paid: (paid > Money::ZERO).then_some(paid),
            tokens,
        }
    }
}

/// Where a tier's answer is checked: the request, its route and the route's checks.
struct Checking<'a, 'c> {
    ctx: &'a RequestContext,
    call: &'a Call<'c>,
    policy: &'a CascadePolicy,
}

/// The tiers asked so far.
struct Run<'r> {
    route: &'r Route<TargetMeta>,
    trail: Trail,
    logs: Vec<AttemptLog>,
    waited: Duration,
}

impl Run<'_> {
    /// A tier answered but failed a check: its attempts and cost join the trail.
    fn escalate(&mut self, mut success: Success, why: &str, price: Price<'_>) {
        self.waited += success.waited;
        self.logs.append(&mut success.attempts);
        let usage = usage(&success.response, price.prompt_tokens);
        let cost = price.pricing.map(|p| p.cost_at(&usage, price.at).cost);
        self.trail.charge(usage, cost);
        let note = cost.map_or_else(String::new, |c| format!("; cost {c}"));
        self.trail
            .escalations
            .push((self.logs.len().saturating_sub(1), format!("{why}{note}")));
    }

    /// Tier `n` (from 0) gave the answer: it carries every attempt and wait of the cascade.
    fn answered(&mut self, mut success: Success, n: usize) -> Success {
        self.logs.append(&mut success.attempts);
        success.attempts = std::mem::take(&mut self.logs);
        success.waited += self.waited;
        self.trail.tier = n as u32 + 1;
        success
    }
}

/// What prices one tier's answer.
struct Price<'a> {
    pricing: Option<&'a ModelEntry>,
    at: chrono::DateTime<chrono::Utc>,
    prompt_tokens: u64,
}

fn price_of<'a>(call: &'a Call<'_>, idx: usize, ctx: &RequestContext) -> Price<'a> {
    Price {
        pricing: call.route.targets[idx].meta.pricing.as_deref(),
        at: ctx.received_at,
        prompt_tokens: call.needs.prompt_tokens,
    }
}

impl Trail {
    fn new(top: Option<Arc<ModelEntry>>) -> Self {
        Trail {
            tier: 1,
            spent: TokenUsage::default(),
            spent_usd: Money::ZERO,
            escalations: Vec::new(),
            top,
            judged_usd: Money::ZERO,
            judged_tokens: 0,
        }
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
    let judged_usd = trail.judged();
    mark_escalations(rec, trail.escalations);
    rec.cascade = Some(CascadeMark {
        tier: trail.tier,
        baseline_usd,
        judged_usd,
    });
    total
}

fn mark_escalations(rec: &mut Record, escalations: Vec<(usize, String)>) {
    for (i, why) in escalations {
        if let Some(a) = rec.attempts.get_mut(i) {
            a.outcome = AttemptOutcome::Escalated;
            a.error = Some(why);
        }
    }
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

/// What a tier answered, in its dialect: text and tool calls.
fn output(response: &ProviderResponse) -> Output {
    let ResponseBody::Full(body) = &response.body else {
        return Output::default();
    };
    let parsed = match response.dialect {
        Dialect::Anthropic => switchyard_protocol::anthropic::parse_response(body),
        Dialect::Gemini => switchyard_protocol::gemini::parse_response(body),
        _ => {
            return serde_json::from_slice(body)
                .map(|v| Output::from_openai_response(&v))
                .unwrap_or_default();
        }
    };
    let Ok(answer) = parsed else {
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

/// A tier's usage as its upstream reported it, else estimated (the prompt as the fit check
/// counted it, the output tokenised).
fn usage(response: &ProviderResponse, prompt_tokens: u64) -> TokenUsage {
    if let ResponseBody::Full(body) = &response.body {
        let reported = match response.dialect {
            Dialect::Anthropic => {
                switchyard_protocol::anthropic::usage_of(body).map(|u| u.to_tokens())
            }
            Dialect::Gemini => switchyard_protocol::gemini::parse_response(body)
                .ok()
                .map(|a| a.usage),
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
