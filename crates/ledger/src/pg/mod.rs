//! The PostgreSQL backend: the same tables as the SQLite file (migrations from the one list in
//! `schema.rs`), money as exact `NUMERIC`, records written by `COPY` through a staging table
//! with the rollups upserted as atomic sums in the same transaction, so several replicas can
//! share a database.
//!
//! The client is the synchronous `postgres` crate. It drives its connection on a private
//! tokio runtime, which must not be entered from a thread already running async tasks (the
//! gateway calls the key store and spend reads from its handlers); every call therefore runs
//! on a short-lived scoped thread, which also lets it borrow its arguments. That costs a
//! thread start (tens of µs) per call: nothing next to a round trip, and never on the request
//! path (the writer commits a batch per call).

mod batch;
mod copy_in;
mod keys;
mod levers;
mod reads;
mod responses;
pub(crate) use reads::money as reads_money;
pub(crate) mod scan;
mod scratch;

pub use scratch::ScratchSchema;
mod write;

use crate::location::redact;
use crate::{LedgerError, schema};
use postgres::{Client, NoTls};
use std::sync::Mutex;

/// A ledger in a PostgreSQL database (the schema the URL's `search_path` selects).
pub struct PgStore {
    /// `None` while being dropped, or after a reconnect failed (the next call tries again).
    client: Mutex<Option<Client>>,
    /// Reconnects use it (a server restart closes the connection); may hold a password, so
    /// never shown.
    config: postgres::Config,
    /// Shown in messages: the URL with any password masked.
    shown: String,
}

/// Connecting gives up after this unless the URL sets `connect_timeout`: the writer asks again
/// a second later, and a host that drops packets must not stall it for minutes.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Closing the connection blocks on the client's runtime too, so it happens on a thread of
/// its own as well.
impl Drop for PgStore {
    fn drop(&mut self) {
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        std::thread::scope(|s| {
            s.spawn(move || drop(client));
        });
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` and applies every migration not yet applied.
    pub fn connect(url: &str) -> Result<Self, LedgerError> {
        Self::connect_counting(url).map(|(_, store)| store)
    }

    /// [`PgStore::connect`], also returning the schema version found before migrating.
    pub(crate) fn connect_counting(url: &str) -> Result<(i64, Self), LedgerError> {
        let shown = redact(url);
        let open_err = |message: String| LedgerError::Open {
            path: shown.clone(),
            message,
        };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| open_err(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let client = open(&config, &shown)?;
        let store = PgStore {
            client: Mutex::new(Some(client)),
            config,
            shown: shown.clone(),
        };
        let before = store
            .with(|c| migrate(c, schema::latest()))
            .map_err(|e| open_err(format!("migration failed: {e}")))?;
        Ok((before, store))
    }

    /// Runs `f` with the connection, on a thread of its own (see the module doc).
    pub(crate) fn with<R: Send>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, LedgerError> + Send,
    ) -> Result<R, LedgerError> {
        let mut guard = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_none_or(Client::is_closed) {
            // The server restarted or the network dropped the connection: the old client
            // is dead for good, so open a new one (migrations ran at the first connect).
            let dead = guard.take();
            std::thread::scope(|s| {
                s.spawn(move || drop(dead));
            });
            *guard = Some(open(&self.config, &self.shown)?);
        }
        let Some(client) = guard.as_mut() else {
            return Err(LedgerError::Corrupt(
                "the PostgreSQL ledger is closed".into(),
            ));
        };
        std::thread::scope(|s| {
            s.spawn(move || f(client)).join().unwrap_or_else(|_| {
                Err(LedgerError::Corrupt(
                    "a PostgreSQL call panicked; see the log".into(),
                ))
            })
        })
    }

    /// The schema version in the database.
    pub fn schema_version(&self) -> Result<i64, LedgerError> {
        self.with(|c| {
            let row = c.query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?;
            Ok(row.get::<_, i64>(0))
        })
    }
}

/// A PostgreSQL error with the server's message (severity, text), when it sent one (the eval
/// store's backend uses it too).
pub fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.to_string(),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// Opens a connection, on a thread of its own (see the module doc).
fn open(config: &postgres::Config, shown: &str) -> Result<Client, LedgerError> {
    let open_err = |message: String| LedgerError::Open {
        path: shown.to_string(),
        message,
    };
    connect(config).map_err(open_err)
}

/// Connects on a thread of its own (see the module doc); the error is a sentence (the eval
/// store's backend opens its connections with it too).
pub fn connect(config: &postgres::Config) -> Result<Client, String> {
    std::thread::scope(|s| {
        s.spawn(|| {
            config
                .connect(NoTls)
                .map_err(|e| format!("cannot connect: {}", message(&e)))
        })
        .join()
        .unwrap_or_else(|_| Err("the connecting thread panicked".into()))
    })
}

/// Applies the steps up to `target` that the database has not applied, under an advisory
/// lock so replicas starting together migrate once; returns the version found before.
pub(crate) fn migrate(c: &mut Client, target: i64) -> Result<i64, LedgerError> {
    let mut tx = c.transaction()?;
    // Any constant: the ledger's migration lock, held to the end of this transaction.
    tx.execute("SELECT pg_advisory_xact_lock(7468295311)", &[])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    let applied: Vec<i64> = tx
        .query("SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for s in schema::STEPS {
        if applied.contains(&s.version) || s.version > target {
            continue;
        }
        tx.batch_execute(s.postgres)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&s.version, &chrono::Utc::now().to_rfc3339()],
        )?;
    }
    tx.commit()?;
    Ok(applied.iter().copied().max().unwrap_or(0))
}
