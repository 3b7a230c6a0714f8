//! The "prompt caching" section of `switchyard ledger summary`: per workload, the cache-read
//! share of prompt tokens, what the reads saved, and the repeated prefixes sent uncached
//! (`switchyard_strategy::prompt_cache` computes it; this only lays it out).

use crate::table;
use switchyard_catalog::Catalog;
use switchyard_ledger::Store;
use switchyard_strategy::prompt_cache::{self, PromptCaching};
use switchyard_strategy::source::History;

/// The section for the production traffic from `since`, priced with `catalog`.
pub fn load(
    store: &dyn Store,
    catalog: &Catalog,
    since: Option<chrono::NaiveDate>,
) -> anyhow::Result<PromptCaching> {
    let history = History::load(store, since)?;
    Ok(prompt_cache::analyse(&history, catalog))
}

pub fn render(p: &PromptCaching) -> String {
    let mut out = String::from("\nprompt caching\n");
    if p.lines.is_empty() {
        out.push_str("  no cache reads or writes and no repeated prefix long enough to cache; [routes.prompt_cache] turns it on\n");
        return out;
    }
    let body: Vec<Vec<String>> = p
        .lines
        .iter()
        .map(|l| {
            vec![
                l.workload.clone(),
                format!("{:.1}%", percent(l.read_share)),
                table::count(l.cache_read_tokens),
                table::usd(l.saved_usd),
                table::usd(l.write_premium_usd),
                table::count(l.uncached_repeats),
                table::count(l.uncached_repeat_tokens),
                table::usd(l.missed_usd),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &[
            "workload",
            "read share",
            "read tok",
            "saved",
            "write premium",
            "uncached repeats",
            "repeat tok",
            "missed",
        ],
        &body,
        &[1, 2, 3, 4, 5, 6, 7],
    ));
    let uncached: Vec<&str> = p.uncached().map(|l| l.workload.as_str()).collect();
    out.push_str(&format!(
        "saved {} (writes cost {} above input); still on the table {}{}\n",
        table::usd(p.saved_usd),
        table::usd(p.write_premium_usd),
        table::usd(p.missed_usd),
        if uncached.is_empty() {
            String::new()
        } else {
            format!(": repeated prefixes not cached in {}", uncached.join(", "))
        }
    ));
    out
}

fn percent(d: rust_decimal::Decimal) -> f64 {
    (d * rust_decimal::Decimal::ONE_HUNDRED)
        .to_string()
        .parse()
        .unwrap_or(0.0)
}
