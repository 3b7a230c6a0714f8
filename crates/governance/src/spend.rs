//! Where the governor learns what a key already spent when it starts or picks up a new key:
//! the ledger's [`SpendSource`] (rollup or requests; the SQL is the ledger crate's).
//!
//! After that, the governor counts spend itself as requests settle: the ledger is written in
//! batches and would lag the request path.

use chrono::{DateTime, Utc};
use std::path::Path;
use switchyard_ledger::{Location, Store};
use switchyard_primitives::Money;

pub use switchyard_ledger::{SpendError, SpendSource};

/// Spend read from a ledger (production traffic only).
pub struct LedgerSpend {
    ledger: Box<dyn Store>,
}

impl LedgerSpend {
    /// Reads through an open ledger.
    pub fn new(ledger: Box<dyn Store>) -> Self {
        LedgerSpend { ledger }
    }

    /// Opens the ledger at `location` (creating and migrating an empty one if needed).
    pub fn at(location: &Location) -> Result<Self, SpendError> {
        Ok(Self::new(location.open()?))
    }

    /// Opens the ledger file at `path`.
    pub fn open(path: &Path) -> Result<Self, SpendError> {
        Self::at(&Location::from(path))
    }
}

impl SpendSource for LedgerSpend {
    fn spent_since(&self, key_id: &str, since: DateTime<Utc>) -> Result<Money, SpendError> {
        self.ledger.spent_since(key_id, since)
    }
}
