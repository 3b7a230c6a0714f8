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

mod caching;
mod cascade;
mod html;
mod levers;
mod markdown;
mod shock;
mod weekly;

pub use html::render_html;
pub use markdown::render_markdown;
pub use shock::{DoublingPlan, Move, ShockLine, shock};

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
    /// Provider prompt caching by workload (absent from snapshots before it existed).
    #[serde(default)]
    pub prompt_caching: crate::prompt_cache::PromptCaching,
    /// Savings by lever per period and what is still on the table (the ledger's figures;
    /// absent when the caller passed none, and from snapshots before they existed).
    #[serde(default)]
    pub levers: Option<switchyard_ledger::Levers>,
    /// The quality evidence behind each configured cascade route's cheaper tiers (absent
    /// from snapshots before it existed).
    #[serde(default)]
    pub cascade: Vec<crate::cascade::CascadeQuality>,
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
    /// The savings ledger (`switchyard_ledger::levers`): read by the caller, which owns the
    /// ledger connection and the config's batchable list.
    pub levers: Option<switchyard_ledger::Levers>,
    /// The config's cascade routes (their tiers and workload), for the quality evidence.
    pub cascade_routes: Vec<crate::cascade::CascadeRoute>,
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
        annualized: crate::deprecations::annualize(last),
        vendor_hhi: spend.vendor_hhi,
        main_vendor,
        workloads,
        weekly_by_provider: weekly.0,
        weekly_left_out: weekly.1,
        doubling,
        exposures: exp.len(),
        contracts: opts.contracts.clone(),
        triggers,
        prompt_caching: crate::prompt_cache::analyse(h, catalog),
        levers: opts.levers.clone(),
        cascade: crate::cascade::quality(&opts.cascade_routes, &opts.evidence),
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
pub(crate) mod tests;
