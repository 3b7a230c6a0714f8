//! Billed costs from a provider's cost report, spread over the usage rows they cover.
//!
//! Cost reports are coarser than usage (daily, by project or workspace, by line item), so a
//! cost line is matched to the usage rows of the same UTC day, the same scope (OpenAI project,
//! Anthropic workspace, stored as `team`) when the line names one, and the same model when the
//! line names one. Its amount is split in proportion to the rows' catalog cost (their tokens
//! when any of them has no catalog price), the last row taking the rounding remainder so the
//! shares add up exactly. Lines that match no usage row (web search, or days missing from the
//! usage export) are not imported; their total is reported.

use crate::Record;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use switchyard_primitives::Money;

/// One billed amount.
#[derive(Debug, Clone)]
pub(crate) struct CostLine {
    pub day: NaiveDate,
    pub scope: Option<String>,
    pub model: Option<String>,
    pub amount: Money,
}

/// Replaces the cost of every covered record by its share of the billed amounts; returns the
/// total that matched no record.
pub(crate) fn allocate(records: &mut [Record], lines: &[CostLine]) -> Money {
    let mut groups: BTreeMap<(NaiveDate, Option<&str>, Option<&str>), Money> = BTreeMap::new();
    for l in lines {
        *groups
            .entry((l.day, l.scope.as_deref(), l.model.as_deref()))
            .or_default() += l.amount;
    }
    let mut billed: Vec<Option<Money>> = vec![None; records.len()];
    let mut unmatched = Money::ZERO;
    for ((day, scope, model), amount) in groups {
        let covered: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.ts.date_naive() == day
                    && scope.is_none_or(|s| r.team.as_deref() == Some(s))
                    && model.is_none_or(|m| r.model.as_deref() == Some(m))
            })
            .map(|(i, _)| i)
            .collect();
        if covered.is_empty() {
            unmatched += amount;
            continue;
        }
        for (i, share) in covered
            .iter()
            .zip(split(amount, &weights(records, &covered)))
        {
            *billed[*i].get_or_insert(Money::ZERO) += share;
        }
    }
    for (r, b) in records.iter_mut().zip(billed) {
        if let Some(cost) = b {
            r.cost_usd = Some(cost);
            // Billed by the provider, not computed from a catalog price.
            r.price_version = None;
        }
    }
    unmatched
}

fn weights(records: &[Record], covered: &[usize]) -> Vec<Decimal> {
    let by_cost: Option<Vec<Decimal>> = covered
        .iter()
        .map(|&i| records[i].cost_usd.map(Money::decimal))
        .collect();
    match by_cost {
        Some(w) if w.iter().any(|d| !d.is_zero()) => w,
        _ => covered
            .iter()
            .map(|&i| Decimal::from(records[i].usage.total()))
            .collect(),
    }
}

/// `amount` in proportion to `weights` (equal parts when they are all zero); the shares add
/// up to `amount` exactly.
fn split(amount: Money, weights: &[Decimal]) -> Vec<Money> {
    let total: Decimal = weights.iter().sum();
    let n = weights.len();
    let mut out = Vec::with_capacity(n);
    let mut given = Money::ZERO;
    for (i, w) in weights.iter().enumerate() {
        let share = if i + 1 == n {
            amount - given
        } else if total.is_zero() {
            Money::new(amount.decimal() / Decimal::from(n as u64))
        } else {
            Money::new(amount.decimal() * *w / total)
        };
        given += share;
        out.push(share);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn shares_follow_the_weights_and_add_up_exactly() {
        let m = |s: &str| Money::from_str(s).unwrap_or_default();
        let shares = split(m("1"), &[Decimal::ONE, Decimal::ONE, Decimal::ONE]);
        let total: Money = shares.iter().copied().sum();
        assert_eq!(total, m("1"));
        let shares = split(m("0.90"), &[Decimal::from(2), Decimal::ONE]);
        assert_eq!((shares[0], shares[1]), (m("0.6"), m("0.3")));
    }
}
