//! The held-out threshold check of the `evaluate` example: the pairs are split in two halves
//! by a seeded hash of their `id` (so the split does not depend on the file's order and the
//! same seed gives the same halves), the threshold is chosen on the *tuning* half only, and
//! precision, recall and false-hit rate (95% Wilson intervals) are reported on the *held-out*
//! half, at the chosen thresholds and at the default.
//!
//! Two choice rules are applied to the tuning half: the documented one (the lowest threshold
//! whose false-hit rate's upper 95% bound is ≤ `--max-false-hits`), which a half of the set
//! may be too small to meet at all (0 false hits in n pairs has an upper bound of about
//! 3.84 / (n + 3.84)), and the one the default was picked by on the whole set (the lowest
//! threshold with no false hit).

use switchyard_semantic::config::DEFAULT_MIN_SIMILARITY;
use switchyard_semantic::eval::{self, Scored};

/// SplitMix64: a well-mixed 64-bit hash of the id and the seed.
fn mix(id: u64, seed: u64) -> u64 {
    let mut z = id ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Each pair's `id`, in the order `eval::parse_pairs` reads the lines.
fn ids(jsonl: &str) -> Result<Vec<u64>, String> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: serde_json::Value =
                serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
            v["id"]
                .as_u64()
                .ok_or(format!("line {}: no numeric id", i + 1))
        })
        .collect()
}

/// Prints the check; `jsonl` is the pair file the `scored` pairs came from.
pub(crate) fn report(
    jsonl: &str,
    scored: &[Scored],
    seed: u64,
    max_false_hits: f64,
) -> Result<(), String> {
    let ids = ids(jsonl)?;
    if ids.len() != scored.len() {
        return Err("the ids do not line up with the pairs".into());
    }
    let (mut tune, mut test) = (Vec::new(), Vec::new());
    for (id, s) in ids.iter().zip(scored) {
        if mix(*id, seed) & 1 == 0 {
            tune.push(s.clone());
        } else {
            test.push(s.clone());
        }
    }
    let count = |v: &[Scored]| (v.iter().filter(|s| s.hit).count(), v.len());
    let ((th, tn), (hh, hn)) = (count(&tune), count(&test));
    println!(
        "seed {seed}: tuning half {tn} pairs ({th} should hit), held-out half {hn} pairs ({hh} should hit)\n"
    );
    let rows = eval::sweep(&tune, &super::thresholds(), true);
    let by_bound = eval::choose(&rows, max_false_hits).map(|r| r.threshold);
    let no_false_hit = rows
        .iter()
        .filter(|r| r.false_hits.k == 0)
        .map(|r| r.threshold)
        .min_by(f32::total_cmp);
    let show = |t: Option<f32>| t.map_or("none".to_string(), |t| format!("{t:.2}"));
    println!(
        "chosen on the tuning half (guards on): upper bound <= {:.1}%: {}; no false hit: {}\n",
        max_false_hits * 100.0,
        show(by_bound),
        show(no_false_hit)
    );
    let mut at: Vec<f32> = [by_bound, no_false_hit, Some(DEFAULT_MIN_SIMILARITY)]
        .into_iter()
        .flatten()
        .collect();
    at.sort_by(f32::total_cmp);
    at.dedup();
    let tuned: Vec<eval::Row> = at.iter().map(|t| eval::evaluate(&tune, *t, true)).collect();
    let held: Vec<eval::Row> = at.iter().map(|t| eval::evaluate(&test, *t, true)).collect();
    println!("## Tuning half\n\n{}", eval::sweep_table(&tuned));
    println!("## Held-out half\n\n{}", eval::sweep_table(&held));
    let sweep: Vec<eval::Row> = (85..=95)
        .map(|t| eval::evaluate(&test, t as f32 / 100.0, true))
        .collect();
    println!(
        "## Held-out half, 0.85-0.95\n\n{}",
        eval::sweep_table(&sweep)
    );
    Ok(())
}
