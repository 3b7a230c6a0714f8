//! The "Prompt caching" section of the document (the HTML is made from this Markdown).

use super::{pct, usd};
use crate::prompt_cache::PromptCaching;
use std::fmt::Write;

pub(super) fn markdown(s: &mut String, p: &PromptCaching) {
    let _ = writeln!(s, "## Prompt caching\n");
    if p.lines.is_empty() {
        let _ = writeln!(
            s,
            "No prompt-cache reads or writes, and no repeated prefix long enough to cache. `[routes.prompt_cache]` turns provider prompt caching on for a route (docs/configuration.md).\n"
        );
        return;
    }
    let _ = writeln!(
        s,
        "Cache reads saved **{}** against plain input; writes cost **{}** above it. Repeated prefixes sent uncached left **{}** on the table.\n",
        usd(p.saved_usd),
        usd(p.write_premium_usd),
        usd(p.missed_usd)
    );
    let _ = writeln!(
        s,
        "| Workload | Cache-read share | Read tokens | Saved | Write premium | Uncached repeats | Missed |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for l in &p.lines {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} ({} tokens) | {} |",
            l.workload,
            pct(l.read_share),
            l.cache_read_tokens,
            usd(l.saved_usd),
            usd(l.write_premium_usd),
            l.uncached_repeats,
            l.uncached_repeat_tokens,
            usd(l.missed_usd)
        );
    }
    s.push('\n');
    let uncached: Vec<&str> = p.uncached().map(|l| l.workload.as_str()).collect();
    if !uncached.is_empty() {
        let _ = writeln!(
            s,
            "Repeated prefixes not being cached: **{}**. Turn on `[routes.prompt_cache]` for their routes (Anthropic breakpoints, OpenAI `prompt_cache_key`), or keep the system prompt and tools byte-identical between requests.\n",
            uncached.join(", ")
        );
    }
}
