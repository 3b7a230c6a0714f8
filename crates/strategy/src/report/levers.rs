//! The "Savings by lever" and "Still on the table" sections of the document (the HTML is made
//! from this Markdown). The figures are the ledger's (`switchyard_ledger::levers`), passed in
//! through `ReportOptions::levers`; this only lays them out.

use super::{pct, usd};
use rust_decimal::Decimal;
use std::fmt::Write;
use switchyard_ledger::{Levers, OnTheTable, Savings};
use switchyard_primitives::Money;

/// `saved / (spent + saved)` of one period: the share of the gross bill.
fn share(s: &Savings, saved: Money) -> Decimal {
    let gross = s.spent_usd + s.saved_usd;
    if gross.is_zero() {
        Decimal::ZERO
    } else {
        saved.decimal() / gross.decimal()
    }
}

pub(super) fn markdown(s: &mut String, levers: Option<&Levers>) {
    let _ = writeln!(s, "## Savings by lever\n");
    let Some(l) = levers.filter(|l| !l.periods.is_empty()) else {
        let _ = writeln!(
            s,
            "Not computed for this document (the savings ledger is read by `switchyard strategy report` and `/v1/strategy/report`).\n"
        );
        return;
    };
    savings_table(s, l);
    on_the_table(s, &l.on_the_table);
}

fn savings_table(s: &mut String, l: &Levers) {
    let _ = writeln!(
        s,
        "What each lever took off the bill, in dollars and as a share of the gross bill (what was paid plus what the levers saved).\n"
    );
    let mut head = String::from("| Lever |");
    let mut rule = String::from("|---|");
    for p in &l.periods {
        let _ = write!(head, " {} | share |", p.period);
        rule.push_str("--:|--:|");
    }
    let _ = writeln!(s, "{head}\n{rule}");
    let notes = lever_rows(s, l);
    let _ = write!(s, "| **total saved** |");
    for p in &l.periods {
        let saved = p.savings.saved_usd;
        let _ = write!(
            s,
            " **{}** | **{}** |",
            usd(saved),
            pct(share(&p.savings, saved))
        );
    }
    let _ = write!(s, "\n| paid |");
    for p in &l.periods {
        let _ = write!(s, " {} | |", usd(p.savings.spent_usd));
    }
    s.push_str("\n\n");
    for n in notes {
        let _ = writeln!(s, "- {n}.");
    }
    let _ = writeln!(
        s,
        "\nPrompt caching is net of the cache-write premium; cascade is against always asking the top tier, net of its judge checks' calls; batch is the provider batch APIs' discount (docs/caching.md, docs/strategy.md).\n"
    );
}

/// One row per lever, a column pair per period; returns the notes of levers not measured.
fn lever_rows(s: &mut String, l: &Levers) -> Vec<String> {
    let Some(first) = l.periods.first() else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for (i, lever) in first.savings.levers.iter().enumerate() {
        let _ = write!(s, "| {} |", lever.lever.label());
        for p in &l.periods {
            match p.savings.levers.get(i).filter(|x| x.measured) {
                Some(x) => {
                    let _ = write!(
                        s,
                        " {} | {} |",
                        usd(x.saved_usd),
                        pct(share(&p.savings, x.saved_usd))
                    );
                }
                None => s.push_str(" not measured | — |"),
            }
        }
        s.push('\n');
        if let Some(n) = lever.note.as_deref().filter(|_| !lever.measured) {
            notes.push(format!("{}: {n}", lever.lever.label()));
        }
    }
    notes
}

fn on_the_table(s: &mut String, t: &OnTheTable) {
    let _ = writeln!(s, "## Still on the table\n");
    let _ = writeln!(
        s,
        "What the levers could still save over the last 30 days, each priced. A request can be counted in more than one line, so the total is an upper bound: **{}**.\n",
        usd(t.total_usd)
    );
    let _ = writeln!(s, "| Opportunity | Where | Priced |\n|---|---|--:|");
    let routes: Vec<String> = t
        .duplicate_routes
        .iter()
        .filter(|d| d.duplicates > 0)
        .map(|d| format!("{} {} of {}", d.route, d.duplicates, d.requests))
        .collect();
    let _ = writeln!(
        s,
        "| Exact duplicates not served from cache: {} of {} requests ({}) | {} | {} |",
        t.duplicates,
        t.requests,
        pct(t.duplicate_share),
        or_none(&routes),
        usd(t.duplicates_usd)
    );
    let prefixes: Vec<String> = t
        .prefixes
        .iter()
        .map(|p| {
            format!(
                "{} ({} repeats, {} tokens)",
                p.workload, p.uncached_repeats, p.uncached_tokens
            )
        })
        .collect();
    let tokens: u64 = t.prefixes.iter().map(|p| p.uncached_tokens).sum();
    let _ = writeln!(
        s,
        "| Repeated-prefix tokens sent uncached: {tokens} | {} | {} |",
        or_none(&prefixes),
        usd(t.prefixes_usd)
    );
    batchable_row(s, t);
}

fn batchable_row(s: &mut String, t: &OnTheTable) {
    let batchable: Vec<String> = t
        .batchable
        .iter()
        .map(|b| format!("{} ({}; {} spent)", b.workload, b.why, usd(b.spend_usd)))
        .collect();
    let _ = writeln!(
        s,
        "| Batchable workloads at the batch discount | {} | {} |\n",
        or_none(&batchable),
        usd(t.batchable_usd)
    );
    let _ = writeln!(
        s,
        "Duplicates: `[routes.cache]` answers them. Prefixes: `[routes.prompt_cache]`. Batchable: send them through `/v1/batches` (mark such routes `batchable = true` so they are counted here).\n"
    );
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join("; ")
    }
}
