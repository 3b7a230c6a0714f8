//! Committed-spend contracts: what a vendor's offer would really cost given our usage, its
//! risk, and how much to commit to.
//!
//! Owns contract terms (TOML → validated [`Offer`]), the monthly billing model, Monte Carlo over
//! usage growth, and the commitment recommender. Pure computation: must never know about the
//! ledger, HTTP or files (callers read the TOML and the usage and pass them in). Money is
//! decimal throughout; only the random normal draws are floats. docs/contracts.md defines every
//! metric and formula with a worked example; `crates/strategy/examples/contract.toml`
//! documents every key.
//!
//! ```text
//! parse_offers(toml)                        -> Result<Vec<Offer>, ContractErrors>
//! simulate(&offer, &usage, &growth, &opts)  -> Result<OfferResult, SimError>
//! compare(&offers, &usage, &growth, &opts)  -> Result<Vec<OfferResult>, SimError>
//!                                              (the on-demand baseline first)
//! recommend(&daily, discount, term_months)  -> Result<Recommendation, RecommendError>
//! ```
//!
//! Module map:
//! - [`terms`]: the validated offer types; `fields` + `parse`: the file format;
//! - `schedule`: commitment per period (escalation, proration) and reserved fees;
//! - `capacity`: reserved capacity against the hourly token profile;
//! - `billing`: one usage path → one bill per month (the formulas live here);
//! - `montecarlo`: the seeded generator and usage paths; `simulate` + `metrics`: results;
//! - `recommend`: the commitment recommender.

mod billing;
mod capacity;
mod fields;
mod inputs;
mod metrics;
mod montecarlo;
mod parse;
mod recommend;
mod schedule;
mod simulate;
pub mod terms;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_billing;
#[cfg(test)]
mod tests_properties;
#[cfg(test)]
mod tests_recommend;
#[cfg(test)]
mod tests_simulate;
#[cfg(test)]
mod tests_terms;

pub use billing::MonthBill;
pub use fields::{ContractError, ContractErrors};
pub use inputs::{GrowthModel, SimError, SimOptions, UsageHistory};
pub use metrics::{ExitPoint, TriggerHit};
pub use parse::parse_offers;
pub use recommend::{
    Candidate, LOOKBACKS, Lookback, PERCENTILES, RecommendError, Recommendation, recommend,
};
pub use simulate::{OfferResult, compare, simulate};
pub use terms::{
    Commit, CommitKind, ExitFee, Offer, Period, Reserved, Rollover, Tier, Trigger, UsageMix,
};
