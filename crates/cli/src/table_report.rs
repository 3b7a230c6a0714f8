//! The "still on the table" section of `switchyard ledger summary` and `demo`: exact
//! duplicates no cache answered, repeated prefixes sent uncached and batchable spend, each
//! priced (`switchyard_ledger::table` computes it; this only lays it out).

use crate::table;
use switchyard_ledger::OnTheTable;

fn percent(d: rust_decimal::Decimal) -> String {
    let p = (d * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1);
    format!("{p:.1}%")
}

/// The section as text.
pub fn render(t: &OnTheTable) -> String {
    format!(
        "\nStill on the table (what the levers could still save, priced):\n{}",
        table::render(
            &["opportunity", "measure", "priced", "where"],
            &rows(t),
            &[2]
        )
    )
}

fn rows(t: &OnTheTable) -> Vec<Vec<String>> {
    let dup_routes: Vec<String> = t
        .duplicate_routes
        .iter()
        .filter(|d| d.duplicates > 0)
        .map(|d| format!("{} {}/{}", d.route, d.duplicates, d.requests))
        .collect();
    let tokens: u64 = t.prefixes.iter().map(|p| p.uncached_tokens).sum();
    let prefixes: Vec<String> = t.prefixes.iter().map(|p| p.workload.clone()).collect();
    let batchable: Vec<String> = t
        .batchable
        .iter()
        .map(|b| format!("{} ({})", b.workload, b.why))
        .collect();
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    vec![
        vec![
            "exact duplicates, uncached".into(),
            format!(
                "{} of {} ({})",
                table::count(t.duplicates),
                table::count(t.requests),
                percent(t.duplicate_share)
            ),
            table::usd(t.duplicates_usd),
            list(&dup_routes),
        ],
        vec![
            "repeated prefixes, uncached".into(),
            format!("{} tokens", table::count(tokens)),
            table::usd(t.prefixes_usd),
            list(&prefixes),
        ],
        vec![
            "batchable at the batch discount".into(),
            match t.batchable.len() {
                1 => "1 workload".to_string(),
                n => format!("{n} workloads"),
            },
            table::usd(t.batchable_usd),
            list(&batchable),
        ],
        vec![
            "TOTAL (upper bound)".into(),
            String::new(),
            table::usd(t.total_usd),
            String::new(),
        ],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use switchyard_ledger::table::{BatchableLine, DuplicateLine};
    use switchyard_primitives::Money;

    #[test]
    fn the_section_prices_each_opportunity_and_names_where_it_is() {
        let usd = |s| Money::from_str(s).unwrap();
        let t = OnTheTable {
            requests: 40,
            duplicates: 10,
            duplicate_share: rust_decimal::Decimal::new(25, 2),
            duplicates_usd: usd("0.12"),
            duplicate_routes: vec![DuplicateLine {
                route: "classify".into(),
                requests: 40,
                duplicates: 10,
                ..DuplicateLine::default()
            }],
            batchable_usd: usd("0.5"),
            batchable: vec![BatchableLine {
                workload: "summarize".into(),
                why: "sent via /v1/batches".into(),
                ..BatchableLine::default()
            }],
            total_usd: usd("0.62"),
            ..OnTheTable::default()
        };
        let text = render(&t);
        assert!(text.contains("10 of 40 (25.0%)"), "{text}");
        assert!(text.contains("$0.1200"), "{text}");
        assert!(text.contains("classify 10/40"), "{text}");
        assert!(text.contains("summarize (sent via /v1/batches)"), "{text}");
        assert!(text.contains("$0.6200"), "{text}");
    }
}
