//! `KeyStore`: virtual keys in SQLite, in the ledger file but in a table of their own.
//!
//! The store keeps a key's SHA-256 digest and a short display prefix, never the secret. Every
//! mutation bumps a counter in the same transaction, so a running server can poll
//! [`KeyStore::version`] cheaply and reload when the CLI (another process) changed something.

use crate::material::{self, RandomError};
use crate::{KeySpec, SpecError};
use chrono::{DateTime, SecondsFormat, Utc};
use ring::rand::SystemRandom;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

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
    #[error("key store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS virtual_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at TEXT NOT NULL,
        rotated_at TEXT,
        revoked_at TEXT
    );
    CREATE TABLE IF NOT EXISTS virtual_keys_version (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        version INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO virtual_keys_version (singleton, version) VALUES (1, 0);
";

const COLUMNS: &str = "id, prefix, spec, created_at, rotated_at, revoked_at, hash";

/// Virtual keys in one SQLite file.
pub struct KeyStore {
    conn: Connection,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Opens (creating if needed) the key table in the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_err(format!("cannot create its directory: {e}")))?;
        }
        let conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        // The ledger writer holds the file too: wait for its commits rather than fail.
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| open_err(format!("cannot create the virtual_keys table: {e}")))?;
        Ok(KeyStore {
            conn,
            rng: SystemRandom::new(),
        })
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
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO virtual_keys (id, hash, prefix, spec, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                info.id,
                material::hash_hex(&secret),
                info.prefix,
                spec_json(&info)?,
                ts(now)
            ],
        )?;
        bump(&tx)?;
        tx.commit()?;
        Ok((info, secret))
    }

    /// Every key, revoked ones included, oldest first.
    pub fn list(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM virtual_keys ORDER BY created_at, id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| Ok(read_row(r)))?;
        rows.map(|r| r?.map(|(info, _)| info)).collect()
    }

    /// One key by id.
    pub fn get(&self, id: &str) -> Result<KeyInfo, StoreError> {
        fetch(&self.conn, id).map(|(info, _)| info)
    }

    /// Replaces a key's settings; its secret stays valid.
    pub fn update(&self, id: &str, spec: KeySpec) -> Result<KeyInfo, StoreError> {
        spec.validate()?;
        let tx = self.write()?;
        let (mut info, _) = fetch_live(&tx, id)?;
        info.spec = spec;
        tx.execute(
            "UPDATE virtual_keys SET spec = ?2 WHERE id = ?1",
            params![id, spec_json(&info)?],
        )?;
        bump(&tx)?;
        tx.commit()?;
        Ok(info)
    }

    /// Gives a key a new secret; the old one stops working at the next reload.
    pub fn rotate(&self, id: &str, now: DateTime<Utc>) -> Result<(KeyInfo, String), StoreError> {
        let secret = material::new_secret(&self.rng)?;
        let tx = self.write()?;
        let (mut info, _) = fetch_live(&tx, id)?;
        info.prefix = material::display_prefix(&secret);
        info.rotated_at = Some(now);
        tx.execute(
            "UPDATE virtual_keys SET hash = ?2, prefix = ?3, rotated_at = ?4 WHERE id = ?1",
            params![id, material::hash_hex(&secret), info.prefix, ts(now)],
        )?;
        bump(&tx)?;
        tx.commit()?;
        Ok((info, secret))
    }

    /// Revokes a key for good. Revoking a revoked key changes nothing.
    pub fn revoke(&self, id: &str, now: DateTime<Utc>) -> Result<KeyInfo, StoreError> {
        let tx = self.write()?;
        let (mut info, _) = fetch(&tx, id)?;
        if info.revoked_at.is_some() {
            return Ok(info);
        }
        info.revoked_at = Some(now);
        tx.execute(
            "UPDATE virtual_keys SET revoked_at = ?2 WHERE id = ?1",
            params![id, ts(now)],
        )?;
        bump(&tx)?;
        tx.commit()?;
        Ok(info)
    }

    /// Keys that are not revoked, with their digests (hex), for the governor. Expired keys are
    /// included so the governor can tell their holders why they are refused.
    pub fn active(&self) -> Result<Vec<(String, KeyInfo)>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM virtual_keys WHERE revoked_at IS NULL ORDER BY created_at, id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| Ok(read_row(r)))?;
        rows.map(|r| r?.map(|(info, hash)| (hash, info))).collect()
    }

    /// Every key with its hash, revoked ones included: what the gateway loads, so a revoked
    /// key is refused as revoked and revoking the last key never opens the gateway.
    pub fn all_with_hashes(&self) -> Result<Vec<(String, KeyInfo)>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM virtual_keys ORDER BY created_at, id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| Ok(read_row(r)))?;
        rows.map(|r| r?.map(|(info, hash)| (hash, info))).collect()
    }

    /// A counter bumped by every mutation, from any process.
    pub fn version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT version FROM virtual_keys_version WHERE singleton = 1",
            [],
            |r| r.get(0),
        )?)
    }

    /// A write transaction that takes the lock up front, so two writers queue on the busy
    /// timeout instead of failing when one upgrades a read lock.
    fn write(&self) -> Result<Transaction<'_>, StoreError> {
        Ok(Transaction::new_unchecked(
            &self.conn,
            TransactionBehavior::Immediate,
        )?)
    }
}

fn bump(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE virtual_keys_version SET version = version + 1 WHERE singleton = 1",
        [],
    )
    .map(|_| ())
}

fn fetch(conn: &Connection, id: &str) -> Result<(KeyInfo, String), StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM virtual_keys WHERE id = ?1");
    conn.query_row(&sql, params![id], |r| Ok(read_row(r)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound { id: id.into() })?
}

fn fetch_live(conn: &Connection, id: &str) -> Result<(KeyInfo, String), StoreError> {
    let found = fetch(conn, id)?;
    if found.0.revoked_at.is_some() {
        return Err(StoreError::Revoked { id: id.into() });
    }
    Ok(found)
}

fn read_row(r: &Row<'_>) -> Result<(KeyInfo, String), StoreError> {
    let id: String = r.get(0)?;
    let corrupt = |message: String| StoreError::Corrupt {
        id: id.clone(),
        message,
    };
    let spec: String = r.get(2)?;
    let spec: KeySpec =
        serde_json::from_str(&spec).map_err(|e| corrupt(format!("settings: {e}")))?;
    let time = |i: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
        let v: Option<String> = r.get(i)?;
        v.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| corrupt(format!("timestamp `{s}`: {e}")))
        })
        .transpose()
    };
    let created_at = time(3)?.ok_or_else(|| corrupt("no creation time".into()))?;
    let info = KeyInfo {
        prefix: r.get(1)?,
        spec,
        created_at,
        rotated_at: time(4)?,
        revoked_at: time(5)?,
        id: id.clone(),
    };
    Ok((info, r.get(6)?))
}

fn spec_json(info: &KeyInfo) -> Result<String, StoreError> {
    serde_json::to_string(&info.spec).map_err(|e| StoreError::Corrupt {
        id: info.id.clone(),
        message: format!("cannot encode settings: {e}"),
    })
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
