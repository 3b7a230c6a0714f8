//! A judge route asked in-process: the one way the gateway calls a model to grade an answer,
//! shared by the semantic cache's shadow mode (`cache/agreement.rs`) and cascade `judge`
//! checks (`cascade/judged.rs`).
//!
//! The judge's request is an ordinary OpenAI chat through [`Gateway::chat`] on the judge
//! route, under the context the caller builds (its attribution and tags; evaluation traffic
//! or not), so it is routed, priced and recorded in the ledger like any other request. The
//! prompts and the verdict parsing are switchyard-eval's. Must never know who asked or why.

use crate::Gateway;
use crate::reply::{ReplyBody, RequestContext};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use switchyard_eval::{Output, parse_rubric_score, rubric_prompt};
use switchyard_primitives::Money;

/// The judge's output limit: a verdict is a short JSON object with a sentence of reason.
pub(crate) const MAX_TOKENS: u64 = 300;

/// Bytes of an answer a rubric prompt carries: a longer answer is judged on its beginning.
/// This bounds the judge's prompt before the answer exists, for the budget's worst case.
pub(crate) const ANSWER_BYTES: usize = 32 * 1024;

/// What [`rubric_prompt`] adds around the rubric, the question and the answer (its fixed
/// text is under 500 bytes).
pub(crate) const PROMPT_FRAME_BYTES: u64 = 1_024;

/// One judge call's answer and what it cost.
pub(crate) struct Judged {
    pub text: String,
    /// The judge's priced cost (`None` when its target is not in the catalog).
    pub cost: Option<Money>,
    /// Tokens the judge's upstream reported (input + output), 0 when it reported none.
    pub tokens: u64,
}

/// A rubric verdict: the score, whether it reached the pass mark, and the judge's reason.
pub(crate) struct Rated {
    pub score: f64,
    pub passed: bool,
    pub reason: String,
}

pub(crate) type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'static>>;

impl Gateway {
    /// The judge route's answer to `prompt` under `ctx`; `Err` when the route failed or did
    /// not answer with a whole OpenAI chat completion.
    pub(crate) fn ask_judge(
        &self,
        ctx: RequestContext,
        route: &str,
        prompt: String,
    ) -> Boxed<Judged> {
        let body = json!({
            "model": route,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": MAX_TOKENS,
        });
        let gw = self.clone();
        Box::pin(async move {
            let reply = gw
                .chat(&ctx, body.to_string().into())
                .await
                .map_err(|e| format!("the judge route failed: {e}"))?;
            let cost = reply.meta.cost;
            let ReplyBody::Full(bytes) = reply.body else {
                return Err("the judge route streamed".into());
            };
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            let tokens = v
                .pointer("/usage/total_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            Ok(Judged {
                text: Output::from_openai_response(&v).text,
                cost,
                tokens,
            })
        })
    }

    /// Rates `answer` (its first [`ANSWER_BYTES`]) to `question` by `rubric` on the judge
    /// `route`, passing at `threshold`. `Err` (with what the judge cost so far, if it
    /// answered) when the route failed or its verdict could not be read.
    pub(crate) async fn rate(
        &self,
        ctx: RequestContext,
        rubric: &Rubric<'_>,
        question: &str,
        answer: &str,
    ) -> (Result<Rated, String>, Option<Judged>) {
        let prompt = rubric_prompt(rubric.rubric, question, clip(answer, ANSWER_BYTES));
        let judged = match self.ask_judge(ctx, rubric.route, prompt).await {
            Ok(j) => j,
            Err(e) => return (Err(e), None),
        };
        let rated = parse_rubric_score(&judged.text)
            .map(|r| Rated {
                score: r.score,
                passed: r.score >= rubric.threshold,
                reason: r.reason,
            })
            .map_err(|e| e.to_string());
        (rated, Some(judged))
    }
}

/// A rubric judge: the route serving the judge model, the rubric and the pass mark.
pub(crate) struct Rubric<'a> {
    pub route: &'a str,
    pub rubric: &'a str,
    pub threshold: f64,
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_clipped_on_a_character_boundary_within_the_byte_cap() {
        assert_eq!(clip("short", 10), "short");
        // "é" is two bytes: a cut at 3 would split the second one.
        assert_eq!(clip("éé", 3), "é");
        assert_eq!(clip(&"x".repeat(10), 4).len(), 4);
    }

    #[test]
    fn the_prompt_frame_bound_covers_the_rubric_prompt_around_its_parts() {
        let framed = rubric_prompt("", "", "").len() as u64;
        assert!(framed < PROMPT_FRAME_BYTES, "{framed}");
    }
}
