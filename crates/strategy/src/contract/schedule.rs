//! What an offer commits the buyer to, month by month, independent of usage: commitment
//! periods (with escalation and proration) and reserved-capacity fees.
//!
//! - Period `k` covers contract months `[k·len, min((k+1)·len, term))`, `len` = 1 or 12.
//! - Its commitment is `amount × (1 + escalation)^year × months_in_period / len`, where `year`
//!   is the contract year (0-based) of its first month: a final partial year is prorated.
//! - The reserved fee of a month is `units × hourly_usd_per_unit × 24 × days in the month`.

use super::billing::Month;
use super::terms::{CommitKind, Offer};
use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use switchyard_primitives::Money;

#[derive(Debug, Clone, Copy)]
struct Span {
    first: u32,
    months: u32,
    amount: Money,
}

#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    spans: Vec<Span>,
    kind: Option<CommitKind>,
    fees: Vec<Money>,
    term: u32,
}

impl Schedule {
    pub fn new(offer: &Offer, months: &[Month]) -> Schedule {
        let term = u32::try_from(months.len()).unwrap_or(u32::MAX);
        let mut spans = Vec::new();
        if let Some(c) = &offer.commit {
            let len = c.period.months();
            let growth = Decimal::ONE + c.escalation_per_year;
            let mut first = 0;
            while first < term {
                let months = len.min(term - first);
                let mut amount = c.amount * (Decimal::from(months) / Decimal::from(len));
                for _ in 0..first / 12 {
                    amount = amount * growth;
                }
                spans.push(Span {
                    first,
                    months,
                    amount,
                });
                first += len;
            }
        }
        let fees = months
            .iter()
            .map(|m| {
                offer
                    .reserved
                    .as_ref()
                    .map_or(Money::ZERO, |r| r.fee(hours_in_month(m.date)))
            })
            .collect();
        Schedule {
            spans,
            kind: offer.commit.as_ref().map(|c| c.kind),
            fees,
            term,
        }
    }

    /// The commitment of the period opening at month `m`, if one does.
    pub fn opens(&self, m: u32) -> Option<Money> {
        self.spans.iter().find(|s| s.first == m).map(|s| s.amount)
    }

    /// Whether month `m` is the last of its period.
    pub fn closes(&self, m: u32) -> bool {
        self.spans.iter().any(|s| s.first + s.months == m + 1)
    }

    /// Whether month `m` is the term's last: nothing rolls over past it.
    pub fn is_last(&self, m: u32) -> bool {
        m + 1 >= self.term
    }

    pub fn fee(&self, m: u32) -> Money {
        self.fees.get(m as usize).copied().unwrap_or_default()
    }

    /// Total commitment over the term (reserved fees excluded).
    pub fn committed(&self) -> Money {
        self.spans.iter().map(|s| s.amount).sum()
    }

    /// Commitment still unpaid after month `m`: periods not yet begun, reserved fees of later
    /// months, and — for a minimum commitment — the undrawn `fresh` part of the open period
    /// (a drawdown period was prepaid when it opened).
    pub fn unpaid_after(&self, m: u32, fresh: Money) -> Money {
        let later: Money = self
            .spans
            .iter()
            .filter(|s| s.first > m)
            .map(|s| s.amount)
            .sum();
        let fees: Money = self.fees.iter().skip(m as usize + 1).copied().sum();
        let open = match self.kind {
            Some(CommitKind::Minimum) => fresh,
            _ => Money::ZERO,
        };
        later + fees + open
    }
}

/// 24 × the days from `first` to the same day next month (a calendar month from a 1st).
pub(crate) fn hours_in_month(first: NaiveDate) -> u32 {
    let next = first.checked_add_months(Months::new(1));
    let days = next.map_or(30, |n| {
        u32::try_from(n.signed_duration_since(first).num_days()).unwrap_or(30)
    });
    24 * days
}
