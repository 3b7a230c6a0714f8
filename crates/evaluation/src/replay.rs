//! Replay: a dataset's items sent through this gateway's own pipeline, in-process, to a
//! candidate (and optionally a baseline) route, scored, and compared with paired statistics.
//!
//! Every call is marked as evaluation traffic (`shadow` in the ledger): it is priced and
//! recorded like any request, reported as evaluation spend, never as production spend, and
//! never captured or mirrored. Concurrency is bounded, and no new item starts once the run's
//! spend (candidate, baseline and judge calls) reaches the cap.

use futures_util::StreamExt;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use std::sync::Mutex;
use switchyard_eval::{
    DatasetItem, Distribution, Output, PairedSummary, Scorer, ScorerSpec, StatsOptions, Verdict,
    distribution, paired, verdict,
};
use switchyard_gateway::Gateway;
use switchyard_primitives::Money;

/// How to run a replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The route the candidate answers on.
    pub candidate: String,
    /// A route to answer as the baseline; `None`: each item's captured answer.
    pub baseline: Option<String>,
    pub concurrency: usize,
    /// No new item starts once this much has been spent.
    pub max_spend: Money,
    /// Scorers for every item; empty: the dataset's, else each item's own.
    pub scorers: Vec<ScorerSpec>,
    pub margin: f64,
    pub stats: StatsOptions,
    /// The workload the calls are attributed to in the ledger.
    pub workload: Option<String>,
    /// Embeddings route for embedding scorers that name none.
    pub embedding_route: Option<String>,
}

/// What to replay: a dataset version's id, its items and its own scorers.
pub struct Dataset<'a> {
    pub name: &'a str,
    pub items: Vec<DatasetItem>,
    pub scorers: &'a [ScorerSpec],
}

/// One side's answer to one item.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Side {
    pub output: String,
    pub cost_usd: Option<f64>,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

/// One scorer's grades of both sides.
#[derive(Debug, Clone, Serialize)]
pub struct Grade {
    pub scorer: String,
    pub candidate: f64,
    pub baseline: f64,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    pub id: String,
    pub candidate: Side,
    pub baseline: Side,
    pub grades: Vec<Grade>,
    /// Mean over the scorers; `None` when the item could not be paired.
    pub candidate_score: Option<f64>,
    pub baseline_score: Option<f64>,
    /// Why the item was left out of the statistics.
    pub skipped: Option<String>,
}

/// Cost and latency of the two sides, and the per-item deltas' distributions.
#[derive(Debug, Clone, Serialize)]
pub struct Deltas {
    pub candidate_cost_usd: f64,
    pub baseline_cost_usd: f64,
    /// `candidate / baseline − 1` over the paired items (−0.38: 38 % cheaper).
    pub cost_delta: Option<f64>,
    pub cost_per_item: Option<Distribution>,
    pub candidate_latency_ms: Option<Distribution>,
    pub baseline_latency_ms: Option<Distribution>,
    pub latency_delta_ms: Option<Distribution>,
}

/// A finished replay.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub dataset: String,
    pub workload: Option<String>,
    pub candidate: String,
    /// A route name, or `captured` for the dataset's recorded answers.
    pub baseline: String,
    pub items: usize,
    pub paired: usize,
    pub summary: PairedSummary,
    pub verdict: Verdict,
    pub margin: f64,
    pub deltas: Deltas,
    /// Everything this run spent: candidate, baseline and judge calls.
    pub spent_usd: f64,
    /// Set when the spend cap stopped the run early.
    pub stopped: Option<String>,
    pub results: Vec<ItemResult>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Setup(String),
    #[error("statistics: {0}")]
    Stats(String),
}

pub(crate) struct Spend {
    total: Mutex<f64>,
    cap: f64,
}

impl Spend {
    pub(crate) fn add(&self, c: Option<f64>) {
        if let Some(c) = c {
            *self.total.lock().unwrap_or_else(|p| p.into_inner()) += c;
        }
    }
    pub(crate) fn get(&self) -> f64 {
        *self.total.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Replays `dataset` through `gateway` as `opts` says; `progress(done, total)` is called
/// after each item.
pub async fn replay(
    gateway: &Gateway,
    dataset: Dataset<'_>,
    opts: &ReplayOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RunReport, ReplayError> {
    Runner { gw: gateway }.run(dataset, opts, progress).await
}

/// One replay run's calls into the gateway.
pub(crate) struct Runner<'a> {
    pub gw: &'a Gateway,
}

impl Runner<'_> {
    async fn run(
        &self,
        dataset: Dataset<'_>,
        opts: &ReplayOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<RunReport, ReplayError> {
        let Dataset {
            name: dataset,
            items,
            scorers: dataset_scorers,
        } = dataset;
        let names = self.gw.route_names();
        for r in std::iter::once(&opts.candidate).chain(opts.baseline.as_ref()) {
            if !names.contains(r) {
                return Err(ReplayError::Setup(format!(
                    "no route {r:?}; routes: {}",
                    names.join(", ")
                )));
            }
        }
        if opts.baseline.is_none()
            && let Some(i) = items.iter().find(|i| i.reference_output.is_none())
        {
            return Err(ReplayError::Setup(format!(
                "item {} has no captured answer to compare with; give --baseline ROUTE",
                i.id
            )));
        }
        let compile = |specs: &[ScorerSpec]| -> Result<Vec<Scorer>, ReplayError> {
            specs
                .iter()
                .map(|s| {
                    s.compile()
                        .map_err(|e| ReplayError::Setup(format!("scorer {}: {e}", s.kind())))
                })
                .collect()
        };
        let run_level = if opts.scorers.is_empty() {
            compile(dataset_scorers)?
        } else {
            compile(&opts.scorers)?
        };
        if run_level.is_empty()
            && let Some(i) = items.iter().find(|i| i.scorers.is_empty())
        {
            return Err(ReplayError::Setup(format!(
                "item {} has no scorer, and neither the run nor the dataset sets one: pass --scorer (see docs/evaluation.md)",
                i.id
            )));
        }
        let spend = Spend {
            total: Mutex::new(0.0),
            cap: opts.max_spend.0.to_f64().unwrap_or(f64::MAX),
        };
        let total = items.len();
        let done = Mutex::new(0usize);
        let stopped = Mutex::new(None::<String>);
        let concurrency = opts.concurrency.max(1);
        let mut results: Vec<(usize, ItemResult)> =
            futures_util::stream::iter(items.into_iter().enumerate())
                .map(|(idx, item)| {
                    let run_level = &run_level;
                    let spend = &spend;
                    let done = &done;
                    let stopped = &stopped;
                    async move {
                        let result = if spend.get() >= spend.cap {
                            let mut s = stopped.lock().unwrap_or_else(|p| p.into_inner());
                            if s.is_none() {
                                *s = Some(format!(
                                    "the spend cap (${:.2}) was reached; later items were not run",
                                    spend.cap
                                ));
                            }
                            skipped(&item, "spend cap reached")
                        } else {
                            self.replay_item(&item, run_level, opts, spend).await
                        };
                        let n = {
                            let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
                            *d += 1;
                            *d
                        };
                        progress(n, total);
                        (idx, result)
                    }
                })
                .buffer_unordered(concurrency)
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        let results: Vec<ItemResult> = results.into_iter().map(|(_, r)| r).collect();
        let pairs: Vec<&ItemResult> = results
            .iter()
            .filter(|r| r.candidate_score.is_some() && r.baseline_score.is_some())
            .collect();
        let cand: Vec<f64> = pairs.iter().filter_map(|r| r.candidate_score).collect();
        let base: Vec<f64> = pairs.iter().filter_map(|r| r.baseline_score).collect();
        let summary =
            paired(&cand, &base, opts.stats).map_err(|e| ReplayError::Stats(e.to_string()))?;
        let v = verdict(&summary, opts.margin);
        let deltas = deltas(&pairs);
        Ok(RunReport {
            dataset: dataset.to_string(),
            workload: opts.workload.clone(),
            candidate: opts.candidate.clone(),
            baseline: opts.baseline.clone().unwrap_or_else(|| "captured".into()),
            items: total,
            paired: pairs.len(),
            summary,
            verdict: v,
            margin: opts.margin,
            deltas,
            spent_usd: spend.get(),
            stopped: stopped.into_inner().unwrap_or_else(|p| p.into_inner()),
            results,
        })
    }

    async fn replay_item(
        &self,
        item: &DatasetItem,
        run_level: &[Scorer],
        opts: &ReplayOptions,
        spend: &Spend,
    ) -> ItemResult {
        let own: Vec<Scorer>;
        let scorers: &[Scorer] = if run_level.is_empty() {
            own = item
                .scorers
                .iter()
                .filter_map(|s| s.compile().ok())
                .collect();
            &own
        } else {
            run_level
        };
        let candidate = self.ask(&opts.candidate, &item.input, opts).await;
        spend.add(candidate.1.cost_usd);
        let baseline = match &opts.baseline {
            Some(route) => {
                let b = self.ask(route, &item.input, opts).await;
                spend.add(b.1.cost_usd);
                b
            }
            None => (
                Output {
                    text: item.reference_output.clone().unwrap_or_default(),
                    tool_calls: item.reference_tool_calls.clone(),
                },
                Side {
                    output: item.reference_output.clone().unwrap_or_default(),
                    cost_usd: item.reference_cost_usd,
                    latency_ms: item.reference_latency_ms,
                    error: None,
                },
            ),
        };
        let (c_out, c_side) = candidate;
        let (b_out, b_side) = baseline;
        if let Some(e) = &b_side.error {
            return ItemResult {
                id: item.id.clone(),
                candidate: c_side,
                baseline: b_side.clone(),
                grades: Vec::new(),
                candidate_score: None,
                baseline_score: None,
                skipped: Some(format!("the baseline failed: {e}")),
            };
        }
        let mut grades = Vec::new();
        for s in scorers {
            let g = self
                .grade(
                    s,
                    item,
                    (&c_out, c_side.error.is_some(), &b_out),
                    (opts, spend),
                )
                .await;
            grades.push(g);
        }
        let mean = |f: fn(&Grade) -> f64| {
            (!grades.is_empty()).then(|| grades.iter().map(f).sum::<f64>() / grades.len() as f64)
        };
        ItemResult {
            id: item.id.clone(),
            candidate_score: mean(|g| g.candidate),
            baseline_score: mean(|g| g.baseline),
            candidate: c_side,
            baseline: b_side,
            grades,
            skipped: None,
        }
    }
}

pub(crate) fn grade(scorer: String, candidate: f64, baseline: f64, detail: String) -> Grade {
    Grade {
        scorer,
        candidate,
        baseline,
        detail,
    }
}

pub(crate) fn skipped(item: &DatasetItem, why: &str) -> ItemResult {
    ItemResult {
        id: item.id.clone(),
        candidate: Side::default(),
        baseline: Side::default(),
        grades: Vec::new(),
        candidate_score: None,
        baseline_score: None,
        skipped: Some(why.to_string()),
    }
}

fn deltas(pairs: &[&ItemResult]) -> Deltas {
    let cc: Vec<f64> = pairs.iter().filter_map(|r| r.candidate.cost_usd).collect();
    let bc: Vec<f64> = pairs.iter().filter_map(|r| r.baseline.cost_usd).collect();
    let both: Vec<f64> = pairs
        .iter()
        .filter_map(|r| Some(r.candidate.cost_usd? - r.baseline.cost_usd?))
        .collect();
    let (c_sum, b_sum): (f64, f64) = pairs
        .iter()
        .filter_map(|r| Some((r.candidate.cost_usd?, r.baseline.cost_usd?)))
        .fold((0.0, 0.0), |(a, b), (c, d)| (a + c, b + d));
    let cl: Vec<f64> = pairs
        .iter()
        .filter_map(|r| r.candidate.latency_ms)
        .collect();
    let bl: Vec<f64> = pairs.iter().filter_map(|r| r.baseline.latency_ms).collect();
    let dl: Vec<f64> = pairs
        .iter()
        .filter_map(|r| Some(r.candidate.latency_ms? - r.baseline.latency_ms?))
        .collect();
    Deltas {
        candidate_cost_usd: cc.iter().sum(),
        baseline_cost_usd: bc.iter().sum(),
        cost_delta: (b_sum > 0.0).then(|| c_sum / b_sum - 1.0),
        cost_per_item: distribution(&both),
        candidate_latency_ms: distribution(&cl),
        baseline_latency_ms: distribution(&bl),
        latency_delta_ms: distribution(&dl),
    }
}
