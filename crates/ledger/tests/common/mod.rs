//! Helpers shared by the import tests.

use std::str::FromStr;
use switchyard_catalog::Catalog;
use switchyard_ledger::Record;
use switchyard_ledger::import::{ImportFormat, ImportOptions, parse};
use switchyard_primitives::Money;

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn catalog() -> Catalog {
    Catalog::bundled().unwrap()
}

pub fn usd(s: &str) -> Option<Money> {
    Some(Money::from_str(s).unwrap())
}

pub fn parse_auto(text: &str) -> (ImportFormat, Vec<Record>) {
    let p = parse(text, &ImportOptions::default(), &catalog()).unwrap();
    (p.format, p.records)
}
