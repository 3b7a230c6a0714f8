//! The two backends every conformance test runs against: a fresh SQLite file, and a fresh
//! schema with a random name in the PostgreSQL at 127.0.0.1:5432 (database `test`), dropped
//! when the test ends, so tests run in parallel and leave nothing behind.
//!
//! `SWITCHYARD_TEST_PG` overrides the server URL. Without a reachable server the PostgreSQL
//! half skips with a message, except under `CI`, where it fails.

use std::sync::atomic::{AtomicU64, Ordering};
use switchyard_ledger::{Location, ScratchSchema, Store, batch, keys};

pub struct Backend {
    pub location: Location,
    pub store: Box<dyn Store>,
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    /// Drops the schema when dropped.
    Schema(Option<ScratchSchema>),
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::Schema(s) => drop(s.take()),
        }
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn pg_server() -> String {
    std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = std::env::temp_dir().join(unique("switchyard-conformance"));
        std::fs::create_dir_all(&dir).unwrap();
        let location = Location::Sqlite(dir.join("ledger.db"));
        Backend {
            store: location.open().unwrap(),
            location,
            _cleanup: Cleanup::Dir(dir),
        }
    }

    /// `None` (after saying why) when no PostgreSQL is reachable outside CI.
    pub fn postgres() -> Option<Backend> {
        let admin = pg_server();
        let schema = match ScratchSchema::create(&admin, "sy_conf") {
            Ok(s) => s,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "PostgreSQL must be reachable at {admin} in CI: {e}"
                );
                eprintln!("skipping the PostgreSQL half: cannot use {admin}: {e}");
                return None;
            }
        };
        let location = Location::parse(schema.url());
        Some(Backend {
            store: location.open().unwrap(),
            location,
            _cleanup: Cleanup::Schema(Some(schema)),
        })
    }

    /// A second connection to the same database, as another process or replica would hold.
    pub fn reopen(&self) -> Box<dyn Store> {
        self.location.open().unwrap()
    }

    pub fn keys(&self) -> Box<dyn keys::Store> {
        self.location.open_keys().unwrap()
    }

    pub fn responses(&self) -> Box<dyn switchyard_ledger::responses::Store> {
        self.location.open_responses().unwrap()
    }

    /// The batch tables, on a connection of their own.
    pub fn batch(&self) -> Box<dyn batch::Store> {
        self.location.open_batch().unwrap()
    }
}

/// One `#[test]` per backend for each listed test function `fn(&mut Backend)`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&mut $crate::backend::Backend::sqlite());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(mut b) = $crate::backend::Backend::postgres() {
                        super::$name(&mut b);
                    }
                }
            )*
        }
    };
}
