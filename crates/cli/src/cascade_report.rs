//! The cascade section of `switchyard ledger summary`: per cascade route, how often the cheap
//! tier's answer failed its checks, what was paid (every tier), what its judge checks cost,
//! and what "always the top tier" would have cost. The saving is net of both. Below it, the
//! quality evidence behind each cheaper tier of the config's cascade routes (the eval store's
//! replays and shadow results, through `switchyard_strategy::cascade`).

use crate::table;
use switchyard_catalog::Catalog;
use switchyard_ledger::CascadeRow;
use switchyard_primitives::Money;
use switchyard_strategy::cascade::{CascadeQuality, CascadeRoute};

/// The config's cascade routes: tiers in the order they are tried (`provider/model`) and
/// workload. `order = "cost"` orders per request by its estimated cost; here the tiers are
/// ordered by the catalog's list price (input + output per million tokens, unpriced last),
/// which is that order for any request with the usual input/output mix.
pub fn routes(config: &switchyard_gateway::Config, catalog: &Catalog) -> Vec<CascadeRoute> {
    config
        .routes
        .iter()
        .filter_map(|r| {
            let policy = r.cascade.as_ref()?;
            let mut targets: Vec<_> = r.targets.iter().collect();
            if !policy.config_order {
                targets.sort_by_key(|t| list_price(catalog, &t.model));
            }
            Some(CascadeRoute {
                route: r.name.clone(),
                workload: r.workload.clone(),
                tiers: targets
                    .iter()
                    .map(|t| format!("{}/{}", t.provider, t.model))
                    .collect(),
            })
        })
        .collect()
}

/// Input + output per million tokens today; `None` (sorted last) when the catalog has no
/// such model.
fn list_price(catalog: &Catalog, model: &str) -> (bool, Money) {
    match catalog.find(model).first() {
        Some(m) => {
            let p = m.current_price();
            (false, p.input + p.output)
        }
        None => (true, Money::ZERO),
    }
}

/// The section, or nothing when no cascade route served a request or is configured.
pub fn render(rows: &[CascadeRow], quality: &[CascadeQuality]) -> String {
    let mut out = figures(rows);
    if !quality.is_empty() {
        out.push_str(&evidence(quality));
    }
    out
}

fn figures(rows: &[CascadeRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let saved = r.saved_usd();
            let share = if r.top_tier_usd.is_zero() {
                String::new()
            } else {
                let pct = (saved.decimal() / r.top_tier_usd.decimal()
                    * rust_decimal::Decimal::ONE_HUNDRED)
                    .round_dp(1);
                format!(" ({pct}%)")
            };
            vec![
                r.route.clone(),
                table::count(r.requests),
                table::count(r.escalated),
                format!("{:.1}%", r.escalation_rate() * 100.0),
                table::usd(r.cost_usd),
                table::usd(r.judge_usd),
                table::usd(r.top_tier_usd),
                format!("{}{share}", table::usd(saved)),
            ]
        })
        .collect();
    let mut out = String::from(
        "\ncascade routes (paid, every tier included, and the judge checks' calls, against the answers priced at the top tier)\n",
    );
    out.push_str(&table::render(
        &[
            "route",
            "requests",
            "escalated",
            "escalation",
            "paid",
            "judges",
            "top tier only",
            "saved",
        ],
        &body,
        &[1, 2, 3, 4, 5, 6, 7],
    ));
    if rows.iter().any(|r| r.unpriced > 0) {
        out.push_str(
            "(requests whose top tier has no catalog price are left out of \"top tier only\")\n",
        );
    }
    out
}

/// One line per cheaper tier: its evidence against the top tier, or the command to make it.
fn evidence(quality: &[CascadeQuality]) -> String {
    let body: Vec<Vec<String>> = quality
        .iter()
        .flat_map(|q| {
            q.tiers.iter().map(move |t| {
                vec![
                    q.route.clone(),
                    format!("{} {}", t.tier, t.target),
                    q.top.clone(),
                    t.describe(q),
                ]
            })
        })
        .collect();
    let mut out = String::from(
        "\ncascade quality evidence (each tier that answers without escalating, against the top tier: newest replay, else shadow traffic; win/tie/loss by the 95% interval)\n",
    );
    out.push_str(&table::render(
        &["route", "tier", "against", "evidence"],
        &body,
        &[],
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use switchyard_primitives::Money;

    #[test]
    fn the_cascade_section_shows_escalation_rate_and_saving_against_the_top_tier() {
        assert_eq!(render(&[], &[]), "");
        let row = CascadeRow {
            route: "classify".into(),
            requests: 4,
            escalated: 1,
            cost_usd: Money::from_str("0.0010").unwrap(),
            judge_usd: Money::from_str("0.0005").unwrap(),
            top_tier_usd: Money::from_str("0.0040").unwrap(),
            unpriced: 0,
        };
        let text = render(&[row], &[]);
        assert!(text.contains("cascade"), "{text}");
        assert!(text.contains("25.0%"), "{text}");
        // 0.0040 - 0.0010 paid - 0.0005 for the judges.
        assert!(text.contains("$0.0025 (62.5%)"), "{text}");
        assert!(text.contains("$0.0005"), "{text}");
    }
}
