//! The vendor-strategy document's tests: sections, the summary's verdicts, figures that add up.

use super::*;
use crate::spend::tests::row;

pub(crate) fn fixture() -> (History, Catalog, NaiveDate) {
    let mut c = Catalog::default();
    c.merge_toml(
        "[[model]]\nid='a'\nprovider='openai'\ncreator='openai'\ncontext_window=100000\nretirement='2027-01-01'\nsuccessor='b'\n[[model.prices]]\neffective_from='2025-01-01'\ninput='1'\noutput='1'\n\
         [[model]]\nid='b'\nprovider='other'\ncreator='other'\ncontext_window=100000\n[[model.prices]]\neffective_from='2025-01-01'\ninput='0.5'\noutput='0.5'\n",
        "t",
    )
    .unwrap();
    let h = History {
        rows: vec![
            row("2026-11-20", "support", ("openai", "a"), 1000, "0.11"),
            row("2026-11-21", "review", ("other", "b"), 10, "0.01"),
        ],
        ..Default::default()
    };
    (h, c, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap())
}

#[test]
fn document_has_every_section_and_the_doubling_plan() {
    let (h, c, today) = fixture();
    let d = build(
        &h,
        &c,
        today,
        &ReportOptions {
            owner: "Ana".into(),
            ..Default::default()
        },
    );
    assert_eq!(d.main_vendor.as_deref(), Some("openai"));
    assert_eq!(d.next_review, NaiveDate::from_ymd_opt(2027, 2, 26).unwrap());
    let plan = d.doubling.as_ref().unwrap();
    // support's 100,000 in + 10,000 out tokens at openai/a: 0.1 + 0.01 = 0.11 a month; doubled: +0.11.
    assert_eq!(plan.monthly_increase.to_string(), "0.11");
    // other/b would cost 0.055 a month, less than staying (0.22), but nothing proves it:
    // a candidate to evaluate, not the plan.
    let support = &plan.workloads[0];
    assert_eq!(support.if_it_stays.to_string(), "0.22");
    assert!(support.plan.is_none());
    assert_eq!(support.candidates[0].to, "other/b");
    let md = render_markdown(&d, &[]);
    for section in [
        "## Executive summary",
        "## Workloads",
        "## If openai doubled",
        "## Contract positions",
        "## Renegotiation triggers",
        "Owner: **Ana**",
        // The HHI is over all history, not the last 30 days: the summary says so.
        "Vendor concentration (HHI) over the whole history:",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    assert!(md.contains("a retires 2027-01-01"), "{md}");
    assert!(md.contains("### Candidates to evaluate"), "{md}");
    assert!(
        md.contains("`switchyard eval run --dataset support --candidate other/b`"),
        "{md}"
    );
    let html = render_html(&d, &md);
    assert!(html.contains("<h3>Candidates to evaluate</h3>"), "{html}");
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("<table>") && !html.contains("**"));
}

#[test]
fn proven_alternatives_are_called_out_in_the_summary() {
    let (h, c, today) = fixture();
    let evidence = vec![crate::lockin::Evidence {
        workload: "support".into(),
        candidate: "other/b".into(),
        passed: true,
        samples: 120,
        mean_diff: 0.004,
        ci_low: -0.01,
        ci_high: 0.02,
        cost_delta: Some(-0.38),
        source: "replay".into(),
        baseline: None,
    }];
    let d = build(
        &h,
        &c,
        today,
        &ReportOptions {
            evidence,
            ..Default::default()
        },
    );
    let md = render_markdown(&d, &[]);
    assert!(
        md.contains("- Workload **support** can move to **other/b**: proven on 120 samples"),
        "{md}"
    );
    assert!(
        md.contains("it costs 38% less (measured on replay)"),
        "{md}"
    );
    // Proven and cheaper than staying: the plan, priced at the measured −38 % of today's
    // 0.11 = 0.07 (rounded), saving 0.22 − 0.07 = 0.15 a month.
    let support = &d.doubling.as_ref().unwrap().workloads[0];
    let plan = support.plan.as_ref().unwrap();
    assert_eq!(
        (plan.to.as_str(), plan.monthly_cost.to_string()),
        ("other/b", "0.07".into())
    );
    assert!(support.candidates.is_empty() && support.stay.is_none());
    assert!(
        md.contains("| support | $0.11 | $0.22 | move to other/b (proven"),
        "{md}"
    );
    let plain = build(&h, &c, today, &ReportOptions::default());
    assert!(!render_markdown(&plain, &[]).contains("can move to"));
}

fn shadow_evidence(cost_delta: f64) -> Vec<crate::lockin::Evidence> {
    vec![crate::lockin::Evidence {
        workload: "support".into(),
        candidate: "other/b".into(),
        passed: true,
        samples: 60,
        mean_diff: 0.0,
        ci_low: 0.0,
        ci_high: 0.0,
        cost_delta: Some(cost_delta),
        source: "shadow traffic".into(),
        baseline: None,
    }]
}

#[test]
fn a_proven_alternative_measured_dearer_is_a_fallback_not_a_move_in_every_section() {
    // The catalog estimates other/b at −50 %; shadow traffic measured +177 %.
    let (h, c, today) = fixture();
    let opts = ReportOptions {
        evidence: shadow_evidence(1.77),
        ..Default::default()
    };
    let d = build(&h, &c, today, &opts);
    let md = render_markdown(&d, &[]);
    assert!(!md.contains("can move to"), "{md}");
    assert!(
        md.contains("- Workload **support**: **other/b** is proven on quality on 60 samples"),
        "{md}"
    );
    assert!(
        md.contains(
            "costs 177% more (measured on shadow traffic): a fallback option, not a saving"
        ),
        "{md}"
    );
    // The workloads table shows the measured figure, the estimate beside it, labelled.
    assert!(
        md.contains("other/b +177% (measured on shadow traffic; catalog estimate -50%)"),
        "{md}"
    );
    // Lock-in ranks and prices with the measured figure: 0.11 × 2.77 = 0.3047 for 30 days.
    let line = d
        .workloads
        .iter()
        .find(|w| w.workload == "support")
        .unwrap();
    let alt = &line.ranked_alternatives[0];
    assert_eq!(usd(alt.cost_30d), "$0.30");
    assert!(!alt.proven_saving());
    // The shock plan prices the move at the measured 0.30 a month, dearer than staying at
    // 0.22: it stays, and other/b is no candidate either.
    let support = &d.doubling.as_ref().unwrap().workloads[0];
    assert!(
        support.plan.is_none() && support.candidates.is_empty(),
        "{support:?}"
    );
    assert_eq!(
        support.stay.as_deref(),
        Some("the cheapest alternative, other/b, costs $0.30 a month, more than staying")
    );
}

#[test]
fn a_proven_alternative_with_unmeasured_cost_claims_no_saving() {
    let (h, c, today) = fixture();
    let mut evidence = shadow_evidence(0.0);
    evidence[0].cost_delta = None;
    let opts = ReportOptions {
        evidence,
        ..Default::default()
    };
    let md = render_markdown(&build(&h, &c, today, &opts), &[]);
    assert!(!md.contains("can move to"), "{md}");
    assert!(
        md.contains("its cost on this traffic is not measured yet (catalog estimate -50%), so no saving is claimed"),
        "{md}"
    );
}

#[test]
fn the_renegotiation_trigger_is_twice_the_vendors_last_30_days_not_its_all_history_average() {
    // openai: 0.11 a month 60 days ago, 0.33 in the last 30 days. The all-history average
    // (0.44 over 61 days ≈ 0.22 a month) would set the trigger at 0.43.
    let (mut h, c, today) = fixture();
    h.rows.push(crate::spend::tests::row(
        "2026-09-21",
        "support",
        ("openai", "a"),
        1000,
        "0.11",
    ));
    h.rows.push(crate::spend::tests::row(
        "2026-11-20",
        "support",
        ("openai", "a"),
        2000,
        "0.22",
    ));
    let d = build(&h, &c, today, &ReportOptions::default());
    let t = d.triggers.last().unwrap();
    assert!(
        t.starts_with("Renegotiate with openai when its monthly spend passes $0.66 (2× its $0.33 in the last 30 days)"),
        "{t}"
    );
}

#[test]
fn the_workloads_table_adds_up_to_the_summarys_spend_and_100_percent() {
    // Three workloads at 1.004: the summary says $3.01; rounded alone the rows say 1.00 ×
    // 3 = 3.00 and 33.3% × 3 = 99.9%.
    let (_, c, today) = fixture();
    let row = |w| crate::spend::tests::row("2026-11-20", w, ("openai", "a"), 10, "1.004");
    let h = History {
        rows: vec![row("x"), row("y"), row("z")],
        ..Default::default()
    };
    let md = render_markdown(&build(&h, &c, today, &ReportOptions::default()), &[]);
    assert!(md.contains("LLM spend: **$3.01**"), "{md}");
    let (mut cents, mut tenths) = (0i64, 0i64);
    for l in md
        .lines()
        .filter(|l| l.starts_with("| x ") || l.starts_with("| y ") || l.starts_with("| z "))
    {
        let cols: Vec<&str> = l.split('|').map(str::trim).collect();
        let n = |s: &str| {
            s.trim_matches(['$', '%'])
                .replace('.', "")
                .parse::<i64>()
                .unwrap()
        };
        cents += n(cols[3]);
        tenths += n(cols[4]);
    }
    assert_eq!((cents, tenths), (301, 1000), "{md}");
}

#[test]
fn a_second_report_says_what_changed() {
    let (h, c, today) = fixture();
    let first = build(&h, &c, today, &ReportOptions::default());
    let mut h2 = h.clone();
    h2.rows
        .push(row("2026-11-22", "search", ("other", "b"), 5, "1.00"));
    let second = build(&h2, &c, today, &ReportOptions::default());
    let changes = changes_since(&first, &second);
    assert!(changes[0].contains("$0.12 → $1.12"), "{changes:?}");
    assert!(
        changes.iter().any(|c| c.contains("New workload search")),
        "{changes:?}"
    );
}

#[test]
fn money_is_formatted_with_thousands() {
    assert_eq!(usd(Money::new(Decimal::new(123456789, 2))), "$1,234,567.89");
    assert_eq!(usd(Money::new(Decimal::new(-5, 1))), "-$0.50");
}

fn levers() -> switchyard_ledger::Levers {
    use switchyard_ledger::{Lever, LeverSavings, PeriodSavings, Savings, Window};
    let usd = |s: &str| s.parse::<Money>().unwrap();
    let savings = |cache: &str, spent: &str| {
        let mut s = Savings {
            spent_usd: usd(spent),
            saved_usd: Money::ZERO,
            levers: Lever::ALL
                .iter()
                .map(|&lever| LeverSavings {
                    lever,
                    measured: lever != Lever::Routing,
                    requests: None,
                    saved_usd: Money::ZERO,
                    note: (lever == Lever::Routing).then(|| "not measured: no baseline".into()),
                })
                .collect(),
        };
        s.record(Lever::Cache, Some(3), usd(cache));
        s
    };
    let on_the_table = switchyard_ledger::OnTheTable {
        requests: 40,
        duplicates: 10,
        duplicate_share: Decimal::new(25, 2),
        duplicates_usd: usd("1.50"),
        duplicate_routes: vec![switchyard_ledger::table::DuplicateLine {
            route: "extract".into(),
            requests: 40,
            duplicates: 10,
            ..Default::default()
        }],
        total_usd: usd("1.50"),
        ..Default::default()
    };
    switchyard_ledger::Levers {
        periods: vec![
            PeriodSavings {
                period: "last 30 days".into(),
                window: Window::default(),
                savings: savings("1", "3"),
            },
            PeriodSavings {
                period: "the 30 days before".into(),
                window: Window::default(),
                savings: savings("0.5", "4.5"),
            },
        ],
        on_the_table,
        cascade: Vec::new(),
    }
}

#[test]
fn the_report_shows_savings_by_lever_per_period_and_what_is_still_on_the_table() {
    let (h, c, today) = fixture();
    let without = render_markdown(&build(&h, &c, today, &ReportOptions::default()), &[]);
    assert!(
        without.contains("## Savings by lever\n\nNot computed"),
        "{without}"
    );
    let opts = ReportOptions {
        levers: Some(levers()),
        ..Default::default()
    };
    let d = build(&h, &c, today, &opts);
    let md = render_markdown(&d, &[]);
    let section = md.split("## Savings by lever").nth(1).unwrap_or_default();
    // $1 saved of a $4 gross bill; $0.50 of $5 the period before.
    assert!(
        section.contains("| cache (exact) | $1.00 | 25.0% | $0.50 | 10.0% |"),
        "{section}"
    );
    assert!(section.contains("| routing | not measured | — | not measured | — |"));
    assert!(
        section.contains("- routing: not measured: no baseline."),
        "{section}"
    );
    let table = md.split("## Still on the table").nth(1).unwrap_or_default();
    assert!(
        table.contains("| Exact duplicates not served from cache: 10 of 40 requests (25.0%) | extract 10 of 40 | $1.50 |"),
        "{table}"
    );
    let html = render_html(&d, &md);
    assert!(html.contains("<h2>Still on the table</h2>"), "{html}");
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["levers"]["periods"][0]["period"], "last 30 days");
    let back: ReportData = serde_json::from_value(json).unwrap();
    assert_eq!(back.levers, d.levers, "the snapshot keeps the figures");
}
