//! What the fleet needs of a key on every request, built once per loaded key (a
//! [`KeyHandle`] is rebuilt when its settings change, so this follows them): the Redis key
//! names, each budget's limit in nano-dollars, and each budget's current period (its hash
//! name, start and end), so the request path formats no key name and does no calendar or
//! decimal arithmetic for them. A period's entry is rebuilt when `now` leaves it.

use super::{lock, nano};
use crate::{KeyHandle, Period};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// A key's fleet names and limits.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The fleet prefix these names were built under (one process may hold two fleets in
    /// tests; a handle caches the names of the first).
    prefix: String,
    pub(crate) key_id: String,
    pub(crate) lease: String,
    pub(crate) leases: String,
    pub(crate) rpm: String,
    pub(crate) tpm: String,
    /// `prefix + "k{id}:b:"`, the stem of every budget hash.
    stem: String,
    pub(crate) budgets: Vec<PreparedBudget>,
}

/// One budget of the key.
#[derive(Debug)]
pub(crate) struct PreparedBudget {
    pub(crate) period: Period,
    pub(crate) limit_nano: i64,
    pub(crate) hard: bool,
    window: Mutex<Option<Window>>,
}

/// A budget's current period: its hash in Redis and where it ends.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    pub(crate) start_ms: i64,
    end_ms: i64,
    pub(crate) hash: Arc<str>,
}

impl Window {
    /// How long the hash lives: to the end of its period plus a day, so late settlements
    /// and reconciles still find it.
    pub(crate) fn ttl_ms(&self, now_ms: i64) -> i64 {
        (self.end_ms - now_ms).max(0) + 86_400_000
    }
}

impl Prepared {
    pub(crate) fn new(prefix: &str, key: &KeyHandle) -> Prepared {
        let id = key.id();
        let name = |what: &str| format!("{prefix}k{{{id}}}:{what}");
        Prepared {
            prefix: prefix.to_owned(),
            key_id: id.to_owned(),
            lease: name("lease"),
            leases: name("leases"),
            rpm: name("rpm"),
            tpm: name("tpm"),
            stem: name("b:"),
            budgets: key
                .info()
                .spec
                .budgets
                .iter()
                .map(|b| PreparedBudget {
                    period: b.period,
                    limit_nano: nano(b.limit_usd),
                    hard: b.hard,
                    window: Mutex::new(None),
                })
                .collect(),
        }
    }

    /// The key's prepared names: the handle's cached ones, built on first use.
    pub(crate) fn of(prefix: &str, key: &KeyHandle) -> Arc<Prepared> {
        if let Some(p) = key.fleet.get() {
            if p.prefix == prefix {
                return p.clone();
            }
            return Arc::new(Prepared::new(prefix, key));
        }
        key.fleet
            .get_or_init(|| Arc::new(Prepared::new(prefix, key)))
            .clone()
    }

    /// The budget hash of `period` at `now` (the same name [`budget_hash`] gives).
    pub(crate) fn window(&self, i: usize, now: DateTime<Utc>) -> Window {
        let b = &self.budgets[i];
        let now_ms = now.timestamp_millis();
        let mut w = lock(&b.window);
        match &*w {
            Some(cur) if cur.start_ms <= now_ms && now_ms < cur.end_ms => cur.clone(),
            _ => {
                let start_ms = b.period.start(now).timestamp_millis();
                let fresh = Window {
                    start_ms,
                    end_ms: b.period.next_start(now).timestamp_millis(),
                    hash: format!("{}{}:{start_ms}", self.stem, b.period).into(),
                };
                *w = Some(fresh.clone());
                fresh
            }
        }
    }
}

/// `prefix + "k{" + key id + "}:b:" + period + ":" + start ms`: one hash per budget period,
/// named by its start so a new period starts from zero.
pub(crate) fn budget_hash(prefix: &str, key_id: &str, period: Period, start_ms: i64) -> String {
    format!("{prefix}k{{{key_id}}}:b:{period}:{start_ms}")
}
