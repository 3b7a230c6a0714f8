//! What-if scenarios: re-price the workload mix of the last 30 days, projected month by month
//! over a horizon, under price shocks, retirements, growth and migrations.
//!
//! The *baseline* is the same mix at today's catalog prices, flat volume, no changes. The
//! *scenario* applies every change in force in each month. Both sides are priced with the
//! catalog, so the delta isolates the what-if; models the catalog does not know keep their
//! recorded cost on both sides (listed in the assumptions).
//!
//! Moving work between model families converts token counts with [`family_ratio`]: tokens of
//! the same text under the target family's tokenizer relative to `o200k_base`.

use crate::source::History;
use crate::spend::{add_usage, scale};
use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use switchyard_catalog::{Catalog, ModelEntry};
use switchyard_primitives::{Money, TokenUsage};

pub use crate::scenario_input::{Origin, ScenarioError};

/// One what-if.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// Provider `provider` multiplies every price by `factor` from `from`.
    Price {
        provider: String,
        #[serde(deserialize_with = "crate::de::decimal")]
        factor: Decimal,
        #[serde(deserialize_with = "crate::de::date")]
        from: NaiveDate,
    },
    /// `model` stops serving on `on`; its traffic moves to `replacement` (default: the
    /// catalog's successor).
    Retire {
        model: String,
        #[serde(deserialize_with = "crate::de::date")]
        on: NaiveDate,
        #[serde(default)]
        replacement: Option<String>,
    },
    /// Volume grows by `monthly` (0.1 = 10 %) each month.
    Growth {
        #[serde(deserialize_with = "crate::de::decimal")]
        monthly: Decimal,
    },
    /// Workload `workload` moves to `to` (`provider/model`) from `from` (default: now).
    Move {
        workload: String,
        to: String,
        #[serde(default, deserialize_with = "crate::de::opt_date")]
        from: Option<NaiveDate>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default = "default_horizon")]
    pub horizon_months: u32,
    #[serde(default, rename = "change")]
    pub changes: Vec<Change>,
    /// Where each change came from (`change[2]` at a line of the file, or a flag), for errors;
    /// a change without an entry is named by its index.
    #[serde(skip)]
    pub origins: Vec<Origin>,
}

pub(crate) fn default_horizon() -> u32 {
    12
}

/// Tokens per unit of text relative to OpenAI's `o200k_base`, by model family prefix.
/// o200k vs cl100k is measured (tiktoken-rs on crates/strategy/tests/data, see the test);
/// the others are published approximations and marked so in the output.
pub fn family_ratio(family: &str) -> (Decimal, &'static str) {
    let f = family.to_ascii_lowercase();
    let table: &[(&str, &str, &str)] = &[
        ("gpt-4o", "1.00", "o200k_base"),
        ("gpt-4.1", "1.00", "o200k_base"),
        ("gpt-5", "1.00", "o200k_base"),
        ("gpt-6", "1.00", "o200k_base"),
        ("o", "1.00", "o200k_base"),
        (
            "gpt-4",
            "1.00",
            "cl100k_base, measured on the bundled English sample",
        ),
        (
            "gpt-3.5",
            "1.00",
            "cl100k_base, measured on the bundled English sample",
        ),
        ("claude", "1.15", "published approximation"),
        ("gemini", "1.00", "published approximation"),
        ("gemma", "1.00", "published approximation"),
        ("llama", "1.05", "published approximation"),
        ("mistral", "1.10", "published approximation"),
        ("qwen", "1.05", "published approximation"),
        ("deepseek", "1.05", "published approximation"),
    ];
    for (prefix, ratio, source) in table {
        if f.starts_with(prefix) {
            return (Decimal::from_str(ratio).unwrap_or(Decimal::ONE), source);
        }
    }
    (Decimal::ONE, "unknown family: assumed equal")
}

/// Per-workload outcome over the horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadDelta {
    pub workload: String,
    pub baseline: Money,
    pub scenario: Money,
    pub delta: Money,
    pub delta_pct: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub horizon_months: u32,
    pub start: NaiveDate,
    pub workloads: Vec<WorkloadDelta>,
    pub total_baseline: Money,
    pub total_scenario: Money,
    pub total_delta: Money,
    pub assumptions: Vec<String>,
}

/// One (workload, provider, model) slice of the base month.
#[derive(Debug, Clone)]
struct Slice {
    workload: String,
    provider: String,
    model: String,
    requests: u64,
    usage: TokenUsage,
    recorded: Money,
}

fn base_month(h: &History) -> Vec<Slice> {
    let mut by: BTreeMap<(String, String, String), Slice> = BTreeMap::new();
    for r in h.recent(30) {
        let s = by
            .entry((r.workload.clone(), r.provider.clone(), r.model.clone()))
            .or_insert_with(|| Slice {
                workload: r.workload.clone(),
                provider: r.provider.clone(),
                model: r.model.clone(),
                requests: 0,
                usage: TokenUsage::default(),
                recorded: Money::ZERO,
            });
        s.requests += r.requests;
        add_usage(&mut s.usage, &r.usage);
        s.recorded += r.cost;
    }
    by.into_values().collect()
}

pub(crate) fn resolve<'c>(catalog: &'c Catalog, name: &str) -> Option<&'c ModelEntry> {
    match name.split_once('/') {
        Some((p, m)) => catalog
            .get(p, m)
            .or_else(|| catalog.find(name).into_iter().next()),
        None => catalog.find(name).into_iter().next(),
    }
}

/// Runs a scenario from `start` (normally today).
pub fn run(
    h: &History,
    catalog: &Catalog,
    scenario: &Scenario,
    start: NaiveDate,
) -> ScenarioResult {
    let slices = base_month(h);
    let mut assumptions = vec![
        "base month: the last 30 days of recorded traffic, repeated each month".to_string(),
        "baseline: flat volume at today's catalog prices, no changes".to_string(),
    ];
    let mut per: BTreeMap<String, (Money, Money)> = BTreeMap::new();
    for m in 0..scenario.horizon_months {
        // Month m starts m months after `start`, so a change dated `start` applies at once.
        let month = start.checked_add_months(Months::new(m)).unwrap_or(start);
        for s in &slices {
            let base = price(
                catalog,
                (&s.provider, &s.model),
                &s.usage,
                s.requests,
                start,
            )
            .unwrap_or(s.recorded);
            let scen = scenario_cost(catalog, scenario, s, (month, m), &mut assumptions)
                .unwrap_or(s.recorded);
            let e = per.entry(s.workload.clone()).or_default();
            e.0 += base;
            e.1 += scen;
        }
    }
    assumptions.sort();
    assumptions.dedup();
    let workloads: Vec<WorkloadDelta> = per
        .into_iter()
        .map(|(workload, (b, s))| {
            // Rounded so the row adds up as printed: scenario = baseline + delta, each to the
            // cent (a doubled price doubles the row), and the totals are sums of the rows.
            let (base, delta) = (b.round_cents(), (s - b).round_cents());
            WorkloadDelta {
                delta_pct: (!b.is_zero()).then(|| {
                    ((s.decimal() - b.decimal()) / b.decimal())
                        .round_dp(4)
                        .normalize()
                }),
                delta,
                baseline: base,
                scenario: base + delta,
                workload,
            }
        })
        .collect();
    let total_baseline = workloads.iter().map(|w| w.baseline).sum();
    let total_scenario = workloads.iter().map(|w| w.scenario).sum();
    ScenarioResult {
        name: scenario.name.clone(),
        horizon_months: scenario.horizon_months,
        start,
        total_delta: total_scenario - total_baseline,
        total_baseline,
        total_scenario,
        workloads,
        assumptions,
    }
}

fn price(
    catalog: &Catalog,
    (provider, model): (&str, &str),
    usage: &TokenUsage,
    requests: u64,
    on: NaiveDate,
) -> Option<Money> {
    catalog
        .get(provider, model)
        .map(|e| e.price_at(on).cost_for_requests(usage, requests))
}

/// The slice's cost in month `m` under every change in force then.
fn scenario_cost(
    catalog: &Catalog,
    sc: &Scenario,
    s: &Slice,
    (month, m): (NaiveDate, u32),
    notes: &mut Vec<String>,
) -> Option<Money> {
    let (mut provider, mut model) = (s.provider.clone(), s.model.clone());
    let mut usage = s.usage;
    let mut volume = Decimal::ONE;
    for c in &sc.changes {
        match c {
            Change::Growth { monthly } => volume *= pow(Decimal::ONE + monthly, m),
            Change::Move { workload, to, from }
                if *workload == s.workload && from.is_none_or(|f| f <= month) =>
            {
                if let Some(target) = resolve(catalog, to) {
                    usage = convert(catalog, (&provider, &model), target, &usage, notes);
                    provider = target.provider.clone();
                    model = target.id.clone();
                } else {
                    notes.push(format!("move target {to} is not in the catalog; ignored"));
                }
            }
            Change::Retire {
                model: retired,
                on,
                replacement,
            } if *on <= month && names_model(catalog, retired, (&provider, &model)) => {
                let succ = replacement.clone().or_else(|| {
                    catalog
                        .get(&provider, &model)
                        .and_then(|e| e.successor.clone())
                });
                match succ.as_deref().and_then(|n| resolve(catalog, n)) {
                    Some(target) => {
                        usage = convert(catalog, (&provider, &model), target, &usage, notes);
                        notes.push(format!(
                            "{retired} retires {on}; its traffic moves to {}",
                            target.key()
                        ));
                        provider = target.provider.clone();
                        model = target.id.clone();
                    }
                    None => notes.push(format!(
                        "{retired} retires {on} with no known successor; priced as before"
                    )),
                }
            }
            _ => {}
        }
    }
    let usage = scale(&usage, volume);
    let requests = (Decimal::from(s.requests) * volume)
        .round()
        .try_into()
        .unwrap_or(s.requests);
    let mut cost = price(catalog, (&provider, &model), &usage, requests, month)?;
    for c in &sc.changes {
        if let Change::Price {
            provider: p,
            factor,
            from,
        } = c
        {
            if *p == provider && *from <= month {
                cost = cost * *factor;
            }
        }
    }
    Some(cost)
}

/// Whether `name` (an id, an alias or `provider/id`) is the slice's model.
fn names_model(catalog: &Catalog, name: &str, (provider, model): (&str, &str)) -> bool {
    if name == model || name.split_once('/') == Some((provider, model)) {
        return true;
    }
    let name = name
        .split_once('/')
        .map_or(name, |(p, m)| if p == provider { m } else { name });
    match (catalog.get(provider, name), catalog.get(provider, model)) {
        (Some(a), Some(b)) => a.key() == b.key(),
        _ => false,
    }
}

/// `base^n` by repeated multiplication (exact for decimals; n is a month count).
fn pow(base: Decimal, n: u32) -> Decimal {
    (0..n).fold(Decimal::ONE, |acc, _| acc * base)
}

fn convert(
    catalog: &Catalog,
    (provider, model): (&str, &str),
    target: &ModelEntry,
    usage: &TokenUsage,
    notes: &mut Vec<String>,
) -> TokenUsage {
    let from_family = catalog
        .get(provider, model)
        .map_or(model.to_string(), |e| e.family.clone());
    let (a, sa) = family_ratio(&from_family);
    let (b, sb) = family_ratio(&target.family);
    if a == b {
        return *usage;
    }
    notes.push(format!(
        "tokens converted {from_family} → {} at ×{} ({sa}; {sb})",
        target.family,
        (b / a).round_dp(3)
    ));
    scale(usage, b / a)
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
