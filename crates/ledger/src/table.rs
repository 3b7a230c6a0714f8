//! "Still on the table": what the levers could still save over a period, each priced.
//!
//! - **Duplicates**: successful production requests no cache answered whose fingerprint
//!   (`Record::fingerprint`) matches a successful request on the same route in the 24 hours
//!   before; priced at what they cost. The one figure here read from requests rather than a
//!   rollup: the partial index on `fingerprint` finds each earlier twin with one seek. The
//!   share is over the requests that could be compared (fingerprinted, or cache hits).
//! - **Repeated prefixes**: the prompt-caching section's uncached repeats, priced at what a
//!   cache read would have saved (`PromptCaching::missed_usd`).
//! - **Batchable**: spend nobody waits on (a route or workload configured `batchable`, and
//!   every workload already sent through `/v1/batches`), priced at the catalog's batch discount
//!   on what it paid at list price (lines a provider's batch API already discounted are left
//!   out).
//!
//! Must never know where the batchable list comes from (the caller passes [`Batchable`]).

use crate::{LedgerError, PromptCaching, Window};
use rusqlite::{Connection, params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
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
    conn: &Connection,
    catalog: &Catalog,
    w: &Window,
    batchable: &Batchable,
    caching: &PromptCaching,
) -> Result<OnTheTable, LedgerError> {
    let duplicate_routes = duplicates(conn, w)?;
    let prefixes: Vec<PrefixLine> = caching
        .uncached()
        .map(|l| PrefixLine {
            workload: l.workload.clone(),
            uncached_repeats: l.uncached_repeats,
            uncached_tokens: l.uncached_repeat_tokens,
            missed_usd: l.missed_usd,
        })
        .collect();
    let batchable = batchable_lines(conn, catalog, w, batchable)?;
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

fn money(text: Option<String>) -> Result<Money, LedgerError> {
    text.map_or(Ok(Money::ZERO), |t| {
        Money::from_str(&t).map_err(|e| LedgerError::Corrupt(format!("cost: {e}")))
    })
}

/// Per route with traffic in `w`: its requests (rollup) and its uncached duplicates.
fn duplicates(conn: &Connection, w: &Window) -> Result<Vec<DuplicateLine>, LedgerError> {
    let mut by_route = comparable(conn, w)?;
    let (from, until) = w.millis();
    // The partial index, not the time index: it holds only the fingerprinted rows (a ledger
    // of imports or of records before migration 9 has none to scan).
    let mut stmt = conn.prepare_cached(
        "SELECT r.route, r.cost_usd FROM requests r INDEXED BY requests_fingerprint
         WHERE r.fingerprint IS NOT NULL AND r.ts_ms >= ?1 AND r.ts_ms < ?2
           AND r.cache IS NULL AND r.status BETWEEN 200 AND 299 AND (?3 OR r.shadow = 0)
           AND EXISTS (SELECT 1 FROM requests e
             WHERE e.fingerprint = r.fingerprint AND e.route = r.route
               AND e.ts_ms >= r.ts_ms - ?4
               AND (e.ts_ms < r.ts_ms OR (e.ts_ms = r.ts_ms AND e.id < r.id))
               AND e.status BETWEEN 200 AND 299 AND e.shadow = r.shadow)",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow, DUPLICATE_HORIZON_MS])?;
    while let Some(r) = rows.next()? {
        let route: String = r.get(0)?;
        let line = by_route.entry(route.clone()).or_default();
        line.route = route;
        line.duplicates += 1;
        line.cost_usd += money(r.get(1)?)?;
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

/// The denominator per route: requests that could be compared (those with a fingerprint;
/// records before migration 9 and imports have none), from the partial index alone, and cache
/// hits, from the rollup.
fn comparable(
    conn: &Connection,
    w: &Window,
) -> Result<BTreeMap<String, DuplicateLine>, LedgerError> {
    let mut by_route: BTreeMap<String, DuplicateLine> = BTreeMap::new();
    let mut add = |route: String, n: i64| {
        let line = by_route.entry(route.clone()).or_default();
        line.route = route;
        line.requests += n.max(0) as u64;
    };
    let (from, until) = w.millis();
    let mut stmt = conn.prepare_cached(
        "SELECT route, COUNT(*) FROM requests INDEXED BY requests_fingerprint
         WHERE fingerprint IS NOT NULL AND ts_ms >= ?1 AND ts_ms < ?2 AND (?3 OR shadow = 0)
           AND cache IS NULL GROUP BY route",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow])?;
    while let Some(r) = rows.next()? {
        add(r.get(0)?, r.get(1)?);
    }
    let (from, until) = w.hours();
    let mut stmt = conn.prepare_cached(
        "SELECT route, SUM(exact_hits + semantic_hits) FROM rollup_hourly
         WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0) GROUP BY route",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow])?;
    while let Some(r) = rows.next()? {
        add(r.get(0)?, r.get(1)?);
    }
    Ok(by_route)
}

/// (workload, route, provider, model): a rollup cell's identity for the batch figures.
type Cell = (String, String, String, String);

/// Spend per cell in `w` at list price: the rollup's cost minus the lines a provider's batch
/// API already discounted.
fn list_spend(conn: &Connection, w: &Window) -> Result<BTreeMap<Cell, Money>, LedgerError> {
    let mut out: BTreeMap<Cell, Money> = BTreeMap::new();
    let (from, until) = w.hours();
    let mut stmt = conn.prepare_cached(
        "SELECT workload, route, provider, model, cost_usd FROM rollup_hourly
         WHERE hour >= ?1 AND hour < ?2 AND (?3 OR shadow = 0)",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow])?;
    while let Some(r) = rows.next()? {
        let cell = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        *out.entry(cell).or_default() += money(r.get(4)?)?;
    }
    let (from, until) = w.millis();
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(workload, ''), route, COALESCE(provider, ''), COALESCE(model, ''),
                cost_usd FROM requests
         WHERE batch = 1 AND ts_ms >= ?1 AND ts_ms < ?2 AND saved_usd IS NOT NULL
           AND cache IS NULL AND (?3 OR shadow = 0)",
    )?;
    let mut rows = stmt.query(params![from, until, w.include_shadow])?;
    while let Some(r) = rows.next()? {
        let cell = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let paid = out.entry(cell).or_default();
        *paid = *paid - money(r.get(4)?)?;
    }
    Ok(out)
}

/// Workloads with lines sent through `/v1/batches` in `w`.
fn batch_workloads(conn: &Connection, w: &Window) -> Result<BTreeSet<String>, LedgerError> {
    let (from, until) = w.millis();
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT COALESCE(workload, '') FROM requests
         WHERE batch = 1 AND ts_ms >= ?1 AND ts_ms < ?2 AND (?3 OR shadow = 0)",
    )?;
    let rows = stmt.query_map(params![from, until, w.include_shadow], |r| {
        r.get::<_, String>(0)
    })?;
    Ok(rows.collect::<Result<BTreeSet<String>, _>>()?)
}

fn batchable_lines(
    conn: &Connection,
    catalog: &Catalog,
    w: &Window,
    config: &Batchable,
) -> Result<Vec<BatchableLine>, LedgerError> {
    let sent = batch_workloads(conn, w)?;
    let mut lines: BTreeMap<String, BatchableLine> = BTreeMap::new();
    for ((workload, route, provider, model), spend) in list_spend(conn, w)? {
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
