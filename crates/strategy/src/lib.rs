//! Layer 5: the strategy engine — pure computation over the ledger and the catalog.
//!
//! - [`source`]: reads a ledger into a [`History`] (daily rows per workload × provider × model
//!   × team, from the hourly rollup, plus each workload's feature profile).
//! - [`spend`]: cost, tokens and requests by any dimension and period; unit economics; growth
//!   per workload; shares and vendor concentration (Herfindahl–Hirschman index).
//! - [`deprecations`]: workloads on models whose retirement is announced, with the successor's
//!   cost delta on the workload's real token mix.
//! - [`cascade`]: the evaluation evidence behind each cascade route's cheaper tiers.
//! - [`contract`]: committed-spend contract simulation, Monte Carlo, commitment recommendation.
//!
//! Must never know about HTTP. Money is decimal throughout.

pub mod cascade;
pub mod contract;
pub mod contract_usage;
mod de;
pub mod deprecations;
pub mod lockin;
pub mod prompt_cache;
pub mod readiness;
pub mod report;
pub mod rounding;
pub mod scenario;
mod scenario_input;
pub mod source;
pub mod spend;

pub use source::{DailyRow, History, WorkloadProfile};
