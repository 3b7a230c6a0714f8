//! Governance: virtual keys, budgets and rate limits.
//!
//! Sits above the ledger: keys are persisted through the ledger's `keys::Store` and past spend
//! is read through its `SpendSource` (no SQL here), and it never knows HTTP, the router or the
//! gateway. The gateway calls it at the two ends of the pipeline:
//! `authenticate → admit (reserve) → … → settle`.
//!
//! # Keys
//!
//! A secret is `sk-sy-` plus 32 random bytes (base64url) and is shown once; the store keeps
//! only its SHA-256 and a 10-character display prefix. [`KeyStore`] is the operators' side
//! (create, update, rotate, revoke) and bumps a version counter on every change so a running
//! server can poll it and reload the [`Governor`], the request path's in-memory view.
//!
//! # Budgets
//!
//! A [`Budget`] caps a key's spend per UTC calendar day, ISO week (from Monday 00:00 UTC) or
//! calendar month; counters reset at [`Period::next_start`]. Admission reserves the request's
//! worst-case cost against every budget of the key; a **hard** budget refuses a request when
//! `spent + reserved + worst_case > limit`, so concurrent requests can never together overrun
//! it as long as each settles at no more than its worst case. Settlement swaps the hold for
//! the actual cost, counted in the period containing the settlement time. A **soft** budget
//! never refuses; it adds a warning to the admission. Past spend is read from the ledger when
//! a key is loaded; afterwards the governor counts settled spend itself.
//!
//! # Rate limits
//!
//! `rpm` is a token bucket holding `rpm` requests and refilling `rpm / 60` per second; a
//! request counts when admitted. `tpm` is a sliding 60-second window: tokens settled in the
//! last minute plus the prompt tokens of requests in flight plus this request's prompt must fit.
//! Refusals carry how long to wait. Every time-dependent call takes `now`, so tests drive the
//! clock by hand.
//!
//! # A fleet
//!
//! With `[fleet] redis_url`, a [`Fleet`] keeps these counters in Redis for every replica at
//! once, with the same semantics: `rpm` is the same GCRA bucket (its arrival time in Redis),
//! `tpm` a 60-second window of settled tokens in 1-second buckets (a settlement may count up
//! to a second longer than in-process, whose slots are 100 ms) plus the prompts in flight, and
//! budgets the same reserve → settle rule, each admission one Lua script. A reservation
//! carries a lease, so one whose replica died stops holding budget when it expires. When
//! Redis is unreachable each replica enforces its share locally (see [`fleet`]).

mod admit;
pub mod fleet;
mod governor;
mod limiter;
mod material;
mod period;
mod spec;
mod spend;
mod state;
mod store;
mod usage;

pub use admit::{Admission, Demand, Denied, RateLimit, Reservation};
pub use fleet::{Fleet, FleetError, FleetMode, FleetOptions, FleetStatus};
pub use governor::{AuthError, Governor, GovernorError, KeyHandle};
pub use material::{DISPLAY_PREFIX_CHARS, RandomError, SECRET_PREFIX, hash_hex};
pub use period::Period;
pub use spec::{Budget, KeySpec, MAX_NAME_CHARS, MAX_ROUTES, Problem, SpecError};
pub use spend::{LedgerSpend, SpendError, SpendSource};
pub use store::{KeyInfo, KeyStore, StoreError};
pub use usage::{BudgetUsage, KeyUsage};
