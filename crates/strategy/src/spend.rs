//! Spend and unit economics: cost, tokens and requests by dimension and period, shares,
//! vendor concentration, and growth per workload.
//!
//! Formulas (docs/strategy.md has worked examples):
//! - cost per request = cost / requests; cost per 1k requests = 1000 × that.
//! - share = cost of the group / total cost.
//! - HHI (Herfindahl–Hirschman index) = Σ (100 × share_i)² over vendors: 10,000 means one
//!   vendor takes everything; below 1,500 is unconcentrated, above 2,500 highly concentrated
//!   (the US antitrust thresholds, reused as a lock-in signal).
//! - growth = cost of the last 30 days / cost of the 30 days before − 1; trend = least-squares
//!   slope of daily cost over the window, in $/day per day.

use crate::source::{DailyRow, History};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Workload,
    Provider,
    Model,
    Team,
}

impl FromStr for Dimension {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "workload" => Ok(Dimension::Workload),
            "provider" => Ok(Dimension::Provider),
            "model" => Ok(Dimension::Model),
            "team" | "tag" => Ok(Dimension::Team),
            _ => Err(format!(
                "unknown dimension {s:?}; use workload, provider, model or team"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Total,
    Day,
    Week,
    Month,
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "total" => Ok(Period::Total),
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            _ => Err(format!(
                "unknown period {s:?}; use total, day, week or month"
            )),
        }
    }
}

/// One group in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendRow {
    pub period: String,
    pub key: String,
    pub requests: u64,
    pub usage: TokenUsage,
    pub cost: Money,
    pub cost_per_request: Money,
    pub cost_per_1k_requests: Money,
    /// Of the period's total cost, 0..1.
    pub share: Decimal,
}

/// Growth of one workload's spend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Growth {
    pub workload: String,
    pub last_30d: Money,
    pub previous_30d: Money,
    /// last / previous − 1; `None` when the previous window had no spend.
    pub growth_rate: Option<Decimal>,
    /// Least-squares slope of daily cost over the last 60 days, $/day per day.
    pub trend_per_day: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendReport {
    pub by: Dimension,
    pub period: Period,
    pub rows: Vec<SpendRow>,
    pub total_cost: Money,
    pub total_requests: u64,
    /// Concentration across vendors over the whole history, 0..10,000.
    pub vendor_hhi: Decimal,
    /// Per workload.
    pub workload_vendor_hhi: BTreeMap<String, Decimal>,
    pub growth: Vec<Growth>,
}

fn key_of(r: &DailyRow, by: Dimension) -> String {
    match by {
        Dimension::Workload => r.workload.clone(),
        Dimension::Provider => r.provider.clone(),
        Dimension::Model => format!("{}/{}", r.provider, r.model),
        Dimension::Team => r.team.clone(),
    }
}

fn period_of(d: NaiveDate, p: Period) -> String {
    match p {
        Period::Total => "all".into(),
        Period::Day => d.format("%Y-%m-%d").to_string(),
        Period::Week => {
            let w = d.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Period::Month => d.format("%Y-%m").to_string(),
    }
}

fn ratio(a: Money, b: Money) -> Decimal {
    if b.is_zero() {
        Decimal::ZERO
    } else {
        a.decimal() / b.decimal()
    }
}

/// Σ (100 × share)² of `costs`.
pub fn hhi<'a>(costs: impl IntoIterator<Item = &'a Money>) -> Decimal {
    let costs: Vec<Money> = costs.into_iter().copied().collect();
    let total: Money = costs.iter().copied().sum();
    if total.is_zero() {
        return Decimal::ZERO;
    }
    costs
        .iter()
        .map(|c| {
            let pct = ratio(*c, total) * Decimal::ONE_HUNDRED;
            pct * pct
        })
        .sum::<Decimal>()
        .round_dp(1)
}

/// Least-squares slope of `ys` against 0, 1, 2, ….
pub fn slope(ys: &[Decimal]) -> Decimal {
    let n = Decimal::from(ys.len() as u64);
    if ys.len() < 2 {
        return Decimal::ZERO;
    }
    let xs: Vec<Decimal> = (0..ys.len() as u64).map(Decimal::from).collect();
    let mx = xs.iter().sum::<Decimal>() / n;
    let my = ys.iter().sum::<Decimal>() / n;
    let sxy: Decimal = xs.iter().zip(ys).map(|(x, y)| (*x - mx) * (*y - my)).sum();
    let sxx: Decimal = xs.iter().map(|x| (*x - mx) * (*x - mx)).sum();
    if sxx.is_zero() {
        Decimal::ZERO
    } else {
        sxy / sxx
    }
}

/// The spend report: `by` × `period` rows, plus concentration and growth.
pub fn report(h: &History, by: Dimension, period: Period) -> SpendReport {
    let mut groups: BTreeMap<(String, String), (u64, TokenUsage, Money)> = BTreeMap::new();
    let mut period_totals: BTreeMap<String, Money> = BTreeMap::new();
    for r in &h.rows {
        let p = period_of(r.day, period);
        let g = groups.entry((p.clone(), key_of(r, by))).or_insert((
            0,
            TokenUsage::default(),
            Money::ZERO,
        ));
        g.0 += r.requests;
        add_usage(&mut g.1, &r.usage);
        g.2 += r.cost;
        *period_totals.entry(p).or_default() += r.cost;
    }
    let mut rows: Vec<SpendRow> = groups
        .into_iter()
        .map(|((p, key), (requests, usage, cost))| {
            let per = if requests == 0 {
                Money::ZERO
            } else {
                Money::new(cost.decimal() / Decimal::from(requests))
            };
            SpendRow {
                share: ratio(cost, period_totals.get(&p).copied().unwrap_or_default()),
                period: p,
                key,
                requests,
                usage,
                cost,
                cost_per_request: per,
                cost_per_1k_requests: per * Decimal::from(1000),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.period
            .cmp(&b.period)
            .then(b.cost.cmp(&a.cost))
            .then(a.key.cmp(&b.key))
    });
    SpendReport {
        by,
        period,
        rows,
        total_cost: h.total_cost(),
        total_requests: h.rows.iter().map(|r| r.requests).sum(),
        vendor_hhi: vendor_hhi(h.rows.iter()),
        workload_vendor_hhi: h
            .workloads()
            .into_iter()
            .map(|w| {
                (
                    w.to_string(),
                    vendor_hhi(h.rows.iter().filter(|r| r.workload == w)),
                )
            })
            .collect(),
        growth: growth(h),
    }
}

fn vendor_hhi<'a>(rows: impl Iterator<Item = &'a DailyRow>) -> Decimal {
    let mut by: BTreeMap<&str, Money> = BTreeMap::new();
    for r in rows {
        *by.entry(r.provider.as_str()).or_default() += r.cost;
    }
    hhi(by.values())
}

pub(crate) fn add_usage(a: &mut TokenUsage, b: &TokenUsage) {
    a.input += b.input;
    a.cached_input += b.cached_input;
    a.cache_write += b.cache_write;
    a.cache_write_1h += b.cache_write_1h;
    a.output += b.output;
    a.reasoning += b.reasoning;
}

/// Every token count multiplied by `k` (rounded), e.g. to convert between tokenizers.
pub(crate) fn scale(u: &TokenUsage, k: Decimal) -> TokenUsage {
    let f = |n: u64| (Decimal::from(n) * k).round().try_into().unwrap_or(n);
    TokenUsage {
        input: f(u.input),
        cached_input: f(u.cached_input),
        cache_write: f(u.cache_write),
        cache_write_1h: f(u.cache_write_1h),
        output: f(u.output),
        reasoning: f(u.reasoning),
    }
}

/// Daily cost of each workload, gaps filled with zero, over `days` days ending at `end`.
pub fn daily_series(
    h: &History,
    workload: Option<&str>,
    end: NaiveDate,
    days: i64,
) -> Vec<(NaiveDate, Money)> {
    let start = end - chrono::Duration::days(days - 1);
    let mut by: BTreeMap<NaiveDate, Money> = (0..days)
        .map(|i| (start + chrono::Duration::days(i), Money::ZERO))
        .collect();
    for r in h
        .rows
        .iter()
        .filter(|r| workload.is_none_or(|w| r.workload == w))
    {
        if let Some(c) = by.get_mut(&r.day) {
            *c += r.cost;
        }
    }
    by.into_iter().collect()
}

/// Daily cost of `provider` (all when `None`) over at most the last `days` days of the history,
/// never reaching before the history's first day: a day before the ledger began is unknown,
/// not $0, so a 30-day ledger yields 30 entries and nothing can mistake it for 60 quiet days.
/// Days inside the covered range without traffic are $0. Empty history: empty series.
pub fn covered_daily_series(
    h: &History,
    provider: Option<&str>,
    days: i64,
) -> Vec<(NaiveDate, Money)> {
    let (Some(first), Some(end)) = (h.first_day(), h.last_day()) else {
        return Vec::new();
    };
    let covered = (end - first).num_days() + 1;
    let only = History {
        rows: h
            .rows
            .iter()
            .filter(|r| provider.is_none_or(|p| r.provider == p))
            .cloned()
            .collect(),
        ..Default::default()
    };
    daily_series(&only, None, end, days.min(covered))
}

fn growth(h: &History) -> Vec<Growth> {
    let Some(end) = h.last_day() else {
        return Vec::new();
    };
    let mut out: Vec<Growth> = h
        .workloads()
        .into_iter()
        .map(|w| {
            let series = daily_series(h, Some(w), end, 60);
            let (prev, last) = series.split_at(30);
            let sum = |s: &[(NaiveDate, Money)]| s.iter().map(|(_, c)| *c).sum::<Money>();
            let (p, l) = (sum(prev), sum(last));
            let ys: Vec<Decimal> = series.iter().map(|(_, c)| c.decimal()).collect();
            Growth {
                workload: w.to_string(),
                last_30d: l,
                previous_30d: p,
                growth_rate: (!p.is_zero()).then(|| (ratio(l, p) - Decimal::ONE).round_dp(4)),
                trend_per_day: slope(&ys).round_dp(6),
            }
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.last_30d));
    out
}

#[cfg(test)]
#[path = "spend_tests.rs"]
pub(crate) mod tests;
