//! An alternative's cost and where the figure comes from. Where evaluation measured the cost
//! on the workload's real traffic (a replay, or shadow traffic), that measured delta is *the*
//! figure: lock-in ranks by it, the report's tables and summary quote it, and the price-shock
//! plan prices moves with it. The catalog estimate (the workload's token mix at list prices)
//! is kept beside it, labelled as such, and is the figure only where nothing was measured.

use super::{Alternative, Evidence};
use rust_decimal::Decimal;
use switchyard_primitives::Money;

/// The label of a figure that comes from the catalog, not from traffic.
pub const CATALOG_ESTIMATE: &str = "catalog estimate";
/// The label of a candidate outside the catalog whose cost nobody measured.
pub const NOT_PRICED: &str = "not priced: not in the catalog and not measured";

impl Alternative {
    /// Where evaluation measured nothing: the catalog estimate is the figure.
    pub(super) fn estimated(
        model: String,
        creator: String,
        cost_30d: Money,
        current: Money,
    ) -> Self {
        let delta = (!current.is_zero()).then(|| {
            ((cost_30d.decimal() - current.decimal()) / current.decimal())
                .round_dp(3)
                .normalize()
        });
        Alternative {
            model,
            creator,
            cost_30d,
            cost_delta_pct: delta,
            cost_basis: CATALOG_ESTIMATE.into(),
            catalog_cost_delta_pct: delta,
            readiness: "unproven".into(),
            proven: false,
        }
    }

    /// Applies `ev` (about this alternative): its verdict, and its measured cost delta, which
    /// replaces the estimate as the figure, priced on the workload's recorded 30-day `spend`.
    pub(super) fn apply(&mut self, ev: &Evidence, spend: Money) {
        self.readiness = ev.describe_quality();
        self.proven = ev.passed;
        if let Some(d) = ev.cost_delta.and_then(Decimal::from_f64_retain) {
            let d = crate::rounding::ratio(d);
            self.cost_delta_pct = Some(d);
            self.cost_30d = Money::new(spend.decimal() * (Decimal::ONE + d));
            self.cost_basis = format!("measured on {}", ev.source);
        }
    }

    /// Whether the figure was measured on the workload's traffic (not the catalog estimate).
    pub fn cost_measured(&self) -> bool {
        self.cost_basis.starts_with("measured")
    }

    /// Whether moving is proven to save money: proven on quality and measured cheaper.
    pub fn proven_saving(&self) -> bool {
        self.proven
            && self.cost_measured()
            && self.cost_delta_pct.is_some_and(|d| d < Decimal::ZERO)
    }

    /// Cost per month after moving, for a workload that costs `now` per month: the measured
    /// delta applied to `now`, else the catalog estimate; `None` when nothing prices it.
    pub fn monthly_cost(&self, now: Money) -> Option<Money> {
        match self.cost_delta_pct {
            Some(d) if self.cost_measured() => Some(Money::new(now.decimal() * (Decimal::ONE + d))),
            _ => (self.cost_basis == CATALOG_ESTIMATE).then_some(self.cost_30d),
        }
    }

    /// "+177% (measured on shadow traffic; catalog estimate −27%)", or "−50% (catalog estimate)".
    pub fn cost_note(&self) -> String {
        let beside = match self.catalog_cost_delta_pct {
            Some(e) if self.cost_measured() => {
                format!("; {CATALOG_ESTIMATE} {}", signed_pct(Some(e)))
            }
            _ => String::new(),
        };
        format!(
            "{} ({}{beside})",
            signed_pct(self.cost_delta_pct),
            self.cost_basis
        )
    }

    /// What a reader of `workload`'s summary line should take from this alternative: a proven
    /// saving, a proven fallback that costs more, or proven with its cost still unmeasured.
    /// `None` unless proven. Only a measured saving is ever said to be a move to make.
    pub fn verdict(&self, workload: &str) -> Option<String> {
        if !self.proven {
            return None;
        }
        let pct = |d: Decimal| (d.abs() * Decimal::ONE_HUNDRED).round_dp(0);
        // "on 60 samples (shadow traffic; …)": the quality verdict without its leading word.
        let on = self.readiness.trim_start_matches("proven ");
        Some(match self.cost_delta_pct {
            Some(d) if self.cost_measured() && d < Decimal::ZERO => format!(
                "Workload **{workload}** can move to **{}**: {}, and it costs {}% less ({})",
                self.model,
                self.readiness,
                pct(d),
                self.cost_basis
            ),
            Some(d) if self.cost_measured() => format!(
                "Workload **{workload}**: **{}** is proven on quality {on} but costs {}% more ({}): a fallback option, not a saving",
                self.model,
                pct(d),
                self.cost_basis
            ),
            _ => format!(
                "Workload **{workload}**: **{}** is proven on quality {on}; its cost on this traffic is not measured yet ({CATALOG_ESTIMATE} {}), so no saving is claimed",
                self.model,
                signed_pct(self.catalog_cost_delta_pct)
            ),
        })
    }
}

/// Marks alternatives that evaluation covers, and adds evaluated candidates the catalog
/// heuristics left out (a self-hosted model, a route name), priced by the measured delta.
/// Ranks proven alternatives first, then each group by the cost delta that is the figure.
pub(super) fn apply_evidence(
    alts: &mut Vec<Alternative>,
    evidence: &[&Evidence],
    spend: Money,
    primary: &str,
) {
    for ev in evidence {
        if ev.covers(primary) {
            continue;
        }
        match alts.iter_mut().find(|a| ev.covers(&a.model)) {
            Some(a) => a.apply(ev, spend),
            None => {
                let mut a = Alternative {
                    cost_delta_pct: None,
                    catalog_cost_delta_pct: None,
                    cost_basis: NOT_PRICED.into(),
                    ..Alternative::estimated(ev.candidate.clone(), String::new(), spend, spend)
                };
                a.apply(ev, spend);
                alts.push(a);
            }
        }
    }
    alts.sort_by(|a, b| {
        (!a.proven)
            .cmp(&!b.proven)
            .then(rank(a.cost_delta_pct).cmp(&rank(b.cost_delta_pct)))
            .then(a.model.cmp(&b.model))
    });
}

/// Unknown deltas rank last.
fn rank(d: Option<Decimal>) -> (bool, Decimal) {
    (d.is_none(), d.unwrap_or_default())
}

/// "+177%", "-27%", or "n/a".
pub fn signed_pct(d: Option<Decimal>) -> String {
    d.map_or("n/a".into(), |x| {
        format!("{:+}%", (x * Decimal::ONE_HUNDRED).round_dp(0))
    })
}
