use super::*;

fn opts(resamples: usize, seed: u64) -> StatsOptions {
    StatsOptions {
        resamples,
        seed,
        ..StatsOptions::default()
    }
}

fn bernoulli(rng: &mut SplitMix64, p: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| if rng.unit() < p { 1.0 } else { 0.0 })
        .collect()
}

#[test]
fn identical_scores_give_zero_difference_and_a_tight_interval_around_it() {
    let scores: Vec<f64> = (0..200).map(|i| f64::from(i % 7) / 6.0).collect();
    let s = paired(&scores, &scores, StatsOptions::default()).unwrap();
    assert_eq!(s.n, 200);
    assert_eq!(s.mean_diff, 0.0);
    assert!(s.ci_low <= 0.0 && s.ci_high >= 0.0);
    assert!(s.ci_high - s.ci_low < 1e-12);
    assert_eq!((s.wins, s.ties, s.losses), (0, 200, 0));
}

#[test]
fn a_constant_shift_gives_a_degenerate_interval_at_the_shift() {
    let baseline: Vec<f64> = (0..100).map(|i| f64::from(i % 10) / 20.0).collect();
    let candidate: Vec<f64> = baseline.iter().map(|b| b + 0.1).collect();
    let s = paired(&candidate, &baseline, StatsOptions::default()).unwrap();
    assert!((s.mean_diff - 0.1).abs() < 1e-12);
    assert!((s.ci_low - 0.1).abs() < 1e-12, "{s:?}");
    assert!((s.ci_high - 0.1).abs() < 1e-12, "{s:?}");
    assert_eq!(s.wins, 100);
}

#[test]
fn bernoulli_interval_width_matches_the_analytic_standard_error() {
    let mut rng = SplitMix64::new(42);
    let n = 400;
    let candidate = bernoulli(&mut rng, 0.8, n);
    let baseline = bernoulli(&mut rng, 0.7, n);
    let s = paired(&candidate, &baseline, StatsOptions::default()).unwrap();
    // Independent pairs: Var(d) = p1(1-p1) + p2(1-p2).
    let se = ((0.8 * 0.2 + 0.7 * 0.3) / n as f64).sqrt();
    let expected = 2.0 * 1.96 * se;
    let width = s.ci_high - s.ci_low;
    assert!(
        (width - expected).abs() / expected < 0.2,
        "width {width} vs analytic {expected}"
    );
    assert!(s.ci_low < s.mean_diff && s.mean_diff < s.ci_high);
}

#[test]
fn the_95_percent_interval_covers_the_true_difference_about_95_percent_of_the_time() {
    let mut rng = SplitMix64::new(7);
    let truth = 0.05;
    let mut covered = 0;
    for experiment in 0..200 {
        let baseline: Vec<f64> = (0..100).map(|_| rng.unit() * 0.9).collect();
        // Per-item noise uniform in [-0.1, 0.1] around a true shift of 0.05.
        let candidate: Vec<f64> = baseline
            .iter()
            .map(|b| b + truth + (rng.unit() - 0.5) * 0.2)
            .collect();
        let s = paired(&candidate, &baseline, opts(1000, experiment)).unwrap();
        if s.ci_low <= truth && truth <= s.ci_high {
            covered += 1;
        }
    }
    assert!((180..=198).contains(&covered), "covered {covered} of 200");
}

#[test]
fn the_same_seed_gives_the_same_interval() {
    let mut rng = SplitMix64::new(1);
    let c = bernoulli(&mut rng, 0.6, 50);
    let b = bernoulli(&mut rng, 0.5, 50);
    let a1 = paired(&c, &b, opts(500, 9)).unwrap();
    let a2 = paired(&c, &b, opts(500, 9)).unwrap();
    assert_eq!(a1, a2);
}

#[test]
fn mismatched_lengths_and_bad_options_are_refused() {
    assert_eq!(
        paired(&[1.0], &[], StatsOptions::default()),
        Err(StatsError::LengthMismatch {
            candidate: 1,
            baseline: 0
        })
    );
    assert_eq!(
        paired(&[1.0, f64::NAN], &[1.0, 1.0], StatsOptions::default()),
        Err(StatsError::NotFinite { index: 1 })
    );
    let bad = StatsOptions {
        confidence: 1.0,
        ..StatsOptions::default()
    };
    assert_eq!(paired(&[], &[], bad), Err(StatsError::Confidence(1.0)));
    assert_eq!(paired(&[], &[], opts(0, 0)), Err(StatsError::NoResamples));
}

fn summary(ci_low: f64, ci_high: f64) -> PairedSummary {
    PairedSummary {
        n: 10,
        mean_candidate: 0.5,
        mean_baseline: 0.5,
        mean_diff: (ci_low + ci_high) / 2.0,
        ci_low,
        ci_high,
        wins: 0,
        ties: 10,
        losses: 0,
    }
}

#[test]
fn verdict_passes_only_strictly_above_the_margin() {
    assert!(verdict(&summary(-0.0199, 0.05), DEFAULT_MARGIN).passed());
    let at = verdict(&summary(-0.02, 0.05), DEFAULT_MARGIN);
    assert_eq!(at.outcome, Outcome::Fail);
    assert!(at.reason.contains("not enough evidence"), "{}", at.reason);
    let below = verdict(&summary(-0.0201, 0.05), DEFAULT_MARGIN);
    assert_eq!(below.outcome, Outcome::Fail);
}

#[test]
fn verdict_says_when_the_candidate_is_clearly_worse() {
    let v = verdict(&summary(-0.2, -0.05), DEFAULT_MARGIN);
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reason.contains("the candidate is worse"), "{}", v.reason);
}

#[test]
fn verdict_fails_an_empty_comparison_with_a_reason() {
    let s = paired(&[], &[], StatsOptions::default()).unwrap();
    let v = verdict(&s, DEFAULT_MARGIN);
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reason.contains("no items"));
}

#[test]
fn verdict_fails_a_nan_interval() {
    assert!(!verdict(&summary(f64::NAN, f64::NAN), DEFAULT_MARGIN).passed());
}

#[test]
fn distribution_uses_nearest_rank_percentiles() {
    let d = distribution(&[4.0, 1.0, 3.0, 2.0]).unwrap();
    assert_eq!(d.n, 4);
    assert_eq!(d.mean, 2.5);
    assert_eq!((d.p50, d.p90, d.p99), (2.0, 4.0, 4.0));
    assert_eq!((d.min, d.max), (1.0, 4.0));
    let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
    let d = distribution(&hundred).unwrap();
    assert_eq!((d.p50, d.p90, d.p99), (50.0, 90.0, 99.0));
}

#[test]
fn distribution_skips_non_finite_values_and_is_none_when_empty() {
    let d = distribution(&[f64::NAN, 5.0, f64::INFINITY]).unwrap();
    assert_eq!((d.n, d.p50, d.p99), (1, 5.0, 5.0));
    assert!(distribution(&[]).is_none());
    assert!(distribution(&[f64::NAN]).is_none());
}
