//! The document as Markdown.

use super::{DoublingPlan, Move, ReportData, pct, usd};
use std::fmt::Write;
use switchyard_primitives::Money;

pub fn render_markdown(d: &ReportData, changes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Vendor strategy — {}\n", d.generated);
    let _ = writeln!(
        s,
        "Owner: **{}** · next review: **{}** · catalog {}\n",
        d.owner, d.next_review, d.catalog_version
    );
    summary(&mut s, d);
    if !changes.is_empty() {
        let _ = writeln!(s, "## What changed since the last report\n");
        for c in changes {
            let _ = writeln!(s, "- {c}");
        }
        s.push('\n');
    }
    workloads(&mut s, d);
    super::levers::markdown(&mut s, d.levers.as_ref());
    super::cascade::markdown(&mut s, d);
    super::caching::markdown(&mut s, &d.prompt_caching);
    doubling(&mut s, d);
    let _ = writeln!(s, "## Contract positions\n");
    if d.contracts.is_empty() {
        let _ = writeln!(
            s,
            "No contract terms were given (`strategy report --contracts FILE` simulates offers against this traffic).\n"
        );
    } else {
        for c in &d.contracts {
            let _ = writeln!(s, "- {c}");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Renegotiation triggers\n");
    for t in &d.triggers {
        let _ = writeln!(s, "- {t}");
    }
    s
}

fn summary(s: &mut String, d: &ReportData) {
    let _ = writeln!(s, "## Executive summary\n");
    let growth = if d.spend_prev_30d.is_zero() {
        "no earlier month to compare".to_string()
    } else {
        pct((d.spend_30d.decimal() - d.spend_prev_30d.decimal()) / d.spend_prev_30d.decimal())
    };
    let _ = writeln!(
        s,
        "- LLM spend: **{}** in the last 30 days ({growth} on the 30 days before), **{}** a year at this rate.",
        usd(d.spend_30d),
        usd(d.annualized)
    );
    if let Some(v) = &d.main_vendor {
        let _ = writeln!(
            s,
            // Both come from the whole history in the ledger, unlike the 30-day figures around them.
            "- Main vendor over the whole history: **{v}**. Vendor concentration (HHI) over the whole history: **{}** of 10,000 ({}).",
            d.vendor_hhi.round(),
            concentration(d.vendor_hhi)
        );
    }
    if let Some(p) = &d.doubling {
        let _ = writeln!(s, "{}", doubling_summary(p));
    }
    for w in &d.workloads {
        if let Some(v) = w
            .ranked_alternatives
            .iter()
            .find_map(|a| a.verdict(&w.workload))
        {
            let _ = writeln!(s, "- {v}.");
        }
    }
    let locked = d.workloads.iter().filter(|w| w.lockin >= 60).count();
    let _ = writeln!(
        s,
        "- {} of {} workloads are strongly locked in (score ≥ 60); {} run on models with an announced retirement.\n",
        locked,
        d.workloads.len(),
        d.exposures
    );
}

/// The summary's line on the price shock: the increase, and what the proven moves save of it.
fn doubling_summary(p: &DoublingPlan) -> String {
    let saved: Money = p
        .workloads
        .iter()
        .filter_map(|w| w.plan.as_ref().map(|m| w.if_it_stays - m.monthly_cost))
        .sum();
    let plan = if p.workloads.iter().any(|w| w.plan.is_some()) {
        format!(
            "the proven moves (plan below) would save {} a month of it",
            usd(saved)
        )
    } else {
        "no cheaper move is proven yet (candidates to evaluate below)".to_string()
    };
    format!(
        "- If {} doubled its prices tomorrow, spend would rise by **{} a month**; {plan}.",
        p.vendor,
        usd(p.monthly_increase),
    )
}

pub(crate) fn concentration(hhi: rust_decimal::Decimal) -> &'static str {
    if hhi > rust_decimal::Decimal::from(2500) {
        "highly concentrated"
    } else if hhi >= rust_decimal::Decimal::from(1500) {
        "moderately concentrated"
    } else {
        "unconcentrated"
    }
}

fn workloads(s: &mut String, d: &ReportData) {
    let _ = writeln!(s, "## Workloads\n");
    let _ = writeln!(
        s,
        "| workload | primary model | 30-day spend | share | lock-in | migration | alternatives (cost delta, readiness) | deprecation |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|--:|---|---|");
    // Rounded so the column adds up to the summary's 30-day spend, and the shares to 100 %.
    let spends = crate::rounding::apportion_cents(
        &d.workloads.iter().map(|w| w.spend_30d).collect::<Vec<_>>(),
    );
    let shares =
        crate::rounding::apportion(&d.workloads.iter().map(|w| w.share).collect::<Vec<_>>(), 3);
    for ((w, spend), share) in d.workloads.iter().zip(spends).zip(shares) {
        let alts: Vec<String> = w
            .ranked_alternatives
            .iter()
            .map(|a| format!("{} {}, {}", a.model, a.cost_note(), a.readiness))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {}/100 | {:.1} wk | {} | {} |",
            w.workload,
            w.primary,
            usd(spend),
            pct(share),
            w.lockin,
            w.effort_weeks,
            if alts.is_empty() {
                "none viable".into()
            } else {
                alts.join("; ")
            },
            w.deprecation.as_deref().unwrap_or("—")
        );
    }
    s.push('\n');
}

fn doubling(s: &mut String, d: &ReportData) {
    let Some(p) = &d.doubling else { return };
    let _ = writeln!(s, "## If {} doubled its prices tomorrow\n", p.vendor);
    let _ = writeln!(
        s,
        "Doing nothing costs **{} more per month**. The plan moves a workload only where evaluation has proven the move (a replay PASS, or shadow traffic that clears the margin) and it costs less than staying at the doubled price; otherwise the workload stays.\n",
        usd(p.monthly_increase)
    );
    let _ = writeln!(
        s,
        "| workload | per month now | if it stays | plan | per month after the move | saves per month |"
    );
    let _ = writeln!(s, "|---|--:|--:|---|--:|--:|");
    for w in &p.workloads {
        let (plan, after, saves) = match &w.plan {
            Some(m) => (
                format!("move to {} ({}; cost {})", m.to, m.evidence, m.cost_basis),
                usd(m.monthly_cost),
                usd(w.if_it_stays - m.monthly_cost),
            ),
            None => (
                format!("stay: {}", w.stay.as_deref().unwrap_or("no proven move")),
                "—".into(),
                "—".into(),
            ),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {plan} | {after} | {saves} |",
            w.workload,
            usd(w.now),
            usd(w.if_it_stays)
        );
    }
    s.push('\n');
    candidates(s, p);
}

/// Cheaper than staying but unproven: what to evaluate next, with the command.
fn candidates(s: &mut String, p: &DoublingPlan) {
    let rows: Vec<(&str, &Move, Money)> = p
        .workloads
        .iter()
        .flat_map(|w| {
            w.candidates
                .iter()
                .map(move |m| (w.workload.as_str(), m, w.if_it_stays - m.monthly_cost))
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### Candidates to evaluate\n\nCheaper than staying, but no replay or shadow evidence yet: not part of the plan until proven. Each needs a dataset of the workload's traffic first (`switchyard eval dataset create --workload W`).\n"
    );
    let _ = writeln!(
        s,
        "| workload | candidate | per month after the move | would save per month | prove it with |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|---|");
    for (w, m, saves) in rows {
        let _ = writeln!(
            s,
            "| {w} | {} | {} | {} | `{}` |",
            m.to,
            usd(m.monthly_cost),
            usd(saves),
            m.prove_with.as_deref().unwrap_or("")
        );
    }
    s.push('\n');
}
