//! Unknown columns are refused in every import format that reads named columns or counting
//! fields, each named with its nearest known column; `--ignore-column` accepts one on purpose.
#![cfg(test)]

mod common;

use common::{catalog, fixture, parse_auto, usd};
use switchyard_ledger::import::{
    ImportError, ImportFormat, ImportOptions, Location, import, parse,
};
use switchyard_ledger::{RecordSink, SqliteStore, Store};

fn refused(text: &str, opts: &ImportOptions) -> Vec<(Location, String)> {
    match parse(text, opts, &catalog()) {
        Err(ImportError::Invalid { errors, .. }) => {
            errors.into_iter().map(|e| (e.at, e.message)).collect()
        }
        other => panic!("expected the import to be refused, got {other:?}"),
    }
}

fn ignoring(names: &[&str]) -> ImportOptions {
    ImportOptions {
        ignore_columns: names.iter().map(|s| s.to_string()).collect(),
        ..ImportOptions::default()
    }
}

const MISSPELT: &str = "ts,provider,model,input_tokens,output_tokens,cost_us\n2026-01-05,openai,gpt-4o,1000000,0,8000\n";

#[test]
fn a_misspelt_cost_column_is_refused_with_the_nearest_column_and_nothing_is_imported() {
    let mut store = SqliteStore::in_memory().unwrap();
    let err = import(
        &mut store,
        MISSPELT,
        &ImportOptions::default(),
        &catalog(),
        false,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(r#"line 1: unknown column "cost_us" (did you mean "cost_usd"?)"#)
            && text.contains("--ignore-column cost_us"),
        "{text}"
    );
    assert_eq!(
        store.count().unwrap(),
        0,
        "the row was not re-priced and imported"
    );
}

#[test]
fn an_ignored_column_is_imported_without_and_a_known_one_cannot_be_ignored() {
    let p = parse(MISSPELT, &ignoring(&["cost_us"]), &catalog()).unwrap();
    // Priced from the catalog, as the user asked by ignoring the column: 1M gpt-4o input.
    assert_eq!(p.records[0].cost_usd, usd("2.5"));
    let errs = refused(MISSPELT, &ignoring(&["cost_us", "cost_usd"]));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0]
            .1
            .contains(r#""cost_usd" is a column this format reads"#),
        "{errs:?}"
    );
}

#[test]
fn jsonl_rows_and_ledger_record_lines_are_checked_too() {
    let line = r#"{"ts":"2026-01-05","provider":"openai","model":"gpt-4o","input_tokens":1,"output_tokens":1,"cached_tokens":5}"#;
    let errs = refused(&format!("{line}\n"), &ImportOptions::default());
    assert_eq!(errs[0].0, Location::Line(1));
    assert!(
        errs[0]
            .1
            .contains(r#""cached_tokens" (did you mean "cached_input_tokens"?)"#),
        "{errs:?}"
    );
    // A record line from `ledger export --format jsonl` with a misspelt nested usage field.
    let mut store = SqliteStore::in_memory().unwrap();
    let good = parse(
        &fixture("generic.csv"),
        &ImportOptions::default(),
        &catalog(),
    )
    .unwrap();
    store.append(&good.records[..1]).unwrap();
    let mut out = Vec::new();
    switchyard_ledger::export(
        &store,
        switchyard_ledger::ExportFormat::Jsonl,
        None,
        &mut out,
    )
    .unwrap();
    let exported = String::from_utf8(out).unwrap();
    assert!(parse(&exported, &ImportOptions::default(), &catalog()).is_ok());
    let bad = exported.replace("\"cache_write_1h\"", "\"cache_write_1hour\"");
    let errs = refused(&bad, &ImportOptions::default());
    assert!(
        errs[0]
            .1
            .contains(r#""usage.cache_write_1hour" (did you mean "usage.cache_write_1h"?)"#),
        "{errs:?}"
    );
}

#[test]
fn litellm_accepts_its_known_extra_columns_but_not_an_unknown_one() {
    let csv = fixture("litellm_spend_logs.csv");
    assert!(parse(&csv, &ImportOptions::default(), &catalog()).is_ok());
    let bad = csv.replacen("completion_tokens", "completion_token", 1);
    let errs = refused(&bad, &ImportOptions::default());
    assert!(
        errs[0]
            .1
            .contains(r#""completion_token" (did you mean "completion_tokens"?)"#),
        "{errs:?}"
    );
}

#[test]
fn provider_exports_refuse_unknown_counts_but_accept_new_text_dimensions() {
    let anthropic = fixture("anthropic_usage.json");
    let bad = anthropic.replacen(
        "\"ephemeral_1h_input_tokens\"",
        "\"ephemeral_1h_tokens\"",
        1,
    );
    let errs = refused(&bad, &ImportOptions::default());
    assert!(
        matches!(&errs[0].0, Location::Path(p) if p.contains("results[")),
        "{errs:?}"
    );
    assert!(
        errs[0].1.contains("cache_creation.ephemeral_1h_tokens"),
        "{errs:?}"
    );
    let openai = fixture("openai_usage.json");
    let bad = openai.replacen("\"input_cached_tokens\"", "\"input_cache_tokens\"", 1);
    let errs = refused(&bad, &ImportOptions::default());
    assert!(
        errs[0]
            .1
            .contains(r#""input_cache_tokens" (did you mean "input_cached_tokens"?)"#),
        "{errs:?}"
    );
    // A new text field is a grouping dimension: it changes no count or cost.
    let extra = openai.replacen(
        "\"input_cached_tokens\"",
        "\"region\": \"eu\", \"input_cached_tokens\"",
        1,
    );
    assert_eq!(parse_auto(&extra).0, ImportFormat::Openai);
}
