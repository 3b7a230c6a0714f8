//! Fuzzes the ledger importers (`switchyard ledger import`): our own export and generic
//! CSV/JSONL, LiteLLM spend logs, and OpenAI's and Anthropic's usage/cost API exports.
//!
//! The first input byte picks the format (`byte % 5`: detect from the content, or force
//! generic, litellm, openai, anthropic); the rest is the file. Beyond "no panic": a refused
//! file lists at least one problem, each with a message; an accepted file's records, written
//! as our JSONL export writes them, import again as the same records (export → import is
//! lossless); and parsing is deterministic (ids are derived, not random).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use switchyard_catalog::Catalog;
use switchyard_ledger::import::{self, ImportError, ImportFormat, ImportOptions};

fn catalog() -> &'static Option<Catalog> {
    static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::bundled().ok())
}

const FORMATS: [Option<ImportFormat>; 5] = [
    None,
    Some(ImportFormat::Generic),
    Some(ImportFormat::Litellm),
    Some(ImportFormat::Openai),
    Some(ImportFormat::Anthropic),
];

fuzz_target!(|input: &[u8]| {
    let (Some(catalog), Some((&selector, rest))) = (catalog(), input.split_first()) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let opts = ImportOptions {
        format: FORMATS[usize::from(selector) % FORMATS.len()],
        ..ImportOptions::default()
    };
    let parsed = match import::parse(text, &opts, catalog) {
        Ok(p) => p,
        Err(ImportError::Invalid { errors, .. }) => {
            assert!(!errors.is_empty(), "a refused file lists its problems");
            assert!(errors.iter().all(|e| !e.message.is_empty()), "{errors:?}");
            return;
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "a refusal says why");
            return;
        }
    };
    let again = import::parse(text, &opts, catalog).ok().map(|p| p.records);
    assert!(
        again.as_ref() == Some(&parsed.records),
        "parsing is deterministic"
    );
    let mut export = String::new();
    for r in &parsed.records {
        match serde_json::to_string(r) {
            Ok(line) => export.push_str(&line),
            Err(e) => panic!("an imported record cannot be exported: {e}"),
        }
        export.push('\n');
    }
    let generic = ImportOptions {
        format: Some(ImportFormat::Generic),
        ..ImportOptions::default()
    };
    match import::parse(&export, &generic, catalog) {
        Ok(back) => assert!(
            back.records == parsed.records,
            "export → import changed the records:\n{export}"
        ),
        Err(e) => panic!("our own export of an imported file is refused: {e}\n{export}"),
    }
});
