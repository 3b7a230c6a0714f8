use super::*;
use crate::report::{ReportOptions, build, render_markdown};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;
use switchyard_ledger::PrefixRepeats;
use switchyard_primitives::Money;
use switchyard_primitives::TokenUsage;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default()
}

fn row(workload: &str, provider: &str, model: &str, usage: TokenUsage) -> DailyRow {
    DailyRow {
        day: day(),
        workload: workload.into(),
        provider: provider.into(),
        model: model.into(),
        team: "(none)".into(),
        requests: 10,
        errors: 0,
        usage,
        cost: Money::from_str("1").unwrap_or_default(),
    }
}

fn history() -> History {
    History {
        rows: vec![
            row(
                "review",
                "anthropic",
                "claude-sonnet-4-5",
                TokenUsage {
                    input: 1_000_000,
                    cached_input: 2_000_000,
                    cache_write: 1_000_000,
                    ..TokenUsage::default()
                },
            ),
            row(
                "triage",
                "openai",
                "gpt-4o-mini",
                TokenUsage {
                    input: 3_000_000,
                    ..TokenUsage::default()
                },
            ),
            row("chat", "openai", "gpt-4o-mini", TokenUsage::default()),
        ],
        prefixes: vec![PrefixRepeats {
            workload: "triage".into(),
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            requests: 1500,
            uncached_repeats: 1499,
            uncached_tokens: 2_000_000,
        }],
        ..History::default()
    }
}

fn money(s: &str) -> Money {
    Money::from_str(s).unwrap_or_default()
}

#[test]
fn reads_are_priced_as_the_input_they_replaced_minus_their_own_price() {
    let catalog = Catalog::bundled().unwrap_or_default();
    let p = analyse(&history(), &catalog);
    let review = p
        .lines
        .iter()
        .find(|l| l.workload == "review")
        .cloned()
        .unwrap_or_default();
    // Sonnet 4.5: input $3, cache read $0.30, write $3.75 per million.
    assert_eq!(review.saved_usd, money("5.4"));
    assert_eq!(review.write_premium_usd, money("0.75"));
    assert_eq!(
        review.read_share,
        Decimal::from_str("0.5").unwrap_or_default()
    );
    assert_eq!(review.prompt_tokens, 4_000_000);
}

#[test]
fn repeated_prefixes_sent_uncached_are_flagged_and_priced() {
    let catalog = Catalog::bundled().unwrap_or_default();
    let p = analyse(&history(), &catalog);
    let uncached: Vec<&str> = p.uncached().map(|l| l.workload.as_str()).collect();
    assert_eq!(uncached, ["triage"]);
    let triage = p
        .lines
        .iter()
        .find(|l| l.workload == "triage")
        .cloned()
        .unwrap_or_default();
    // gpt-4o-mini: input $0.15, cached $0.075 per million: 2M tokens would have saved $0.15.
    assert_eq!(triage.missed_usd, money("0.15"));
    assert_eq!(triage.read_share, Decimal::ZERO);
    assert_eq!(p.missed_usd, money("0.15"));
    assert!(
        p.lines.iter().all(|l| l.workload != "chat"),
        "nothing cached or missed"
    );
}

#[test]
fn the_report_has_a_prompt_caching_section_in_markdown_and_json() {
    let catalog = Catalog::bundled().unwrap_or_default();
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
    let d = build(&history(), &catalog, today, &ReportOptions::default());
    let md = render_markdown(&d, &[]);
    let section = md.split("## Prompt caching").nth(1).unwrap_or_default();
    assert!(
        section.contains("| review | 50.0% | 2000000 | $5.40 | $0.75 | 0 (0 tokens) | $0.00 |"),
        "{section}"
    );
    assert!(
        section.contains("Repeated prefixes not being cached: **triage**"),
        "{section}"
    );
    let json = serde_json::to_value(&d).unwrap_or_default();
    assert_eq!(json["prompt_caching"]["lines"][0]["workload"], "review");
    let missed = json["prompt_caching"]["missed_usd"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(money(missed), money("0.15"));
}
