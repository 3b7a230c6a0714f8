//! The labelled-pair evaluation: embed both sides of each pair, score the decision "serve b's
//! answer for a" (similarity ≥ threshold and no guard failed) against the label, and report
//! precision, recall and false-hit rate with 95% Wilson intervals, overall and per category,
//! over a threshold sweep. Knows the pair file's format and nothing of the gateway.

use crate::cache::normalise;
use crate::embed::{Embed, EmbedError, checked};
use crate::facts::Facts;
use crate::guard::{self, GuardSet};
use crate::vectors::dot_f32;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// One labelled pair: `hit` says whether `b`'s answer may be served for `a`.
#[derive(Debug, Clone, Deserialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    pub hit: bool,
    pub category: String,
}

/// Reads JSON lines (blank lines skipped); an error names the line.
pub fn parse_pairs(jsonl: &str) -> Result<Vec<Pair>, String> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// A pair with its similarity and the guards `b` failed against `a`.
#[derive(Debug, Clone)]
pub struct Scored {
    pub similarity: f32,
    pub failed: GuardSet,
    pub hit: bool,
    pub category: String,
}

/// Embeds every distinct text once (in batches of 64) and scores each pair.
pub async fn score(pairs: &[Pair], embedder: &dyn Embed) -> Result<Vec<Scored>, EmbedError> {
    let mut texts: Vec<String> = pairs
        .iter()
        .flat_map(|p| [normalise(&p.a), normalise(&p.b)])
        .collect();
    texts.sort_unstable();
    texts.dedup();
    let mut vectors: HashMap<&str, Vec<f32>> = HashMap::with_capacity(texts.len());
    for chunk in texts.chunks(64) {
        let got = checked(
            embedder.embed(chunk).await?,
            chunk.len(),
            embedder.dimensions(),
        )?;
        vectors.extend(chunk.iter().map(String::as_str).zip(got));
    }
    let vector = |t: &str| {
        vectors
            .get(normalise(t).as_str())
            .cloned()
            .unwrap_or_default()
    };
    Ok(pairs
        .iter()
        .map(|p| Scored {
            similarity: dot_f32(&vector(&p.a), &vector(&p.b)),
            failed: guard::check(&Facts::of(&p.a), &Facts::of(&p.b)),
            hit: p.hit,
            category: p.category.clone(),
        })
        .collect())
}

/// A proportion with its 95% Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub k: usize,
    pub n: usize,
    pub point: f64,
    pub low: f64,
    pub high: f64,
}

/// `k` of `n` with its 95% Wilson interval (`n == 0` gives 0 in 0..1).
pub fn wilson(k: usize, n: usize) -> Rate {
    const Z: f64 = 1.959_963_984_540_054;
    if n == 0 {
        return Rate {
            k,
            n,
            point: 0.0,
            low: 0.0,
            high: 1.0,
        };
    }
    let (kf, nf) = (k as f64, n as f64);
    let p = kf / nf;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = Z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / (1.0 + z2 / nf);
    Rate {
        k,
        n,
        point: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// The decision at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub threshold: f32,
    pub guards: bool,
    /// Served / all served (true hits among served).
    pub precision: Rate,
    /// Served / all that should hit.
    pub recall: Rate,
    /// Served / all that must not hit.
    pub false_hits: Rate,
}

fn served(s: &Scored, threshold: f32, guards: bool) -> bool {
    s.similarity >= threshold && (!guards || s.failed.is_empty())
}

/// The decision "similarity ≥ `threshold` (and no failed guard when `guards`)" against labels.
pub fn evaluate(scored: &[Scored], threshold: f32, guards: bool) -> Row {
    let (mut tp, mut fp, mut pos, mut neg) = (0, 0, 0, 0);
    for s in scored {
        let serve = served(s, threshold, guards);
        if s.hit {
            pos += 1;
            tp += usize::from(serve);
        } else {
            neg += 1;
            fp += usize::from(serve);
        }
    }
    Row {
        threshold,
        guards,
        precision: wilson(tp, tp + fp),
        recall: wilson(tp, pos),
        false_hits: wilson(fp, neg),
    }
}

/// [`evaluate`] at each threshold.
pub fn sweep(scored: &[Scored], thresholds: &[f32], guards: bool) -> Vec<Row> {
    thresholds
        .iter()
        .map(|t| evaluate(scored, *t, guards))
        .collect()
}

/// The lowest threshold (so the highest recall) whose false-hit rate's upper 95% bound is at
/// most `max_false_hits`.
pub fn choose(rows: &[Row], max_false_hits: f64) -> Option<Row> {
    rows.iter()
        .filter(|r| r.false_hits.high <= max_false_hits)
        .min_by(|a, b| a.threshold.total_cmp(&b.threshold))
        .copied()
}

/// Per category at one threshold: recall for categories that should hit, false-hit rate for
/// those that must not; plus, for the latter, how many pairs each guard stopped.
#[derive(Debug, Clone)]
pub struct CategoryRow {
    pub category: String,
    pub hit: bool,
    /// Share served.
    pub served: Rate,
    /// Pairs over the threshold that a guard stopped.
    pub stopped_by_guards: usize,
}

pub fn per_category(scored: &[Scored], threshold: f32) -> Vec<CategoryRow> {
    let mut groups: BTreeMap<(bool, &str), Vec<&Scored>> = BTreeMap::new();
    for s in scored {
        groups
            .entry((!s.hit, s.category.as_str()))
            .or_default()
            .push(s);
    }
    groups
        .into_iter()
        .map(|((_, category), items)| {
            let k = items.iter().filter(|s| served(s, threshold, true)).count();
            let stopped = items
                .iter()
                .filter(|s| s.similarity >= threshold && !s.failed.is_empty())
                .count();
            CategoryRow {
                category: category.to_owned(),
                hit: items.first().is_some_and(|s| s.hit),
                served: wilson(k, items.len()),
                stopped_by_guards: stopped,
            }
        })
        .collect()
}

fn pct(r: &Rate) -> String {
    format!(
        "{:.1}% [{:.1}, {:.1}]",
        r.point * 100.0,
        r.low * 100.0,
        r.high * 100.0
    )
}

/// The sweep as a markdown table.
pub fn sweep_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| min_similarity | guards | precision [95% CI] | recall [95% CI] | false-hit rate [95% CI] | false hits |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {:.2} | {} | {} | {} | {} | {}/{} |\n",
            r.threshold,
            if r.guards { "on" } else { "off" },
            pct(&r.precision),
            pct(&r.recall),
            pct(&r.false_hits),
            r.false_hits.k,
            r.false_hits.n
        ));
    }
    out
}

/// The per-category rows as a markdown table.
pub fn category_table(rows: &[CategoryRow]) -> String {
    let mut out = String::from(
        "| category | label | pairs | served [95% CI] | over threshold, stopped by a guard |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.category,
            if r.hit {
                "hit (recall)"
            } else {
                "miss (false-hit rate)"
            },
            r.served.n,
            pct(&r.served),
            r.stopped_by_guards
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // 0 of 600: upper bound z² / (n + z²) = 3.8415 / 603.84; 50 of 100: 40.4% .. 59.6%.
        let r = wilson(0, 600);
        assert!(r.low < 1e-12 && (r.high - 0.006_362).abs() < 1e-5, "{r:?}");
        let r = wilson(50, 100);
        assert!(
            (r.low - 0.4038).abs() < 1e-3 && (r.high - 0.5962).abs() < 1e-3,
            "{r:?}"
        );
    }

    fn s(similarity: f32, hit: bool, failed: GuardSet) -> Scored {
        Scored {
            similarity,
            failed,
            hit,
            category: "c".into(),
        }
    }

    #[test]
    fn guards_turn_a_false_hit_into_a_miss_and_choose_takes_the_lowest_safe_threshold() {
        let mut blocked = GuardSet::default();
        blocked.insert(crate::guard::Guard::Numbers);
        let scored = [
            s(0.95, true, GuardSet::default()),
            s(0.90, false, blocked),
            s(0.85, false, GuardSet::default()),
        ];
        let off = evaluate(&scored, 0.8, false);
        let on = evaluate(&scored, 0.8, true);
        assert_eq!((off.false_hits.k, on.false_hits.k), (2, 1));
        let rows = sweep(&scored, &[0.8, 0.86, 0.9], true);
        assert_eq!(choose(&rows, 0.99).map(|r| r.threshold), Some(0.8));
        assert_eq!(rows[1].false_hits.k, 0);
        assert_eq!(choose(&rows, 0.0), None);
    }

    #[test]
    fn a_malformed_line_is_named_by_number() {
        let err = parse_pairs("{\"a\":\"x\",\"b\":\"y\",\"hit\":true,\"category\":\"p\"}\n\n{oops")
            .unwrap_err();
        assert!(err.starts_with("line 3"), "{err}");
    }
}
