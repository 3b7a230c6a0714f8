//! Shadow mode's comparison: would the semantic cache's answer have done as well as the fresh
//! one? Without scorers on the route, *exact equality* of the text and tool calls (free, and
//! never wrong when it says "agreed"). With `[[routes.scorers]]`, the would-be answer must
//! pass **every** scorer, a reference scorer (`exact`, `contains`, `tool-call`, `numeric`
//! without a value of their own) reading the fresh answer as the expected one:
//!
//! - `json-valid`, `json-schema`, `regex`, `contains(-any)`, `not`: on the would-be answer;
//! - `embedding`: cosine of the two answers' embeddings ≥ its `threshold`, embedded by the
//!   scorer's `route` or else by the semantic cache's own embedder;
//! - `judge`: the judge route rates the would-be answer against the rubric (≥ `threshold`),
//!   or, `pairwise`, compares it with the fresh one in both orders (agreed when it is not
//!   worse: a combined score ≥ 0.5).
//!
//! Model calls go through the gateway in-process (`crate::judge`) as evaluation traffic (recorded as shadow
//! spend, tagged `switchyard=semantic-shadow`). A comparison that could not be made (a judge
//! route down, an unreadable verdict) counts as *unscored*, neither agreed nor disagreed.
//! Must never know dialects' wire formats or the engine.

use super::semantic::RouteSemantic;
use super::semantic_config::Embedder;
use crate::Gateway;
use crate::config::ConfigError;
use crate::judge::Rubric;
use crate::reply::RequestContext;
use serde_json::{Value, json};
use switchyard_eval::{
    Expected, Output, Scorer, ScorerSpec, combine_swapped, cosine, judge_prompt, parse_verdict,
};

/// How a route's shadow mode compares answers.
pub(crate) struct Agreement {
    scorers: Vec<Scorer>,
    /// `exact-equality`, or the scorers' kinds joined by `+` (`json-schema+embedding`).
    name: String,
}

/// The default comparison's name in `/v1/status` and the log.
pub(crate) const EXACT_EQUALITY: &str = "exact-equality";

impl Agreement {
    /// Exact equality of text and tool calls.
    pub(crate) fn exact() -> Self {
        Agreement {
            scorers: Vec::new(),
            name: EXACT_EQUALITY.into(),
        }
    }

    /// The route's scorers (`routes[i].scorers`, as JSON); a spec that does not compile is
    /// reported at its path when `problems` is given, and left out.
    pub(crate) fn compile(
        raw: &[Value],
        route_index: usize,
        mut problems: Option<&mut Vec<ConfigError>>,
    ) -> Self {
        let mut scorers = Vec::new();
        for (j, spec) in raw.iter().enumerate() {
            let compiled = serde_json::from_value::<ScorerSpec>(spec.clone())
                .map_err(|e| e.to_string())
                .and_then(|s| s.compile().map_err(|e| e.to_string()));
            match (compiled, problems.as_deref_mut()) {
                (Ok(s), _) => scorers.push(s),
                (Err(message), Some(p)) => p.push(ConfigError {
                    path: format!("routes[{route_index}].scorers[{j}]"),
                    message,
                }),
                (Err(_), None) => {}
            }
        }
        if scorers.is_empty() {
            return Self::exact();
        }
        let name = scorers
            .iter()
            .map(|s| s.spec().kind())
            .collect::<Vec<_>>()
            .join("+");
        Agreement { scorers, name }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

/// The two answers and the question they answer.
pub(crate) struct Sides {
    /// What the semantic cache would have served.
    pub cached: Output,
    /// What the provider answered.
    pub fresh: Output,
    /// The last user turn, for a judge.
    pub question: String,
}

/// Who asked (for the records of the model calls) and which semantic cache compared.
pub(crate) struct Via<'a> {
    pub route: &'a str,
    pub sem: &'a RouteSemantic,
    pub workload: Option<String>,
    pub team: Option<String>,
}

/// One comparison's result: agreed or not, and why (for the log).
pub(crate) struct Verdict {
    pub agreed: bool,
    pub detail: String,
}

impl Gateway {
    /// Compares the two sides; `Err` when a scorer could not decide (unscored).
    pub(crate) async fn agree(
        &self,
        a: &Agreement,
        sides: &Sides,
        via: &Via<'_>,
    ) -> Result<Verdict, String> {
        if a.scorers.is_empty() {
            let agreed = exact_equal(&sides.cached, &sides.fresh);
            let detail = if agreed { "equal" } else { "different" };
            return Ok(Verdict {
                agreed,
                detail: detail.into(),
            });
        }
        let mut details = Vec::with_capacity(a.scorers.len());
        let mut agreed = true;
        for s in &a.scorers {
            let (passed, detail) = self.grade(s, sides, via).await?;
            agreed &= passed;
            details.push(detail);
        }
        Ok(Verdict {
            agreed,
            detail: details.join("; "),
        })
    }

    /// One scorer on the would-be answer: (passed, detail).
    async fn grade(&self, s: &Scorer, d: &Sides, via: &Via<'_>) -> Result<(bool, String), String> {
        let kind = s.spec().kind();
        match s.spec() {
            ScorerSpec::Judge(j) if j.pairwise => {
                let ask = |a: &str, b: &str| judge_prompt(&j.rubric, &d.question, a, b);
                let first = self.ask_judge(
                    shadow_context(via),
                    &j.route,
                    ask(&d.cached.text, &d.fresh.text),
                );
                let first = parse_verdict(&first.await?.text).map_err(|e| e.to_string())?;
                let swapped = self.ask_judge(
                    shadow_context(via),
                    &j.route,
                    ask(&d.fresh.text, &d.cached.text),
                );
                let swapped = parse_verdict(&swapped.await?.text).map_err(|e| e.to_string())?;
                let c = combine_swapped(&first, &swapped);
                Ok((c >= 0.5, format!("judge (pairwise): {c:.2}")))
            }
            ScorerSpec::Judge(j) => {
                let pass = j.threshold.unwrap_or(0.5);
                let rubric = Rubric {
                    route: &j.route,
                    rubric: &j.rubric,
                    threshold: pass,
                };
                let ctx = shadow_context(via);
                let r = self
                    .rate(ctx, &rubric, &d.question, &d.cached.text)
                    .await
                    .0?;
                Ok((r.passed, format!("judge: {:.2} (pass {pass})", r.score)))
            }
            ScorerSpec::Embedding(e) => {
                let texts = [d.cached.text.clone(), d.fresh.text.clone()];
                let v = self.embed_both(via, e.route.as_deref(), texts).await?;
                let c = cosine(&v[0], &v[1]);
                let pass = e.threshold;
                Ok((c >= pass, format!("embedding: cosine {c:.3} (pass {pass})")))
            }
            _ => {
                let expected = if kind == "tool-call" {
                    Expected(json!({ "tool_calls": d.fresh.tool_calls }))
                } else {
                    Expected(Value::String(d.fresh.text.clone()))
                };
                let score = s
                    .score(&d.cached, Some(&expected))
                    .map_err(|e| e.to_string())?;
                Ok((score.passed, format!("{kind}: {}", score.detail)))
            }
        }
    }

    /// Both texts' vectors: through `route` when the scorer names one, else with the
    /// semantic cache's own embedder.
    async fn embed_both(
        &self,
        via: &Via<'_>,
        route: Option<&str>,
        texts: [String; 2],
    ) -> Result<Vec<Vec<f32>>, String> {
        let ctx = shadow_context(via);
        let embedder = match route {
            Some(r) => Embedder::Route(r.to_owned()),
            None => match self.injected_embedder(via.route) {
                Some(e) => return e.embed(&texts).await.map_err(|e| e.to_string()),
                None => via.sem.policy.embedder.clone(),
            },
        };
        let mut out = Vec::with_capacity(2);
        for text in texts {
            let mut v = match &embedder {
                Embedder::Route(r) => self.embed_through(&ctx, r, &text, None).await?,
                Embedder::LocalMiniLm => super::minilm::embed(text).await?,
            };
            out.push(v.pop().ok_or("the embedder returned no vector")?);
        }
        Ok(out)
    }
}

/// Evaluation traffic on behalf of the caller's workload and team.
fn shadow_context(via: &Via<'_>) -> RequestContext {
    let mut ctx = RequestContext::new(
        via.workload.clone(),
        vec![("switchyard".into(), "semantic-shadow".into())],
    );
    ctx.team = via.team.clone();
    ctx.shadow = true;
    ctx
}

/// The default comparison: the same text and the same tool calls (name and arguments).
fn exact_equal(a: &Output, b: &Output) -> bool {
    a.text == b.text
        && a.tool_calls.len() == b.tool_calls.len()
        && a.tool_calls
            .iter()
            .zip(&b.tool_calls)
            .all(|(x, y)| x.name == y.name && x.arguments == y.arguments)
}

#[cfg(test)]
#[path = "agreement_tests.rs"]
mod tests;
