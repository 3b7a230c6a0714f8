use super::*;
use crate::source::DailyRow;

fn m(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

pub(crate) fn row(
    day: &str,
    workload: &str,
    (provider, model): (&str, &str),
    requests: u64,
    cost: &str,
) -> DailyRow {
    DailyRow {
        day: NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
        workload: workload.into(),
        provider: provider.into(),
        model: model.into(),
        team: "t".into(),
        requests,
        errors: 0,
        usage: TokenUsage {
            input: requests * 100,
            output: requests * 10,
            ..Default::default()
        },
        cost: m(cost),
    }
}

#[test]
fn hhi_of_a_60_30_10_split_is_4600() {
    // 60² + 30² + 10² = 3600 + 900 + 100 = 4600
    assert_eq!(hhi(&[m("60"), m("30"), m("10")]), Decimal::from(4600));
    // One vendor: 100² = 10,000. Nothing spent: 0.
    assert_eq!(hhi(&[m("5")]), Decimal::from(10_000));
    assert_eq!(hhi(&[]), Decimal::ZERO);
}

#[test]
fn slope_is_least_squares() {
    // y = 2x + 1 exactly → slope 2; a flat line → 0.
    let ys: Vec<Decimal> = [1, 3, 5, 7].iter().map(|v| Decimal::from(*v)).collect();
    assert_eq!(slope(&ys), Decimal::from(2));
    assert_eq!(slope(&[Decimal::ONE, Decimal::ONE]), Decimal::ZERO);
}

#[test]
fn report_groups_by_dimension_and_month_with_unit_economics() {
    let h = History {
        rows: vec![
            row("2026-10-01", "support", ("openai", "a"), 100, "3.00"),
            row("2026-10-02", "support", ("mistral", "b"), 100, "1.00"),
            row("2026-11-01", "review", ("openai", "a"), 10, "6.00"),
        ],
        ..Default::default()
    };
    let r = report(&h, Dimension::Provider, Period::Month);
    let oct: Vec<_> = r.rows.iter().filter(|r| r.period == "2026-10").collect();
    assert_eq!(oct.len(), 2);
    // October: openai 3.00 of 4.00 = 0.75 share; 3.00 / 100 requests = 0.03 per request = 30 per 1k.
    assert_eq!(
        (oct[0].key.as_str(), oct[0].share),
        ("openai", Decimal::from_str("0.75").unwrap())
    );
    assert_eq!(oct[0].cost_per_request, m("0.03"));
    assert_eq!(oct[0].cost_per_1k_requests.to_string(), "30");
    assert_eq!(r.total_cost, m("10"));
    // Vendors overall: openai 9, mistral 1 → 90² + 10² = 8200.
    assert_eq!(r.vendor_hhi, Decimal::from(8200));
    assert_eq!(r.workload_vendor_hhi["review"], Decimal::from(10_000));
}

#[test]
fn growth_compares_the_last_30_days_with_the_30_before() {
    let mut rows = Vec::new();
    let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    for i in 0..60 {
        let d = start + chrono::Duration::days(i);
        // $1/day for 30 days, then $1.50/day: growth 45 / 30 − 1 = 0.5.
        let cost = if i < 30 { "1" } else { "1.5" };
        rows.push(row(
            &d.format("%Y-%m-%d").to_string(),
            "w",
            ("openai", "a"),
            1,
            cost,
        ));
    }
    let h = History {
        rows,
        ..Default::default()
    };
    let g = &report(&h, Dimension::Workload, Period::Total).growth[0];
    assert_eq!(g.growth_rate, Some(Decimal::from_str("0.5").unwrap()));
    assert!(g.trend_per_day > Decimal::ZERO);
    assert_eq!((g.last_30d, g.previous_30d), (m("45"), m("30")));
}

#[test]
fn the_covered_daily_series_never_reaches_before_the_first_recorded_day() {
    // 30 days of openai and one mistral day: the series for openai has 30 entries, not 60,
    // and a covered day without openai traffic is $0.
    let mut h = History::default();
    for d in 1..=30 {
        if d != 15 {
            let day = format!("2026-11-{d:02}");
            h.rows.push(row(&day, "w", ("openai", "a"), 1, "10"));
        }
    }
    h.rows
        .push(row("2026-11-15", "w", ("mistral", "b"), 1, "3"));
    let s = covered_daily_series(&h, Some("openai"), 60);
    assert_eq!(s.len(), 30);
    assert_eq!(s[0].0, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    assert_eq!(s[14].1, Money::ZERO);
    assert_eq!(covered_daily_series(&h, None, 7).len(), 7);
    assert!(covered_daily_series(&History::default(), None, 60).is_empty());
}
