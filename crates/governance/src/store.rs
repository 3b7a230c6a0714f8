//! `KeyStore`: the operators' side of virtual keys (create, update, rotate, revoke) over the
//! ledger's [`keys::Store`], which persists rows; the SQL lives in the ledger crate.
//!
//! The store keeps a key's SHA-256 digest and a short display prefix, never the secret. Every
//! mutation bumps a counter in the same transaction, so a running server can poll
//! [`KeyStore::version`] cheaply and reload when the CLI (another process) changed something.

use crate::material::{self, RandomError};
use crate::{KeySpec, SpecError};
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use serde::Serialize;
use std::path::Path;
use switchyard_ledger::{LedgerError, Location, keys};

/// A virtual key as shown to operators: identity, settings and lifecycle, never the secret or
/// its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub id: String,
    /// The first characters of the secret (`sk-sy-AbCd`), so people can tell keys apart.
    pub prefix: String,
    #[serde(flatten)]
    pub spec: KeySpec,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What can go wrong with the key store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the key store at {path}: {message}")]
    Open { path: String, message: String },
    #[error("key store: {0}")]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Invalid(#[from] SpecError),
    #[error("no virtual key `{id}`; `switchyard keys list` shows the ids")]
    NotFound { id: String },
    #[error("virtual key `{id}` is revoked; create a new key instead")]
    Revoked { id: String },
    #[error("virtual key `{id}` is stored in an unreadable form ({message})")]
    Corrupt { id: String, message: String },
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Virtual keys over a persistence backend.
pub struct KeyStore {
    rows: Box<dyn keys::Store>,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Keys kept in `rows`.
    pub fn new(rows: Box<dyn keys::Store>) -> Self {
        KeyStore {
            rows,
            rng: SystemRandom::new(),
        }
    }

    /// Opens (creating if needed) the keys of the ledger at `location`.
    pub fn at(location: &Location) -> Result<Self, StoreError> {
        let rows = location.open_keys().map_err(|e| StoreError::Open {
            path: location.to_string(),
            message: e.to_string(),
        })?;
        Ok(Self::new(rows))
    }

    /// Opens (creating if needed) the keys in the ledger file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::at(&Location::from(path))
    }

    /// Creates a key. Returns its info and its secret, which is not stored and cannot be
    /// shown again.
    pub fn create(
        &self,
        spec: KeySpec,
        now: DateTime<Utc>,
    ) -> Result<(KeyInfo, String), StoreError> {
        spec.validate()?;
        let id = material::new_key_id(&self.rng)?;
        let secret = material::new_secret(&self.rng)?;
        let info = KeyInfo {
            id,
            prefix: material::display_prefix(&secret),
            spec,
            created_at: now,
            rotated_at: None,
            revoked_at: None,
        };
        self.rows
            .insert(&row(&info, material::hash_hex(&secret))?)?;
        Ok((info, secret))
    }

    /// Every key, revoked ones included, oldest first.
    pub fn list(&self) -> Result<Vec<KeyInfo>, StoreError> {
        Ok(self
            .all_with_hashes()?
            .into_iter()
            .map(|(_, i)| i)
            .collect())
    }

    /// One key by id.
    pub fn get(&self, id: &str) -> Result<KeyInfo, StoreError> {
        self.fetch(id).map(|(info, _)| info)
    }

    /// Replaces a key's settings; its secret stays valid.
    pub fn update(&self, id: &str, spec: KeySpec) -> Result<KeyInfo, StoreError> {
        spec.validate()?;
        let (mut info, _) = self.fetch_live(id)?;
        info.spec = spec;
        let changed = self.rows.set_spec(id, &spec_json(&info)?)?;
        live(changed, id)?;
        Ok(info)
    }

    /// Gives a key a new secret; the old one stops working at the next reload.
    pub fn rotate(&self, id: &str, now: DateTime<Utc>) -> Result<(KeyInfo, String), StoreError> {
        let secret = material::new_secret(&self.rng)?;
        let (mut info, _) = self.fetch_live(id)?;
        info.prefix = material::display_prefix(&secret);
        info.rotated_at = Some(now);
        let hash = material::hash_hex(&secret);
        live(self.rows.set_secret(id, &hash, &info.prefix, now)?, id)?;
        Ok((info, secret))
    }

    /// Revokes a key for good. Revoking a revoked key changes nothing.
    pub fn revoke(&self, id: &str, now: DateTime<Utc>) -> Result<KeyInfo, StoreError> {
        let (mut info, _) = self.fetch(id)?;
        if info.revoked_at.is_some() {
            return Ok(info);
        }
        info.revoked_at = Some(now);
        if !self.rows.revoke(id, now)? {
            // Revoked by someone else meanwhile: theirs stands.
            return self.get(id);
        }
        Ok(info)
    }

    /// Keys that are not revoked, with their digests (hex), for the governor. Expired keys are
    /// included so the governor can tell their holders why they are refused.
    pub fn active(&self) -> Result<Vec<(String, KeyInfo)>, StoreError> {
        let mut all = self.all_with_hashes()?;
        all.retain(|(_, info)| info.revoked_at.is_none());
        Ok(all)
    }

    /// Every key with its hash, revoked ones included: what the gateway loads, so a revoked
    /// key is refused as revoked and revoking the last key never opens the gateway.
    pub fn all_with_hashes(&self) -> Result<Vec<(String, KeyInfo)>, StoreError> {
        self.rows.all()?.into_iter().map(info_of).collect()
    }

    /// A counter bumped by every mutation, from any process.
    pub fn version(&self) -> Result<i64, StoreError> {
        Ok(self.rows.version()?)
    }

    fn fetch(&self, id: &str) -> Result<(KeyInfo, String), StoreError> {
        let row = self
            .rows
            .get(id)?
            .ok_or_else(|| StoreError::NotFound { id: id.into() })?;
        info_of(row).map(|(hash, info)| (info, hash))
    }

    fn fetch_live(&self, id: &str) -> Result<(KeyInfo, String), StoreError> {
        let found = self.fetch(id)?;
        if found.0.revoked_at.is_some() {
            return Err(StoreError::Revoked { id: id.into() });
        }
        Ok(found)
    }
}

/// A change that found no live key: it was revoked meanwhile.
fn live(changed: bool, id: &str) -> Result<(), StoreError> {
    if changed {
        Ok(())
    } else {
        Err(StoreError::Revoked { id: id.into() })
    }
}

fn spec_json(info: &KeyInfo) -> Result<String, StoreError> {
    serde_json::to_string(&info.spec).map_err(|e| StoreError::Corrupt {
        id: info.id.clone(),
        message: format!("cannot encode settings: {e}"),
    })
}

fn row(info: &KeyInfo, hash: String) -> Result<keys::Row, StoreError> {
    Ok(keys::Row {
        id: info.id.clone(),
        hash,
        prefix: info.prefix.clone(),
        spec: spec_json(info)?,
        created_at: info.created_at,
        rotated_at: info.rotated_at,
        revoked_at: info.revoked_at,
    })
}

/// A stored row as (digest, info).
fn info_of(r: keys::Row) -> Result<(String, KeyInfo), StoreError> {
    let spec: KeySpec = serde_json::from_str(&r.spec).map_err(|e| StoreError::Corrupt {
        id: r.id.clone(),
        message: format!("settings: {e}"),
    })?;
    let info = KeyInfo {
        id: r.id,
        prefix: r.prefix,
        spec,
        created_at: r.created_at,
        rotated_at: r.rotated_at,
        revoked_at: r.revoked_at,
    };
    Ok((r.hash, info))
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
