//! Paired comparison of a candidate against a baseline, item by item.
//!
//! Owns the bootstrap, the pass/fail verdict and the summary of cost and latency deltas.
//! Knows nothing about where scores come from: every function here takes plain `f64` slices.
//!
//! The confidence interval is a **percentile bootstrap over items**: each resample draws `n`
//! item indices with replacement, takes the mean of the per-item differences
//! `candidate[i] - baseline[i]` at those indices, and the interval is read off the sorted
//! resample means at `(1 - confidence) / 2` and `(1 + confidence) / 2` (linear interpolation
//! between neighbouring order statistics). Resampling pairs, not the two lists separately,
//! keeps the correlation between the two systems on the same item, which is what makes a
//! paired comparison far tighter than two independent ones.

mod rng;

pub use rng::SplitMix64;

use serde::{Deserialize, Serialize};

/// The default margin of [`verdict`]: a candidate may be at most two points worse.
pub const DEFAULT_MARGIN: f64 = -0.02;

/// Knobs of [`paired`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsOptions {
    /// Bootstrap resamples; 10 000 keeps the interval's ends stable to about ±0.002.
    pub resamples: usize,
    /// Seed of the resampling generator: the same inputs and seed give the same interval.
    pub seed: u64,
    /// Two-sided confidence of the interval, in (0, 1).
    pub confidence: f64,
    /// A per-item difference within ±`tie_epsilon` counts as a tie.
    pub tie_epsilon: f64,
}

impl Default for StatsOptions {
    fn default() -> Self {
        Self {
            resamples: 10_000,
            seed: 0x5157_1C4A_2D00_0001,
            confidence: 0.95,
            tie_epsilon: 1e-9,
        }
    }
}

/// Result of [`paired`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedSummary {
    pub n: usize,
    pub mean_candidate: f64,
    pub mean_baseline: f64,
    /// `mean_candidate - mean_baseline`; positive means the candidate scored higher.
    pub mean_diff: f64,
    /// Lower end of the bootstrap interval of `mean_diff`.
    pub ci_low: f64,
    /// Upper end of the bootstrap interval of `mean_diff`.
    pub ci_high: f64,
    /// Items where the candidate scored higher by more than `tie_epsilon`.
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
}

/// Why [`paired`] refused its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error(
        "candidate has {candidate} scores but baseline has {baseline}; score both on the same items"
    )]
    LengthMismatch { candidate: usize, baseline: usize },
    #[error("score at item {index} is not a finite number; a scorer must return a value in [0, 1]")]
    NotFinite { index: usize },
    #[error("confidence must be strictly between 0 and 1, got {0}")]
    Confidence(f64),
    #[error("resamples must be at least 1")]
    NoResamples,
}

/// Compares per-item scores of a candidate and a baseline on the same items.
///
/// With no items the summary is all zeros with `n == 0`; [`verdict`] fails it.
pub fn paired(
    candidate: &[f64],
    baseline: &[f64],
    opts: StatsOptions,
) -> Result<PairedSummary, StatsError> {
    check(candidate, baseline, &opts)?;
    let n = candidate.len();
    let diffs: Vec<f64> = candidate.iter().zip(baseline).map(|(c, b)| c - b).collect();
    let (mut wins, mut ties, mut losses) = (0, 0, 0);
    for d in &diffs {
        if *d > opts.tie_epsilon {
            wins += 1;
        } else if *d < -opts.tie_epsilon {
            losses += 1;
        } else {
            ties += 1;
        }
    }
    let (ci_low, ci_high) = bootstrap_interval(&diffs, &opts);
    Ok(PairedSummary {
        n,
        mean_candidate: mean(candidate),
        mean_baseline: mean(baseline),
        mean_diff: mean(&diffs),
        ci_low,
        ci_high,
        wins,
        ties,
        losses,
    })
}

fn check(candidate: &[f64], baseline: &[f64], opts: &StatsOptions) -> Result<(), StatsError> {
    if candidate.len() != baseline.len() {
        return Err(StatsError::LengthMismatch {
            candidate: candidate.len(),
            baseline: baseline.len(),
        });
    }
    if !(opts.confidence > 0.0 && opts.confidence < 1.0) {
        return Err(StatsError::Confidence(opts.confidence));
    }
    if opts.resamples == 0 {
        return Err(StatsError::NoResamples);
    }
    let bad = candidate
        .iter()
        .zip(baseline)
        .position(|(c, b)| !c.is_finite() || !b.is_finite());
    match bad {
        Some(index) => Err(StatsError::NotFinite { index }),
        None => Ok(()),
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Percentile bootstrap of the mean of `diffs`.
fn bootstrap_interval(diffs: &[f64], opts: &StatsOptions) -> (f64, f64) {
    let n = diffs.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mut rng = SplitMix64::new(opts.seed);
    let mut means = Vec::with_capacity(opts.resamples);
    for _ in 0..opts.resamples {
        let mut sum = 0.0;
        for _ in 0..n {
            sum += diffs[rng.below(n)];
        }
        means.push(sum / n as f64);
    }
    means.sort_by(f64::total_cmp);
    let alpha = 1.0 - opts.confidence;
    (
        quantile(&means, alpha / 2.0),
        quantile(&means, 1.0 - alpha / 2.0),
    )
}

/// Quantile of sorted, non-empty data with linear interpolation between order statistics.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Outcome of [`verdict`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
}

/// A gate's decision and the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub reason: String,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }
}

/// PASS only when the whole interval lies above `margin` (`ci_low > margin`).
///
/// There is deliberately no "inconclusive" outcome: an interval that straddles the margin
/// means the data cannot rule out a regression larger than the margin, and a gate must not
/// let that through. The reason says whether the candidate is clearly worse (the whole
/// interval is below the margin) or the evidence is too thin (more items would help).
pub fn verdict(summary: &PairedSummary, margin: f64) -> Verdict {
    let fail = |reason: String| Verdict {
        outcome: Outcome::Fail,
        reason,
    };
    if summary.n == 0 {
        return fail("no items were scored; a gate needs at least one paired item".into());
    }
    let s = summary;
    let ci = format!("[{:+.4}, {:+.4}]", s.ci_low, s.ci_high);
    if s.ci_low > margin {
        return Verdict {
            outcome: Outcome::Pass,
            reason: format!(
                "mean difference {:+.4} over {} items; the interval {ci} lies above the margin {margin:+.4}",
                s.mean_diff, s.n
            ),
        };
    }
    if s.ci_high <= margin {
        return fail(format!(
            "the candidate is worse: mean difference {:+.4} over {} items, interval {ci} lies at or below the margin {margin:+.4}",
            s.mean_diff, s.n
        ));
    }
    if s.ci_low.is_nan() || s.ci_high.is_nan() {
        return fail("the interval is not a number; check the scores".into());
    }
    fail(format!(
        "not enough evidence: mean difference {:+.4} over {} items, but the interval {ci} reaches below the margin {margin:+.4}; score more items to narrow it",
        s.mean_diff, s.n
    ))
}

/// Summary of a list of deltas (cost, latency).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub n: usize,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub min: f64,
    pub max: f64,
}

/// Mean, nearest-rank percentiles, min and max of the finite values (others are skipped).
///
/// Nearest rank: the p-th percentile is the value at 1-based rank `ceil(p * n)` of the
/// sorted data, so every percentile is an observed value (p50 of `[1, 2, 3, 4]` is 2).
/// `None` when no finite value is left.
pub fn distribution(values: &[f64]) -> Option<Distribution> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let rank = |p: f64| {
        let r = (p * n as f64).ceil() as usize;
        sorted[r.clamp(1, n) - 1]
    };
    Some(Distribution {
        n,
        mean: mean(&sorted),
        p50: rank(0.50),
        p90: rank(0.90),
        p99: rank(0.99),
        min: sorted[0],
        max: sorted[n - 1],
    })
}

#[cfg(test)]
mod tests;
