//! Where a ledger lives, from one setting: `postgres://…` (or `postgresql://…`) for a
//! PostgreSQL database, `sqlite://path` or a plain path for the embedded SQLite file. The one
//! place a backend is picked; everything else takes the traits.

use crate::{LedgerError, RecordSink, SqliteStore, Store, batch, keys, responses};
use std::fmt;
use std::path::{Path, PathBuf};

/// A parsed ledger location.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A libpq-style URL; may hold a password, so it is never printed whole.
    Postgres(String),
}

impl Location {
    /// Reads a setting: a URL with a known scheme, else a file path.
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres(s.to_string())
        } else if let Some(path) = s.strip_prefix("sqlite://") {
            Location::Sqlite(PathBuf::from(path))
        } else {
            Location::Sqlite(PathBuf::from(s))
        }
    }

    /// The SQLite file, if this is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// Opens (creating and migrating if needed) the ledger.
    pub fn open(&self) -> Result<Box<dyn Store>, LedgerError> {
        match self {
            Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(p)?)),
            Location::Postgres(url) => Ok(Box::new(crate::pg::PgStore::connect(url)?)),
        }
    }

    /// Opens an existing ledger for reading; a missing SQLite file is an error rather than a
    /// new empty ledger.
    pub fn open_existing(&self) -> Result<Box<dyn Store>, LedgerError> {
        match self {
            Location::Sqlite(p) => Ok(Box::new(SqliteStore::open_existing(p)?)),
            Location::Postgres(_) => self.open(),
        }
    }

    /// The batched writer's target.
    pub fn open_sink(&self) -> Result<Box<dyn RecordSink>, LedgerError> {
        match self {
            Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(p)?)),
            Location::Postgres(url) => Ok(Box::new(crate::pg::PgStore::connect(url)?)),
        }
    }

    /// The batch API's tables, in the same database.
    pub fn open_batch(&self) -> Result<Box<dyn batch::Store>, LedgerError> {
        match self {
            Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(p)?)),
            Location::Postgres(url) => Ok(Box::new(crate::pg::PgStore::connect(url)?)),
        }
    }

    /// The Responses API's stored conversations, in the same database.
    pub fn open_responses(&self) -> Result<Box<dyn responses::Store>, LedgerError> {
        match self {
            Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(p)?)),
            Location::Postgres(url) => Ok(Box::new(crate::pg::PgStore::connect(url)?)),
        }
    }

    /// The virtual keys, in the same database.
    pub fn open_keys(&self) -> Result<Box<dyn keys::Store>, LedgerError> {
        match self {
            Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(p)?)),
            Location::Postgres(url) => Ok(Box::new(crate::pg::PgStore::connect(url)?)),
        }
    }
}

impl Location {
    /// Applies every migration the database lacks (`switchyard ledger migrate`); returns the
    /// schema version before and after.
    pub fn migrate(&self) -> Result<(i64, i64), LedgerError> {
        match self {
            Location::Sqlite(p) => {
                let before = SqliteStore::version_in(p)?;
                Ok((before, SqliteStore::open(p)?.schema_version()?))
            }
            Location::Postgres(url) => {
                let (before, store) = crate::pg::PgStore::connect_counting(url)?;
                Ok((before, store.schema_version()?))
            }
        }
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        Location::parse(&p.to_string_lossy())
    }
}

/// Shown in messages: the path, or the URL with any password masked.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; also masks a
/// `password=` query parameter.
pub(crate) fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let at = out[rest..].find('@').map(|i| i + rest);
        let colon = at.and_then(|at| out[rest..at].find(':').map(|i| (i + rest, at)));
        if let Some((colon, at)) = colon {
            out.replace_range(colon + 1..at, "***");
        }
    }
    if let Some(p) = out.find("password=") {
        let start = p + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |i| i + start);
        out.replace_range(start..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_picks_postgres_a_sqlite_url_or_a_plain_path_picks_the_file() {
        assert_eq!(
            Location::parse("postgres://u@h/db"),
            Location::Postgres("postgres://u@h/db".into())
        );
        assert!(matches!(
            Location::parse("postgresql://h/db"),
            Location::Postgres(_)
        ));
        assert_eq!(
            Location::parse("sqlite://data/l.db"),
            Location::Sqlite("data/l.db".into())
        );
        assert_eq!(
            Location::parse("./switchyard.db"),
            Location::Sqlite("./switchyard.db".into())
        );
    }

    #[test]
    fn a_postgres_password_is_never_shown() {
        let loc = Location::parse("postgres://app:hunter2@db:5432/ledger?sslmode=disable");
        assert_eq!(
            loc.to_string(),
            "postgres://app:***@db:5432/ledger?sslmode=disable"
        );
        let q = Location::parse("postgres://db/ledger?user=a&password=hunter2&x=1");
        assert!(!format!("{q:?}").contains("hunter2"), "{q:?}");
    }
}
