//! Cascade `judge` checks: a judge route rates a tier's answer by the check's rubric, asked
//! in-process through the gateway (`crate::judge`, the machinery the semantic cache's shadow
//! mode uses), after every free check passed.
//!
//! - **Ledger**: each judge call is a record of its own on the judge route, attributed to the
//!   client's key and team, tagged `switchyard=cascade-judge` and `cascade=<route>`.
//! - **Budget**: the client pays. The judge call itself is not admitted again (the caller
//!   already was, and the key need not list the judge route); the cascade's admission holds
//!   the judges' worst case ([`Gateway::judges_worst_case`]) and its settlement charges what
//!   they cost on top of the tiers.
//! - **Verdict**: a score at or above the threshold passes; below it, the answer escalates. A
//!   judge that fails, or whose verdict cannot be read, escalates too: the safe side for
//!   quality (an unjudged cheap answer is never served as if it had passed).
//!
//! Must never know how a codec renders the answer.

use super::{CascadePolicy, Checking, Trail};
use crate::config::ConfigError;
use crate::judge::{ANSWER_BYTES, MAX_TOKENS, PROMPT_FRAME_BYTES, Rubric};
use crate::pipeline::RequestContext;
use crate::reserve::{PromptBound, worst_case_cost};
use crate::{Gateway, TargetMeta};
use switchyard_primitives::Money;
use switchyard_protocol::canonical::{self, Block};
use switchyard_protocol::openai::{Content, Role};
use switchyard_providers::Payload;
use switchyard_router::{Route, Strategy};

impl Gateway {
    /// The first of the policy's judge checks that fails `answer` (or could not be made), or
    /// `None` when every judge passes it. What each judge cost joins `trail`.
    pub(super) async fn judge_tier(
        &self,
        at: &Checking<'_, '_>,
        answer: &str,
        trail: &mut Trail,
    ) -> Option<String> {
        let (ctx, route) = (at.ctx, at.call.route.name.as_str());
        let question = question(&at.call.payload);
        for check in at.policy.judges() {
            let rubric = Rubric {
                route: &check.route,
                rubric: &check.rubric,
                threshold: check.threshold,
            };
            let (rated, judged) = self
                .rate(judge_context(ctx, route), &rubric, &question, answer)
                .await;
            if let Some(j) = judged {
                trail.judged_usd += j.cost.unwrap_or(Money::ZERO);
                trail.judged_tokens += j.tokens;
            }
            let pass = check.threshold;
            match rated {
                Ok(r) if r.passed => {}
                Ok(r) => {
                    return Some(format!(
                        "judge: {:.2}, below {pass} ({}): {}",
                        r.score, check.route, r.reason
                    ));
                }
                Err(e) => {
                    return Some(format!(
                        "judge: no verdict from {} ({e}); escalated to be safe",
                        check.route
                    ));
                }
            }
        }
        None
    }

    /// The most the judge checks of cascade `route` can bill for one request whose body is
    /// `body_bytes` long: every judge once for each tier below the top, each prompt bounded by
    /// the body (the question is part of it), the rubric, the prompt's frame and the clipped
    /// answer, and [`MAX_TOKENS`] out, at the judge route's dearest rates. Zero for a route
    /// without judges.
    pub(crate) fn judges_worst_case(&self, route: &Route<TargetMeta>, body_bytes: u64) -> Money {
        if !matches!(route.strategy, Strategy::Cascade { .. }) {
            return Money::ZERO;
        }
        let live = self.live();
        let Some(policy) = live
            .route_meta
            .get(&route.name)
            .and_then(|m| m.cascade.clone())
        else {
            return Money::ZERO;
        };
        let judged_tiers = route.targets.len().saturating_sub(1) as u64;
        let mut total = Money::ZERO;
        for check in policy.judges() {
            let Some(judge) = live.routes.get(&check.route) else {
                continue;
            };
            let prompt =
                body_bytes + PROMPT_FRAME_BYTES + check.rubric.len() as u64 + ANSWER_BYTES as u64;
            let once = worst_case_cost(judge, &PromptBound::of_bytes(prompt as usize), MAX_TOKENS);
            total += Money(once.0 * rust_decimal::Decimal::from(judged_tiers));
        }
        total
    }
}

/// The judge call's context: the client's attribution (key, team, workload), tagged as a
/// cascade judge of `route`; evaluation or batch traffic when the client's request is.
fn judge_context(ctx: &RequestContext, route: &str) -> RequestContext {
    let tags = vec![
        ("switchyard".to_owned(), "cascade-judge".to_owned()),
        ("cascade".to_owned(), route.to_owned()),
    ];
    let mut j = RequestContext::new(ctx.workload.clone(), tags);
    j.key_id = ctx.key_id.clone();
    j.team = ctx.team.clone().or_else(|| {
        ctx.tags
            .iter()
            .find(|(k, _)| k == "team")
            .map(|(_, v)| v.clone())
    });
    j.shadow = ctx.shadow;
    j.batch = ctx.batch;
    // `caller` stays `Open`: no second admission (see the module doc).
    j
}

/// The text of the request's last user turn: the question a judge reads.
fn question(payload: &Payload<'_>) -> String {
    match payload {
        Payload::Chat(req) => req
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .and_then(|m| m.content.as_ref())
            .map(|c| match c {
                Content::Text(t) => t.to_string(),
                Content::Parts(parts) => parts
                    .iter()
                    .filter_map(|p| p.text.as_deref())
                    .collect::<Vec<_>>()
                    .join("\n"),
            })
            .unwrap_or_default(),
        Payload::Canonical(req) | Payload::Messages { canonical: req, .. } => last_user(req),
        Payload::Responses(r) => last_user(&r.canonical),
        Payload::Embedding(_) => String::new(),
    }
}

fn last_user(req: &canonical::ChatRequest) -> String {
    req.messages
        .iter()
        .rev()
        .find(|t| t.role == canonical::Role::User)
        .map(|t| {
            t.content
                .iter()
                .filter_map(|b| match b {
                    Block::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Config errors only the whole route list shows: a judge route that is not a route of this
/// config, or is itself a cascade (its answer would need judging in turn).
pub(crate) fn check_judge_routes<'a>(
    errs: &mut Vec<ConfigError>,
    routes: impl Iterator<Item = (String, Option<&'a CascadePolicy>)>,
    all: &[(&str, bool)],
) {
    for (path, policy) in routes {
        let Some(policy) = policy else { continue };
        for check in policy.judges() {
            let at = format!("{path}.cascade.checks[{}].route", check.at);
            match all.iter().find(|(name, _)| *name == check.route) {
                None => {
                    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
                    errs.push(ConfigError {
                        path: at,
                        message: format!(
                            "no route is named {:?}: name the route of the judge model (routes: {})",
                            check.route,
                            names.join(", ")
                        ),
                    });
                }
                Some((_, true)) => errs.push(ConfigError {
                    path: at,
                    message: format!(
                        "route {:?} is a cascade itself; a judge route must answer directly (give it a plain strategy)",
                        check.route
                    ),
                }),
                Some((_, false)) => {}
            }
        }
    }
}
