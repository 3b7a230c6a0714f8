//! Layer 0: the vocabulary every other crate shares — money, token usage, ids, time.
//!
//! Owns plain data types only. Must never know about IO, async, HTTP or storage.

mod id;
mod money;
pub mod names;
mod secret;
mod usage;

pub use id::RequestId;
pub use money::{Money, MoneyParseError};
pub use secret::Secret;
pub use usage::{TokenKind, TokenUsage};

use chrono::{DateTime, Utc};

/// A source of wall-clock time, injected so budgets, windows and prices can be tested.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
