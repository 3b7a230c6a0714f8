//! The savings ledger as one report: "savings by lever" with every measured lever filled in
//! (the caches and batch from [`crate::savings`], prompt caching net of the write premium from
//! [`crate::prompt_caching`], cascade from its report), the two sections that explain the
//! prompt-caching and cascade rows, and "still on the table" ([`crate::table`]).
//!
//! `ledger summary`, `demo`, `strategy report` and `/v1/strategy/report` all read these
//! functions; none of them assembles a lever itself. Needs the catalog (prompt caching and
//! batch are priced from token kinds and discounts) and, for "still on the table", the
//! config's batchable routes and workloads, both passed in.

use crate::lever_reads::LeverReads;
use crate::table::{Batchable, OnTheTable};
use crate::{CascadeRow, LedgerError, Lever, PromptCaching, Savings, Window};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use switchyard_catalog::Catalog;

/// Savings by lever over one window, with the sections behind two of its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavingsReport {
    pub window: Window,
    pub savings: Savings,
    pub prompt_caching: PromptCaching,
    pub cascade: Vec<CascadeRow>,
}

/// Every lever over `w`.
pub(crate) fn savings_report(
    src: &dyn LeverReads,
    catalog: &Catalog,
    w: &Window,
) -> Result<SavingsReport, LedgerError> {
    let mut savings = crate::savings::run(src, w)?;
    let prompt_caching = crate::prompt_caching::load(src, catalog, w)?;
    // Production requests only, whatever the window says: shadow requests never cascade.
    let cascade = src.cascade_between(w.millis())?;
    savings.record(Lever::PromptCaching, None, prompt_caching.net_saved_usd());
    savings.record(
        Lever::Cascade,
        Some(cascade.iter().map(|r| r.requests).sum()),
        cascade.iter().map(CascadeRow::saved_usd).sum(),
    );
    Ok(SavingsReport {
        window: *w,
        savings,
        prompt_caching,
        cascade,
    })
}

/// One period's savings by lever, named for a reader ("last 30 days").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodSavings {
    pub period: String,
    pub window: Window,
    pub savings: Savings,
}

/// What the strategy report shows of the savings ledger: savings by lever for the last 30
/// days and the 30 before, and what is still on the table over the last 30.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Levers {
    pub periods: Vec<PeriodSavings>,
    pub on_the_table: OnTheTable,
    /// The cascade routes of the last 30 days (absent from snapshots before it existed).
    #[serde(default)]
    pub cascade: Vec<CascadeRow>,
}

/// [`Levers`] for the 30-day periods ending with `today` (included).
pub(crate) fn levers(
    src: &dyn LeverReads,
    catalog: &Catalog,
    today: NaiveDate,
    batchable: &Batchable,
) -> Result<Levers, LedgerError> {
    let end = today + chrono::Duration::days(1);
    let month = chrono::Duration::days(30);
    let last = Window::between(end - month, end);
    let before = Window::between(end - month - month, end - month);
    let recent = savings_report(src, catalog, &last)?;
    let earlier = savings_report(src, catalog, &before)?;
    let on_the_table =
        crate::table::on_the_table(src, catalog, &last, batchable, &recent.prompt_caching)?;
    let cascade = recent.cascade.clone();
    let period = |name: &str, r: SavingsReport| PeriodSavings {
        period: name.to_string(),
        window: r.window,
        savings: r.savings,
    };
    Ok(Levers {
        periods: vec![
            period("last 30 days", recent),
            period("the 30 days before", earlier),
        ],
        on_the_table,
        cascade,
    })
}
