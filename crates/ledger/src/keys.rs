//! Persistence of virtual keys (`virtual_keys`, in the ledger's database): rows only. What a
//! key's settings mean, how secrets are made and hashed, and which changes are allowed belong
//! to `switchyard-governance`, which takes a [`Store`]; this module never sees a secret, only
//! its digest.
//!
//! Every mutation bumps a version counter in the same transaction, so a running server can
//! poll [`Store::version`] cheaply and reload when another process changed something.

use crate::LedgerError;
use chrono::{DateTime, Utc};

/// One stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    /// The first characters of the secret, for display.
    pub prefix: String,
    /// The key's settings as JSON text (governance's `KeySpec`).
    pub spec: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where virtual keys are kept. Backends must pass the same conformance tests.
pub trait Store: Send {
    /// Adds a key; an id or hash already stored is an error.
    fn insert(&self, row: &Row) -> Result<(), LedgerError>;

    /// One key by id.
    fn get(&self, id: &str) -> Result<Option<Row>, LedgerError>;

    /// Every key, revoked ones included, oldest first (then by id).
    fn all(&self) -> Result<Vec<Row>, LedgerError>;

    // Each change below touches only its own columns and only a key that is not revoked, so
    // changes racing each other cannot undo one another (an update cannot restore a rotated
    // secret) and nothing revives a revoked key. Each returns whether a key was changed.

    /// Replaces a live key's settings (JSON text).
    fn set_spec(&self, id: &str, spec: &str) -> Result<bool, LedgerError>;

    /// Gives a live key a new secret digest and display prefix, rotated at `at`.
    fn set_secret(
        &self,
        id: &str,
        hash: &str,
        prefix: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, LedgerError>;

    /// Revokes a live key at `at`.
    fn revoke(&self, id: &str, at: DateTime<Utc>) -> Result<bool, LedgerError>;

    /// A counter bumped by every insert and every change made, from any process.
    fn version(&self) -> Result<i64, LedgerError>;
}

/// Timestamps as stored: RFC 3339 with nanoseconds, UTC.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A stored timestamp, or why it is unreadable.
pub(crate) fn parse_ts(id: &str, s: &str) -> Result<DateTime<Utc>, LedgerError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| LedgerError::Corrupt(format!("virtual key `{id}`: timestamp `{s}`: {e}")))
}
