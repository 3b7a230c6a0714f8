//! The usage a contract offer is simulated on, read from the strategy engine's history: the
//! on-demand spend per calendar month (of one provider, or all) and the observed growth. The
//! CLI's `strategy contract` / `strategy report --contracts` and the dashboard's contract
//! comparison both take it from here, so they simulate the same usage.

use crate::History;
use crate::spend::{self, Dimension, Period};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// On-demand-equivalent cost per calendar month (the simulator bills by calendar month).
/// A month the history covers only in part — its first and its current one — is scaled up to
/// a full month from the days observed, so edges do not look like dips.
pub fn monthly_totals(
    h: &History,
    provider: Option<&str>,
) -> Vec<(NaiveDate, switchyard_primitives::Money)> {
    use chrono::Datelike;
    let (Some(first), Some(last)) = (h.first_day(), h.last_day()) else {
        return Vec::new();
    };
    let mut by: std::collections::BTreeMap<NaiveDate, Decimal> = std::collections::BTreeMap::new();
    for r in h
        .rows
        .iter()
        .filter(|r| provider.is_none_or(|p| r.provider == p))
    {
        let m = r.day.with_day(1).unwrap_or(r.day);
        *by.entry(m).or_default() += r.cost.decimal();
    }
    by.into_iter()
        .map(|(m, cost)| {
            let next = m.checked_add_months(chrono::Months::new(1)).unwrap_or(m);
            let days_in_month = (next - m).num_days();
            let from = first.max(m);
            let to = last.min(next - chrono::Duration::days(1));
            let observed = (to - from).num_days() + 1;
            let full = cost * Decimal::from(days_in_month) / Decimal::from(observed.max(1));
            (m, switchyard_primitives::Money::new(full.round_dp(2)))
        })
        .collect()
}

/// Mean monthly growth of total spend: the last 30 days against the 30 before.
pub fn observed_growth(h: &History) -> Decimal {
    let s = spend::report(h, Dimension::Workload, Period::Total);
    let (last, prev) = s
        .growth
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(x, y), g| {
            (x + g.last_30d.decimal(), y + g.previous_30d.decimal())
        });
    if prev.is_zero() {
        Decimal::ZERO
    } else {
        (last / prev - Decimal::ONE).round_dp(4)
    }
}
