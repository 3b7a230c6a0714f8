//! Shadow mode after the fresh answer is stored: the would-be answer is read from the exact
//! store and compared with the fresh one by the route's [`Agreement`](super::agreement), in a
//! background task (the client never waits on it, nor on a judge call it makes); the result is
//! counted by the comparison that produced it and logged with it. Must never know dialects or
//! the engine.

use super::Shared;
use super::agreement::{Sides, Via};
use super::entry::Entry;
use super::semantic::{RouteSemantic, ScorerCount};
use crate::Gateway;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use switchyard_cache::Key;
use switchyard_eval::{Output, ToolCall};

/// A shadow hit waiting for the fresh answer.
pub(crate) struct Shadow {
    /// The exact entry the semantic cache would have served.
    pub key: Key,
    pub gw: Gateway,
    pub route: String,
    pub workload: Option<String>,
    pub team: Option<String>,
}

impl Shadow {
    /// Compares in the background; `question` is the last user turn (for a judge).
    pub(crate) fn compare(
        self,
        sem: Arc<RouteSemantic>,
        shared: Arc<Shared>,
        fresh: &Entry,
        question: String,
    ) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let fresh = output_of(&fresh.neutral());
        rt.spawn(async move {
            let Some(old) = shared.get_unchecked(&self.key).await else {
                return;
            };
            let sides = Sides {
                cached: output_of(&old.neutral()),
                fresh,
                question,
            };
            let via = Via {
                route: &self.route,
                sem: &sem,
                workload: self.workload.clone(),
                team: self.team.clone(),
            };
            let agreement = Arc::clone(&sem.agreement);
            let verdict = self.gw.agree(&agreement, &sides, &via).await;
            count(
                &sem,
                agreement.name(),
                verdict.as_ref().map(|v| v.agreed).ok(),
            );
            match verdict {
                Ok(v) => tracing::info!(
                    route = %self.route,
                    scorer = agreement.name(),
                    agreed = v.agreed,
                    key = %self.key.hex(),
                    detail = %v.detail,
                    "semantic cache (shadow) compared its answer with the fresh one"
                ),
                Err(e) => tracing::warn!(
                    route = %self.route,
                    scorer = agreement.name(),
                    "semantic cache (shadow) could not compare the answers: {e}"
                ),
            }
        });
    }
}

/// Counts one comparison under `scorer` (`None`: unscored).
fn count(sem: &RouteSemantic, scorer: &str, agreed: Option<bool>) {
    let c = &sem.index.counters;
    match agreed {
        Some(true) => c.shadow_agreed.fetch_add(1, Ordering::Relaxed),
        Some(false) => c.shadow_disagreed.fetch_add(1, Ordering::Relaxed),
        None => 0,
    };
    let mut by = c.by_scorer.lock().unwrap_or_else(|p| p.into_inner());
    let slot = match by.iter().position(|s| s.scorer == scorer) {
        Some(i) => &mut by[i],
        None => {
            by.push(ScorerCount {
                scorer: scorer.to_owned(),
                ..ScorerCount::default()
            });
            let last = by.len() - 1;
            &mut by[last]
        }
    };
    match agreed {
        Some(true) => slot.agreed += 1,
        Some(false) => slot.disagreed += 1,
        None => slot.unscored += 1,
    }
}

/// The text and tool calls of a stored answer, as the eval scorers read them.
fn output_of(e: &Entry) -> Output {
    Output {
        text: e.text.clone(),
        tool_calls: e
            .calls
            .iter()
            .map(|c| {
                ToolCall::new(
                    c.name.clone(),
                    serde_json::Value::String(c.arguments.clone()),
                )
            })
            .collect(),
    }
}
