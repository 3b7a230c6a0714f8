//! The vendor-strategy document: data first ([`ReportData`], serialisable, also the snapshot
//! a later run diffs against), then Markdown and HTML (with inline SVG charts) renderings.

use crate::deprecations::{Exposure, exposures_with};
use crate::lockin::{EffortModel, LockIn, score_all};
use crate::source::History;
use crate::spend::{self, Dimension, Period};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchyard_catalog::Catalog;
use switchyard_primitives::Money;

mod html;
mod markdown;
mod shock;
mod weekly;

pub use html::render_html;
pub use markdown::render_markdown;
pub use shock::{DoublingPlan, Move, ShockLine};

/// One workload's line in the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadLine {
    pub workload: String,
    pub primary: String,
    pub spend_30d: Money,
    pub share: Decimal,
    pub lockin: u32,
    pub effort_weeks: f64,
    /// Up to three, proven first, each group by its cost delta: measured on the workload's
    /// traffic where evaluation measured it, else the catalog estimate (see `cost_basis`).
    /// (Snapshots before this field had `alternatives` as bare tuples; they read as empty.)
    #[serde(default)]
    pub ranked_alternatives: Vec<crate::lockin::Alternative>,
    pub deprecation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub generated: NaiveDate,
    pub owner: String,
    pub next_review: NaiveDate,
    pub catalog_version: String,
    pub spend_30d: Money,
    pub spend_prev_30d: Money,
    pub annualized: Money,
    pub vendor_hhi: Decimal,
    pub main_vendor: Option<String>,
    pub workloads: Vec<WorkloadLine>,
    /// Weekly spend by provider: ISO week → provider → cost, complete weeks only (a partial
    /// first or current week would look like a fall in spend).
    pub weekly_by_provider: BTreeMap<String, BTreeMap<String, Money>>,
    /// The partial weeks left out of `weekly_by_provider`, each with the days it covers.
    #[serde(default)]
    pub weekly_left_out: Vec<String>,
    pub doubling: Option<DoublingPlan>,
    pub exposures: usize,
    /// Pre-rendered contract comparison lines (from the contract simulator), if any.
    pub contracts: Vec<String>,
    pub triggers: Vec<String>,
}

/// Inputs beyond the ledger and catalog.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub owner: String,
    pub effort: EffortModel,
    pub contracts: Vec<String>,
    pub triggers: Vec<String>,
    /// Evaluation evidence (`switchyard eval readiness`), proving alternatives.
    pub evidence: Vec<crate::lockin::Evidence>,
}

pub fn build(h: &History, catalog: &Catalog, today: NaiveDate, opts: &ReportOptions) -> ReportData {
    let spend = spend::report(h, Dimension::Workload, Period::Total);
    let last: Money = spend.growth.iter().map(|g| g.last_30d).sum();
    let prev: Money = spend.growth.iter().map(|g| g.previous_30d).sum();
    let lockins = score_all(h, catalog, &opts.effort, today, &opts.evidence);
    let exp = exposures_with(h, catalog, today, &opts.evidence);
    let by_vendor = spend::report(h, Dimension::Provider, Period::Total);
    let main_vendor = by_vendor.rows.first().map(|r| r.key.clone());
    let workloads = lockins
        .iter()
        .map(|l| line(l, &exp, &spend.growth, last))
        .collect();
    let doubling = main_vendor
        .as_ref()
        .map(|v| shock::doubling(h, catalog, today, (v, &lockins)));
    let weekly = weekly::complete_weeks(h);
    let mut triggers = opts.triggers.clone();
    if let Some(v) = &main_vendor {
        triggers.push(renegotiation_trigger(v, h));
    }
    ReportData {
        generated: today,
        owner: if opts.owner.is_empty() {
            "unassigned".into()
        } else {
            opts.owner.clone()
        },
        next_review: today + chrono::Duration::days(91),
        catalog_version: catalog.version().to_string(),
        spend_30d: last,
        spend_prev_30d: prev,
        annualized: Money::new(last.decimal() * Decimal::from(365) / Decimal::from(30)),
        vendor_hhi: spend.vendor_hhi,
        main_vendor,
        workloads,
        weekly_by_provider: weekly.0,
        weekly_left_out: weekly.1,
        doubling,
        exposures: exp.len(),
        contracts: opts.contracts.clone(),
        triggers,
    }
}

/// The trigger on the main vendor's spend: twice what it cost in the last 30 days, the run
/// rate the rest of the document uses (not the average over all history, which lags a
/// growing spend).
fn renegotiation_trigger(vendor: &str, h: &History) -> String {
    let last_30d: Money = h
        .recent(30)
        .filter(|r| r.provider == vendor)
        .map(|r| r.cost)
        .sum();
    format!(
        "Renegotiate with {vendor} when its monthly spend passes {} (2× its {} in the last 30 days), or when one workload's alternative is proven cheaper.",
        usd(last_30d * Decimal::from(2)),
        usd(last_30d)
    )
}

fn line(l: &LockIn, exp: &[Exposure], growth: &[spend::Growth], total: Money) -> WorkloadLine {
    let spend_30d = growth
        .iter()
        .find(|g| g.workload == l.workload)
        .map_or(Money::ZERO, |g| g.last_30d);
    WorkloadLine {
        workload: l.workload.clone(),
        primary: l.primary.clone(),
        share: if total.is_zero() {
            Decimal::ZERO
        } else {
            (spend_30d.decimal() / total.decimal()).round_dp(4)
        },
        spend_30d,
        lockin: l.score,
        effort_weeks: l.effort_weeks,
        ranked_alternatives: l.alternatives.iter().take(3).cloned().collect(),
        deprecation: exp.iter().find(|e| e.workload == l.workload).map(|e| {
            format!(
                "{} retires {} ({} days); successor {}",
                e.model,
                e.retirement.map_or("-".into(), |d| d.to_string()),
                e.days_left.unwrap_or(0),
                e.successor.as_deref().unwrap_or("none")
            )
        }),
    }
}

/// What changed since `prev`: spend, scores and exposures, as sentences.
pub fn changes_since(prev: &ReportData, cur: &ReportData) -> Vec<String> {
    let mut out = Vec::new();
    let pct = |a: Money, b: Money| {
        if a.is_zero() {
            String::from("n/a")
        } else {
            format!(
                "{:+.1}%",
                ((b.decimal() - a.decimal()) / a.decimal() * Decimal::ONE_HUNDRED).round_dp(1)
            )
        }
    };
    out.push(format!(
        "30-day spend {} → {} ({}) since the report of {}.",
        usd(prev.spend_30d),
        usd(cur.spend_30d),
        pct(prev.spend_30d, cur.spend_30d),
        prev.generated
    ));
    for w in &cur.workloads {
        match prev.workloads.iter().find(|p| p.workload == w.workload) {
            None => out.push(format!(
                "New workload {} ({}).",
                w.workload,
                usd(w.spend_30d)
            )),
            Some(p) => {
                if p.primary != w.primary {
                    out.push(format!(
                        "{} moved from {} to {}.",
                        w.workload, p.primary, w.primary
                    ));
                }
                if p.lockin != w.lockin {
                    out.push(format!(
                        "{} lock-in {} → {}.",
                        w.workload, p.lockin, w.lockin
                    ));
                }
            }
        }
    }
    for p in &prev.workloads {
        if !cur.workloads.iter().any(|w| w.workload == p.workload) {
            out.push(format!("Workload {} no longer has traffic.", p.workload));
        }
    }
    if prev.exposures != cur.exposures {
        out.push(format!(
            "Deprecation exposures {} → {}.",
            prev.exposures, cur.exposures
        ));
    }
    out
}

/// `$1,234.56`.
pub fn usd(m: Money) -> String {
    let v = crate::rounding::cents(m);
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!(
        "{}${grouped}.{frac}",
        if v.is_sign_negative() && !v.is_zero() {
            "-"
        } else {
            ""
        }
    )
}

/// `34.0%`: a fraction as a percentage with one decimal, half away from zero.
pub fn pct(d: Decimal) -> String {
    let p = (d * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{p:.1}%")
}

#[cfg(test)]
pub(crate) mod tests {
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
}
