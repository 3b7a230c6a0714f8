//! The cascade report: per cascade route, how often a tier's answer failed its checks and
//! what the route paid (every tier, and the judge calls its `judge` checks made) against
//! "always the top tier".
//!
//! Reads the requests a cascade route served (a partial index on `cascade_tier` keeps it off
//! the rest of the table) and sums money in decimal, here rather than in SQL.

use crate::LedgerError;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use switchyard_primitives::Money;

/// One cascade route's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CascadeRow {
    pub route: String,
    /// Client requests the route served (shadow traffic excluded).
    pub requests: u64,
    /// Of those, answered by a tier above the first (at least one escalation).
    pub escalated: u64,
    /// What was paid, every tier included.
    pub cost_usd: Money,
    /// What the route's `judge` checks cost: the judge calls are records of their own on the
    /// judge route (so `ledger summary` counts them as spend there); the cascade pays them.
    #[serde(default)]
    pub judge_usd: Money,
    /// The answering tiers' usage at the top tier's prices.
    pub top_tier_usd: Money,
    /// Requests whose top tier is unpriced (left out of `top_tier_usd`).
    pub unpriced: u64,
}

impl CascadeRow {
    /// Share of requests that escalated, in `[0, 1]`.
    pub fn escalation_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.escalated as f64 / self.requests as f64
        }
    }

    /// What the cascade saved against always using the top tier, net of what its judges
    /// cost (negative: it cost more). Always asking the top tier needs no judge.
    pub fn saved_usd(&self) -> Money {
        self.top_tier_usd - self.cost_usd - self.judge_usd
    }
}

pub(crate) fn report(
    conn: &Connection,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<CascadeRow>, LedgerError> {
    let from = since.map_or(i64::MIN, |s| s.timestamp_millis());
    report_between(conn, (from, i64::MAX))
}

/// The report over `[from, until)` in `ts_ms`, production traffic only.
pub(crate) fn report_between(
    conn: &Connection,
    (from, until): (i64, i64),
) -> Result<Vec<CascadeRow>, LedgerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT route, cascade_tier, cost_usd, cascade_baseline_usd, cascade_judged_usd FROM requests \
         WHERE cascade_tier IS NOT NULL AND ts_ms >= ?1 AND ts_ms < ?2 AND shadow = 0",
    )?;
    let mut rows = stmt.query(params![from, until])?;
    let mut by_route: BTreeMap<String, CascadeRow> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let route: String = row.get(0)?;
        let tier: i64 = row.get(1)?;
        let cost = money(row.get(2)?)?;
        let baseline = money(row.get(3)?)?;
        let judged = money(row.get(4)?)?;
        let entry = by_route.entry(route.clone()).or_insert_with(|| CascadeRow {
            route,
            ..CascadeRow::default()
        });
        entry.requests += 1;
        entry.escalated += u64::from(tier > 1);
        entry.cost_usd += cost.unwrap_or(Money::ZERO);
        entry.judge_usd += judged.unwrap_or(Money::ZERO);
        match baseline {
            Some(b) => entry.top_tier_usd += b,
            None => entry.unpriced += 1,
        }
    }
    Ok(by_route.into_values().collect())
}

fn money(text: Option<String>) -> Result<Option<Money>, LedgerError> {
    text.map(|t| Money::from_str(&t))
        .transpose()
        .map_err(|e| LedgerError::Corrupt(format!("cascade cost: {e}")))
}
