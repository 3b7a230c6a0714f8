//! The two backends every test runs against: a fresh SQLite file, and a fresh schema in the
//! PostgreSQL at 127.0.0.1:5432 (database `test`), dropped when the test ends, so tests run
//! in parallel and leave nothing behind.
//!
//! `SWITCHYARD_TEST_PG` overrides the server URL. Without a reachable server the PostgreSQL
//! half skips with a message, except under `CI`, where it fails.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use switchyard_evalstore::Store;
use switchyard_ledger::ScratchSchema;

pub struct Backend {
    /// What `switchyard_evalstore::open` takes: the file, or the schema's URL.
    pub place: PathBuf,
    pub store: Box<dyn Store>,
    schema: Option<ScratchSchema>,
    dir: Option<PathBuf>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
        drop(self.schema.take());
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

pub fn temp_dir(prefix: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn pg_server() -> String {
    std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = temp_dir("switchyard-evalstore");
        let place = dir.join("eval.db");
        Backend {
            store: switchyard_evalstore::open(&place).unwrap(),
            place,
            schema: None,
            dir: Some(dir),
        }
    }

    /// `None` (after saying why) when no PostgreSQL is reachable outside CI.
    pub fn postgres() -> Option<Backend> {
        let admin = pg_server();
        let schema = match ScratchSchema::create(&admin, "sy_evconf") {
            Ok(s) => s,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "PostgreSQL must be reachable at {admin} in CI: {e}"
                );
                eprintln!("skipping the PostgreSQL half: no server at {admin}: {e}");
                return None;
            }
        };
        let place = PathBuf::from(schema.url());
        Some(Backend {
            store: switchyard_evalstore::open(&place).unwrap(),
            place,
            schema: Some(schema),
            dir: None,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.schema.is_some()
    }

    /// A second connection to the same store, as another process or replica would hold.
    pub fn reopen(&self) -> Box<dyn Store> {
        switchyard_evalstore::open(&self.place).unwrap()
    }

    /// Runs raw SQL on the store's database (to try what the store's API never does).
    pub fn raw(&self, sql: &str) -> Result<(), String> {
        match &self.schema {
            Some(s) => {
                let url = s.url().to_string();
                let sql = sql.to_string();
                std::thread::spawn(move || {
                    let message = |e: postgres::Error| match e.as_db_error() {
                        Some(db) => db.to_string(),
                        None => e.to_string(),
                    };
                    let mut c =
                        postgres::Client::connect(&url, postgres::NoTls).map_err(message)?;
                    c.batch_execute(&sql).map_err(message)
                })
                .join()
                .unwrap()
            }
            None => rusqlite::Connection::open(&self.place)
                .and_then(|c| c.execute_batch(sql))
                .map_err(|e| e.to_string()),
        }
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
