//! The quality evidence behind each cascade route: for every tier that answers without
//! escalating (all but the top), the newest evaluation of that tier's model on the route's
//! workload against the top tier, or the commands that would produce it.
//!
//! Evidence is what [`crate::readiness`] read from the eval store: a replay run counts when its
//! baseline is the top tier (by `provider/model`, or by model name); shadow results, scored
//! against the route's production answers, count when there is no such replay. The routes
//! come from the caller (the config says which routes cascade, over which targets); this
//! module reads no store itself.

use crate::lockin::Evidence;
use serde::{Deserialize, Serialize};

/// One cascade route as configured: its tiers in order, cheapest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CascadeRoute {
    pub route: String,
    /// The workload its records and captures carry (`None`: the route names none).
    pub workload: Option<String>,
    /// `provider/model` of each tier, in the order they are tried.
    pub tiers: Vec<String>,
}

/// One cheaper tier and what evaluation has shown about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierQuality {
    /// 1 for the first tier tried.
    pub tier: usize,
    pub target: String,
    /// The newest replay against the top tier, else shadow results; `None`: nothing yet.
    pub evidence: Option<Evidence>,
}

impl TierQuality {
    /// "tie: proven on 120 samples (…)", or "no evidence yet — run `…`".
    pub fn describe(&self, route: &CascadeQuality) -> String {
        match &self.evidence {
            Some(e) => format!("{}: {}", outcome(e), e.describe_quality()),
            None => format!("no evidence yet — run `{}`", route.command(&self.target)),
        }
    }
}

/// A cascade route's tiers below the top, each with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CascadeQuality {
    pub route: String,
    pub workload: Option<String>,
    /// The top tier's `provider/model` (what a cheaper tier is compared with).
    pub top: String,
    pub tiers: Vec<TierQuality>,
}

impl CascadeQuality {
    /// The commands that build a dataset from the workload's captures and replay `target`
    /// against the top tier on it.
    pub fn command(&self, target: &str) -> String {
        let w = self.workload.as_deref().unwrap_or("<workload>");
        format!(
            "switchyard eval dataset create --workload {w} --name {w} && switchyard eval run --dataset {w} --candidate {target} --baseline {}",
            self.top
        )
    }
}

/// Win, tie or loss against the baseline, by where the 95% interval of the score
/// difference (candidate − baseline) lies.
pub fn outcome(e: &Evidence) -> &'static str {
    if e.ci_low > 0.0 {
        "win"
    } else if e.ci_high < 0.0 {
        "loss"
    } else {
        "tie"
    }
}

/// The evidence behind every cascade route with at least two tiers.
pub fn quality(routes: &[CascadeRoute], evidence: &[Evidence]) -> Vec<CascadeQuality> {
    routes
        .iter()
        .filter_map(|r| {
            let (top, cheaper) = r.tiers.split_last()?;
            if cheaper.is_empty() {
                return None;
            }
            let workload = r.workload.as_deref().unwrap_or("");
            let tiers = cheaper
                .iter()
                .enumerate()
                .map(|(i, target)| TierQuality {
                    tier: i + 1,
                    target: target.clone(),
                    evidence: best(evidence, workload, target, top).cloned(),
                })
                .collect();
            Some(CascadeQuality {
                route: r.route.clone(),
                workload: r.workload.clone(),
                top: top.clone(),
                tiers,
            })
        })
        .collect()
}

/// A replay of `target` against `top` on `workload`, else its shadow results there.
fn best<'a>(ev: &'a [Evidence], workload: &str, target: &str, top: &str) -> Option<&'a Evidence> {
    let about = |e: &&Evidence| e.workload == workload && e.covers(target);
    let replay = ev.iter().filter(about).find(|e| match &e.baseline {
        Some(b) => b == top || model(b) == model(top),
        None => false,
    });
    replay.or_else(|| {
        ev.iter()
            .filter(about)
            .find(|e| e.baseline.is_none() && e.source.starts_with("shadow"))
    })
}

fn model(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(candidate: &str, baseline: Option<&str>, ci: (f64, f64)) -> Evidence {
        Evidence {
            workload: "classify".into(),
            candidate: candidate.into(),
            passed: ci.0 > -0.02,
            samples: 120,
            mean_diff: (ci.0 + ci.1) / 2.0,
            ci_low: ci.0,
            ci_high: ci.1,
            cost_delta: Some(-0.9),
            source: match baseline {
                Some(b) => format!("replay of classify@v1 vs {b}"),
                None => "shadow traffic".into(),
            },
            baseline: baseline.map(str::to_owned),
        }
    }

    fn route(tiers: &[&str]) -> CascadeRoute {
        CascadeRoute {
            route: "classify".into(),
            workload: Some("classify".into()),
            tiers: tiers.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn each_cheaper_tier_gets_its_replay_against_the_top_tier_or_the_command_to_make_one() {
        let r = route(&["oai/gpt-4o-mini", "ant/claude-haiku", "oai/gpt-4o"]);
        let evidence = [
            // Against another baseline: not evidence for the cascade.
            ev("oai/gpt-4o-mini", Some("captured"), (0.1, 0.2)),
            ev("oai/gpt-4o-mini", Some("oai/gpt-4o"), (-0.01, 0.03)),
        ];
        let q = &quality(&[r], &evidence)[0];
        assert_eq!(q.top, "oai/gpt-4o");
        assert_eq!(q.tiers.len(), 2, "the top tier needs no evidence");
        let first = q.tiers[0].describe(q);
        assert!(
            first.starts_with("tie: proven on 120 samples (replay of classify@v1 vs oai/gpt-4o"),
            "{first}"
        );
        let second = q.tiers[1].describe(q);
        assert_eq!(
            second,
            "no evidence yet — run `switchyard eval dataset create --workload classify --name classify && switchyard eval run --dataset classify --candidate ant/claude-haiku --baseline oai/gpt-4o`"
        );
    }

    #[test]
    fn shadow_results_count_when_no_replay_against_the_top_tier_exists_and_the_interval_says_win_or_loss()
     {
        let r = route(&["oai/gpt-4o-mini", "oai/gpt-4o"]);
        let q = quality(
            std::slice::from_ref(&r),
            &[ev("oai/gpt-4o-mini", None, (-0.3, -0.1))],
        );
        assert!(
            q[0].tiers[0]
                .describe(&q[0])
                .starts_with("loss: not proven"),
            "{:?}",
            q[0]
        );
        let q = quality(&[r], &[ev("gpt-4o-mini", Some("gpt-4o"), (0.05, 0.1))]);
        assert!(
            q[0].tiers[0].describe(&q[0]).starts_with("win: proven"),
            "{:?}",
            q[0]
        );
        // Another workload's evidence, or a one-tier route: nothing to show.
        let mut other = ev("oai/gpt-4o-mini", Some("oai/gpt-4o"), (0.0, 0.1));
        other.workload = "support".into();
        let q = quality(&[route(&["oai/gpt-4o-mini", "oai/gpt-4o"])], &[other]);
        assert!(q[0].tiers[0].evidence.is_none());
        assert!(quality(&[route(&["oai/gpt-4o"])], &[]).is_empty());
    }
}
