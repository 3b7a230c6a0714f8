//! Every billing formula against a hand-computed case, the arithmetic in the comments.

use super::capacity::Profile;
use super::metrics::exit_points;
use super::test_support::*;
use super::*;

#[test]
fn a_minimum_commit_under_used_pays_the_commitment() {
    // $10,000/month at 20 % off; usage $8,000 on-demand.
    // Drawn at the committed rate: 8,000 × 0.8 = 6,400; shortfall 10,000 − 6,400 = 3,600 is
    // trued up at the period's end, so the month costs 10,000.
    let offer = commit_offer("10000", "0.2", 1);
    let b = &bills(&offer, &["8000"])[0];
    assert_eq!(
        (b.drawn, b.true_up, b.expired, b.cost),
        (usd("6400"), usd("3600"), usd("3600"), usd("10000"))
    );
    // Effective savings = (8,000 − 10,000) / 8,000 = −25 %; waste = 3,600;
    // utilisation = 6,400 / 10,000 = 64 %.
    let r = backtest(&offer, &["8000"]);
    assert_eq!(r.effective_savings_rate, dec("-0.25"));
    assert_eq!(r.waste, usd("3600"));
    assert_eq!(r.utilisation, Some(dec("0.64")));
    assert_eq!(r.expected_savings, usd("-2000"));
}

#[test]
fn usage_above_the_commitment_is_overage_at_the_overage_rate() {
    // Usage $15,000: valued 15,000 × 0.8 = 12,000; the commitment covers 10,000 of it, i.e.
    // 10,000 / 0.8 = 12,500 on-demand; the other 2,500 on-demand is overage.
    // Default overage rate = commit discount: 2,500 × 0.8 = 2,000 → month costs 12,000;
    // savings = (15,000 − 12,000) / 15,000 = 20 %.
    let mut offer = commit_offer("10000", "0.2", 1);
    let b = &bills(&offer, &["15000"])[0];
    assert_eq!(
        (b.drawn, b.overage, b.cost),
        (usd("10000"), usd("2000"), usd("12000"))
    );
    assert_eq!(
        backtest(&offer, &["15000"]).effective_savings_rate,
        dec("0.2")
    );
    // overage_rate = 0.10: 2,500 × 0.9 = 2,250 → 12,250.
    commit_of(&mut offer).overage_discount = dec("0.1");
    let b = &bills(&offer, &["15000"])[0];
    assert_eq!((b.overage, b.cost), (usd("2250"), usd("12250")));
}

#[test]
fn a_drawdown_is_prepaid_and_costs_the_same_over_a_full_period() {
    // Prepay 10,000 at the month's start; usage 8,000 draws 6,400; 3,600 expires. No true-up.
    let mut offer = commit_offer("10000", "0.2", 2);
    commit_of(&mut offer).kind = CommitKind::Drawdown;
    let b = bills(&offer, &["8000", "15000"]);
    assert_eq!(
        (b[0].prepaid, b[0].true_up, b[0].expired, b[0].cost),
        (usd("10000"), usd("0"), usd("3600"), usd("10000"))
    );
    // Month 2: prepaid 10,000 + overage 2,000 (as in the minimum case) = 12,000.
    assert_eq!(
        (b[1].prepaid, b[1].overage, b[1].cost),
        (usd("10000"), usd("2000"), usd("12000"))
    );
}

#[test]
fn an_annual_minimum_trues_up_in_month_twelve_while_a_drawdown_prepays_in_month_one() {
    // $120,000/year at 20 %; usage $8,000/month draws 6,400/month.
    // Minimum: months 1–11 bill 6,400; month 12 bills 6,400 + true-up
    // 120,000 − 12 × 6,400 = 43,200 → 49,600. Drawdown: 120,000 in month 1, then nothing.
    let mut offer = commit_offer("120000", "0.2", 12);
    commit_of(&mut offer).period = Period::Year;
    let usage = ["8000"; 12];
    let min = bills(&offer, &usage);
    assert_eq!(min[0].cost, usd("6400"));
    assert_eq!(
        (min[11].true_up, min[11].cost),
        (usd("43200"), usd("49600"))
    );
    commit_of(&mut offer).kind = CommitKind::Drawdown;
    let draw = bills(&offer, &usage);
    assert_eq!(
        (draw[0].cost, draw[1].cost, draw[11].cost),
        (usd("120000"), usd("0"), usd("0"))
    );
    assert_eq!(total(&min), usd("120000"));
    assert_eq!(total(&draw), usd("120000"));
}

#[test]
fn rollover_carries_capped_unused_commitment_as_credit_drawn_first() {
    // $10,000/month at 20 %, rollover 50 % capped at $1,500; usage 8,000 then 15,000.
    // Month 1: drawn 6,400, unused 3,600, rolled min(0.5 × 3,600, 1,500) = 1,500,
    //          expired 3,600 − 1,500 = 2,100; cost 10,000 (6,400 + true-up 3,600).
    // Month 2: value 12,000 = credit 1,500 + fresh 10,000 + 500 uncovered;
    //          overage 500 / 0.8 × 0.8 = 500; cost 10,000 fresh + 500 = 10,500.
    // Total 20,500 (22,000 without rollover); waste 2,100 = committed 20,000 − drawn 17,900.
    let mut offer = commit_offer("10000", "0.2", 2);
    commit_of(&mut offer).rollover = Some(Rollover {
        fraction: dec("0.5"),
        cap: Some(usd("1500")),
    });
    let b = bills(&offer, &["8000", "15000"]);
    assert_eq!(
        (b[0].rolled_over, b[0].expired, b[0].cost),
        (usd("1500"), usd("2100"), usd("10000"))
    );
    assert_eq!(
        (b[1].drawn_from_rollover, b[1].drawn, b[1].overage),
        (usd("1500"), usd("11500"), usd("500"))
    );
    assert_eq!(b[1].cost, usd("10500"));
    assert_eq!(total(&b), usd("20500"));
    let r = backtest(&offer, &["8000", "15000"]);
    assert_eq!(
        (r.waste, r.committed, r.utilisation),
        (usd("2100"), usd("20000"), Some(dec("0.895")))
    );
}

#[test]
fn escalation_raises_the_commitment_from_the_second_contract_year() {
    // $1,000/month, +10 %/year, 24 months, no usage: months 1–12 cost 1,000, months 13–24
    // cost 1,100; total 12 × 1,000 + 12 × 1,100 = 25,200.
    let mut offer = commit_offer("1000", "0.2", 24);
    commit_of(&mut offer).escalation_per_year = dec("0.1");
    let b = bills(&offer, &["0"; 24]);
    assert_eq!(
        (b[11].cost, b[12].cost, total(&b)),
        (usd("1000"), usd("1100"), usd("25200"))
    );
    // Annual periods over 18 months: year 1 = 12,000; year 2 is 6 months, prorated:
    // 12,000 × 1.1 × 6/12 = 6,600, trued up in month 18; total 18,600.
    let mut offer = commit_offer("12000", "0.2", 18);
    commit_of(&mut offer).period = Period::Year;
    commit_of(&mut offer).escalation_per_year = dec("0.1");
    let b = bills(&offer, &["0"; 18]);
    assert_eq!(
        (b[11].cost, b[17].cost, total(&b)),
        (usd("12000"), usd("6600"), usd("18600"))
    );
}

#[test]
fn tiers_are_marginal_like_tax_brackets_and_stack_with_the_batch_tier() {
    // Tiers: 10 % above $10,000, 20 % above $20,000; usage $25,000.
    // Saving = (20,000 − 10,000) × 0.10 + (25,000 − 20,000) × 0.20 = 1,000 + 1,000 = 2,000
    // → 23,000; savings rate 2,000 / 25,000 = 8 %. Below the first tier: no discount.
    let mut offer = Offer::on_demand(jan(), 1);
    offer.tiers = vec![
        Tier {
            above: usd("10000"),
            discount: dec("0.1"),
        },
        Tier {
            above: usd("20000"),
            discount: dec("0.2"),
        },
    ];
    assert_eq!(bills(&offer, &["25000"])[0].cost, usd("23000"));
    assert_eq!(bills(&offer, &["9000"])[0].cost, usd("9000"));
    assert_eq!(
        backtest(&offer, &["25000"]).effective_savings_rate,
        dec("0.08")
    );
    // 40 % in batch at 50 % off: mix factor 1 − 0.4 × 0.5 = 0.8; tiers measured on the full
    // 25,000 apply to what is billed: 25,000 × 0.8 − 2,000 × 0.8 = 18,400.
    offer.mix = UsageMix {
        batch_share: dec("0.4"),
        batch_discount: dec("0.5"),
        ..UsageMix::default()
    };
    assert_eq!(bills(&offer, &["25000"])[0].cost, usd("18400"));
}

#[test]
fn batch_and_priority_shares_scale_list_cost() {
    // 40 % batch at 50 % off, 10 % priority at +50 %: factor 1 − 0.2 + 0.05 = 0.85;
    // $10,000 of usage costs 8,500.
    let mut offer = Offer::on_demand(jan(), 1);
    offer.mix = UsageMix {
        batch_share: dec("0.4"),
        batch_discount: dec("0.5"),
        priority_share: dec("0.1"),
        priority_premium: dec("0.5"),
    };
    assert_eq!(bills(&offer, &["10000"])[0].cost, usd("8500"));
}

fn reserved_offer(overflow_discount: &str) -> Offer {
    let mut offer = Offer::on_demand(date(2026, 4, 1), 1);
    offer.reserved = Some(Reserved {
        units: 2,
        hourly_per_unit: usd("1"),
        tokens_per_minute_per_unit: 1000,
        overflow_discount: dec(overflow_discount),
    });
    offer
}

#[test]
fn reserved_capacity_covers_usage_up_to_capacity_and_bills_overflow() {
    // Capacity 2 × 1,000 × 60 = 120,000 tokens/hour; fee 2 × $1 × 720 h (April) = 1,440.
    // Window [60k, 120k, 240k, 180k] represents a $3,000 month. At $3,000 (scale 1):
    // overflow 0 + 0 + 120k + 60k = 180k of 600k tokens = 30 % → 3,000 × 0.3 = 900 at
    // on-demand; cost 1,440 + 900 = 2,340. Served 60k + 3 × 120k = 420k of 480k → 87.5 %;
    // unused fee 1,440 × 0.125 = 180.
    let profile = Profile::new(&[60_000, 120_000, 240_000, 180_000], usd("3000")).unwrap();
    let b = &bills_with(&reserved_offer("0"), &["3000"], &profile)[0];
    assert_eq!(
        (b.reserved_fee, b.pay_as_you_go, b.cost),
        (usd("1440"), usd("900"), usd("2340"))
    );
    assert_eq!(
        (b.reserved_utilisation, b.reserved_unused),
        (Some(dec("0.875")), usd("180"))
    );
    // overflow_discount 10 %: 900 × 0.9 = 810 → 2,250.
    assert_eq!(
        bills_with(&reserved_offer("0.1"), &["3000"], &profile)[0].cost,
        usd("2250")
    );
    // Usage doubles ($6,000, scale 2): [120k, 240k, 480k, 360k] → overflow 0 + 120k + 360k +
    // 240k = 720k of 1.2M = 60 % → 3,600; every hour full → utilisation 1; cost 5,040.
    let b = &bills_with(&reserved_offer("0"), &["6000"], &profile)[0];
    assert_eq!(
        (b.pay_as_you_go, b.reserved_utilisation, b.cost),
        (usd("3600"), Some(dec("1")), usd("5040"))
    );
}

#[test]
fn exit_after_month_five_costs_spend_to_date_plus_the_fee_on_unpaid_commitment() {
    // $10,000/month minimum, 12 months, fee 50 % of remaining; usage $8,000/month.
    // After month 5: spent 5 × 10,000 = 50,000; unpaid 7 × 10,000 = 70,000; fee 35,000;
    // total 85,000.
    let mut offer = commit_offer("10000", "0.2", 12);
    offer.exit_fee = Some(ExitFee::FractionOfRemaining(dec("0.5")));
    let usage = ["8000"; 12];
    let e = &exit_points(&offer, &bills(&offer, &usage))[4];
    assert_eq!(
        (e.month, e.spent_to_date, e.unpaid_commitment),
        (5, usd("50000"), usd("70000"))
    );
    assert_eq!((e.fee, e.total_if_exit), (usd("35000"), usd("85000")));
    // Without a clause the whole unpaid commitment is owed: 50,000 + 70,000.
    offer.exit_fee = None;
    assert_eq!(
        exit_points(&offer, &bills(&offer, &usage))[4].total_if_exit,
        usd("120000")
    );
    // A fixed fee: 50,000 + 25,000.
    offer.exit_fee = Some(ExitFee::Fixed(usd("25000")));
    assert_eq!(
        exit_points(&offer, &bills(&offer, &usage))[4].total_if_exit,
        usd("75000")
    );
    // Annual $120,000 minimum: spent 5 × 6,400 = 32,000; unpaid 120,000 − 32,000 = 88,000;
    // fee 44,000; total 76,000. Annual drawdown: 120,000 prepaid, nothing unpaid, no fee.
    let mut annual = commit_offer("120000", "0.2", 12);
    commit_of(&mut annual).period = Period::Year;
    annual.exit_fee = Some(ExitFee::FractionOfRemaining(dec("0.5")));
    let e = &exit_points(&annual, &bills(&annual, &usage))[4];
    assert_eq!(
        (e.spent_to_date, e.unpaid_commitment, e.fee),
        (usd("32000"), usd("88000"), usd("44000"))
    );
    commit_of(&mut annual).kind = CommitKind::Drawdown;
    let e = &exit_points(&annual, &bills(&annual, &usage))[4];
    assert_eq!(
        (e.spent_to_date, e.fee, e.total_if_exit),
        (usd("120000"), usd("0"), usd("120000"))
    );
    // Early exits only: after months 1 … 11.
    assert_eq!(exit_points(&annual, &bills(&annual, &usage)).len(), 11);
}

#[test]
fn an_offer_without_commitment_pays_on_demand_and_owes_nothing_to_leave() {
    let offer = Offer::on_demand(jan(), 3);
    let b = bills(&offer, &["100", "200", "300"]);
    assert_eq!(total(&b), usd("600"));
    assert!(exit_points(&offer, &b).iter().all(|e| e.fee.is_zero()));
}
