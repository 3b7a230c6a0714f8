//! The "Cascade routes" section of the document: per cascade route, the ledger's escalation
//! rate and cost against "always the top tier" (`Levers::cascade`, last 30 days), and the
//! evaluation evidence behind each cheaper tier ([`crate::cascade::quality`]).

use super::{ReportData, usd};
use crate::cascade::CascadeQuality;
use std::fmt::Write;
use switchyard_ledger::CascadeRow;

pub(super) fn markdown(s: &mut String, d: &ReportData) {
    let rows: &[CascadeRow] = d.levers.as_ref().map_or(&[], |l| &l.cascade);
    if rows.is_empty() && d.cascade.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Cascade routes\n");
    if !rows.is_empty() {
        figures(s, rows);
    }
    if d.cascade.is_empty() {
        let _ = writeln!(
            s,
            "No cascade route was given with this document, so there are no tiers to show evidence for (`switchyard strategy report` reads them from the configuration).\n"
        );
        return;
    }
    let _ = writeln!(
        s,
        "Quality evidence behind each tier that answers without escalating, against the top tier: the newest replay run, else shadow traffic; win, tie or loss by the 95% interval of the score difference.\n"
    );
    let _ = writeln!(
        s,
        "| Route | workload | tier | against | evidence |\n|---|---|---|---|---|"
    );
    for q in &d.cascade {
        let traffic = rows.iter().any(|r| r.route == q.route);
        evidence(s, q, traffic);
    }
    s.push('\n');
}

fn figures(s: &mut String, rows: &[CascadeRow]) {
    let _ = writeln!(
        s,
        "| Route | requests | escalated | escalation | paid | judges | top tier only | saved |\n|---|--:|--:|--:|--:|--:|--:|--:|"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1}% | {} | {} | {} | {} |",
            r.route,
            r.requests,
            r.escalated,
            r.escalation_rate() * 100.0,
            usd(r.cost_usd),
            usd(r.judge_usd),
            usd(r.top_tier_usd),
            usd(r.saved_usd())
        );
    }
    s.push('\n');
}

fn evidence(s: &mut String, q: &CascadeQuality, has_traffic: bool) {
    let route = if has_traffic {
        q.route.clone()
    } else {
        format!("{} (no traffic in the last 30 days)", q.route)
    };
    let workload = q
        .workload
        .as_deref()
        .unwrap_or("none: set the route's `workload`");
    for t in &q.tiers {
        let _ = writeln!(
            s,
            "| {route} | {workload} | {} {} | {} | {} |",
            t.tier,
            t.target,
            q.top,
            t.describe(q)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixture;
    use super::super::{ReportOptions, build, render_html, render_markdown};
    use crate::cascade::CascadeRoute;
    use crate::lockin::Evidence;
    use std::str::FromStr;
    use switchyard_ledger::{CascadeRow, Levers};
    use switchyard_primitives::Money;

    fn options() -> ReportOptions {
        let usd = |s: &str| Money::from_str(s).unwrap();
        let levers = Levers {
            cascade: vec![CascadeRow {
                route: "classify".into(),
                requests: 200,
                escalated: 30,
                cost_usd: usd("2.00"),
                judge_usd: usd("0.50"),
                top_tier_usd: usd("10.00"),
                unpriced: 0,
            }],
            ..Default::default()
        };
        ReportOptions {
            levers: Some(levers),
            cascade_routes: vec![CascadeRoute {
                route: "classify".into(),
                workload: Some("tickets".into()),
                tiers: ["oai/gpt-4o-mini", "ant/claude-haiku", "oai/gpt-4o"]
                    .map(String::from)
                    .to_vec(),
            }],
            evidence: vec![Evidence {
                workload: "tickets".into(),
                candidate: "oai/gpt-4o-mini".into(),
                passed: true,
                samples: 150,
                mean_diff: 0.004,
                ci_low: -0.01,
                ci_high: 0.02,
                cost_delta: Some(-0.94),
                source: "replay of tickets@v2 vs oai/gpt-4o".into(),
                baseline: Some("oai/gpt-4o".into()),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_cascade_section_shows_escalation_cost_and_each_cheaper_tiers_evidence_or_the_command() {
        let (h, c, today) = fixture();
        let d = build(&h, &c, today, &options());
        let md = render_markdown(&d, &[]);
        let section = md.split("## Cascade routes").nth(1).unwrap_or_default();
        // 30 of 200 escalated; $10 at the top tier − $2 paid − $0.50 of judges.
        assert!(
            section.contains("| classify | 200 | 30 | 15.0% | $2.00 | $0.50 | $10.00 | $7.50 |"),
            "{section}"
        );
        assert!(
            section.contains("| classify | tickets | 1 oai/gpt-4o-mini | oai/gpt-4o | tie: proven on 150 samples (replay of tickets@v2 vs oai/gpt-4o; score Δ +0.004, 95% CI [-0.010, +0.020]) |"),
            "{section}"
        );
        assert!(
            section.contains("| classify | tickets | 2 ant/claude-haiku | oai/gpt-4o | no evidence yet — run `switchyard eval dataset create --workload tickets --name tickets && switchyard eval run --dataset tickets --candidate ant/claude-haiku --baseline oai/gpt-4o` |"),
            "{section}"
        );
        let html = render_html(&d, &md);
        assert!(html.contains("<h2>Cascade routes</h2>"), "{html}");
        assert!(
            html.contains("<td>no evidence yet — run <code>switchyard eval dataset create"),
            "{html}"
        );
        let back: super::super::ReportData =
            serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back.cascade, d.cascade, "the snapshot keeps the evidence");
    }

    #[test]
    fn without_cascade_routes_or_traffic_there_is_no_cascade_section() {
        let (h, c, today) = fixture();
        let md = render_markdown(&build(&h, &c, today, &ReportOptions::default()), &[]);
        assert!(!md.contains("## Cascade routes"), "{md}");
    }
}
