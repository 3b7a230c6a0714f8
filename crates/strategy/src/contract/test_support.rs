//! Builders shared by the contract tests.

use super::billing::{Month, MonthBill, bill};
use super::capacity::Profile;
use super::inputs::{GrowthModel, SimOptions, UsageHistory};
use super::simulate::{OfferResult, simulate};
use super::terms::{Commit, CommitKind, Offer, Period};
use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use std::str::FromStr;
use switchyard_primitives::Money;

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn usd(s: &str) -> Money {
    Money(dec(s))
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// January 2026: the start of most test contracts.
pub fn jan() -> NaiveDate {
    date(2026, 1, 1)
}

/// A plain monthly minimum commitment with no other terms.
pub fn commit_offer(amount: &str, discount: &str, term_months: u32) -> Offer {
    let mut o = Offer::on_demand(jan(), term_months);
    o.name = "commit".to_string();
    o.commit = Some(Commit {
        amount: usd(amount),
        period: Period::Month,
        discount: dec(discount),
        kind: CommitKind::Minimum,
        overage_discount: dec(discount),
        rollover: None,
        escalation_per_year: Decimal::ZERO,
    });
    o
}

/// Mutable access to the commitment of an offer built by [`commit_offer`].
pub fn commit_of(o: &mut Offer) -> &mut Commit {
    o.commit.as_mut().unwrap()
}

/// Contract months of `offer` with the given on-demand usage, in order.
pub fn months(offer: &Offer, usage: &[&str]) -> Vec<Month> {
    usage
        .iter()
        .zip(0u32..)
        .map(|(u, m)| Month {
            date: offer.start.checked_add_months(Months::new(m)).unwrap(),
            on_demand: usd(u),
        })
        .collect()
}

pub fn bills(offer: &Offer, usage: &[&str]) -> Vec<MonthBill> {
    bill(offer, &months(offer, usage), None)
}

pub fn bills_with(offer: &Offer, usage: &[&str], profile: &Profile) -> Vec<MonthBill> {
    bill(offer, &months(offer, usage), Some(profile))
}

/// Usage history whose months are exactly `usage`, starting at the offer's start.
pub fn history(offer: &Offer, usage: &[&str]) -> UsageHistory {
    UsageHistory {
        monthly: months(offer, usage)
            .into_iter()
            .map(|m| (m.date, m.on_demand))
            .collect(),
        hourly_tokens: None,
    }
}

/// A backtest: every contract month observed, so every path is the same.
pub fn backtest(offer: &Offer, usage: &[&str]) -> OfferResult {
    let opts = SimOptions { paths: 5, seed: 7 };
    simulate(
        offer,
        &history(offer, usage),
        &GrowthModel::default(),
        &opts,
    )
    .unwrap()
}

pub fn total(bills: &[MonthBill]) -> Money {
    bills.iter().map(|b| b.cost).sum()
}
