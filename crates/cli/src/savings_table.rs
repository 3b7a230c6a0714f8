//! The "savings by lever" section of `switchyard ledger summary`: what each lever saved over
//! the period, in dollars and as a share of what the requests would have cost without it.
//! Levers not measured yet say so rather than show a zero.

use crate::table;
use switchyard_ledger::Savings;

/// The section as text, after the summary table.
pub fn render(s: &Savings) -> String {
    let mut body: Vec<Vec<String>> = s
        .levers
        .iter()
        .map(|l| {
            if !l.measured {
                return vec![
                    l.lever.label().into(),
                    "-".into(),
                    "-".into(),
                    "not measured yet".into(),
                ];
            }
            vec![
                l.lever.label().into(),
                l.requests.map_or_else(|| "-".into(), table::count),
                table::usd(l.saved_usd),
                format!("{:.1}%", s.share(l.saved_usd) * 100.0),
            ]
        })
        .collect();
    body.push(vec![
        "TOTAL".into(),
        String::new(),
        table::usd(s.saved_usd),
        format!("{:.1}%", s.share(s.saved_usd) * 100.0),
    ]);
    format!(
        "\nSavings by lever (share of spend + savings; spent {}):\n{}",
        table::usd(s.spent_usd),
        table::render(&["lever", "requests", "saved", "share"], &body, &[1, 2, 3])
    )
}
