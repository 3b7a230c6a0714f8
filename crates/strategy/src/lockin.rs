//! Lock-in: a 0–100 score per workload that explains its factors, the viable alternatives
//! ranked by cost on the workload's real token mix, and the migration effort in engineering
//! weeks from a documented formula whose weights a team can override.
//!
//! Score = provider-specific features (≤ 40) + scarcity of viable alternatives (≤ 25)
//!       + evaluation readiness (≤ 15) + deprecation exposure (≤ 10) + share of spend (≤ 10).

mod cost;

pub use cost::{CATALOG_ESTIMATE, signed_pct};

use crate::scenario::family_ratio;
use crate::source::{History, WorkloadProfile};
use crate::spend::{add_usage, scale};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use switchyard_catalog::{Catalog, ModelEntry, ModelKind};
use switchyard_primitives::{Money, TokenUsage};

/// A model retiring sooner than this is no place to migrate to.
pub const RETIREMENT_HORIZON_DAYS: i64 = 180;

/// Effort weights, in engineering weeks. Override any in config (`[strategy.effort]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EffortModel {
    pub base: f64,
    pub tools: f64,
    pub json_schema: f64,
    pub vision: f64,
    pub prompt_caching: f64,
    pub fine_tuned: f64,
    pub per_provider_param: f64,
    pub unproven_evaluation: f64,
    pub proven_evaluation: f64,
    /// Added when the workload exceeds `high_volume_requests_per_day`.
    pub high_volume: f64,
    pub high_volume_requests_per_day: f64,
}

impl Default for EffortModel {
    fn default() -> Self {
        EffortModel {
            base: 0.5,
            tools: 0.5,
            json_schema: 0.5,
            vision: 0.5,
            prompt_caching: 1.0,
            fine_tuned: 3.0,
            per_provider_param: 0.25,
            unproven_evaluation: 1.0,
            proven_evaluation: 0.25,
            high_volume: 0.5,
            high_volume_requests_per_day: 10_000.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factor {
    pub name: String,
    pub points: u32,
    pub max: u32,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub model: String,
    pub creator: String,
    /// The last 30 days' cost on this model: measured by evaluation where it was (the
    /// recorded spend × (1 + the measured delta)), else the catalog estimate (the tokens,
    /// family-converted, at this model's current prices). Every ranking and saving uses it.
    pub cost_30d: Money,
    /// `cost_30d` relative to the current model (−0.38: 38 % cheaper), on the same basis.
    pub cost_delta_pct: Option<Decimal>,
    /// Where `cost_30d` comes from: "measured on shadow traffic", "measured on replay of …",
    /// or [`cost::CATALOG_ESTIMATE`].
    pub cost_basis: String,
    /// The catalog estimate of the delta, kept beside a measured one.
    pub catalog_cost_delta_pct: Option<Decimal>,
    /// Evaluation evidence; "unproven" until an evaluation run covers this pair.
    pub readiness: String,
    /// Evaluation passed for this pair (a replay PASS, or shadow traffic clearing the margin).
    pub proven: bool,
}

/// What evaluation has shown about a candidate on a workload (from `switchyard eval`: a
/// replay run's verdict, or shadow traffic scored against production).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub workload: String,
    /// `provider/model`, or the route name the run used.
    pub candidate: String,
    pub passed: bool,
    pub samples: usize,
    pub mean_diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Candidate cost relative to the baseline (−0.38: 38 % cheaper), when measured.
    pub cost_delta: Option<f64>,
    /// `replay` or `shadow`.
    pub source: String,
    /// What the candidate was compared with: a replay's baseline (a route, `provider/model`,
    /// or `captured`); `None` for shadow traffic (scored against the production answers).
    #[serde(default)]
    pub baseline: Option<String>,
}

impl Evidence {
    /// "proven on 120 samples (replay; score Δ +0.010, 95% CI [−0.012, +0.031]), −38% cost".
    pub fn describe(&self) -> String {
        let cost = self
            .cost_delta
            .map(|d| format!(", {:+.0}% cost", d * 100.0))
            .unwrap_or_default();
        format!("{}{cost}", self.describe_quality())
    }

    /// The quality verdict alone: "proven on 120 samples (replay; score Δ +0.010, 95% CI
    /// [−0.012, +0.031])". An alternative's cost is said once, beside its basis.
    pub fn describe_quality(&self) -> String {
        format!(
            "{} on {} samples ({}; score Δ {:+.3}, 95% CI [{:+.3}, {:+.3}])",
            if self.passed { "proven" } else { "not proven" },
            self.samples,
            self.source,
            self.mean_diff,
            self.ci_low,
            self.ci_high
        )
    }

    /// Whether this evidence is about the catalog model `key` (`provider/id`).
    pub(crate) fn covers(&self, key: &str) -> bool {
        if self.candidate == key {
            return true;
        }
        let model = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
        model(&self.candidate) == model(key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LockIn {
    pub workload: String,
    pub primary: String,
    pub score: u32,
    pub factors: Vec<Factor>,
    pub alternatives: Vec<Alternative>,
    pub effort_weeks: f64,
    pub effort_breakdown: Vec<(String, f64)>,
}

struct Mix {
    primary: Option<(String, String)>,
    usage: TokenUsage,
    requests: u64,
    cost: Money,
    days: u64,
}

fn mix(h: &History, workload: &str) -> Mix {
    let mut usage = TokenUsage::default();
    let (mut requests, mut cost) = (0u64, Money::ZERO);
    let mut by_model: std::collections::BTreeMap<(String, String), Money> = Default::default();
    let mut days = std::collections::BTreeSet::new();
    for r in h.recent(30).filter(|r| r.workload == workload) {
        add_usage(&mut usage, &r.usage);
        requests += r.requests;
        cost += r.cost;
        days.insert(r.day);
        *by_model
            .entry((r.provider.clone(), r.model.clone()))
            .or_default() += r.cost;
    }
    let primary = by_model
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1))
        .map(|(k, _)| k);
    Mix {
        primary,
        usage,
        requests,
        cost,
        days: days.len() as u64,
    }
}

/// Models that could take the workload: of the same kind (chat or embedding), not retiring
/// within [`RETIREMENT_HORIZON_DAYS`], with every capability its traffic uses and a context
/// window that holds its largest prompt.
pub fn viable<'c>(
    catalog: &'c Catalog,
    p: &WorkloadProfile,
    kind: ModelKind,
    today: NaiveDate,
) -> Vec<&'c ModelEntry> {
    let needs = |f: &str| p.features.contains(f);
    let horizon = today + chrono::Duration::days(RETIREMENT_HORIZON_DAYS);
    catalog
        .models()
        .iter()
        .filter(|m| m.kind == kind && m.retirement.is_none_or(|r| r > horizon))
        .filter(|m| m.context_window >= p.max_prompt_tokens)
        .filter(|m| !needs("tools") || m.capabilities.tools)
        .filter(|m| !needs("vision") || m.capabilities.vision)
        .filter(|m| !needs("json_schema") || m.capabilities.json_schema)
        .filter(|m| !needs("reasoning") || m.capabilities.reasoning)
        .collect()
}

/// Scores every workload; `evidence` (from `switchyard eval`) proves alternatives.
pub fn score_all(
    h: &History,
    catalog: &Catalog,
    effort: &EffortModel,
    today: NaiveDate,
    evidence: &[Evidence],
) -> Vec<LockIn> {
    let total = h.recent(30).map(|r| r.cost).sum::<Money>();
    let mut out: Vec<LockIn> = h
        .workloads()
        .into_iter()
        .filter_map(|w| {
            let evidence: Vec<&Evidence> = evidence.iter().filter(|e| e.workload == w).collect();
            score(
                h,
                catalog,
                effort,
                today,
                Subject {
                    workload: w,
                    total,
                    evidence: &evidence,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.workload.cmp(&b.workload)));
    out
}

/// One workload to score: its name, the total spend it is a share of, and its evidence.
struct Subject<'a> {
    workload: &'a str,
    total: Money,
    evidence: &'a [&'a Evidence],
}

fn score(
    h: &History,
    catalog: &Catalog,
    effort: &EffortModel,
    today: NaiveDate,
    subject: Subject<'_>,
) -> Option<LockIn> {
    let Subject {
        workload,
        total,
        evidence,
    } = subject;
    let m = mix(h, workload);
    let (provider, model) = m.primary.clone()?;
    let profile = h
        .profiles
        .get(workload)
        .cloned()
        .unwrap_or_else(|| WorkloadProfile {
            workload: workload.into(),
            ..Default::default()
        });
    let entry = catalog.get(&provider, &model);
    let caching = m.usage.cached_input + m.usage.cache_write > 0;
    let fine_tuned = model.starts_with("ft:");
    let params: Vec<&String> = profile
        .features
        .iter()
        .filter(|f| f.starts_with("param:"))
        .collect();

    let mut feature_points = 0u32;
    let mut used = Vec::new();
    for (name, pts, on) in [
        ("tools", 5, profile.features.contains("tools")),
        ("JSON schema", 10, profile.features.contains("json_schema")),
        ("vision", 5, profile.features.contains("vision")),
        ("prompt caching", 10, caching),
        ("a fine-tuned model", 25, fine_tuned),
    ] {
        if on {
            feature_points += pts;
            used.push(name.to_string());
        }
    }
    feature_points += (params.len() as u32 * 5).min(15);
    used.extend(params.iter().map(|p| p.to_string()));
    let feature_points = feature_points.min(40);

    let mut alts = alternatives(catalog, &profile, today, (&provider, &model), &m);
    cost::apply_evidence(&mut alts, evidence, m.cost, &format!("{provider}/{model}"));
    let proven: Vec<&&Evidence> = evidence.iter().filter(|e| e.passed).collect();
    let other_vendors = alts
        .iter()
        .filter(|a| entry.is_none_or(|e| a.creator != e.creator))
        .count();
    let alt_points = match other_vendors {
        0 => 25,
        1 => 18,
        2 | 3 => 10,
        _ => 3,
    };
    let deprecation_points = match entry.and_then(|e| e.retirement) {
        Some(r) if (r - today).num_days() <= 90 => 10,
        Some(_) => 5,
        None if entry.is_some_and(|e| e.deprecation_announced.is_some()) => 5,
        None => 0,
    };
    let share = if total.is_zero() {
        Decimal::ZERO
    } else {
        m.cost.decimal() / total.decimal()
    };
    let share_points: u32 = (share * Decimal::from(10)).round().try_into().unwrap_or(0);
    let factors = vec![
        Factor {
            name: "provider-specific features".into(),
            points: feature_points,
            max: 40,
            why: if used.is_empty() {
                "none seen in its traffic".into()
            } else {
                format!("uses {}", used.join(", "))
            },
        },
        Factor {
            name: "viable alternatives".into(),
            points: alt_points,
            max: 25,
            why: format!(
                "{other_vendors} model(s) from other vendors have the capabilities and a context window ≥ {} tokens",
                profile.max_prompt_tokens
            ),
        },
        match (proven.first(), evidence.first()) {
            (Some(p), _) => Factor {
                name: "evaluation readiness".into(),
                points: 0,
                max: 15,
                why: format!("{} is {}", p.candidate, p.describe()),
            },
            (None, Some(e)) => Factor {
                name: "evaluation readiness".into(),
                points: 10,
                max: 15,
                why: format!("evaluated but nothing proven yet: {} is {}", e.candidate, e.describe()),
            },
            (None, None) => Factor {
                name: "evaluation readiness".into(),
                points: 15,
                max: 15,
                why: "no alternative is proven on this workload yet (run an evaluation to lower this)"
                    .into(),
            },
        },
        Factor {
            name: "deprecation exposure".into(),
            points: deprecation_points,
            max: 10,
            why: entry
                .and_then(|e| e.retirement)
                .map_or("no retirement announced".into(), |r| {
                    format!("{model} retires {r}")
                }),
        },
        Factor {
            name: "share of spend".into(),
            points: share_points.min(10),
            max: 10,
            why: format!(
                "{}% of the last 30 days' spend",
                (share * Decimal::ONE_HUNDRED).round_dp(1)
            ),
        },
    ];
    let per_day = m.requests as f64 / m.days.max(1) as f64;
    let mut breakdown = vec![("base".to_string(), effort.base)];
    for (name, w, on) in [
        ("tools", effort.tools, profile.features.contains("tools")),
        (
            "JSON schema",
            effort.json_schema,
            profile.features.contains("json_schema"),
        ),
        ("vision", effort.vision, profile.features.contains("vision")),
        ("prompt caching", effort.prompt_caching, caching),
        ("fine-tuned model", effort.fine_tuned, fine_tuned),
    ] {
        if on {
            breakdown.push((name.to_string(), w));
        }
    }
    if !params.is_empty() {
        breakdown.push((
            format!("{} provider parameter(s)", params.len()),
            effort.per_provider_param * params.len() as f64,
        ));
    }
    breakdown.push(if proven.is_empty() {
        (
            "evaluation (unproven)".to_string(),
            effort.unproven_evaluation,
        )
    } else {
        ("evaluation (proven)".to_string(), effort.proven_evaluation)
    });
    if per_day > effort.high_volume_requests_per_day {
        breakdown.push((
            format!("high volume ({per_day:.0} requests/day)"),
            effort.high_volume,
        ));
    }
    let effort_weeks = (breakdown.iter().map(|(_, w)| w).sum::<f64>() * 100.0).round() / 100.0;
    Some(LockIn {
        workload: workload.to_string(),
        primary: format!("{provider}/{model}"),
        score: factors.iter().map(|f| f.points).sum::<u32>().min(100),
        factors,
        alternatives: alts,
        effort_weeks,
        effort_breakdown: breakdown,
    })
}

/// Whether `candidate` is in the same class as the current model. Price is the one
/// capability signal the catalog has across vendors, so a candidate must charge at least
/// [`TIER_FLOOR_PERCENT`] % of the current output price, and must reason if the current model does.
/// Self-hosted (`local`) models are left out unless the workload already runs locally: their
/// cost is infrastructure, which the catalog does not price. Evaluation evidence replaces this
/// heuristic once it exists.
fn comparable(current: Option<&ModelEntry>, candidate: &ModelEntry, provider: &str) -> bool {
    if candidate.provider == "local" && provider != "local" {
        return false;
    }
    let Some(cur) = current else { return true };
    let floor = cur.current_price().output.decimal() * Decimal::new(TIER_FLOOR_PERCENT, 2);
    (!cur.capabilities.reasoning || candidate.capabilities.reasoning)
        && candidate.current_price().output.decimal() >= floor
}

/// A comparable model charges at least this percentage of the current output price.
pub const TIER_FLOOR_PERCENT: i64 = 25;

fn alternatives(
    catalog: &Catalog,
    p: &WorkloadProfile,
    today: NaiveDate,
    (provider, model): (&str, &str),
    m: &Mix,
) -> Vec<Alternative> {
    let current = catalog.get(provider, model);
    let current_cost = current.map_or(m.cost, |e| {
        e.price_at(today).cost_for_requests(&m.usage, m.requests)
    });
    let from_ratio = family_ratio(current.map_or(model, |e| e.family.as_str())).0;
    let kind = current.map_or(ModelKind::Chat, |e| e.kind);
    let mut out: Vec<Alternative> = viable(catalog, p, kind, today)
        .into_iter()
        .filter(|e| !(e.provider == provider && e.id == model))
        .filter(|e| comparable(current, e, provider))
        .map(|e| {
            let k = family_ratio(&e.family).0 / from_ratio;
            let usage = scale(&m.usage, k);
            let cost = e.price_at(today).cost_for_requests(&usage, m.requests);
            Alternative::estimated(e.key(), e.creator.clone(), cost, current_cost)
        })
        .collect();
    out.sort_by(|a, b| a.cost_30d.cmp(&b.cost_30d).then(a.model.cmp(&b.model)));
    out
}

#[cfg(test)]
#[path = "lockin_tests.rs"]
mod tests;
