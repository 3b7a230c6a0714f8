//! Provider prompt caching by workload, for the strategy report: the ledger's one
//! implementation (`switchyard_ledger::prompt_caching`, also behind `ledger summary`) fed with
//! the strategy engine's own daily rows and repeated prefixes, so the report and the summary
//! agree to the cent on the same period.

use crate::source::{DailyRow, History};
use switchyard_catalog::Catalog;
use switchyard_ledger::prompt_caching::{self, UsageRow};
pub use switchyard_ledger::prompt_caching::{PromptCacheLine, PromptCaching};

fn usage_row(r: &DailyRow) -> UsageRow {
    UsageRow {
        day: r.day,
        workload: r.workload.clone(),
        provider: r.provider.clone(),
        model: r.model.clone(),
        usage: r.usage,
    }
}

/// The prompt-caching section for everything in `h`.
pub fn analyse(h: &History, catalog: &Catalog) -> PromptCaching {
    let rows: Vec<UsageRow> = h.rows.iter().map(usage_row).collect();
    prompt_caching::analyse(&rows, &h.prefixes, catalog)
}

#[cfg(test)]
#[path = "prompt_cache_tests.rs"]
mod tests;
