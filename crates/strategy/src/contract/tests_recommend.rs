//! The commitment recommender against hand-computed windows.

use super::test_support::*;
use super::*;
use chrono::{Days, NaiveDate};
use switchyard_primitives::Money;

fn series(start: NaiveDate, values: &[&str]) -> Vec<(NaiveDate, Money)> {
    values
        .iter()
        .zip(0u64..)
        .map(|(v, i)| (start.checked_add_days(Days::new(i)).unwrap(), usd(v)))
        .collect()
}

#[test]
fn a_seven_day_window_picks_the_percentile_that_saves_most() {
    // Days 40, 60, 80, 100, 100, 100, 120 (Σ 600) at 20 % off (commitment = 0.8 × level).
    // Nearest rank over 7 values: P10 = 40, P20 = 60, P30 = P40 = 80, P50…P80 = 100, P90 = 120.
    // cost(level) = 7 × 0.8 × level + Σ max(0, u − level):
    //   40:  224 + 320 = 544 → saves 56      80: 448 + 100 = 548 → saves 52
    //   60:  336 + 200 = 536 → saves 64     100: 560 +  20 = 580 → saves 20
    //   120: 672 +   0 = 672 → loses 72 (dropped)
    // Best: level 60, commitment 48/day = 48 × 365 / 12 = 1,460.00 a month.
    let daily = series(jan(), &["40", "60", "80", "100", "100", "100", "120"]);
    let r = recommend(&daily, dec("0.2"), 12).unwrap();
    let seven = &r.lookbacks[0];
    let savings: Vec<Money> = seven.candidates.iter().map(|c| c.window_savings).collect();
    let want = ["56", "64", "52", "52", "20", "20", "20", "20", "-72"];
    assert_eq!(savings, want.iter().map(|s| usd(s)).collect::<Vec<_>>());
    assert!(!seven.candidates[8].saves);
    assert_eq!(seven.best.as_ref().map(|c| c.percentile), Some(20));
    assert!(!r.lookbacks[1].available && !r.lookbacks[2].available);
    assert_eq!(
        (r.monthly_commitment, r.binding_lookback_days),
        (usd("1460"), Some(7))
    );
    // Saves 64 over 7 days → 64 / 7 × 365 / 12 = 278.095… → 278.10 a month; × 12 = 3,337.20;
    // rate 64 / 600 = 0.106667.
    assert_eq!(
        (r.expected_monthly_savings, r.expected_term_savings),
        (usd("278.10"), usd("3337.20"))
    );
    assert_eq!(r.expected_savings_rate, dec("0.106667"));
}

#[test]
fn the_lower_lookback_wins_so_stale_high_usage_cannot_over_commit() {
    // 53 days at $200, then usage fell to $60 for the last 7 days (Σ 11,020 over 60 days).
    // 7 days: every percentile is 60 → commit 48/day → $1,460/month.
    // 60 days: level 200 saves 11,020 − 60 × 160 = 1,420 (level 60 saves only 720), so the
    // long window alone would commit 160 × 365 / 12 = $4,866.66/month.
    let mut values = vec!["200"; 53];
    values.extend(["60"; 7]);
    let r = recommend(&series(jan(), &values), dec("0.2"), 12).unwrap();
    let best = |i: usize| r.lookbacks[i].best.as_ref().unwrap().monthly_commitment;
    assert_eq!((best(0), best(2)), (usd("1460"), usd("4866.66")));
    assert_eq!(
        (r.monthly_commitment, r.binding_lookback_days),
        (usd("1460"), Some(7))
    );
    // Measured on the 60-day window: saves 720 → 720 / 60 × 365 / 12 = 365.00 a month;
    // rate 720 / 11,020 = 0.0653357… → 0.065336.
    assert_eq!(
        (r.expected_monthly_savings, r.expected_savings_rate),
        (usd("365"), dec("0.065336"))
    );
}

#[test]
fn nothing_is_recommended_when_no_level_saves() {
    // One $1,000 day among zeros: every percentile is 0 → no candidate saves.
    let mut values = vec!["0"; 9];
    values.push("1000");
    let r = recommend(&series(jan(), &values), dec("0.3"), 12).unwrap();
    assert_eq!(
        (r.monthly_commitment, r.expected_term_savings),
        (usd("0"), usd("0"))
    );
    assert!(r.lookbacks[0].best.is_none());
}

#[test]
fn missing_days_count_as_zero_and_bad_inputs_are_errors() {
    // Two entries 6 days apart span 7 days; the 5 days between are $0.
    let daily = vec![(jan(), usd("70")), (date(2026, 1, 7), usd("70"))];
    let r = recommend(&daily, dec("0.2"), 1).unwrap();
    assert_eq!(r.lookbacks[0].candidates[0].daily_on_demand, usd("0"));
    assert_eq!(
        recommend(&daily, dec("0"), 12).unwrap_err(),
        RecommendError::Discount(dec("0"))
    );
    assert_eq!(
        recommend(&daily, dec("0.2"), 0).unwrap_err(),
        RecommendError::Term(0)
    );
    let short = series(jan(), &["1", "2", "3"]);
    assert_eq!(
        recommend(&short, dec("0.2"), 12).unwrap_err(),
        RecommendError::TooShort(3)
    );
    let negative = vec![(jan(), usd("-5"))];
    assert!(
        recommend(&negative, dec("0.2"), 12)
            .unwrap_err()
            .to_string()
            .starts_with("daily[0] is -5")
    );
}

#[test]
fn thirty_days_of_history_recommend_from_the_lookbacks_they_cover() {
    // 20 days at $1,000 then 10 at $400, 20 % off. The 60-day lookback is not covered, so it
    // cannot drag the result to $0. 30 days: level 400 costs 30 × 320 + 20 × 600 = 21,600
    // against 24,000 on demand (saves 2,400 = 10 %); level 1,000 saves nothing. 7 days: 400.
    // Commit 320/day = 320 × 365 / 12 = 9,733.33 a month.
    let mut h = crate::History::default();
    for (i, cost) in ["1000"; 20].iter().chain(["400"; 10].iter()).enumerate() {
        h.rows.push(crate::source::DailyRow {
            day: jan().checked_add_days(Days::new(i as u64)).unwrap(),
            workload: "w".into(),
            provider: "openai".into(),
            model: "m".into(),
            team: String::new(),
            requests: 1,
            errors: 0,
            usage: Default::default(),
            cost: usd(cost),
        });
    }
    let daily = crate::spend::covered_daily_series(&h, None, 60);
    let r = recommend(&daily, dec("0.2"), 12).unwrap();
    assert!(r.lookbacks[1].available && !r.lookbacks[2].available);
    assert_eq!(r.monthly_commitment, usd("9733.33"));
    assert_eq!(r.expected_savings_rate, dec("0.1"));
    // An empty ledger has no lookback at all: an error that says what it has.
    let empty = crate::spend::covered_daily_series(&crate::History::default(), None, 60);
    let err = recommend(&empty, dec("0.2"), 12).unwrap_err();
    assert_eq!(err, RecommendError::TooShort(0));
    assert!(err.to_string().contains("covers 0 day(s)"));
    assert!(err.to_string().contains("at least 7"));
}
