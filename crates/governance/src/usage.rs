//! What the admin API shows about a key: each budget's spend, holds and reset time, and the
//! rate limits' headroom.

use crate::state::left;
use crate::{Governor, Period};
use chrono::{DateTime, Utc};
use serde::Serialize;
use switchyard_primitives::Money;

/// One budget's state, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetUsage {
    pub period: Period,
    pub limit_usd: Money,
    pub hard: bool,
    pub spent_usd: Money,
    pub reserved_usd: Money,
    /// `limit - spent - reserved`, never below zero.
    pub remaining_usd: Money,
    pub resets_at: DateTime<Utc>,
}

/// A key's budgets and rate limits right now, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyUsage {
    pub key_id: String,
    pub budgets: Vec<BudgetUsage>,
    pub rpm: Option<u32>,
    pub requests_remaining: Option<u64>,
    pub tpm: Option<u64>,
    pub tokens_remaining: Option<u64>,
}

impl Governor {
    /// The key's budgets and limits at `now`, or `None` for an unknown key.
    pub fn snapshot(&self, key_id: &str, now: DateTime<Utc>) -> Option<KeyUsage> {
        let key = self.key(key_id)?;
        let spec = &key.info().spec;
        let mut state = key.cell.lock();
        let budgets = spec
            .budgets
            .iter()
            .map(|b| {
                let c = state.counter(b.period, now);
                BudgetUsage {
                    period: b.period,
                    limit_usd: b.limit_usd,
                    hard: b.hard,
                    spent_usd: c.spent,
                    reserved_usd: c.reserved,
                    remaining_usd: left(b.limit_usd, c.spent + c.reserved),
                    resets_at: b.period.next_start(now),
                }
            })
            .collect();
        Some(KeyUsage {
            key_id: key_id.to_string(),
            budgets,
            rpm: spec.rpm,
            requests_remaining: state.requests.as_ref().map(|r| r.remaining(now)),
            tpm: spec.tpm,
            tokens_remaining: state.tokens.as_mut().map(|w| w.remaining(now)),
        })
    }
}
