//! A throw-away schema for tests and benchmarks: created with a unique name in the database
//! an admin URL names, dropped (with everything in it) when the value is dropped, so runs in
//! parallel never see each other's tables and leave nothing behind.

use crate::LedgerError;
use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicU64, Ordering};

/// A schema that exists while this value lives.
pub struct ScratchSchema {
    admin: String,
    schema: String,
    url: String,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl ScratchSchema {
    /// Creates `<prefix>_<pid>_<nanos>_<n>` in the database at `admin`. Runs its own client
    /// on a scoped thread, so it may be called from async code.
    pub fn create(admin: &str, prefix: &str) -> Result<Self, LedgerError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let schema = format!("{prefix}_{}_{nanos}_{n}", std::process::id());
        run(admin, &format!("CREATE SCHEMA {schema}"))?;
        let sep = if admin.contains('?') { '&' } else { '?' };
        Ok(ScratchSchema {
            url: format!("{admin}{sep}options=-csearch_path%3D{schema}"),
            admin: admin.to_string(),
            schema,
        })
    }

    /// A URL whose connections use this schema (`search_path`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.schema
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        if let Err(e) = run(&self.admin, &sql) {
            tracing::warn!(schema = %self.schema, error = %e, "could not drop a scratch schema");
        }
    }
}

fn run(admin: &str, sql: &str) -> Result<(), LedgerError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = Client::connect(admin, NoTls)?;
            c.batch_execute(sql)?;
            Ok(())
        })
        .join()
        .unwrap_or_else(|_| Err(LedgerError::Corrupt("the admin connection panicked".into())))
    })
}
