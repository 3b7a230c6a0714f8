//! "Still on the table": what the levers could still save over a period, each priced.
//!
//! - **Duplicates**: successful production requests no cache answered whose fingerprint
//!   (`Record::fingerprint`) matches a successful request on the same route in the 24 hours
//!   before; priced at what they cost. The one figure here read from requests rather than a
//!   rollup: the partial index on `fingerprint` finds each earlier twin with one seek (the
//!   queries are each backend's, [`crate::lever_reads`]). The
//!   share is over the requests that could be compared (fingerprinted, or cache hits).
//! - **Repeated prefixes**: the prompt-caching section's uncached repeats, priced at what a
//!   cache read would have saved (`PromptCaching::missed_usd`).
//! - **Batchable**: spend nobody waits on (a route or workload configured `batchable`, and
//!   every workload already sent through `/v1/batches`), priced at the catalog's batch discount
//!   on what it paid at list price (lines a provider's batch API already discounted are left
//!   out).
//!
//! Must never know where the batchable list comes from (the caller passes [`Batchable`]).

use crate::lever_reads::LeverReads;
use crate::{LedgerError, PromptCaching, Window};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_catalog::Catalog;
use switchyard_primitives::Money;

/// How far back an earlier twin may be for a request to count as a duplicate: a response
/// cache with a one-day TTL would have answered it.
pub const DUPLICATE_HORIZON_MS: i64 = 24 * 3_600_000;

/// Routes and workloads nobody waits on (`batchable = true` in the config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batchable {
    pub routes: BTreeSet<String>,
    pub workloads: BTreeSet<String>,
}

/// One route's exact duplicates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DuplicateLine {
    pub route: String,
    /// Production requests on the route in the period that carry a fingerprint (errors
    /// included) or were served from a cache: records written before migration 9 and imported
    /// ones cannot be compared and are left out.
    pub requests: u64,
    /// Of those, answered by a provider although a request with the same fingerprint had been
    /// answered on the route in the 24 hours before.
    pub duplicates: u64,
    /// `duplicates / requests`, 0 to 1.
    pub share: Decimal,
    /// What the duplicates cost: what an exact cache would have saved.
    pub cost_usd: Money,
}

/// One workload's repeated prefixes sent uncached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrefixLine {
    pub workload: String,
    pub uncached_repeats: u64,
    pub uncached_tokens: u64,
    /// What prompt caching would have saved on them.
    pub missed_usd: Money,
}

/// One batchable workload's spend and what the batch discount would take off it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchableLine {
    pub workload: String,
    /// `sent via /v1/batches`, `workload configured batchable` or `route R configured batchable`.
    pub why: String,
    /// Paid at list price in the period (cache hits cost nothing; lines a provider's batch
    /// API answered are left out, they are discounted already).
    pub spend_usd: Money,
    /// At the catalog's current batch discount of each model.
    pub saving_usd: Money,
    /// Spend on models the catalog lists no batch discount for (no saving counted on it).
    pub no_discount_usd: Money,
}

/// The section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OnTheTable {
    pub window: Window,
    pub requests: u64,
    pub duplicates: u64,
    /// `duplicates / requests` over every route, 0 to 1.
    pub duplicate_share: Decimal,
    pub duplicates_usd: Money,
    pub duplicate_routes: Vec<DuplicateLine>,
    pub prefixes_usd: Money,
    pub prefixes: Vec<PrefixLine>,
    pub batchable_usd: Money,
    pub batchable: Vec<BatchableLine>,
    /// The three figures added up (a request can be in more than one: an upper bound).
    pub total_usd: Money,
}

/// The section over `w`; `caching` is the same period's prompt-caching section.
pub(crate) fn on_the_table(
    src: &dyn LeverReads,
    catalog: &Catalog,
    w: &Window,
    batchable: &Batchable,
    caching: &PromptCaching,
) -> Result<OnTheTable, LedgerError> {
    let duplicate_routes = duplicates(src, w)?;
    let prefixes: Vec<PrefixLine> = caching
        .uncached()
        .map(|l| PrefixLine {
            workload: l.workload.clone(),
            uncached_repeats: l.uncached_repeats,
            uncached_tokens: l.uncached_repeat_tokens,
            missed_usd: l.missed_usd,
        })
        .collect();
    let batchable = batchable_lines(src, catalog, w, batchable)?;
    let requests = duplicate_routes.iter().map(|d| d.requests).sum();
    let dups = duplicate_routes.iter().map(|d| d.duplicates).sum();
    let duplicates_usd = duplicate_routes.iter().map(|d| d.cost_usd).sum();
    let prefixes_usd = prefixes.iter().map(|p| p.missed_usd).sum();
    let batchable_usd = batchable.iter().map(|b| b.saving_usd).sum();
    Ok(OnTheTable {
        window: *w,
        requests,
        duplicates: dups,
        duplicate_share: ratio(dups, requests),
        duplicates_usd,
        duplicate_routes,
        prefixes_usd,
        prefixes,
        batchable_usd,
        batchable,
        total_usd: duplicates_usd + prefixes_usd + batchable_usd,
    })
}

fn ratio(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        Decimal::ZERO
    } else {
        Decimal::from(part) / Decimal::from(whole)
    }
}

/// Per route with traffic in `w`: its requests that could be compared and its uncached
/// duplicates.
fn duplicates(src: &dyn LeverReads, w: &Window) -> Result<Vec<DuplicateLine>, LedgerError> {
    let mut by_route: BTreeMap<String, DuplicateLine> = BTreeMap::new();
    for (route, n) in src.comparable(w)? {
        let line = by_route.entry(route.clone()).or_default();
        line.route = route;
        line.requests += n;
    }
    for d in src.duplicates(w)? {
        let line = by_route.entry(d.route.clone()).or_default();
        line.route = d.route;
        line.duplicates += d.duplicates;
        line.cost_usd += d.cost;
    }
    let mut out: Vec<DuplicateLine> = by_route
        .into_values()
        .map(|mut l| {
            l.requests = l.requests.max(l.duplicates);
            l.share = ratio(l.duplicates, l.requests);
            l
        })
        .collect();
    out.sort_by(|a, b| b.cost_usd.cmp(&a.cost_usd).then(a.route.cmp(&b.route)));
    Ok(out)
}

fn batchable_lines(
    src: &dyn LeverReads,
    catalog: &Catalog,
    w: &Window,
    config: &Batchable,
) -> Result<Vec<BatchableLine>, LedgerError> {
    let sent = src.batch_workloads(w)?;
    let mut lines: BTreeMap<String, BatchableLine> = BTreeMap::new();
    for ((workload, route, provider, model), spend) in src.list_spend(w)? {
        let why = if sent.contains(&workload) {
            "sent via /v1/batches".to_string()
        } else if config.workloads.contains(&workload) {
            "workload configured batchable".to_string()
        } else if config.routes.contains(&route) {
            format!("route {route} configured batchable")
        } else {
            continue;
        };
        let name = if workload.is_empty() {
            "(none)".to_string()
        } else {
            workload
        };
        let line = lines.entry(name.clone()).or_insert_with(|| BatchableLine {
            workload: name,
            why,
            ..BatchableLine::default()
        });
        let spend = spend.max(Money::ZERO);
        line.spend_usd += spend;
        let discount = catalog
            .get(&provider, &model)
            .and_then(|e| e.current_price().batch_discount);
        match discount {
            Some(d) => line.saving_usd += spend * d,
            None => line.no_discount_usd += spend,
        }
    }
    let mut out: Vec<BatchableLine> = lines.into_values().collect();
    out.sort_by(|a, b| {
        b.saving_usd
            .cmp(&a.saving_usd)
            .then(a.workload.cmp(&b.workload))
    });
    Ok(out)
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
