//! Properties checked over seeded ranges of generated offers and usage (no proptest: plain
//! loops over a fixed seed, so a failure names its case and always reproduces).

use super::billing::{Month, Totals, bill};
use super::capacity::Profile;
use super::montecarlo::SplitMix64;
use super::recommend::window_cost;
use super::schedule::Schedule;
use super::test_support::*;
use super::*;
use chrono::{Days, Months};
use rust_decimal::Decimal;
use switchyard_primitives::Money;

const CASES: u64 = 300;

struct Gen(SplitMix64);

impl Gen {
    fn new(case: u64) -> Gen {
        Gen(SplitMix64::new(
            0xC0FFEE ^ case.wrapping_mul(0x1000_0000_01B3),
        ))
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// A decimal in [0, max_hundredths / 100] with two places.
    fn hundredths(&mut self, max: u64) -> Decimal {
        Decimal::new(self.below(max + 1) as i64, 2)
    }
    fn money(&mut self, max_dollars: u64) -> Money {
        Money(Decimal::new(self.below(max_dollars * 100 + 1) as i64, 2))
    }
}

fn random_commit(g: &mut Gen) -> Commit {
    let discount = g.hundredths(50);
    Commit {
        amount: Money(Decimal::from(1_000 + g.below(49_000))),
        period: if g.chance(50) {
            Period::Month
        } else {
            Period::Year
        },
        discount,
        kind: if g.chance(50) {
            CommitKind::Minimum
        } else {
            CommitKind::Drawdown
        },
        overage_discount: if g.chance(50) {
            discount
        } else {
            g.hundredths(50)
        },
        rollover: g.chance(30).then(|| Rollover {
            fraction: g.hundredths(100),
            cap: g.chance(50).then(|| g.money(5_000)),
        }),
        escalation_per_year: if g.chance(30) {
            g.hundredths(20)
        } else {
            Decimal::ZERO
        },
    }
}

fn random_offer(g: &mut Gen, reserved: bool) -> Offer {
    let mut o = Offer::on_demand(jan(), 1 + g.below(24) as u32);
    if g.chance(70) {
        o.commit = Some(random_commit(g));
    }
    if g.chance(30) {
        let mut above = Decimal::ZERO;
        for _ in 0..1 + g.below(3) {
            above += Decimal::from(1 + g.below(20_000));
            o.tiers.push(Tier {
                above: Money(above),
                discount: g.hundredths(30),
            });
        }
    }
    if g.chance(30) {
        o.mix.batch_share = g.hundredths(50);
        o.mix.batch_discount = g.hundredths(60);
    }
    if g.chance(20) {
        o.mix.priority_share = g.hundredths(50);
        o.mix.priority_premium = g.hundredths(50);
    }
    if reserved && g.chance(30) {
        o.reserved = Some(Reserved {
            units: 1 + g.below(4) as u32,
            hourly_per_unit: Money(Decimal::from(1 + g.below(5))),
            tokens_per_minute_per_unit: 1_000 + g.below(50_000),
            overflow_discount: g.hundredths(30),
        });
    }
    o
}

fn random_months(g: &mut Gen, offer: &Offer) -> Vec<Month> {
    (0..offer.term_months)
        .map(|m| Month {
            date: offer.start.checked_add_months(Months::new(m)).unwrap(),
            on_demand: g.money(60_000),
        })
        .collect()
}

fn random_profile(g: &mut Gen) -> Profile {
    let hours: Vec<u64> = (0..24 + g.below(144))
        .map(|_| g.below(5_000_000))
        .chain([1])
        .collect();
    Profile::new(&hours, Money(Decimal::from(20_000))).unwrap()
}

#[test]
fn effective_savings_never_exceed_the_best_discount_available() {
    let slack = Decimal::new(1, 20); // division rounding in the 28th digit
    for case in 0..CASES {
        let mut g = Gen::new(case);
        let offer = random_offer(&mut g, false);
        let t = Totals::of(&bill(&offer, &random_months(&mut g, &offer), None));
        if t.on_demand.is_zero() {
            continue;
        }
        let rate = (t.on_demand.0 - t.cost.0) / t.on_demand.0;
        let best = offer.best_discount().unwrap();
        assert!(
            rate <= best + slack,
            "case {case}: savings {rate} > best discount {best}"
        );
    }
}

#[test]
fn cost_is_monotone_non_decreasing_in_usage() {
    let slack = Money(Decimal::new(1, 12));
    for case in 0..CASES {
        let mut g = Gen::new(case);
        let offer = random_offer(&mut g, true);
        let profile = random_profile(&mut g);
        let months = random_months(&mut g, &offer);
        let mut more = months.clone();
        let j = g.below(more.len() as u64) as usize;
        more[j].on_demand += g.money(30_000);
        let before = Totals::of(&bill(&offer, &months, Some(&profile))).cost;
        let after = Totals::of(&bill(&offer, &more, Some(&profile))).cost;
        assert!(
            after + slack >= before,
            "case {case}: more usage in month {j} cut cost {before} → {after}"
        );
    }
}

#[test]
fn unused_commitment_is_exactly_committed_minus_drawn() {
    for case in 0..CASES {
        let mut g = Gen::new(case);
        let offer = random_offer(&mut g, false);
        if offer.commit.is_none() {
            continue;
        }
        let months = random_months(&mut g, &offer);
        let t = Totals::of(&bill(&offer, &months, None));
        let committed = Schedule::new(&offer, &months).committed();
        // Every committed dollar is drawn (fresh or as rolled-over credit) or expires.
        assert_eq!(t.expired + t.drawn, committed, "case {case}");
    }
}

#[test]
fn break_even_of_a_plain_commit_is_one_minus_the_discount() {
    for case in 0..CASES / 3 {
        let mut g = Gen::new(case);
        let discount = Decimal::new(1 + g.below(70) as i64, 2);
        let mut offer = commit_offer("1", "0", 1 + g.below(36) as u32);
        let c = commit_of(&mut offer);
        c.amount = Money(Decimal::from(100 + g.below(100_000)));
        (c.discount, c.overage_discount) = (discount, discount);
        c.period = if g.chance(50) {
            Period::Month
        } else {
            Period::Year
        };
        c.kind = if g.chance(50) {
            CommitKind::Minimum
        } else {
            CommitKind::Drawdown
        };
        let usage = UsageHistory {
            monthly: vec![(date(2025, 12, 1), g.money(50_000))],
            hourly_tokens: None,
        };
        let r = simulate(
            &offer,
            &usage,
            &GrowthModel::default(),
            &SimOptions {
                paths: 1,
                seed: case,
            },
        )
        .unwrap();
        assert_eq!(
            r.break_even_utilisation,
            Some(Decimal::ONE - discount),
            "case {case}: {offer:?}"
        );
    }
}

#[test]
fn monte_carlo_percentiles_are_ordered_and_collapse_without_volatility() {
    for case in 0..CASES / 10 {
        let mut g = Gen::new(case);
        let mut offer = random_offer(&mut g, true);
        offer.term_months = 1 + g.below(6) as u32;
        let last = g.money(40_000);
        let usage = UsageHistory {
            monthly: vec![(date(2025, 12, 1), last)],
            hourly_tokens: Some((0..48).map(|_| g.below(3_000_000)).chain([1]).collect()),
        };
        let mean = Decimal::new(g.below(15) as i64 - 5, 2);
        let noisy = GrowthModel {
            monthly_growth_mean: mean,
            monthly_growth_volatility: g.hundredths(30),
        };
        let opts = SimOptions {
            paths: 60,
            seed: case,
        };
        let r = simulate(&offer, &usage, &noisy, &opts).unwrap();
        assert!(
            r.p5_cost <= r.p50_cost && r.p50_cost <= r.p95_cost,
            "case {case}"
        );
        // Zero volatility: month k after Dec 2025 is last × (1 + mean)^k, exact for k ≤ 6.
        let flat = GrowthModel {
            monthly_growth_mean: mean,
            monthly_growth_volatility: Decimal::ZERO,
        };
        let r = simulate(&offer, &usage, &flat, &opts).unwrap();
        let mut u = last;
        let months: Vec<Month> = (0..offer.term_months)
            .map(|m| {
                u = u * (Decimal::ONE + mean);
                Month {
                    date: jan().checked_add_months(Months::new(m)).unwrap(),
                    on_demand: u,
                }
            })
            .collect();
        let profile = Profile::new(usage.hourly_tokens.as_ref().unwrap(), last);
        let want = Totals::of(&bill(&offer, &months, profile.as_ref())).cost;
        assert_eq!(
            (r.p5_cost, r.p50_cost, r.p95_cost),
            (want, want, want),
            "case {case}"
        );
    }
}

#[test]
fn recommend_never_commits_to_a_level_that_loses_money_on_its_own_history() {
    for case in 0..CASES {
        let mut g = Gen::new(case);
        let days = 7 + g.below(110) as u32;
        let (base, trend) = (g.below(5_000) as i64, g.below(200) as i64 - 100);
        let values: Vec<Money> = (0..days as i64)
            .map(|d| {
                let spike = if g.chance(5) { 20_000 } else { 0 };
                let noise = g.below(1_000) as i64;
                Money(Decimal::from((base + trend * d + noise + spike).max(0)))
            })
            .collect();
        let daily: Vec<_> = values
            .iter()
            .zip(0u64..)
            .map(|(&v, i)| (jan().checked_add_days(Days::new(i)).unwrap(), v))
            .collect();
        let discount = Decimal::new(5 + g.below(56) as i64, 2);
        let r = recommend(&daily, discount, 12).unwrap();
        let keep = Decimal::ONE - discount;
        let level = Money(r.monthly_commitment.0 * Decimal::from(12) / Decimal::from(365) / keep);
        for l in r.lookbacks.iter().filter(|l| l.available) {
            let window = &values[values.len() - l.days as usize..];
            let savings = window.iter().copied().sum::<Money>() - window_cost(window, level, keep);
            assert!(
                savings >= Money::ZERO,
                "case {case}: loses {savings} over {} days",
                l.days
            );
            let cap = l
                .best
                .as_ref()
                .map_or(Money::ZERO, |c| c.monthly_commitment);
            assert!(
                r.monthly_commitment <= cap,
                "case {case}: above the {}-day result",
                l.days
            );
        }
        assert!(r.expected_term_savings >= Money::ZERO, "case {case}");
    }
}
