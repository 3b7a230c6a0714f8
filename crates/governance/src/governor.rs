//! `Governor`: the in-memory view of the active keys used on the request path.
//!
//! Authentication is one SHA-256 and one `HashMap` lookup under a read lock; everything else
//! happens under the key's own mutex (see `admit`). Counters live in a [`KeyCell`] shared by
//! the key's handle and its outstanding reservations, and survive reloads by key id, so a
//! rotated key keeps its spend.

use crate::material::{self, SECRET_PREFIX};
use crate::state::KeyState;
use crate::{KeyInfo, Period, SpendError, SpendSource};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use switchyard_primitives::Money;

/// Why a presented key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no API key; send `Authorization: Bearer sk-sy-…` with a Switchyard virtual key")]
    Missing,
    #[error("the API key is not valid; check it, or ask an operator for a new key")]
    Invalid,
    #[error("the API key expired at {at}; ask an operator to extend it or issue a new key")]
    Expired { at: DateTime<Utc> },
    #[error("the API key was revoked; ask an operator for a new key")]
    Revoked,
}

/// Loading keys failed.
#[derive(Debug, thiserror::Error)]
pub enum GovernorError {
    #[error(transparent)]
    Spend(#[from] SpendError),
    #[error("virtual key `{id}` has a malformed stored hash; rotate or revoke it")]
    BadHash { id: String },
}

/// A key's counters, shared by its handle and its reservations.
pub(crate) struct KeyCell {
    pub(crate) id: String,
    state: Mutex<KeyState>,
}

impl KeyCell {
    pub(crate) fn new(info: &KeyInfo, loaded: Vec<(Period, Money)>, now: DateTime<Utc>) -> Self {
        KeyCell {
            id: info.id.clone(),
            state: Mutex::new(KeyState::new(info, loaded, now)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, KeyState> {
        // Counters stay meaningful even if a holder panicked mid-request.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An authenticated key: its settings and a link to its counters.
pub struct KeyHandle {
    info: KeyInfo,
    digest: [u8; 32],
    pub(crate) cell: Arc<KeyCell>,
    /// The fleet's names and limits for this key, built on its first shared admission.
    pub(crate) fleet: std::sync::OnceLock<Arc<crate::fleet::Prepared>>,
}

impl std::fmt::Debug for KeyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHandle")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl KeyHandle {
    pub fn info(&self) -> &KeyInfo {
        &self.info
    }

    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Whether the key may call `route` (an empty allow-list allows every route).
    pub fn allows_route(&self, route: &str) -> bool {
        let allowed = &self.info.spec.allowed_routes;
        allowed.is_empty() || allowed.iter().any(|r| r == route)
    }
}

#[derive(Default)]
struct Keys {
    by_hash: HashMap<[u8; 32], Arc<KeyHandle>>,
    by_id: HashMap<String, Arc<KeyHandle>>,
}

/// Thread-safe key authentication, admission and accounting.
pub struct Governor {
    keys: RwLock<Arc<Keys>>,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor")
            .field("keys", &self.current().by_id.len())
            .finish()
    }
}

impl Governor {
    /// Loads `keys` (digest hex, info), reading each budget's current-period spend from `spend`.
    pub fn new(
        keys: Vec<(String, KeyInfo)>,
        spend: &dyn SpendSource,
        now: DateTime<Utc>,
    ) -> Result<Self, GovernorError> {
        let built = build(keys, &Keys::default(), spend, now)?;
        Ok(Governor {
            keys: RwLock::new(Arc::new(built)),
        })
    }

    /// Swaps in a new key set (after the store's version changed). Keys that still exist keep
    /// their counters and in-flight reservations; new budgets and new keys read their spend.
    pub fn replace_keys(
        &self,
        keys: Vec<(String, KeyInfo)>,
        spend: &dyn SpendSource,
        now: DateTime<Utc>,
    ) -> Result<(), GovernorError> {
        let built = build(keys, &self.current(), spend, now)?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(built);
        Ok(())
    }

    /// True when at least one key is loaded: only then does the gateway require keys.
    pub fn is_enforcing(&self) -> bool {
        !self.current().by_hash.is_empty()
    }

    /// Finds the key whose secret was presented.
    pub fn authenticate(
        &self,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<KeyHandle>, AuthError> {
        let presented = presented.trim();
        if presented.is_empty() {
            return Err(AuthError::Missing);
        }
        if !presented.starts_with(SECRET_PREFIX) {
            return Err(AuthError::Invalid);
        }
        let digest = material::digest_of(presented);
        let handle = {
            let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
            keys.by_hash.get(&digest).cloned()
        };
        // The map lookup compares digests, which reveal nothing usable about secrets; the
        // explicit comparison keeps the check constant-time should the lookup ever change.
        let handle = handle
            .filter(|h| material::constant_time_eq(&h.digest, &digest))
            .ok_or(AuthError::Invalid)?;
        if handle.info.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        match handle.info.spec.expires_at {
            Some(at) if at <= now => Err(AuthError::Expired { at }),
            _ => Ok(handle),
        }
    }

    /// Every loaded key (the fleet reconciles their counters with the ledger).
    pub fn handles(&self) -> Vec<Arc<KeyHandle>> {
        self.current().by_id.values().cloned().collect()
    }

    /// The handle of a key by id (for the admin API).
    pub fn key(&self, id: &str) -> Option<Arc<KeyHandle>> {
        self.current().by_id.get(id).cloned()
    }

    fn current(&self) -> Arc<Keys> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn build(
    keys: Vec<(String, KeyInfo)>,
    old: &Keys,
    spend: &dyn SpendSource,
    now: DateTime<Utc>,
) -> Result<Keys, GovernorError> {
    let mut out = Keys::default();
    for (hash, info) in keys {
        let digest = material::parse_hash_hex(&hash).ok_or_else(|| GovernorError::BadHash {
            id: info.id.clone(),
        })?;
        let cell = match old.by_id.get(&info.id) {
            Some(prev) => {
                let cell = prev.cell.clone();
                let missing = cell.lock().missing_periods(&info);
                let loaded = load_spend(&info.id, &missing, spend, now)?;
                cell.lock().reconcile(&info, loaded, now);
                cell
            }
            None => {
                let periods: Vec<Period> = info.spec.budgets.iter().map(|b| b.period).collect();
                let loaded = load_spend(&info.id, &periods, spend, now)?;
                Arc::new(KeyCell::new(&info, loaded, now))
            }
        };
        let handle = Arc::new(KeyHandle {
            info,
            digest,
            cell,
            fleet: std::sync::OnceLock::new(),
        });
        out.by_id.insert(handle.info.id.clone(), handle.clone());
        out.by_hash.insert(digest, handle);
    }
    Ok(out)
}

/// Current-period spend of `key_id` for each of `periods`.
fn load_spend(
    key_id: &str,
    periods: &[Period],
    spend: &dyn SpendSource,
    now: DateTime<Utc>,
) -> Result<Vec<(Period, Money)>, GovernorError> {
    periods
        .iter()
        .map(|&p| Ok((p, spend.spent_since(key_id, p.start(now))?)))
        .collect()
}
