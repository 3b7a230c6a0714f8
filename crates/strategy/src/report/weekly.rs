//! The weekly series of the report's spend chart: complete ISO weeks only, so a week the
//! ledger covers in part (its first, the current one) cannot look like a fall in spend.

use crate::source::History;
use crate::spend::{self, Dimension, Period};
use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::BTreeMap;
use switchyard_primitives::Money;

/// Weekly spend by provider over complete ISO weeks (Monday to Sunday), and the partial first
/// and last weeks left out, described.
pub(super) fn complete_weeks(
    h: &History,
) -> (BTreeMap<String, BTreeMap<String, Money>>, Vec<String>) {
    let mut out: BTreeMap<String, BTreeMap<String, Money>> = BTreeMap::new();
    for r in spend::report(h, Dimension::Provider, Period::Week).rows {
        out.entry(r.period).or_default().insert(r.key, r.cost);
    }
    let (Some(first), Some(last)) = (h.first_day(), h.last_day()) else {
        return (out, Vec::new());
    };
    let label = |d: NaiveDate| {
        let w = d.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    };
    let mut left_out: Vec<(String, String)> = Vec::new();
    if first.weekday() != Weekday::Mon {
        left_out.push((label(first), format!("from {first}")));
    }
    if last.weekday() != Weekday::Sun {
        match left_out.first_mut() {
            // One partial week holds the whole history.
            Some((week, days)) if *week == label(last) => *days = format!("{first} to {last}"),
            _ => left_out.push((label(last), format!("to {last}"))),
        }
    }
    let notes = left_out
        .into_iter()
        .filter_map(|(week, days)| out.remove(&week).map(|_| format!("{week} ({days})")))
        .collect();
    (out, notes)
}

#[cfg(test)]
mod tests {
    use crate::report::tests::fixture;
    use crate::report::*;
    use crate::spend::tests::row;

    #[test]
    fn partial_first_and_last_weeks_are_left_out_of_the_weekly_chart_and_named() {
        // Wednesday 2026-11-04 to Wednesday 2026-11-18: W45 and W47 are partial, W46 complete.
        let (_, c, today) = fixture();
        let h = History {
            rows: (4..=18)
                .map(|d| {
                    row(
                        &format!("2026-11-{d:02}"),
                        "support",
                        ("openai", "a"),
                        10,
                        "1",
                    )
                })
                .collect(),
            ..Default::default()
        };
        let d = build(&h, &c, today, &ReportOptions::default());
        let weeks: Vec<&String> = d.weekly_by_provider.keys().collect();
        assert_eq!(weeks, ["2026-W46"]);
        assert_eq!(d.weekly_by_provider["2026-W46"]["openai"].to_string(), "7");
        assert_eq!(
            d.weekly_left_out,
            ["2026-W45 (from 2026-11-04)", "2026-W47 (to 2026-11-18)"]
        );
        let html = render_html(&d, &render_markdown(&d, &[]));
        assert!(html.contains("the partial 2026-W45 (from 2026-11-04) and 2026-W47 (to 2026-11-18) weeks are left out"), "{html}");
    }
}
