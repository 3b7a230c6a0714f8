//! Simulation results: the docs' worked example, Monte Carlo behaviour, triggers, input errors.

use super::montecarlo::Plan;
use super::test_support::*;
use super::*;

/// docs/contracts.md, "Worked example": keep the two in step.
fn worked_example() -> Offer {
    let mut offer = commit_offer("10000", "0.2", 3);
    commit_of(&mut offer).rollover = Some(Rollover {
        fraction: dec("0.5"),
        cap: Some(usd("1500")),
    });
    offer.exit_fee = Some(ExitFee::FractionOfRemaining(dec("0.5")));
    offer
}

#[test]
fn the_worked_example_in_the_docs_holds() {
    let r = backtest(&worked_example(), &["8000", "15000", "12500"]);
    // Month 1: 10,000 (6,400 drawn + 3,600 true-up; 1,500 rolls, 2,100 expires).
    // Month 2: 10,500 (credit 1,500 + 10,000 drawn; 500 overage). Month 3: 10,000 drawn.
    assert_eq!(
        r.p50_months.iter().map(|b| b.cost).collect::<Vec<_>>(),
        vec![usd("10000"), usd("10500"), usd("10000")]
    );
    assert_eq!(
        (r.on_demand_cost, r.expected_cost, r.expected_savings),
        (usd("35500"), usd("30500"), usd("5000"))
    );
    // 5,000 / 35,500 = 0.1408450704… → 0.140845.
    assert_eq!(r.effective_savings_rate, dec("0.140845"));
    // Drawn 6,400 + 11,500 + 10,000 = 27,900 of 30,000 → 93 %; waste 30,000 − 27,900.
    assert_eq!(
        (r.committed, r.utilisation, r.waste),
        (usd("30000"), Some(dec("0.93")), usd("2100"))
    );
    assert_eq!(
        (r.overage_p95, r.break_even_utilisation),
        (usd("500"), Some(dec("0.8")))
    );
    // Every month observed: all paths equal.
    assert_eq!(
        (r.p5_cost, r.p50_cost, r.p95_cost),
        (usd("30500"), usd("30500"), usd("30500"))
    );
    // Exit after month 1: spent 10,000; unpaid 20,000; fee 10,000. After month 2: spent
    // 20,500; unpaid 10,000; fee 5,000; total 25,500.
    let e: Vec<_> = r
        .exit
        .iter()
        .map(|e| (e.spent_to_date, e.unpaid_commitment, e.fee, e.total_if_exit))
        .collect();
    assert_eq!(
        e,
        vec![
            (usd("10000"), usd("20000"), usd("10000"), usd("20000")),
            (usd("20500"), usd("10000"), usd("5000"), usd("25500"))
        ]
    );
}

fn growing(mean: &str, vol: &str) -> (UsageHistory, GrowthModel) {
    let usage = UsageHistory {
        monthly: vec![(date(2025, 12, 1), usd("10000"))],
        hourly_tokens: None,
    };
    let growth = GrowthModel {
        monthly_growth_mean: dec(mean),
        monthly_growth_volatility: dec(vol),
    };
    (usage, growth)
}

#[test]
fn with_zero_volatility_every_percentile_is_the_deterministic_result() {
    // Last observed Dec 2025 at 10,000, +5 %/month: Jan 10,500, Feb 11,025, Mar 11,576.25.
    let offer = commit_offer("10000", "0.2", 3);
    let (usage, growth) = growing("0.05", "0");
    let r = simulate(&offer, &usage, &growth, &SimOptions::default()).unwrap();
    let expected = total(&bills(&offer, &["10500", "11025", "11576.25"]));
    // Jan: value 8,400 → 10,000. Feb: 8,820 → 10,000. Mar: 9,261 → 10,000.
    assert_eq!(expected, usd("30000"));
    assert_eq!(
        (r.p5_cost, r.p50_cost, r.p95_cost, r.expected_cost),
        (expected, expected, expected, expected)
    );
    assert_eq!(r.on_demand_cost, usd("33101.25"));
}

#[test]
fn monte_carlo_is_ordered_and_reproducible() {
    let offer = commit_offer("10000", "0.2", 12);
    let (usage, growth) = growing("0.02", "0.15");
    let opts = SimOptions {
        paths: 400,
        seed: 42,
    };
    let a = simulate(&offer, &usage, &growth, &opts).unwrap();
    assert!(a.p5_cost <= a.p50_cost && a.p50_cost <= a.p95_cost);
    assert!(a.p5_cost < a.p95_cost, "volatility must spread outcomes");
    assert_eq!(a, simulate(&offer, &usage, &growth, &opts).unwrap());
    let other = simulate(
        &offer,
        &usage,
        &growth,
        &SimOptions {
            paths: 400,
            seed: 43,
        },
    )
    .unwrap();
    assert_ne!(a.expected_cost, other.expected_cost);
    // The P50 path's own bill totals the P50 cost.
    assert_eq!(total(&a.p50_months), a.p50_cost);
}

#[test]
fn offers_starting_in_different_months_share_the_same_usage_path() {
    // Common random numbers: a path's draws are indexed by calendar month.
    let (usage, growth) = growing("0.01", "0.2");
    let jan_offer = commit_offer("1", "0.1", 6);
    let mut mar_offer = jan_offer.clone();
    mar_offer.start = date(2026, 3, 1);
    let a = Plan::new(&jan_offer, &usage).unwrap().path(&growth, 9, 17);
    let b = Plan::new(&mar_offer, &usage).unwrap().path(&growth, 9, 17);
    assert_eq!(a[2..], b[..4]);
}

#[test]
fn compare_puts_the_on_demand_baseline_first() {
    let offer = commit_offer("10000", "0.2", 3);
    let (usage, growth) = growing("0.05", "0");
    let all = compare(
        std::slice::from_ref(&offer),
        &usage,
        &growth,
        &SimOptions::default(),
    )
    .unwrap();
    assert_eq!(all.len(), 2);
    let base = &all[0];
    assert!(base.baseline && !all[1].baseline);
    assert_eq!(
        (base.expected_cost, base.effective_savings_rate),
        (usd("33101.25"), dec("0"))
    );
    assert_eq!(
        (base.utilisation, base.break_even_utilisation),
        (None, None)
    );
    assert!(
        compare(&[], &usage, &growth, &SimOptions::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn triggers_report_the_first_month_usage_passes_the_milestone() {
    // +10 %/month from 10,000: Jan 11,000, Feb 12,100, Mar 13,310. "Above 12,000" first
    // fires in February; "above 100,000" never does.
    let mut offer = commit_offer("10000", "0.2", 3);
    offer.triggers = vec![
        Trigger {
            above: usd("12000"),
            action: "ask for tier 2".into(),
        },
        Trigger {
            above: usd("100000"),
            action: "renegotiate".into(),
        },
    ];
    let (usage, growth) = growing("0.1", "0");
    let r = simulate(&offer, &usage, &growth, &SimOptions::default()).unwrap();
    assert_eq!(
        (r.triggers[0].month, r.triggers[0].date),
        (Some(2), Some(date(2026, 2, 1)))
    );
    assert_eq!((r.triggers[1].month, r.triggers[1].date), (None, None));
}

#[test]
fn reserved_capacity_is_simulated_against_the_hourly_profile() {
    // As in the billing test, over a forecast month: April 2026 at $3,000 (no growth).
    let mut offer = Offer::on_demand(date(2026, 4, 1), 1);
    offer.reserved = Some(Reserved {
        units: 2,
        hourly_per_unit: usd("1"),
        tokens_per_minute_per_unit: 1000,
        overflow_discount: dec("0"),
    });
    let mut usage = UsageHistory {
        monthly: vec![(date(2026, 3, 1), usd("3000"))],
        hourly_tokens: None,
    };
    let growth = GrowthModel::default();
    let err = simulate(&offer, &usage, &growth, &SimOptions::default()).unwrap_err();
    assert_eq!(
        err,
        SimError::MissingHourlyTokens {
            offer: "on-demand".into()
        }
    );
    assert!(
        err.to_string()
            .starts_with("usage.hourly_tokens is required")
    );
    usage.hourly_tokens = Some(vec![60_000, 120_000, 240_000, 180_000]);
    let r = simulate(&offer, &usage, &growth, &SimOptions::default()).unwrap();
    assert_eq!(
        (r.expected_cost, r.reserved_fees, r.waste),
        (usd("2340"), usd("1440"), usd("180"))
    );
    assert_eq!(
        (r.reserved_utilisation, r.utilisation),
        (Some(dec("0.875")), None)
    );
    // Leaving owes nothing more here: a 1-month term has no early exit.
    assert!(r.exit.is_empty());
}

#[test]
fn bad_inputs_are_errors_naming_the_field() {
    let offer = commit_offer("10000", "0.2", 3);
    let (usage, growth) = growing("0", "0");
    let opts = SimOptions::default();
    let empty = UsageHistory::default();
    assert_eq!(
        simulate(&offer, &empty, &growth, &opts).unwrap_err(),
        SimError::EmptyHistory
    );
    let wild = GrowthModel {
        monthly_growth_mean: dec("0"),
        monthly_growth_volatility: dec("-0.1"),
    };
    let err = simulate(&offer, &usage, &wild, &opts).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("growth.monthly_growth_volatility is -0.1"),
        "{err}"
    );
    let none = SimOptions { paths: 0, seed: 1 };
    assert_eq!(
        simulate(&offer, &usage, &growth, &none).unwrap_err(),
        SimError::NoPaths
    );
    // A contract month inside the observed span but missing from it.
    let gappy = UsageHistory {
        monthly: vec![(date(2025, 12, 1), usd("1")), (date(2026, 2, 1), usd("1"))],
        hourly_tokens: None,
    };
    let err = simulate(&offer, &gappy, &growth, &opts).unwrap_err();
    assert_eq!(
        err,
        SimError::HistoryGap {
            offer: "commit".into(),
            month: jan()
        }
    );
    let negative = UsageHistory {
        monthly: vec![(jan(), usd("-1"))],
        hourly_tokens: None,
    };
    assert!(
        simulate(&offer, &negative, &growth, &opts)
            .unwrap_err()
            .to_string()
            .starts_with("usage.monthly[0]")
    );
}
